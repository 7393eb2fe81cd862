// Start-up: time from process start until the probes are attached (both tracers print
// __BPFTRACE_NOTIFY_PROBES_ATTACHED on stderr then), total time of programs that exit by
// themselves, time from SIGINT to exit for the others, and peak RSS of each run.
import { join } from 'node:path';
import { alternate, fmtSummary, ratio, runTracer, summarize, type Helpers, type TracerName, type TracerRun } from './lib.js';

export interface OneLiner {
  readonly name: string;
  readonly program: string;
  /** Ends by itself (exit() in BEGIN); otherwise stopped with SIGINT once attached. */
  readonly exits?: boolean;
}

/** Representative one-liners using only what tracelet has now. */
export const ONE_LINERS: readonly OneLiner[] = [
  { name: 'BEGIN exit', program: 'BEGIN { exit(); }', exits: true },
  { name: 'BEGIN printf comm/pid/tid', program: 'BEGIN { printf("%s %d %d\\n", comm, pid, tid); exit(); }', exits: true },
  { name: 'openat count() by comm', program: 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }' },
  { name: 'sched_switch args->prev_comm', program: 'tracepoint:sched:sched_switch { @[args->prev_comm] = count(); }' },
  { name: 'read hist(args->ret)', program: 'tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }' },
  { name: 'write lhist(args->count)', program: 'tracepoint:syscalls:sys_enter_write { @ = lhist(args->count, 0, 1000, 100); }' },
  {
    name: 'exec sum/avg/stats + interval',
    program: 'tracepoint:sched:sched_process_exec { @s = sum(pid); @a = avg(pid); @st = stats(pid); } interval:ms:500 { @ticks = count(); }',
  },
  {
    name: 'filter + printf + END',
    program: 'tracepoint:syscalls:sys_enter_kill /pid != 0/ { printf("%d %s %d\\n", pid, comm, args->sig); } END { printf("bye\\n"); }',
  },
];

export interface StartupRow {
  readonly name: string;
  readonly program: string;
  readonly attach: Record<TracerName, number[]>;
  readonly total: Record<TracerName, number[]>;
  readonly stop: Record<TracerName, number[]>;
  readonly rss: Record<TracerName, number[]>;
  readonly failures: string[];
}

export async function benchStartup(helpers: Helpers, reps: number, log: (s: string) => void): Promise<StartupRow[]> {
  const rows: StartupRow[] = [];
  for (const ol of ONE_LINERS) {
    const row: StartupRow = {
      name: ol.name, program: ol.program, failures: [],
      attach: { tracelet: [], bpftrace: [] }, total: { tracelet: [], bpftrace: [] },
      stop: { tracelet: [], bpftrace: [] }, rss: { tracelet: [], bpftrace: [] },
    };
    // tracelet's measured runs are repeats of the command line, as a user's second run is (the
    // compile cache and, where the program allows, the prepared run are there): one run first, not
    // measured, in a cache of the bench's own. First runs are in bench/cache.ts's table (cold).
    const env = { TRACELET_CACHE_DIR: join(helpers.dir, 'startup-cache') };
    await runTracer(helpers, 'tracelet', ['-e', ol.program], { stop: !ol.exits, timeoutMs: 60_000, env });
    for (let rep = 0; rep < reps; rep++) {
      for (const tracer of alternate(rep)) {
        const r: TracerRun = await runTracer(helpers, tracer, ['-e', ol.program], { stop: !ol.exits, timeoutMs: 60_000, env });
        const ok = r.code === 0; // a stop by SIGINT ends with 0 too, for both tracers
        if (!ok || Number.isNaN(r.attachMs)) {
          row.failures.push(`${tracer}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          continue;
        }
        row.attach[tracer].push(r.attachMs);
        row.total[tracer].push(r.totalMs);
        if (!ol.exits) row.stop[tracer].push(r.stopMs);
        row.rss[tracer].push(r.rssKb / 1024);
      }
    }
    const a = { t: summarize(row.attach.tracelet), b: summarize(row.attach.bpftrace) };
    log(`  ${ol.name.padEnd(32)} attach ms tracelet ${fmtSummary(a.t)}  bpftrace ${fmtSummary(a.b)}  ratio ${ratio(a.t, a.b)}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return rows;
}
