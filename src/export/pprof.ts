// -f pprof: every stack-keyed map as one pprof profile (profile.proto, gzipped), the format
// `go tool pprof`, Pyroscope, Parca and cloud profilers read. Each map is a sample type named
// after it; a sample is one key: its stack(s) as locations (leaf first; a kernel stack before a
// user stack, as perf shows them) and its other key parts as labels. Encoding is pprof-format's.
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { MapKind } from '../model/program.js';
import type { AggregateValue, KeyValue, TypedMap } from '../runtime/map-values.js';
import { buildIdFrameText, type BuildIdFrame, type Frame } from '../runtime/symbols.js';
import { labelNames } from './metrics.js';

export interface ProfileTimes {
  /** When the run started, in ns since the epoch. */
  readonly startNanos: bigint;
  readonly durationNanos: bigint;
}

/** The gzipped profile of these (stack-keyed) maps. */
export function pprofProfile(maps: readonly TypedMap[], times: ProfileTimes): Buffer {
  const strings = new StringTable();
  const s = (text: string) => strings.dedup(text);
  const mappings = new Map<string, Mapping>();
  const functions = new Map<string, PprofFunction>();
  const locations = new Map<string, Location>();
  const samples: Sample[] = [];

  const mappingOf = (f: Frame): number => {
    if (!f.module) return 0;
    let m = mappings.get(f.module);
    if (!m) {
      m = new Mapping({
        id: mappings.size + 1, filename: s(f.module), buildId: s(f.buildId ?? ''), hasFunctions: true,
      });
      mappings.set(f.module, m);
    }
    return Number(m.id);
  };
  const functionOf = (f: Frame): number => {
    const name = f.symbol ?? `0x${f.address.toString(16)}`;
    const id = `${f.module ?? ''}\0${name}`;
    let fn = functions.get(id);
    if (!fn) {
      // No source file is known (the module is the location's mapping).
      fn = new PprofFunction({ id: functions.size + 1, name: s(name), systemName: s(name) });
      functions.set(id, fn);
    }
    return Number(fn.id);
  };
  const locationOf = (f: Frame): number => {
    const id = `${f.kind}\0${f.module ?? ''}\0${f.address}`;
    let loc = locations.get(id);
    if (!loc) {
      loc = new Location({ id: locations.size + 1, mappingId: mappingOf(f), address: f.address, line: [{ functionId: functionOf(f) }] });
      locations.set(id, loc);
    }
    return Number(loc.id);
  };

  const stacks = maps.flatMap((map, index) => {
    const labels = labelNames(map.spec);
    return map.entries.flatMap((e) => {
      const value = sampleValue(e.value);
      if (value === undefined) return [];
      const frames: Frame[] = [];
      const sampleLabels: Label[] = [];
      e.key.forEach((part, i) => {
        const t = map.keys[i]!.type;
        if (t.kind === 'kstack' || t.kind === 'ustack') {
          // The kernel's frames are above (called from) the user's.
          if (t.kind === 'kstack') frames.unshift(...(part as readonly Frame[]));
          else if (t.mode === 'build_id') frames.push(...(part as readonly BuildIdFrame[]).map(buildIdLocation));
          else frames.push(...(part as readonly Frame[]));
          return;
        }
        sampleLabels.push(label(s(labels[i]!), part, s));
      });
      return [{ frames, labels: sampleLabels, values: maps.map((_, j) => (j === index ? value : 0n)) }];
    });
  });
  // Readers take the first mapping for the profiled program: user files before the kernel.
  for (const { frames } of stacks) for (const f of frames) if (f.kind !== 'kernel') mappingOf(f);
  for (const { frames, labels, values } of stacks) {
    samples.push(new Sample({ locationId: frames.map(locationOf), value: values, label: labels }));
  }

  const profile = new Profile({
    sampleType: maps.map((m) => new ValueType({ type: s(m.name.slice(1) || 'map'), unit: s(unitOf(m.name, m.kind)) })),
    sample: samples,
    mapping: [...mappings.values()],
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    timeNanos: times.startNanos,
    durationNanos: times.durationNanos,
    comment: [s(`tracelet: ${maps.map((m) => m.name).join(', ')}`)],
  });
  return gzipSync(profile.encode());
}

/** A sample's value: the count, sum, min, max or average; a hist's or stats' count of values. */
/**
 * A ustack(build_id) frame as a location: named by its text, at its file offset in a mapping
 * named by the build id (that symbolizers look files up by), or at its address.
 */
function buildIdLocation(f: BuildIdFrame): Frame {
  const symbol = buildIdFrameText(f);
  if (!('buildId' in f)) return { kind: 'user', address: f.address, offset: 0n, symbol };
  return { kind: 'user', address: f.offset, offset: 0n, symbol, module: f.buildId, buildId: f.buildId };
}

function sampleValue(v: AggregateValue): bigint | undefined {
  switch (v.kind) {
    case 'scalar': return typeof v.value === 'bigint' ? v.value : undefined;
    case 'stats': return v.count;
    case 'hist': case 'lhist': return v.buckets.reduce((sum, b) => sum + b.count, 0n);
    case 'tseries': return v.points.at(-1)?.value;
    default: return v.value;
  }
}

function label(key: number, v: KeyValue, s: (text: string) => number): Label {
  if (typeof v === 'bigint') return new Label({ key, num: v });
  if (typeof v === 'string') return new Label({ key, str: s(v) });
  return new Label({ key, str: s(v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x))) });
}

/**
 * The unit pprof shows values in: `count` for count(); for other maps from the name's end
 * (`_ns`/`nsecs`: nanoseconds, `_us`/`usecs`: microseconds, `_ms`/`msecs`, `bytes`), else `count`.
 */
export function unitOf(map: string, kind: MapKind): string {
  if (kind === 'count') return 'count';
  const n = map.toLowerCase();
  if (/(_|\b|@)ns$|nsecs?$/.test(n)) return 'nanoseconds';
  if (/(_|\b|@)us$|usecs?$/.test(n)) return 'microseconds';
  if (/(_|\b|@)ms$|msecs?$/.test(n)) return 'milliseconds';
  if (/bytes$/.test(n)) return 'bytes';
  return 'count';
}
