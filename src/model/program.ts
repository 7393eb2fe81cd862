// The typed program the type checker produces: probes bound to their expanded targets, the maps
// and events of a program with the byte layout both codegen (which writes) and the runtime (which
// reads) agree on, and what the checker learned about each expression.
import type { AttachPoint, Expr, Probe, Stmt } from './ast.js';
import type { Span } from './span.js';
import type { AggregationKind, Type } from './types.js';
import type { Settings } from './config.js';

/** What kind of value a map holds; decides the BPF map type, update code, and output format. */
export type MapKind = 'scalar' | AggregationKind;

export type BpfMapType = 'hash' | 'percpu_hash' | 'array' | 'percpu_array' | 'lru_hash' | 'lru_percpu_hash';

/** Whether a map keeps a value per CPU (read back as one value of each CPU). */
export function isPerCpu(type: BpfMapType): boolean {
  return type === 'percpu_hash' || type === 'percpu_array' || type === 'lru_percpu_hash';
}

/** Counters of a hist(): bucket 0 is negative values, 1 is zero, k >= 2 is [2^(k-2), 2^(k-1)). */
export const HIST_BUCKETS = 66;

/**
 * The shifts a hist()'s log2 tries in turn (`if (v >= 2^s) { v >>= s; log += s; }`), as bpftrace
 * since 0.20; 0.17 had no 32, and put every value from 2^31 up in [2G, 4G). The BPF program
 * (codegen/aggregations.ts) and the reference bucket function (runtime/output/hist.ts) both use it.
 */
export const HIST_LOG2_SHIFTS = [32, 16, 8, 4, 2, 1] as const;

/** The highest hist bucket the log2 reaches: 2 + 62, for the largest value below 2^63. */
export const HIST_LAST_BUCKET = 64;

/** Counters of an lhist(): below min, (max - min) / step steps, then max and above. */
export function lhistBucketCount(p: LhistParams): number {
  return Number((p.max - p.min) / p.step) + 2;
}

/**
 * Kernel entries a map keeps per key: hist/lhist one per bucket, tseries one per interval slot
 * (the index appended to the key), other maps one.
 */
export function bucketCount(m: { readonly kind: MapKind; readonly lhist?: LhistParams; readonly tseries?: TseriesParams }): number {
  if (m.kind === 'hist') return HIST_BUCKETS;
  if (m.kind === 'lhist' && m.lhist) return lhistBucketCount(m.lhist);
  if (m.kind === 'tseries' && m.tseries) return m.tseries.intervals;
  return 1;
}

export interface LhistParams {
  readonly min: bigint;
  readonly max: bigint;
  readonly step: bigint;
}

/** How a tseries() combines the values of one interval: the last one (none given), or avg/sum/min/max. */
export type TseriesAggregation = 'last' | 'avg' | 'sum' | 'min' | 'max';

/** tseries(n, interval, intervals [, agg]): the map keeps `intervals` buckets of `intervalNs` each. */
export interface TseriesParams {
  readonly intervalNs: bigint;
  readonly intervals: number;
  readonly agg: TseriesAggregation;
}

/** The kernel value of a tseries() bucket: value, meta (last: the time set; avg: the count; min/max: set), epoch. */
export const TSERIES_VALUE_SIZE = 24;

export interface MapSpec {
  /** Including the `@`: `@`, `@c`, `@_under`. */
  readonly name: string;
  readonly kind: MapKind;
  /** Key type; a tuple for multi-key maps. Absent for a map with no key. */
  readonly keyType?: Type;
  /**
   * The name of each key part (one per tuple element), from its expression where it names itself
   * (`comm`, `args->fd`, `$fd`); undefined where it does not. Exporters make labels of them.
   */
  readonly keyNames?: readonly (string | undefined)[];
  /** The stored value: the scalar type, or the aggregation's result type. */
  readonly valueType: Type;
  /** A scalar integer map narrower than its 64-bit storage: values are converted to this width (see MapInfo). */
  readonly intBits?: number;
  readonly bpfType: BpfMapType;
  /** Bytes of the kernel key (8 for maps with no key: a zero u64). */
  readonly keySize: number;
  /** Bytes of the kernel value of one CPU. */
  readonly valueSize: number;
  readonly maxEntries: number;
  /**
   * Whether the kernel allocates every entry up front (its default). hist/lhist maps with keys
   * hold keys × buckets entries of which few are ever used: allocated on use, they are created in
   * microseconds instead of ~160 ms (4096 × 66 per-CPU entries), at the cost of an allocation when
   * a new (key, bucket) first appears. (Linux ≥ 6.1 allows this in every tracing program.)
   */
  readonly preallocate: boolean;
  /**
   * A hist/lhist without a key kept as one per-CPU array entry whose value is every bucket's
   * counter (bucket b at b × 8), not as a hash of (bucket → counter) entries: see keylessBuckets()
   * in src/typecheck/map-types.ts. The runtime reads it back as the hash layout (Session.snapshot).
   */
  readonly bucketsInValue?: boolean;
  readonly lhist?: LhistParams;
  readonly tseries?: TseriesParams;
  /** The map's declaration (`hash(100)`) when the script declares it: its limit in messages. */
  readonly declaredAs?: string;
  /** First place the map is assigned (for diagnostics). */
  readonly span: Span;
}

