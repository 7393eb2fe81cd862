// The printf overhead run of issue 17: a printf on every syscall of one process, output to a
// file, while a pinned workload (bench/c/workload.c named "helpers", on CPU 1) makes getppid()
// syscalls at an offered rate in bursts of 1000. Per tracer and rate: the workload's achieved
// rate (what the traced process feels), the event lines that reached the file (those of its
// getppid calls: exactly N are due) and the `Lost N events` reported. Untraced: the workload alone.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, fmt, runTracer, sleep, startReadyProcess, summarize, type Helpers, type TracerName } from './lib.js';

export const PRINTF_OVERHEAD_PROGRAM = 'tracepoint:raw_syscalls:sys_enter /comm == "helpers"/ { printf("%d %s %d\\n", pid, comm, args->id); }';
const GETPPID = 110; // x86-64 syscall number
const WORKLOAD_CPU = 1;

export interface OverheadPoint {
  readonly offered: number;
  readonly calls: number;
  readonly achieved: number;
  /** Lines of the workload's getppid() calls in the output file. */
  readonly delivered: number;
  readonly lost: number;
}

export interface OverheadResult {
  readonly program: string;
  readonly points: Record<TracerName | 'untraced', OverheadPoint[]>;
  readonly failures: string[];
}

/** Runs the workload; resolves with its achieved calls per second. */
async function workload(helpers: Helpers, calls: number, rate: number): Promise<number> {
  const wl = await startReadyProcess(helpers.syscallHelpers, [String(calls), String(rate), String(WORKLOAD_CPU), '1000']);
  const ns = await wl.go();
  return calls / (ns / 1e9);
}

export async function benchPrintfOverhead(helpers: Helpers, reps: number, quick: boolean, log: (s: string) => void): Promise<OverheadResult> {
  const rates = [200_000, 600_000, 1_000_000];
  const seconds = quick ? 0.5 : 1;
  const result: OverheadResult = { program: PRINTF_OVERHEAD_PROGRAM, points: { tracelet: [], bpftrace: [], untraced: [] }, failures: [] };
  const out = join(helpers.dir, 'printf-overhead.out');
  for (const offered of rates) {
    const calls = Math.round(offered * seconds);
    for (let rep = 0; rep < reps; rep++) {
      const alone = await workload(helpers, calls, offered);
      result.points.untraced.push({ offered, calls, achieved: alone, delivered: 0, lost: 0 });
      for (const tracer of alternate(rep)) {
        let achieved = NaN;
        rmSync(out, { force: true });
        const r = await runTracer(helpers, tracer, ['-o', out, '-e', PRINTF_OVERHEAD_PROGRAM], {
          stop: true,
          timeoutMs: 300_000,
          whileAttached: async () => {
            achieved = await workload(helpers, calls, offered);
            await sleep(500); // let the consumer catch up before the stop
          },
        });
        let text = '';
        try {
          text = readFileSync(out, 'latin1');
        } catch {
          // no output file
        }
        if (Number.isNaN(achieved) || r.code !== 0) {
          result.failures.push(`${tracer} @${offered}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        const suffix = ` helpers ${GETPPID}\n`;
        let delivered = 0;
        for (let i = text.indexOf(suffix); i >= 0; i = text.indexOf(suffix, i + 1)) delivered++;
        const lost = [...text.matchAll(/Lost (\d+) events/g)].reduce((n, m) => n + Number(m[1]), r.lost);
        const p: OverheadPoint = { offered, calls, achieved, delivered, lost };
        result.points[tracer].push(p);
        log(`  ${tracer.padEnd(8)} offered ${offered / 1000}k/s: achieved ${(achieved / 1000).toFixed(0)}k/s (alone ${(alone / 1000).toFixed(0)}k/s),`
          + ` delivered ${delivered}/${calls}, lost ${lost}`);
      }
    }
  }
  rmSync(out, { force: true });
  return result;
}

/** The section of bench/RESULTS.md. */
export function printfOverheadSection(r: OverheadResult): string[] {
  const L: string[] = ['## printf overhead run (issue 17)', ''];
  L.push(`\`${r.program}\` with \`-o FILE\`, while bench/c/workload.c compiled as \`helpers\` (its comm; pinned to CPU ${WORKLOAD_CPU}) makes `
    + 'getppid() calls at the offered rate in bursts of 1000 for about a second; the tracers are not pinned. '
    + '*achieved*: the workload\'s calls per second while traced (untraced: alone, in the same repetition); '
    + '*delivered*: lines of its getppid() calls in the file (N are due); *lost*: the sum of `Lost N events`. '
    + 'Medians over the repetitions; delivered and lost list every repetition.', '');
  L.push('| offered/s | untraced achieved/s | tracelet achieved/s | delivered / N | lost | bpftrace achieved/s | delivered / N | lost | achieved tracelet ÷ bpftrace |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  const offers = [...new Set(r.points.untraced.map((p) => p.offered))];
  for (const o of offers) {
    const at = (k: TracerName | 'untraced') => r.points[k].filter((p) => p.offered === o);
    const achieved = (k: TracerName | 'untraced') => summarize(at(k).map((p) => p.achieved)).median;
    const cells = (k: TracerName) => at(k).length === 0 ? 'n/a | n/a | n/a'
      : `${fmt(achieved(k))} | ${at(k).map((p) => `${fmt(p.delivered)}/${fmt(p.calls)}`).join(', ')} | ${at(k).map((p) => fmt(p.lost)).join(', ')}`;
    L.push(`| ${fmt(o)} | ${fmt(achieved('untraced'))} | ${cells('tracelet')} | ${cells('bpftrace')} | ${(achieved('tracelet') / achieved('bpftrace')).toFixed(2)}× |`);
  }
  if (r.failures.length) L.push('', 'Failed runs:', '', ...r.failures.map((f) => `- ${f}`));
  L.push('');
  return L;
}
