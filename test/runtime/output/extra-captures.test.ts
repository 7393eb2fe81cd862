// More captures from the installed bpftrace 0.17 (test/fixtures/bpftrace-0.17/extra/*.bt, run
// with `bpftrace X.bt` and `bpftrace -f json X.bt`): print() with top/div on every map kind, value
// and key types, JSON escaping, lhist labels, hist bars.
import { describe, expect, it } from 'vitest';
import { createFormatter } from '../../../src/runtime/output/index.js';
import type { Formatter, MapSnapshot, PrintOptions, TypedValue } from '../../../src/runtime/output/model.js';
import { formatPrintf } from '../../../src/runtime/output/printf.js';
import { sortMapNames } from '../../../src/runtime/output/values.js';
import { INT64, int, str, type Type } from '../../../src/model/types.js';
import {
  STR64, count, entry, fixture, hist, lh, lhist, max, min, scalar, snap, spec, stats, sum, tuple,
} from './helpers.js';
import { withHistBeyond4G } from '../../helpers/hist-beyond-4g.js';

type Event = (f: Formatter) => string;
const text = createFormatter('text');
const json = createFormatter('json');

function run(f: Formatter, events: readonly Event[], maps: readonly MapSnapshot[]): string {
  let out = f.attachedProbes(1);
  for (const e of events) out += e(f);
  out += f.exitSeparator();
  for (const m of sortMapNames(maps.map((m) => ({ name: m.spec.name, m })))) out += f.map(m.m);
  return out;
}

const p = (m: MapSnapshot, o?: PrintOptions): Event => (f) => f.map(m, o);

