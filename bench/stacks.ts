// Stacks: programs that key maps by kstack/ustack, and the time to name and print those stacks at
// exit. Two programs, each ending with exit() after 3 s, on a workload started before the tracer:
//   profile: `profile:hz:499 { @[kstack, ustack] = count(); }` while bench/c/stacks.c spins and a
//            shell starts short-lived processes (`ls`), besides whatever else the machine runs;
//   off-CPU: blocked time summed by (kstack, ustack, comm) from `tracepoint:sched:sched_switch`
//            while two threads of bench/c/stacks.c hand a byte back and forth over pipes.
// Measured per run: wall time, CPU (user + system, wait4), peak RSS, and exit-to-printed: from the
// line the exit probe prints just before exit() reaching stdout to the last byte of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { alternate, fmtSummary, ratio, runTracer, summarize, type Helpers, type Summary, type TracerName } from './lib.js';

const MARKER = 'STACKS-BENCH-EXIT';
const EXIT = `interval:s:3 { printf("${MARKER}\\n"); exit(); }`;

export const STACK_PROGRAMS = [
  {
    name: 'profile',
    program: `profile:hz:499 { @[kstack, ustack] = count(); } ${EXIT}`,
    // No node process: with one, bpftrace 0.17 spent ~4 minutes naming the stacks here.
    workload: ['cpu', 'forks'],
  },
  {
    name: 'off-CPU',
    program: 'tracepoint:sched:sched_switch { @ts[args->prev_pid] = nsecs; @ks[args->prev_pid] = kstack; '
      + '@us[args->prev_pid] = ustack; $t = @ts[args->next_pid]; if ($t) { '
      + '@[@ks[args->next_pid], @us[args->next_pid], args->next_comm] = sum(nsecs - $t); delete(@ts[args->next_pid]); } } '
      + `${EXIT} END { clear(@ts); clear(@ks); clear(@us); }`,
    workload: ['switch'],
  },
] as const;

type Metric = 'wallMs' | 'cpuMs' | 'rssMb' | 'exitToPrintedMs' | 'keys' | 'frames';
const METRICS: readonly Metric[] = ['wallMs', 'cpuMs', 'rssMb', 'exitToPrintedMs', 'keys', 'frames'];

export interface StacksRow {
  readonly name: string;
  readonly program: string;
  readonly values: Record<TracerName, Record<Metric, number[]>>;
  readonly failures: string[];
}

function startWorkloads(helpers: Helpers, kinds: readonly string[]): ChildProcess[] {
  return kinds.map((kind) => {
    if (kind === 'node') {
      return spawn(process.execPath, ['-e', 'let x = 0; for (;;) { x += JSON.stringify({ a: [1, 2, 3], b: "x".repeat(100 + (x & 7)) }).length; }'], { stdio: 'ignore' });
    }
    if (kind === 'forks') return spawn('sh', ['-c', 'while :; do ls -R /usr/share/doc/p* > /dev/null; sleep 0.05; done'], { stdio: 'ignore', detached: true });
    return spawn(helpers.stacks, [kind], { stdio: 'ignore' });
  });
}

