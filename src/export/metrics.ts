// --metrics: a run's maps in the Prometheus text exposition format (0.0.4) or OpenMetrics 1.0,
// read at each scrape. How each map becomes a metric family is README's "Prometheus" section:
//   count()                      counter `tracelet_<map>_total` (a gauge if clear/zero/delete can reset it)
//   sum()                        counter when its values are unsigned and nothing resets it, else a gauge
//   min() max() avg(), integers  gauge
//   stats()                      summary without quantiles (`_count`, `_sum`) and an `_avg` gauge
//   hist() lhist()               histogram (`_bucket{le}` cumulative, `_count`; `_sum` from a
//                                sum() map named `@<map>_sum` with the same keys)
// Key parts become labels named by their expression (MapSpec.keyNames) or `key0`, `key1`, ....
import type { Call, Expr } from '../model/ast.js';
import type { MapSpec, TypedProgram } from '../model/program.js';
import type { Type } from '../model/types.js';
import { walk } from '../model/walk.js';
import { keyParts, readMap, type AggregateValue, type KeyValue, type MapReader, type TypedMapEntry } from '../runtime/map-values.js';
import { buildIdFrameText, type BuildIdFrame, type Frame } from '../runtime/symbols.js';

export interface MetricsOptions {
  /** The most keys of one map exported (the largest values are kept); default 2000. */
  readonly maxKeys?: number;
  /** The script's name, for HELP lines. */
  readonly sourceName?: string;
  /** Warnings (a map not exportable, keys capped); each is given once. */
  readonly warn?: (message: string) => void;
}

type FamilyType = 'counter' | 'gauge' | 'summary' | 'histogram';

interface Family {
  readonly spec: MapSpec;
  /** The name without suffixes: `tracelet_opens`. */
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly labels: readonly string[];
  /** hist/lhist: the sum() map that gives the histogram's `_sum`. */
  readonly sumMap?: MapSpec;
}

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Whether a scraper's Accept header asks for OpenMetrics. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/.test(accept ?? '');
}

export class MetricsExporter {
  private readonly families: Family[] = [];
  private readonly maxKeys: number;
  private readonly warned = new Set<string>();

  constructor(program: TypedProgram, private readonly reader: MapReader, private readonly options: MetricsOptions = {}) {
    this.maxKeys = options.maxKeys ?? 2000;
    const resettable = resetMaps(program);
    const taken = new Map<string, string>();
    const sumMaps = new Set<string>();
    for (const spec of program.maps.values()) {
      if (spec.kind !== 'hist' && spec.kind !== 'lhist') continue;
      const sum = program.maps.get(`${spec.name}_sum`);
      if (sum?.kind === 'sum' && sameKeys(sum, spec)) sumMaps.add(sum.name);
    }
    for (const spec of program.maps.values()) {
      if (sumMaps.has(spec.name)) continue;
      const type = familyType(spec, resettable.has(spec.name));
      if (!type) {
        this.warnOnce(`${spec.name}: not exported (--metrics exports numbers; it holds ${spec.valueType.kind})`);
        continue;
      }
      const name = metricName(spec.name);
      const clash = taken.get(name);
      if (clash) {
        this.warnOnce(`${spec.name}: not exported (its metric name ${name} is ${clash}'s)`);
        continue;
      }
      taken.set(name, spec.name);
      const sumMap = program.maps.get(`${spec.name}_sum`);
      this.families.push({
        spec,
        name,
        type,
        help: help(spec, options.sourceName),
        labels: labelNames(spec),
        ...(sumMap && sumMaps.has(sumMap.name) ? { sumMap } : {}),
      });
    }
  }

  /** The maps now, as one exposition. */
  render(openMetrics: boolean): string {
    let out = '';
    for (const f of this.families) out += this.family(f, openMetrics);
    return openMetrics ? `${out}# EOF\n` : out;
  }

