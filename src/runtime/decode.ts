// Bytes from the kernel → typed JS values, using the same layout codegen wrote them with.
import { native } from './native.js';
import { HIST_BUCKETS, isPerCpu, lhistBucketCount, type MapSpec, TSERIES_VALUE_SIZE } from '../model/program.js';
import { alignUp, sizeOf, tupleLayout, type Type } from '../model/types.js';
import { bytesToString } from '../model/strings.js';
import type { MapEntry, MapValue, TseriesPoint, Value } from './output/model.js';
import { formatInet, processKey, type Frame, type Resolver } from './symbols.js';
import { syscallName } from '../kernel/syscalls.js';

/**
 * Decodes one value. With a resolver, symbolized types become their printed form (ksym/usym/
 * username/inet/timestamp: strings; kstack/ustack: frames); without one they stay raw numbers.
 */
export function decodeValue(t: Type, buf: Buffer, offset: number, r?: Resolver, frameName?: (f: Frame) => string): Value {
  switch (t.kind) {
    case 'ksym': {
      const a = buf.readBigUInt64LE(offset);
      return r ? r.ksym(a) : a;
    }
    case 'usym': {
      const a = buf.readBigUInt64LE(offset);
      return r ? r.usym(a, processKey(buf.readBigUInt64LE(offset + 8))) : a;
    }
    case 'kstack':
      if (r && frameName) return r.frames('kstack', buf.readBigInt64LE(offset), t.depth, 0).map(frameName);
      return r ? r.kstack(buf.readBigInt64LE(offset), t.depth, t.mode) : [];
    case 'ustack':
      // build_id frames are files and offsets: nothing to name, their text is their name.
      if (r && frameName && t.mode !== 'build_id') return r.frames('ustack', buf.readBigInt64LE(offset), t.depth, processKey(buf.readBigUInt64LE(offset + 8))).map(frameName);
      return r ? r.ustack(buf.readBigInt64LE(offset), processKey(buf.readBigUInt64LE(offset + 8)), t.depth, t.mode) : [];
    case 'username': {
      const uid = buf.readBigUInt64LE(offset);
      return r ? r.username(uid) : uid;
    }
    case 'strerror':
      return native().strerror(Number(buf.readBigInt64LE(offset)));
    // As bpftrace 0.26 names them; a number it does not know: its words for that.
    case 'syscall_name':
      return syscallName(Number(buf.readBigInt64LE(offset))) ?? 'Unknown syscall';
    case 'cgroup_path': {
      const id = buf.readBigUInt64LE(offset);
      return r ? r.cgroupPath(id, t.filter) : id;
    }
    // As bpftrace 0.22+ prints an enum value with %s: its enumerator, or the number without one.
    case 'enum_name': {
      const v = buf.readBigInt64LE(offset);
      return t.enumerators.names.get(v) ?? v.toString();
    }
    case 'signal_name': {
      const sig = Number(buf.readBigInt64LE(offset));
      return sig >= 1 && sig <= 64 ? native().strsignal(sig) : 'N/A';
    }
    case 'timestamp': {
      const ns = buf.readBigUInt64LE(offset);
      return r ? r.timestamp(ns, t.format ?? '') : ns;
    }
    case 'inet':
      return formatInet(Number(buf.readBigUInt64LE(offset)), buf.subarray(offset + 8, offset + 24));
    case 'buffer': {
      const n = Math.min(buf[offset]!, t.size);
      return Uint8Array.from(buf.subarray(offset + 1, offset + 1 + n));
    }
    case 'array': {
      const size = sizeOf(t.element);
      return Array.from({ length: t.length }, (_, i) => decodeValue(t.element, buf, offset + i * size, r));
    }
    case 'int':
      switch (t.bits) {
        case 8: return BigInt(t.signed ? buf.readInt8(offset) : buf.readUInt8(offset));
        case 16: return BigInt(t.signed ? buf.readInt16LE(offset) : buf.readUInt16LE(offset));
        case 32: return BigInt(t.signed ? buf.readInt32LE(offset) : buf.readUInt32LE(offset));
        default: return t.signed ? buf.readBigInt64LE(offset) : buf.readBigUInt64LE(offset);
      }
    case 'string': {
      const end = buf.indexOf(0, offset);
      const stop = end < 0 || end > offset + t.size ? offset + t.size : end;
      return bytesToString(buf.subarray(offset, stop));
    }
    case 'tuple': {
      const { offsets } = tupleLayout(t.elements);
      return t.elements.map((e, i) => decodeValue(e, buf, offset + offsets[i]!, r, frameName));
    }
    case 'record':
      // A struct's fields in order (print(*p), print(args)); a bit-field from the bytes that hold it.
      return t.fields.map((f) => {
        if (!f.bitWidth) return decodeValue(f.type, buf, offset + f.offset, r, frameName);
        const bytes = Math.ceil(((f.bitOffset ?? 0) + f.bitWidth) / 8);
        let word = 0n;
        for (let i = bytes - 1; i >= 0; i--) word = (word << 8n) | BigInt(buf[offset + f.offset + i] ?? 0);
        return (word >> BigInt(f.bitOffset ?? 0)) & ((1n << BigInt(f.bitWidth)) - 1n);
      });
    case 'bool':
      return BigInt(buf.readUInt8(offset));
    default:
      return buf.readBigUInt64LE(offset);
  }
}

