// Values to text and JSON, map keys, and the order bpftrace 0.17 prints map entries in.
// Everything here mirrors bpftrace 0.17's output.cpp / bpftrace.cpp / mapkey.cpp behaviour,
// including its quirks (they are noted where they matter).
import type { MapSpec } from '../../model/program.js';
import { tupleLayout, type StackMode, type Type } from '../../model/types.js';
import { stringBytes } from '../../model/strings.js';
import type { MapEntry, MapSnapshot, Value } from './model.js';

// ---------------------------------------------------------------------------------------------
// integers

/** The value of an integer-like type, normalized to its width and signedness. */
export function normalizeInt(type: Type, v: Value): bigint {
  const n = typeof v === 'bigint' ? v : toBigInt(v);
  switch (type.kind) {
    case 'int':
      return type.signed ? BigInt.asIntN(type.bits, n) : BigInt.asUintN(type.bits, n);
    case 'bool':
      return n === 0n ? 0n : 1n;
    case 'pointer':
    case 'ksym':
    case 'usym':
      return BigInt.asUintN(64, n);
    default:
      return BigInt.asIntN(64, n);
  }
}

function toBigInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
}

/** C division of an integer by print()'s `div` (a uint32), with C's conversions for the type. */
export function divInt(type: Type, v: bigint, div: bigint): bigint {
  if (div === 1n) return v;
  if (type.kind === 'int' && type.signed && type.bits < 64) {
    // (intN_t)div, as bpftrace casts the divisor to the value's type.
    let d = BigInt.asIntN(type.bits, div);
    if (d === 0n) d = 1n;
    return v / d;
  }
  return v / div;
}

// ---------------------------------------------------------------------------------------------
// strings, buffers, stacks

/** Cut a decoded string at its first NUL, as bpftrace's strnlen does. */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

export type BufferStyle = 'ascii' | 'hex' | 'hexspaced';

/**
 * bpftrace's hex_format_buffer: `ascii` keeps printable ASCII (0x20-0x7e) and writes other bytes
 * as `\xNN` (print, map values, printf %r); `hex` writes every byte as `\xNN` (%rx); `hexspaced`
 * writes `NN NN NN` (%rh).
 */
export function formatBuffer(v: Value, style: BufferStyle = 'ascii'): string {
  let bytes: Uint8Array;
  if (v instanceof Uint8Array) bytes = v;
  else if (typeof v === 'string') {
    if (style === 'ascii') return v; // already escaped by the runtime
    bytes = Buffer.from(v, 'latin1');
  } else return '';
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (style === 'ascii' && b >= 32 && b <= 126) out += String.fromCharCode(b);
    else if (style === 'hexspaced') out += (i > 0 ? ' ' : '') + HEX2[b];
    else out += '\\x' + HEX2[b];
  }
  return out;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A stack as bpftrace's get_stack prints it: a newline, then each frame on its own line with
 * `indent` spaces (8 for values, 4 for map keys), a tab in perf mode, nothing in raw and build_id
 * modes. An empty stack is `''`.
 */
