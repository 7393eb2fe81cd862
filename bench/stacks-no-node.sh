#!/bin/bash
# The stacks bench's profile one-liner side by side with no Node process on the machine but
# tracelet itself: `npm run bench` is a Node process, and bpftrace (bcc) spends seconds naming the
# frames of any Node process it samples, so bench/stacks.ts rarely sees a bpftrace run without
# one. Here a shell drives both tools, a CPU-bound shell loop is the workload, and
# bench/c/rusage.c measures CPU, peak RSS and exit() → last line. tracelet runs the three ways
# bench/stacks.ts does: cold (--no-cache), new program (only the symbol tables cached) and warm
# (the compiled object cached too).
# Usage (as root): bash bench/stacks-no-node.sh [REPS]   (default 5)
set -euo pipefail
reps=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/rusage" "$root/bench/c/rusage.c"
P='profile:hz:499 { @[kstack, ustack] = count(); } interval:s:3 { printf("STACKS-BENCH-EXIT\n"); exit(); }'
TRACELET_CACHE_DIR="$work/warm" "$root/bin/tracelet" -e "$P" > /dev/null
for i in $(seq 1 "$reps"); do
  for t in tracelet-cold tracelet-new tracelet-warm bpftrace; do
    timeout 5 sh -c 'while :; do :; done' &
    sleep 0.3
    rm -rf "$work/new" && mkdir "$work/new" && cp -r "$work/warm"/kallsyms-* "$work/warm/symbols" "$work/new/"
    case $t in
      tracelet-cold) cmd=(env TRACELET_CACHE_DIR="$work/warm" "$root/bin/tracelet" --no-cache -e "$P") ;;
      tracelet-new) cmd=(env TRACELET_CACHE_DIR="$work/new" "$root/bin/tracelet" -e "$P") ;;
      tracelet-warm) cmd=(env TRACELET_CACHE_DIR="$work/warm" "$root/bin/tracelet" -e "$P") ;;
      *) cmd=(bpftrace -e "$P") ;;
    esac
    RUSAGE_MARKER=STACKS-BENCH-EXIT "$work/rusage" "$work/m" "${cmd[@]}" > "$work/out" 2> /dev/null
    read -r rss cpu marker last < <(tr '\n' ' ' < "$work/m") || true
    printf '%s cpu_ms=%s rss_mib=%.1f exit_to_last_ms=%.0f keys=%s\n' "$t" "$cpu" "$(echo "$rss / 1024" | bc -l)" \
      "$(echo "$last - $marker" | bc -l)" "$(grep -c '^@\[' "$work/out")"
    wait
    sleep 1
  done
done
