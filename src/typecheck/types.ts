// The data the type checker produces: the types of expressions, the maps and events of a program,
// and the byte layout both codegen (which writes) and the runtime (which reads) agree on.
import type { AttachPoint, Expr, Probe, Span, Stmt } from '../parser/ast.js';

export type IntBits = 8 | 16 | 32 | 64;

export type Type =
  | { readonly kind: 'none' }
  | { readonly kind: 'int'; readonly bits: IntBits; readonly signed: boolean }
  | { readonly kind: 'bool' }
  /** A fixed-size, NUL-padded string (`size` includes the terminator). */
  | { readonly kind: 'string'; readonly size: number }
  /** Raw bytes from buf(): a length then `size` bytes. */
  | { readonly kind: 'buffer'; readonly size: number }
  | { readonly kind: 'tuple'; readonly elements: readonly Type[] }
  | { readonly kind: 'pointer'; readonly target: Type; readonly userSpace?: boolean }
  | { readonly kind: 'array'; readonly element: Type; readonly length: number }
  | {
    readonly kind: 'record'; readonly name: string; readonly size: number; readonly fields: readonly RecordField[];
    readonly userSpace?: boolean;
    /** Set when not the largest of its fields' (a script struct with `packed` or `aligned(N)`). */
    readonly align?: number;
  }
  /** Symbolized addresses: printed as names by the runtime. */
  | { readonly kind: 'ksym' }
  | { readonly kind: 'usym' }
  | { readonly kind: 'kstack'; readonly depth: number; readonly mode: StackMode }
  | { readonly kind: 'ustack'; readonly depth: number; readonly mode: StackMode }
  | { readonly kind: 'inet' }
  | { readonly kind: 'username' }
  /** An errno value, printed as its message (strerror()). */
  | { readonly kind: 'strerror' }
  /** strftime(fmt, ns): the nanoseconds, formatted with `format` by the runtime. */
  | { readonly kind: 'timestamp'; readonly format?: string }
  /** The value of an aggregation function call (only valid as a map value). */
  | { readonly kind: 'aggregation'; readonly agg: AggregationKind; readonly signed: boolean };

export type StackMode = 'bpftrace' | 'perf' | 'raw';

export interface RecordField {
  readonly name: string;
  readonly type: Type;
  readonly offset: number;
  readonly bitOffset?: number;
  readonly bitWidth?: number;
}

export const NONE: Type = { kind: 'none' };
export const INT64: Type = { kind: 'int', bits: 64, signed: true };
export const UINT64: Type = { kind: 'int', bits: 64, signed: false };
export const INT32: Type = { kind: 'int', bits: 32, signed: true };
export const UINT32: Type = { kind: 'int', bits: 32, signed: false };
export const UINT16: Type = { kind: 'int', bits: 16, signed: false };
export const UINT8: Type = { kind: 'int', bits: 8, signed: false };

export function int(bits: IntBits, signed: boolean): Type {
  return { kind: 'int', bits, signed };
}

export function str(size: number): Type {
  return { kind: 'string', size };
}

export type AggregationKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';

/** What kind of value a map holds; decides the BPF map type, update code, and output format. */
export type MapKind = 'scalar' | AggregationKind;

export type BpfMapType = 'hash' | 'percpu_hash' | 'array' | 'percpu_array' | 'lru_hash';

/** Counters of a hist(): bucket 0 is negative values, 1 is zero, k >= 2 is [2^(k-2), 2^(k-1)). */
export const HIST_BUCKETS = 66;

/** Counters of an lhist(): below min, (max - min) / step steps, then max and above. */
export function lhistBucketCount(p: LhistParams): number {
  return Number((p.max - p.min) / p.step) + 2;
}

export interface LhistParams {
  readonly min: bigint;
  readonly max: bigint;
  readonly step: bigint;
}

export interface MapSpec {
  /** Including the `@`: `@`, `@c`, `@_under`. */
  readonly name: string;
  readonly kind: MapKind;
  /** Key type; a tuple for multi-key maps. Absent for a map with no key. */
  readonly keyType?: Type;
  /** The stored value: the scalar type, or the aggregation's result type. */
  readonly valueType: Type;
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
  readonly lhist?: LhistParams;
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
  | 'join' | 'cat' | 'system' | 'helper_error' | 'strftime';

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
}

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
}

