// What the kernel and the system's binaries offer a tracer. An interface, so the type checker can
// be tested against a fake kernel (e.g. a tracepoint this machine lacks).
import type { Type } from '../model/types.js';
import type { ProgramType } from '../model/providers.js';

/** One field of a tracepoint's `format` file. */
export interface TracepointField {
  readonly name: string;
  /** The C declaration as tracefs prints it, e.g. `const char * filename`. */
  readonly declaration: string;
  readonly type: Type;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /**
   * Set for `__data_loc T[] name` (and `__rel_loc`) fields. Then `type` is the 4-byte descriptor
   * (uint32): low 16 bits = offset of the data, high 16 bits = its length in bytes. The offset is
   * from the start of the record for __data_loc, from the end of this field for __rel_loc.
   * `element` is the array's element type (`char` → int8, so `str(args->name)` reads a string).
   */
  readonly dataLoc?: DataLocInfo;
}

export interface DataLocInfo {
  readonly element: Type;
  readonly relative: boolean;
}

export interface TracepointFormat {
  readonly category: string;
  readonly event: string;
  readonly id: number;
  /** Fields after the common_* header, as `args->` sees them. */
  readonly fields: readonly TracepointField[];
}

export interface ElfSymbol {
  readonly name: string;
  /** Virtual address as in the ELF. */
  readonly address: bigint;
  /** File offset of the symbol (what uprobes attach at). */
  readonly fileOffset: bigint;
  readonly size: bigint;
  readonly type: 'func' | 'object' | 'other';
}

export interface UsdtProbe {
  readonly provider: string;
  readonly name: string;
  /** File offset of the probe site. */
  readonly fileOffset: bigint;
  /** File offset of the semaphore, or 0n. */
  readonly semaphoreOffset: bigint;
  /** The argument specs as in the note, e.g. `-4@%eax 8@-16(%rbp)`. */
  readonly args: string;
}

/** A parameter of a kernel function or raw tracepoint, from BTF. */
export interface KernelParam {
  /** BTF's parameter name, or `argN` when it has none. */
  readonly name: string;
  /** Records behind pointers are opaque (fields: []); look them up again with kernelType(name). */
  readonly type: Type;
  /** The C spelling, e.g. `struct task_struct *` (for `-lv` listings). */
  readonly typeName: string;
}

export interface KernelFunction {
  readonly name: string;
  readonly params: readonly KernelParam[];
  readonly returnType: Type;
  readonly returnTypeName: string;
}

/** A parameter of a user-space function, from DWARF (dwarf.ts). */
export interface DwarfParam {
  readonly name: string;
  readonly type: Type;
  /** Its C type as bpftrace 0.17's -lv writes it (`long int`, `struct pt*`). */
  readonly typeName: string;
}

/** A user-space type as DWARF describes it (userType, for casts in uprobes). */
export interface DwarfType {
  readonly type: Type;
  /** The structs and unions it reaches, by name, in full (behind pointers they are opaque). */
  readonly records: ReadonlyMap<string, Extract<Type, { kind: 'record' }>>;
}

/** A user-space function as DWARF describes it (userFunction, for uprobe `args`). */
export interface DwarfFunction {
  /** The function's parameters in order, as declared. */
  readonly params: readonly DwarfParam[];
  /** The structs and unions the parameters' types reach, in full, by record name. */
  readonly records: ReadonlyMap<string, Extract<Type, { kind: 'record' }>>;
}

