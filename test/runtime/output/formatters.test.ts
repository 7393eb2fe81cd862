// Formatter details beyond the captures; each expectation was checked against bpftrace 0.17.
import { describe, expect, it } from 'vitest';
import {
  histBucketIndex, histIndexLabel, histToJson, histToText, lhistBucketIndex, lhistIndexLabel, lhistToText,
} from '../../../src/runtime/output/hist.js';
import { lhistBucketCount } from '../../../src/model/program.js';
import { createFormatter } from '../../../src/runtime/output/index.js';
import type { MapValue } from '../../../src/runtime/output/model.js';
import { helperErrorText, mapTextPieces, mapToText, strerror } from '../../../src/runtime/output/text.js';
import { mapJsonPieces, mapToJson } from '../../../src/runtime/output/json.js';
import {
  cxxSort, formatBuffer, jsonEscape, keyBytes, sortMapNames, valueToJson, valueToText,
} from '../../../src/runtime/output/values.js';
import { INT64, UINT64, int, str, type Type } from '../../../src/model/types.js';
import { bytesToString, stringBytes } from '../../../src/model/strings.js';
import { decodeMap } from '../../../src/runtime/decode.js';
import {
  STR64, count, entry, fixture, hist, lh, lhist, scalar, snap, spec, stats, sum, tuple,
} from './helpers.js';

const text = createFormatter('text');
const json = createFormatter('json');
const zeros = (n: number): MapValue => ({ kind: 'hist', buckets: new Array<bigint>(n).fill(0n) });

describe('a map\'s text in pieces (the exit print of a big map)', () => {
  const pieces = (m: ReturnType<typeof snap>) => {
    const out: string[] = [];
    mapTextPieces(m, {}, (p) => out.push(p));
    return out;
  };

  it('is mapToText\'s text, in pieces of about 64 KiB, for every kind of map', () => {
    const n = 6000;
    const keys = Array.from({ length: n }, (_, i) => `key-${i}-${'x'.repeat(i % 50)}`);
    const maps = [
      snap(spec('@c', 'count', { key: STR64 }), keys.map((k, i) => entry(k, count(i)))),
      snap(spec('@s', 'stats', { key: STR64 }), keys.map((k, i) => entry(k, stats('stats', [i, 2 * i])))),
      snap(spec('@a', 'avg', { key: STR64 }), keys.map((k, i) => entry(k, stats('avg', [i])))),
      snap(spec('@v', 'scalar', { key: STR64, value: INT64 }), keys.map((k, i) => entry(k, scalar(BigInt(i))))),
      snap(spec('@h', 'hist', { key: STR64 }), keys.slice(0, 500).map((k, i) => entry(k, hist([i, i * 7])))),
    ];
    for (const m of maps) {
      const out = pieces(m);
      expect(out.join(''), m.spec.name).toBe(mapToText(m));
      expect(out.length, m.spec.name).toBeGreaterThan(2);
      for (const p of out) expect(p.length, m.spec.name).toBeLessThan((1 << 16) + 2000);
      const jsonOut: string[] = [];
      mapJsonPieces(m, {}, (p) => jsonOut.push(p));
      expect(jsonOut.join(''), m.spec.name).toBe(mapToJson(m));
      expect(JSON.parse(jsonOut.join('')).data[m.spec.name], m.spec.name).toBeDefined();
      expect(jsonOut.length, m.spec.name).toBeGreaterThanOrEqual(2);
      for (const p of jsonOut) expect(p.length, m.spec.name).toBeLessThan((1 << 16) + 2000);
    }
  });

  it('is one piece for a small or empty map', () => {
    expect(pieces(snap(spec('@c', 'count', { key: INT64 }), [entry(1n, count(2))]))).toEqual(['@c[1]: 2\n']);
    expect(pieces(snap(spec('@s', 'stats', { key: INT64 }), []))).toEqual(['\n\n']);
  });
});

