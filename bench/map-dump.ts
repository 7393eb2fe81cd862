// Map dump: time from SIGINT to exit when a map holds ~100k keys (one per getppid() call, keyed by
// nsecs), against the same program with one key. Both tracers detach first and then print, so the
// difference of the two is the time to read, sort and print the map.
import { alternate, fmtSummary, ratio, runTracer, startWorkload, summarize, type Helpers, type TracerName } from './lib.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_getppid { @[nsecs] = count(); }';

export interface MapDumpRow {
  readonly keys: number;
  readonly stopMs: Record<TracerName, number[]>;
  readonly printed: Record<TracerName, number[]>;
  readonly failures: string[];
}

export async function benchMapDump(helpers: Helpers, reps: number, quick: boolean, log: (s: string) => void): Promise<MapDumpRow[]> {
  const rows: MapDumpRow[] = [];
  for (const keys of [1, quick ? 50_000 : 100_000]) {
    const row: MapDumpRow = { keys, stopMs: { tracelet: [], bpftrace: [] }, printed: { tracelet: [], bpftrace: [] }, failures: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const tracer of alternate(rep)) {
        const r = await runTracer(helpers, tracer, ['-e', PROGRAM], {
          stop: true,
          keepStdout: true,
          timeoutMs: 180_000,
          env: { BPFTRACE_MAP_KEYS_MAX: '200000' },
          whileAttached: async () => {
            const wl = await startWorkload(helpers, keys);
            await wl.go();
          },
        });
        const printed = r.stdout.split('\n').filter((l) => l.startsWith('@[')).length;
        if (r.code !== 0) {
          row.failures.push(`${tracer}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        if (printed < keys * 0.99) row.failures.push(`${tracer}: printed ${printed} keys of ${keys}`);
        row.stopMs[tracer].push(r.stopMs);
        row.printed[tracer].push(printed);
      }
    }
    const t = summarize(row.stopMs.tracelet);
    const b = summarize(row.stopMs.bpftrace);
    log(`  ${String(keys).padStart(6)} keys: SIGINT→exit ms tracelet ${fmtSummary(t)}  bpftrace ${fmtSummary(b)}  ratio ${ratio(t, b)}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return rows;
}

/**
 * The dump's own time (ms) for each tracer: the median SIGINT→exit of the big map minus that of
 * the 1-key one (the fixed cost of stopping); undefined unless both rows were measured.
 */
export function dumpAloneMs(rows: readonly MapDumpRow[]): Record<TracerName, number> | undefined {
  const [one, big] = rows;
  if (!one || !big || rows.length !== 2) return undefined;
  const alone = (k: TracerName) => summarize(big.stopMs[k]).median - summarize(one.stopMs[k]).median;
  return { tracelet: alone('tracelet'), bpftrace: alone('bpftrace') };
}
