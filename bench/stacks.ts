// Stacks: programs that key maps by kstack/ustack, and the time to name and print those stacks at
// exit. Two programs, each ending with exit() after 3 s, on a workload started before the tracer:
//   profile: `profile:hz:499 { @[kstack, ustack] = count(); }` while bench/c/stacks.c spins and a
//            shell starts short-lived processes (`ls`), besides whatever else the machine runs;
//   off-CPU: blocked time summed by (kstack, ustack, comm) from `tracepoint:sched:sched_switch`
//            while two threads of bench/c/stacks.c hand a byte back and forth over pipes.
// tracelet runs three ways: cold (`--no-cache`: LLVM is loaded and compiles the program, symbols
// are read afresh), new program (the symbol tables cached by an earlier run, as after a boot's
// first run of any program; the program compiled by LLVM) and warm (the compiled object and symbol
// tables cached by one untimed run first: LLVM is never loaded), beside bpftrace 0.17; the four
// alternate, rotated each repetition.
// Measured per run: wall time, CPU (user + system, wait4), peak RSS, and exit-to-printed: from the
// line the exit probe prints just before exit() reaching stdout to the last byte of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** tracelet without its caches, with only the symbol tables cached, with everything cached; bpftrace. */
export const STACK_MODES = ['cold', 'new', 'warm', 'bpftrace'] as const;
export type StacksMode = (typeof STACK_MODES)[number];
const TRACELET_MODES = ['cold', 'new', 'warm'] as const;
type TraceletMode = (typeof TRACELET_MODES)[number];
const MODE_TITLES: Record<StacksMode, string> = { cold: 'tracelet cold', new: 'tracelet new program', warm: 'tracelet warm', bpftrace: 'bpftrace' };
const SHORT: Record<TraceletMode, string> = { cold: 'cold', new: 'new program', warm: 'warm' };

