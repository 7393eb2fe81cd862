// Printing a large count()/sum() map straight from the kernel's dump. The general path decodes
// every entry into BigInts and objects, sorts those and formats them one by one: for 100k keys
// the garbage collector then costs more than the kernel. Here the values are read into a
// Float64Array, the entries are sorted as indices with the very algorithm the general path uses
// (cxxSort, on the same input order, so ties land where bpftrace leaves them) and each key is
// written from its bytes into one byte buffer (no string per key or line): the same text to the
// byte. Maps this does not cover (other
// aggregations, key types other than integers and strings, values beyond 2^53, print() with top
// or div) take the general path.
import { isPerCpu, type MapSpec } from '../../model/program.js';
import { bytesToString } from '../../model/strings.js';
import { alignUp, tupleLayout, type Type } from '../../model/types.js';
import { cxxSort, jsonEscape, keyElementTypes } from './values.js';
import type { RawDump } from './model.js';

interface TypedEntries {
  /** Entry indices in print order. */
  readonly order: readonly number[];
  readonly values: Float64Array;
  /** Writes the key's elements, separated by `separator`, as text (JSON-escaped if `json`). */
  readonly writeKey: (out: ByteWriter, entry: number, separator: Buffer, json: boolean) => void;
}

/** Below this many entries the general path is as fast. */
const MIN_ENTRIES = 256;

const TWO_32 = 2 ** 32;

/** The sorted entries of a keyed count()/sum() map, or undefined when the general path must print it. */
function typedEntries(spec: MapSpec, raw: RawDump): TypedEntries | undefined {
  if ((spec.kind !== 'count' && spec.kind !== 'sum') || raw.count < MIN_ENTRIES) return undefined;
  const types = keyElementTypes(spec);
  if (types.length === 0 || !types.every((t) => t.kind === 'int' || t.kind === 'string')) return undefined;
  // count is printed as a uint64, sum as its value type says (signed unless said otherwise).
  const unsigned = spec.kind === 'count' || (spec.valueType.kind === 'aggregation' || spec.valueType.kind === 'int' ? !spec.valueType.signed : false);
  const perCpu = isPerCpu(spec.bpfType) ? raw.cpus : 1;
  const slot = alignUp(spec.valueSize, 8);
  const stride = perCpu === 1 ? spec.valueSize : slot * perCpu;
  const values = new Float64Array(raw.count);
  const v = raw.values;
  // The values as 32-bit words (little-endian, as this machine is), when the buffer allows a view.
  const words = v.byteOffset % 4 === 0 ? new Int32Array(v.buffer, v.byteOffset, v.length >> 2) : undefined;
  const low = (o: number) => (words ? words[o >> 2]! >>> 0 : v.readUInt32LE(o));
  const high = (o: number) => (words ? words[(o >> 2) + 1]! : v.readInt32LE(o + 4));
  for (let e = 0; e < raw.count; e++) {
    let sum = 0;
    for (let c = 0; c < perCpu; c++) {
      const o = e * stride + c * slot;
      const h = high(o);
      if (h < -0x200000 || h >= 0x200000) return undefined; // |value| >= 2^53
      sum += h * TWO_32 + low(o);
    }
    if (!Number.isSafeInteger(sum) || (unsigned && sum < 0)) return undefined;
    values[e] = sum;
  }
  const order: number[] = [];
  for (let i = 0; i < raw.count; i++) order.push(i);
  cxxSort(order, (a, b) => values[a]! < values[b]!);
  const offsets = spec.keyType?.kind === 'tuple' ? tupleLayout(types).offsets : [0];
  const elements = types.map((t, i) => elementWriter(t, offsets[i]!, raw.keys));
  const keySize = spec.keySize;
  const writeKey = elements.length === 1
    ? (out: ByteWriter, e: number, _separator: Buffer, json: boolean) => elements[0]!(out, e * keySize, json)
    : (out: ByteWriter, e: number, separator: Buffer, json: boolean) => {
      for (let i = 0; i < elements.length; i++) {
        if (i > 0) out.bytes(separator);
        elements[i]!(out, e * keySize, json);
      }
    };
  return { order, values, writeKey };
}

type ElementWriter = (out: ByteWriter, key: number, json: boolean) => void;

