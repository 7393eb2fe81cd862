// printf straight from a record's bytes (src/runtime/printf-record.ts, the hot path of the ring
// buffer consumer) prints exactly what formatPrintf prints for the decoded values, for every
// integer width, signedness and conversion, values at and beyond 2^53 and 2^63, and strings
// that are ASCII, UTF-8, binary, full (no NUL) or padded.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { EventSpec } from '../../src/model/program.js';
import { parsePrintfFormat } from '../../src/model/printf-format.js';
import { int, sizeOf, str, type IntBits, type Type } from '../../src/model/types.js';
import { decodeValue } from '../../src/runtime/decode.js';
import { formatPrintf } from '../../src/runtime/output/printf.js';
import { compileRecordPrintf } from '../../src/runtime/printf-record.js';
import { Resolver } from '../../src/runtime/symbols.js';

const resolver = new Resolver();

/** A record as codegen lays it out: the 8-byte event id, then each field at its offset; at `base` in a larger buffer. */
function record(types: readonly Type[], write: (buf: Buffer, offset: number, i: number) => void, base = 24): { spec: (format: string) => EventSpec; buf: Buffer } {
  let offset = 8;
  const fields = types.map((type) => {
    const field = { type, offset };
    offset += Math.ceil(sizeOf(type) / 8) * 8;
    return field;
  });
  const buf = Buffer.alloc(base + offset + 40, 0xee); // bytes around the record are not zero
  buf.fill(0, base, base + offset);
  fields.forEach((f, i) => write(buf, base + f.offset, i));
  const spec = (format: string): EventSpec => ({ id: 0, kind: 'printf', format, fields, size: offset, span: undefined as never });
  return { spec, buf };
}

/** Both ways of printing: from the bytes, and formatPrintf of the decoded values. */
function both(format: string, types: readonly Type[], write: (buf: Buffer, offset: number, i: number) => void): [string, string] {
  const base = 24;
  const { spec, buf } = record(types, write, base);
  const s = spec(format);
  const fromBytes = compileRecordPrintf(s, resolver)({ buf, base });
  const decoded = formatPrintf(format, s.fields.map((f) => ({ type: f.type, value: decodeValue(f.type, buf, base + f.offset, resolver) })));
  return [fromBytes, decoded];
}

function writeInt(t: Type, v: bigint): (buf: Buffer, offset: number) => void {
  return (buf, offset) => {
    if (t.kind !== 'int') throw new Error('int only');
    const u = BigInt.asUintN(t.bits, v);
    for (let b = 0; b < t.bits / 8; b++) buf[offset + b] = Number((u >> BigInt(8 * b)) & 0xffn);
  };
}

const INT_CONVERSIONS = ['%d', '%u', '%x', '%X', '%o', '%ld', '%lu', '%lx', '%hd', '%hu', '%hhd', '%hhu', '%5d', '%-8x|', '%08lld', '%.3u', '%+d', '%c', '%p'];
const EDGES = [0n, 1n, -1n, 127n, 128n, 255n, 256n, -129n, 65535n, -32769n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n + 5n,
  2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n];

describe('printf from record bytes', () => {
  it('integers of every width and signedness, through every integer conversion', () => {
    for (const bits of [8, 16, 32, 64] as IntBits[]) {
      for (const signed of [true, false]) {
        const t = int(bits, signed);
        for (const v of EDGES) {
          for (const conv of INT_CONVERSIONS) {
            if (parsePrintfFormat(conv).length !== 1) continue;
            const [fromBytes, decoded] = both(`<${conv}>`, [t], writeInt(t, v));
            expect(fromBytes, `${conv} of ${v} as ${signed ? '' : 'u'}int${bits}`).toBe(decoded);
          }
        }
      }
    }
  });

  it('strings: ASCII, UTF-8, binary, full to the last byte, with width and precision', () => {
    const cases: Buffer[] = [Buffer.from('helpers'), Buffer.from('héllo wörld'), Buffer.from([0x61, 0xff, 0xfe, 0x62]),
      Buffer.from('0123456789abcdef'), Buffer.alloc(0)];
    for (const bytes of cases) {
      for (const conv of ['%s', '%10s', '%-10s|', '%.3s', '%5.2s']) {
        const t = str(16);
        const [fromBytes, decoded] = both(`[${conv}]`, [t], (buf, o) => bytes.copy(buf, o, 0, 16));
        expect(fromBytes, `${conv} of ${bytes.toString('hex')}`).toBe(decoded);
      }
    }
  });

  it('the issue\'s printf, and a format with %% and text after the last conversion', () => {
    const types = [int(32, false), str(16), int(64, true)];
    const write = (buf: Buffer, o: number, i: number) => {
      if (i === 0) buf.writeUInt32LE(4242, o);
      if (i === 1) buf.write('helpers', o);
      if (i === 2) buf.writeBigInt64LE(39n, o);
    };
    expect(both('%d %s %d\n', types, write)).toEqual(['4242 helpers 39\n', '4242 helpers 39\n']);
    const [a, b] = both('100%% %u:%s %%d %ld%%\n', types, write);
    expect(a).toBe(b);
  });

  test.prop([fc.array(fc.tuple(fc.constantFrom<IntBits>(8, 16, 32, 64), fc.boolean(), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    fc.constantFrom(...INT_CONVERSIONS.filter((c) => parsePrintfFormat(c).length === 1))), { minLength: 1, maxLength: 4 })])(
    'random integer fields and conversions', (fields) => {
      const types = fields.map(([bits, signed]) => int(bits, signed));
      const format = fields.map(([, , , conv]) => conv).join(' ') + '\n';
      const [fromBytes, decoded] = both(format, types, (buf, o, i) => writeInt(types[i]!, fields[i]![2])(buf, o));
      expect(fromBytes).toBe(decoded);
    });
});

describe('%s of an enum value (enum_name)', () => {
  it('prints the enumerator of the value, or the number when the enum has none, padded as a string', () => {
    const type: Type = { kind: 'enum_name', enumerators: { type: 'enum Color', names: new Map([[0n, 'RED'], [5n, 'GREEN']]) } };
    const write = (values: bigint[]) => (buf: Buffer, offset: number, i: number) => buf.writeBigInt64LE(values[i]!, offset);
    expect(both('%s %-7s| %s', [type, type, type], write([0n, 5n, 7n]))).toEqual(['RED GREEN  | 7', 'RED GREEN  | 7']);
  });
});
