// Aggregations (count, sum, avg, min, max, stats, hist, lhist): the per-CPU map update, the
// buckets as bpftrace 0.17 computes them, and an aggregation's value read in a probe (every
// possible CPU's share combined).
import { type Call, mapName, type MapRef } from '../model/ast.js';
import { alignUp, sizeOf } from '../model/types.js';
import { bucketCount, HIST_LOG2_SHIFTS, lhistBucketCount, type MapSpec, TSERIES_VALUE_SIZE } from '../model/program.js';
import { arrayType, constInt, i1, i64, i8, i8p, type IrValue, ptr } from './ir/builder.js';
import { Helper } from '../model/object-layout.js';
import { memcpy, memset, toI64 } from './values.js';
import type { ProbeContext } from './context.js';
import { sendHelperError } from './events.js';
import { lookup, mapKey, mapPointer, mapSpec, mapUpdate } from './map-ops.js';

/**
 * The value of a count/sum/avg/min/max map entry, as it prints: the maps are per CPU, so every
 * possible CPU's share is looked up (bpf_map_lookup_percpu_elem) and combined as the printer does.
 */
export function aggregationValue(g: ProbeContext, spec: MapSpec, key: IrValue): IrValue {
  const { fn } = g;
  // first: count, sum, min/max value; second: avg's total, min/max's "has a value" flag.
  const first = fn.scratch(i64, 8);
  const second = fn.scratch(i64, 8);
  fn.store(constInt(i64, 0), first, 8);
  fn.store(constInt(i64, 0), second, 8);
  eachCpuShare(g, spec, key, (p) => {
    const share = fn.load(fn.bitcast(p, ptr(i64)), 8);
    const share2 = fn.load(fn.byteOffset(p, 8, i64), 8);
    if (spec.kind === 'min' || spec.kind === 'max') {
      const best = fn.load(first, 8);
      const better = fn.icmp(spec.kind === 'min' ? 'slt' : 'sgt', share, best);
      const seen = fn.icmp('ne', fn.load(second, 8), constInt(i64, 0));
      const take = fn.binary('and', fn.icmp('ne', share2, constInt(i64, 0)), fn.binary('or', better, fn.icmp('eq', seen, constInt(i1, 0))));
      fn.store(fn.select(take, share, best), first, 8);
      fn.store(fn.select(take, constInt(i64, 1), fn.load(second, 8)), second, 8);
    } else {
      fn.store(fn.binary('add', fn.load(first, 8), share), first, 8);
      if (spec.kind === 'avg') fn.store(fn.binary('add', fn.load(second, 8), share2), second, 8);
    }
  });
  const v = fn.load(first, 8);
  if (spec.kind !== 'avg') return v;
  // avg is total / count, rounded toward zero; signed division from unsigned (BPF cpu v3 has no sdiv).
  const total = fn.load(second, 8);
  const nonzero = fn.select(fn.icmp('eq', v, constInt(i64, 0)), constInt(i64, 1), v);
  const negative = fn.icmp('slt', total, constInt(i64, 0));
  const magnitude = fn.select(negative, fn.binary('sub', constInt(i64, 0), total), total);
  const quotient = fn.binary('udiv', magnitude, nonzero);
  return fn.select(negative, fn.binary('sub', constInt(i64, 0), quotient), quotient);
}

/**
 * `delete(@m)` of a map kept as one per-CPU array entry (a count() or hist/lhist without a key),
 * whose entry cannot be deleted. bpftrace 0.17 deletes its key 0 there: a count's one value, and
 * a hist/lhist's bucket 0 (their keys are bucket numbers), so that one 8-byte counter, the first
 * of the value, is zeroed on every possible CPU (`@m: 0` for a count, as bpftrace prints it).
 */
export function deleteKeyZero(g: ProbeContext, spec: MapSpec, key: IrValue): void {
  eachCpuShare(g, spec, key, (p) => g.fn.store(constInt(i64, 0), g.fn.bitcast(p, ptr(i64)), 8));
}

