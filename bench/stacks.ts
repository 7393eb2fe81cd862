// Stacks: programs that key maps by kstack/ustack, and the time to name and print those stacks at
// exit. Two programs, each ending with exit() after 3 s, on a workload started before the tracer:
//   profile: `profile:hz:499 { @[kstack, ustack] = count(); }` while bench/c/stacks.c spins and a
//            shell starts short-lived processes (`ls`), besides whatever else the machine runs;
//   off-CPU: blocked time summed by (kstack, ustack, comm) from `tracepoint:sched:sched_switch`
//            while two threads of bench/c/stacks.c hand a byte back and forth over pipes.
// tracelet runs two ways: cold (`--no-cache`: LLVM is loaded and compiles the program, symbols are
// read afresh) and warm (the compiled object and symbol tables cached by one untimed run first:
// LLVM is never loaded), beside bpftrace
// 0.17; the three alternate, rotated each repetition.
// Measured per run: wall time, CPU (user + system, wait4), peak RSS, and exit-to-printed: from the
// line the exit probe prints just before exit() reaching stdout to the last byte of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmtSummary, loadAverage, ratio, rotate, runTracer, summarize, type Helpers, type Summary, type TracerName } from './lib.js';

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

/** tracelet without its compile cache, tracelet with the object cached, bpftrace. */
export const STACK_MODES = ['cold', 'warm', 'bpftrace'] as const;
export type StacksMode = (typeof STACK_MODES)[number];
const MODE_TITLES: Record<StacksMode, string> = { cold: 'tracelet cold', warm: 'tracelet warm', bpftrace: 'bpftrace' };

type Metric = 'wallMs' | 'cpuMs' | 'rssMb' | 'exitToPrintedMs' | 'keys' | 'frames';
const METRICS: readonly Metric[] = ['wallMs', 'cpuMs', 'rssMb', 'exitToPrintedMs', 'keys', 'frames'];

export interface StacksRow {
  readonly name: string;
  readonly program: string;
  readonly values: Record<StacksMode, Record<Metric, number[]>>;
  /** Per run (as `values`): whether its output names frames of a Node process (see NODE_FRAME). */
  readonly nodeFrames: Record<StacksMode, boolean[]>;
  readonly failures: string[];
}

/**
 * A frame of the node binary (V8, libuv, Node's own code): its output names a Node process's
 * frames. bpftrace (bcc) then reads the node binary's ~185k symbols for each such process, which
 * takes ~50 MiB and seconds to minutes; tracelet reads a file's symbols once, and always names
 * its own frames.
 */
const NODE_FRAME = /^ +(v8::|node::|uv_|Builtins_)/m;

