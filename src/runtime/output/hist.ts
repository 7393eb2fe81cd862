// Histogram rendering (hist and lhist), text and JSON, exactly as bpftrace 0.17 prints them,
// plus the reference bucket functions codegen must reproduce.
import { HIST_LOG2_SHIFTS, type LhistParams } from '../../model/program.js';

// ---------------------------------------------------------------------------------------------
// bucket indexes (what the BPF program computes; see model.ts)

/** The hist() bucket: 0 for < 0, 1 for 0, else 2 + log2 by HIST_LOG2_SHIFTS. */
export function histBucketIndex(value: bigint): number {
  const v = BigInt.asIntN(64, value);
  if (v < 0n) return 0;
  if (v === 0n) return 1;
  let n = v;
  let l = 0;
  for (const s of HIST_LOG2_SHIFTS) {
    if (n >= 1n << BigInt(s)) {
      n >>= BigInt(s);
      l += s;
    }
  }
  return l + 2;
}

/** bpftrace 0.17's lhist() bucket (createLinearFunction). */
export function lhistBucketIndex(value: bigint, p: LhistParams): number {
  const v = BigInt.asIntN(64, value);
  if (v < p.min) return 0;
  if (v > p.max) return Number(1n + (p.max - p.min) / p.step);
  return Number(1n + (v - p.min) / p.step);
}

// ---------------------------------------------------------------------------------------------
// labels

/** TextOutput::hist_index_label: 2^power with a K/M/G/T suffix (P and E beyond, as later bpftrace). */
export function histIndexLabel(power: number): string {
  let suffix = '';
  for (const [p, s] of [[60, 'E'], [50, 'P'], [40, 'T'], [30, 'G'], [20, 'M'], [10, 'K']] as const) {
    if (power >= p) {
      suffix = s;
      power -= p;
      break;
    }
  }
  return String(2 ** power) + suffix;
}

