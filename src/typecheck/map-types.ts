// Map typing: what the checker learns of each map (its kind, key and value types) and how
// uses of a map unify, then the MapSpec each map becomes.
import type { Span } from '../model/span.js';
import {
  bucketCount, TSERIES_VALUE_SIZE, type LhistParams, type MapKind, type MapSpec, type TseriesParams,
} from '../model/program.js';
import { sameType, sizeOf, str, typeName, type Type } from '../model/types.js';

export interface MapInfo {
  kind: MapKind;
  keyType?: Type;
  /** What each key part is named by its expression at the first assignment (see key-names.ts). */
  keyNames?: readonly (string | undefined)[];
  valueType: Type;
  /**
   * A scalar integer map's width: its first value's, widened by wider ones (values are kept in 64
   * bits). A value is stored converted to it, as bpftrace 0.17 does (a uint32 map given an
   * int32 -1 holds 4294967295).
   */
  intBits?: number;
  lhist?: LhistParams;
  tseries?: TseriesParams;
  span: Span;
  /** Has the map been given a key in some use (and without in another)? */
  keyed: boolean;
}

/** The common type of two uses, or undefined if they conflict. Strings widen to the larger size. */
export function unify(a: Type, b: Type): Type | undefined {
  if (a.kind === 'int' && b.kind === 'int') {
    return { kind: 'int', bits: Math.max(a.bits, b.bits) as 64, signed: a.signed || b.signed };
  }
  if (a.kind === 'string' && b.kind === 'string') return str(Math.max(a.size, b.size));
  if (a.kind === 'tuple' && b.kind === 'tuple' && a.elements.length === b.elements.length && sameNames(a.names, b.names)) {
    // A record's fields are matched by name (0.26: the same fields in another order are the same
    // record); the first one's order stays.
    const from = (i: number) => (a.names ? b.names!.indexOf(a.names[i]!) : i);
    const elements: Type[] = [];
    for (let i = 0; i < a.elements.length; i++) {
      const e = unify(a.elements[i]!, b.elements[from(i)]!);
      if (!e) return undefined;
      elements.push(e);
    }
    return { ...a, elements };
  }
  return sameType(a, b) ? a : undefined;
}

/** Whether two tuples are both unnamed, or records with the same field names in any order. */
function sameNames(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b) return a === b;
  return [...a].sort().join() === [...b].sort().join();
}

/** A map value's type after another assignment: integers keep the sign of the first, as in bpftrace. */
export function unifyValue(first: Type, next: Type): Type | undefined {
  return first.kind === 'int' && next.kind === 'int' ? first : unify(first, next);
}

export function describeValue(info: MapInfo): string {
  return info.kind === 'scalar' ? typeName(info.valueType) : info.kind;
}

/** The maps of `now` whose kind, key or value type differs from `before`. */
export function changedMaps(now: ReadonlyMap<string, MapInfo>, before: ReadonlyMap<string, MapInfo>): string[] {
  const sameKey = (x?: Type, y?: Type) => (x && y ? sameType(x, y) : x === y);
  return [...now].filter(([name, x]) => {
    const y = before.get(name);
    return !y || x.kind !== y.kind || !sameKey(x.keyType, y.keyType) || !sameType(x.valueType, y.valueType);
  }).map(([name]) => name);
}

/** Kernel value bytes for each map kind; see MapSpec. */
export function mapSpec(name: string, info: MapInfo, maxEntries: number): MapSpec {
  const userKeySize = info.keyType ? sizeOf(info.keyType) : 0;
  const bucketed = info.kind === 'hist' || info.kind === 'lhist' || info.kind === 'tseries';
  // hist/lhist keep one counter per (key, bucket), tseries one value per (key, interval slot): the
  // bucket index is appended to the key.
  const keySize = Math.max(8, Math.ceil((userKeySize + (bucketed ? 8 : 0)) / 8) * 8);
  let valueSize: number;
  switch (info.kind) {
    case 'scalar': valueSize = sizeOf(info.valueType); break;
    case 'avg': case 'stats': case 'min': case 'max': valueSize = 16; break;
    case 'tseries': valueSize = TSERIES_VALUE_SIZE; break;
    default: valueSize = 8;
  }
  const buckets = bucketCount(info);
  // A count() without a key is one per-CPU array slot, as in bpftrace: the verifier inlines the
  // lookup (no hash), and the map always has its entry (bpftrace prints `@: 0` when untouched).
  const counter = info.kind === 'count' && !info.keyType;
  return {
    name,
    kind: info.kind,
    keyType: info.keyType,
    ...(info.keyNames ? { keyNames: info.keyNames } : {}),
    valueType: info.valueType,
    ...(info.intBits !== undefined && info.intBits < 64 ? { intBits: info.intBits } : {}),
    bpfType: counter ? 'percpu_array' : info.kind === 'scalar' ? 'hash' : 'percpu_hash',
    keySize: counter ? 4 : keySize,
    valueSize,
    // Without a key, a map holds one entry (a hist/lhist one per bucket): sizing it for
    // BPFTRACE_MAP_KEYS_MAX keys made the kernel preallocate 4,096 per-CPU values for nothing
    // (~6 ms a map to create, and the memory).
    maxEntries: counter ? 1 : !info.keyType ? (bucketed ? buckets : 1) : maxEntries * buckets,
    // Keyed maps keep their entries preallocated (~1-4 ms a map to create), as bpftrace's: entries
    // allocated on use come from per-CPU caches refilled later, so a burst of new keys where the
    // probe cannot wait (tracepoint:sched:*, funccount's) had an update refused with the map far
    // from full. A keyed hist's keys × buckets stay allocated on use.
    preallocate: !(bucketed && info.keyType),
    lhist: info.lhist,
    ...(info.tseries ? { tseries: info.tseries } : {}),
    span: info.span,
  };
}

/**
 * A hist/lhist without a key (and not declared otherwise) as one per-CPU array entry holding every
 * bucket's counter: the verifier inlines the lookup (no hash, no helper call) and a bucket's first
 * hit needs no update (a hash map takes one, and may be full). An lhist has at most 1,003 buckets:
 * 8 KiB a CPU, within the kernel's 32 KiB for a per-CPU value.
 */
export function keylessBuckets(spec: MapSpec): MapSpec {
  if ((spec.kind !== 'hist' && spec.kind !== 'lhist') || spec.keyType) return spec;
  const buckets = bucketCount(spec);
  return { ...spec, bpfType: 'percpu_array', keySize: 4, valueSize: buckets * 8, maxEntries: 1, preallocate: true, bucketsInValue: true };
}
