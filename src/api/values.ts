// Values as the Node API hands them out: integers of up to 32 bits as numbers and 64-bit ones as
// bigints, bools as booleans, records as objects, stacks as symbolized frames, maps with their
// aggregations typed (src/runtime/map-values.ts).
import type { MapKind, MapSpec } from '../model/program.js';
import { tupleLayout, typeName, type Type } from '../model/types.js';
import { decodeValue } from '../runtime/decode.js';
import { readMap, type AggregateValue, type Bucket, type KeyValue, type MapReader } from '../runtime/map-values.js';
import type { Value } from '../runtime/output/model.js';
import { type BuildIdFrame, type Frame, processKey, type Resolver } from '../runtime/symbols.js';

export type { Bucket, BuildIdFrame, Frame };

/** A value of the program: see the file's head for how each type is given. */
export type TraceValue =
  | number | bigint | boolean | string | Uint8Array
  | readonly Frame[]
  | readonly BuildIdFrame[]
  | readonly TraceValue[]
  | { readonly [name: string]: TraceValue };

/** A map's value per key, by the map's aggregation. */
export type MapValue =
  | { readonly kind: 'scalar'; readonly value: TraceValue }
  | Exclude<AggregateValue, { readonly kind: 'scalar' }>;

export interface MapEntry {
  /** One value per key part (`@m[comm, pid]`: two); empty for a map without a key. */
  readonly key: readonly TraceValue[];
  readonly value: MapValue;
}

export interface TracedMap {
  /** With its `@` (`@opens`; `@` alone for the unnamed map). */
  readonly name: string;
  readonly kind: MapKind;
  /** The key parts: the name the key expression gives (`comm`, `pid`, `fd` for `args->fd`), and the type. */
  readonly keys: readonly { readonly name?: string; readonly type: string }[];
  readonly entries: readonly MapEntry[];
}

/** The maps of a run by name (`maps['@opens']`). */
export type Maps = Readonly<Record<string, TracedMap>>;

/** A decoded value (see decodeValue) in the API's form. */
export function traceValue(t: Type, v: KeyValue): TraceValue {
  switch (t.kind) {
    case 'int':
      return t.bits <= 32 ? Number(v) : (v as bigint);
    case 'bool':
      return v !== 0n;
    case 'tuple': {
      const parts = (v as readonly Value[]).map((x, i) => traceValue(t.elements[i]!, x));
      return t.names ? Object.fromEntries(t.names.map((n, i) => [n, parts[i]!])) : parts;
    }
    case 'array':
      return (v as readonly Value[]).map((x) => traceValue(t.element, x));
    default:
      return v as TraceValue;
  }
}

/** A value in an event record: as traceValue, with stacks symbolized frame by frame. */
export function eventValue(t: Type, buf: Buffer, offset: number, r: Resolver): TraceValue {
  switch (t.kind) {
    case 'kstack':
      return r.frames('kstack', buf.readBigInt64LE(offset), t.depth, 0);
    case 'ustack':
      if (t.mode === 'build_id') return r.buildIdFrames(buf.readBigInt64LE(offset), t.depth);
      return r.frames('ustack', buf.readBigInt64LE(offset), t.depth, processKey(buf.readBigUInt64LE(offset + 8)));
    case 'tuple': {
      const { offsets } = tupleLayout(t.elements);
      const parts = t.elements.map((e, i) => eventValue(e, buf, offset + offsets[i]!, r));
      return t.names ? Object.fromEntries(t.names.map((n, i) => [n, parts[i]!])) : parts;
    }
    default:
      return traceValue(t, decodeValue(t, buf, offset, r));
  }
}

/** Reads a map now, in the API's form. */
export function tracedMap(reader: MapReader, spec: MapSpec): TracedMap {
  const map = readMap(reader, spec);
  return {
    name: map.name,
    kind: map.kind,
    keys: map.keys.map((k) => ({ ...(k.name ? { name: k.name } : {}), type: typeName(k.type) })),
    entries: map.entries.map((e) => ({
      key: e.key.map((v, i) => traceValue(map.keys[i]!.type, v)),
      value: e.value.kind === 'scalar' ? { kind: 'scalar', value: traceValue(spec.valueType, e.value.value) } : e.value,
    })),
  };
}

/** Every map of a run, read now. */
export function readMaps(reader: MapReader, specs: Iterable<MapSpec>): Maps {
  return Object.fromEntries([...specs].map((spec) => [spec.name, tracedMap(reader, spec)]));
}
