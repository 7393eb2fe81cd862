// printf straight from the ring buffer's bytes. A hot printf delivers hundreds of thousands of
// records a second; decoding each into BigInts and value objects made the garbage collector the
// consumer's main cost, and the ring overflowed. Here each (format, argument types) is compiled
// once into a function that reads integers as JS numbers and ASCII strings as Latin-1 slices, in
// place; the output is the same as formatPrintf's (output/printf.ts) to the byte. Arguments
// of other types, and 64-bit integers beyond 2^53, take the general path.
import { parsePrintfFormat, type PrintfConversion } from '../model/printf-format.js';
import type { EventField, EventSpec } from '../model/program.js';
import { bytesToString } from '../model/strings.js';
import type { Type } from '../model/types.js';
import { decodeValue } from './decode.js';
import { assemblePrintf, conversionFn } from './output/printf.js';
import { formatInt, padString } from '../model/printf-format.js';
import type { Resolver } from './symbols.js';

/** Where one record starts in a batch of records (reused from record to record: no allocation). */
export interface RecordCursor {
  buf: Buffer;
  /** The offset of the record (its 8-byte event id) in `buf`. */
  base: number;
}

type RecordConversion = (r: RecordCursor) => string;

/** The printf of one event, as a function of its record. */
export function compileRecordPrintf(spec: EventSpec, resolver: Resolver): (r: RecordCursor) => string {
  return assemblePrintf(spec.format ?? '', parsePrintfFormat(spec.format ?? ''), (c, i) => {
    const field = spec.fields[i];
    const general = conversionFn(c);
    if (!field) return () => general(undefined);
    const decoded = (r: RecordCursor) => general({ type: field.type, value: decodeValue(field.type, r.buf, r.base + field.offset, resolver) });
    return integerConversion(c, field, decoded) ?? stringConversion(c, field) ?? decoded;
  });
}

const TWO_32 = 2 ** 32;

/** The field's value as a JS number when it is exactly one (else undefined). */
function numberReader(t: Type, offset: number): ((buf: Buffer, base: number) => number | undefined) | undefined {
  if (t.kind !== 'int') return undefined;
  switch (t.bits) {
    case 8: return t.signed ? (b, o) => b.readInt8(o + offset) : (b, o) => b[o + offset];
    case 16: return t.signed ? (b, o) => b.readInt16LE(o + offset) : (b, o) => b.readUInt16LE(o + offset);
    case 32: return t.signed ? (b, o) => b.readInt32LE(o + offset) : (b, o) => b.readUInt32LE(o + offset);
    default:
      return (b, o) => {
        const high = t.signed ? b.readInt32LE(o + offset + 4) : b.readUInt32LE(o + offset + 4);
        // |value| < 2^53: exact as a double.
        if (high >= 0x200000 || high < -0x200000) return undefined;
        return high * TWO_32 + b.readUInt32LE(o + offset);
      };
  }
}

/**
 * %d %u %o %x %X of an int field. C reads `bits` of the 64-bit pattern (the value sign- or
 * zero-extended): for |value| < 2^53, `| 0`, `>>> 0` and the shifts take exactly those bits.
 */
function integerConversion(c: PrintfConversion, field: EventField, general: RecordConversion): RecordConversion | undefined {
  const read = numberReader(field.type, field.offset);
  if (!read || c.argKind !== 'integer' || c.conversion === 'c' || c.conversion === 'p') return undefined;
  const bits = c.bits;
  if (c.conversion === 'd') {
    const signed = bits === 64 ? (v: number) => v : bits === 32 ? (v: number) => v | 0
      : bits === 16 ? (v: number) => (v << 16) >> 16 : (v: number) => (v << 24) >> 24;
    return (r) => {
      const v = read(r.buf, r.base);
      if (v === undefined) return general(r);
      const n = signed(v);
      return n < 0 ? formatInt(c, '-', (-n).toString()) : formatInt(c, '', n.toString());
    };
  }
  const radix = c.conversion === 'o' ? 8 : c.conversion === 'u' ? 10 : 16;
  const upper = c.conversion === 'X';
  const unsigned = bits === 64 ? (v: number) => v : bits === 32 ? (v: number) => v >>> 0
    : bits === 16 ? (v: number) => v & 0xffff : (v: number) => v & 0xff;
  return (r) => {
    const v = read(r.buf, r.base);
    // A negative value read as 64 unsigned bits is beyond 2^53.
    if (v === undefined || (bits === 64 && v < 0)) return general(r);
    const s = unsigned(v).toString(radix);
    return formatInt(c, '', upper ? s.toUpperCase() : s);
  };
}

/** %s of a string field: up to its first NUL; ASCII as is, anything else as decodeValue reads it. */
function stringConversion(c: PrintfConversion, field: EventField): RecordConversion | undefined {
  if (field.type.kind !== 'string' || c.conversion !== 's') return undefined;
  const size = field.type.size;
  return (r) => {
    const start = r.base + field.offset;
    const buf = r.buf;
    let ascii = true;
    let end = start;
    for (const stop = start + size; end < stop; end++) {
      const b = buf[end]!;
      if (b === 0) break;
      if (b >= 0x80) ascii = false;
    }
    return padString(c, ascii ? latin1(buf, start, end) : bytesToString(buf.subarray(start, end)));
  };
}

/** Buffer's own Latin-1 slice (what toString('latin1', ...) calls, without looking up the encoding). */
const latin1 = (buf: Buffer, start: number, end: number): string =>
  (buf as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
