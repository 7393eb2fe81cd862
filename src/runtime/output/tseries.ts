// tseries() maps as bpftrace 0.26 prints them: a graph of the last intervals in text, a list of
// {interval_start, value} in JSON. Every key shows the window that ends at the latest interval
// of the whole map, from its own first interval on; intervals without a value print `-`.
import type { TseriesParams } from '../../model/program.js';
import type { MapEntry, MapSnapshot, TseriesPoint } from './model.js';
import { strftime } from './time.js';
import { exactNumber, sortEntries } from './values.js';

/** One row of a time series: the interval's epoch (start / interval) and its value, if it has one. */
interface Row {
  readonly epoch: bigint;
  readonly value?: bigint;
}

const GRAPH_WIDTH = 53;
/** Width of the column the graph's minimum is printed in (then the maximum, right-aligned). */
const LABEL_PADDING = 21;
const NS_PER_S = 1_000_000_000n;

/** The latest epoch of all the map's entries (0 when none has a value). */
function lastEpoch(entries: readonly MapEntry[]): bigint {
  let last = 0n;
  for (const e of entries) {
    if (e.value.kind !== 'tseries') continue;
    for (const p of e.value.points) if (p.epoch > last) last = p.epoch;
  }
  return last;
}

/**
 * The rows of one series (build_time_series): the window [last - intervals + 1, last] of the
 * whole map, from the series' first epoch in it (the window's end when it has none there).
 */
function rowsOf(points: readonly TseriesPoint[], last: bigint, p: TseriesParams): Row[] {
  if (last === 0n) return [];
  const first = last - BigInt(p.intervals) + 1n;
  const byEpoch = new Map(points.filter((x) => x.epoch >= first).map((x) => [x.epoch, x.value]));
  let start = last;
  for (const epoch of byEpoch.keys()) if (epoch < start) start = epoch;
  const rows: Row[] = [];
  for (let epoch = start; epoch <= last; epoch++) rows.push({ epoch, value: byEpoch.get(epoch) });
  return rows;
}

/** The series of every entry, in print order. */
export function tseriesRows(snapshot: MapSnapshot, p: TseriesParams): { entry: MapEntry; rows: Row[] }[] {
  const last = lastEpoch(snapshot.entries);
  return sortEntries(snapshot).map((entry) => ({
    entry,
    rows: rowsOf(entry.value.kind === 'tseries' ? entry.value.points : [], last, p),
  }));
}

/** How precisely the rows' times print: a unit, as bpftrace's duration_str picks it for the interval. */
const UNITS = [
  { below: 1_000n, name: 'ns', digits: 9 },
  { below: 1_000_000n, name: 'μs', digits: 6 },
  { below: NS_PER_S, name: 'ms', digits: 3 },
] as const;

function timeUnit(rows: readonly Row[], p: TseriesParams): { name: string; digits: number } | undefined {
  const span = (rows.at(-1)!.epoch - rows[0]!.epoch) * p.intervalNs;
  const interval = span / BigInt(rows.length > 1 ? rows.length - 1 : 1);
  return UNITS.find((u) => interval < u.below);
}

/** `hh:mm:ss[.fraction]` of an interval's start, in local time (the epoch is TAI time as Unix time, as bpftrace). */
function startText(epoch: bigint, p: TseriesParams, digits: number): string {
  const ns = epoch * p.intervalNs;
  const text = strftime('%H:%M:%S', new Date(Number(ns / NS_PER_S) * 1000));
  if (digits === 0) return text;
  return text + '.' + String((ns % NS_PER_S) / 10n ** BigInt(9 - digits)).padStart(digits, '0');
}

/** The interval's start as bpftrace's JSON writes a time point: `1970-01-01 00:00:00.100000000`, UTC. */
function startJson(epoch: bigint, p: TseriesParams): string {
  const ns = epoch * p.intervalNs;
  const date = new Date(Number(ns / NS_PER_S) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return `${date}.${String(ns % NS_PER_S).padStart(9, '0')}`;
}

/** C++ setw: pads to `width` bytes (the unit μs is two bytes, one column). */
function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - Buffer.byteLength(s)));
}

/** float arithmetic as bpftrace's graph does it: (width) * (distance) / (range), each a float. */
function floatOffset(width: number, distance: bigint, range: bigint): number {
  const f = Math.fround;
  return Math.trunc(f(f(f(width) * f(Number(distance))) / f(Number(range))));
}

/** The graph of one series (TextEmitter<Value::TimeSeries>); `signed`: the values' type. */
export function tseriesText(rows: readonly Row[], p: TseriesParams, signed: boolean): string {
  if (rows.length === 0) return '<no data>\n';
  const values = rows.flatMap((r) => (r.value === undefined ? [] : [r.value]));
  let min = values.reduce((a, b) => (b < a ? b : a), values[0] ?? 0n);
  let max = values.reduce((a, b) => (b > a ? b : a), values[0] ?? 0n);
  if (min === max) {
    // Room on both sides of a flat line, short of the type's bounds.
    const [lo, hi] = signed ? [-(1n << 63n), (1n << 63n) - 1n] : [0n, (1n << 64n) - 1n];
    if (min > lo) min--;
    if (max < hi) max++;
  }
  const unit = timeUnit(rows, p);
  const timeFormat = unit ? `hh:mm:ss.${unit.name}` : 'hh:mm:ss';
  const timeSize = 8 + (unit ? 1 + unit.digits : 0);
  const indent = ' '.repeat(timeSize + 1);
  const labels = `${min.toString().padEnd(LABEL_PADDING)}${max.toString().padStart(GRAPH_WIDTH - LABEL_PADDING)}\n`;
  let out = indent + labels;
  out += `${padEnd(timeFormat, timeSize + 1)}|${'_'.repeat(GRAPH_WIDTH - 2)}|\n`;
  const zeroOffset = min < 0n && max > 0n ? floatOffset(GRAPH_WIDTH, -min, max - min) : 0;
  for (const row of rows) {
    const line = Array<string>(GRAPH_WIDTH).fill(' ');
    line[0] = '|';
    line[GRAPH_WIDTH - 1] = '|';
    if (zeroOffset > 0) line[zeroOffset] = '.';
    let value = '-';
    if (row.value !== undefined) {
      const at = min === max ? Math.trunc(GRAPH_WIDTH / 2) : floatOffset(GRAPH_WIDTH - 1, row.value - min, max - min);
      line[Math.max(0, Math.min(GRAPH_WIDTH - 1, at))] = '*';
      value = row.value.toString();
    }
    out += `${startText(row.epoch, p, unit?.digits ?? 0)} ${line.join('')} ${value}\n`;
  }
  out += `${indent}v${'_'.repeat(GRAPH_WIDTH - 2)}v\n`;
  return out + indent + labels;
}

/** The JSON list of one series: the intervals with a value (JsonEmitter<Value::TimeSeries>). */
export function tseriesJson(rows: readonly Row[], p: TseriesParams): string {
  const items = rows.flatMap((r) => (r.value === undefined ? []
    : [`{"interval_start":"${startJson(r.epoch, p)}","value":${exactNumber(r.value)}}`]));
  return `[${items.join(',')}]`;
}
