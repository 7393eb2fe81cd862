// Event throughput: printf events per second delivered to the output. The workload makes getppid()
// calls at a fixed offered rate for about a second; each fires one printf. We count the lines that
// arrive and the `Lost N events` both tracers report, and find the highest rate delivered without
// loss. Unpaced means as fast as the workload can go while traced (the tracer slows it down).
import { alternate, runTracer, sleep, startWorkload, type Helpers, type TracerName } from './lib.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_getppid { printf("E %d\\n", tid); }';

export interface ThroughputPoint {
  /** Offered calls per second (0: unpaced). */
  readonly offered: number;
  readonly calls: number;
  /** Achieved calls per second of the traced workload. */
  readonly achieved: number;
  readonly delivered: number;
  readonly lost: number;
  /** The tracer's peak resident memory (MiB) and CPU time (ms) over the run (wait4's rusage). */
  readonly rssMib: number;
  readonly cpuMs: number;
}

export interface ThroughputResult {
  readonly program: string;
  readonly points: Record<TracerName, ThroughputPoint[]>;
  readonly failures: string[];
}

export async function benchThroughput(helpers: Helpers, reps: number, quick: boolean, log: (s: string) => void): Promise<ThroughputResult> {
  const rates = quick ? [50_000, 200_000, 0] : [25_000, 50_000, 100_000, 200_000, 400_000, 0];
  const seconds = quick ? 0.5 : 1;
  const result: ThroughputResult = { program: PROGRAM, points: { tracelet: [], bpftrace: [] }, failures: [] };
  for (const offered of rates) {
    // Unpaced: a fixed count, large enough to overrun a slow consumer.
    const calls = offered === 0 ? (quick ? 300_000 : 500_000) : Math.round(offered * seconds);
    for (let rep = 0; rep < reps; rep++) {
      for (const tracer of alternate(rep)) {
        let elapsedNs = NaN;
        const r = await runTracer(helpers, tracer, ['-e', PROGRAM], {
          stop: true,
          timeoutMs: 180_000,
          whileAttached: async () => {
            const wl = await startWorkload(helpers, calls, offered);
            elapsedNs = await wl.go();
            await sleep(500); // let the consumer catch up before the stop
          },
        });
        if (Number.isNaN(elapsedNs)) {
          result.failures.push(`${tracer} @${offered}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        const p: ThroughputPoint = {
          offered, calls, achieved: calls / (elapsedNs / 1e9), delivered: r.eBytes, lost: r.lost, rssMib: r.rssKb / 1024, cpuMs: r.cpuMs,
        };
        result.points[tracer].push(p);
        log(`  ${tracer.padEnd(8)} offered ${offered ? `${offered / 1000}k/s` : 'unpaced'}: achieved ${(p.achieved / 1000).toFixed(0)}k/s,`
          + ` delivered ${p.delivered}/${calls}, lost ${p.lost}, peak RSS ${p.rssMib.toFixed(1)} MiB, CPU ${p.cpuMs.toFixed(0)} ms`);
      }
    }
  }
  return result;
}

/** The highest achieved rate at which every event of every repetition was delivered. */
export function maxLossless(points: readonly ThroughputPoint[]): number {
  const byOffered = new Map<number, ThroughputPoint[]>();
  for (const p of points) byOffered.set(p.offered, [...(byOffered.get(p.offered) ?? []), p]);
  let best = 0;
  for (const ps of byOffered.values()) {
    if (ps.every((p) => p.lost === 0 && p.delivered >= p.calls)) {
      best = Math.max(best, Math.min(...ps.map((p) => p.achieved)));
    }
  }
  return best;
}

/** The lowest offered rate at which some repetition lost events (0: none lost). */
export function lossStarts(points: readonly ThroughputPoint[]): ThroughputPoint | undefined {
  return [...points]
    .filter((p) => p.lost > 0 || p.delivered < p.calls)
    .sort((a, b) => a.achieved - b.achieved)[0];
}
