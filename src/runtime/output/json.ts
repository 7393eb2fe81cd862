// bpftrace 0.17's JSON output (JsonOutput, `-f json`): one object per line, with bpftrace's own
// spacing (`{"type": "map", "data": {...}}`: `": "` and `", "` separators, but tuples and arrays
// joined with a bare `,`).
import { histToJson, lhistToJson } from './hist.js';
import { typedMapJson, writeTypedMap } from './typed-dump.js';
import { tseriesJson, tseriesRows } from './tseries.js';
import type {
  BenchOutcome, Formatter, HelperError, MapEntry, MapSnapshot, PrintOptions, ScriptMessage, TestOutcome, TypedValue,
} from './model.js';
import { statsOf } from './text.js';
import {
  aggregateValue, applyTop, average, divisor, emitJoined, hasKey, jsonEscape, jsonKeyFormatter, sortEntries, valueToJson,
} from './values.js';

function message(type: string, text: string): string {
  return `{"type": "${type}", "data": "${jsonEscape(text)}"}\n`;
}

function keyval(key: string, val: string): string {
  return key === '' ? val : `${key}: ${val}`;
}

/** The JSON line of one map; empty maps print nothing at all (unlike text mode). */
export function mapToJson(snapshot: MapSnapshot, options: PrintOptions = {}): string {
  const pieces: string[] = [];
  mapJsonPieces(snapshot, options, (piece) => pieces.push(piece));
  return pieces.length === 1 ? pieces[0]! : pieces.join('');
}

/** mapToJson's line in pieces of about MAP_PIECE characters, made as the entries are formatted. */
export function mapJsonPieces(snapshot: MapSnapshot, options: PrintOptions, emit: (piece: string) => void): void {
  const { spec } = snapshot;
  const typed = snapshot.raw && !options.top && !options.div ? typedMapJson(spec, snapshot.raw) : undefined;
  if (typed !== undefined) return emit(typed);
  if (snapshot.entries.length === 0) return emit('');
  const div = divisor(options.div);
  const keyed = hasKey(spec);
  const sorted = sortEntries(snapshot);
  const jsonKey = jsonKeyFormatter(spec);
  const key = (e: MapEntry) => jsonKey(e.key);
  /** `{"type": TYPE, "data": {"@name": {k: v, ...}}}` (no braces around an unkeyed value). */
  const wrapped = <T>(type: string, elems: readonly T[], text: (e: T) => string) => emitJoined(elems, text, {
    start: `{"type": "${type}", "data": {"${jsonEscape(spec.name)}": ${keyed ? '{' : ''}`,
    separator: ', ',
    end: `${keyed ? '}' : ''}}}\n`,
  }, emit);
  switch (spec.kind) {
    case 'hist':
    case 'lhist':
      return wrapped('hist', applyTop(sorted, options.top), (e) => {
        let v = '[]';
        if (e.value.kind === 'hist' || e.value.kind === 'lhist') {
          if (spec.kind === 'lhist') v = spec.lhist ? lhistToJson(e.value.buckets, spec.lhist) : '[]';
          else v = histToJson(e.value.buckets, div);
        }
        return keyval(key(e), v);
      });
    case 'stats':
      return wrapped('stats', sorted, (e) => {
        const { count, total } = statsOf(e);
        return keyval(key(e), `{"count": ${count}, "average": ${average(count, total)}, "total": ${BigInt.asIntN(64, total)}}`);
      });
    case 'avg':
      return wrapped('stats', applyTop(sorted, options.top), (e) => {
        const { count, total } = statsOf(e);
        return keyval(key(e), String(average(count, total) / div));
      });
    case 'count':
    case 'sum':
    case 'min':
    case 'max':
      return wrapped('map', applyTop(sorted, options.top), (e) => keyval(key(e), String(aggregateValue(spec, e) / div)));
    case 'tseries': {
      const p = spec.tseries;
      return wrapped('tseries', p ? tseriesRows(snapshot, p) : [], ({ entry, rows }) => keyval(key(entry), tseriesJson(rows, p!)));
    }
    case 'scalar':
      return wrapped('map', applyTop(sorted, options.top), (e) =>
        keyval(key(e), e.value.kind === 'scalar' ? valueToJson(spec.valueType, e.value.value, div) : ''));
  }
}

export const jsonFormatter: Formatter = {
  attachedProbes(count: number): string {
    return `{"type": "attached_probes", "data": {"probes": ${count}}}\n`;
  },
  printf(text: string): string {
    return message('printf', text);
  },
  time(text: string): string {
    return message('time', text);
  },
  value(v: TypedValue): string {
    return `{"type": "value", "data": ${valueToJson(v.type, v.value)}}\n`;
  },
  map(snapshot: MapSnapshot, options?: PrintOptions): string {
    return mapToJson(snapshot, options);
  },
  mapPieces(snapshot: MapSnapshot, emit: (piece: string) => void): void {
    mapJsonPieces(snapshot, {}, emit);
  },
  writeMap(snapshot: MapSnapshot, write: (bytes: Uint8Array) => void): boolean {
    return snapshot.raw !== undefined && writeTypedMap(snapshot.spec, snapshot.raw, true, write);
  },
  join(text: string): string {
    return message('join', text);
  },
  cat(text: string): string {
    return message('cat', text);
  },
  system(text: string): string {
    return message('syscall', text);
  },
  exitSeparator(): string {
    return '\n\n';
  },
  // As bpftrace 0.25: one record per test or bench, keyed by its name.
  testResult(_names: readonly string[], results: readonly TestOutcome[]): string {
    const r = results[results.length - 1]!;
    return `{"type": "test_result", "data": {"${jsonEscape(r.name)}": {"duration": ${r.durationNs}, "passed": ${r.passed}, "output": "${jsonEscape(r.output)}"}}}\n`;
  },
  benchResult(_names: readonly string[], r: BenchOutcome): string {
    return `{"type": "benchmark_result", "data": {"${jsonEscape(r.name)}": {"average": ${r.averageNs}, "iters": ${r.iterations}}}}\n`;
  },
  lostEvents(count: number): string {
    return `{"type": "lost_events", "data": {"events": ${count}}}\n`;
  },
  helperError(e: HelperError): string {
    return `{"type": "helper_error", "helper": "${e.helper}", "retcode": ${e.retcode}, "line": ${e.line}, "col": ${e.column}}\n`;
  },
  // As bpftrace 0.2x: the text as formatted (its newline kept), at the call (not the macro calls).
  scriptMessage(m: ScriptMessage): string {
    const at = m.locations[0];
    const where = at ? `, "filename": "${jsonEscape(at.file)}", "line": ${at.line}, "col": ${at.column}` : '';
    return `{"type": "${m.severity === 'error' ? 'errorf' : 'warnf'}", "msg": "${jsonEscape(m.text)}"${where}}\n`;
  },
};
