// The types of values in a program and their byte layout, which the type checker infers, the
// kernel's BTF and tracepoint formats describe, codegen writes and the runtime reads.

export type IntBits = 8 | 16 | 32 | 64;

export type Type =
  | { readonly kind: 'none' }
  /** `enumerators`: an int of a C enum type (a field, a cast), which printf's %s prints by name (0.22+). */
  | { readonly kind: 'int'; readonly bits: IntBits; readonly signed: boolean; readonly enumerators?: EnumNames }
  | { readonly kind: 'bool' }
  /** A fixed-size, NUL-padded string (`size` includes the terminator). */
  | { readonly kind: 'string'; readonly size: number }
  /** Raw bytes from buf(): a length then `size` bytes. */
  | { readonly kind: 'buffer'; readonly size: number }
  /** A tuple; with `names`, a record literal `(a = 1, b = "x")` (bpftrace 0.25+), laid out as a tuple. */
  | { readonly kind: 'tuple'; readonly elements: readonly Type[]; readonly names?: readonly string[] }
  /**
   * A pointer into kernel memory; `userSpace` into the traced process's; `anySpace` an address made
   * from an integer outside uprobes, whose space is not known (bpf_probe_read decides by the
   * address, as bpftrace 0.17 reads an address without an address space).
   */
  | { readonly kind: 'pointer'; readonly target: Type; readonly userSpace?: boolean; readonly anySpace?: boolean }
  | { readonly kind: 'array'; readonly element: Type; readonly length: number }
  | {
    readonly kind: 'record'; readonly name: string; readonly size: number; readonly fields: readonly RecordField[];
    /** Where it is when reached through a pointer (see the pointer type). */
    readonly userSpace?: boolean; readonly anySpace?: boolean;
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
  /** A syscall number, printed as its name (syscall_name(), 0.26). */
  | { readonly kind: 'syscall_name' }
  /** A signal number, printed as its description (signal_name(), 0.26). */
  | { readonly kind: 'signal_name' }
  /** A cgroup id, printed as its paths in the cgroup hierarchies `filter` matches (cgroup_path()). */
  | { readonly kind: 'cgroup_path'; readonly filter: string }
  /** An enum value given to printf's %s: printed as its enumerator's name, or as a number when it has none. */
  | { readonly kind: 'enum_name'; readonly enumerators: EnumNames }
  /** strftime(fmt, ns): the nanoseconds, formatted with `format` by the runtime. */
  | { readonly kind: 'timestamp'; readonly format?: string }
  /** The value of an aggregation function call (only valid as a map value). */
  | { readonly kind: 'aggregation'; readonly agg: AggregationKind; readonly signed: boolean };

/** build_id (0.26, ustack only): each frame is the file's GNU build id and file offset, not an address. */
/** The most frames a stack can have (the kernel's perf_event_max_stack default). */
export const MAX_STACK_DEPTH = 127;

export type StackMode = 'bpftrace' | 'perf' | 'raw' | 'build_id';

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

/** The enumerators of a C enum type, by value (the last name of a value several share, as bpftrace). */
export interface EnumNames {
  /** `enum name`. */
  readonly type: string;
  readonly names: ReadonlyMap<bigint, string>;
}

/** The EnumNames of an enum's enumerators (name → value, in declaration order). */
export function enumNames(type: string, values: ReadonlyMap<string, bigint>): EnumNames {
  const names = new Map<bigint, string>();
  for (const [name, value] of values) names.set(value, name);
  return { type, names };
}

export function int(bits: IntBits, signed: boolean): Type {
  return { kind: 'int', bits, signed };
}

export function str(size: number): Type {
  return { kind: 'string', size };
}

export type AggregationKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist' | 'tseries';

// ---- layout ----

/** Types a map key or value is stored as: integers widen to 64 bits, as bpftrace does. */
export function storageType(t: Type): Type {
  if (t.kind === 'int' || t.kind === 'bool') return t.kind === 'int' && t.signed ? INT64 : UINT64;
  if (t.kind === 'tuple') return { ...t, elements: t.elements.map(storageType) };
  return t;
}

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
    // ksym: the address; usym: the address and the process image (pid, and its exec count above bit 32: symbols are resolved per program a process runs).
    case 'ksym': return 8;
    case 'usym': return 16;
    // kstack: the stack id (negative: no stack, or a full stack table); ustack: the id and the pid.
    case 'kstack': return 8;
    case 'ustack': return 16;
    // inet: the address family as a u64, then 16 bytes of address (4 used for AF_INET).
    case 'inet': return 24;
    // username: the uid.
    case 'username': return 8;
    case 'strerror': case 'syscall_name': case 'signal_name': case 'enum_name': case 'cgroup_path': return 8;
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
    case 'tuple': return `(${t.elements.map((e, i) => (t.names ? `${t.names[i]} = ` : '') + typeName(e)).join(', ')})`;
    case 'pointer': return `${typeName(t.target)} *`;
    case 'array': return `${typeName(t.element)}[${t.length}]`;
    case 'record': return t.name;
    case 'aggregation': return t.agg;
    // Stacks of another depth, and build_id stacks, are kept in a stack table of their own: their
    // ids are not interchangeable, so these are part of the type.
    case 'kstack':
    case 'ustack': {
      const parts = [...(t.mode === 'build_id' ? ['build_id'] : []), ...(t.depth !== MAX_STACK_DEPTH ? [String(t.depth)] : [])];
      return parts.length ? `${t.kind}(${parts.join(', ')})` : t.kind;
    }
    default: return t.kind;
  }
}

export function sameType(a: Type, b: Type): boolean {
  return typeName(a) === typeName(b);
}