/** Runs `body` on each possible CPU's share of the per-CPU entry at `key`, where it is there. */
function eachCpuShare(g: ProbeContext, spec: MapSpec, key: IrValue, body: (share: IrValue) => void): void {
  const { fn } = g;
  for (let cpu = 0; cpu < g.kernel.possibleCpus(); cpu++) {
    const p = fn.callHelper(Helper.mapLookupPercpuElem, i8p, [mapPointer(g, spec.name), key, constInt(i64, cpu)]);
    const here = fn.label('cpushare');
    const next = fn.label('cpunext');
    fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), here, next);
    fn.place(here);
    body(p);
    fn.br(next);
    fn.place(next);
  }
}

/** `@m[k] = count()` and the other aggregations: updates the entry of this CPU, or makes it. */
export function aggregate(g: ProbeContext, ref: MapRef, call: Call): void {
  const { fn } = g;
  const spec = mapSpec(g, mapName(ref));
  if (spec.kind === 'tseries') {
    tseries(g, ref, call, spec);
    return;
  }
  const arg = call.args[0] ? toI64(fn, g.expr(call.args[0])) : constInt(i64, 1);
  if (spec.bucketsInValue) {
    bucketInValue(g, spec, ref, arg);
    return;
  }
  let key: IrValue;
  if (spec.kind === 'hist' || spec.kind === 'lhist') {
    key = mapKey(g, spec, ref);
    const bucket = spec.kind === 'hist' ? log2Bucket(g, arg) : linearBucket(g, arg, spec);
    const userKeySize = spec.keyType ? sizeOf(spec.keyType) : 0;
    fn.store(bucket, fn.byteOffset(key, alignUp(userKeySize, 8), i64), 8);
  } else {
    key = mapKey(g, spec, ref);
  }
  const p = lookup(g, spec, key);
  const found = fn.icmp('ne', p, { type: i8p, ref: 'null' });
  const update = fn.label('agg');
  const insert = fn.label('insert');
  const done = fn.label('aggdone');
  fn.condBr(found, update, insert);

  // Per-CPU values: no other CPU writes this slot, so plain loads and stores are safe.
  fn.place(update);
  const first = fn.bitcast(p, ptr(i64));
  const second = fn.byteOffset(p, 8, i64);
  switch (spec.kind) {
    case 'count': case 'hist': case 'lhist':
      fn.store(fn.binary('add', fn.load(first, 8), constInt(i64, 1)), first, 8);
      break;
    case 'sum':
      fn.store(fn.binary('add', fn.load(first, 8), arg), first, 8);
      break;
    case 'avg': case 'stats':
      fn.store(fn.binary('add', fn.load(first, 8), constInt(i64, 1)), first, 8);
      fn.store(fn.binary('add', fn.load(second, 8), arg), second, 8);
      break;
    case 'min': case 'max': {
      // bpftrace 0.17 compares with signed >=, min on 0xffffffff - value (see minMaxTakes).
      const current = fn.load(first, 8);
      const take = minMaxTakes(g, spec.kind, arg, current);
      fn.store(fn.select(take, arg, current), first, 8);
      fn.store(constInt(i64, 1), second, 8);
      break;
    }
    default:
      break;
  }
  fn.br(done);

  fn.place(insert);
  // bpftrace 0.17 with -kk reports the first update of a key as a failed lookup (code 0).
  if ((g.options.helperErrors ?? 0) >= 2) sendHelperError(g, Helper.mapLookupElem, constInt(i64, 0));
  const initial = fn.scratch(arrayType(spec.valueSize, i8));
  const init = fn.bitcast(initial, i8p);
  memset(fn, init, spec.valueSize);
  const initFirst = fn.bitcast(init, ptr(i64));
  const initSecond = fn.byteOffset(init, 8, i64);
  switch (spec.kind) {
    case 'count': case 'hist': case 'lhist':
      fn.store(constInt(i64, 1), initFirst, 8);
      break;
    case 'sum':
      fn.store(arg, initFirst, 8);
      break;
    case 'avg': case 'stats':
      fn.store(constInt(i64, 1), initFirst, 8);
      fn.store(arg, initSecond, 8);
      break;
    case 'min': case 'max':
      fn.store(arg, initFirst, 8);
      fn.store(constInt(i64, 1), initSecond, 8);
      break;
    default:
      break;
  }
  if (spec.kind === 'min' || spec.kind === 'max') {
    // A missing entry reads as 0 in bpftrace 0.17, so e.g. max(-7) never creates one.
    const store = fn.label('mmstore');
    fn.condBr(minMaxTakes(g, spec.kind, arg, constInt(i64, spec.kind === 'min' ? 0xffffffff : 0)), store, done);
    fn.place(store);
  }
  mapUpdate(g, spec, key, init);
  fn.br(done);
  fn.place(done);
}

