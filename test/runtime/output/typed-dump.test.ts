// Large count()/sum() maps print from the raw dump (src/runtime/output/typed-dump.ts, rendered by
// the addon): the text and JSON must be byte for byte those of the general path (decode every
// entry, sort, format), for integer keys of every width, strings (UTF-8, binary bytes, quotes and
// control characters for JSON), tuples, equal values (the unstable sort's ties), negative sums,
// values beyond 2^53 and per-CPU sums that wrap, and for a 100k-entry map read from the kernel.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { MapSpec } from '../../../src/model/program.js';
import { int, str, tupleLayout, type Type } from '../../../src/model/types.js';
import { decodeMap } from '../../../src/runtime/decode.js';
import { native } from '../../../src/runtime/native.js';
import { mapToJson } from '../../../src/runtime/output/json.js';
import type { MapSnapshot, RawDump } from '../../../src/runtime/output/model.js';
import { mapToText } from '../../../src/runtime/output/text.js';
import { typedMapText, writeTypedMap } from '../../../src/runtime/output/typed-dump.js';

const CPUS = 2;

function spec(kind: 'count' | 'sum', keyType: Type, signed: boolean, percpu: boolean): MapSpec {
  const keySize = keyType.kind === 'tuple' ? tupleLayout(keyType.elements).size : keyType.kind === 'string' ? keyType.size : keyType.kind === 'int' ? keyType.bits / 8 : 8;
  return {
    name: '@m', kind, keyType, valueType: { kind: 'aggregation', signed } as Type, bpfType: percpu ? 'percpu_hash' : 'hash',
    keySize, valueSize: 8, maxEntries: 100000,
  } as unknown as MapSpec;
}

/** The raw dump of `keys` (each as its bytes) with per-CPU values. */
function dump(s: MapSpec, keys: Buffer[], values: bigint[][]): { raw: MapSnapshot['raw'] & object; general: MapSnapshot; typed: MapSnapshot } {
  const perCpu = s.bpfType.startsWith('percpu') ? CPUS : 1;
  const keyBuf = Buffer.concat(keys.map((k) => Buffer.concat([k, Buffer.alloc(s.keySize - k.length)])));
  const valueBuf = Buffer.alloc(keys.length * 8 * perCpu);
  values.forEach((vs, e) => vs.slice(0, perCpu).forEach((v, c) => valueBuf.writeBigInt64LE(BigInt.asIntN(64, v), (e * perCpu + c) * 8)));
  const raw: RawDump = {
    count: keys.length, keys: keyBuf, values: valueBuf, cpus: CPUS,
    render: (rows, write) => native().renderDump(keyBuf, valueBuf, keys.length, rows, write),
  };
  const entries = decodeMap(s, keys.length, keyBuf, valueBuf, CPUS);
  return { raw, general: { spec: s, entries }, typed: { spec: s, entries, raw } };
}

function expectSame(s: MapSpec, keys: Buffer[], values: bigint[][]): void {
  const { general, typed } = dump(s, keys, values);
  expect(mapToText(typed)).toBe(mapToText(general));
  expect(mapToJson(typed)).toBe(mapToJson(general));
}

/** '' if equal, else both texts around where they first differ (a diff of 2 MB would take minutes). */
function firstDifference(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return '';
  return `at ${i}: ${JSON.stringify(actual.slice(i - 40, i + 40))} instead of ${JSON.stringify(expected.slice(i - 40, i + 40))}`;
}

const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

