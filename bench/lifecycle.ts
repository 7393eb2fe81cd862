// Probe lifecycle at scale: start-to-exit wall time of wildcard one-liners that attach hundreds
// of probes, tracelet against bpftrace 0.17, and how long after exit tracelet's background
// teardown (the reaper process releasing perf events) takes to finish.
//
//   node --import tsx bench/lifecycle.ts [--runs N] [--no-bpftrace]
//
// Run as root. bpftrace needs ~26 s per syscall wildcard here (it detaches each perf-event
// tracepoint serially), so it runs once per one-liner; tracelet runs N times (median shown).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tracelet', import.meta.url));

const ONE_LINERS = [
  'tracepoint:syscalls:sys_enter_* { @ = count(); } interval:ms:100 { exit(); }',
  'tracepoint:syscalls:sys_exit_* { @[probe] = count(); } interval:ms:100 { exit(); }',
  'tracepoint:syscalls:sys_enter_*,tracepoint:syscalls:sys_exit_* { @ = count(); } interval:ms:100 { exit(); }',
  'tracepoint:sched:* { @[probe] = count(); } interval:ms:100 { exit(); }',
  // func in a uprobe wildcard: one multi-uprobe program in tracelet, a program per function in bpftrace 0.17.
  'uprobe:/lib/x86_64-linux-gnu/libc.so.6:str* { @[func] = count(); } interval:ms:100 { exit(); }',
];

interface Timing {
  /** Spawn to exit of the command, ms. */
  wallMs: number;
  /** Spawn until no tracelet-reaper process is left (tracelet only), ms. */
  teardownMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function reapers(): number {
  return spawnSync('pgrep', ['-x', 'tracelet-reaper'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
}

function timeCommand(command: string, args: readonly string[], waitForReapers: boolean, env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', async (code) => {
      const wallMs = performance.now() - start;
      if (waitForReapers) {
        while (reapers() > 0 && performance.now() - start < 120_000) await new Promise((r) => setTimeout(r, 20));
      }
      resolve({ wallMs, teardownMs: performance.now() - start, code, stdout, stderr });
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}


async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = Number(argv[argv.indexOf('--runs') + 1] || 3) || 3;
  const withBpftrace = !argv.includes('--no-bpftrace') && spawnSync('bpftrace', ['--version']).status === 0;
  if (reapers() > 0) console.log('note: a tracelet-reaper is already running; teardown times include it');

  const baseline = await timeCommand(BIN, ['-e', 'BEGIN { exit(); }'], false);
  console.log(`tracelet start-up + exit with no probes ('BEGIN { exit(); }'): ${baseline.wallMs.toFixed(0)} ms`);
  console.log(`load average: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}\n`);

  const rows: string[][] = [['one-liner', 'probes', 'tracelet', 'teardown done', 'bpftrace', 'bpftrace / tracelet']];
  for (const oneLiner of ONE_LINERS) {
    const ours: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      const t = await timeCommand(BIN, ['-e', oneLiner], true);
      if (t.code !== 0) throw new Error(`tracelet failed (${t.code}) on ${oneLiner}: ${t.stderr}`);
      ours.push(t);
    }
    const probes = /Attaching (\d+) probes?/.exec(ours[0]!.stdout)?.[1] ?? '?';
    const wall = median(ours.map((t) => t.wallMs));
    const teardown = median(ours.map((t) => t.teardownMs));
    let theirs = '-';
    let ratio = '-';
    if (withBpftrace) {
      // bpftrace refuses more than 512 probes / programs unless told otherwise.
      const b = await timeCommand('bpftrace', ['-e', oneLiner], false, { BPFTRACE_MAX_PROBES: '4096', BPFTRACE_MAX_BPF_PROGS: '4096' });
      theirs = `${(b.wallMs / 1000).toFixed(2)} s${b.code === 0 ? '' : ` (exit ${b.code})`}`;
      ratio = `${(b.wallMs / wall).toFixed(1)}x`;
    }
    rows.push([oneLiner, probes, `${wall.toFixed(0)} ms`, `${teardown.toFixed(0)} ms`, theirs, ratio]);
    console.log(`${oneLiner}\n  ${probes} probes: tracelet ${wall.toFixed(0)} ms (runs: ${ours.map((t) => t.wallMs.toFixed(0)).join(', ')}), ` +
      `kernel objects released after ${teardown.toFixed(0)} ms; bpftrace ${theirs}; ratio ${ratio}`);
  }
  console.log('');
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}

await main();