/**
 * An event a probe sends to user space through the ring buffer. Every record begins with the
 * event id as a u64; `fields` describe the rest, at fixed offsets. Codegen writes records with
 * exactly this layout and the runtime decodes them with it.
 */
export type EventKind =
  | 'printf' | 'print_value' | 'print_map' | 'time' | 'clear' | 'zero' | 'exit'
  | 'join' | 'cat' | 'system' | 'helper_error' | 'strftime' | 'errorf' | 'warnf' | 'unwatch';

/** join(): bpftrace 0.17 reads at most this many arguments of at most this many bytes each. */
export const JOIN_ARGS = 16;
export const JOIN_ARG_SIZE = 1024;

export interface EventField {
  readonly type: Type;
  readonly offset: number;
}

export interface EventSpec {
  readonly id: number;
  readonly kind: EventKind;
  /** printf/system/cat: the format string; time: the strftime format. */
  readonly format?: string;
  /** print/clear/zero: the map's name. */
  readonly map?: string;
  /** join(): the separator. */
  readonly separator?: string;
  /** print(@m, top, div) */
  readonly top?: number;
  readonly div?: number;
  readonly fields: readonly EventField[];
  /** Total bytes of a record, including the 8-byte id. */
  readonly size: number;
  readonly span: Span;
  /** errorf()/warnf() in a macro's body: the macro calls it was expanded from, innermost first. */
  readonly expandedFrom?: readonly Span[];
}

/** perf_event_attr.type values (ProbeTarget.perf.type). */
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;

/** One program to load: a probe block bound to one expanded attach point (or a shared group). */
export interface ProbeTarget {
  /** The provider after alias resolution. */
  readonly provider: AttachPoint['provider'];
  /** The full, expanded name as bpftrace prints it with `probe`, e.g. `tracepoint:syscalls:sys_enter_openat`. */
  readonly name: string;
  /** Provider-specific fields, e.g. [category, event] or [unit, value]. */
  readonly parts: readonly string[];
  readonly attachPoint: AttachPoint;
  /** uprobe/uretprobe/usdt: the resolved binary or library. */
  readonly path?: string;
  /** uprobe/uretprobe/usdt: the file offset to attach at. watchpoint: the address. */
  readonly address?: bigint;
  /** uprobe/uretprobe/kprobe/kfunc: the function name (the `func` builtin). */
  readonly func?: string;
  /** What `func` prints when it is not `func`: a C++ function's demangled name. */
  readonly funcPrinted?: string;
  /** usdt: the note's argument specs (`-4@%eax 8@-16(%rbp)`) and its semaphore's file offset. */
  readonly usdt?: { readonly provider: string; readonly name: string; readonly args: string; readonly semaphoreOffset: bigint };
  /** profile/software/hardware: the perf event to open (frequency instead of period for hz). */
  readonly perf?: { readonly type: number; readonly config: number; readonly period: number; readonly frequency: boolean };
  /** watchpoint: length in bytes and mode (r, w, x combinations). */
  readonly watch?: { readonly length: number; readonly mode: string };
}

export interface TypedProbe {
  readonly probe: Probe;
  /** The expanded targets this probe's program is attached to. */
  readonly targets: readonly ProbeTarget[];
  readonly index: number;
}

export interface VariableInfo {
  readonly name: string;
  readonly type: Type;
}

export interface TypedProgram {
  readonly probes: readonly TypedProbe[];
  readonly maps: ReadonlyMap<string, MapSpec>;
  readonly events: readonly EventSpec[];
  /** The type of every expression. */
  readonly types: ReadonlyMap<Expr, Type>;
  /**
   * Values the checker computed: named constants (enumerators, header macros), sizeof(),
   * offsetof(), and calls resolved at compile time (kaddr, uaddr, cgroupid: integers; pton: bytes).
   */
  readonly constants: ReadonlyMap<Expr, bigint | Uint8Array>;
  /** The event each printf/print/exit/... call sends. */
  readonly eventOf: ReadonlyMap<Expr | Stmt, EventSpec>;
  /** Scratch variables of each probe. */
  readonly variables: ReadonlyMap<Probe, ReadonlyMap<string, VariableInfo>>;
  /** What the script's config block sets (src/model/config.ts); the run's own options win. */
  readonly settings: Settings;
}
