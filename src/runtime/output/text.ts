// bpftrace 0.17's text output (TextOutput), byte for byte.
import type { Type } from '../../model/types.js';
import { histToText, lhistToText } from './hist.js';
import { typedMapText, writeTypedMap } from './typed-dump.js';
import { tseriesRows, tseriesText } from './tseries.js';
import type {
  BenchOutcome, Formatter, HelperError, MapEntry, MapSnapshot, PrintOptions, ScriptLocation, ScriptMessage, TestOutcome, TypedValue,
} from './model.js';
import {
  aggregateValue, applyTop, average, divisor, emitJoined, sortEntries, textKeyFormatter, valueToText,
} from './values.js';

/** Value types after which bpftrace puts no newline between map entries (their text ends in one, or is a quirk). */
function elementDelimiter(valueType: Type): string {
  switch (valueType.kind) {
    case 'kstack': case 'ustack': case 'ksym': case 'usym': case 'inet':
      return '';
    default:
      return '\n';
  }
}

/** The text of one map as print(@m, top, div) and the exit print it. */
export function mapToText(snapshot: MapSnapshot, options: PrintOptions = {}): string {
  const pieces: string[] = [];
  mapTextPieces(snapshot, options, (piece) => pieces.push(piece));
  return pieces.length === 1 ? pieces[0]! : pieces.join('');
}

/**
 * mapToText's text in pieces of about MAP_PIECE characters (values.ts), in order, each made as
 * the entries are formatted: a map of thousands of stacks is never one string (nor its entries'
 * texts all at once), which had the exit print's memory peak at twice the text's size.
 */
export function mapTextPieces(snapshot: MapSnapshot, options: PrintOptions, emit: (piece: string) => void): void {
  const { spec } = snapshot;
  const typed = snapshot.raw && !options.top && !options.div ? typedMapText(spec, snapshot.raw) : undefined;
  if (typed !== undefined) return emit(typed);
  const div = divisor(options.div);
  const sorted = sortEntries(snapshot);
  const textKey = textKeyFormatter(spec);
  const joined = (elems: readonly MapEntry[], text: (e: MapEntry) => string, separator: string, end: string) =>
    emitJoined(elems, text, { separator, end }, emit);
  switch (spec.kind) {
    case 'hist':
    case 'lhist':
      return joined(applyTop(sorted, options.top), (e) => textKey(e.key) + ': \n' + histValueText(snapshot, e, div), '\n', '\n');
    case 'stats':
      // print()'s top and div are ignored for stats() maps (bpftrace warns at compile time).
      return joined(sorted, (e) => {
        const { count, total } = statsOf(e);
        return `${textKey(e.key)}: count ${count}, average ${average(count, total)}, total ${BigInt.asIntN(64, total)}`;
      }, '\n', '\n\n');
    case 'avg':
      return joined(applyTop(sorted, options.top), (e) => {
        const { count, total } = statsOf(e);
        return `${textKey(e.key)}: ${average(count, total) / div}`;
      }, '\n', '\n\n');
    case 'count':
    case 'sum':
    case 'min':
    case 'max':
      return joined(applyTop(sorted, options.top), (e) =>
        `${textKey(e.key)}: ${div === 1n ? aggregateValue(spec, e) : aggregateValue(spec, e) / div}`, '\n', '\n');
    case 'tseries': {
      // Each series under its own `@m[key]:` line, a blank line after it (0.26).
      const signed = spec.valueType.kind === 'aggregation' && spec.valueType.signed;
      if (!spec.tseries) return emit('');
      const rows = tseriesRows(snapshot, spec.tseries);
      return emitJoined(rows, ({ entry, rows: r }) => `${textKey(entry.key)}:\n${tseriesText(r, spec.tseries!, signed)}\n`, {}, emit);
    }
    case 'scalar':
      return joined(applyTop(sorted, options.top), (e) =>
        `${textKey(e.key)}: ${e.value.kind === 'scalar' ? valueToText(spec.valueType, e.value.value, 'value', div) : ''}`,
      elementDelimiter(spec.valueType), '\n');
  }
}


export function statsOf(e: MapEntry): { count: bigint; total: bigint } {
  return e.value.kind === 'avg' || e.value.kind === 'stats'
    ? { count: BigInt.asIntN(64, e.value.count), total: e.value.total }
    : { count: 0n, total: 0n };
}