/** Writes one key element as valueToText prints its decoded value ('key' context), from the key's bytes. */
function elementWriter(t: Type, offset: number, buf: Buffer): ElementWriter {
  if (t.kind === 'string') {
    return (out, key, json) => {
      const start = key + offset;
      let end = start;
      for (const stop = start + t.size; end < stop && buf[end] !== 0; end++);
      if (json) out.jsonEscaped(buf, start, end);
      else out.bytes(buf, start, end);
    };
  }
  if (t.kind !== 'int') throw new Error(`internal error: a ${t.kind} key element`);
  const read: (o: number) => number = t.bits === 8 ? (t.signed ? (o) => buf.readInt8(o) : (o) => buf[o]!)
    : t.bits === 16 ? (t.signed ? (o) => buf.readInt16LE(o) : (o) => buf.readUInt16LE(o))
      : t.bits === 32 ? (t.signed ? (o) => buf.readInt32LE(o) : (o) => buf.readUInt32LE(o))
        : (o) => {
          const high = t.signed ? buf.readInt32LE(o + 4) : buf.readUInt32LE(o + 4);
          return high >= 0x200000 || high < -0x200000 ? NaN : high * TWO_32 + buf.readUInt32LE(o);
        };
  return (out, key) => {
    const o = key + offset;
    const v = read(o);
    if (v === v) out.integer(v);
    else out.latin1((t.signed ? buf.readBigInt64LE(o) : buf.readBigUInt64LE(o)).toString()); // beyond 2^53
  };
}

/**
 * Text as bytes in one growing buffer. Read back as a string, it is exactly what the same text
 * made of strings would be: the bytes are ASCII or copied from the kernel's (UTF-8) strings,
 * each between ASCII bytes, so bytesToString of the whole is the join of bytesToString of each.
 */
class ByteWriter {
  private buf: Buffer;
  private length = 0;
  private ascii = true;
  private readonly digits = new Uint8Array(24);

  constructor(expectedBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(expectedBytes, 1 << 12));
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  bytes(from: Buffer, start = 0, end = from.length): void {
    this.reserve(end - start);
    // Byte by byte: keys and separators are short, and Buffer.copy costs more per call.
    const buf = this.buf;
    let length = this.length;
    for (let i = start; i < end; i++) {
      const c = from[i]!;
      if (c >= 0x80) this.ascii = false;
      buf[length++] = c;
    }
    this.length = length;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.length++] = c;
  }

  latin1(text: string): void {
    this.reserve(text.length);
    this.length += this.buf.write(text, this.length, 'latin1');
  }

  /** A safe integer in decimal. */
  integer(v: number): void {
    this.reserve(24);
    if (v < 0) {
      this.buf[this.length++] = 0x2d; // '-'
      v = -v;
    }
    // In 31-bit pieces, so that the digit loop runs on small integers: below 1e9, then the rest.
    if (v < 1e9) {
      this.digitsOf(v, 1);
      return;
    }
    const high = Math.floor(v / 1e9);
    this.digitsOf(high, 1);
    this.digitsOf(v - high * 1e9, 9);
  }

  /** `v` (0 <= v < 2^31) in decimal, zero-padded to `width` digits. */
  private digitsOf(v: number, width: number): void {
    let n = 0;
    do {
      const q = (v / 10) | 0;
      this.digits[n++] = 0x30 + v - q * 10;
      v = q;
    } while (v > 0 || n < width);
    while (n > 0) this.buf[this.length++] = this.digits[--n]!;
  }

  /** bpftrace's json_escape of these bytes (see jsonEscape in values.ts). */
  jsonEscaped(from: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const c = from[i]!;
      const e = c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t'
        : c <= 0x1f ? '\\u' + c.toString(16).padStart(4, '0') : c >= 0x80 ? '\\u' + ((0xffffff00 | c) >>> 0).toString(16) : undefined;
      if (e !== undefined) this.latin1(e);
      else this.byte(c);
    }
  }

  text(): string {
    const bytes = this.buf.subarray(0, this.length);
    return this.ascii ? bytes.toString('latin1') : bytesToString(bytes);
  }
}

const ASCII = (s: string) => Buffer.from(s, 'latin1');

/** mapToText of a large count()/sum() map, or undefined. */
export function typedMapText(spec: MapSpec, raw: RawDump): string | undefined {
  const typed = typedEntries(spec, raw);
  if (!typed) return undefined;
  const out = new ByteWriter(raw.count * (spec.name.length + 32));
  const open = Buffer.from(spec.name + '['); // a map's name is ASCII
  const close = ASCII(']: ');
  const separator = ASCII(', ');
  for (const e of typed.order) {
    out.bytes(open);
    typed.writeKey(out, e, separator, false);
    out.bytes(close);
    out.integer(typed.values[e]!);
    out.byte(0x0a); // '\n'
  }
  return out.text();
}

/** mapToJson of a large count()/sum() map, or undefined. */
export function typedMapJson(spec: MapSpec, raw: RawDump): string | undefined {
  const typed = typedEntries(spec, raw);
  if (!typed) return undefined;
  const out = new ByteWriter(raw.count * 32);
  out.latin1(`{"type": "map", "data": {"${jsonEscape(spec.name)}": {`);
  const close = ASCII('": ');
  const separator = ASCII(',');
  let first = true;
  for (const e of typed.order) {
    out.latin1(first ? '"' : ', "');
    first = false;
    typed.writeKey(out, e, separator, true);
    out.bytes(close);
    out.integer(typed.values[e]!);
  }
  out.latin1('}}}\n');
  return out.text();
}
