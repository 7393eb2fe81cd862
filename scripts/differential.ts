// Differential sweep: runs bpftrace 0.17 and tracelet on the same programs, tools and command lines
// and prints what differs (stdout, stderr, exit code), after normalising only what must differ.
//
//   node --import tsx scripts/differential.ts [GROUP...] [--filter TEXT] [--keep DIR]
//
// Groups: errors, warnings, lifetimes, list, tools (all by default). Run as root. Tools run under a
// shell workload and are compared by the shape of their output (numbers, keys and event lines vary
// between any two runs); the other groups are compared exactly, as text.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tracelet', import.meta.url));
type Tracer = 'bpftrace' | 'tracelet';

interface Case {
  group: string;
  name: string;
  args: string[];
  /** Shell command run once the probes are attached; the tracer gets SIGINT when it ends (+300 ms). */
  workload?: string;
  /** Compare the shape of the output instead of the output. */
  shape?: boolean;
  /** Per-case normalisation of both outputs (e.g. a pid). */
  normalize?: (s: string) => string;
}

interface Result { stdout: string; stderr: string; code: number | null }

function run(tracer: Tracer, c: Case): Promise<Result> {
  const child = spawn(tracer === 'bpftrace' ? 'bpftrace' : BIN, c.args, {
    env: { ...process.env, __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('latin1');
    if (started || !stderr.includes('__BPFTRACE_NOTIFY_PROBES_ATTACHED')) return;
    started = true;
    if (!c.workload) return;
    const w = spawn('/bin/sh', ['-c', c.workload], { stdio: 'ignore' });
    w.on('close', () => setTimeout(() => child.kill('SIGINT'), 300));
  });
  // Whatever never ends by itself is stopped as a user would stop it.
  const timer = setTimeout(() => child.kill('SIGINT'), c.workload ? 30_000 : 8_000);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ stdout, stderr, code: code ?? (signal === 'SIGINT' ? 130 : -1) });
  }));
}

/** What differs between any two runs, or between the two tracers' names. */
function common(s: string): string {
  return s
    .split('\n')
    .filter((l) => !l.includes("couldn't set RLIMIT_MEMLOCK") && l !== '__BPFTRACE_NOTIFY_PROBES_ATTACHED')
    .join('\n')
    .replace(/\btracelet\b/g, 'TRACER')
    .replace(/\bbpftrace\b/g, 'TRACER');
}

/**
 * The shape of a tool's output: each line with numbers, hex, map keys and histogram bars blurred,
 * printed once (events repeat). Other lines keep only their number of columns, so a missing or
 * extra column shows.
 */
export function shape(s: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of s.split('\n')) {
    let l = line
      .replace(/^(@[A-Za-z0-9_]*)\[.*\]:/, '$1[K]:')
      .replace(/\|@*\s*\|$/, '|BAR|')
      .replace(/0x[0-9a-f]+/gi, 'H')
      .replace(/-?\d+(\.\d+)?[KMGT]?/g, 'N')
      .replace(/\s+/g, ' ');
    // An event line (comm, file name...): only its number of columns.
    if (!/^@|\|BAR\|$|^[{\s]/.test(l)) l = l.split(' ').map((w) => (w === 'N' || w === '' ? w : 'W')).join(' ');
    // A JSON line: its type and the names of its maps or fields.
    if (l.startsWith('{')) {
      try {
        const v = JSON.parse(line) as { type?: string; data?: unknown };
        const keys = v.data && typeof v.data === 'object' && !Array.isArray(v.data) ? Object.keys(v.data).join(',') : typeof v.data;
        l = `{type:${v.type} data:${keys}}`;
      } catch { /* not JSON: keep the blurred text */ }
    }
    if (!seen.has(l)) {
      seen.add(l);
      out.push(l);
    }
  }
  return out.join('\n');
}