/** TextOutput::lhist_index_label: the number, or n/1M `M`, or n/1K `K` when exact (0 stays 0). */
export function lhistIndexLabel(n: number): string {
  if (n === 0) return '0';
  if (n % 1048576 === 0) return `${n / 1048576}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

// ---------------------------------------------------------------------------------------------
// shared row layout

const MAX_WIDTH = 52;

/** C's (int)(uint64_t)v: bpftrace keeps bucket counts in an `int` while it scans them. */
function asCInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** `int bar_width = values.at(i) / (float)max_value * max_width;` in float arithmetic. */
function barWidth(v: bigint, maxValue: number): number {
  const f = Math.fround;
  const w = f(f(f(Number(BigInt.asUintN(64, v))) / f(maxValue)) * MAX_WIDTH);
  return Math.max(0, Math.trunc(w));
}

const BARS: readonly string[] = Array.from({ length: MAX_WIDTH + 1 }, (_, i) => '@'.repeat(i).padEnd(MAX_WIDTH, ' '));

function row(header: string, count: bigint, bar: number): string {
  const bars = bar <= MAX_WIDTH ? BARS[bar]! : '@'.repeat(bar); // wider only for counts >= 2^31
  return header.padEnd(16, ' ') + count.toString().padStart(8, ' ') + ' |' + bars + '|\n';
}

// ---------------------------------------------------------------------------------------------
// hist

interface HistRange {
  readonly min: number;
  readonly max: number;
  readonly maxValue: number;
}

/** Output::hist_prepare: first and last non-zero bucket and the largest count (all as C ints). */
function histPrepare(values: readonly bigint[]): HistRange {
  let min = -1;
  let max = -1;
  let maxValue = 0;
  for (let i = 0; i < values.length; i++) {
    const v = asCInt(values[i]!);
    if (v > 0) {
      if (min === -1) min = i;
      max = i;
    }
    if (v > maxValue) maxValue = v;
  }
  return { min, max, maxValue };
}

function histHeader(i: number): string {
  if (i === 0) return '(..., 0)';
  if (i === 1) return '[0]';
  if (i === 2) return '[1]';
  return `[${histIndexLabel(i - 2)}, ${histIndexLabel(i - 1)})`;
}

/** TextOutput::hist_to_str: one row per bucket from the first to the last non-empty one. */
export function histToText(values: readonly bigint[], div = 1n): string {
  const r = histPrepare(values);
  if (r.max === -1) return '';
  let out = '';
  for (let i = r.min; i <= r.max; i++) {
    const v = values[i]!;
    out += row(histHeader(i), BigInt.asUintN(64, v) / div, barWidth(v, r.maxValue));
  }
  return out;
}

/**
 * JsonOutput::hist_to_str, with each bucket's bounds as 64-bit numbers, as bpftrace since 0.20:
 * 0.17 computed them with C `int` shifts, and printed [2G, 4G) as `"min": -2147483648, "max": 0`.
 */
export function histToJson(values: readonly bigint[], div = 1n): string {
  const r = histPrepare(values);
  if (r.max === -1) return '[]';
  const parts: string[] = [];
  for (let i = r.min; i <= r.max; i++) {
    let bounds: string;
    if (i === 0) bounds = '"max": -1, ';
    else if (i === 1) bounds = '"min": 0, "max": 0, ';
    else if (i === 2) bounds = '"min": 1, "max": 1, ';
    else {
      const low = 1n << BigInt(i - 2);
      bounds = `"min": ${low}, "max": ${2n * low - 1n}, `;
    }
    parts.push(`{${bounds}"count": ${BigInt.asUintN(64, values[i]!) / div}}`);
  }
  return '[' + parts.join(', ') + ']';
}

// ---------------------------------------------------------------------------------------------
// lhist

interface LhistRange {
  readonly maxIndex: number;
  readonly maxValue: number;
  readonly buckets: number;
  readonly start: number;
  readonly end: number;
}

/** Output::lhist_prepare. */
function lhistPrepare(values: readonly bigint[], p: LhistParams): LhistRange {
  const min = Number(p.min);
  const max = Number(p.max);
  const step = Number(p.step);
  const buckets = Math.trunc((max - min) / step);
  let maxIndex = -1;
  let maxValue = 0;
  for (let i = 0; i < values.length; i++) {
    const v = asCInt(values[i]!);
    if (v !== 0) maxIndex = i;
    if (v > maxValue) maxValue = v;
  }
  let start = -1;
  let end = 0;
  if (maxIndex !== -1) {
    for (let i = 0; i <= buckets + 1; i++) {
      if ((values[i] ?? 0n) > 0n) {
        if (start === -1) start = i;
        end = i;
      }
    }
    if (start === -1) start = 0;
  }
  return { maxIndex, maxValue, buckets, start, end };
}

/** TextOutput::lhist_to_str. lhist ignores print()'s divisor, as bpftrace 0.17 does. */
export function lhistToText(values: readonly bigint[], p: LhistParams): string {
  const r = lhistPrepare(values, p);
  if (r.maxIndex === -1) return '';
  const min = Number(p.min);
  const max = Number(p.max);
  const step = Number(p.step);
  let out = '';
  for (let i = r.start; i <= r.end; i++) {
    let header: string;
    if (i === 0) header = `(..., ${lhistIndexLabel(min)})`;
    else if (i === r.buckets + 1) header = `[${lhistIndexLabel(max)}, ...)`;
    else header = `[${lhistIndexLabel((i - 1) * step + min)}, ${lhistIndexLabel(i * step + min)})`;
    const v = values[i] ?? 0n;
    out += row(header, BigInt.asUintN(64, v), barWidth(v, r.maxValue));
  }
  return out;
}

/** JsonOutput::lhist_to_str. */
export function lhistToJson(values: readonly bigint[], p: LhistParams): string {
  const r = lhistPrepare(values, p);
  if (r.maxIndex === -1) return '[]';
  const min = Number(p.min);
  const max = Number(p.max);
  const step = Number(p.step);
  const parts: string[] = [];
  for (let i = r.start; i <= r.end; i++) {
    let bounds: string;
    if (i === 0) bounds = `"max": ${min - 1}, `;
    else if (i === r.buckets + 1) bounds = `"min": ${max}, `;
    else bounds = `"min": ${(i - 1) * step + min}, "max": ${i * step + min - 1}, `;
    parts.push(`{${bounds}"count": ${BigInt.asUintN(64, values[i] ?? 0n)}}`);
  }
  return '[' + parts.join(', ') + ']';
}
