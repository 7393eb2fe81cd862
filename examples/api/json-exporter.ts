// Every event of a program as one JSON object per line, then its maps: for log shippers and jq.
// bigints become decimal strings, stacks arrays of { address, symbol, offset, module }.
// Run as root: npx tsx examples/api/json-exporter.ts 'PROGRAM' [seconds]
import { trace, TraceletError } from 'tracelet';

const source = process.argv[2] ?? 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); @[comm] = count(); }';
const seconds = Number(process.argv[3] ?? 5);

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v));

try {
  const session = await trace(source, { signal: AbortSignal.timeout(seconds * 1000) });
  for await (const event of session.events()) {
    process.stdout.write(json({ time: new Date().toISOString(), ...event }) + '\n');
  }
  const { reason, maps } = await session.done;
  for (const map of Object.values(maps)) process.stdout.write(json({ ...map, kind: 'map', aggregation: map.kind, reason }) + '\n');
} catch (e) {
  if (!(e instanceof TraceletError)) throw e;
  // The program's errors as data: one JSON object each.
  for (const d of e.diagnostics) process.stderr.write(json({ file: d.file, line: d.line, column: d.column, code: d.code, message: d.message, hint: d.hint }) + '\n');
  if (e.diagnostics.length === 0) process.stderr.write(e.message + '\n');
  process.exitCode = 1;
}