describe('map printing edge cases', () => {
  it('empty maps: text prints the map\'s terminator, JSON prints nothing', () => {
    expect(text.map(snap(spec('@a', 'scalar', { key: INT64 }), []))).toBe('\n');
    expect(text.map(snap(spec('@h', 'hist', { key: INT64 }), []))).toBe('\n');
    expect(text.map(snap(spec('@s', 'stats', { key: INT64 }), []))).toBe('\n\n');
    expect(text.map(snap(spec('@a', 'avg', { key: INT64 }), []))).toBe('\n\n');
    for (const kind of ['scalar', 'count', 'hist', 'lhist', 'stats', 'avg'] as const) {
      expect(json.map(snap(spec('@a', kind, { lhist: lh(0, 10, 1) }), []))).toBe('');
    }
  });

  it('zero() of a hist or lhist: the key and an empty line; JSON []', () => {
    const h = snap(spec('@c', 'hist'), [entry(undefined, zeros(66))]);
    expect(text.map(h)).toBe('@c: \n\n');
    expect(json.map(h)).toBe('{"type": "hist", "data": {"@c": []}}\n');
    const L = lh(0, 100, 10);
    const l = snap(spec('@l', 'lhist', { key: INT64, lhist: L }), [entry(1n, { kind: 'lhist', buckets: new Array<bigint>(12).fill(0n) })]);
    expect(text.map(l)).toBe('@l[1]: \n\n');
    expect(json.map(l)).toBe('{"type": "hist", "data": {"@l": {"1": []}}}\n');
    const s = snap(spec('@s', 'stats'), [entry(undefined, { kind: 'stats', count: 0n, total: 0n })]);
    expect(text.map(s)).toBe('@s: count 0, average 0, total 0\n\n');
  });

  it('the unnamed map @', () => {
    expect(text.map(snap(spec('@', 'scalar'), [entry(undefined, scalar(5n))]))).toBe('@: 5\n');
    expect(json.map(snap(spec('@', 'scalar'), [entry(undefined, scalar(5n))]))).toBe('{"type": "map", "data": {"@": 5}}\n');
    const keyed = snap(spec('@', 'count', { key: STR64 }), [entry('bash', count(2)), entry('sshd', count(1))]);
    expect(text.map(keyed)).toBe('@[sshd]: 1\n@[bash]: 2\n');
    expect(json.map(keyed)).toBe('{"type": "map", "data": {"@": {"sshd": 1, "bash": 2}}}\n');
    expect(text.map(snap(spec('@', 'hist'), [entry(undefined, hist([1]))]))).toBe(
      '@: \n[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n');
  });

  it('64-bit values and negative keys', () => {
    const c = snap(spec('@c', 'count', { key: INT64 }), [entry(-1n, count(0xffffffffffffffffn)), entry(5n, count(1))]);
    expect(text.map(c)).toBe('@c[5]: 1\n@c[-1]: 18446744073709551615\n');
    const s = snap(spec('@s', 'scalar', { key: INT64 }), [entry(1n, scalar(-9223372036854775808n)), entry(2n, scalar(9223372036854775807n))]);
    expect(text.map(s)).toBe('@s[1]: -9223372036854775808\n@s[2]: 9223372036854775807\n');
    expect(json.map(s)).toBe('{"type": "map", "data": {"@s": {"1": -9223372036854775808, "2": 9223372036854775807}}}\n');
    const u = snap(spec('@u', 'scalar', { value: UINT64 }), [entry(undefined, scalar(-1n))]);
    expect(text.map(u)).toBe('@u: 18446744073709551615\n');
    const sm = snap(spec('@sm', 'sum', { key: INT64 }), [entry(-5n, sum(-10)), entry(3n, sum(10))]);
    expect(text.map(sm)).toBe('@sm[-5]: -10\n@sm[3]: 10\n');
  });

  it('non-integer values sort by key: integers as unsigned, strings bytewise, then the next key', () => {
    const m = snap(spec('@m', 'scalar', { key: tuple(STR64, INT64), value: str(8) }), [
      entry(['b', 1n], scalar('x')), entry(['a', -1n], scalar('y')), entry(['a', 2n], scalar('z')), entry(['ab', 0n], scalar('w')),
    ]);
    expect(text.map(m)).toBe('@m[a, 2]: z\n@m[a, -1]: y\n@m[ab, 0]: w\n@m[b, 1]: x\n');
    expect(json.map(m)).toBe('{"type": "map", "data": {"@m": {"a,2": "z", "a,-1": "y", "ab,0": "w", "b,1": "x"}}}\n');
  });

  it('avg and stats sort by the average; hist by the bucket total, ties in key-byte order', () => {
    const a = snap(spec('@a', 'avg', { key: INT64 }), [entry(1n, stats('avg', [10])), entry(2n, stats('avg', [-4, -6])), entry(3n, stats('avg', [7]))]);
    expect(text.map(a)).toBe('@a[2]: -5\n@a[3]: 7\n@a[1]: 10\n\n');
    expect(json.map(a)).toBe('{"type": "stats", "data": {"@a": {"2": -5, "3": 7, "1": 10}}}\n');
    // Keys 256 and 1 tie; little-endian bytes put 256 (00 01 ...) before 1 (01 00 ...).
    const h = snap(spec('@h', 'hist', { key: INT64 }), [entry(1n, hist([1])), entry(256n, hist([1])), entry(7n, hist([])), entry(-1n, hist([1, 1]))]);
    expect(text.map(h).match(/^@h\[[-0-9]+\]/gm)).toEqual(['@h[7]', '@h[256]', '@h[1]', '@h[-1]']);
  });

  it('stack, ksym, usym and inet values are printed without a newline between entries (0.17)', () => {
    const ks = snap(spec('@k', 'scalar', { key: INT64, value: { kind: 'ksym' } }), [entry(1n, scalar('vfs_read')), entry(2n, scalar('vfs_write'))]);
    expect(text.map(ks)).toBe('@k[1]: vfs_read@k[2]: vfs_write\n');
    expect(json.map(ks)).toBe('{"type": "map", "data": {"@k": {"1": "vfs_read", "2": "vfs_write"}}}\n');
    const kst: Type = { kind: 'kstack', depth: 3, mode: 'bpftrace' };
    const frames = ['perf_syscall_enter+475', 'syscall_trace_enter+384', 'do_syscall_64+527'];
    const s = snap(spec('@s', 'scalar', { key: INT64, value: kst }), [entry(1n, scalar(frames)), entry(2n, scalar([]))]);
    expect(text.map(s)).toBe('@s[1]: \n        perf_syscall_enter+475\n        syscall_trace_enter+384\n        do_syscall_64+527\n@s[2]: \n');
    expect(json.map(s)).toBe('{"type": "map", "data": {"@s": {"1": "\\n        perf_syscall_enter+475\\n        syscall_trace_enter+384\\n        do_syscall_64+527\\n", "2": ""}}}\n');
    const one = snap(spec('@one', 'scalar', { value: kst }), [entry(undefined, scalar(frames.slice(0, 2)))]);
    expect(text.map(one)).toBe('@one: \n        perf_syscall_enter+475\n        syscall_trace_enter+384\n\n');
    expect(text.value({ type: { kind: 'kstack', depth: 2, mode: 'perf' }, value: ['ffffffff814c254b perf_syscall_enter+475'] }))
      .toBe('\n\tffffffff814c254b perf_syscall_enter+475\n\n');
  });

  it('key and value types', () => {
    const ptr: Type = { kind: 'pointer', target: int(8, true) };
    expect(valueToText(ptr, 255n, 'key')).toBe('0xff');
    expect(valueToText(ptr, 1234n)).toBe('1234');
    expect(valueToText(int(8, false), 300n)).toBe('44');
    expect(valueToText(int(32, true), 0xffffffffn)).toBe('-1');
    expect(valueToText({ kind: 'bool' }, 1n)).toBe('1');
    expect(valueToText(tuple(str(2), tuple(INT64, str(2)), INT64), ['a', [2n, 'b'], -3n])).toBe('(a, (2, b), -3)');
    expect(valueToJson(tuple(str(2), tuple(INT64, str(2)), INT64), ['a', [2n, 'b'], -3n])).toBe('["a",[2,"b"],-3]');
    expect(valueToText({ kind: 'buffer', size: 4 }, new Uint8Array([0x61, 0x62, 0x01, 0xff]))).toBe('ab\\x01\\xff');
    expect(valueToJson({ kind: 'buffer', size: 4 }, new Uint8Array([0x61, 0x62, 0x01, 0xff]))).toBe('"ab\\\\x01\\\\xff"');
    expect(formatBuffer(new Uint8Array([0x61, 0xff]), 'hex')).toBe('\\x61\\xff');
    expect(formatBuffer(new Uint8Array([0x61, 0xff]), 'hexspaced')).toBe('61 ff');
    // strftime() values are not quoted in JSON by 0.17 (`{"@t": 2026}`).
    expect(valueToJson({ kind: 'timestamp' }, '2026')).toBe('2026');
    expect(valueToJson({ kind: 'username' }, 'root')).toBe('"root"');
    expect(valueToText(str(8), 'ab\0junk')).toBe('ab');
    expect(valueToText({ kind: 'array', element: INT64, length: 3 }, [1n, 2n, 3n])).toBe('[1,2,3]');
  });

  it('print(@m, top, div) for scalars divides inside tuples too', () => {
    const m = snap(spec('@t', 'scalar', { key: INT64, value: tuple(STR64, INT64) }), [entry(1n, scalar(['a', 9n]))]);
    expect(text.map(m, { div: 2 })).toBe('@t[1]: (a, 4)\n');
    const x = snap(spec('@x', 'scalar', { key: INT64 }), [1, 2, 3, 4, 5].map((k) => entry(BigInt(k), scalar(BigInt(k * 10)))));
    expect(text.map(x, { top: 2 })).toBe('@x[4]: 40\n@x[5]: 50\n');
    expect(text.map(x, { top: 9 })).toBe('@x[1]: 10\n@x[2]: 20\n@x[3]: 30\n@x[4]: 40\n@x[5]: 50\n');
    expect(text.map(x, { top: 1, div: 3 })).toBe('@x[5]: 16\n');
    expect(text.map(x, { div: -5 })).toBe(text.map(x, { div: 4294967291 }));
  });
});

