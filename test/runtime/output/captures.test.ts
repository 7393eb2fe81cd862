// The reference captures of bpftrace 0.17 (test/fixtures/bpftrace-0.17), rebuilt from the data the
// runtime would hand to the formatters, must come out byte for byte.
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

const printf = (format: string, ...args: TypedValue[]): Event => (f) => f.printf(formatPrintf(format, args));
const printMap = (m: MapSnapshot, o?: PrintOptions): Event => (f) => f.map(m, o);
const printValue = (type: Type, value: TypedValue['value']): Event => (f) => f.value({ type, value });
const i64 = (v: number | bigint): TypedValue => ({ type: INT64, value: BigInt(v) });
const s = (v: string): TypedValue => ({ type: str(64), value: v });

/** What a whole run prints: the attach line, the events, the separator, then every map by name. */
function run(f: Formatter, probes: number, events: readonly Event[], maps: readonly MapSnapshot[]): string {
  let out = f.attachedProbes(probes);
  for (const e of events) out += e(f);
  out += f.exitSeparator();
  for (const m of sortMapNames(maps.map((m) => ({ name: m.spec.name, m })))) out += f.map(m.m);
  return out;
}

const text = createFormatter('text');
const json = createFormatter('json');

function expectCapture(name: string, probes: number, events: readonly Event[], maps: readonly MapSnapshot[], jsonMaps = maps): void {
  expect(run(text, probes, events, maps)).toBe(withHistBeyond4G(name, 'text', fixture(`${name}.text.stdout`)));
  const got = run(json, probes, events, jsonMaps);
  const want = withHistBeyond4G(name, 'json', fixture(`${name}.json.stdout`));
  // Same values line by line...
  const parse = (t: string) => t.split('\n').map((l) => (l === '' ? null : JSON.parse(l)));
  expect(parse(got)).toEqual(parse(want));
  // ...and the same bytes (bpftrace's spacing).
  expect(got).toBe(want);
}

