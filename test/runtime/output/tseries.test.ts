// tseries() maps as bpftrace 0.26 prints them (its runtime tests tseries*, json-output "time
// series"): the graph, the window of the last intervals, missing intervals, and JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TseriesParams } from '../../../src/model/program.js';
import { createFormatter } from '../../../src/runtime/output/index.js';
import type { MapValue } from '../../../src/runtime/output/model.js';
import { STR64, entry, snap, spec } from './helpers.js';

const text = createFormatter('text');
const json = createFormatter('json');
const MS = 1_000_000n;

/** A tseries value: [epoch, value] pairs. */
const points = (...p: [number, number][]): MapValue => ({ kind: 'tseries', points: p.map(([e, v]) => ({ epoch: BigInt(e), value: BigInt(v) })) });

function tseriesSpec(name: string, p: TseriesParams, signed: boolean, key?: typeof STR64) {
  return { ...spec(name, 'tseries', key ? { key } : {}), valueType: { kind: 'aggregation', agg: 'tseries', signed } as const, tseries: p };
}

const AXIS = '|___________________________________________________|';
const BOTTOM = 'v___________________________________________________v';
/** A graph row: `*` at `at` (and `.` at `zero`), then the value. */
function row(time: string, at: number, value: string, zero = 0): string {
  const line = [...`|${' '.repeat(51)}|`];
  if (zero > 0) line[zero] = '.';
  if (at >= 0) line[at] = '*';
  return `${time} ${line.join('')} ${value}`;
}

beforeAll(() => {
  process.env.TZ = 'UTC'; // times print in local time
});

describe('tseries text', () => {
  it('a flat series gets one step of room on each side; a window of 5 intervals of 100ms', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 5, agg: 'last' };
    const s = snap(tseriesSpec('@a', p, false), [entry(undefined, points([5, 9], [6, 9], [7, 9], [8, 9], [9, 9]))]);
    const rows = [5, 6, 7, 8, 9].map((e) => row(`00:00:00.${e}00`, 26, '9'));
    expect(text.map(s)).toBe(['@a:', `${' '.repeat(13)}8${' '.repeat(50)}10`, `hh:mm:ss.ms  ${AXIS}`, ...rows,
      `${' '.repeat(13)}${BOTTOM}`, `${' '.repeat(13)}8${' '.repeat(50)}10`, '', ''].join('\n'));
  });

  it('an unsigned 0 keeps its minimum (0 to 1)', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 5, agg: 'min' };
    const s = snap(tseriesSpec('@a', p, false), [entry(undefined, points([5, 0], [6, 0], [7, 0], [8, 0], [9, 0]))]);
    expect(text.map(s).split('\n').slice(1, 4)).toEqual([`${' '.repeat(13)}0${' '.repeat(51)}1`, `hh:mm:ss.ms  ${AXIS}`, row('00:00:00.500', 0, '0')]);
  });

  it('signed values around zero: the zero line, points scaled over 52 columns', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 20, agg: 'last' };
    const values = [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4];
    const s = snap(tseriesSpec('@', p, true), [entry(undefined, points(...values.map((v, i): [number, number] => [i + 1, v])))]);
    const columns: Record<number, number> = { [-5]: 0, [-4]: 5, [-3]: 10, [-2]: 15, [-1]: 20, 0: 26, 1: 31, 2: 36, 3: 41, 4: 46, 5: 52 };
    const time = (i: number) => `00:00:0${Math.floor((i + 1) / 10)}.${(i + 1) % 10}00`;
    const rows = values.map((v, i) => row(time(i), columns[v]!, String(v), 26));
    const labels = `${' '.repeat(13)}-5${' '.repeat(50)}5`;
    expect(text.map(s)).toBe(['@:', labels, `hh:mm:ss.ms  ${AXIS}`, ...rows, `${' '.repeat(13)}${BOTTOM}`, labels, '', ''].join('\n'));
  });

  it('keys: least recently updated first, each in the window of the latest; missing intervals print -', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 10, agg: 'last' };
    const s = snap(tseriesSpec('@a', p, false, STR64), [
      entry('two', points([5, 4], [6, 4], [7, 4], [8, 4], [9, 4])),
      entry('one', points([1, 5], [2, 5], [3, 5], [4, 5])),
    ]);
    const out = text.map(s).split('\n');
    expect(out[0]).toBe('@a[one]:');
    expect(out.slice(3, 12)).toEqual([
      ...[1, 2, 3, 4].map((e) => row(`00:00:00.${e}00`, 26, '5')),
      ...[5, 6, 7, 8, 9].map((e) => row(`00:00:00.${e}00`, -1, '-')),
    ]);
    expect(out[14]).toBe('');
    expect(out[15]).toBe('@a[two]:');
    expect(out.slice(18, 23)).toEqual([5, 6, 7, 8, 9].map((e) => row(`00:00:00.${e}00`, 26, '4')));
  });

  it('the time unit follows the interval: whole seconds print none', () => {
    const p: TseriesParams = { intervalNs: 1_000_000_000n, intervals: 3, agg: 'sum' };
    const s = snap(tseriesSpec('@s', p, false), [entry(undefined, points([60, 1], [61, 3]))]);
    const out = text.map(s).split('\n');
    expect(out[1]).toBe(`${' '.repeat(9)}1${' '.repeat(51)}3`);
    expect(out[2]).toBe(`hh:mm:ss ${AXIS}`);
    expect(out[3]).toBe(row('00:01:00', 0, '1'));
    expect(out[4]).toBe(row('00:01:01', 52, '3'));
  });

  it('a zeroed series has no data; JSON lists nothing', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 5, agg: 'avg' };
    const s = snap(tseriesSpec('@a', p, false), [entry(undefined, points())]);
    expect(text.map(s)).toBe('@a:\n<no data>\n\n');
    expect(json.map(s)).toBe('{"type": "tseries", "data": {"@a": []}}\n');
  });
});

describe('tseries JSON', () => {
  it('interval starts as UTC time points with nanoseconds, keyed series as an object', () => {
    const p: TseriesParams = { intervalNs: 100n * MS, intervals: 10, agg: 'last' };
    const s = snap(tseriesSpec('@a', p, false, STR64), [
      entry('two', points([8, 4], [9, 4])),
      entry('one', points([1, 5])),
    ]);
    expect(json.map(s)).toBe('{"type": "tseries", "data": {"@a": {'
      + '"one": [{"interval_start":"1970-01-01 00:00:00.100000000","value":5}], '
      + '"two": [{"interval_start":"1970-01-01 00:00:00.800000000","value":4},{"interval_start":"1970-01-01 00:00:00.900000000","value":4}]}}}\n');
  });
});