function histValueText(snapshot: MapSnapshot, e: MapEntry, div: bigint): string {
  if (e.value.kind !== 'hist' && e.value.kind !== 'lhist') return '';
  if (snapshot.spec.kind === 'lhist') {
    const p = snapshot.spec.lhist;
    return p ? lhistToText(e.value.buckets, p) : '';
  }
  return histToText(e.value.buckets, div);
}

/** `stdin:2:3-9: WARNING: ...`, the source line (tabs as 4 spaces) and a `~` underline. */
export function helperErrorText(e: HelperError): string {
  const result = e.retcode < 0 ? `${strerror(-e.retcode)} (${e.retcode})` : String(e.retcode);
  const msg = `Failed to ${e.helper}: ${result}`;
  const expand = (s: string) => s.replace(/\t/g, '    ');
  const prefix = expand(e.sourceLine.slice(0, Math.max(0, e.column - 1))).replace(/[^ ]/g, ' ');
  const width = Math.max(1, e.endColumn - e.column);
  return `${e.file}:${e.line}:${e.column}-${e.endColumn}: WARNING: ${msg}\n` +
    `${expand(e.sourceLine)}\n${prefix}${'~'.repeat(width)}\n`;
}

/** `file:line:column-endColumn`, or `file:line-endLine` for a place over several lines (bpftrace's SourceLocation). */
export function scriptLocationText(l: ScriptLocation): string {
  return l.line === l.endLine ? `${l.file}:${l.line}:${l.column}-${l.endColumn}` : `${l.file}:${l.line}-${l.endLine}`;
}

/**
 * The source under a located message, as bpftrace 0.2x shows it: a place on one line is that line
 * (tabs as 4 spaces) and a `~` under each column of the place (4 under a tab); a place over
 * several lines is those lines as they are.
 */
function sourceContext(l: ScriptLocation): string {
  if (l.line !== l.endLine) return l.lines.map((line) => `${line}\n`).join('');
  const line = l.lines[0] ?? '';
  let marks = '';
  for (let x = 0; x < line.length && x < l.endColumn - 1; x++) {
    const mark = x < l.column - 1 ? ' ' : '~';
    marks += line[x] === '\t' ? mark.repeat(4) : mark;
  }
  return `${line.replace(/\t/g, '    ')}\n${marks}\n`;
}

/**
 * errorf()/warnf() as bpftrace 0.2x logs it: `stdin:1:9-24: ERROR: text` (one trailing newline of
 * the text dropped), then `... ERROR: expanded from` and the source of each macro call it came from.
 */
export function scriptMessageText(m: ScriptMessage): string {
  const tag = m.severity === 'error' ? 'ERROR' : 'WARNING';
  const [call, ...expansions] = m.locations;
  const text = m.text.endsWith('\n') ? m.text.slice(0, -1) : m.text;
  let out = call ? `${scriptLocationText(call)}: ${tag}: ${text}\n` : `${tag}: ${text}\n`;
  for (const l of expansions) out += `${scriptLocationText(l)}: ${tag}: expanded from\n${sourceContext(l)}`;
  return out;
}

export const textFormatter: Formatter = {
  attachedProbes(count: number): string {
    return `Attaching ${count} ${count === 1 ? 'probe' : 'probes'}...\n`;
  },
  printf(text: string): string {
    return text;
  },
  time(text: string): string {
    return text;
  },
  value(v: TypedValue): string {
    return valueToText(v.type, v.value) + '\n';
  },
  map(snapshot: MapSnapshot, options?: PrintOptions): string {
    return mapToText(snapshot, options);
  },
  mapPieces(snapshot: MapSnapshot, emit: (piece: string) => void): void {
    mapTextPieces(snapshot, {}, emit);
  },
  writeMap(snapshot: MapSnapshot, write: (bytes: Uint8Array) => void): boolean {
    return snapshot.raw !== undefined && writeTypedMap(snapshot.spec, snapshot.raw, false, write);
  },
  join(text: string): string {
    return text + '\n';
  },
  cat(text: string): string {
    return text;
  },
  system(text: string): string {
    return text;
  },
  exitSeparator(): string {
    return '\n\n';
  },
  testResult: testResultText,
  benchResult: benchResultText,
  lostEvents(count: number): string {
    return `Lost ${count} events\n`;
  },
  helperError(e: HelperError): string {
    return helperErrorText(e);
  },
  helperErrorIsWarning: true,
  scriptMessage: scriptMessageText,
};