describe('bpftrace 0.17 captures', () => {
  it('01_count_keys', () => {
    const maps = [
      snap(spec('@c', 'count', { key: STR64 }), [entry('gamma', count(3)), entry('alpha', count(1)), entry('beta', count(2))]),
      snap(spec('@n', 'count', { key: INT64 }), [entry(-333n, count(4)), entry(22n, count(2)), entry(1n, count(1))]),
      snap(spec('@total', 'count'), [entry(undefined, count(1))]),
    ];
    expectCapture('01_count_keys', 1, [], maps);
  });

  it('02_hist (log2 buckets up to 2^63, sorted by total count)', () => {
    const sq = [0, 1, 2].map((k) => {
      const vals: number[] = [];
      for (let i = 0; i < 40; i++) if (i % 3 === k) vals.push(i * i);
      return entry(BigInt(k), hist(vals));
    });
    const maps = [
      snap(spec('@h', 'hist'), [entry(undefined, hist([-1, 0, 1, 2, 3, 4, 7, 100, 1023, 1024, 1048576]))]),
      snap(spec('@big', 'hist'), [entry(undefined, hist([5000000000n, 1099511627776n]))]),
      // Given in another order than bpftrace prints: @sq[1] and @sq[2] tie (13) and keep key order.
      snap(spec('@sq', 'hist', { key: INT64 }), [sq[2]!, sq[0]!, sq[1]!]),
    ];
    expectCapture('02_hist', 1, [], maps);
  });

  it('03_lhist', () => {
    const p = lh(0, 100, 10);
    const q = lh(0, 200, 50);
    const lk = [0, 1].map((k) => {
      const vals: number[] = [];
      for (let i = 0; i < 30; i++) if (i % 2 === k) vals.push(i * 7);
      return entry(['k', BigInt(k)], lhist(vals, q));
    });
    const maps = [
      snap(spec('@l', 'lhist', { lhist: p }), [entry(undefined, lhist([-5, 0, 5, 9, 15, 55, 99, 100, 250], p))]),
      snap(spec('@lk', 'lhist', { key: tuple(STR64, INT64), lhist: q }), [lk[1]!, lk[0]!]),
    ];
    expectCapture('03_lhist', 1, [], maps);
  });

  it('04_stats', () => {
    const maps = [
      snap(spec('@s', 'stats'), [entry(undefined, stats('stats', [10, 20, 30, -5]))]),
      snap(spec('@sk', 'stats', { key: STR64 }), [entry('b', stats('stats', [100, 201])), entry('a', stats('stats', [1]))]),
    ];
    expectCapture('04_stats', 1, [], maps);
  });

  it('05_avg_min_max_sum', () => {
    const maps = [
      snap(spec('@avg', 'avg'), [entry(undefined, stats('avg', [1, 2, 4]))]),
      snap(spec('@avgneg', 'avg'), [entry(undefined, stats('avg', [-7, 2]))]),
      snap(spec('@min', 'min'), [entry(undefined, min(-3))]),
      snap(spec('@max', 'max'), [entry(undefined, max(50))]),
      snap(spec('@sum', 'sum'), [entry(undefined, sum(54))]),
      snap(spec('@ks', 'sum', { key: STR64 }), [entry('y', sum(20)), entry('x', sum(5))]),
      snap(spec('@km', 'max', { key: INT64 }), [entry(1n, max(9)), entry(2n, max(3))]),
    ];
    expectCapture('05_avg_min_max_sum', 1, [], maps);
  });

  it('06_tuple_keys (tuple keys and values, printf of tuple fields, print of a tuple)', () => {
    const tv = tuple(STR64, INT64, INT64);
    const maps = [
      snap(spec('@t', 'scalar', { key: tuple(STR64, INT64) }), [
        entry(['foo', 1n], scalar(10n)), entry(['bar', 2n], scalar(20n)), entry(['foo', 2n], scalar(5n)),
      ]),
      snap(spec('@t3', 'count', { key: tuple(STR64, INT64, INT64) }), [entry(['a', 1n, -1n], count(1))]),
      snap(spec('@tv', 'scalar', { value: tv }), [entry(undefined, scalar(['abc', 42n, -1n]))]),
      snap(spec('@tk', 'scalar', { key: INT64, value: tuple(str(2), INT64) }), [entry(1n, scalar(['x', 2n]))]),
    ];
    const events = [
      printf('%d %s %d\n', i64(1), s('two'), i64(3)),
      printValue(tuple(str(4), INT64), ['lit', 7n]),
    ];
    expectCapture('06_tuple_keys', 1, events, maps);
  });

  it('07_print (print with top and div, print of values)', () => {
    const x = snap(spec('@x', 'scalar', { key: INT64 }), [
      entry(1n, scalar(5n)), entry(2n, scalar(3n)), entry(3n, scalar(1n)), entry(4n, scalar(10n)),
    ]);
    const h = snap(spec('@h', 'hist'), [entry(undefined, hist([10, 20]))]);
    const sc = snap(spec('@scalar', 'scalar'), [entry(undefined, scalar(123n))]);
    const st = snap(spec('@str', 'scalar', { value: str(64) }), [entry(undefined, scalar('a string value'))]);
    const events = [
      printMap(x), printMap(x, { top: 2 }), printMap(x, { top: 0, div: 2 }), printMap(h), printMap(sc), printMap(st),
      printValue(INT64, 456n), printValue(str(13), 'plain string'), printValue(INT64, -1n),
    ];
    expectCapture('07_print', 1, events, [x, h, sc, st]);
  });

  it('08_clear_zero_delete (empty maps, zeroed hist)', () => {
    const a = snap(spec('@a', 'scalar', { key: INT64 }), []);
    // Equal values keep the kernel's order; the two runs saw different orders.
    const bText = snap(spec('@b', 'count', { key: INT64 }), [entry(2n, count(0)), entry(1n, count(0))]);
    const bJson = snap(spec('@b', 'count', { key: INT64 }), [entry(1n, count(0)), entry(2n, count(0))]);
    const c = snap(spec('@c', 'hist'), [entry(undefined, { kind: 'hist', buckets: new Array<bigint>(66).fill(0n) })]);
    const d = snap(spec('@d', 'scalar', { key: INT64 }), [entry(2n, scalar(20n))]);
    const e = snap(spec('@e', 'sum'), [entry(undefined, sum(0))]);
    const events = (b: MapSnapshot) => [a, b, c, d, e].map((m) => printMap(m));
    expect(run(text, 1, events(bText), [a, bText, c, d, e])).toBe(fixture('08_clear_zero_delete.text.stdout'));
    expect(run(json, 1, events(bJson), [a, bJson, c, d, e])).toBe(fixture('08_clear_zero_delete.json.stdout'));
  });

  it('09_printf (every conversion bpftrace 0.17 supports)', () => {
    const events = [
      printf('[%s] [%d] [%u] [%x] [%X] [%o] [%c] [%p]\n', s('str'), i64(-42), i64(42), i64(255), i64(255), i64(8), i64(65), i64(4096)),
      printf('[%-10s] [%10s] [%.3s] [%5d] [%-5d] [%05d]\n', s('left'), s('right'), s('abcdef'), i64(7), i64(7), i64(7)),
      printf('[%ld] [%lu] [%lld] [%llu] [%lx] [%llx] [%zd] [%jd]\n', i64(-1), i64(-1), i64(-1), i64(-1), i64(255), i64(-1), i64(1), i64(1)),
      printf('[%hhd] [%hd] [%d] [%u]\n', i64(300), i64(70000), i64(4294967296n), i64(-1)),
      printf('[%%] [%s%s] [no newline at end]', s('a'), s('b')),
      printf('\n'),
      printf('tab\there, backslash \\ quote " done\n'),
      printf('%d %s\n', i64(7), s('x')),
    ];
    expectCapture('09_printf', 1, events, []);
  });

  it('10_time (text passes through; matches the captured pattern)', () => {
    const t = '19:01:56\n';
    expect(text.time(t)).toBe(t);
    expect(json.time(t)).toBe('{"type": "time", "data": "19:01:56\\n"}\n');
    const lines = fixture('10_time.text.stdout').split('\n');
    expect(lines[1]).toMatch(/^[0-9]{2}:[0-9]{2}:[0-9]{2}$/);
    expect(fixture('10_time.json.stdout').split('\n')[1]).toMatch(/^\{"type": "time", "data": "[0-9]{2}:[0-9]{2}:[0-9]{2}\\n"\}$/);
  });

  it('15_values_misc (big ints, bools, ksym values, string keys and values, cat)', () => {
    const maps = [
      snap(spec('@int', 'scalar'), [entry(undefined, scalar(42n))]),
      snap(spec('@neg', 'scalar'), [entry(undefined, scalar(-42n))]),
      snap(spec('@big', 'scalar'), [entry(undefined, scalar(1099511627776n))]),
      snap(spec('@str', 'scalar', { value: str(6) }), [entry(undefined, scalar('hello'))]),
      snap(spec('@strkey', 'scalar', { key: str(3), value: str(3) }), [entry('k1', scalar('v1'))]),
      snap(spec('@ksymval', 'scalar', { value: { kind: 'ksym' } }), [entry(undefined, scalar('vfs_read'))]),
      snap(spec('@bool', 'scalar', { value: { kind: 'bool' } }), [entry(undefined, scalar(1n))]),
      snap(spec('@ustr', 'scalar', { key: INT64, value: str(2) }), [entry(2n, scalar('y')), entry(1n, scalar('x'))]),
    ];
    const events: Event[] = [
      printf('%s|%d|%d\n', s('lit'), { type: int(64, false), value: 8n }, i64(3)),
      (f) => f.cat('Linux\n'),
    ];
    expectCapture('15_values_misc', 1, events, maps);
  });

  it('16_exit_order (maps in name order, END output before the separator)', () => {
    const one = (name: string, v: bigint) => snap(spec(name, 'scalar'), [entry(undefined, scalar(v))]);
    const maps = [
      one('@zeta', 1n), one('@alpha', 2n), one('@Mid', 3n), one('@_under', 4n),
      snap(spec('@m2', 'scalar', { key: INT64 }), [entry(3n, scalar(3n)), entry(1n, scalar(2n)), entry(2n, scalar(1n))]),
      one('@fromend', 5n),
    ];
    expectCapture('16_exit_order', 2, [printf('begin\n'), printf('end\n')], maps);
  });

  it('13_kstack_ustack map keys (stack layout only; symbols come from the runtime)', () => {
    const frames = ['perf_syscall_enter+397', 'syscall_trace_enter+384', 'do_syscall_64+506'];
    const k3 = snap(spec('@k3', 'count', { key: { kind: 'kstack', depth: 3, mode: 'bpftrace' } }), [entry([frames], count(1))]);
    const kempty = snap(spec('@kempty', 'count', { key: { kind: 'kstack', depth: 127, mode: 'bpftrace' } }), [entry([[]], count(1))]);
    const want = fixture('13_kstack_ustack.text.stdout');
    expect(want).toContain(text.map(k3));
    expect(want).toContain(text.map(kempty));
    const jwant = fixture('13_kstack_ustack.json.stdout');
    expect(jwant).toContain(json.map(k3));
    expect(jwant).toContain(json.map(kempty));
    const perf = ['ffffffff814b2b2d perf_syscall_enter+397', 'ffffffff81417d70 syscall_trace_enter+384',
      'ffffffff821ef81a do_syscall_64+506', 'ffffffff81000130 entry_SYSCALL_64_after_hwframe+118'];
    const kp = snap(spec('@kp', 'count', { key: { kind: 'kstack', depth: 127, mode: 'perf' } }), [entry([perf], count(1))]);
    expect(want).toContain(text.map(kp));
    expect(jwant).toContain(json.map(kp));
    // printf("%s", kstack): 8 spaces of indent.
    const ks = formatPrintf('kstack:%s\n', [{ type: { kind: 'kstack', depth: 127, mode: 'bpftrace' }, value: [...frames, 'entry_SYSCALL_64_after_hwframe+118'] }]);
    expect(want).toContain(ks);
  });

  it('14_join', () => {
    const events: Event[] = [(f) => f.join('/bin/echo one two three four'), (f) => f.join('/bin/echo,one,two,three four')];
    expectCapture('14_join', 1, events, []);
  });

  it('12_ksym_usym maps (resolved symbols as keys)', () => {
    const ks = snap(spec('@ks', 'count', { key: { kind: 'ksym' } }), [entry('vfs_read', count(1))]);
    const us = snap(spec('@us', 'count', { key: { kind: 'usym' } }), [entry('fmt_leaf', count(1))]);
    expect(fixture('12_ksym_usym.text.stdout')).toContain(text.map(ks) + text.map(us));
    expect(fixture('12_ksym_usym.json.stdout')).toContain(json.map(ks) + json.map(us));
  });

  it('11_str maps (string keys, equal values)', () => {
    const m = snap(spec('@opens', 'count', { key: STR64 }), [
      entry('/etc/hostname', count(1)), entry('/lib/x86_64-linux-gnu/libc.so.6', count(1)), entry('/etc/ld.so.cache', count(1)),
    ]);
    expect(fixture('11_str.text.stdout').endsWith('\n\n' + text.map(m))).toBe(true);
    expect(fixture('11_str.json.stdout').endsWith('\n\n' + json.map(m))).toBe(true);
  });
});