describe('extra bpftrace 0.17 captures', () => {
  it('a.bt: print(@m, top, div) for hist, lhist, stats (ignored), avg, count, min, max, sum, ints; key sort', () => {
    const h = snap(spec('@h', 'hist', { key: INT64 }), [
      entry(3n, hist([100, 100])), entry(1n, hist([10, 20, 20, 20])), entry(2n, hist([3])),
    ]);
    const L = lh(0, 100, 10);
    const l = snap(spec('@l', 'lhist', { key: INT64, lhist: L }), [entry(1n, lhist([10, 10, 10], L)), entry(2n, lhist([55], L))]);
    const s = snap(spec('@s', 'stats', { key: INT64 }), [
      entry(1n, stats('stats', [10])), entry(2n, stats('stats', [100])), entry(3n, stats('stats', [5, 7])),
    ]);
    const a = snap(spec('@a', 'avg', { key: INT64 }), [
      entry(1n, stats('avg', [10])), entry(2n, stats('avg', [100])), entry(3n, stats('avg', [5, 7])),
    ]);
    const c = snap(spec('@c', 'count', { key: INT64 }), [entry(2n, count(3)), entry(1n, count(1))]);
    const mn = snap(spec('@mn', 'min', { key: INT64 }), [entry(1n, min(10)), entry(2n, min(-7))]);
    // 0.17 never stores max(-7) (its codegen compares against 0), so @mx has one entry.
    const mx = snap(spec('@mx', 'max', { key: INT64 }), [entry(1n, max(10))]);
    const sm = snap(spec('@sm', 'sum', { key: INT64 }), [entry(1n, sum(10)), entry(2n, sum(-7))]);
    const neg = snap(spec('@neg', 'scalar', { key: INT64 }), [entry(1n, scalar(-7n)), entry(2n, scalar(5n)), entry(3n, scalar(-100n))]);
    const st = snap(spec('@str', 'scalar', { key: INT64, value: str(2) }), [entry(2n, scalar('b')), entry(-1n, scalar('z')), entry(1n, scalar('a'))]);
    // Equal values: bpftrace keeps the kernel's hash order, which differs from run to run; ours
    // keeps the order it is given (the order of this capture).
    const sk = snap(spec('@sk', 'scalar', { key: str(3) }), [entry('ab', scalar(1n)), entry('b', scalar(1n)), entry('a', scalar(1n))]);
    const events = [
      p(h, { div: 2 }), p(h, { top: 1 }), p(l, { div: 2 }), p(l, { top: 1 }), p(s, { top: 1, div: 2 }),
      p(a, { top: 1, div: 2 }), p(a, { div: 3 }), p(c, { div: 2 }), p(mn, { div: 2 }), p(mx, { top: 1, div: 2 }),
      p(sm, { div: 2 }), p(neg, { div: 2 }), p(st),
    ];
    const maps = [h, l, s, a, c, mn, mx, sm, neg, st];
    expect(run(text, events, [...maps, sk])).toBe(fixture('extra/a.text.stdout'));
    expect(run(json, events, [...maps, sk])).toBe(fixture('extra/a.json.stdout'));
  });

  it('b.bt: pointer, small-int, bool, nested tuple, username, buffer values; escapes; print of values', () => {
    const ptr: Type = { kind: 'pointer', target: int(8, true) };
    const maps = [
      snap(spec('@p', 'scalar', { value: ptr }), [entry(undefined, scalar(1234n))]),
      snap(spec('@pk', 'scalar', { key: ptr }), [entry(255n, scalar(1n))]),
      snap(spec('@i8', 'scalar', { value: int(8, true) }), [entry(undefined, scalar(0xfbn))]),
      snap(spec('@u8', 'scalar', { value: int(8, false) }), [entry(undefined, scalar(300n))]),
      snap(spec('@i16', 'scalar', { value: int(16, true) }), [entry(undefined, scalar(-3n))]),
      snap(spec('@u32', 'scalar', { value: int(32, false) }), [entry(undefined, scalar(-1n))]),
      snap(spec('@i32', 'scalar', { value: int(32, true) }), [entry(undefined, scalar(-9n))]),
      snap(spec('@i8k', 'scalar', { key: int(8, true) }), [entry(-5n, scalar(1n))]),
      snap(spec('@u16k', 'scalar', { key: int(16, false) }), [entry(7n, scalar(2n))]),
      snap(spec('@bk', 'scalar', { key: { kind: 'bool' } }), [entry(1n, scalar(3n))]),
      snap(spec('@tup', 'scalar', { key: INT64, value: tuple(str(2), tuple(INT64, str(2)), INT64) }), [entry(1n, scalar(['a', [2n, 'b'], -3n]))]),
      snap(spec('@uname', 'scalar', { value: { kind: 'username' } }), [entry(undefined, scalar('root'))]),
      snap(spec('@esc', 'scalar', { value: str(64) }), [entry(undefined, scalar('q"b\\s\t\n\x01é'))]),
      snap(spec('@esck', 'scalar', { key: str(64) }), [entry('k"\n', scalar(1n))]),
      snap(spec('@buf', 'scalar', { value: { kind: 'buffer', size: 4 } }), [entry(undefined, scalar(new Uint8Array([0x61, 0x62, 0x01, 0xff])))]),
    ];
    const esc = maps.find((m) => m.spec.name === '@esc')!;
    const events: Event[] = [
      (f) => f.printf(formatPrintf('%s|%s\n', [{ type: str(64), value: 'é\x01\x7f' }, { type: str(2), value: 'x' }])),
      p(esc),
      (f) => f.value({ type: tuple(INT64, str(8)), value: [1n, 'é\x02'] }),
      (f) => f.value({ type: int(8, true), value: -1n }),
      (f) => f.value({ type: int(16, false), value: 65535n }),
    ];
    expect(run(text, events, maps)).toBe(fixture('extra/b.text.stdout'));
    expect(run(json, events, maps)).toBe(fixture('extra/b.json.stdout'));
  });

  it('c.bt: lhist K/M labels, a step that does not divide the range, hist bars and (..., 0) to [2G, 4G) (its JSON bounds 64-bit)', () => {
    const A = lh(1024, 5120, 1024);
    const B = lh(0, 4194304, 1048576);
    const C = lh(0, 10, 3);
    const D = lh(0, 100, 10);
    const g: number[] = [];
    for (let i = 0; i < 300; i++) g.push(1000000, 1, 2, 2);
    for (let i = 0; i < 7; i++) g.push(20000);
    const maps = [
      snap(spec('@a', 'lhist', { lhist: A }), [entry(undefined, lhist([-3000, -2048, 0, 5000, 1100].map((v) => v + 0), A))]),
      snap(spec('@b', 'lhist', { lhist: B }), [entry(undefined, lhist([3000000, 5000000], B))]),
      snap(spec('@c', 'lhist', { lhist: C }), [entry(undefined, lhist([7, 9, 10], C))]),
      snap(spec('@d', 'lhist', { lhist: D }), [entry(undefined, lhist([50], D))]),
      snap(spec('@e', 'lhist', { lhist: D }), [entry(undefined, lhist([-1], D))]),
      snap(spec('@f', 'lhist', { lhist: D }), [entry(undefined, lhist([150], D))]),
      snap(spec('@g', 'hist'), [entry(undefined, hist(g))]),
      snap(spec('@big', 'hist'), [entry(undefined, hist([1073741824, 4294967295, 2147483647, 33554432, -100]))]),
    ];
    expect(run(text, [], maps)).toBe(fixture('extra/c.text.stdout'));
    expect(run(json, [], maps)).toBe(withHistBeyond4G('extra/c', 'json', fixture('extra/c.json.stdout')));
  });

  it('p.bt: printf conversions on typed integers, flags, widths, precisions', () => {
    const i = (bits: 8 | 16 | 32 | 64, signed: boolean, v: bigint | number): TypedValue => ({ type: int(bits, signed), value: BigInt(v) });
    const L = (v: bigint | number) => i(64, true, v);
    const S = (v: string): TypedValue => ({ type: STR64, value: v });
    const lines = [
      formatPrintf('[%d] [%u] [%x] [%lx] [%ld] [%lu]\n', [i(8, true, -1), i(8, true, -1), i(32, true, -1), i(32, true, -1), i(32, false, 4294967295), i(16, true, -2)]),
      formatPrintf('[%c] [%5c] [%-3c] [%05s] [%.3d] [%5.3d] [%-05d] [%.4x] [%05x] [%018p] [%.0d] [%5.0d]\n',
        [L(65), L(66), L(67), S('ab'), L(7), L(7), L(7), L(255), L(255), L(4096), L(0), L(0)]),
      formatPrintf('[%05d] [%5d] [%-5d|] [%05ld] [%3s] [%-3s|] [%.0s] [%10.2s] [%-10.2s|]\n',
        [L(-42), L(-42), L(-42), L(-42), S('abcdef'), S('abcdef'), S('abc'), S('abc'), S('abc')]),
      formatPrintf('[%o] [%lo] [%X] [%lX] [%hx] [%hhx] [%hho] [%hu] [%hhu]\n', new Array(9).fill(L(-1))),
      formatPrintf('[%zu] [%zx] [%jx] [%td] [%tu] [%lld] [%llu] [%d] [%u]\n',
        [L(-1), L(-1), L(-1), L(-1), L(-1), L(9223372036854775807n), i(64, false, 9223372036854775808n), L(2147483648), L(2147483648)]),
      formatPrintf('[%p] [%lp] [%hp] [%hhp] [%-8p|] [%08d] [%-08d|] [%00d] [%000005d]\n',
        [L(-1), L(1), L(65536), L(256), L(16), L(-5), L(-5), L(3), L(3)]),
      formatPrintf('[%s] [%s] [%d]\n', [{ type: str(16), value: 'bpftrace' }, S('x'), { type: { kind: 'bool' }, value: 1n }]),
    ];
    const want = fixture('extra/p.text.stdout');
    expect(text.attachedProbes(1) + lines.join('') + '\n\n').toBe(want);
    const jwant = fixture('extra/p.json.stdout');
    expect(json.attachedProbes(1) + lines.map((l) => json.printf(l)).join('') + '\n\n').toBe(jwant);
  });
});