/** Bytes one kernel value takes in a lookup/dump buffer (all CPUs for per-CPU maps). */
export function valueBytes(spec: MapSpec, cpus: number): number {
  return isPerCpu(spec.bpfType) ? alignUp(spec.valueSize, 8) * cpus : spec.valueSize;
}

/** A map dump: `count` keys and values, each `keySize` and valueBytes() long, end to end. */
export interface MapDump {
  readonly count: number;
  readonly keys: Buffer;
  readonly values: Buffer;
}

/**
 * A keyless hist/lhist kept with its buckets in one value (MapSpec.bucketsInValue), as the hash
 * of (bucket → per-CPU counter) entries every reader of maps knows: an entry for each bucket
 * with a count, and for each bucket of `kept` (those zero() left in place, as a hash map keeps
 * its keys). Returns that layout's spec and dump.
 */
export function spreadBuckets(spec: MapSpec, dump: MapDump, cpus: number, kept?: ReadonlySet<number>): { spec: MapSpec; dump: MapDump } {
  const buckets = spec.valueSize / 8;
  const stride = alignUp(spec.valueSize, 8);
  const used: number[] = [];
  for (let b = 0; b < buckets && dump.count > 0; b++) {
    let any = kept?.has(b) ?? false;
    for (let c = 0; c < cpus && !any; c++) any = dump.values.readBigUInt64LE(c * stride + b * 8) !== 0n;
    if (any) used.push(b);
  }
  const keys = Buffer.alloc(used.length * 8);
  const values = Buffer.alloc(used.length * cpus * 8);
  used.forEach((b, e) => {
    keys.writeBigUInt64LE(BigInt(b), e * 8);
    for (let c = 0; c < cpus; c++) dump.values.copy(values, (e * cpus + c) * 8, c * stride + b * 8, c * stride + b * 8 + 8);
  });
  return {
    spec: { ...spec, bpfType: 'percpu_hash', keySize: 8, valueSize: 8, maxEntries: buckets, bucketsInValue: false },
    dump: { count: used.length, keys, values },
  };
}

function userKeySize(spec: MapSpec): number {
  return spec.keyType ? sizeOf(spec.keyType) : 0;
}

function decodeKey(spec: MapSpec, keys: Buffer, offset: number, r?: Resolver, frameName?: (f: Frame) => string): readonly Value[] | undefined {
  if (!spec.keyType) return undefined;
  const v = decodeValue(spec.keyType, keys, offset, r, frameName);
  return spec.keyType.kind === 'tuple' ? (v as readonly Value[]) : [v];
}