// ---- layout ----

export function sizeOf(t: Type): number {
  switch (t.kind) {
    case 'none': return 0;
    case 'bool': return 1;
    case 'int': return t.bits / 8;
    case 'string': return t.size;
    case 'buffer': return t.size + 1;
    case 'tuple': return tupleLayout(t.elements).size;
    case 'pointer': return 8;
    case 'array': return sizeOf(t.element) * t.length;
    case 'record': return t.size;
    // ksym: the address; usym: the address and the pid (symbols are resolved per process).
    case 'ksym': return 8;
    case 'usym': return 16;
    // kstack: the stack id (negative when bpf_get_stackid failed); ustack: the id and the pid.
    case 'kstack': return 8;
    case 'ustack': return 16;
    // inet: the address family as a u64, then 16 bytes of address (4 used for AF_INET).
    case 'inet': return 24;
    // username: the uid.
    case 'username': return 8;
    case 'strerror': return 8;
    case 'timestamp': return 8;
    case 'aggregation': return 8;
  }
}

export function alignOf(t: Type): number {
  switch (t.kind) {
    case 'int': return t.bits / 8;
    case 'string': case 'buffer': case 'bool': case 'none': return 1;
    case 'tuple': return Math.max(1, ...t.elements.map(alignOf));
    case 'array': return alignOf(t.element);
    case 'record': return t.align ?? Math.max(1, ...t.fields.map((f) => alignOf(f.type)));
    default: return 8;
  }
}

/** C layout of a tuple: each element at its natural alignment, total padded to the largest. */
export function tupleLayout(elements: readonly Type[]): { offsets: number[]; size: number } {
  let offset = 0;
  let maxAlign = 1;
  const offsets: number[] = [];
  for (const e of elements) {
    const a = alignOf(e);
    maxAlign = Math.max(maxAlign, a);
    offset = alignUp(offset, a);
    offsets.push(offset);
    offset += sizeOf(e);
  }
  return { offsets, size: alignUp(offset, maxAlign) };
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function typeName(t: Type): string {
  switch (t.kind) {
    case 'int': return `${t.signed ? '' : 'u'}int${t.bits}`;
    case 'string': return `string[${t.size}]`;
    case 'buffer': return `buffer[${t.size}]`;
    case 'tuple': return `(${t.elements.map(typeName).join(', ')})`;
    case 'pointer': return `${typeName(t.target)} *`;
    case 'array': return `${typeName(t.element)}[${t.length}]`;
    case 'record': return t.name;
    case 'aggregation': return t.agg;
    default: return t.kind;
  }
}

export function sameType(a: Type, b: Type): boolean {
  return typeName(a) === typeName(b);
}

/*
 * Strings are bytes in C and in bpftrace's output. Here they are JS strings holding UTF-8 text,
 * with each byte that is not part of valid UTF-8 (a `\xff` escape, a kernel string of binary
 * data) kept as one lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"): stringBytes and
 * bytesToString convert between the two exactly, so such bytes are written out raw, as bpftrace does.
 */

/** The bytes of a string: UTF-8, except escaped bytes >= 0x80 (U+DC80..U+DCFF) taken raw. */
export function stringBytes(s: string): Buffer {
  if (!/[\udc80-\udcff]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.from([c - 0xdc00]));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Bytes as a string: UTF-8 text, each byte of an invalid sequence as U+DC80..U+DCFF. */
export function bytesToString(b: Uint8Array): string {
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.length);
  const text = bytes.toString('utf8');
  // Node decodes invalid bytes as U+FFFD: only then (or for a real U+FFFD) go byte by byte.
  if (!text.includes('\ufffd')) return text;
  let out = '';
  for (let i = 0; i < b.length; ) {
    const n = utf8SequenceLength(b, i);
    out += n > 0 ? bytes.toString('utf8', i, i + n) : String.fromCharCode(0xdc00 + b[i]!);
    i += Math.max(n, 1);
  }
  return out;
}

/** The length of the valid UTF-8 sequence at b[i] (1–4), or 0 if none starts there. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not valid UTF-8.
  const c1 = b[i + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
  return n;
}
