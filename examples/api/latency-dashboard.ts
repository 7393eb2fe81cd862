// A terminal dashboard of read() latency by process, redrawn every second from the live maps.
// Run as root: npx tsx examples/api/latency-dashboard.ts [seconds]
// (tsx runs TypeScript as is; or compile it with tsc). Ctrl-C stops it; everything is detached before it exits.
import { trace, TraceletError, type MapValue, type TracedMap } from 'tracelet';

const seconds = Number(process.argv[2] ?? 10);
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
setTimeout(() => controller.abort(), seconds * 1000);

const program = `
tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }
tracepoint:syscalls:sys_exit_read /@start[tid]/ {
  @usecs[comm] = hist((nsecs - @start[tid]) / 1000);
  @reads[comm] = count();
  delete(@start[tid]);
}`;

/** The value below which a share `q` of the histogram's values lie (bucket upper bound). */
function quantile(value: MapValue, q: number): bigint | undefined {
  if (value.kind !== 'hist') return undefined;
  const total = value.buckets.reduce((n, b) => n + b.count, 0n);
  let seen = 0n;
  for (const b of value.buckets) {
    seen += b.count;
    if (total > 0n && Number(seen) >= q * Number(total)) return b.max ?? b.min;
  }
  return undefined;
}

function draw(usecs: TracedMap | undefined, reads: TracedMap | undefined): void {
  const counts = new Map((reads?.entries ?? []).map((e) => [e.key[0] as string, e.value.kind === 'count' ? e.value.value : 0n]));
  const rows = (usecs?.entries ?? [])
    .map((e) => ({ comm: e.key[0] as string, p50: quantile(e.value, 0.5), p99: quantile(e.value, 0.99), n: counts.get(e.key[0] as string) ?? 0n }))
    .sort((a, b) => Number(b.n - a.n))
    .slice(0, 15);
  const lines = rows.map((r) => `${r.comm.padEnd(16)} ${String(r.n).padStart(10)} ${String(r.p50 ?? '-').padStart(10)} ${String(r.p99 ?? '-').padStart(10)}`);
  process.stdout.write(`\x1b[2J\x1b[H${'COMM'.padEnd(16)} ${'READS'.padStart(10)} ${'p50 us'.padStart(10)} ${'p99 us'.padStart(10)}\n${lines.join('\n')}\n`);
}

try {
  const session = await trace(program, { signal: controller.signal });
  const timer = setInterval(async () => {
    const maps = await session.maps();
    draw(maps['@usecs'], maps['@reads']);
  }, 1000);
  const { maps } = await session.done;
  clearInterval(timer);
  draw(maps['@usecs'], maps['@reads']);
} catch (e) {
  if (!(e instanceof TraceletError)) throw e;
  process.stderr.write(e.message + '\n');
  process.exitCode = 1;
}