/**
 * The sum of one int64 per CPU. Dumps of large count/sum maps are mostly this: while the values
 * and the running sum are exact as doubles (counts nearly always are), they are added as numbers
 * and only the total becomes a BigInt. (A BigInt per CPU and per addition made the garbage
 * collector the main cost of printing 100k keys.)
 */
function sumOverCpus(values: Buffer, offset: number, slot: number, cpus: number): bigint {
  let sum = 0;
  for (let c = 0; c < cpus; c++) {
    const o = offset + c * slot;
    const high = values.readInt32LE(o + 4);
    if (high < -0x100000 || high >= 0x100000) return sumOverCpusExact(values, offset, slot, cpus); // |value| ≥ 2^52
    sum += high * 0x100000000 + values.readUInt32LE(o);
    if (!Number.isSafeInteger(sum)) return sumOverCpusExact(values, offset, slot, cpus);
  }
  return BigInt(sum);
}

function sumOverCpusExact(values: Buffer, offset: number, slot: number, cpus: number): bigint {
  let total = 0n;
  for (let c = 0; c < cpus; c++) total += values.readBigInt64LE(offset + c * slot);
  return total;
}

/**
 * Turns a map dump into entries, combining per-CPU values as each aggregation requires:
 * sums for count/sum/avg/stats and buckets, the extreme over CPUs that saw a value for min/max.
 * With `keyFrameName`, stacks in keys are symbolized frame by frame and named with it.
 */
export function decodeMap(
  spec: MapSpec, count: number, keys: Buffer, values: Buffer, cpus: number, r?: Resolver, keyFrameName?: (f: Frame) => string, rawKeys = false,
): MapEntry[] {
  const stride = valueBytes(spec, cpus);
  const slot = alignUp(spec.valueSize, 8);
  const perCpu = isPerCpu(spec.bpfType) ? cpus : 1;
  const i64 = (entry: number, cpu: number, field: number) =>
    values.readBigInt64LE(entry * stride + cpu * slot + field * 8);

  if (spec.kind === 'hist' || spec.kind === 'lhist') {
    // One kernel entry per (key, bucket): gather the buckets of each key.
    const bucketCount = spec.kind === 'hist' ? HIST_BUCKETS : lhistBucketCount(spec.lhist!);
    const groups = groupByKey(spec, count, keys, { r, keyFrameName, rawKeys }, () => new Array<bigint>(bucketCount).fill(0n),
      (buckets, e, bucket) => {
        if (bucket < bucketCount) buckets[bucket]! += sumOverCpus(values, e * stride, slot, perCpu);
      });
    return groups.map((g) => ({ key: g.key, value: { kind: spec.kind as 'hist', buckets: g.data }, ...(g.rawKey ? { rawKey: g.rawKey } : {}) }));
  }

  if (spec.kind === 'tseries') return decodeTseries(spec, count, keys, values, cpus, r, keyFrameName, rawKeys);

  const entries: MapEntry[] = [];
  for (let e = 0; e < count; e++) {
    const key = decodeKey(spec, keys, e * spec.keySize, r, keyFrameName);
    let value: MapValue;
    switch (spec.kind) {
      case 'scalar':
        value = { kind: 'scalar', value: decodeValue(spec.valueType, values, e * stride, r) };
        break;
      case 'count': case 'sum': {
        const total = sumOverCpus(values, e * stride, slot, perCpu);
        value = { kind: spec.kind, value: spec.kind === 'count' ? BigInt.asUintN(64, total) : BigInt.asIntN(64, total) };
        break;
      }
      case 'avg': case 'stats': {
        const n = sumOverCpus(values, e * stride, slot, perCpu);
        const total = sumOverCpus(values, e * stride + 8, slot, perCpu);
        value = { kind: spec.kind, count: n, total };
        break;
      }
      case 'min': case 'max': {
        let best: bigint | undefined;
        for (let c = 0; c < perCpu; c++) {
          if (i64(e, c, 1) === 0n) continue;
          const v = i64(e, c, 0);
          if (best === undefined || (spec.kind === 'min' ? v < best : v > best)) best = v;
        }
        value = { kind: spec.kind, value: best ?? 0n };
        break;
      }
      default:
        throw new Error(`internal error: unexpected map kind ${spec.kind}`);
    }
    entries.push(rawKeys ? { key, value, rawKey: keys.subarray(e * spec.keySize, (e + 1) * spec.keySize) } : { key, value });
  }
  return entries;
}

