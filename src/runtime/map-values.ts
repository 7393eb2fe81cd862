// A run's maps as typed values: what exporters (--metrics, -f pprof) read, and what the Node API
// will hand out (`session.maps()`). Keys become named parts (see MapSpec.keyNames), stacks become
// symbolized frames, histograms bucket arrays with their bounds, stats `{ count, sum, avg }`.
import type { MapKind, MapSpec } from '../model/program.js';
import { HIST_LAST_BUCKET } from '../model/program.js';
import { tupleLayout, type Type } from '../model/types.js';
import type { MapEntry, Value } from './output/model.js';
import { aggregateValue, average } from './output/values.js';
import { type BuildIdFrame, type Frame, processKey, type Resolver } from './symbols.js';

/** A key part: a decoded value, or the frames of a kstack/ustack (leaf first). */
export type KeyValue = Value | readonly Frame[] | readonly BuildIdFrame[];

/** One histogram bucket: values from `min` (inclusive) to `max` (exclusive); unbounded where absent. */
export interface Bucket {
  readonly min?: bigint;
  readonly max?: bigint;
  readonly count: bigint;
}

export type AggregateValue =
  | { readonly kind: 'scalar'; readonly value: Value }
  | { readonly kind: 'count' | 'sum' | 'min' | 'max'; readonly value: bigint }
  | { readonly kind: 'avg'; readonly value: bigint; readonly count: bigint; readonly sum: bigint }
  | { readonly kind: 'stats'; readonly count: bigint; readonly sum: bigint; readonly avg: bigint }
  | { readonly kind: 'hist' | 'lhist'; readonly buckets: readonly Bucket[] }
  /** tseries: each slot's latest interval (its start, ns of the TAI clock) and value, oldest first. */
  | { readonly kind: 'tseries'; readonly points: readonly { readonly start: bigint; readonly value: bigint }[] };

export interface KeyInfo {
  /** From the key expression (`comm`, `args->fd` → `fd`, `$name`), else undefined. */
  readonly name?: string;
  readonly type: Type;
}

export interface TypedMapEntry {
  /** One value per key part (empty for a map without a key). */
  readonly key: readonly KeyValue[];
  readonly value: AggregateValue;
}

export interface TypedMap {
  /** With its `@`. */
  readonly name: string;
  readonly kind: MapKind;
  readonly keys: readonly KeyInfo[];
  readonly entries: readonly TypedMapEntry[];
  readonly spec: MapSpec;
}

/** What reads a map now (Session.snapshot). */
export interface MapReader {
  snapshot(spec: MapSpec, keyFrameName: undefined, rawKeys: boolean): { readonly entries: readonly MapEntry[] };
  readonly resolver: Resolver;
}

/** The key parts of a map: one per tuple element, or one, or none. */
export function keyParts(spec: MapSpec): KeyInfo[] {
  if (!spec.keyType) return [];
  const types = spec.keyType.kind === 'tuple' ? spec.keyType.elements : [spec.keyType];
  return types.map((type, i) => ({ name: spec.keyNames?.[i], type }));
}

/** Whether a map has a kstack or ustack key part. */
export function hasStackKey(spec: MapSpec): boolean {
  return keyParts(spec).some((k) => k.type.kind === 'kstack' || k.type.kind === 'ustack');
}

/** Reads a map now and types its entries. */
export function readMap(reader: MapReader, spec: MapSpec): TypedMap {
  const keys = keyParts(spec);
  const stacks = hasStackKey(spec);
  const { entries } = reader.snapshot(spec, undefined, stacks);
  const offsets = spec.keyType?.kind === 'tuple' ? tupleLayout(spec.keyType.elements).offsets : [0];
  return {
    name: spec.name,
    kind: spec.kind,
    keys,
    spec,
    entries: entries.map((e) => ({
      key: (e.key ?? []).map((v, i) => {
        const t = keys[i]!.type;
        if (!stacks || !e.rawKey || (t.kind !== 'kstack' && t.kind !== 'ustack')) return v;
        // The stack id (and for a ustack the pid) as the kernel key holds them.
        const at = offsets[i]!;
        const id = e.rawKey.readBigInt64LE(at);
        if (t.mode === 'build_id') return reader.resolver.buildIdFrames(id, t.depth);
        const process = t.kind === 'ustack' ? processKey(e.rawKey.readBigUInt64LE(at + 8)) : 0;
        return reader.resolver.frames(t.kind, id, t.depth, process);
      }),
      value: typedValue(spec, e),
    })),
  };
}

function typedValue(spec: MapSpec, e: MapEntry): AggregateValue {
  const v = e.value;
  switch (v.kind) {
    case 'scalar':
      return v;
    case 'count': case 'sum': case 'min': case 'max':
      return { kind: v.kind, value: aggregateValue(spec, e) };
    case 'avg':
      return { kind: 'avg', value: average(v.count, v.total), count: v.count, sum: BigInt.asIntN(64, v.total) };
    case 'stats':
      return { kind: 'stats', count: v.count, sum: BigInt.asIntN(64, v.total), avg: average(v.count, v.total) };
    case 'hist': case 'lhist':
      return { kind: v.kind, buckets: v.buckets.map((count, i) => ({ ...bucketBounds(spec, i), count })) };
    case 'tseries':
      return { kind: 'tseries', points: v.points.map((p) => ({ start: p.epoch * (spec.tseries?.intervalNs ?? 0n), value: p.value })) };
  }
}

/**
 * The bounds of bucket i (see MapValue in output/model.ts): hist 0 is < 0, 1 is 0, k is
 * [2^(k-2), 2^(k-1)), and the last bucket log2 reaches (64) takes every value from 2^62;
 * lhist 0 is < min, k is [min + (k-1)·step, min + k·step), n + 1 is max and above.
 */
export function bucketBounds(spec: MapSpec, i: number): { min?: bigint; max?: bigint } {
  if (spec.kind === 'lhist' && spec.lhist) {
    const { min, max, step } = spec.lhist;
    const n = (max - min) / step;
    if (i === 0) return { max: min };
    if (BigInt(i) > n) return { min: min + n * step };
    return { min: min + BigInt(i - 1) * step, max: min + BigInt(i) * step };
  }
  if (i === 0) return { max: 0n };
  if (i === 1) return { min: 0n, max: 1n };
  return i >= HIST_LAST_BUCKET ? { min: 1n << BigInt(i - 2) } : { min: 1n << BigInt(i - 2), max: 1n << BigInt(i - 1) };
}