describe('hist and lhist', () => {
  it('bucket indexes (bpftrace 0.20 createLog2Function, 0.17 createLinearFunction)', () => {
    const cases: Array<[bigint, number]> = [
      [-1n, 0], [-(2n ** 63n), 0], [0n, 1], [1n, 2], [2n, 3], [3n, 3], [4n, 4], [7n, 4], [8n, 5], [1023n, 11], [1024n, 12],
      [2n ** 31n - 1n, 32], [2n ** 31n, 33], [2n ** 32n - 1n, 33], [2n ** 32n, 34], [5000000000n, 34], [2n ** 40n, 42], [2n ** 63n - 1n, 64],
    ];
    for (const [v, i] of cases) expect(histBucketIndex(v), String(v)).toBe(i);
    const p = lh(0, 10, 3);
    expect([-1, 0, 2, 3, 6, 8, 9, 10, 11].map((v) => lhistBucketIndex(BigInt(v), p))).toEqual([0, 1, 1, 2, 3, 3, 4, 4, 4]);
    expect(lhistBucketCount(p)).toBe(5);
    const q = lh(0, 100, 10);
    expect([99, 100, 101].map((v) => lhistBucketIndex(BigInt(v), q))).toEqual([10, 11, 11]);
  });

  it('labels: K, M, G, T (and P, E past 0.17\'s range); lhist K and M only when exact', () => {
    expect([0, 1, 9, 10, 11, 20, 30, 31, 40, 49, 50, 60, 63].map(histIndexLabel)).toEqual(
      ['1', '2', '512', '1K', '2K', '1M', '1G', '2G', '1T', '512T', '1P', '1E', '8E']);
    expect([0, 5, 1024, 1536, 2048, 1048576, 3145728, 1049600].map(lhistIndexLabel)).toEqual(
      ['0', '5', '1K', '1536', '2K', '1M', '3M', '1025K']);
    const buckets = new Array<bigint>(66).fill(0n);
    buckets[42] = 1n; // [1T, 2T)
    buckets[62] = 2n; // [1E, 2E)
    expect(histToText(buckets).split('\n')[0]).toBe('[1T, 2T)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |');
    expect(histToText(buckets).split('\n').at(-2)).toBe('[1E, 2E)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|');
  });

  it('JSON bounds are 64-bit (0.17\'s C int shifts printed [2G, 4G) as {"min": -2147483648, "max": 0})', () => {
    const b = hist([3000000000, 2n ** 63n - 1n]);
    if (b.kind !== 'hist') throw new Error();
    const json = JSON.parse(histToJson(b.buckets).replace(/(\d{16,})/g, '"$1"')) as { min: string; max: string; count: number }[];
    expect(json[0]).toEqual({ min: 2147483648, max: 4294967295, count: 1 });
    expect(json.at(-1)).toEqual({ min: '4611686018427387904', max: '9223372036854775807', count: 1 });
  });

  it('bar widths are count / max * 52 in float, truncated', () => {
    const rows = histToText([0n, 0n, 1n, 2n, 3n, 600n, 7n, 300n]).split('\n');
    const bars = rows.filter(Boolean).map((r) => r.slice(r.indexOf('|') + 1, -1).replace(/ +$/, '').length);
    expect(bars).toEqual([0, 0, 0, 52, 0, 26]);
    const r2 = histToText([0n, 0n, 1n, 2n, 3n]).split('\n').filter(Boolean).map((r) => r.slice(r.indexOf('|') + 1, -1).trimEnd().length);
    expect(r2).toEqual([17, 34, 52]);
    // Columns: label padded to 16, count right-aligned in 8; longer fields push the bar right.
    expect(histToText([0n, 0n, 123456789n])).toBe('[1]             123456789 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n');
  });

  it('lhist rows: (..., min), [max, ...), and only the non-empty span', () => {
    const p = lh(100, 200, 50);
    const v = lhist([50, 250, 260], p);
    if (v.kind !== 'lhist') throw new Error();
    expect(lhistToText(v.buckets, p)).toBe(
      '(..., 100)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n' +
      '[100, 150)             0 |                                                    |\n' +
      '[150, 200)             0 |                                                    |\n' +
      '[200, ...)             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n');
  });
});