/**
 * The entries of a map whose kernel key is the user's key and then an index (hist's bucket,
 * tseries's slot), gathered by the user's key: `add` puts entry `e` of index `index` into the
 * key's data, made by `init`.
 */
function groupByKey<T>(
  spec: MapSpec, count: number, keys: Buffer, how: { r?: Resolver; keyFrameName?: (f: Frame) => string; rawKeys: boolean },
  init: () => T, add: (data: T, e: number, index: number) => void,
): { key?: readonly Value[]; data: T; rawKey?: Buffer }[] {
  const indexOffset = alignUp(userKeySize(spec), 8);
  const byKey = new Map<string, { key?: readonly Value[]; data: T; rawKey?: Buffer }>();
  for (let e = 0; e < count; e++) {
    const keyOffset = e * spec.keySize;
    const id = keys.toString('latin1', keyOffset, keyOffset + indexOffset);
    let group = byKey.get(id);
    if (!group) {
      group = { key: decodeKey(spec, keys, keyOffset, how.r, how.keyFrameName), data: init() };
      if (how.rawKeys) group.rawKey = keys.subarray(keyOffset, keyOffset + indexOffset);
      byKey.set(id, group);
    }
    add(group.data, e, Number(keys.readBigUInt64LE(keyOffset + indexOffset)));
  }
  return [...byKey.values()];
}

/**
 * A tseries map: one kernel entry per (key, slot), each slot's CPU copies reduced as bpftrace 0.26
 * does (reduce_tseries_value): the copies of the slot's latest epoch combined (the last value by
 * its time, or sum, min, max; avg is sum / count), in the value's signedness.
 */
function decodeTseries(
  spec: MapSpec, count: number, keys: Buffer, values: Buffer, cpus: number, r?: Resolver, keyFrameName?: (f: Frame) => string, rawKeys = false,
): MapEntry[] {
  const { agg } = spec.tseries!;
  const stride = valueBytes(spec, cpus);
  const signed = spec.valueType.kind === 'aggregation' && spec.valueType.signed;
  const int = (v: bigint) => (signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
  const groups = groupByKey(spec, count, keys, { r, keyFrameName, rawKeys }, (): TseriesPoint[] => [], (points, e) => {
    let latest: { epoch: bigint; value: bigint; meta: bigint } | undefined;
    for (let c = 0; c < cpus; c++) {
      const o = e * stride + c * TSERIES_VALUE_SIZE;
      const epoch = values.readBigUInt64LE(o + 16);
      if (epoch === 0n || (latest && epoch < latest.epoch)) continue; // 0: never written
      const value = int(values.readBigUInt64LE(o));
      const meta = values.readBigUInt64LE(o + 8);
      if (!latest || epoch > latest.epoch) latest = { epoch, value, meta };
      else if (agg === 'last') { if (meta > latest.meta) latest = { epoch, value, meta }; }
      else if (agg === 'min') latest.value = value < latest.value ? value : latest.value;
      else if (agg === 'max') latest.value = value > latest.value ? value : latest.value;
      else latest = { epoch, value: int(latest.value + value), meta: latest.meta + meta };
    }
    if (!latest) return;
    const value = agg === 'avg' && latest.meta > 0n ? int(latest.value / BigInt.asUintN(64, latest.meta)) : latest.value;
    points.push({ epoch: latest.epoch, value });
  });
  return groups.map((g) => ({
    key: g.key,
    value: { kind: 'tseries', points: g.data.sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0)) },
    ...(g.rawKey ? { rawKey: g.rawKey } : {}),
  }));
}