function stopWorkloads(children: readonly ChildProcess[]): void {
  for (const c of children) {
    try {
      // The shell loop leads its own process group: end its `ls` too.
      if (c.spawnargs[0] === 'sh') process.kill(-c.pid!, 'SIGKILL');
      else c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function benchStacks(helpers: Helpers, reps: number, log: (s: string) => void): Promise<StacksRow[]> {
  const rows: StacksRow[] = [];
  for (const p of STACK_PROGRAMS) {
    const empty = () => Object.fromEntries(METRICS.map((m) => [m, [] as number[]])) as unknown as Record<Metric, number[]>;
    const row: StacksRow = { name: p.name, program: p.program, values: { tracelet: empty(), bpftrace: empty() }, failures: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const tracer of alternate(rep)) {
        const work = startWorkloads(helpers, p.workload);
        await new Promise((r) => setTimeout(r, 300));
        let r;
        try {
          r = await runTracer(helpers, tracer, ['-e', p.program], { keepStdout: true, marker: MARKER, timeoutMs: 900_000 });
        } finally {
          stopWorkloads(work);
        }
        const keys = r.stdout.split('\n').filter((l) => l.startsWith('@[')).length;
        const frames = r.stdout.split('\n').filter((l) => /^ +\S/.test(l)).length;
        log(`    ${tracer}: ${(r.totalMs / 1000).toFixed(1)} s, exit→printed ${(r.lastOutputMs - r.markerMs).toFixed(0)} ms, CPU ${r.cpuMs} ms, `
          + `RSS ${(r.rssKb / 1024).toFixed(1)} MiB, ${keys} keys, ${frames} frames`);
        if (r.code !== 0 || Number.isNaN(r.markerMs)) {
          row.failures.push(`${tracer}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        const v = row.values[tracer];
        v.wallMs.push(r.totalMs);
        v.cpuMs.push(r.cpuMs);
        v.rssMb.push(r.rssKb / 1024);
        v.exitToPrintedMs.push(r.lastOutputMs - r.markerMs);
        v.keys.push(keys);
        v.frames.push(frames);
      }
    }
    const s = (t: TracerName, m: Metric) => summarize(row.values[t][m]);
    log(`  ${p.name}: exit→printed ms tracelet ${fmtSummary(s('tracelet', 'exitToPrintedMs'))} bpftrace ${fmtSummary(s('bpftrace', 'exitToPrintedMs'))} `
      + `(${ratio(s('tracelet', 'exitToPrintedMs'), s('bpftrace', 'exitToPrintedMs'))}); CPU ${ratio(s('tracelet', 'cpuMs'), s('bpftrace', 'cpuMs'))}; `
      + `RSS ${ratio(s('tracelet', 'rssMb'), s('bpftrace', 'rssMb'))}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return rows;
}

const LABELS: Record<Metric, string> = {
  wallMs: 'wall ms', cpuMs: 'CPU ms (user + sys)', rssMb: 'peak RSS MiB', exitToPrintedMs: 'exit() → last line printed, ms',
  keys: 'keys printed', frames: 'frames printed',
};

/** The "Stacks" section of RESULTS.md, with its targets. */
export function stacksSection(rows: readonly StacksRow[], reps: number): string[] {
  const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;
  const L: string[] = ['## Stacks', ''];
  L.push(`${reps} runs per tool and program (bench/stacks.ts), alternating. Each program runs 3 s and ends with `
    + '`exit()`; the workload starts before the tracer. *exit() → last line*: from the line printed just before '
    + '`exit()` reaching stdout to the last byte of stdout (naming and printing the stacks). CPU and peak RSS '
    + 'from wait4. The two tools see different samples, so key and frame counts differ a little; tracelet also '
    + 'names the frames of processes that exited before the print (bpftrace prints their addresses).', '');
  const targets: string[] = [];
  for (const row of rows) {
    L.push(`### ${row.name}`, '', code(row.program), '');
    L.push('| | tracelet | bpftrace | ratio |', '|---|---|---|---|');
    const s = (t: TracerName, m: Metric): Summary => summarize(row.values[t][m]);
    for (const m of METRICS) {
      L.push(`| ${LABELS[m]} | ${fmtSummary(s('tracelet', m), m === 'rssMb' ? 1 : 0)} | ${fmtSummary(s('bpftrace', m), m === 'rssMb' ? 1 : 0)} | ${ratio(s('tracelet', m), s('bpftrace', m))} |`);
    }
    if (row.failures.length) L.push('', 'Failed runs:', '', ...row.failures.map((f) => `- ${f}`));
    L.push('');
    if (row.name === 'profile') {
      const r = (m: Metric) => s('tracelet', m).median / s('bpftrace', m).median;
      const verdict = (x: number, t: number) => (Number.isFinite(x) ? (x <= t ? 'met' : 'not met') : 'n/a');
      targets.push(`| exit → last line ≤ 0.25× bpftrace | ${r('exitToPrintedMs').toFixed(2)}× | ${verdict(r('exitToPrintedMs'), 0.25)} |`);
      targets.push(`| total CPU ≤ 0.6× | ${r('cpuMs').toFixed(2)}× | ${verdict(r('cpuMs'), 0.6)} |`);
      targets.push(`| peak RSS ≤ 0.6× | ${r('rssMb').toFixed(2)}× | ${verdict(r('rssMb'), 0.6)} |`);
    }
  }
  if (targets.length) L.push('Targets of the profile program (issue 16; medians):', '', '| target | measured | |', '|---|---|---|', ...targets, '');
  return L;
}