describe('events', () => {
  it('attach, lost events, join, cat, system, value', () => {
    expect(text.attachedProbes(1)).toBe('Attaching 1 probe...\n');
    expect(text.attachedProbes(3)).toBe('Attaching 3 probes...\n');
    expect(json.attachedProbes(2)).toBe('{"type": "attached_probes", "data": {"probes": 2}}\n');
    expect(text.lostEvents(12)).toBe('Lost 12 events\n');
    expect(json.lostEvents(12)).toBe('{"type": "lost_events", "data": {"events": 12}}\n');
    expect(text.join('')).toBe('\n');
    expect(json.join('')).toBe('{"type": "join", "data": ""}\n');
    expect(json.system('hi 5\n')).toBe('{"type": "syscall", "data": "hi 5\\n"}\n');
    expect(json.cat('Linux\n')).toBe('{"type": "cat", "data": "Linux\\n"}\n');
    expect(text.cat('Linux\n')).toBe('Linux\n');
    expect(text.system('hi\n')).toBe('hi\n');
    expect(text.value({ type: str(8), value: 'plain' })).toBe('plain\n');
    expect(json.value({ type: str(8), value: 'plain' })).toBe('{"type": "value", "data": "plain"}\n');
    expect(text.exitSeparator()).toBe('\n\n');
    expect(json.exitSeparator()).toBe('\n\n');
    expect(() => createFormatter('xml')).toThrow();
  });

  it('helper errors (bpftrace -k, captured)', () => {
    const e = { helper: 'map_update_elem', retcode: -7, file: 'stdin', line: 2, column: 2, endColumn: 8, sourceLine: '\t@a[2]=2; exit(); }' };
    expect(text.helperError(e)).toBe(
      'stdin:2:2-8: WARNING: Failed to map_update_elem: Argument list too long (-7)\n    @a[2]=2; exit(); }\n    ~~~~~~\n');
    expect(helperErrorText({ ...e, line: 1, column: 18, endColumn: 24, sourceLine: 'BEGIN { @a[1]=1; @a[2]=2; exit(); }' })).toBe(
      'stdin:1:18-24: WARNING: Failed to map_update_elem: Argument list too long (-7)\nBEGIN { @a[1]=1; @a[2]=2; exit(); }\n                 ~~~~~~\n');
    expect(json.helperError({ ...e, column: 3 })).toBe('{"type": "helper_error", "helper": "map_update_elem", "retcode": -7, "line": 2, "col": 3}\n');
    expect(strerror(2)).toBe('No such file or directory');
    expect(strerror(524)).toBe('Unknown error 524');
  });

  it('JSON escapes as bpftrace: control bytes as \\u00XX, UTF-8 bytes as \\uffffffXX, DEL raw', () => {
    expect(jsonEscape('q"b\\s\t\n\r\x01\x1f\x7fé')).toBe('q\\"b\\\\s\\t\\n\\r\\u0001\\u001f\x7f\\uffffffc3\\uffffffa9');
    expect(jsonEscape('plain')).toBe('plain');
    expect(json.printf('é\x01\x7f|x\n')).toBe(fixture('extra/b.json.stdout').split('\n')[1] + '\n');
  });
});