/** A cache directory holding only `from`'s symbol tables (kallsyms-BOOT.bin, symbols/): no compiled object. */
function symbolCachesOnly(helpers: Helpers, from: string): string {
  const dir = mkdtempSync(join(helpers.dir, 'stacks-new-'));
  for (const name of readdirSync(from)) {
    if (name.startsWith('kallsyms-')) copyFileSync(join(from, name), join(dir, name));
  }
  if (existsSync(join(from, 'symbols'))) cpSync(join(from, 'symbols'), join(dir, 'symbols'), { recursive: true });
  return dir;
}

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
      name: p.name, program: p.program, values: { cold: empty(), new: empty(), warm: empty(), bpftrace: empty() },
      nodeFrames: { cold: [], new: [], warm: [], bpftrace: [] }, failures: [],
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
        const newDir = mode === 'new' ? symbolCachesOnly(helpers, warmDir) : undefined;
        const env = mode === 'warm' ? warmEnv : newDir ? { TRACELET_CACHE_DIR: newDir } : undefined;
        const work = startWorkloads(helpers, p.workload);
        await new Promise((r) => setTimeout(r, 300));
        let r;
        try {
          // quiet: the harness (a Node process) must not run while the probes sample every CPU.
          r = await runTracer(helpers, tracer, args, { keepStdout: true, marker: MARKER, quiet: true, timeoutMs: 900_000, ...(env ? { env } : {}) });
        } finally {
          stopWorkloads(work);
          if (newDir) rmSync(newDir, { recursive: true, force: true });
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
    const each = (m: Metric) => TRACELET_MODES.map((t) => `${SHORT[t]} ${ratio(s(t, m), s('bpftrace', m))}`).join(', ')
      + ` (without Node frames: ${TRACELET_MODES.map((t) => `${SHORT[t]} ${ratio(s(t, m), withoutNode(row, m))}`).join(', ')})`;
    log(`  ${p.name}: exit→printed ms ${TRACELET_MODES.map((t) => `${SHORT[t]} ${fmtSummary(s(t, 'exitToPrintedMs'))}`).join(' ')} `
      + `bpftrace ${fmtSummary(s('bpftrace', 'exitToPrintedMs'))} (${each('exitToPrintedMs')}); CPU ${each('cpuMs')}; RSS ${each('rssMb')}`
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
  readonly all: Record<TraceletMode, number>;
  readonly withoutNode: Record<TraceletMode, number>;
  readonly verdict: string;
}

/**
 * Each target of the profile program judged on each way tracelet runs, against bpftrace's runs
 * without Node frames (the workload has no Node process: one elsewhere on the machine changes
 * bpftrace's figures, not tracelet's), or all of them if every run had some.
 */
function profileTargets(rows: readonly StacksRow[]): { readonly nodeRuns: string; readonly targets: TargetVerdict[] } | undefined {
  const row = rows.find((r) => r.name === 'profile');
  if (!row) return undefined;
  const med = (mode: StacksMode, m: Metric) => summarize(row.values[mode][m]).median;
  const targets = TARGETS.map(({ metric, label, at }) => {
    const per = (over: number) => Object.fromEntries(TRACELET_MODES.map((t) => [t, med(t, metric) / over])) as Record<TraceletMode, number>;
    const all = per(med('bpftrace', metric));
    const clean = withoutNode(row, metric);
    const withoutNodeRatios = per(clean.median);
    const judged = clean.n > 0 ? withoutNodeRatios : all;
    const met = TRACELET_MODES.filter((t) => Number.isFinite(judged[t]) && judged[t] <= at).map((t) => SHORT[t]);
    const missed = TRACELET_MODES.filter((t) => !(Number.isFinite(judged[t]) && judged[t] <= at)).map((t) => SHORT[t]);
    const verdict = TRACELET_MODES.every((t) => !Number.isFinite(judged[t])) ? 'n/a'
      : missed.length === 0 ? 'met (every way)' : met.length === 0 ? 'not met' : `met ${met.join(', ')}; not met ${missed.join(', ')}`;
    return { label, all, withoutNode: withoutNodeRatios, verdict };
  });
  return { nodeRuns: nodeRuns(row), targets };
}

const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

/** The lines of the file's "Targets" table for the stacks section (issue 16). */
export function stacksTargets(result: StacksResult): string[] {
  const p = profileTargets(result.rows);
  const list = (r: Record<TraceletMode, number>) => TRACELET_MODES.map((m) => `${SHORT[m]} ${times(r[m])}`).join(', ');
  return (p?.targets ?? []).map((t) => `| stacks, profile program: ${t.label} (issue 16) | against bpftrace's runs without Node frames: `
    + `${list(t.withoutNode)}; all runs (${p!.nodeRuns} with Node frames): ${list(t.all)} | ${t.verdict} |`);
}

/** The "Stacks" section of RESULTS.md, with its targets. */
export function stacksSection(result: StacksResult, command: string): string[] {
  const { rows, reps } = result;
  const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;
  const L: string[] = ['## Stacks', ''];
  L.push(`Measured ${result.started} (${code(command)}, as root); load average ${result.loadBefore} before, `
    + `${result.loadAfter} after (1/5/15 min; other engineers' tests shared the 2 CPUs).`, '');
  L.push(`${reps} runs per mode and program (bench/stacks.ts), rotating the order. *tracelet cold*: \`--no-cache\` (LLVM `
    + 'is loaded and compiles the program; the symbol caches are neither read nor written: what a boot\'s first run costs); '
    + '*tracelet new program*: the symbol tables cached by an earlier run (of any program), the program compiled by LLVM (a '
    + 'program run for the first time); *tracelet warm*: the compiled '
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
    L.push(`| | ${STACK_MODES.map((m) => MODE_TITLES[m]).join(' | ')} | bpftrace without Node | `
      + `${TRACELET_MODES.map((t) => `${SHORT[t]} ÷ bpftrace`).join(' | ')} | ${TRACELET_MODES.map((t) => `${SHORT[t]} ÷ without Node`).join(' | ')} |`,
    `|${'---|'.repeat(2 + STACK_MODES.length + 2 * TRACELET_MODES.length)}`);
    const s = (t: StacksMode, m: Metric): Summary => summarize(row.values[t][m]);
    for (const m of METRICS) {
      const digits = m === 'rssMb' ? 1 : 0;
      const clean = withoutNode(row, m);
      L.push(`| ${LABELS[m]} | ${STACK_MODES.map((mode) => fmtSummary(s(mode, m), digits)).join(' | ')} | ${fmtSummary(clean, digits)} | `
        + `${TRACELET_MODES.map((t) => ratio(s(t, m), s('bpftrace', m))).join(' | ')} | ${TRACELET_MODES.map((t) => ratio(s(t, m), clean)).join(' | ')} |`);
    }
    if (row.failures.length) L.push('', 'Failed runs:', '', ...row.failures.map((f) => `- ${f}`));
    L.push('');
  }
  const p = profileTargets(rows);
  if (p) {
    L.push('Targets of the profile program (issue 16; ratios of the medians), judged against bpftrace\'s runs without '
      + 'Node frames (the workload has no Node process; a foreign one changes bpftrace\'s figures, not tracelet\'s):', '',
      `| target | ${TRACELET_MODES.map((t) => `${SHORT[t]} ÷ bpftrace without Node`).join(' | ')} | ${TRACELET_MODES.map((t) => `${SHORT[t]} ÷ bpftrace (all runs)`).join(' | ')} | |`,
      `|${'---|'.repeat(2 + 2 * TRACELET_MODES.length)}`,
      ...p.targets.map((t) => `| ${t.label} | ${TRACELET_MODES.map((m) => times(t.withoutNode[m])).join(' | ')} | ${TRACELET_MODES.map((m) => times(t.all[m])).join(' | ')} | ${t.verdict} |`), '');
  }
  return L;
}
