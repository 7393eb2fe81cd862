// Per-event kernel cost: with kernel.bpf_stats_enabled=1, run_time_ns / run_cnt of the program on
// a hot tracepoint (syscalls:sys_enter_getppid, fired N times by our workload and by nothing
// else, so no filter is needed and the tracers never trace their own syscalls), read with
// bpftool while the tracer still runs; plus its translated instruction count and the workload's
// own cost per call (what the traced process feels).
import {
  alternate, enableBpfStats, fmt, fmtSummary, programIdsOf, progInfo, ratio, runTracer, sleep, startWorkload, summarize,
  type Helpers, type TracerName,
} from './lib.js';

export interface PerEventCase {
  readonly name: string;
  readonly program: string;
  /** Calls per run (printf is slow in bpftrace: fewer). */
  readonly calls: number;
}

const TP = 'tracepoint:syscalls:sys_enter_getppid';

export function perEventCases(quick: boolean): PerEventCase[] {
  const n = quick ? 200_000 : 1_000_000;
  const printfN = quick ? 20_000 : 100_000;
  return [
    { name: 'count()', program: `${TP} { @ = count(); }`, calls: n },
    { name: 'count() by comm', program: `${TP} { @[comm] = count(); }`, calls: n },
    { name: 'hist(tid)', program: `${TP} { @ = hist(tid); }`, calls: n },
    { name: 'string+int key sum()', program: `${TP} { @[comm, pid] = sum(tid); }`, calls: n },
    { name: 'printf per event', program: `${TP} { printf("%s %d\\n", comm, tid); }`, calls: printfN },
  ];
}

export interface PerEventRow {
  readonly name: string;
  readonly program: string;
  readonly calls: number;
  readonly nsPerEvent: Record<TracerName, number[]>;
  readonly insns: Record<TracerName, number[]>;
  readonly workloadNs: Record<TracerName | 'none', number[]>;
  readonly failures: string[];
}

export async function benchPerEvent(helpers: Helpers, reps: number, quick: boolean, log: (s: string) => void): Promise<PerEventRow[]> {
  const restore = enableBpfStats();
  const onSignal = () => {
    restore();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  const rows: PerEventRow[] = [];
  try {
    for (const c of perEventCases(quick)) {
      const row: PerEventRow = {
        name: c.name, program: c.program, calls: c.calls, failures: [],
        nsPerEvent: { tracelet: [], bpftrace: [] }, insns: { tracelet: [], bpftrace: [] },
        workloadNs: { tracelet: [], bpftrace: [], none: [] },
      };
      for (let rep = 0; rep < reps; rep++) {
        // The untraced workload, once per repetition, as the reference for the traced ones.
        const bare = await startWorkload(helpers, c.calls);
        row.workloadNs.none.push((await bare.go()) / c.calls);
        for (const tracer of alternate(rep)) {
          let measured = false;
          const r = await runTracer(helpers, tracer, ['-e', c.program], {
            stop: true,
            timeoutMs: 180_000,
            whileAttached: async (pid) => {
              const wl = await startWorkload(helpers, c.calls);
              const ns = await wl.go();
              await sleep(100);
              const progs = progInfo(programIdsOf(pid));
              const hot = progs.sort((a, b) => b.runCnt - a.runCnt)[0];
              if (!hot || hot.runCnt < c.calls) {
                row.failures.push(`${tracer}: program ran ${hot?.runCnt ?? 0} times for ${c.calls} calls`);
                return;
              }
              row.nsPerEvent[tracer].push(hot.runTimeNs / hot.runCnt);
              row.insns[tracer].push(hot.xlatedInsns);
              row.workloadNs[tracer].push(ns / c.calls);
              measured = true;
            },
          });
          if (!measured) row.failures.push(`${tracer}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        }
      }
      const t = summarize(row.nsPerEvent.tracelet);
      const b = summarize(row.nsPerEvent.bpftrace);
      log(`  ${c.name.padEnd(22)} ns/event tracelet ${fmtSummary(t, 1)}  bpftrace ${fmtSummary(b, 1)}  ratio ${ratio(t, b)}`
        + `  insns ${fmt(summarize(row.insns.tracelet).median)} vs ${fmt(summarize(row.insns.bpftrace).median)}`
        + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
      rows.push(row);
    }
  } finally {
    process.off('SIGINT', onSignal);
    restore();
  }
  return rows;
}