describe('ordering helpers', () => {
  it('cxxSort leaves ties exactly where libstdc++ std::sort does', () => {
    const cases = JSON.parse(fixture('extra/std-sort.json')) as Array<{ values: number[]; order: number[] }>;
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      const items = c.values.map((v, id) => ({ v, id }));
      cxxSort(items, (a, b) => a.v < b.v);
      expect(items.map((x) => x.id)).toEqual(c.order);
    }
    // Sorted, reversed and constant inputs.
    for (const n of [0, 1, 2, 17, 100]) {
      const a = Array.from({ length: n }, (_, i) => n - i);
      expect(cxxSort([...a], (x, y) => x < y)).toEqual([...a].sort((x, y) => x - y));
    }
  });

  it('maps at exit in byte order of their names', () => {
    expect(sortMapNames(['@zeta', '@alpha', '@Mid', '@_under', '@', '@m2'].map((name) => ({ name }))).map((m) => m.name))
      .toEqual(['@', '@Mid', '@_under', '@alpha', '@m2', '@zeta']);
  });

  it('key bytes follow the C layout', () => {
    expect([...keyBytes([INT64], [256n])]).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...keyBytes([str(4), int(32, true)], ['ab', -1n])]).toEqual([97, 98, 0, 0, 255, 255, 255, 255]);
  });
});