describe('printing a large count()/sum() map from the raw dump', () => {
  it('takes the typed path for a large map (and not for a small one)', () => {
    const s = spec('count', int(64, false), false, true);
    const keys = Array.from({ length: 1000 }, (_, i) => u64(BigInt(i) * 7919n));
    const values = keys.map((_, i) => [BigInt(i % 7), 1n]);
    expect(typedMapText(s, dump(s, keys, values).raw)).toBeDefined();
    expect(typedMapText(s, dump(s, keys.slice(0, 10), values.slice(0, 10)).raw)).toBeUndefined();
    expectSame(s, keys, values);
  });

  it('integer keys of every width and signedness, values with many ties, per-CPU or not', () => {
    for (const bits of [8, 16, 32, 64] as const) {
      for (const signed of [true, false]) {
        for (const percpu of [true, false]) {
          const t = int(bits, signed);
          const keys = Array.from({ length: 600 }, (_, i) => {
            const b = Buffer.alloc(bits / 8);
            const v = BigInt.asUintN(bits, BigInt(i * 104729 - 300) * (bits === 64 ? 2n ** 40n : 1n));
            for (let k = 0; k < bits / 8; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
            return b;
          });
          const values = keys.map((_, i) => [BigInt(i % 5), BigInt(i % 3)]);
          expectSame(spec('count', t, false, percpu), keys, values);
          expectSame(spec('sum', t, true, percpu), keys, values.map(([a, b]) => [a! - 3n, b!]));
        }
      }
    }
  });

  it('string keys (UTF-8, binary, JSON specials, full length) and tuple keys', () => {
    const texts = ['comm', 'héllo', 'a"b\\c', 'tab\there', 'nl\n', '\x01ctl', 'sixteen_bytes_xx'];
    const strKeys = Array.from({ length: 700 }, (_, i) => {
      const b = Buffer.alloc(16);
      if (i % 11 === 0) Buffer.from([0x61, 0xff, 0xc3, 0x41 + (i % 26)]).copy(b);
      else Buffer.from(`${texts[i % texts.length]}${i}`).copy(b, 0, 0, 16);
      return b;
    });
    const values = strKeys.map((_, i) => [BigInt(i % 4), 0n]);
    expectSame(spec('count', str(16), false, true), strKeys, values);
    const tuple: Type = { kind: 'tuple', elements: [str(16), int(64, true), int(8, false)] };
    const { offsets, size } = tupleLayout((tuple as { elements: Type[] }).elements);
    const tupleKeys = strKeys.map((k, i) => {
      const b = Buffer.alloc(size);
      k.copy(b, offsets[0]);
      b.writeBigInt64LE(BigInt(i) - 350n, offsets[1]);
      b[offsets[2]!] = i & 0xff;
      return b;
    });
    expectSame(spec('sum', tuple, true, false), tupleKeys, values);
  });

  it('values beyond 2^53, negative counts (uint64) and keys beyond 2^53 print exactly', () => {
    const s = spec('count', int(64, false), false, false);
    const keys = Array.from({ length: 400 }, (_, i) => u64(2n ** 63n + BigInt(i)));
    expectSame(s, keys, keys.map((_, i) => [BigInt(i % 3)]));
    expectSame(s, keys, keys.map((_, i) => [i === 7 ? 2n ** 60n : 1n]));
    expectSame(s, keys, keys.map((_, i) => [i === 7 ? -1n : 1n]));
    expectSame(spec('sum', int(64, true), false, false), keys, keys.map((_, i) => [BigInt(i) - 200n]));
    // Per-CPU sums past 2^63 wrap, as bpftrace's uint64/int64 sums do.
    for (const signed of [true, false]) {
      expectSame(spec('sum', int(64, true), signed, true), keys, keys.map((_, i) => [2n ** 62n + BigInt(i % 5), 2n ** 62n + 3n]));
    }
  });

  test.prop([fc.array(fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.oneof(fc.bigInt({ min: -1000n, max: 1000n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    fc.bigInt({ min: 0n, max: 5n })), { minLength: 256, maxLength: 600 }), fc.boolean()])(
    'random 64-bit keys and sums', (rows, signed) => {
      const s = spec('sum', int(64, signed), signed, true);
      expectSame(s, rows.map(([k]) => u64(k)), rows.map(([, a, b]) => [a, b]));
    });

  it('a 100k-entry kernel map, mostly ties: text and JSON as the general path prints them, in pieces of whole entries', () => {
    const addon = native();
    const cpus = addon.possibleCpus();
    const n = 100_000;
    const types = [str(16), int(32, true)];
    const { offsets, size } = tupleLayout(types);
    const s = { ...spec('sum', { kind: 'tuple', elements: types }, true, true), keySize: size, maxEntries: n };
    const fd = addon.mapCreate('percpu_hash', 'tl_td_100k', size, 8, n);
    try {
      const key = Buffer.alloc(size);
      const value = Buffer.alloc(8 * cpus);
      for (let i = 0; i < n; i++) {
        key.fill(0);
        key.write(['comm', 'héllo', 'q"x'][i % 3]!, offsets[0]!);
        key.writeInt32LE(i - 50_000, offsets[1]!);
        value.writeBigInt64LE(BigInt((i % 7) - 3)); // CPU 0; the others 0
        addon.mapUpdate(fd, key, value);
      }
      const d = addon.mapDump(fd, size, 8 * cpus);
      expect(d.count).toBe(n);
      const raw: RawDump = { ...d, cpus, render: (rows, write) => addon.renderDump(d.keys, d.values, d.count, rows, write) };
      const general: MapSnapshot = { spec: s, entries: decodeMap(s, d.count, d.keys, d.values, cpus) };
      for (const json of [false, true]) {
        const pieces: Buffer[] = [];
        expect(writeTypedMap(s, raw, json, (bytes) => pieces.push(Buffer.from(bytes)))).toBe(true);
        const expected = json ? mapToJson(general) : mapToText(general);
        expect(firstDifference(Buffer.concat(pieces).toString(), expected)).toBe('');
        expect(pieces.length).toBeGreaterThan(10);
        // Text: whole lines; JSON: the head, pieces ending after a value, the tail.
        const rows = json ? pieces.slice(1, -1) : pieces;
        for (const piece of rows) expect(piece.toString()).toMatch(json ? /\d$/ : /\n$/);
      }
    } finally {
      addon.closeFd(fd);
    }
  });
});