/**
 * A keyless hist/lhist (MapSpec.bucketsInValue): one per-CPU array entry of every bucket's counter;
 * the bucket's is incremented in place. The lookup of key 0 cannot fail (the verifier drops the
 * branch); the bucket is bounded for the verifier, which cannot follow lhist's division.
 */
function bucketInValue(g: ProbeContext, spec: MapSpec, ref: MapRef, arg: IrValue): void {
  const { fn } = g;
  // Looked up first: the bucket is then computed in the registers the helper call would clobber.
  const p = lookup(g, spec, mapKey(g, spec, ref));
  const update = fn.label('bucket');
  const done = fn.label('bucketdone');
  fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), update, done);
  fn.place(update);
  const computed = spec.kind === 'hist' ? log2Bucket(g, arg) : linearBucket(g, arg, spec);
  const last = constInt(i64, bucketCount(spec) - 1);
  const bucket = fn.select(fn.icmp('ugt', computed, last), last, computed);
  const counter = fn.byteOffset(p, fn.binary('shl', bucket, constInt(i64, 3)), i64);
  fn.store(fn.binary('add', fn.load(counter, 8), constInt(i64, 1)), counter, 8);
  fn.br(done);
  fn.place(done);
}

/**
 * `@m[k] = tseries(n, interval, intervals [, agg])`, as bpftrace 0.26: the TAI clock's epoch
 * (now / interval) picks the slot epoch % intervals, appended to the key. A slot holds value,
 * meta and epoch (TSERIES_VALUE_SIZE); a slot of an older epoch starts over. The entry is
 * updated in a copy on the stack (per CPU, nothing else writes it) and written back.
 */
function tseries(g: ProbeContext, ref: MapRef, call: Call, spec: MapSpec): void {
  const { fn } = g;
  const { intervalNs, intervals, agg } = spec.tseries!;
  const signed = spec.valueType.kind === 'aggregation' && spec.valueType.signed;
  const n = toI64(fn, g.expr(call.args[0]!));
  const now = fn.callHelper(Helper.ktimeGetTaiNs, i64, []);
  const epoch = fn.binary('udiv', now, constInt(i64, intervalNs));
  const key = mapKey(g, spec, ref);
  const userKeySize = spec.keyType ? sizeOf(spec.keyType) : 0;
  fn.store(fn.binary('urem', epoch, constInt(i64, intervals)), fn.byteOffset(key, alignUp(userKeySize, 8), i64), 8);

  const slot = fn.bitcast(fn.scratch(arrayType(TSERIES_VALUE_SIZE, i8)), i8p);
  memset(fn, slot, TSERIES_VALUE_SIZE);
  const p = lookup(g, spec, key);
  const found = fn.icmp('ne', p, { type: i8p, ref: 'null' });
  const copy = fn.label('tscopy');
  const update = fn.label('tsupdate');
  fn.condBr(found, copy, update);
  fn.place(copy);
  memcpy(fn, slot, p, TSERIES_VALUE_SIZE);
  fn.br(update);

  fn.place(update);
  const value = fn.bitcast(slot, ptr(i64));
  const meta = fn.byteOffset(slot, 8, i64);
  const slotEpoch = fn.byteOffset(slot, 16, i64);
  // A slot last written in an older epoch starts over (for 'last' the value is replaced anyway).
  const fresh = fn.icmp('ne', fn.load(slotEpoch, 8), epoch);
  const oldValue = fn.select(fresh, constInt(i64, 0), fn.load(value, 8));
  const oldMeta = fn.select(fresh, constInt(i64, 0), fn.load(meta, 8));
  switch (agg) {
    case 'last':
      fn.store(n, value, 8);
      fn.store(now, meta, 8);
      break;
    case 'sum': case 'avg':
      fn.store(fn.binary('add', oldValue, n), value, 8);
      if (agg === 'avg') fn.store(fn.binary('add', oldMeta, constInt(i64, 1)), meta, 8);
      break;
    case 'min': case 'max': {
      // The first value of the epoch is taken; then the smaller (larger) one, in n's signedness.
      const better = fn.icmp(`${signed ? 's' : 'u'}${agg === 'min' ? 'lt' : 'gt'}`, n, oldValue);
      const take = fn.binary('or', fn.icmp('eq', oldMeta, constInt(i64, 0)), better);
      fn.store(fn.select(take, n, oldValue), value, 8);
      fn.store(constInt(i64, 1), meta, 8);
      break;
    }
  }
  fn.store(epoch, slotEpoch, 8);
  const writeBack = fn.label('tswrite');
  const insert = fn.label('tsinsert');
  const done = fn.label('tsdone');
  fn.condBr(found, writeBack, insert);
  fn.place(writeBack);
  memcpy(fn, p, slot, TSERIES_VALUE_SIZE);
  fn.br(done);
  fn.place(insert);
  mapUpdate(g, spec, key, slot);
  fn.br(done);
  fn.place(done);
}