describe('decoding per-CPU map values', () => {
  // Two CPUs, one entry: the kernel's per-CPU int64 values side by side.
  const decodeOne = (kind: 'count' | 'sum', perCpu: bigint[]): bigint => {
    const values = Buffer.alloc(8 * perCpu.length);
    perCpu.forEach((v, i) => values.writeBigInt64LE(BigInt.asIntN(64, v), i * 8));
    const s = { ...spec('@c', kind, { key: INT64 }), bpfType: 'percpu_hash' as const };
    const [e] = decodeMap(s, 1, Buffer.alloc(8), values, perCpu.length);
    return e!.value.kind === kind ? e!.value.value : -999n;
  };

  it('adds small values exactly, and large or overflowing ones as an int64 would', () => {
    expect(decodeOne('count', [3n, 4n])).toBe(7n);
    expect(decodeOne('sum', [-5n, 3n])).toBe(-2n);
    expect(decodeOne('count', [2n ** 53n, 1n])).toBe(2n ** 53n + 1n);
    expect(decodeOne('sum', [2n ** 52n - 1n, 2n ** 52n - 1n, 2n ** 52n - 1n])).toBe(3n * (2n ** 52n - 1n));
    expect(decodeOne('sum', [2n ** 62n, 2n ** 62n])).toBe(-(2n ** 63n));
    expect(decodeOne('count', [2n ** 63n + 5n, 0n])).toBe(2n ** 63n + 5n);
  });
});