const ERRNO: Record<number, string> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 3: 'No such process',
  4: 'Interrupted system call', 5: 'Input/output error', 6: 'No such device or address',
  7: 'Argument list too long', 8: 'Exec format error', 9: 'Bad file descriptor',
  10: 'No child processes', 11: 'Resource temporarily unavailable', 12: 'Cannot allocate memory',
  13: 'Permission denied', 14: 'Bad address', 15: 'Block device required',
  16: 'Device or resource busy', 17: 'File exists', 18: 'Invalid cross-device link',
  19: 'No such device', 20: 'Not a directory', 21: 'Is a directory', 22: 'Invalid argument',
  23: 'Too many open files in system', 24: 'Too many open files',
  25: 'Inappropriate ioctl for device', 26: 'Text file busy', 27: 'File too large',
  28: 'No space left on device', 29: 'Illegal seek', 30: 'Read-only file system',
  31: 'Too many links', 32: 'Broken pipe', 33: 'Numerical argument out of domain',
  34: 'Numerical result out of range', 35: 'Resource deadlock avoided', 36: 'File name too long',
  38: 'Function not implemented', 61: 'No data available', 62: 'Timer expired',
  75: 'Value too large for defined data type', 90: 'Message too long',
  95: 'Operation not supported', 105: 'No buffer space available', 110: 'Connection timed out',
};

/** glibc's strerror text for the errnos BPF helpers return. */
export function strerror(errno: number): string {
  return ERRNO[errno] ?? `Unknown error ${errno}`;
}

/**
 * --test's report, as bpftrace 0.25 prints it (gtest's words): RUN and OK/FAILED per test, what a
 * failed test printed between them, and a summary after the last. Unlike bpftrace the time is the
 * test's own (bpftrace prints its unit's size), and colours only on a terminal.
 */
function testResultText(names: readonly string[], results: readonly TestOutcome[], color: boolean): string {
  const green = (s: string) => (color ? `\x1b[32m${s}\x1b[0m` : s);
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  const tests = (n: number) => `${n} ${n === 1 ? 'test' : 'tests'}`;
  const r = results[results.length - 1]!;
  let out = results.length === 1 ? `${green('[==========]')} Running ${tests(names.length)}.\n` : '';
  out += `${green('[ RUN      ]')} ${r.name}\n`;
  if (!r.passed) out += r.output.split('\n').filter((line) => line !== '').map((line) => `${line}\n`).join('');
  out += `${r.passed ? green('[       OK ]') : red('[  FAILED  ]')} ${r.name} (${durationText(r.durationNs)})\n`;
  if (results.length < names.length) return out;
  const failed = results.filter((t) => !t.passed);
  out += `${green('[==========]')} ${tests(names.length)} ran.\n`;
  out += `${green('[  PASSED  ]')} ${tests(results.length - failed.length)}.\n`;
  if (failed.length > 0) {
    out += `${red('[  FAILED  ]')} ${tests(failed.length)}, listed below:\n`;
    for (const t of failed) out += `${red('[  FAILED  ]')} ${t.name}\n`;
  }
  return out;
}

/** A duration in its largest whole unit (ns, us, ms, s), as bpftrace chooses the unit. */
function durationText(ns: number): string {
  for (const [unit, size] of [['s', 1e9], ['ms', 1e6], ['us', 1e3]] as const) {
    if (ns >= size) return `${Math.floor(ns / size)} ${unit}`;
  }
  return `${ns} ns`;
}

/** --bench's table, as bpftrace 0.25 prints it: names padded to 40 (or the longest), then time and iterations. */
function benchResultText(names: readonly string[], result: BenchOutcome, first: boolean): string {
  const width = Math.max(40, ...names.map((n) => n.length)) + 1;
  const TIME_WIDTH = 15;
  const head = first ? `${'Benchmark'.padEnd(width)}${'Time(ns)'.padEnd(TIME_WIDTH)}Iterations\n${'-'.repeat(width + TIME_WIDTH + 'Iterations'.length)}\n` : '';
  return `${head}${result.name.padEnd(width)}${String(result.averageNs).padEnd(TIME_WIDTH)}${result.iterations}\n`;
}
