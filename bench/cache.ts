// The compile cache: time from process start to "probes attached", CPU time and peak RSS with an
// empty cache (cold: LLVM is loaded, runs and the object is stored), with the object cached
// (warm: LLVM neither loaded nor run; the prepared run removed before each run) and with the
// prepared run of the command line there too (prepared: the launcher attaches before Node starts;
// its CPU at "attached" is the launcher's alone, Node is still starting), beside bpftrace 0.17
// (which has no cache), for
// `BEGIN { exit(); }`, a tracepoint printf one-liner, an `args->ret` hist one-liner and the
// 300-line script of bench/script300.ts. Runs alternate (every mode, rotated each repetition);
// min / median / max are reported, ratios of the medians. CPU: the whole run for programs that
// exit by themselves, else the process's threads' CPU time when "attached" is seen
// (/proc/PID/task/*/schedstat). With TRACELET_BENCH_BEFORE=ANOTHER/bin/tracelet (e.g. a build of
// main), that build runs cold and warm in the same rotation, for before/after figures.
//
//   node --import tsx bench/cache.ts [REPS]     (root; prints its RESULTS.md section; also `npm run bench -- --only cache`)
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildHelpers, ensureBpftrace, ensureTracefs, fmtSummary, loadAverage, ratio, rotate, runTracer, summarize, type Helpers,
  type TracerName,
} from './lib.js';
import { script300 } from './script300.js';

type Mode = 'cold' | 'warm' | 'prepared' | 'bpftrace' | 'before cold' | 'before warm';
const BEFORE = process.env.TRACELET_BENCH_BEFORE;
const MODES: readonly Mode[] = ['cold', 'warm', 'prepared', 'bpftrace', ...(BEFORE ? ['before cold', 'before warm'] as const : [])];
const MEASURES = ['attach', 'cpu', 'rss'] as const;
type Measure = (typeof MEASURES)[number];

/** The cases, as the issue's table (bench/glance.ts) finds them. */
export type CacheCase = 'exit' | 'printf' | 'hist' | 'script300';

interface Case {
  readonly key: CacheCase;
  readonly name: string;
  /** Arguments after the tracer's name. */
  readonly args: readonly string[];
  /** Ends by itself; otherwise stopped with SIGINT once attached. */
  readonly exits: boolean;
}

export interface CacheRow {
  readonly key: CacheCase;
  readonly name: string;
  /** ms to attached, CPU ms, peak RSS MiB: each by mode. */
  readonly values: Record<Measure, Record<Mode, number[]>>;
  readonly failures: string[];
}

function byMode(): Record<Mode, number[]> {
  return Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, number[]>;
}

/** CPU time (ms) of every thread of `pid` so far. */
function threadsCpuMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN; // already gone
  }
  return ns / 1e6;
}