describe('strings as bytes', () => {
  const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');
  it('decode valid UTF-8 as text and keep every other byte, so that encoding gives the bytes back', () => {
    const cases: [string, string][] = [
      ['68 c3 a9 6c 6c 6f', 'héllo'],
      ['f0 9f 98 80', '\u{1f600}'],
      ['61 ff e9 78', 'a\udcff\udce9x'],
      ['61 e2 82', 'a\udce2\udc82'], // truncated three-byte sequence
      ['c0 af', '\udcc0\udcaf'], // overlong '/'
      ['ed a0 80', '\udced\udca0\udc80'], // an encoded UTF-16 surrogate
      ['f4 90 80 80', '\udcf4\udc90\udc80\udc80'], // above U+10FFFF
    ];
    for (const [bytes, text] of cases) {
      expect(bytesToString(hex(bytes))).toBe(text);
      expect(stringBytes(text).equals(hex(bytes))).toBe(true);
    }
  });
});

describe('errorf() and warnf() messages (bpftrace 0.2x)', () => {
  const at = (line: number, column: number, endColumn: number, lines: string[], endLine = line) =>
    ({ file: 'stdin', line, column, endLine, endColumn, lines });

  it('text: the call\'s place, the tag and the text, one trailing newline dropped', () => {
    const call = at(1, 9, 62, ['BEGIN { errorf("Something bad with args: %d, %s", 10, "arg2"); }']);
    expect(text.scriptMessage({ severity: 'error', text: 'Something bad with args: 10, arg2', locations: [call] }))
      .toBe('stdin:1:9-62: ERROR: Something bad with args: 10, arg2\n');
    expect(text.scriptMessage({ severity: 'warning', text: 'two\n\n', locations: [call] })).toBe('stdin:1:9-62: WARNING: two\n\n');
  });

  it('text: a call over several lines is named by its lines; each macro call with its source, tabs as 4 columns', () => {
    const call = at(2, 3, 9, ['  errorf(', '    "x")'], 3);
    const macro = at(4, 3, 8, ['\t\tbad(); exit();']);
    expect(text.scriptMessage({ severity: 'error', text: 'x\n', locations: [call, macro, at(5, 1, 8, ['worse()'])] })).toBe(
      'stdin:2-3: ERROR: x\n'
      + 'stdin:4:3-8: ERROR: expanded from\n        bad(); exit();\n        ~~~~~\n'
      + 'stdin:5:1-8: ERROR: expanded from\nworse()\n~~~~~~~\n');
    const multi = at(1, 5, 2, ['a(', ')'], 2);
    expect(text.scriptMessage({ severity: 'warning', text: 'y', locations: [call, multi] }))
      .toBe('stdin:2-3: WARNING: y\nstdin:1-2: WARNING: expanded from\na(\n)\n');
  });

  it('JSON: an errorf or warnf record with the text as formatted and the call\'s start', () => {
    const call = { ...at(3, 9, 30, ['']), file: 'my "tool".bt' };
    expect(json.scriptMessage({ severity: 'error', text: 'a\tb\n', locations: [call, at(1, 1, 2, [''])] }))
      .toBe('{"type": "errorf", "msg": "a\\tb\\n", "filename": "my \\"tool\\".bt", "line": 3, "col": 9}\n');
    expect(json.scriptMessage({ severity: 'warning', text: 'w', locations: [call] }))
      .toBe('{"type": "warnf", "msg": "w", "filename": "my \\"tool\\".bt", "line": 3, "col": 9}\n');
  });

  it('text with a side stream (the CLI\'s stderr) writes them there; folded too', () => {
    const side: string[] = [];
    const m = { severity: 'error' as const, text: 'x', locations: [at(1, 1, 2, ['x'])] };
    expect(createFormatter('text', (t) => side.push(t)).scriptMessage(m)).toBe('');
    expect(createFormatter('folded', (t) => side.push(t)).scriptMessage(m)).toBe('');
    expect(side).toEqual(['stdin:1:1-2: ERROR: x\n', 'stdin:1:1-2: ERROR: x\n']);
  });
});