export function formatStack(frames: Value, mode: StackMode, indent: number): string {
  if (!Array.isArray(frames) || frames.length === 0) return '';
  const pad = mode === 'perf' ? '\t' : mode === 'raw' || mode === 'build_id' ? '' : ' '.repeat(indent);
  // One join: a string built frame by frame is a tree of thousands of pieces when a big map prints.
  return `\n${pad}${(frames as readonly Value[]).join(`\n${pad}`)}\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON

const JSON_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

/**
 * bpftrace 0.17's json_escape, byte by byte over the UTF-8 encoding. Its `char` is signed, so a
 * byte >= 0x80 passes the `c <= '\x1f'` test and prints as `\u` followed by the hex of the
 * sign-extended int: `é` (C3 A9) becomes `\uffffffc3\uffffffa9`. 0x7f passes through.
 */
export function jsonEscape(s: string): string {
  // Fast path: nothing to escape.
  if (!/["\\\x00-\x1f\u0080-\uffff]/.test(s)) return s;
  let out = '';
  const bytes = /[\u0080-\uffff]/.test(s) ? stringBytes(s) : undefined;
  const n = bytes ? bytes.length : s.length;
  for (let i = 0; i < n; i++) {
    const c = bytes ? bytes[i]! : s.charCodeAt(i);
    const e = JSON_ESCAPES[c];
    if (e !== undefined) out += e;
    else if (c <= 0x1f) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0x80) out += '\\u' + ((0xffffff00 | c) >>> 0).toString(16);
    else out += String.fromCharCode(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// values

export type ValueContext = 'value' | 'key';

/**
 * The text of a value as bpftrace prints it (Output::value_to_str for values, MapKey::argument_value
 * for map keys). `div` is print()'s divisor; bpftrace applies it to integers, also inside tuples.
 */
export function valueToText(type: Type, v: Value, ctx: ValueContext = 'value', div = 1n): string {
  switch (type.kind) {
    case 'int':
      return divInt(type, normalizeInt(type, v), div).toString();
    case 'bool':
      return (normalizeInt(type, v) / div).toString();
    case 'pointer':
      // 0.17: pointer keys print as hex; pointer values fall through to the int64 default.
      if (ctx === 'key') return '0x' + normalizeInt(type, v).toString(16);
      return (BigInt.asIntN(64, toBigInt(v)) / div).toString();
    case 'string':
      return typeof v === 'string' ? cString(v) : String(v);
    case 'buffer':
      return formatBuffer(v, 'ascii');
    case 'ksym':
    case 'usym':
      return typeof v === 'bigint' ? '0x' + BigInt.asUintN(64, v).toString(16) : String(v);
    case 'username':
    case 'strerror':
    case 'syscall_name':
    case 'signal_name':
    case 'enum_name':
    case 'cgroup_path':
    case 'inet':
    case 'timestamp':
      return typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? cString(v) : String(v);
    case 'kstack':
    case 'ustack':
      return formatStack(v, type.mode, ctx === 'key' ? 4 : 8);
    case 'tuple': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      const texts = type.elements.map((t, i) => valueToText(t, els[i] ?? 0n, ctx, div));
      // A record prints as bpftrace 0.26 prints one, strings quoted: { .a = 1, .b = "x" }.
      if (type.names) {
        const field = (x: string, i: number) => (type.elements[i]!.kind === 'string' ? `"${x}"` : x);
        return '{ ' + texts.map((x, i) => `.${type.names![i]} = ${field(x, i)}`).join(', ') + ' }';
      }
      return '(' + texts.join(', ') + ')';
    }
    case 'array': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      return '[' + els.map((e) => valueToText(type.element, e, ctx, div)).join(',') + ']';
    }
    case 'record': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      const fields = type.fields.map((f, i) => [f.name, valueToText(f.type, els[i] ?? 0n, ctx, div)] as const);
      // As bpftrace 0.17: `{ .a = 1, .p = -131387335722976 }` (a pointer as an int64), and as a map
      // key compact, `{.a=1,.p=0xffff88810086b820}` (a pointer in hex, as pointer keys print).
      return ctx === 'key'
        ? '{' + fields.map(([name, text]) => `.${name}=${text}`).join(',') + '}'
        : '{ ' + fields.map(([name, text]) => `.${name} = ${text}`).join(', ') + ' }';
    }
    case 'none':
      return '';
    case 'aggregation':
      return (BigInt.asIntN(64, toBigInt(v)) / div).toString();
  }
}

/** bpftrace's is_quoted_type: these print as JSON strings. (timestamp is not: a 0.17 quirk.) */
function isQuoted(t: Type): boolean {
  switch (t.kind) {
    case 'kstack': case 'ustack': case 'ksym': case 'usym': case 'inet': case 'username': case 'strerror': case 'syscall_name': case 'signal_name': case 'enum_name': case 'cgroup_path':
    case 'string': case 'buffer':
      return true;
    default:
      return false;
  }
}

/** An integer as a JSON number, or as a string when a double would round it (bpftrace 0.26). */
export function exactNumber(n: bigint): string {
  return BigInt(Number(n)) === n ? n.toString() : `"${n}"`;
}

/** The JSON text of a value (JsonOutput::value_to_str). */
export function valueToJson(type: Type, v: Value, div = 1n): string {
  switch (type.kind) {
    case 'tuple': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      const jsons = type.elements.map((t, i) => valueToJson(t, els[i] ?? 0n, div));
      // A record is a JSON object, as bpftrace 0.26 writes one.
      if (type.names) return '{' + jsons.map((x, i) => `${JSON.stringify(type.names![i])}: ${x}`).join(', ') + '}';
      return '[' + jsons.join(',') + ']';
    }
    case 'array': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      return '[' + els.map((e) => valueToJson(type.element, e, div)).join(',') + ']';
    }
    case 'record': {
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      // As bpftrace 0.17 writes one: { "a": 1, "p": -131387335722976 }, a pointer as an int64.
      return '{ ' + type.fields.map((f, i) => `"${f.name}": ${valueToJson(f.type, els[i] ?? 0n, div)}`).join(', ') + ' }';
    }
    default: {
      const s = valueToText(type, v, 'value', div);
      return isQuoted(type) ? '"' + jsonEscape(s) + '"' : s;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// map keys

/** The key element types of a map: the tuple's elements for a multi-key map, else the one type. */
export function keyElementTypes(spec: MapSpec): readonly Type[] {
  const k = spec.keyType;
  if (!k || k.kind === 'none') return [];
  return k.kind === 'tuple' ? k.elements : [k];
}

export function hasKey(spec: MapSpec): boolean {
  return keyElementTypes(spec).length > 0;
}

/**
 * The text of a key's elements (MapKey::argument_value_list) joined by `separator`, as a function
 * made once per map: a dump formats every key of the map the same way.
 */
function keyArgsFormatter(spec: MapSpec, separator: string): (key: readonly Value[] | undefined) => string {
  const types = keyElementTypes(spec).map(keyPrintType);
  if (types.length === 1) {
    const type = types[0]!;
    return (key) => (key ? valueToText(type, key[0] ?? 0n, 'key') : '');
  }
  return (key) => (key ? types.map((t, i) => valueToText(t, key[i] ?? 0n, 'key')).join(separator) : '');
}

/**
 * The type a key element prints as. bpftrace 0.17 widens every integer key to 64 bits (signed
 * ones sign-extended) and prints it as an int64 (MapKey::argument_value), so a uint64 key of 2^63
 * or more prints negative: `@x[(uint64)-1]` is `@x[-1]`. Narrower ones print as their own type.
 */
export function keyPrintType(t: Type): Type {
  return t.kind === 'int' && t.bits === 64 && !t.signed ? { ...t, signed: true } : t;
}

/** `@name[a, b]` (or `@name` for a map with no key), for each key of the map. */
export function textKeyFormatter(spec: MapSpec): (key: readonly Value[] | undefined) => string {
  if (!hasKey(spec)) return () => spec.name;
  const args = keyArgsFormatter(spec, ', ');
  const open = spec.name + '[';
  return (key) => open + args(key) + ']';
}

/** `"a,b"` (or '' for a map with no key), for each key of the map. */
export function jsonKeyFormatter(spec: MapSpec): (key: readonly Value[] | undefined) => string {
  if (!hasKey(spec)) return () => '';
  const args = keyArgsFormatter(spec, ',');
  return (key) => '"' + jsonEscape(args(key)) + '"';
}

// ---------------------------------------------------------------------------------------------
// ordering

/**
 * libstdc++'s std::sort (introsort, threshold 16, median-of-3, final insertion sort), which
 * bpftrace uses to order map entries. It is not stable, but it is deterministic: given the same
 * input order it leaves equal elements exactly where bpftrace's binary leaves them. Sorts in place.
 */
export function cxxSort<T>(a: T[], less: (x: T, y: T) => boolean): T[] {
  const n = a.length;
  if (n < 2) return a;
  introsortLoop(a, 0, n, 2 * Math.floor(Math.log2(n)), less);
  finalInsertionSort(a, 0, n, less);
  return a;
}

const THRESHOLD = 16;

function introsortLoop<T>(a: T[], first: number, last: number, depth: number, less: (x: T, y: T) => boolean): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      heapSort(a, first, last, less);
      return;
    }
    depth--;
    const mid = first + Math.floor((last - first) / 2);
    moveMedianToFirst(a, first, first + 1, mid, last - 1, less);
    const cut = unguardedPartition(a, first + 1, last, first, less);
    introsortLoop(a, cut, last, depth, less);
    last = cut;
  }
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function moveMedianToFirst<T>(a: T[], result: number, x: number, y: number, z: number, less: (p: T, q: T) => boolean): void {
  if (less(a[x]!, a[y]!)) {
    if (less(a[y]!, a[z]!)) swap(a, result, y);
    else if (less(a[x]!, a[z]!)) swap(a, result, z);
    else swap(a, result, x);
  } else if (less(a[x]!, a[z]!)) swap(a, result, x);
  else if (less(a[y]!, a[z]!)) swap(a, result, z);
  else swap(a, result, y);
}

function unguardedPartition<T>(a: T[], first: number, last: number, pivot: number, less: (x: T, y: T) => boolean): number {
  for (;;) {
    while (less(a[first]!, a[pivot]!)) first++;
    last--;
    while (less(a[pivot]!, a[last]!)) last--;
    if (!(first < last)) return first;
    swap(a, first, last);
    first++;
  }
}

function finalInsertionSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  if (last - first > THRESHOLD) {
    insertionSort(a, first, first + THRESHOLD, less);
    for (let i = first + THRESHOLD; i < last; i++) unguardedLinearInsert(a, i, less);
  } else insertionSort(a, first, last, less);
}

function insertionSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (less(a[i]!, a[first]!)) {
      const v = a[i]!;
      for (let j = i; j > first; j--) a[j] = a[j - 1]!;
      a[first] = v;
    } else unguardedLinearInsert(a, i, less);
  }
}

function unguardedLinearInsert<T>(a: T[], last: number, less: (x: T, y: T) => boolean): void {
  const v = a[last]!;
  let next = last - 1;
  while (less(v, a[next]!)) {
    a[last] = a[next]!;
    last = next;
    next--;
  }
  a[last] = v;
}

function heapSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  const len = last - first;
  if (len >= 2) {
    for (let parent = Math.floor((len - 2) / 2); ; parent--) {
      adjustHeap(a, first, parent, len, a[first + parent]!, less);
      if (parent === 0) break;
    }
  }
  while (last - first > 1) {
    last--;
    const v = a[last]!;
    a[last] = a[first]!;
    adjustHeap(a, first, 0, last - first, v, less);
  }
}

function adjustHeap<T>(a: T[], first: number, hole: number, len: number, value: T, less: (x: T, y: T) => boolean): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (less(a[first + child]!, a[first + child - 1]!)) child--;
    a[first + hole] = a[first + child]!;
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
    child = 2 * (child + 1);
    a[first + hole] = a[first + child - 1]!;
    hole = child - 1;
  }
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && less(a[first + parent]!, value)) {
    a[first + hole] = a[first + parent]!;
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  a[first + hole] = value;
}

/**
 * The bytes of a map key as the kernel stores it (little-endian integers, NUL-padded strings, C
 * tuple layout). bpftrace collects hist/lhist/avg/stats entries in a std::map keyed by these bytes,
 * so ties in their sort keep this order. Types whose bytes the formatter cannot know (stacks,
 * symbols) contribute zeros.
 */
export function keyBytes(types: readonly Type[], key: readonly Value[] | undefined): Uint8Array {
  const { offsets, size } = tupleLayout(types);
  const out = new Uint8Array(types.length === 1 ? sizeOfKeyElement(types[0]!) : size);
  types.forEach((t, i) => writeKeyElement(out, types.length === 1 ? 0 : offsets[i]!, t, key?.[i] ?? 0n));
  return out;
}

function sizeOfKeyElement(t: Type): number {
  return tupleLayout([t]).size;
}

function writeKeyElement(out: Uint8Array, offset: number, t: Type, v: Value): void {
  switch (t.kind) {
    case 'int':
    case 'bool':
    case 'pointer': {
      const bytes = t.kind === 'int' ? t.bits / 8 : t.kind === 'bool' ? 1 : 8;
      let n = BigInt.asUintN(bytes * 8, normalizeInt(t, v));
      for (let i = 0; i < bytes && offset + i < out.length; i++) {
        out[offset + i] = Number(n & 0xffn);
        n >>= 8n;
      }
      return;
    }
    case 'string': {
      const b = stringBytes(typeof v === 'string' ? cString(v) : '');
      for (let i = 0; i < b.length && i < t.size - 1 && offset + i < out.length; i++) out[offset + i] = b[i]!;
      return;
    }
    case 'buffer': {
      const b = v instanceof Uint8Array ? v : new Uint8Array();
      out[offset] = Math.min(b.length, 255);
      for (let i = 0; i < b.length && offset + 1 + i < out.length; i++) out[offset + 1 + i] = b[i]!;
      return;
    }
    case 'tuple': {
      const { offsets } = tupleLayout(t.elements);
      const els = Array.isArray(v) ? (v as readonly Value[]) : [];
      t.elements.forEach((e, i) => writeKeyElement(out, offset + offsets[i]!, e, els[i] ?? 0n));
      return;
    }
    default:
      return;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** strncmp-like comparison of two decoded strings (by UTF-8 bytes, up to the first NUL). */
function compareCStrings(a: string, b: string): number {
  const x = cString(a);
  const y = cString(b);
  if (!/[^\x00-\x7f]/.test(x + y)) return x < y ? -1 : x > y ? 1 : 0;
  return compareBytes(stringBytes(x), stringBytes(y));
}

/**
 * bpftrace's sort_by_key: a stable sort by each key element, first element first. Integers compare
 * as unsigned (so -1 sorts after 1), strings with strncmp; other element types are not compared.
 */
function sortByKey(spec: MapSpec, entries: MapEntry[]): MapEntry[] {
  const types = keyElementTypes(spec);
  if (types.length === 0) return entries;
  const cmp = (a: MapEntry, b: MapEntry): number => {
    for (let i = 0; i < types.length; i++) {
      const t = types[i]!;
      const x = a.key?.[i] ?? 0n;
      const y = b.key?.[i] ?? 0n;
      if (t.kind === 'int' || t.kind === 'bool' || t.kind === 'pointer') {
        const bits = t.kind === 'int' ? t.bits : t.kind === 'bool' ? 8 : 64;
        const ux = BigInt.asUintN(bits, normalizeInt(t, x));
        const uy = BigInt.asUintN(bits, normalizeInt(t, y));
        if (ux !== uy) return ux < uy ? -1 : 1;
      } else if (t.kind === 'string') {
        const c = compareCStrings(String(x), String(y));
        if (c !== 0) return c;
      }
    }
    return 0;
  };
  return entries.sort(cmp); // Array.prototype.sort is stable
}

/** Whether a value type sorts by value (bpftrace: count, sum, int, min, max). */
function scalarIsInt(t: Type): boolean {
  return t.kind === 'int' || t.kind === 'bool';
}

/** Whether a count/sum/min/max/int value is signed, by its type (`fallback` for other types). */
export function aggSigned(spec: MapSpec, fallback: boolean): boolean {
  const t = spec.valueType;
  if (t.kind === 'aggregation') return t.signed;
  if (t.kind === 'int') return t.signed;
  return fallback;
}

/** The int64/uint64 value a count/sum/min/max entry prints and sorts by; 0 for any other entry. */
export function aggregateValue(spec: MapSpec, e: MapEntry): bigint {
  const v = e.value;
  if (v.kind !== 'count' && v.kind !== 'sum' && v.kind !== 'min' && v.kind !== 'max') return 0n;
  // bpftrace 0.17 prints a min as an int64 and a max as a uint64 whatever their argument's type
  // (min_value/max_value): only a sum follows it.
  if (v.kind === 'count' || v.kind === 'max') return BigInt.asUintN(64, v.value);
  if (v.kind === 'min') return BigInt.asIntN(64, v.value);
  return aggSigned(spec, true) ? BigInt.asIntN(64, v.value) : BigInt.asUintN(64, v.value);
}

/** avg/stats: total / count with C (truncating) division, 0 when count is 0. */
export function average(count: bigint, total: bigint): bigint {
  const c = BigInt.asIntN(64, count);
  return c === 0n ? 0n : BigInt.asIntN(64, total) / c;
}

/** Sum of a hist's buckets as bpftrace sorts by it (a uint64). */
export function bucketTotal(buckets: readonly bigint[]): bigint {
  let s = 0n;
  for (const b of buckets) s += b;
  return BigInt.asUintN(64, s);
}

/**
 * The entries of a map in the order bpftrace 0.17 prints them:
 * - count, sum, min, max, and int/bool scalars: by value, ascending (std::sort, signed if the
 *   value type is signed), from the kernel's iteration order;
 * - hist, lhist: by the sum of their buckets, ascending (std::sort over the entries in key-byte
 *   order, since bpftrace collects them in a std::map);
 * - avg, stats: by the average (total / count), ascending, likewise from key-byte order;
 * - any other scalar (strings, tuples, ...): by key (sort_by_key), integers as unsigned.
 */
export function sortEntries(snapshot: MapSnapshot): MapEntry[] {
  const { spec } = snapshot;
  const entries = [...snapshot.entries];
  switch (spec.kind) {
    case 'count':
    case 'sum':
    case 'min':
    case 'max': {
      const keyed = entries.map((e) => ({ e, v: aggregateValue(spec, e) }));
      return cxxSort(keyed, (a, b) => a.v < b.v).map((x) => x.e);
    }
    case 'hist':
    case 'lhist':
    case 'avg':
    case 'stats': {
      const types = keyElementTypes(spec);
      const keyed = entries.map((e) => ({
        e,
        bytes: keyBytes(types, e.key),
        v: e.value.kind === 'hist' || e.value.kind === 'lhist' ? bucketTotal(e.value.buckets)
          : e.value.kind === 'avg' || e.value.kind === 'stats' ? average(e.value.count, e.value.total) : 0n,
      }));
      keyed.sort((a, b) => compareBytes(a.bytes, b.bytes));
      return cxxSort(keyed, (a, b) => a.v < b.v).map((x) => x.e);
    }
    case 'tseries': {
      // The least recently updated series first (by its latest epoch), from key-byte order (0.26).
      const types = keyElementTypes(spec);
      const latest = (e: MapEntry) => (e.value.kind === 'tseries' ? e.value.points.at(-1)?.epoch ?? 0n : 0n);
      const keyed = entries.map((e) => ({ e, bytes: keyBytes(types, e.key), v: latest(e) }));
      keyed.sort((a, b) => compareBytes(a.bytes, b.bytes));
      return cxxSort(keyed, (a, b) => a.v < b.v).map((x) => x.e);
    }
    case 'scalar': {
      if (scalarIsInt(spec.valueType)) {
        const keyed = entries.map((e) => ({
          e,
          v: e.value.kind === 'scalar' ? normalizeInt(spec.valueType, e.value.value) : 0n,
        }));
        return cxxSort(keyed, (a, b) => a.v < b.v).map((x) => x.e);
      }
      return sortByKey(spec, entries);
    }
  }
}

/** print(@m, top): bpftrace keeps the last `top` entries of the sorted list (0 = all). */
export function applyTop<T>(sorted: readonly T[], top: number | undefined): readonly T[] {
  if (!top || top <= 0 || sorted.length <= top) return sorted;
  return sorted.slice(sorted.length - top);
}

/** The divisor print() uses: a uint32, 0 meaning 1. */
export function divisor(div: number | undefined): bigint {
  if (!div) return 1n;
  const d = BigInt.asUintN(32, BigInt(Math.trunc(div)));
  return d === 0n ? 1n : d;
}

/** Maps printed at exit, in bpftrace's order: by name, as bytes (`@Mid` < `@_under` < `@alpha`). */
export function sortMapNames<T extends { readonly name: string }>(maps: Iterable<T>): T[] {
  return [...maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Characters of a map's text made before they are handed on (Formatter.mapPieces). */
export const MAP_PIECE = 1 << 16;

/**
 * `start`, the texts of `elems` joined by `separator`, then `end`, handed to `emit` about
 * MAP_PIECE characters at a time as they are made (never the whole text at once).
 */
export function emitJoined<T>(
  elems: readonly T[], text: (e: T) => string, { start = '', separator = '', end = '' }: { start?: string; separator?: string; end?: string },
  emit: (piece: string) => void,
): void {
  let piece = start;
  for (let i = 0; i < elems.length; i++) {
    piece += i === 0 ? text(elems[i]!) : separator + text(elems[i]!);
    if (piece.length >= MAP_PIECE) {
      emit(piece);
      piece = '';
    }
  }
  emit(piece + end);
}
