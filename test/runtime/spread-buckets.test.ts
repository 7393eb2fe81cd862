// A keyless hist/lhist is one per-CPU array entry of every bucket's counter in the kernel
// (MapSpec.bucketsInValue); spreadBuckets gives every reader of maps the hash layout back: one
// (bucket → per-CPU counters) entry per bucket with a count or kept by zero(), as a hash map has.
import { describe, expect, it } from 'vitest';
import { HIST_BUCKETS, type MapSpec } from '../../src/model/program.js';
import { decodeMap, spreadBuckets } from '../../src/runtime/decode.js';

const CPUS = 2;
const spec = {
  name: '@h', kind: 'hist', valueType: { kind: 'aggregation', signed: false }, bpfType: 'percpu_array',
  keySize: 4, valueSize: HIST_BUCKETS * 8, maxEntries: 1, preallocate: true, bucketsInValue: true,
} as unknown as MapSpec;

/** The one entry's value as the kernel dumps it: each CPU's buckets, end to end. */
function stored(counts: Record<number, [bigint, bigint]>): { count: number; keys: Buffer; values: Buffer } {
  const values = Buffer.alloc(HIST_BUCKETS * 8 * CPUS);
  for (const [bucket, perCpu] of Object.entries(counts)) {
    perCpu.forEach((n, cpu) => values.writeBigUInt64LE(n, cpu * HIST_BUCKETS * 8 + Number(bucket) * 8));
  }
  return { count: 1, keys: Buffer.alloc(4), values };
}

describe('spreadBuckets', () => {
  it('makes an entry of each bucket with a count on some CPU, with its per-CPU counters', () => {
    const { spec: view, dump } = spreadBuckets(spec, stored({ 3: [2n, 1n], 10: [0n, 5n], 65: [1n, 0n] }), CPUS);
    expect([view.bpfType, view.keySize, view.valueSize, view.bucketsInValue]).toEqual(['percpu_hash', 8, 8, false]);
    expect(dump.count).toBe(3);
    expect([0, 1, 2].map((e) => dump.keys.readBigUInt64LE(e * 8))).toEqual([3n, 10n, 65n]);
    expect([0, 1, 2, 3, 4, 5].map((i) => dump.values.readBigUInt64LE(i * 8))).toEqual([2n, 1n, 0n, 5n, 1n, 0n]);
    const entries = decodeMap(view, dump.count, dump.keys, dump.values, CPUS);
    expect(entries.length).toBe(1);
  });

  it('keeps the buckets zero() left, with nothing counted, and makes no entry of an untouched map', () => {
    const kept = spreadBuckets(spec, stored({ 4: [0n, 1n] }), CPUS, new Set([7]));
    expect([0, 1].map((e) => kept.dump.keys.readBigUInt64LE(e * 8))).toEqual([4n, 7n]);
    expect(kept.dump.values.readBigUInt64LE(2 * 8)).toBe(0n);
    expect(spreadBuckets(spec, stored({}), CPUS).dump.count).toBe(0);
  });
});