function cases(): Case[] {
  const e = (group: string, program: string, extra: string[] = []): Case => ({ group, name: program, args: [...extra, '-e', program] });
  const list: Case[] = [];
  // Common mistakes: exit codes and the first line (messages are tracelet's own format).
  for (const p of [
    'BEGIN { foo(); }', 'BEGIN { printf("%d\\n"); }', 'BEGIN { printf("%d\\n", "s"); }', 'BEGIN { @x = 1; @x = "a"; }',
    'BEGIN { exit(1, 2); }', 'BEGIN { $a + ; }', 'tracepoint:nope:nope {}', 'uprobe:/nonexist:foo {}',
    'uprobe:/bin/ls:nosuchfn {}', 'BEGIN { $x; }', 'BEGIN { print(@nope); }', 'BEGIN { system("true"); }',
    'software:nope:1 {}', 'kprobe:vfs_read {}', 'kfunc:vfs_read {}', 'hardware:cycles:1000 {}', 'iter:task {}',
    'BEGIN { @a[1] = 1; @a = 2; }', 'BEGIN { str(1, 2, 3); }', 'BEGIN { $x = "a" + 1; }',
  ]) list.push(e('errors', p));
  list.push({ group: 'errors', name: 'missing file', args: ['/nonexistent.bt'] });
  list.push({ group: 'errors', name: 'no program', args: [] });
  list.push({ group: 'errors', name: 'unknown option', args: ['--frobnicate', '-e', 'BEGIN {}'] });
  list.push({ group: 'errors', name: 'bad -f', args: ['-f', 'xml', '-e', 'BEGIN { exit(); }'] });
  list.push({ group: 'errors', name: 'bad -p', args: ['-p', '999999', '-e', 'BEGIN { exit(); }'] });
  // Warnings.
  for (const p of [
    'BEGIN { @a = 1; exit(); }', 'BEGIN { $x = 1; exit(); }', 'BEGIN { @a = 1; @b = @a; exit(); }',
    'BEGIN { @a[1] = 1; delete(@a[1]); exit(); }', 'BEGIN { printf("%d\\n", 1, 2); exit(); }',
    'BEGIN { $i = 0; while ($i < 5000) { @m[$i] = 1; $i++; } exit(); }',
  ]) list.push(e('warnings', p));
  // Lifetimes: -c exit status, -p of a process that exits.
  list.push(e('lifetimes', 'BEGIN { printf("start\\n"); } END { printf("end\\n"); }', ['-c', '/bin/sh -c "exit 3"']));
  list.push(e('lifetimes', 'tracepoint:syscalls:sys_enter_exit_group /pid == cpid/ { printf("code %d\\n", args->error_code); }', ['-c', '/bin/sh -c "exit 7"']));
  list.push({ ...e('lifetimes', 'uprobe:/bin/sleep:main { printf("hit\\n"); } END { printf("end\\n"); }'), workload: 'true' });
  // Listings of every probe type.
  for (const pattern of ['tracepoint:sched:sched_switch', 'tracepoint:syscalls:sys_enter_open*', 'rawtracepoint:sched_switch',
    'uprobe:/bin/sleep:*', 'usdt:/usr/lib/x86_64-linux-gnu/libc.so.6:*', 'software:*', 'software:cpu*:', 'hardware:*',
    'profile:*', 'interval:*', 'kprobe:vfs_read', 'kfunc:vfs_read', 'kretprobe:vfs_read', 'kretfunc:vfs_read', 'iter:*', 'BEGIN', '*sched_switch*']) {
    list.push({ group: 'list', name: `-l ${pattern}`, args: ['-l', pattern] });
    list.push({ group: 'list', name: `-lv ${pattern}`, args: ['-lv', pattern] });
  }
  list.push({ group: 'list', name: '-l -e', args: ['-l', '-e', 'tracepoint:sched:sched_switch, uprobe:/bin/sleep:main {}'] });
  // Every Debian tool, text and JSON, under a workload.
  const workload = 'for i in 1 2 3; do ls / >/dev/null; cat /etc/hostname >/dev/null; sh -c "sleep 0.1"; '
    + 'dd if=/dev/zero of=/tmp/tl-diff-dd bs=4k count=16 conv=fsync 2>/dev/null; sync; kill -0 $$; done; rm -f /tmp/tl-diff-dd; sleep 1.2';
  // Tools that need kprobes: tracelet refuses them in one sentence, on purpose (README).
  const needsKprobes = (f: string) => /^\s*(kprobe|kretprobe|k|kr):/m.test(readFileSync(`/usr/sbin/${f}`, 'utf8'));
  for (const f of readdirSync('/usr/sbin').filter((f) => f.endsWith('.bt') && !needsKprobes(f)).sort()) {
    for (const format of ['text', 'json']) {
      list.push({ group: 'tools', name: `${f} ${format}`, args: ['-f', format, `/usr/sbin/${f}`], workload, shape: true });
    }
  }
  return list;
}

function diff(a: string, b: string): string {
  if (a === b) return '';
  const al = a.split('\n');
  const bl = b.split('\n');
  const out: string[] = [];
  for (const l of al) if (!bl.includes(l)) out.push(`  - ${l}`);
  for (const l of bl) if (!al.includes(l)) out.push(`  + ${l}`);
  return out.length ? out.slice(0, 40).join('\n') : '  (same lines, different order)';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const filterAt = argv.indexOf('--filter');
  const filter = filterAt >= 0 ? argv.splice(filterAt, 2)[1] : undefined;
  const keepAt = argv.indexOf('--keep');
  const keep = keepAt >= 0 ? argv.splice(keepAt, 2)[1] : undefined;
  const groups = new Set(argv);
  let differing = 0;
  for (const c of cases()) {
    if (groups.size && !groups.has(c.group)) continue;
    if (filter && !c.name.includes(filter)) continue;
    const ref = await run('bpftrace', c);
    const ours = await run('tracelet', c);
    const norm = (s: string) => { const t = (c.normalize ?? ((x: string) => x))(common(s)); return c.shape ? shape(t) : t; };
    // bpftrace 0.17 exits 0 after Ctrl-C; tracelet's 130 is being changed to match (another branch).
    const sameCode = ref.code === ours.code || (ref.code === 0 && ours.code === 130 && c.workload !== undefined);
    const parts = [
      !sameCode ? `  exit code: bpftrace ${ref.code}, tracelet ${ours.code}` : '',
      diff(norm(ref.stdout), norm(ours.stdout)) && `  stdout:\n${diff(norm(ref.stdout), norm(ours.stdout))}`,
      diff(norm(ref.stderr), norm(ours.stderr)) && `  stderr:\n${diff(norm(ref.stderr), norm(ours.stderr))}`,
    ].filter(Boolean);
    if (keep) {
      const dir = join(keep, c.group, c.name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80));
      mkdirSync(dir, { recursive: true });
      for (const [t, r] of [['bpftrace', ref], ['tracelet', ours]] as const) {
        writeFileSync(join(dir, `${t}.out`), r.stdout, 'latin1');
        writeFileSync(join(dir, `${t}.err`), `${r.stderr}\n[exit ${r.code}]\n`, 'latin1');
      }
    }
    console.log(`${parts.length ? 'DIFF' : 'same'} [${c.group}] ${c.name}`);
    if (parts.length) {
      differing++;
      console.log(parts.join('\n'));
    }
  }
  console.log(`${differing} case(s) differ`);
}

await main();
