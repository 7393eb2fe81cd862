// Builders for the data the runtime hands to the formatters, and fixture access.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MapEntry, MapSnapshot, MapValue, Value } from '../../../src/runtime/output/model.js';
import { histBucketIndex, lhistBucketIndex } from '../../../src/runtime/output/hist.js';
import { lhistBucketCount, type LhistParams, type MapKind, type MapSpec } from '../../../src/model/program.js';
import { INT64, str, type AggregationKind, type Type } from '../../../src/model/types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', 'fixtures', 'bpftrace-0.17');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

const span = { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };

export const STR64 = str(64);
export const tuple = (...elements: Type[]): Type => ({ kind: 'tuple', elements });

export function spec(name: string, kind: MapKind, opts: { key?: Type; value?: Type; lhist?: LhistParams } = {}): MapSpec {
  const valueType: Type = opts.value ?? (kind === 'scalar' ? INT64 : { kind: 'aggregation', agg: kind as AggregationKind, signed: true });
  return {
    name,
    kind,
    keyType: opts.key,
    valueType,
    bpfType: 'hash',
    keySize: 8,
    valueSize: 8,
    maxEntries: 4096,
    preallocate: true,
    lhist: opts.lhist,
    span,
  };
}

/** An entry; a non-array key becomes a one-element key. */
export function entry(key: Value | readonly Value[] | undefined, value: MapValue): MapEntry {
  if (key === undefined) return { value };
  return { key: Array.isArray(key) ? (key as readonly Value[]) : [key as Value], value };
}

export const count = (v: bigint | number): MapValue => ({ kind: 'count', value: BigInt(v) });
export const sum = (v: bigint | number): MapValue => ({ kind: 'sum', value: BigInt(v) });
export const min = (v: bigint | number): MapValue => ({ kind: 'min', value: BigInt(v) });
export const max = (v: bigint | number): MapValue => ({ kind: 'max', value: BigInt(v) });
export const scalar = (v: Value): MapValue => ({ kind: 'scalar', value: v });

export function stats(kind: 'avg' | 'stats', values: readonly (bigint | number)[]): MapValue {
  return { kind, count: BigInt(values.length), total: values.reduce<bigint>((a, b) => a + BigInt(b), 0n) };
}

/** The buckets the BPF program would have built from these hist() calls. */
export function hist(values: readonly (bigint | number)[], size = 66): MapValue {
  const buckets = new Array<bigint>(size).fill(0n);
  for (const v of values) buckets[histBucketIndex(BigInt(v))]! += 1n;
  return { kind: 'hist', buckets };
}

export function lhist(values: readonly (bigint | number)[], p: LhistParams): MapValue {
  const buckets = new Array<bigint>(lhistBucketCount(p) + 1).fill(0n);
  for (const v of values) buckets[lhistBucketIndex(BigInt(v), p)]! += 1n;
  return { kind: 'lhist', buckets };
}

export function lh(min: number, max: number, step: number): LhistParams {
  return { min: BigInt(min), max: BigInt(max), step: BigInt(step) };
}

export function snap(s: MapSpec, entries: readonly MapEntry[]): MapSnapshot {
  return { spec: s, entries };
}