export interface StacksResult {
  readonly rows: StacksRow[];
  readonly reps: number;
  /** When the runs began (ISO, UTC) and the 1/5/15-minute load averages before and after them. */
  readonly started: string;
  readonly loadBefore: string;
  readonly loadAfter: string;
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

export async function benchStacks(helpers: Helpers, reps: number, log: (s: string) => void): Promise<StacksResult> {
  const started = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadBefore = loadAverage();
  const rows: StacksRow[] = [];
  for (const p of STACK_PROGRAMS) {
    const empty = () => Object.fromEntries(METRICS.map((m) => [m, [] as number[]])) as unknown as Record<Metric, number[]>;
    const row: StacksRow = {
      name: p.name, program: p.program, values: { cold: empty(), warm: empty(), bpftrace: empty() },
      nodeFrames: { cold: [], warm: [], bpftrace: [] }, failures: [],
    };
    // The warm runs' cache: filled by one run first (not measured).
    const warmDir = mkdtempSync(join(helpers.dir, 'stacks-cache-'));
    const warmEnv = { TRACELET_CACHE_DIR: warmDir };
    const prime = await runTracer(helpers, 'tracelet', ['-e', p.program], { env: warmEnv, keepStdout: true, timeoutMs: 900_000 });
    if (prime.code !== 0 || readdirSync(warmDir).length === 0) {
      row.failures.push(`warm: the untimed first run did not fill the cache (exit ${prime.code}): ${prime.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of rotate(STACK_MODES, rep)) {
        const tracer: TracerName = mode === 'bpftrace' ? 'bpftrace' : 'tracelet';
        const args = mode === 'cold' ? ['--no-cache', '-e', p.program] : ['-e', p.program];
        const work = startWorkloads(helpers, p.workload);
        await new Promise((r) => setTimeout(r, 300));
        let r;
        try {
          // quiet: the harness (a Node process) must not run while the probes sample every CPU.
          r = await runTracer(helpers, tracer, args, { keepStdout: true, marker: MARKER, quiet: true, timeoutMs: 900_000, ...(mode === 'warm' ? { env: warmEnv } : {}) });
        } finally {
          stopWorkloads(work);
        }
        const keys = r.stdout.split('\n').filter((l) => l.startsWith('@[')).length;
        const frames = r.stdout.split('\n').filter((l) => /^ +\S/.test(l)).length;
        const node = NODE_FRAME.test(r.stdout);
        log(`    ${MODE_TITLES[mode]}: ${(r.totalMs / 1000).toFixed(1)} s, exit→printed ${(r.lastOutputMs - r.markerMs).toFixed(0)} ms, CPU ${r.cpuMs} ms, `
          + `RSS ${(r.rssKb / 1024).toFixed(1)} MiB, ${keys} keys, ${frames} frames${node ? ', Node frames' : ''}`);
        if (r.code !== 0 || Number.isNaN(r.markerMs)) {
          row.failures.push(`${MODE_TITLES[mode]}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        const v = row.values[mode];
        v.wallMs.push(r.totalMs);
        v.cpuMs.push(r.cpuMs);
        v.rssMb.push(r.rssKb / 1024);
        v.exitToPrintedMs.push(r.lastOutputMs - r.markerMs);
        v.keys.push(keys);
        v.frames.push(frames);
        row.nodeFrames[mode].push(node);
      }
    }
    rmSync(warmDir, { recursive: true, force: true });
    const s = (t: StacksMode, m: Metric) => summarize(row.values[t][m]);
    const both = (m: Metric) => `cold ${ratio(s('cold', m), s('bpftrace', m))}, warm ${ratio(s('warm', m), s('bpftrace', m))}`
      + ` (without Node frames: cold ${ratio(s('cold', m), withoutNode(row, m))}, warm ${ratio(s('warm', m), withoutNode(row, m))})`;
    log(`  ${p.name}: exit→printed ms cold ${fmtSummary(s('cold', 'exitToPrintedMs'))} warm ${fmtSummary(s('warm', 'exitToPrintedMs'))} `
      + `bpftrace ${fmtSummary(s('bpftrace', 'exitToPrintedMs'))} (${both('exitToPrintedMs')}); CPU ${both('cpuMs')}; RSS ${both('rssMb')}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return { rows, reps, started, loadBefore, loadAfter: loadAverage() };
}

const LABELS: Record<Metric, string> = {
  wallMs: 'wall ms', cpuMs: 'CPU ms (user + sys)', rssMb: 'peak RSS MiB', exitToPrintedMs: 'exit() → last line printed, ms',
  keys: 'keys printed', frames: 'frames printed',
};

/** Issue 16's targets for the profile program: tracelet ÷ bpftrace of the medians at most this. */
const TARGETS: readonly { readonly metric: Metric; readonly label: string; readonly at: number }[] = [
  { metric: 'exitToPrintedMs', label: 'exit → last line ≤ 0.25× bpftrace', at: 0.25 },
  { metric: 'cpuMs', label: 'total CPU ≤ 0.6× bpftrace', at: 0.6 },
  { metric: 'rssMb', label: 'peak RSS ≤ 0.6× bpftrace', at: 0.6 },
];

/** bpftrace's runs that named no Node process's frames: the conditions the workloads set. */
function withoutNode(row: StacksRow, m: Metric): Summary {
  return summarize(row.values.bpftrace[m].filter((_, i) => !row.nodeFrames.bpftrace[i]));
}

/** How many of bpftrace's runs named a Node process's frames. */
function nodeRuns(row: StacksRow): string {
  const n = row.nodeFrames.bpftrace;
  return `${n.filter(Boolean).length} of ${n.length}`;
}

interface TargetVerdict {
  readonly label: string;
  /** tracelet ÷ bpftrace of the medians, over all of bpftrace's runs and over those without Node frames. */
  readonly all: { readonly cold: number; readonly warm: number };
  readonly withoutNode: { readonly cold: number; readonly warm: number };
  readonly verdict: string;
}

/**
 * Each target of the profile program judged on tracelet cold and warm, against bpftrace's runs
 * without Node frames (the workload has no Node process: one elsewhere on the machine changes
 * bpftrace's figures, not tracelet's), or all of them if every run had some.
 */
function profileTargets(rows: readonly StacksRow[]): { readonly nodeRuns: string; readonly targets: TargetVerdict[] } | undefined {
  const row = rows.find((r) => r.name === 'profile');
  if (!row) return undefined;
  const med = (mode: StacksMode, m: Metric) => summarize(row.values[mode][m]).median;
  const targets = TARGETS.map(({ metric, label, at }) => {
    const all = { cold: med('cold', metric) / med('bpftrace', metric), warm: med('warm', metric) / med('bpftrace', metric) };
    const clean = withoutNode(row, metric);
    const withoutNodeRatios = { cold: med('cold', metric) / clean.median, warm: med('warm', metric) / clean.median };
    const judged = clean.n > 0 ? withoutNodeRatios : all;
    const met = (x: number) => Number.isFinite(x) && x <= at;
    const verdict = !Number.isFinite(judged.cold) && !Number.isFinite(judged.warm) ? 'n/a'
      : met(judged.cold) && met(judged.warm) ? 'met (cold and warm)'
        : met(judged.warm) ? 'met warm; not met cold'
          : met(judged.cold) ? 'met cold; not met warm' : 'not met';
    return { label, all, withoutNode: withoutNodeRatios, verdict };
  });
  return { nodeRuns: nodeRuns(row), targets };
}

const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

/** The lines of the file's "Targets" table for the stacks section (issue 16). */
export function stacksTargets(result: StacksResult): string[] {
  const p = profileTargets(result.rows);
  return (p?.targets ?? []).map((t) => `| stacks, profile program: ${t.label} (issue 16) | against bpftrace's runs without Node frames: `
    + `cold ${times(t.withoutNode.cold)}, warm ${times(t.withoutNode.warm)}; all runs (${p!.nodeRuns} with Node frames): `
    + `cold ${times(t.all.cold)}, warm ${times(t.all.warm)} | ${t.verdict} |`);
}

/** The "Stacks" section of RESULTS.md, with its targets. */
export function stacksSection(result: StacksResult, command: string): string[] {
  const { rows, reps } = result;
  const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;
  const L: string[] = ['## Stacks', ''];
  L.push(`Measured ${result.started} (${code(command)}, as root); load average ${result.loadBefore} before, `
    + `${result.loadAfter} after (1/5/15 min; other engineers' tests shared the 2 CPUs).`, '');
  L.push(`${reps} runs per mode and program (bench/stacks.ts), rotating the order. *tracelet cold*: \`--no-cache\` (LLVM `
    + 'is loaded and compiles the program; the symbol caches are neither read nor written); *tracelet warm*: the compiled '
    + 'object and the symbol tables cached by one untimed run first (LLVM is never loaded); bpftrace 0.17 has no cache. Each program runs 3 s and ends with `exit()`; the workload starts '
    + 'before the tracer. *exit() → last line*: from the line printed just before `exit()` reaching stdout to the last '
    + 'byte of stdout (naming and printing the stacks). CPU and peak RSS from wait4. The runs see different samples, '
    + 'so key and frame counts differ a little; tracelet also names the frames of processes that exited before the '
    + 'print (bpftrace prints their addresses). bpftrace\'s figures depend on what else runs: when a Node process '
    + 'on the machine is sampled (this bench\'s own harness, idle as it is while the tracer runs, or other tests), '
    + 'bcc reads the node binary\'s ~185k symbols for it, about 50 MiB more and seconds to minutes of naming, where '
    + 'tracelet reads a file\'s symbols once (and always names its own frames, which are Node\'s); so bpftrace\'s runs '
    + 'are also shown without those that named Node frames, and `bench/stacks-no-node.sh` runs the profile program '
    + 'from a shell, with no Node process but tracelet.', '');
  for (const row of rows) {
    L.push(`### ${row.name}`, '', code(row.program), '');
    L.push(`bpftrace named a Node process's frames in ${nodeRuns(row)} runs; *without Node*: its other runs.`, '');
    L.push('| | tracelet cold | tracelet warm | bpftrace | bpftrace without Node | cold ÷ bpftrace | warm ÷ bpftrace | cold ÷ without Node | warm ÷ without Node |',
      '|---|---|---|---|---|---|---|---|---|');
    const s = (t: StacksMode, m: Metric): Summary => summarize(row.values[t][m]);
    for (const m of METRICS) {
      const digits = m === 'rssMb' ? 1 : 0;
      const clean = withoutNode(row, m);
      L.push(`| ${LABELS[m]} | ${STACK_MODES.map((mode) => fmtSummary(s(mode, m), digits)).join(' | ')} | ${fmtSummary(clean, digits)} | `
        + `${ratio(s('cold', m), s('bpftrace', m))} | ${ratio(s('warm', m), s('bpftrace', m))} | `
        + `${ratio(s('cold', m), clean)} | ${ratio(s('warm', m), clean)} |`);
    }
    if (row.failures.length) L.push('', 'Failed runs:', '', ...row.failures.map((f) => `- ${f}`));
    L.push('');
  }
  const p = profileTargets(rows);
  if (p) {
    L.push('Targets of the profile program (issue 16; ratios of the medians), judged against bpftrace\'s runs without '
      + 'Node frames (the workload has no Node process; a foreign one changes bpftrace\'s figures, not tracelet\'s):', '',
      '| target | cold ÷ bpftrace without Node | warm ÷ bpftrace without Node | cold ÷ bpftrace (all runs) | warm ÷ bpftrace (all runs) | |',
      '|---|---|---|---|---|---|',
      ...p.targets.map((t) => `| ${t.label} | ${times(t.withoutNode.cold)} | ${times(t.withoutNode.warm)} | ${times(t.all.cold)} | `
        + `${times(t.all.warm)} | ${t.verdict} |`), '');
  }
  return L;
}