  private family(f: Family, om: boolean): string {
    const entries = this.capped(f.spec, readMap(this.reader, f.spec).entries);
    // Prometheus' text format names a counter family with its `_total`; OpenMetrics without.
    const head = f.type === 'counter' && !om ? `${f.name}_total` : f.name;
    let out = `# HELP ${head} ${escapeHelp(f.help)}\n# TYPE ${head} ${f.type}\n`;
    const sums = f.sumMap ? sumsByKey(readMap(this.reader, f.sumMap).entries) : undefined;
    const avg: string[] = [];
    const histRange = f.type === 'histogram' ? bucketRange(entries) : undefined;
    const keys = keyParts(f.spec);
    for (const e of entries) {
      const labels = e.key.map((v, i) => `${f.labels[i]}="${escapeLabel(labelValue(v, keys[i]!.type))}"`);
      const set = (extra: string[] = []) => {
        const all = [...labels, ...extra];
        return all.length ? `{${all.join(',')}}` : '';
      };
      const v = e.value;
      switch (v.kind) {
        case 'count': case 'sum': case 'min': case 'max': case 'avg':
          out += `${f.name}${f.type === 'counter' ? '_total' : ''}${set()} ${v.value}\n`;
          break;
        case 'scalar':
          out += `${f.name}${set()} ${v.value as bigint}\n`;
          break;
        case 'stats':
          out += `${f.name}_count${set()} ${v.count}\n${f.name}_sum${set()} ${v.sum}\n`;
          avg.push(`${f.name}_avg${set()} ${v.avg}\n`);
          break;
        case 'hist': case 'lhist': {
          let cumulative = 0n;
          for (let i = 0; i < v.buckets.length; i++) {
            const b = v.buckets[i]!;
            cumulative += b.count;
            // Integer values: the bucket [min, max) holds exactly those <= max - 1.
            if (b.max !== undefined && i >= histRange!.first && i <= histRange!.last) {
              out += `${f.name}_bucket${set([`le="${b.max - 1n}"`])} ${cumulative}\n`;
            }
          }
          out += `${f.name}_bucket${set(['le="+Inf"'])} ${cumulative}\n${f.name}_count${set()} ${cumulative}\n`;
          const sum = sums?.get(keyId(e.key));
          if (sum !== undefined) out += `${f.name}_sum${set()} ${sum}\n`;
          break;
        }
      }
    }
    if (f.type === 'summary') {
      out += `# HELP ${f.name}_avg ${escapeHelp(`the average of ${f.spec.name} (integer division, as printed)`)}\n# TYPE ${f.name}_avg gauge\n${avg.join('')}`;
    }
    return out;
  }

  /** At most maxKeys entries: those of the largest values. */
  private capped(spec: MapSpec, entries: readonly TypedMapEntry[]): readonly TypedMapEntry[] {
    if (entries.length <= this.maxKeys) return entries;
    this.warnOnce(`${spec.name}: ${entries.length} keys, more than --metrics exports (TRACELET_METRICS_MAX_KEYS=${this.maxKeys}): only the ${this.maxKeys} largest are exported`);
    return [...entries].sort((a, b) => compare(magnitude(b.value), magnitude(a.value))).slice(0, this.maxKeys);
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message.split(':')[0]!)) return;
    this.warned.add(message.split(':')[0]!);
    this.options.warn?.(message);
  }
}

/** The maps a clear(), zero() or delete() of the program can reset. */
function resetMaps(program: TypedProgram): Set<string> {
  const names = new Set<string>();
  for (const p of program.probes) {
    walk(p.probe.body, (node) => {
      const call = node as Call;
      if (call.kind !== 'Call' || !['clear', 'zero', 'delete'].includes(call.name)) return;
      const target = call.args[0] as Expr | undefined;
      if (target?.kind === 'MapRef') names.add(`@${target.name}`);
    });
  }
  return names;
}

