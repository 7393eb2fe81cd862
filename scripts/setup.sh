#!/usr/bin/env bash
# Installs everything tracelet needs on a fresh Debian 12 machine and builds it.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libbpf-dev libelf-dev llvm-14-dev bpftool; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${TRACELET_WITH_BPFTRACE:-0}" = 1 ]; then
  # The tests' tools: the reference tracer, strace (which file Node starts from), zsh and groff
  # (the completion script and the man page are checked by their readers), chromium (the
  # --flamegraph SVG is tested in a real browser, headless), prometheus (promtool and a server
  # scrape --metrics) and golang-go (`go tool pprof` reads -f pprof profiles).
  for pkg in bpftrace strace zsh groff chromium prometheus golang-go; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund >/dev/null
fi
npx --no-install node-gyp rebuild --silent >/dev/null 2>&1 || npx --no-install node-gyp rebuild
npx --no-install tsc -p tsconfig.json
# The CLI starts from a V8 snapshot of a one-file bundle (start-up); bin/tracelet falls back to
# the bundle, then to dist/, when they are missing or stale.
node scripts/bundle.mjs