export async function benchCache(helpers: Helpers, reps: number, log: (s: string) => void): Promise<CacheRow[]> {
  const big = join(helpers.dir, 'script300.bt');
  writeFileSync(big, script300());
  const cases: Case[] = [
    { key: 'exit', name: '`BEGIN { exit(); }`', args: ['-e', 'BEGIN { exit(); }'], exits: true },
    { key: 'printf', name: '`tracepoint:syscalls:sys_enter_kill { printf("%d %s %d\\n", pid, comm, args->sig); }`', args: ['-e', 'tracepoint:syscalls:sys_enter_kill { printf("%d %s %d\\n", pid, comm, args->sig); }'], exits: false },
    { key: 'hist', name: '`tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }`', args: ['-e', 'tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }'], exits: false },
    { key: 'script300', name: 'bench/script300 (300 lines, 25 probes)', args: ['-q', big], exits: false },
  ];
  const rows: CacheRow[] = [];
  for (const c of cases) {
    const row: CacheRow = { key: c.key, name: c.name, values: { attach: byMode(), cpu: byMode(), rss: byMode() }, failures: [] };
    // One warm cache per build, filled once (not measured); the prepared one with the command line's own run.
    const warmDirs = new Map<string | undefined, string>();
    for (const bin of BEFORE ? [undefined, BEFORE] : [undefined]) {
      const dir = mkdtempSync(join(helpers.dir, 'cache-warm-'));
      warmDirs.set(bin, dir);
      await runTracer(helpers, 'tracelet', ['-q', ...c.args], { stop: !c.exits, env: { TRACELET_CACHE_DIR: dir }, traceletBin: bin });
    }
    const preparedDir = mkdtempSync(join(helpers.dir, 'cache-prepared-'));
    await runTracer(helpers, 'tracelet', c.args, { stop: !c.exits, env: { TRACELET_CACHE_DIR: preparedDir } });
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of rotate(MODES, rep)) {
        const coldDir = mkdtempSync(join(helpers.dir, 'cache-cold-'));
        const tracer: TracerName = mode === 'bpftrace' ? 'bpftrace' : 'tracelet';
        const bin = mode.startsWith('before') ? BEFORE : undefined;
        const env = { TRACELET_CACHE_DIR: mode === 'prepared' ? preparedDir : mode.endsWith('warm') ? warmDirs.get(bin)! : coldDir };
        if (mode.endsWith('warm')) rmSync(join(env.TRACELET_CACHE_DIR, 'launch'), { recursive: true, force: true });
        let cpuAtAttach = NaN;
        const r = await runTracer(helpers, tracer, c.args, {
          stop: !c.exits, env, timeoutMs: 120_000, traceletBin: bin,
          whileAttached: (pid) => { cpuAtAttach = threadsCpuMs(pid); },
        });
        rmSync(coldDir, { recursive: true, force: true });
        if (r.code !== 0 || Number.isNaN(r.attachMs)) {
          row.failures.push(`${mode}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        row.values.attach[mode].push(r.attachMs);
        row.values.cpu[mode].push(c.exits || Number.isNaN(cpuAtAttach) ? r.cpuMs : cpuAtAttach);
        row.values.rss[mode].push(r.rssKb / 1024);
      }
    }
    for (const dir of [...warmDirs.values(), preparedDir]) rmSync(dir, { recursive: true, force: true });
    const s = summaries(row.values.attach);
    log(`  ${c.name.slice(0, 40).padEnd(40)} ${MODES.map((m) => `${m} ${fmtSummary(s[m])}`).join('  ')}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return rows;
}

/** The RESULTS.md section: how the runs were made, then cacheTable and the failed runs. */
export function cacheSection(rows: readonly CacheRow[], reps: number): string[] {
  const fails = rows.flatMap((row) => row.failures.map((f) => `${row.name}: ${f}`));
  return [
    '## Compile cache (issue 17)', '',
    `${reps} runs per mode and program, the modes rotated each repetition: time from process start to "probes `
      + 'attached", CPU time and peak RSS with an empty cache (cold: LLVM runs and stores the object), with the '
      + 'object cached (warm: LLVM skipped; the prepared run removed before each run), with the command line\'s '
      + 'prepared run there too (prepared: the launcher loads and attaches before Node starts) and for bpftrace 0.17 '
      + '(which has no cache); min / median / max. CPU is the whole run for `BEGIN { exit(); }` and the CPU used by '
      + '"attached" for the others (/proc/PID/task/*/schedstat): for a prepared run that is the launcher\'s alone, '
      + 'Node is still starting then. Alone: `node --import tsx bench/cache.ts [REPS]`.', '',
    cacheTable(rows), '',
    ...(fails.length ? ['Failed runs (left out of the tables):', '', ...fails.map((f) => `- ${f}`), ''] : []),
  ];
}

const TITLES: Record<Measure, string> = { attach: 'ms to attached', cpu: 'CPU ms', rss: 'peak RSS MiB' };

/** One Markdown table per measure (ms to attached, CPU ms, peak RSS MiB). */
function cacheTable(rows: readonly CacheRow[]): string {
  return MEASURES.map((measure) => {
    const digits = measure === 'rss' ? 1 : 0;
    const builds = BEFORE ? ['before cold', 'before warm', 'cold', 'warm', 'prepared'] as const : ['cold', 'warm', 'prepared'] as const;
    const lines = [
      `**${TITLES[measure]}**\n`,
      `| program | ${builds.map((m) => `tracelet ${m}`).join(' | ')} | bpftrace | ${builds.map((m) => `${m} ÷ bpftrace`).join(' | ')} |`,
      `| --- |${' --- |'.repeat(builds.length * 2 + 1)}`,
    ];
    for (const row of rows) {
      const s = summaries(row.values[measure]);
      lines.push(`| ${row.name} | ${builds.map((m) => fmtSummary(s[m], digits)).join(' | ')} | ${fmtSummary(s.bpftrace, digits)} | ${builds.map((m) => ratio(s[m], s.bpftrace)).join(' | ')} |`);
    }
    return lines.join('\n');
  }).join('\n\n');
}

function summaries(values: Record<Mode, number[]>) {
  return Object.fromEntries(MODES.map((m) => [m, summarize(values[m])])) as Record<Mode, ReturnType<typeof summarize>>;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureBpftrace();
  ensureTracefs();
  const reps = Number(process.argv[2] ?? 7);
  const helpers = buildHelpers();
  try {
    console.log(`load average before: ${loadAverage()}`);
    const rows = await benchCache(helpers, reps, console.log);
    console.log(`load average after: ${loadAverage()}\n\n${cacheSection(rows, reps).join('\n')}`);
  } finally {
    helpers.cleanup();
  }
}