function familyType(spec: MapSpec, resettable: boolean): FamilyType | undefined {
  switch (spec.kind) {
    case 'count':
      return resettable ? 'gauge' : 'counter';
    case 'sum':
      return resettable || signed(spec.valueType) ? 'gauge' : 'counter';
    case 'min': case 'max': case 'avg':
      return 'gauge';
    case 'stats':
      return 'summary';
    case 'hist': case 'lhist':
      return 'histogram';
    case 'scalar':
      return spec.valueType.kind === 'int' || spec.valueType.kind === 'bool' ? 'gauge' : undefined;
  }
}

function signed(t: Type): boolean {
  return (t.kind === 'aggregation' || t.kind === 'int') && t.signed;
}

/** `@opens` → `tracelet_opens`, `@bytesByComm` → `tracelet_bytes_by_comm`, `@` → `tracelet_map`. */
export function metricName(map: string): string {
  const bare = map.slice(1).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return `tracelet_${bare || 'map'}`;
}

/** A label per key part: its own name when it has one, else `key<i>`; never a clash or `le`. */
export function labelNames(spec: MapSpec): string[] {
  const used = new Set<string>();
  return keyParts(spec).map((k, i) => {
    const own = k.name?.replace(/[^A-Za-z0-9_]/g, '_').replace(/^__+/, '');
    const name = own && /^[A-Za-z_]/.test(own) && own !== 'le' && !used.has(own) ? own : `key${i}`;
    used.add(name);
    return name;
  });
}

function help(spec: MapSpec, sourceName = 'stdin'): string {
  const keys = keyParts(spec);
  const key = keys.length ? `[${labelNames(spec).join(', ')}]` : '';
  const what = spec.kind === 'scalar' ? 'value' : `${spec.kind}()`;
  return `${spec.name}${key} = ${what} (${sourceName}:${spec.span.line})`;
}

function sameKeys(a: MapSpec, b: MapSpec): boolean {
  return JSON.stringify(keyParts(a).map((k) => k.type)) === JSON.stringify(keyParts(b).map((k) => k.type));
}

function keyId(key: readonly KeyValue[]): string {
  return JSON.stringify(key, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v));
}

function sumsByKey(entries: readonly TypedMapEntry[]): Map<string, bigint> {
  return new Map(entries.map((e) => [keyId(e.key), e.value.kind === 'sum' ? e.value.value : 0n]));
}

/** The buckets of a histogram family worth a line: from the lowest used to the highest used. */
function bucketRange(entries: readonly TypedMapEntry[]): { first: number; last: number } {
  let first = Infinity;
  let last = -1;
  for (const e of entries) {
    if (e.value.kind !== 'hist' && e.value.kind !== 'lhist') continue;
    e.value.buckets.forEach((b, i) => {
      if (b.count === 0n) return;
      first = Math.min(first, i);
      last = Math.max(last, i);
    });
  }
  return { first, last };
}

function magnitude(v: AggregateValue): bigint {
  switch (v.kind) {
    case 'scalar': return typeof v.value === 'bigint' ? v.value : 0n;
    case 'stats': return v.count;
    case 'hist': case 'lhist': return v.buckets.reduce((s, b) => s + b.count, 0n);
    case 'tseries': return v.points.at(-1)?.value ?? 0n;
    default: return v.value;
  }
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A key part as a label value: numbers in decimal, stacks folded (root first, `;` between frames). */
function labelValue(v: KeyValue, t: Type): string {
  if (typeof v === 'bigint') {
    if (t.kind === 'int') return String(t.signed ? BigInt.asIntN(t.bits, v) : BigInt.asUintN(t.bits, v));
    return String(v);
  }
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (t.kind === 'ustack' && t.mode === 'build_id') return (v as readonly BuildIdFrame[]).map(buildIdFrameText).reverse().join(';');
  if (t.kind === 'kstack' || t.kind === 'ustack') {
    return (v as readonly Frame[]).map((f) => f.symbol ?? `0x${f.address.toString(16)}`).reverse().join(';');
  }
  const element = (i: number) => (t.kind === 'tuple' ? t.elements[i]! : t.kind === 'array' ? t.element : t);
  return `[${(v as readonly KeyValue[]).map((e, i) => labelValue(e, element(i))).join(', ')}]`;
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