export interface KernelInfo {
  /** Makes sure tracefs is mounted; returns a one-line notice if it had to act or could not. */
  ensureTracefs(): { mounted: boolean; notice?: string };
  /** All tracepoints as `category:event`, sorted. */
  listTracepoints(): readonly string[];
  /** Whether `category:event` is a tracepoint (cheaper than searching listTracepoints). */
  hasTracepoint(category: string, event: string): boolean;
  /** The format of one tracepoint, or undefined if it does not exist. */
  tracepointFormat(category: string, event: string): TracepointFormat | undefined;
  /**
   * The id of one tracepoint (what perf_event_open attaches), or undefined if it does not exist:
   * without the format's field types, which may need BTF (tens of ms to load).
   */
  tracepointId(category: string, event: string): number | undefined;
  /** Raw tracepoint names (from BTF `btf_trace_*` typedefs). */
  listRawTracepoints(): readonly string[];
  /** A kernel type by name (`struct task_struct`, `u64`, `enum foo`), from BTF, read lazily. */
  kernelType(name: string): Type | undefined;
  /** Arguments of a raw tracepoint (`sched_switch`), without the leading `void *`. Optional. */
  rawTracepointArgs?(name: string): readonly KernelParam[] | undefined;
  /** A kernel function's BTF prototype, for kfunc/kretfunc. Optional. */
  kernelFunction?(name: string): KernelFunction | undefined;
  /** Kernel functions known to BTF (kfunc targets), sorted. Optional. */
  listKernelFunctions?(): readonly string[];
  /** The value of a kernel enumerator (`TASK_RUNNING`...), from BTF. Optional. */
  enumValue?(name: string): bigint | undefined;
  /** Integer macros of the headers a script #includes (e.g. AF_INET), and well-known kernel ones. Optional. */
  headerMacros?(includes: readonly string[]): ReadonlyMap<string, bigint>;
  /** The file `#include` finds for `name` (-I directories, then the system's), if any. */
  headerPath?(name: string): string | undefined;
  /**
   * The byte offset of a member of a kernel struct (BTF), e.g. task_struct's self_exec_id, for
   * code that reads one field: found without converting (or indexing) BTF's types. Optional.
   */
  structMemberOffset?(struct: string, member: string): number | undefined;
  /** Kernel functions (from /proc/kallsyms), for kprobe listing and ksym. */
  kernelSymbols(): readonly { address: bigint; name: string }[];
  /** Symbols of an ELF binary or library; `path` is already resolved. */
  elfSymbols(path: string): readonly ElfSymbol[];
  usdtProbes(path: string): readonly UsdtProbe[];
  /**
   * A function's parameters from the DWARF debug info of the file (or of its separate debug file),
   * for `args` of uprobes: the function at that file offset, else by name; undefined without debug
   * info or without the function. Optional.
   */
  userFunction?(path: string, name: string, fileOffset?: bigint): DwarfFunction | undefined;
  /**
   * A type the file's DWARF defines by that name (`struct point`, a typedef), for casts in its
   * uprobes, with the records its pointers reach; undefined without debug info or the type. Optional.
   */
  userType?(path: string, name: string): DwarfType | undefined;
  /** Resolves `libc` / `libc.so.6` / `/bin/bash` / `bash` the way bpftrace does. */
  resolveBinary(name: string, pid?: number): string | undefined;
  /**
   * The ELF files process `pid` runs: its program, then every file it maps (its libraries), each
   * through the process's root (`/proc/PID/root/usr/lib/libc.so.6`), as bpftrace 0.17 names the
   * files of USDT probes under -p. Optional.
   */
  processFiles?(pid: number): readonly string[];
  /** The libraries a binary loads, in the dynamic loader's search order (see resolve.ts). Optional. */
  libraryDependencies?(path: string): readonly string[];
  /** Kernel feature probes, e.g. 'kprobes' (kprobe PMU / kprobe_events), 'kfunc', 'hardware'. */
  hasFeature(feature: 'kprobes' | 'kfunc' | 'hardware' | 'iter' | 'uprobes'): boolean;
  /**
   * Whether programs of `programType` may call the kernel function (kfunc) `name`; undefined
   * when that cannot be known here (then the kernel's verifier decides at load). Optional.
   */
  kfuncAllowed?(name: string, programType: ProgramType): boolean | undefined;
  /** How many CPUs the machine can have (a per-CPU map holds a value for each). */
  possibleCpus(): number;
  /** Which kernel this is (release, build id, BTF), for the compile cache's key. Optional. */
  identity?(): string;
}