/**
 * Whether min()/max() replace `current` by `arg`, exactly as bpftrace 0.17 decides: max stores
 * when arg >= current (signed); min stores when 0xffffffff - arg >= 0xffffffff - current.
 */
function minMaxTakes(g: ProbeContext, kind: 'min' | 'max', arg: IrValue, current: IrValue): IrValue {
  const { fn } = g;
  if (kind === 'max') return fn.icmp('sge', arg, current);
  const invert = (v: IrValue) => fn.binary('sub', constInt(i64, 0xffffffff), v);
  return fn.icmp('sge', invert(arg), invert(current));
}

/**
 * The log2 bucket: 0 for negatives, 1 for zero, else 2 + floor(log2(n)), computed with shifts of
 * 32, 16, 8, 4, 2, 1, as bpftrace since 0.20. bpftrace 0.17 had no step of 32: every value from
 * 2^31 up landed in bucket 33, [2G, 4G) (a 1 TiB value too), silently. Without a branch:
 * each comparison is the sign bit of a subtraction. With branches the verifier walks a path per
 * outcome (64 for one hist, each a different constant offset into the buckets, none pruned), which
 * inside a loop outgrows its budget of a million instructions where bpftrace's program loads
 * (its buckets are map keys, not offsets).
 */
function log2Bucket(g: ProbeContext, n: IrValue): IrValue {
  const { fn } = g;
  const c = (v: number | bigint) => constInt(i64, v);
  const signBit = (v: IrValue) => fn.binary('lshr', v, c(63));
  let value = n;
  let result: IrValue = c(2);
  for (const bits of HIST_LOG2_SHIFTS) {
    // 1 when value >= 2^bits, for any value >= 0 (a negative n's steps are masked off below).
    const big = signBit(fn.binary('sub', c((1n << BigInt(bits)) - 1n), value));
    const shift = fn.binary('shl', big, c(Math.log2(bits)));
    value = fn.binary('lshr', value, shift);
    result = fn.binary('add', result, shift);
  }
  // Zero: 1, one less than the steps leave it. Negative: 0, by a mask of zeros (ones otherwise).
  const zero = fn.binary('xor', signBit(fn.binary('or', n, fn.binary('sub', c(0), n))), c(1));
  const keep = fn.binary('sub', signBit(n), c(1));
  return fn.binary('and', fn.binary('sub', result, zero), keep);
}

/** lhist bucket as bpftrace 0.17 computes it: 0 below min, 1 + (n - min) / step up to max, last above. */
function linearBucket(g: ProbeContext, n: IrValue, spec: MapSpec): IrValue {
  const { fn } = g;
  const { min, max, step } = spec.lhist!;
  const last = BigInt(lhistBucketCount(spec.lhist!) - 1);
  const below = fn.icmp('slt', n, constInt(i64, min));
  const above = fn.icmp('sgt', n, constInt(i64, max));
  const inside = fn.binary('add', fn.binary('udiv', fn.binary('sub', n, constInt(i64, min)), constInt(i64, step)), constInt(i64, 1));
  return fn.select(below, constInt(i64, 0), fn.select(above, constInt(i64, last), inside));
}
