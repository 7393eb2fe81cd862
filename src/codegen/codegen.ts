// TypedProgram → LLVM IR text: one BPF program per probe (or per attach point where the code
// depends on it), maps declared as BTF-defined maps that libbpf creates and relocates at load
// (./maps.ts), events written straight into the ring buffer.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  mapName, variableKey, type AssignStmt, type Block, type Call, type Expr, type ForRangeStmt, type ForStmt, type Identifier, type JumpStmt, type LetStmt,
  type MapRef, type Probe, type Stmt, type Variable,
} from '../model/ast.js';
import type { Span } from '../model/span.js';
import { builtinNamed, type BuiltinName } from '../model/builtins.js';
import { providerRecord, type ProbeProvider, type ProgramType } from '../model/providers.js';
import { walk } from '../model/walk.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { INT64, UINT32, UINT64, alignUp, sizeOf, tupleLayout, type Type } from '../model/types.js';
import {
  JOIN_ARGS, JOIN_ARG_SIZE, lhistBucketCount, type EventSpec, type MapSpec, type ProbeTarget, type TypedProbe,
  type TypedProgram,
} from '../model/program.js';
import {
  DebugInfo, FunctionBuilder, ModuleBuilder, arrayType, constInt, i1, i32, i64, i8, i8p, intType, ptr,
  type IrType, type IrValue, type Label,
} from './ir/builder.js';
import { BPF_F_USER_STACK, BPF_NOEXIST, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, CLOCK_HELPERS, Helper, PROCESS_SEEN_EVENT } from './helpers.js';
import {
  COUNTERS_MAP, EVENTS_MAP, ModuleMaps, PROCESSES_SEEN_MAP, PROCESSES_SEEN_MAX, READ_FAILURES_MAP, RUN_CPID, RUN_PIDNS_DEV, RUN_PIDNS_INO, RUN_START_NS, RUN_VALUES_MAP, RUN_VALUE_SLOTS,
  STOPPED_MAP, stackMap, syscallNamesMap, type MapDefinition,
} from './maps.js';
import { stringBytes } from '../model/strings.js';
import { signalNumber } from '../kernel/signals.js';
import { ARG_REGS, PT_REGS, PT_REGS_CS, PT_REGS_RAX, PT_REGS_RSP, assemblerRegister } from '../kernel/registers.js';
import { syscallNumbers, syscallTable } from '../kernel/syscalls.js';

/** Kernel program types, by the name the native loader takes. */
/** `uprobe_multi`: one program attached to many uprobes of a binary through one link. */
export type { ProgramType };

export interface GeneratedProgram {
  /** The function (and kernel program) name, `tl_...`. */
  readonly name: string;
  readonly type: ProgramType;
  readonly probe: TypedProbe;
  readonly targets: readonly ProbeTarget[];
  /**
   * Set when the program is attached once, to this raw tracepoint (`sys_enter` / `sys_exit`),
   * instead of to each target: it dispatches on the syscall number to the code of its targets.
   */
  readonly rawTracepoint?: SyscallEvent;
}

/** The raw tracepoints every syscall passes through. */
export type SyscallEvent = 'sys_enter' | 'sys_exit';

/**
 * When syscall tracepoints share one raw tracepoint: `auto` when a probe has at least
 * SYSCALL_DISPATCH_MIN of them, `always`, or `never` (one perf-event tracepoint each).
 */
export type SyscallDispatchMode = 'auto' | 'always' | 'never';
export const SYSCALL_DISPATCH_MIN = 4;
/** Value size of the syscall names maps (syscallNamesMap()). */
export const SYSCALL_NAME_BYTES = 64;

/** Read sites counted one by one; further sites share the last slot. */
export const READ_SITES_MAX = 512;
/** Value size of the READ_FAILURES_MAP: a count per site. */
export const READ_FAILURE_BYTES = READ_SITES_MAX * 8;

/** A place in the script that reads probed memory, and the helper it reads with. */
export interface ReadSite {
  readonly span: Span;
  readonly helper: number;
}

/** Where probed memory lives, which decides the read helper (as bpftrace's address spaces). */
type AddressSpace = 'user' | 'kernel' | 'unknown';

const READ_HELPERS: Record<AddressSpace, { bytes: number; string: number }> = {
  user: { bytes: Helper.probeReadUser, string: Helper.probeReadUserStr },
  kernel: { bytes: Helper.probeReadKernel, string: Helper.probeReadKernelStr },
  // An integer used as an address outside uprobes: bpf_probe_read finds out (x86).
  unknown: { bytes: Helper.probeRead, string: Helper.probeReadStr },
};

/**
 * CPUs this machine can have (/sys/devices/system/cpu/possible, e.g. `0-3`), as libbpf counts
 * them; read when first needed (not while the start-up snapshot is built).
 */
let possibleCpuCount: number | undefined;
function possibleCpus(): number {
  if (possibleCpuCount === undefined) {
    try {
      const ranges = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',');
      possibleCpuCount = Math.max(...ranges.map((r) => Number(r.split('-').at(-1)) + 1));
    } catch {
      possibleCpuCount = availableParallelism();
    }
  }
  return possibleCpuCount;
}

export interface CodegenOptions {
  /** Default `auto` (the CLI takes it from TRACELET_SYSCALL_DISPATCH). */
  readonly syscallDispatch?: SyscallDispatchMode;
  /** The script's name as diagnostics show it (`stdin` for -e), for debug line info. */
  readonly sourceName?: string;
  /** The script's text, embedded in the debug info (BTF line_info then carries its lines). */
  readonly sourceText?: string;
  /** -k: report failed helper calls (1), -kk: also failed probe_read* (2). */
  readonly helperErrors?: number;
  /** Possible CPUs: reading an aggregation in a probe adds up every CPU's share. Default: this machine's. */
  readonly possibleCpus?: number;
}

export interface CodegenResult {
  readonly ir: string;
  readonly programs: readonly GeneratedProgram[];
  /** With -k: where each reported helper call is, by the site number its helper_error carries. */
  readonly helperErrorSites: readonly Span[];
  /** The read sites, by their slot in READ_FAILURES_MAP (the last one stands for the rest too). */
  readonly readSites: readonly ReadSite[];
  /** The maps the object declares (libbpf creates them at load). */
  readonly maps: readonly MapDefinition[];
  /** The object's map symbol of each script map (`@x` → `tl_x`). */
  readonly mapSymbols: ReadonlyMap<string, string>;
}

/** Slots of the counters array: [0] events lost to a full ring buffer, then one per map. */
export const COUNTER_LOST_EVENTS = 0;

/** The counter of updates a map refused because it was full (maps in the program's order). */
export function mapFullCounter(maps: ReadonlyMap<string, MapSpec>, name: string): number {
  const index = [...maps.keys()].indexOf(name);
  if (index < 0) throw new Error(`no map ${name} to count full updates of`);
  return 1 + index;
}

export function counterSlots(maps: ReadonlyMap<string, MapSpec>): number {
  return 1 + maps.size;
}

export function programType(provider: ProbeProvider): ProgramType {
  return providerRecord(provider).programType;
}

/** Does the probe's code depend on which attach point fired (so it needs a program per target)? */
function usesTargetSpecifics(probe: Probe): boolean {
  let found = false;
  walk([probe.predicate, probe.body], (node) => {
    const n = node as { kind: string; name?: string };
    if (n.kind === 'Builtin' && (n.name === 'args' || n.name === 'probe' || n.name === 'func')) {
      found = true;
      return 'stop';
    }
  });
  return found;
}

interface Plan {
  probe: TypedProbe;
  targets: ProbeTarget[];
  type: ProgramType;
  syscall?: SyscallEvent;
}

/**
 * The syscall tracepoints of a probe that can share the raw `sys_enter` / `sys_exit` tracepoint
 * (x86_64, syscall number known), or none when the probe has too few of them for it to pay.
 */
function syscallDispatchGroups(targets: readonly ProbeTarget[], mode: SyscallDispatchMode): Map<SyscallEvent, ProbeTarget[]> {
  const groups = new Map<SyscallEvent, ProbeTarget[]>();
  if (mode === 'never') return groups;
  let count = 0;
  for (const t of targets) {
    const m = t.provider === 'tracepoint' && t.parts[0] === 'syscalls' ? /^sys_(enter|exit)_(\w+)$/.exec(t.parts[1]!) : null;
    if (!m || !syscallNumbers(m[2]!)) continue;
    const event: SyscallEvent = m[1] === 'enter' ? 'sys_enter' : 'sys_exit';
    const g = groups.get(event) ?? [];
    g.push(t);
    groups.set(event, g);
    count++;
  }
  if (count < (mode === 'always' ? 1 : SYSCALL_DISPATCH_MIN)) groups.clear();
  return groups;
}

/**
 * How `args` is used by a probe: the fields it reads, or undefined when `args` appears other
 * than as `args->field` (then the code depends on the whole record).
 */
function argsFieldsUsed(probe: Probe): Set<string> | undefined {
  const fields = new Set<string>();
  let whole = false;
  walk([probe.predicate, probe.body], (node) => {
    const n = node as { kind: string; name?: string; object?: { kind?: string; name?: string }; field?: string };
    if (n.kind === 'FieldAccess' && n.object?.kind === 'Builtin' && n.object.name === 'args') {
      fields.add(n.field!);
      return false;
    }
    if (n.kind === 'Builtin' && n.name === 'args') {
      whole = true;
      return 'stop';
    }
  });
  return whole ? undefined : fields;
}

/** Splits each probe's targets into the programs to generate. */
function planPrograms(program: TypedProgram, mode: SyscallDispatchMode): Plan[] {
  const plans: Plan[] = [];
  for (const probe of program.probes) {
    const perTarget = usesTargetSpecifics(probe.probe);
    const groups = new Map<string, ProbeTarget[]>();
    const dispatched = syscallDispatchGroups(probe.targets, mode);
    for (const [event, targets] of dispatched) plans.push({ probe, targets, type: 'raw_tracepoint', syscall: event });
    const shared = new Set([...dispatched.values()].flat());
    for (const t of probe.targets) {
      if (shared.has(t)) continue;
      // BEGIN and END run at different times, so each gets its own program; a USDT site's
      // arguments live in its own registers and stack slots, so each site gets one too.
      const key = perTarget || t.provider === 'BEGIN' || t.provider === 'END' || t.provider === 'self' || t.provider === 'usdt'
        ? `${t.name}@${t.address ?? ''}`
        : t.provider === 'uprobe' || t.provider === 'uretprobe' ? `${t.provider}:${t.path}` : programType(t.provider);
      const g = groups.get(key) ?? [];
      g.push(t);
      groups.set(key, g);
    }
    for (const targets of groups.values()) {
      // Several uprobes of one binary share one multi-uprobe link: one attach and one detach
      // (50 uprobes: 29 ms instead of 3.3 s to detach here).
      const provider = targets[0]!.provider;
      const multi = targets.length > 1 && (provider === 'uprobe' || provider === 'uretprobe');
      plans.push({ probe, targets, type: multi ? 'uprobe_multi' : programType(provider) });
    }
  }
  return plans;
}

export function generate(program: TypedProgram, kernel: KernelInfo, options: CodegenOptions = {}): CodegenResult {
  const module = new ModuleBuilder(new DebugInfo(options.sourceName ?? 'stdin', options.sourceText));
  // GPL-only helpers (probe_read_kernel, get_current_task...) need a GPL-compatible program.
  module.global('@_license = global [4 x i8] c"GPL\\00", section "license", align 1');
  const maps = new ModuleMaps(module, program, counterSlots(program.maps));
  module.declare('declare void @llvm.lifetime.start.p0i8(i64 immarg, i8* nocapture)');
  module.declare('declare void @llvm.lifetime.end.p0i8(i64 immarg, i8* nocapture)');
  module.declare('declare void @llvm.memset.p0i8.i64(i8* nocapture writeonly, i8, i64, i1 immarg)');
  module.declare('declare void @llvm.memcpy.p0i8.p0i8.i64(i8* noalias nocapture writeonly, i8* noalias nocapture readonly, i64, i1 immarg)');
  const helperErrorSites: Span[] = [];
  const readSites = new ReadSites();
  const programs: GeneratedProgram[] = [];
  const mode = options.syscallDispatch ?? 'auto';
  for (const [i, plan] of planPrograms(program, mode).entries()) {
    const first = plan.targets[0]!;
    const name = plan.syscall ? `tl_sys_${i}` : `tl_${providerRecord(first.provider).tag}_${i}`;
    const section = plan.syscall ? `raw_tracepoint/${plan.syscall}` : providerRecord(first.provider).section(first.parts);
    const fn = new FunctionBuilder(name, section, [{ type: i8p, name: 'ctx' }]);
    fn.attachDebug(module.debug!, plan.probe.probe.span.line);
    const syscall = plan.syscall ? { event: plan.syscall, layout: syscallLayout(kernel) } : undefined;
    const generator = new ProbeGenerator(program, kernel, maps, options, module, fn, plan.probe, plan.targets, syscall);
    generator.helperErrorSites = helperErrorSites;
    generator.readSites = readSites;
    generator.generate();
    module.addFunction(fn);
    programs.push({ name, type: plan.type, probe: plan.probe, targets: plan.targets, rawTracepoint: plan.syscall });
  }
  return {
    ir: module.toString(), programs, helperErrorSites, readSites: readSites.sites, maps: maps.definitions, mapSymbols: maps.symbols,
  };
}

/** The read sites of a module, numbered once each (a span read with one helper is one site). */
class ReadSites {
  readonly sites: ReadSite[] = [];
  private readonly index = new Map<string, number>();

  /** The slot of the site in the read-failure map. */
  slot(span: Span, helper: number): number {
    const key = `${span.start}:${span.end}:${helper}`;
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.sites.length < READ_SITES_MAX ? this.sites.push({ span, helper }) - 1 : READ_SITES_MAX - 1;
      this.index.set(key, i);
    }
    return i;
  }
}

/** Byte offsets the syscall dispatch reads: pt_regs registers and the task's thread_info status. */
interface SyscallLayout {
  /** di, si, dx, r10, r8, r9: the x86_64 syscall arguments in order. */
  readonly args: readonly number[];
  readonly origAx: number;
  /** task_struct → thread_info.status, which has TS_COMPAT during 32-bit syscalls. */
  readonly threadStatus: number;
}

/** x86_64's TS_COMPAT (arch/x86/include/asm/thread_info.h). */
const TS_COMPAT = 0x0002;

/** From BTF when it has the types, else x86_64's layout (the same on every kernel since 4.x). */
function syscallLayout(kernel: KernelInfo): SyscallLayout {
  const field = (type: string, name: string): number | undefined => {
    const t = kernel.kernelType(type);
    return t?.kind === 'record' ? t.fields.find((f) => f.name === name)?.offset : undefined;
  };
  const reg = (name: string, fallback: number) => field('struct pt_regs', name) ?? fallback;
  const threadInfo = field('struct task_struct', 'thread_info') ?? 0;
  return {
    args: [reg('di', 112), reg('si', 104), reg('dx', 96), reg('r10', 56), reg('r8', 72), reg('r9', 64)],
    origAx: reg('orig_ax', 120),
    threadStatus: threadInfo + (field('struct thread_info', 'status') ?? 16),
  };
}

/** A value in generated code: an integer in a register, or a pointer to bytes of `type`. */
interface Val {
  readonly type: Type;
  /** Integers: the register (i64 unless the type is narrower); aggregates: an i8* to the bytes. */
  readonly ir: IrValue;
  /** Set for a struct or array still in probed memory: `ir` is its address (i64), not read yet. */
  readonly inMemory?: { readonly user: boolean };
}


/** One USDT argument spec: `-4@%eax`, `8@-16(%rbp)`, `4@$5`, `8@%rdi`. */
export interface UsdtArg {
  readonly size: number;
  readonly signed: boolean;
  readonly kind: 'register' | 'memory' | 'constant';
  readonly register?: number;
  readonly offset?: bigint;
  readonly value?: bigint;
}

export function parseUsdtArgs(spec: string): (UsdtArg | undefined)[] {
  return spec.trim() === '' ? [] : spec.trim().split(/\s+/).map(parseUsdtArg);
}

function parseUsdtArg(text: string): UsdtArg | undefined {
  const m = /^(-?)(\d+)@(.*)$/.exec(text);
  if (!m) return undefined;
  const size = Number(m[2]);
  const signed = m[1] === '-';
  const op = m[3]!;
  let x: RegExpExecArray | null;
  if ((x = /^\$(-?(?:0x[0-9a-fA-F]+|\d+))$/.exec(op))) return { size, signed, kind: 'constant', value: BigInt(x[1]!) };
  if ((x = /^%(\w+)$/.exec(op)) && assemblerRegister(x[1]!) !== undefined) {
    return { size, signed, kind: 'register', register: assemblerRegister(x[1]!)! };
  }
  if ((x = /^(-?(?:0x[0-9a-fA-F]+|\d+))?\(%(\w+)\)$/.exec(op)) && assemblerRegister(x[2]!) !== undefined) {
    return { size, signed, kind: 'memory', register: assemblerRegister(x[2]!)!, offset: x[1] ? BigInt(x[1]) : 0n };
  }
  return undefined;
}

function isAggregate(t: Type): boolean {
  return t.kind === 'string' || t.kind === 'tuple' || t.kind === 'record' || t.kind === 'buffer' || t.kind === 'array'
    || t.kind === 'usym' || t.kind === 'ustack' || t.kind === 'inet';
}

/** Types kept as one 64-bit integer (addresses, stack ids, uids, timestamps). */
function isScalar64(t: Type): boolean {
  return t.kind === 'ksym' || t.kind === 'kstack' || t.kind === 'username' || t.kind === 'timestamp' || t.kind === 'strerror';
}

/** What failed: a read at a site (its slot in READ_FAILURES_MAP), or a counted update. */
type Failure = { readonly read: number } | { readonly counter: number };

/** Where break/continue go: labels of a while loop, or the return of a for-loop callback. */
type LoopExit = { continueTo: Label; breakTo: Label } | 'callback';

class ProbeGenerator {
  private readonly vars = new Map<string, { type: Type; slot: IrValue }>();
  private readonly loops: LoopExit[] = [];
  /** In a for loop's callback: the context's flag a `return` sets, so the probe returns after the loop. */
  private returnFlag?: IrValue;
  private callbacks = 0;
  /** -k: the script position of each reported helper call, shared by all programs of the module. */
  helperErrorSites: Span[] = [];
  /** Where the module reads probed memory, shared by all its programs. */
  readSites = new ReadSites();
  /**
   * What failed in this run of the body, noted without branching (a branch per read or update
   * multiplies the verifier's paths; a loop then soon exceeds its limits) and added to the counts
   * once, where the body returns. A bit (words of 64) per read site (the runs in which it failed)
   * and per map update that runs at most once a run (so its bit counts it exactly); a count on the
   * stack for each counter whose updates can repeat in a run (in a while loop or unroll).
   */
  private failures?: { words: IrValue[]; bits: Failure[]; counts: Map<number, IrValue> };
  /** How many unroll bodies are being generated around the current statement. */
  private unrolling = 0;
  /** Where the body's returns meet (to count its failures), with the value to return. */
  private exit?: { label: Label; value: IrValue };
  /** The innermost statement or call being compiled: where a failed helper is reported. */
  private site?: Span;
  /** In a syscall dispatch program: the syscall number and the struct pt_regs pointer (i64). */
  private syscallNr?: IrValue;
  private syscallRegs?: IrValue;

  private get possibleCpus(): number {
    return this.options.possibleCpus ?? possibleCpus();
  }

  constructor(
    private readonly program: TypedProgram,
    private readonly kernel: KernelInfo,
    private readonly maps: ModuleMaps,
    private readonly options: CodegenOptions,
    private readonly module: ModuleBuilder,
    private readonly fn: FunctionBuilder,
    private readonly probe: TypedProbe,
    private targets: readonly ProbeTarget[],
    private readonly syscall?: { readonly event: SyscallEvent; readonly layout: SyscallLayout },
  ) {}

  generate(): void {
    if (this.syscall) this.generateSyscallDispatch(this.syscall.event, this.syscall.layout);
    else this.emitBody();
  }

  /**
   * One program on the raw `sys_enter` / `sys_exit` tracepoint for many syscall tracepoints: it
   * finds the syscall number, branches (a binary search over number ranges) to the code of the
   * matching target, or returns. What a `syscalls:sys_*_NAME` perf tracepoint would see is
   * rebuilt: 32-bit (compat) syscalls are skipped as the perf tracepoints skip them, and
   * `args->field` reads the argument register (or the return value) the kernel copies into the
   * tracepoint's record. The code of the probe is emitted once when it does not depend on the
   * target, else once per target with `probe` and `args` of that target.
   */
  private generateSyscallDispatch(event: SyscallEvent, layout: SyscallLayout): void {
    const { fn } = this;
    const ctx = fn.param(0);
    // Raw tracepoint context: u64 args[]; [0] = struct pt_regs *, [1] = id (enter) or ret (exit).
    this.syscallRegs = fn.load(fn.bitcast(ctx, ptr(i64)), 8);
    this.syscallNr = event === 'sys_enter'
      ? fn.load(fn.byteOffset(ctx, 8, i64), 8)
      : this.readKernel(this.syscallRegs, layout.origAx, 8);
    const all = this.targets;
    const skip = fn.label('notours');
    const cases: { nr: number; label: Label }[] = [];
    const bodies: { label: Label; targets: readonly ProbeTarget[] }[] = [];
    // Targets share code when the `args` fields the probe reads sit at the same offsets (`probe`
    // is looked up by syscall number); the code is emitted once per distinct layout.
    const used = argsFieldsUsed(this.probe.probe);
    const layouts = new Map<string, ProbeTarget[]>();
    for (const t of all) {
      let key = used ? '' : t.name;
      if (used && used.size > 0) {
        const format = this.kernel.tracepointFormat(t.parts[0]!, t.parts[1]!);
        key = [...used].map((f) => format?.fields.find((x) => x.name === f)?.offset ?? -1).join(',');
      }
      const g = layouts.get(key) ?? [];
      g.push(t);
      layouts.set(key, g);
    }
    for (const group of layouts.values()) {
      const label = fn.label('syscall');
      bodies.push({ label, targets: group });
      for (const t of group) {
        for (const nr of syscallNumbers(t.parts[1]!.replace(/^sys_(enter|exit)_/, '')) ?? []) cases.push({ nr, label });
      }
    }
    cases.sort((a, b) => a.nr - b.nr);
    // Consecutive numbers going to the same code make one range.
    const ranges: { lo: number; hi: number; label: Label }[] = [];
    for (const c of cases) {
      const last = ranges.at(-1);
      if (last && last.label === c.label && last.hi + 1 === c.nr) last.hi = c.nr;
      else ranges.push({ lo: c.nr, hi: c.nr, label: c.label });
    }
    this.dispatchTree(this.syscallNr, ranges, skip);
    fn.place(skip);
    fn.ret(constInt(i64, 0));
    for (const body of bodies) {
      fn.place(body.label);
      this.targets = body.targets;
      // A 32-bit syscall (int 0x80 from a 64-bit process) has ia32 numbers: not ours.
      const task = fn.callHelper(Helper.getCurrentTask, i64, []);
      const status = this.readKernel(task, layout.threadStatus, 4);
      const compat = fn.icmp('ne', fn.binary('and', status, constInt(i64, TS_COMPAT)), constInt(i64, 0));
      const native = fn.label('native');
      const compatExit = fn.label('compat');
      fn.condBr(compat, compatExit, native);
      fn.place(compatExit);
      fn.ret(constInt(i64, 0));
      fn.place(native);
      this.emitBody();
    }
    this.targets = all;
  }

  /** Branches to the label of the range holding `value`, or to `miss`: a balanced binary search. */
  private dispatchTree(value: IrValue, ranges: readonly { lo: number; hi: number; label: Label }[], miss: Label): void {
    const { fn } = this;
    if (ranges.length === 0) {
      fn.br(miss);
      return;
    }
    if (ranges.length === 1) {
      const { lo, hi, label } = ranges[0]!;
      // value - lo <= hi - lo, unsigned: one compare for the whole range.
      const inside = fn.icmp('ule', fn.binary('sub', value, constInt(i64, lo)), constInt(i64, hi - lo));
      fn.condBr(inside, label, miss);
      return;
    }
    const mid = ranges.length >> 1;
    const left = fn.label('below');
    const right = fn.label('above');
    fn.condBr(fn.icmp('ult', value, constInt(i64, ranges[mid]!.lo)), left, right);
    fn.place(left);
    this.dispatchTree(value, ranges.slice(0, mid), miss);
    fn.place(right);
    this.dispatchTree(value, ranges.slice(mid), miss);
  }

  /** `probe` in a syscall dispatch program: the tracepoint's name, by syscall number. */
  private syscallProbeName(size: number): IrValue {
    const { fn } = this;
    const out = this.temp({ kind: 'string', size });
    this.memset(out, size);
    const names = this.maps.ref({
      symbol: syscallNamesMap(this.syscall!.event), type: 'array', keySize: 4, valueSize: SYSCALL_NAME_BYTES,
      maxEntries: Math.max(1, ...syscallTable().map(([nr]) => nr + 1)),
    });
    fn.beginScope();
    const key = fn.scratch(i32, 4);
    fn.store(fn.intCast(this.syscallNr!, i32, false), key, 4);
    const p = fn.callHelper(Helper.mapLookupElem, i8p, [names, fn.bitcast(key, i8p)]);
    fn.endScope();
    const found = fn.label('name');
    const done = fn.label('named');
    fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), found, done);
    fn.place(found);
    this.memcpy(out, p, Math.min(size, SYSCALL_NAME_BYTES));
    fn.br(done);
    fn.place(done);
    return out;
  }

  /** Returns from the program when the run has been stopped (see STOPPED_MAP). */
  private returnIfStopped(): void {
    const { fn } = this;
    fn.beginScope();
    const key = fn.scratch(i32, 4);
    fn.store(constInt(i32, 0), key, 4);
    const p = fn.callHelper(Helper.mapLookupElem, i8p, [this.maps.address(STOPPED_MAP), fn.bitcast(key, i8p)]);
    fn.endScope();
    const check = fn.label('check');
    const stop = fn.label('stopped');
    const run = fn.label('running');
    fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), check, run);
    fn.place(check);
    fn.condBr(fn.icmp('ne', fn.load(fn.bitcast(p, ptr(i64)), 8), constInt(i64, 0)), stop, run);
    fn.place(stop);
    fn.ret(constInt(i64, 0));
    fn.place(run);
  }

  /** Reads `bytes` (≤ 8) of kernel memory at address + offset, zero-extended to i64. */
  private readKernel(address: IrValue, offset: number, bytes: number): IrValue {
    const { fn } = this;
    fn.beginScope();
    const slot = fn.scratch(i64, 8);
    fn.store(constInt(i64, 0), slot, 8);
    const source = fn.intToPtr(fn.binary('add', address, constInt(i64, offset)), i8p);
    fn.callHelper(Helper.probeReadKernel, i64, [fn.bitcast(slot, i8p), constInt(i32, bytes), source]);
    const value = fn.load(slot, 8);
    fn.endScope();
    return value;
  }

  /** `args->field` in a syscall dispatch program: what the perf tracepoint's record would hold. */
  private syscallField(field: string, type: Type): Val {
    const { fn } = this;
    const target = this.targets[0]!;
    const format = this.kernel.tracepointFormat(target.parts[0]!, target.parts[1]!);
    const f = format?.fields.find((x) => x.name === field);
    let v: IrValue;
    if (!f) {
      v = constInt(i64, 0);
    } else if (field === '__syscall_nr') {
      v = this.syscallNr!;
    } else if (this.syscall!.event === 'sys_exit') {
      v = fn.load(fn.byteOffset(fn.param(0), 8, i64), 8); // ret: the raw tracepoint's args[1]
    } else {
      const register = this.syscall!.layout.args[(f.offset - 16) / 8];
      v = register === undefined ? constInt(i64, 0) : this.readKernel(this.syscallRegs!, register, 8);
    }
    // Every syscall field is 8 bytes wide, so this only narrows fields of other sizes.
    if (type.kind === 'int' && type.bits < 64) v = fn.intCast(fn.intCast(v, intType(type.bits), false), i64, type.signed);
    return { type, ir: v };
  }

  private emitBody(): void {
    const { fn } = this;
    const body = this.probe.probe;
    fn.setLocation(body.span.line, body.span.column);
    const special = this.targets[0]?.provider;
    if (special !== 'BEGIN' && special !== 'END') this.returnIfStopped();
    this.beginExits();
    if (body.predicate) {
      fn.comment(`predicate at ${body.predicate.span.line}:${body.predicate.span.column}`);
      fn.setLocation(body.predicate.span.line, body.predicate.span.column);
      const pass = fn.label('body');
      const skip = fn.label('skip');
      fn.beginScope();
      const condition = this.truthy(this.expr(body.predicate));
      fn.endScope();
      fn.condBr(condition, pass, skip);
      fn.place(skip);
      this.returnValue(0);
      fn.place(pass);
    }
    this.block(body.body);
    // The failure counting every exit goes through belongs to the probe, not its last statement.
    fn.setLocation(body.span.line, body.span.column);
    this.endExits();
  }

  // ---- statements ----

  private block(b: Block): void {
    for (const s of b.statements) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    this.fn.comment(`${s.kind} at line ${s.span.line}:${s.span.column}`);
    this.fn.setLocation(s.span.line, s.span.column);
    this.site = s.span;
    this.fn.beginScope();
    this.stmtInScope(s);
    this.fn.endScope();
  }

  private stmtInScope(s: Stmt): void {
    const { fn } = this;
    switch (s.kind) {
      case 'ExprStmt':
        this.expr(s.expr);
        return;
      case 'AssignStmt':
        this.assign(s);
        return;
      case 'BlockStmt':
        this.block(s.block);
        return;
      case 'IfStmt': {
        const then = fn.label('then');
        const otherwise = fn.label('else');
        const done = fn.label('endif');
        fn.condBr(this.truthy(this.expr(s.condition)), then, s.otherwise ? otherwise : done);
        fn.place(then);
        this.block(s.then);
        if (!fn.isTerminated) fn.br(done);
        if (s.otherwise) {
          fn.place(otherwise);
          if (s.otherwise.kind === 'IfStmt') this.stmt(s.otherwise);
          else this.block(s.otherwise);
          if (!fn.isTerminated) fn.br(done);
        }
        fn.place(done);
        return;
      }
      case 'WhileStmt': {
        const head = fn.label('while');
        const body = fn.label('do');
        const done = fn.label('endwhile');
        fn.br(head);
        fn.place(head);
        fn.condBr(this.truthy(this.expr(s.condition)), body, done);
        fn.place(body);
        this.loops.push({ continueTo: head, breakTo: done });
        this.block(s.body);
        this.loops.pop();
        if (!fn.isTerminated) fn.br(head);
        fn.place(done);
        return;
      }
      case 'UnrollStmt': {
        const n = Number(constantOf(s.count) ?? 1n);
        this.unrolling++;
        for (let i = 0; i < n; i++) this.block(s.body);
        this.unrolling--;
        return;
      }
      case 'JumpStmt': {
        if (s.jump === 'return') {
          this.returnFromProbe();
          return;
        }
        const loop = this.loops.at(-1)!;
        // In a for-loop callback, returning 1 stops bpf_for_each_map_elem and 0 goes on.
        if (loop === 'callback') this.returnValue(s.jump === 'break' ? 1 : 0);
        else fn.br(s.jump === 'break' ? loop.breakTo : loop.continueTo);
        return;
      }
      case 'ForStmt':
        this.forLoop(s);
        return;
      case 'ForRangeStmt':
        this.forRange(s);
        return;
      case 'LetStmt':
        this.declare(s);
        return;
    }
  }

  /** `let $x = e`; `let $x;` sets it to 0 (again on every run of the declaration, as in a loop). */
  private declare(s: LetStmt): void {
    const key = variableKey(s.variable);
    if (s.value) {
      this.storeVariable(key, this.expr(s.value));
      return;
    }
    const v = this.variableSlot(key, INT64);
    if (isAggregate(v.type)) this.memset(v.slot, sizeOf(v.type));
    else this.fn.store(constInt(i64, 0), this.fn.bitcast(v.slot, ptr(i64)), 8);
  }

  /**
   * `for ($i : start..end) { body }` → bpf_loop with the body as a callback; start and end are
   * read once. bpf_loop runs at most 2^23 times: a longer range fails (-E2BIG, reported with -k).
   */
  private forRange(s: ForRangeStmt): void {
    const { fn } = this;
    const start = this.toI64(this.expr(s.start));
    const end = this.toI64(this.expr(s.end));
    const empty = fn.icmp('sle', end, start);
    const count = fn.binary('sub', end, start);
    this.loopCallback(s, [{ type: i64, name: 'index' }, { type: i8p, name: 'context' }], 1, {
      prepare: (context) => fn.store(start, fn.bitcast(context, ptr(i64)), 8),
      enter: (body, callback) => {
        // $i = start (kept in the context's first 8 bytes) + index
        const slot = callback.alloca(i64);
        const first = callback.load(callback.bitcast(callback.param(1), ptr(i64)), 8);
        callback.store(callback.binary('add', first, callback.param(0)), slot, 8);
        body.vars.set(variableKey(s.variable), { type: INT64, slot });
      },
      call: (callback, context) => {
        // Not called for an empty range: the verifier (6.18) skips the callback of a loop it knows
        // runs 0 times, then fails to JIT it ("No program to jit").
        const run = fn.label('range');
        const done = fn.label('endrange');
        fn.condBr(empty, done, run);
        fn.place(run);
        const rc = fn.callHelper(Helper.loop, i64, [fn.intCast(count, i32, false), callback.pointer, context, constInt(i64, 0)]);
        this.reportHelperError(Helper.loop, rc);
        fn.br(done);
        fn.place(done);
      },
    });
  }

  /** `for ($kv : @m) { body }` → bpf_for_each_map_elem with the body as a callback. */
  private forLoop(s: ForStmt): void {
    const { fn } = this;
    const spec = this.mapSpec(mapName(s.map));
    const kvType = this.program.types.get(s.variable)!;
    this.loopCallback(s, [
      { type: i8p, name: 'map' }, { type: i8p, name: 'key' }, { type: i8p, name: 'value' }, { type: i8p, name: 'context' },
    ], 3, {
      enter: (body, callback) => {
        // $kv: the entry's key and value side by side, as a tuple.
        const kv = body.temp(kvType);
        const elements = kvType.kind === 'tuple' ? kvType.elements : [];
        const layout = tupleLayout(elements);
        body.memcpy(callback.byteOffset(kv, layout.offsets[0]!), callback.param(1), sizeOf(elements[0]!));
        body.memcpy(callback.byteOffset(kv, layout.offsets[1]!), callback.param(2), sizeOf(elements[1]!));
        body.vars.set(variableKey(s.variable), { type: kvType, slot: kv });
      },
      call: (callback, context) => {
        fn.callHelper(Helper.forEachMapElem, i64, [this.mapPointer(spec.name), callback.pointer, context, constInt(i64, 0)]);
      },
    });
  }

  /**
   * The body of a for loop as the callback of a looping helper (`params`; the context pointer is
   * parameter `contextParam`). Variables of the probe that the body uses travel in a context
   * struct on this stack, after 8 bytes the loop may use (`prepare`): copied in before the call
   * and back after it, so the body reads and writes them as if inline. `enter` sets the loop
   * variable in the callback, `call` calls the helper.
   */
  private loopCallback(
    s: ForStmt | ForRangeStmt,
    params: readonly { type: IrType; name: string }[],
    contextParam: number,
    steps: {
      prepare?: (context: IrValue) => void;
      enter: (body: ProbeGenerator, callback: FunctionBuilder) => void;
      call: (callback: FunctionBuilder, context: IrValue) => void;
    },
  ): void {
    const { fn } = this;
    const loopKey = variableKey(s.variable);
    const used = variablesIn(s.body);
    const shared = [...this.vars].filter(([key]) => used.has(key) && key !== loopKey);
    const offsets: number[] = [];
    // After the 8 bytes of `prepare`: the flag of a `return` in the body, if it has one.
    const returns = containsReturn(s.body);
    const flagOffset = 8;
    let size = returns ? 16 : 8;
    for (const [, v] of shared) {
      offsets.push(size);
      size += alignUp(Math.max(1, sizeOf(v.type)), 8);
    }
    const context = fn.bitcast(fn.scratch(arrayType(size, i8)), i8p);
    steps.prepare?.(context);
    if (returns) fn.store(constInt(i64, 0), fn.byteOffset(context, flagOffset, i64), 8);
    shared.forEach(([, v], i) => this.memcpy(fn.byteOffset(context, offsets[i]!), v.slot, slotSize(v.type)));

    const callback = new FunctionBuilder(`${fn.name}_for${this.callbacks++}`, undefined, [...params]);
    callback.attachDebug(this.module.debug!, s.span.line);
    callback.setLocation(s.span.line, s.span.column);
    const body = new ProbeGenerator(this.program, this.kernel, this.maps, this.options, this.module, callback, this.probe, this.targets);
    body.helperErrorSites = this.helperErrorSites;
    body.readSites = this.readSites;
    shared.forEach(([key, v], i) => {
      const slot = callback.byteOffset(callback.param(contextParam), offsets[i]!, isAggregate(v.type) ? i8 : i64);
      body.vars.set(key, { type: v.type, slot });
    });
    steps.enter(body, callback);
    if (returns) body.returnFlag = callback.byteOffset(callback.param(contextParam), flagOffset, i64);
    body.loops.push('callback');
    body.beginExits();
    body.block(s.body);
    body.endExits();
    this.module.addFunction(callback);

    steps.call(callback, context);
    shared.forEach(([, v], i) => this.memcpy(v.slot, fn.byteOffset(context, offsets[i]!), slotSize(v.type)));
    if (returns) {
      // The body returned: so does the probe (or, in an outer loop's body, that loop's callback).
      const returned = fn.label('returned');
      const after = fn.label('afterloop');
      fn.condBr(fn.icmp('ne', fn.load(fn.byteOffset(context, flagOffset, i64), 8), constInt(i64, 0)), returned, after);
      fn.place(returned);
      this.returnFromProbe();
      fn.place(after);
    }
  }

  /** `return`: ends the probe; in a for loop's callback, stops the loop and flags the return. */
  private returnFromProbe(): void {
    if (!this.returnFlag) {
      this.returnValue(0);
      return;
    }
    this.fn.store(constInt(i64, 1), this.returnFlag, 8);
    this.returnValue(1);
  }

  private assign(s: AssignStmt): void {
    // A failed map update is reported at the operator (an aggregation: at its call), as bpftrace does.
    this.site = this.program.types.get(s.value)?.kind === 'aggregation' ? s.value.span : s.opSpan;
    if (s.target.kind === 'MapRef' && s.value.kind === 'Call' && this.program.types.get(s.value)?.kind === 'aggregation') {
      this.aggregate(s.target, s.value);
      return;
    }
    let value = this.expr(s.value);
    if (s.op !== '=') {
      const current = this.expr(s.target);
      value = this.arith(s.op, current, value);
    }
    if (s.target.kind === 'Variable') {
      this.storeVariable(variableKey(s.target), value);
    } else {
      const spec = this.mapSpec(mapName(s.target));
      const key = this.mapKey(spec, s.target);
      const slot = this.temp(spec.valueType);
      this.storeInto(slot, spec.valueType, value);
      this.mapUpdate(spec, key, slot);
    }
  }

  /** The stack slot of a variable (by variableKey), made on first use with its type in the probe. */
  private variableSlot(key: string, fallback: Type): { type: Type; slot: IrValue } {
    let v = this.vars.get(key);
    if (!v) {
      const declared = this.program.variables.get(this.probe.probe)?.get(key)?.type ?? fallback;
      v = { type: declared, slot: this.fn.alloca(irStorage(declared)) }; // lives for the whole probe
      if (isAggregate(declared)) this.memset(v.slot, sizeOf(declared));
      this.vars.set(key, v);
    }
    return v;
  }

  private storeVariable(key: string, value: Val): void {
    const v = this.variableSlot(key, value.type);
    if (isAggregate(v.type)) this.storeInto(v.slot, v.type, value);
    else this.fn.store(this.normalize(this.toI64(value), v.type).ir, this.fn.bitcast(v.slot, ptr(i64)), 8);
  }

  // ---- maps ----

  private mapSpec(name: string): MapSpec {
    return this.program.maps.get(name)!;
  }

  private mapPointer(name: string): IrValue {
    const symbol = this.maps.symbols.get(name);
    if (symbol === undefined) throw new Error(`internal error: no map ${name}`);
    return this.maps.address(symbol);
  }

  /**
   * A value only the run knows (RUN_START_NS, RUN_CPID), which the runtime writes into
   * RUN_VALUES_MAP before attaching: the object stays the same from run to run.
   */
  private runValue(slot: number): IrValue {
    const { fn } = this;
    const map = this.maps.ref({ symbol: RUN_VALUES_MAP, type: 'array', keySize: 4, valueSize: 8, maxEntries: RUN_VALUE_SLOTS });
    fn.beginScope();
    const key = fn.scratch(i32, 8);
    const value = fn.scratch(i64, 8);
    fn.store(constInt(i32, slot), key, 4);
    fn.store(constInt(i64, 0), value, 8);
    const p = fn.callHelper(Helper.mapLookupElem, i8p, [map, fn.bitcast(key, i8p)]);
    const found = fn.label('run');
    const done = fn.label('ran');
    fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), found, done);
    fn.place(found);
    fn.store(fn.load(fn.bitcast(p, ptr(i64)), 8), value, 8);
    fn.br(done);
    fn.place(done);
    const result = fn.load(value, 8);
    fn.endScope();
    return result;
  }

  /** Builds a map's kernel key on the stack: the user key (zero-padded), room for a bucket. */
  private mapKey(spec: MapSpec, ref: MapRef | undefined, keyExprs?: readonly Expr[]): IrValue {
    const key = this.fn.scratch(arrayType(spec.keySize, i8));
    const bytes = this.fn.bitcast(key, i8p);
    this.memset(bytes, spec.keySize);
    const exprs = keyExprs ?? ref?.keys ?? [];
    if (spec.keyType && exprs.length > 0) {
      const elements = exprs.length === 1 ? [spec.keyType] : spec.keyType.kind === 'tuple' ? spec.keyType.elements : [spec.keyType];
      const layout = exprs.length === 1 ? { offsets: [0] } : tupleLayout(elements);
      exprs.forEach((e, i) => {
        const dest = this.fn.byteOffset(bytes, layout.offsets[i]!);
        this.storeInto(dest, elements[i]!, this.expr(e));
      });
    }
    return bytes;
  }

  private lookup(spec: MapSpec, key: IrValue): IrValue {
    return this.fn.callHelper(Helper.mapLookupElem, i8p, [this.mapPointer(spec.name), key]);
  }

  private mapUpdate(spec: MapSpec, key: IrValue, value: IrValue): void {
    const rc = this.fn.callHelper(Helper.mapUpdateElem, i64, [
      this.mapPointer(spec.name), key, this.fn.bitcast(value, i8p), constInt(i64, 0),
    ]);
    this.reportHelperError(Helper.mapUpdateElem, rc);
    // A full map is counted, never silent; without a branch here (see noteFailure).
    this.noteFailure(rc, { counter: mapFullCounter(this.program.maps, spec.name) });
  }

  /**
   * -k / -kk: if `rc` (a helper's return value) is negative, sends a helper_error event with the
   * helper, the code and the script position. probe_read* errors are reported only with -kk.
   */
  private reportHelperError(helper: number, rc: IrValue, isRead = false, span = this.site): void {
    if ((this.options.helperErrors ?? 0) < (isRead ? 2 : 1)) return;
    const { fn } = this;
    const failed = fn.label('helperfail');
    const done = fn.label('helperok');
    fn.condBr(fn.icmp('slt', rc, constInt(i64, 0)), failed, done);
    fn.place(failed);
    this.sendHelperError(helper, rc, span);
    fn.br(done);
    fn.place(done);
  }

  /** Sends a helper_error event for `span` (with -k; the caller is on the failure path). */
  private sendHelperError(helper: number, rc: IrValue, span = this.site): void {
    const spec = this.program.events.find((e) => e.kind === 'helper_error');
    if (!spec || !span) return;
    const { fn } = this;
    const siteId = this.helperErrorSites.push(span) - 1;
    this.emitEvent(spec, (record) => {
      fn.store(constInt(i64, helper), fn.byteOffset(record, spec.fields[0]!.offset, i64), 8);
      fn.store(rc, fn.byteOffset(record, spec.fields[1]!.offset, i64), 8);
      fn.store(constInt(i64, siteId), fn.byteOffset(record, spec.fields[2]!.offset, i64), 8);
    }, false);
  }

  /** Adds `by` (1 unless given) to one of the runtime's counters (lost events, full maps). */
  private bumpCounter(index: number, by: IrValue = constInt(i64, 1)): void {
    const { fn } = this;
    // An 8-byte-aligned key slot: the verifier then knows the key, so the lookup cannot fail and
    // the null check below is not a branch it has to explore (no state kept per counted event).
    const key = fn.scratch(i32, 8);
    fn.store(constInt(i32, index), key, 4);
    const p = fn.callHelper(Helper.mapLookupElem, i8p, [this.maps.address(COUNTERS_MAP), fn.bitcast(key, i8p)]);
    const have = fn.icmp('ne', p, { type: i8p, ref: 'null' });
    const inc = fn.label('count');
    const done = fn.label('counted');
    fn.condBr(have, inc, done);
    fn.place(inc);
    const slot = fn.bitcast(p, ptr(i64));
    fn.store(fn.binary('add', fn.load(slot, 8), by), slot, 8);
    fn.br(done);
    fn.place(done);
  }

  /** Reads `@m[k]`: the value, or zero when the key is absent. */
  private mapRead(ref: MapRef): Val {
    const { fn } = this;
    const spec = this.mapSpec(mapName(ref));
    const type = this.program.types.get(ref) ?? INT64;
    const key = this.mapKey(spec, ref);
    if (spec.kind !== 'scalar' && !isAggregate(type)) return { type, ir: this.aggregationValue(spec, key) };
    const p = this.lookup(spec, key);
    const found = fn.icmp('ne', p, { type: i8p, ref: 'null' });
    const hit = fn.label('hit');
    const miss = fn.label('miss');
    const done = fn.label('read');
    if (isAggregate(type)) {
      const out = this.temp(type);
      this.memset(out, sizeOf(type));
      fn.condBr(found, hit, done);
      fn.place(hit);
      this.memcpy(out, p, sizeOf(type));
      fn.br(done);
      fn.place(done);
      return { type, ir: out };
    }
    fn.condBr(found, hit, miss);
    fn.place(hit);
    const v = this.loadInt(p, type);
    fn.br(done);
    fn.place(miss);
    fn.br(done);
    fn.place(done);
    return { type, ir: fn.phi(i64, [[v, hit], [constInt(i64, 0), miss]]) };
  }

  /**
   * The value of a count/sum/avg/min/max map entry, as it prints: the maps are per CPU, so every
   * possible CPU's share is looked up (bpf_map_lookup_percpu_elem) and combined as the printer does.
   */
  private aggregationValue(spec: MapSpec, key: IrValue): IrValue {
    const { fn } = this;
    // first: count, sum, min/max value; second: avg's total, min/max's "has a value" flag.
    const first = fn.scratch(i64, 8);
    const second = fn.scratch(i64, 8);
    fn.store(constInt(i64, 0), first, 8);
    fn.store(constInt(i64, 0), second, 8);
    for (let cpu = 0; cpu < this.possibleCpus; cpu++) {
      const p = fn.callHelper(Helper.mapLookupPercpuElem, i8p, [this.mapPointer(spec.name), key, constInt(i64, cpu)]);
      const add = fn.label('cpushare');
      const next = fn.label('cpunext');
      fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), add, next);
      fn.place(add);
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
      fn.br(next);
      fn.place(next);
    }
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

  private aggregate(ref: MapRef, call: Call): void {
    const { fn } = this;
    const spec = this.mapSpec(mapName(ref));
    const arg = call.args[0] ? this.toI64(this.expr(call.args[0])) : constInt(i64, 1);
    let key: IrValue;
    if (spec.kind === 'hist' || spec.kind === 'lhist') {
      key = this.mapKey(spec, ref);
      const bucket = spec.kind === 'hist' ? this.log2Bucket(arg) : this.linearBucket(arg, spec);
      const userKeySize = spec.keyType ? sizeOf(spec.keyType) : 0;
      fn.store(bucket, fn.byteOffset(key, alignUp(userKeySize, 8), i64), 8);
    } else {
      key = this.mapKey(spec, ref);
    }
    const p = this.lookup(spec, key);
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
        const take = this.minMaxTakes(spec.kind, arg, current);
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
    if ((this.options.helperErrors ?? 0) >= 2) this.sendHelperError(Helper.mapLookupElem, constInt(i64, 0));
    const initial = fn.scratch(arrayType(spec.valueSize, i8));
    const init = fn.bitcast(initial, i8p);
    this.memset(init, spec.valueSize);
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
      fn.condBr(this.minMaxTakes(spec.kind, arg, constInt(i64, spec.kind === 'min' ? 0xffffffff : 0)), store, done);
      fn.place(store);
    }
    this.mapUpdate(spec, key, init);
    fn.br(done);
    fn.place(done);
  }

  /**
   * Whether min()/max() replace `current` by `arg`, exactly as bpftrace 0.17 decides: max stores
   * when arg >= current (signed); min stores when 0xffffffff - arg >= 0xffffffff - current.
   */
  private minMaxTakes(kind: 'min' | 'max', arg: IrValue, current: IrValue): IrValue {
    const { fn } = this;
    if (kind === 'max') return fn.icmp('sge', arg, current);
    const invert = (v: IrValue) => fn.binary('sub', constInt(i64, 0xffffffff), v);
    return fn.icmp('sge', invert(arg), invert(current));
  }

  /**
   * bpftrace 0.17's log2 bucket: 0 for negatives, 1 for zero, else 2 + floor(log2(n)) computed
   * with shifts of 16, 8, 4, 2, 1 — so every value >= 2^31 lands in bucket 33.
   */
  private log2Bucket(n: IrValue): IrValue {
    const { fn } = this;
    const negative = fn.icmp('slt', n, constInt(i64, 0));
    const zero = fn.icmp('eq', n, constInt(i64, 0));
    let value = n;
    let result: IrValue = constInt(i64, 2);
    for (const bits of [16, 8, 4, 2, 1]) {
      const big = fn.icmp('sge', value, constInt(i64, 1n << BigInt(bits)));
      const shift = fn.binary('shl', fn.intCast(big, i64, false), constInt(i64, Math.log2(bits)));
      value = fn.binary('lshr', value, shift);
      result = fn.binary('add', result, shift);
    }
    return fn.select(negative, constInt(i64, 0), fn.select(zero, constInt(i64, 1), result));
  }

  /** lhist bucket as bpftrace 0.17 computes it: 0 below min, 1 + (n - min) / step up to max, last above. */
  private linearBucket(n: IrValue, spec: MapSpec): IrValue {
    const { fn } = this;
    const { min, max, step } = spec.lhist!;
    const last = BigInt(lhistBucketCount(spec.lhist!) - 1);
    const below = fn.icmp('slt', n, constInt(i64, min));
    const above = fn.icmp('sgt', n, constInt(i64, max));
    const inside = fn.binary('add', fn.binary('udiv', fn.binary('sub', n, constInt(i64, min)), constInt(i64, step)), constInt(i64, 1));
    return fn.select(below, constInt(i64, 0), fn.select(above, constInt(i64, last), inside));
  }

  // ---- events ----

  /** Reserves a ring buffer record; returns the record and the label to continue at. */
  private emitEvent(spec: EventSpec, write: (record: IrValue) => void, wake: boolean): void {
    const { fn } = this;
    const rb = this.maps.address(EVENTS_MAP);
    const record = fn.callHelper(Helper.ringbufReserve, i8p, [rb, constInt(i64, spec.size), constInt(i64, 0)]);
    const ok = fn.icmp('ne', record, { type: i8p, ref: 'null' });
    const fill = fn.label('event');
    const lost = fn.label('lost');
    const done = fn.label('sent');
    fn.condBr(ok, fill, lost);
    fn.place(fill);
    fn.store(constInt(i64, spec.id), fn.bitcast(record, ptr(i64)), 8);
    write(record);
    fn.callHelper(Helper.ringbufSubmit, i64, [record, constInt(i64, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)]);
    fn.br(done);
    fn.place(lost);
    this.bumpCounter(COUNTER_LOST_EVENTS);
    fn.br(done);
    fn.place(done);
  }

  private eventWithArgs(call: Call, args: readonly Expr[], wake = false): void {
    const spec = this.program.eventOf.get(call)!;
    const values = args.map((a) => this.expr(a));
    this.emitEvent(spec, (record) => {
      spec.fields.forEach((f, i) => {
        this.storeInto(this.fn.byteOffset(record, f.offset), f.type, values[i]!);
      });
    }, wake);
  }

  // ---- expressions ----

  private expr(e: Expr): Val {
    const type = this.program.types.get(e) ?? INT64;
    const { fn } = this;
    switch (e.kind) {
      case 'IntLiteral':
        return { type, ir: constInt(i64, e.value) };
      case 'Identifier':
        return { type, ir: constInt(i64, this.integerConstant(e)) };
      case 'BoolLiteral':
        return { type, ir: constInt(i64, e.value ? 1 : 0) };
      case 'StringLiteral':
        return { type, ir: this.stringConstant(e.value, sizeOf(type)) };
      case 'PositionalParam':
        return { type, ir: constInt(i64, this.integerConstant(e)) };
      case 'Builtin':
        return this.builtin(e.name, type);
      case 'Variable': {
        const v = this.vars.get(variableKey(e));
        if (!v) return { type, ir: constInt(i64, 0) };
        if (isAggregate(v.type)) return { type: v.type, ir: v.slot };
        return { type: v.type, ir: fn.load(v.slot, 8) };
      }
      case 'MapRef':
        return this.mapRead(e);
      case 'Call': {
        const outer = this.site;
        this.site = e.span;
        const v = this.call(e, type);
        this.site = outer;
        return v;
      }
      case 'Unary': {
        if (e.op === '*') return this.readPlace(e, type) ?? { type, ir: constInt(i64, 0) };
        const v = this.expr(e.operand);
        switch (e.op) {
          case '-': return { type, ir: fn.binary('sub', constInt(i64, 0), this.toI64(v)) };
          // ~ keeps its operand's type: ~(uint8)0 is 255, not a 64-bit -1.
          case '~': return { type, ir: this.fitToType(fn.binary('xor', this.toI64(v), constInt(i64, -1)), type) };
          case '!': return { type, ir: fn.intCast(fn.icmp('eq', this.toI64(v), constInt(i64, 0)), i64, false) };
          default: return { type, ir: this.toI64(v) };
        }
      }
      case 'IncDec': {
        const before = this.expr(e.target);
        const after = this.arith(e.op === '++' ? '+' : '-', before, { type: INT64, ir: constInt(i64, 1) });
        if (e.target.kind === 'Variable') this.storeVariable(variableKey(e.target), after);
        else {
          const spec = this.mapSpec(mapName(e.target));
          const key = this.mapKey(spec, e.target);
          const slot = this.temp(spec.valueType);
          this.storeInto(slot, spec.valueType, after);
          this.mapUpdate(spec, key, slot);
        }
        return e.prefix ? after : before;
      }
      case 'Binary':
        return this.binaryExpr(e, type);
      case 'Ternary': {
        const then = fn.label('tthen');
        const otherwise = fn.label('telse');
        const done = fn.label('tdone');
        const tested = this.expr(e.condition);
        const condition = this.truthy(tested);
        // `a ?: b`: the value tested is the result (see Ternary.then).
        const thenValue = () => (e.then === e.condition ? tested : this.expr(e.then));
        if (isAggregate(type)) {
          // The result's slot is made before the branches, so that both reach it.
          const out = this.temp(type);
          this.memset(out, sizeOf(type));
          fn.condBr(condition, then, otherwise);
          fn.place(then);
          this.storeInto(out, type, thenValue());
          fn.br(done);
          fn.place(otherwise);
          this.storeInto(out, type, this.expr(e.otherwise));
          fn.br(done);
          fn.place(done);
          return { type, ir: out };
        }
        fn.condBr(condition, then, otherwise);
        fn.place(then);
        const a = this.toI64(thenValue());
        const thenEnd = fn.label('tthenend');
        fn.br(thenEnd);
        fn.place(thenEnd);
        fn.br(done);
        fn.place(otherwise);
        const b = this.toI64(this.expr(e.otherwise));
        const elseEnd = fn.label('telseend');
        fn.br(elseEnd);
        fn.place(elseEnd);
        fn.br(done);
        fn.place(done);
        return { type, ir: fn.phi(i64, [[a, thenEnd], [b, elseEnd]]) };
      }
      case 'FieldAccess': {
        const record = this.program.types.get(e.object);
        if (record?.kind === 'tuple') return this.tupleElement(e.object, record.names?.indexOf(e.field) ?? 0, type);
        return this.fieldAccess(e, type);
      }
      case 'TupleExpr': {
        const out = this.temp(type);
        this.memset(out, sizeOf(type));
        this.storeInto(out, type, { type, ir: out }, e.elements.map((x) => this.expr(x)));
        return { type, ir: out };
      }
      case 'TupleIndex':
        return this.tupleElement(e.tuple, e.index, type);
      case 'Cast': {
        const operand = this.expr(e.operand);
        // Integer <-> integer array: the same bytes (the checker made both sides one size).
        if (operand.type.kind === 'array') return { type, ir: this.loadInt(operand.ir, type) };
        if (type.kind !== 'array') return { type, ir: this.fitToType(this.toI64(operand), type) };
        const out = this.temp(type);
        const bits = sizeOf(type) * 8;
        fn.store(fn.intCast(this.toI64(operand), intType(bits), false), fn.bitcast(out, ptr(intType(bits))), 1);
        return { type, ir: out };
      }
      case 'Index': {
        if (this.program.types.get(e.object)?.kind === 'tuple') return this.tupleElement(e.object, Number(this.integerConstant(e.index)), type);
        const fromMemory = this.readPlace(e, type);
        if (fromMemory) return fromMemory;
        // A string or an integer array on the stack (comm, a variable): an element of it, 0 past
        // its end (bpftrace 0.25 indexes strings with any integer).
        const s = this.expr(e.object);
        const width = s.type.kind === 'string' ? 1 : s.type.kind === 'array' && s.type.element.kind === 'int' ? sizeOf(s.type.element) : 0;
        if (width === 0) return { type, ir: constInt(i64, 0) };
        const at = this.toI64(this.expr(e.index));
        const byte = this.temp(INT64);
        fn.store(constInt(i64, 0), fn.bitcast(byte, ptr(i64)), 8);
        const inside = fn.label('strindex');
        const done = fn.label('strindexed');
        fn.condBr(fn.icmp('ult', at, constInt(i64, sizeOf(s.type) / width)), inside, done);
        fn.place(inside);
        const offset = width === 1 ? at : fn.binary('mul', at, constInt(i64, width));
        fn.store(this.loadInt(fn.byteOffset(s.ir, offset), type), fn.bitcast(byte, ptr(i64)), 8);
        fn.br(done);
        fn.place(done);
        return { type, ir: fn.load(fn.bitcast(byte, ptr(i64)), 8) };
      }
      case 'SizeOf':
      case 'OffsetOf':
        return { type, ir: constInt(i64, this.integerConstant(e)) };
      default:
        return { type, ir: constInt(i64, 0) };
    }
  }

  /** Element `index` of a tuple or record: `$t.1`, `$t[1]`, `$r.name`. */
  private tupleElement(tupleExpr: Expr, index: number, type: Type): Val {
    const tuple = this.expr(tupleExpr);
    const tt = tuple.type;
    const offset = tt.kind === 'tuple' ? tupleLayout(tt.elements).offsets[index] : undefined;
    if (offset === undefined) return { type, ir: constInt(i64, 0) };
    const p = this.fn.byteOffset(tuple.ir, offset);
    return isAggregate(type) ? { type, ir: p } : { type, ir: this.loadInt(p, type) };
  }

  private call(c: Call, type: Type): Val {
    const { fn } = this;
    const none: Val = { type, ir: constInt(i64, 0) };
    switch (c.name) {
      case 'printf':
        this.eventWithArgs(c, c.args.slice(1));
        return none;
      case 'print': {
        const spec = this.program.eventOf.get(c)!;
        if (spec.kind === 'print_map') this.emitEvent(spec, () => {}, false);
        else this.eventWithArgs(c, [c.args[0]!]);
        return none;
      }
      case 'time': case 'clear': case 'zero':
        this.emitEvent(this.program.eventOf.get(c)!, () => {}, false);
        return none;
      case 'exit':
        // Wake the reader at once: the session stops on this event.
        this.emitEvent(this.program.eventOf.get(c)!, () => {}, true);
        return none;
      case 'delete': {
        const target = c.args[0] as MapRef;
        const spec = this.mapSpec(mapName(target));
        const key = this.mapKey(spec, target, c.args.length === 2 ? [c.args[1]!] : undefined);
        fn.callHelper(Helper.mapDeleteElem, i64, [this.mapPointer(spec.name), key]);
        return none;
      }
      case 'has_key': {
        const spec = this.mapSpec(mapName(c.args[0] as MapRef));
        const found = fn.callHelper(Helper.mapLookupElem, i8p, [this.mapPointer(spec.name), this.mapKey(spec, c.args[0] as MapRef, [c.args[1]!])]);
        return { type, ir: fn.intCast(fn.icmp('ne', found, { type: i8p, ref: 'null' }), i64, false) };
      }
      case 'str': {
        const size = sizeOf(type);
        const text = this.constantOf(c);
        if (text instanceof Uint8Array) return { type, ir: this.stringConstant(text, size) };
        const src = this.expr(c.args[0]!);
        if (src.type.kind === 'string') {
          if (size >= sizeOf(src.type)) return src;
          // Cut to size - 1 characters and the terminator.
          const cut = this.temp(type);
          this.memcpy(cut, src.ir, size - 1);
          fn.store(constInt(i8, 0), fn.byteOffset(cut, size - 1), 1);
          return { type, ir: cut };
        }
        const out = this.temp(type);
        this.memset(out, size);
        let limit: IrValue = constInt(i64, size);
        if (c.args[1]) {
          // str(p, n) keeps n characters: it reads n + 1 bytes including the terminator, as bpftrace does.
          const n = fn.binary('add', this.toI64(this.expr(c.args[1])), constInt(i64, 1));
          const tooBig = fn.icmp('ugt', n, constInt(i64, size));
          limit = fn.select(tooBig, constInt(i64, size), n);
        }
        this.probeRead(out, limit, this.toI64(src), this.spaceOf(src), { string: true });
        return { type, ir: out };
      }
      default:
        return this.valueFunction(c, type) ?? none;
    }
  }

  private builtin(name: string, type: Type): Val {
    return ProbeGenerator.BUILTIN_CODE[builtinNamed(name)!](this, name, type);
  }

  /** The code that reads each builtin variable. */
  private static readonly BUILTIN_CODE = {
    pid: (g, _name, type) => ({ type, ir: g.fn.binary('lshr', g.pidTgid(), constInt(i64, 32)) }),
    tid: (g, _name, type) => ({ type, ir: g.fn.binary('and', g.pidTgid(), constInt(i64, 0xffffffff)) }),
    uid: (g, _name, type) => ({ type, ir: g.fn.binary('and', g.uidGid(), constInt(i64, 0xffffffff)) }),
    gid: (g, _name, type) => ({ type, ir: g.fn.binary('lshr', g.uidGid(), constInt(i64, 32)) }),
    nsecs: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.ktimeGetNs, i64, []) }),
    elapsed: (g, _name, type) => ({
      type, ir: g.fn.binary('sub', g.fn.callHelper(Helper.ktimeGetNs, i64, []), g.runValue(RUN_START_NS)),
    }),
    cpu: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getSmpProcessorId, i64, []) }),
    ncpus: (g, _name, type) => ({ type, ir: constInt(i64, g.possibleCpus) }),
    numaid: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getNumaNodeId, i64, []) }),
    rand: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getPrandomU32, i64, []) }),
    cgroup: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getCurrentCgroupId, i64, []) }),
    curtask: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getCurrentTask, i64, []) }),
    jiffies: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.jiffies64, i64, []) }),
    comm: (g, _name, type) => {
      const out = g.temp(type);
      g.memset(out, 16);
      g.fn.callHelper(Helper.getCurrentComm, i64, [out, constInt(i64, 16)]);
      return { type, ir: out };
    },
    probe: (g, _name, type) => {
      if (g.syscall && g.targets.length > 1) return { type, ir: g.syscallProbeName(sizeOf(type)) };
      return { type, ir: g.stringConstant(g.targets[0]!.name, sizeOf(type)) };
    },
    ctx: (g, _name, type) => ({ type, ir: g.fn.ptrToInt(g.fn.param(0)) }),
    args: (g, _name, type) => ({ type, ir: g.fn.param(0) }),
    func: (g, _name, type) => ({ type, ir: g.stringConstant(g.targets[0]!.func ?? '', sizeOf(type)) }),
    cpid: (g, _name, type) => ({ type, ir: g.runValue(RUN_CPID) }),
    retval: (g, _name, type) => {
      const t = g.targets[0]!;
      if (t.provider === 'kretfunc') {
        const n = g.kernel.kernelFunction?.(t.func ?? '')?.params.length ?? 0;
        return g.normalize(g.ctxU64(n * 8), type);
      }
      return { type, ir: g.ctxU64(PT_REGS_RAX) };
    },
    username: (g, _name, type) => ({ type, ir: g.fn.binary('and', g.uidGid(), constInt(i64, 0xffffffff)) }),
    kstack: (g, _name, type) => g.stack(type),
    ustack: (g, _name, type) => g.stack(type),
    // The saved CS selector's privilege level: 3 is user mode (as bpftrace on x86-64).
    usermode: (g, _name, type) => ({
      type, ir: g.fn.intCast(g.fn.icmp('eq', g.fn.binary('and', g.ctxU64(PT_REGS_CS), constInt(i64, 3)), constInt(i64, 3)), i64, false),
    }),
    argN: (g, name, type) => g.argument(Number(name.slice('arg'.length)), false, type),
    sargN: (g, name, type) => g.argument(Number(name.slice('sarg'.length)), true, type),
  } satisfies Record<BuiltinName, (g: ProbeGenerator, name: string, type: Type) => Val>;

  /** pid(curr_ns)/tid(curr_ns): the id in tracelet's pid namespace (0 if the task is not in it). */
  private namespaceId(which: 'pid' | 'tid'): IrValue {
    const { fn } = this;
    const ids = fn.scratch(i64, 8); // struct bpf_pidns_info { u32 pid; u32 tgid; }
    fn.store(constInt(i64, 0), ids, 8);
    fn.callHelper(Helper.getNsCurrentPidTgid, i64, [this.runValue(RUN_PIDNS_DEV), this.runValue(RUN_PIDNS_INO), fn.bitcast(ids, i8p), constInt(i64, 8)]);
    return this.loadInt(fn.byteOffset(fn.bitcast(ids, i8p), which === 'pid' ? 4 : 0), UINT32);
  }

  private pidTgid(): IrValue {
    return this.fn.callHelper(Helper.getCurrentPidTgid, i64, []);
  }

  private uidGid(): IrValue {
    return this.fn.callHelper(Helper.getCurrentUidGid, i64, []);
  }

  /** A u64 at `offset` in the context (pt_regs, or a raw tracepoint's/kfunc's argument array). */
  private ctxU64(offset: number): IrValue {
    return this.fn.load(this.fn.byteOffset(this.fn.param(0), offset, i64), 8);
  }

  /** Truncates an i64 to the type's width and extends it back with the type's sign. */
  private normalize(v: IrValue, type: Type): Val {
    if (type.kind !== 'int' || type.bits === 64) return { type, ir: v };
    return { type, ir: this.fn.intCast(this.fn.intCast(v, intType(type.bits), false), i64, type.signed) };
  }

  /** argN / sargN: registers or the stack (uprobe, kprobe), the argument array, or a USDT spec. */
  private argument(n: number, stack: boolean, type: Type): Val {
    const { fn } = this;
    const t = this.targets[0]!;
    const user = t.provider === 'uprobe' || t.provider === 'uretprobe' || t.provider === 'usdt';
    if (t.provider === 'rawtracepoint' || t.provider === 'kfunc' || t.provider === 'kretfunc') {
      return this.normalize(this.ctxU64(n * 8), type);
    }
    if (t.provider === 'usdt') {
      const spec = parseUsdtArgs(t.usdt?.args ?? '')[n];
      if (!spec) return { type, ir: constInt(i64, 0) };
      let v: IrValue;
      if (spec.kind === 'constant') v = constInt(i64, spec.value!);
      else if (spec.kind === 'register') v = this.ctxU64(spec.register!);
      else {
        const addr = fn.binary('add', this.ctxU64(spec.register!), constInt(i64, spec.offset!));
        return this.readMemory(addr, { kind: 'int', bits: (spec.size * 8) as 8, signed: spec.signed }, true, type);
      }
      if (spec.size >= 8) return { type, ir: v };
      return { type, ir: fn.intCast(fn.intCast(v, intType(spec.size * 8), false), i64, spec.signed) };
    }
    if (!stack && n < ARG_REGS.length) return { type, ir: this.ctxU64(ARG_REGS[n]!) };
    // Stack arguments: sargN at rsp + 8 * (N + 1); argN (N >= 6) are the stack's arguments after the return address.
    const slot = stack ? n + 1 : n - ARG_REGS.length + 1;
    const addr = fn.binary('add', this.ctxU64(PT_REGS_RSP), constInt(i64, slot * 8));
    return this.readMemory(addr, UINT64, user, type);
  }

  /** Reads a value of `t` at `addr` (i64) in kernel or user memory with bpf_probe_read_{kernel,user}. */
  private readMemory(addr: IrValue, t: Type, user: boolean, resultType: Type = t, bits?: { offset: number; width: number }, span = this.site): Val {
    const { fn } = this;
    const space = user ? 'user' : 'kernel';
    if (isAggregate(t)) {
      const size = Math.min(sizeOf(t), 256);
      const out = this.temp(t);
      this.memset(out, sizeOf(t));
      this.probeRead(out, size, addr, space, { span });
      return { type: resultType, ir: out };
    }
    const width = t.kind === 'int' ? t.bits / 8 : 8;
    const bytes = bits ? Math.min(8, [1, 2, 4, 8].find((b) => b * 8 >= bits.offset + bits.width) ?? 8) : width;
    const slot = fn.scratch(i64, 8);
    fn.store(constInt(i64, 0), slot, 8);
    this.probeRead(fn.bitcast(slot, i8p), bytes, addr, space, { span });
    let v = fn.load(slot, 8);
    if (bits) {
      v = fn.binary('lshr', v, constInt(i64, bits.offset));
      v = fn.binary('and', v, constInt(i64, (1n << BigInt(bits.width)) - 1n));
      return { type: resultType, ir: v };
    }
    if (t.kind === 'int' && t.bits < 64) v = fn.intCast(fn.intCast(v, intType(t.bits), false), i64, t.signed);
    return { type: resultType, ir: v };
  }

  /**
   * The address (i64) of a struct member, dereferenced pointer or indexed element in probed
   * memory, or undefined when the expression is not such a place (e.g. a tracepoint's args).
   */
  private addressOf(e: Expr): { ir: IrValue; user: boolean; bits?: { offset: number; width: number } } | undefined {
    const { fn } = this;
    const typeOf = (x: Expr) => this.program.types.get(x) ?? INT64;
    switch (e.kind) {
      case 'FieldAccess': {
        if (e.object.kind === 'Builtin' && e.object.name === 'args') return undefined;
        const ot = typeOf(e.object);
        let base: { ir: IrValue; user: boolean } | undefined;
        let record: Type | undefined;
        if (ot.kind === 'pointer') {
          base = { ir: this.toI64(this.expr(e.object)), user: !!ot.userSpace };
          record = ot.target;
        } else if (ot.kind === 'record') {
          const obj = this.place(e.object);
          if (!obj.inMemory) return undefined;
          base = { ir: obj.ir, user: obj.inMemory.user };
          record = ot;
        }
        if (!base || record?.kind !== 'record') return undefined;
        const f = record.fields.find((x) => x.name === e.field);
        if (!f) return undefined;
        const ir = f.offset === 0 ? base.ir : fn.binary('add', base.ir, constInt(i64, f.offset));
        return f.bitWidth ? { ir, user: base.user, bits: { offset: f.bitOffset ?? 0, width: f.bitWidth } } : { ir, user: base.user };
      }
      case 'Unary': {
        if (e.op !== '*') return undefined;
        const pt = typeOf(e.operand);
        if (pt.kind !== 'pointer') return undefined;
        return { ir: this.toI64(this.expr(e.operand)), user: !!pt.userSpace };
      }
      case 'Index': {
        const ot = typeOf(e.object);
        const index = this.toI64(this.expr(e.index));
        if (ot.kind === 'pointer') {
          const size = elementSize(ot.target);
          const base = this.toI64(this.expr(e.object));
          return { ir: fn.binary('add', base, fn.binary('mul', index, constInt(i64, size))), user: !!ot.userSpace };
        }
        if (ot.kind === 'array' || ot.kind === 'string') {
          const obj = this.place(e.object);
          if (!obj.inMemory) return undefined;
          const size = ot.kind === 'array' ? elementSize(ot.element) : 1;
          return { ir: fn.binary('add', obj.ir, fn.binary('mul', index, constInt(i64, size))), user: obj.inMemory.user };
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Like expr(), but a struct or array in probed memory stays there (its address) until a member is read. */
  private place(e: Expr): Val {
    const type = this.program.types.get(e) ?? INT64;
    if (type.kind === 'record' || type.kind === 'array' || (type.kind === 'string' && e.kind === 'FieldAccess')) {
      const a = this.addressOf(e);
      if (a) return { type, ir: a.ir, inMemory: { user: a.user } };
    }
    return this.expr(e);
  }

  /** Reads a member, dereferenced pointer or element from probed memory. */
  private readPlace(e: Expr, type: Type): Val | undefined {
    const a = this.addressOf(e);
    if (!a) return undefined;
    return this.readMemory(a.ir, type, a.user, type, a.bits, e.span);
  }

  /** `args->field` of a tracepoint: read straight from the context at this target's offset. */
  private fieldAccess(e: Extract<Expr, { kind: 'FieldAccess' }>, type: Type): Val {
    const { fn } = this;
    if (this.syscall && e.object.kind === 'Builtin' && e.object.name === 'args') return this.syscallField(e.field, type);
    const fromMemory = this.readPlace(e, type);
    if (fromMemory) return fromMemory;
    const object = this.expr(e.object);
    const objectType = object.type;
    if (objectType.kind !== 'record') return { type, ir: constInt(i64, 0) };
    const provider = this.targets[0]!.provider;
    if (e.object.kind === 'Builtin' && e.object.name === 'args' && provider !== 'tracepoint') {
      // rawtracepoint/kfunc: args are u64 slots of the context, in BTF's order.
      const f = objectType.fields.find((x) => x.name === e.field);
      return this.normalize(this.ctxU64(f?.offset ?? 0), type);
    }
    let offset = objectType.fields.find((f) => f.name === e.field)?.offset ?? 0;
    if (e.object.kind === 'Builtin' && e.object.name === 'args') {
      const target = this.targets[0]!;
      const field = this.kernel.tracepointFormat(target.parts[0]!, target.parts[1]!)?.fields.find((f) => f.name === e.field);
      offset = field?.offset ?? offset;
      if (field?.dataLoc) {
        // A u32 descriptor: the data's offset in its low 16 bits, from the record's start
        // (__data_loc) or from the end of the field (__rel_loc).
        const descriptor = this.loadInt(fn.byteOffset(object.ir, offset), { kind: 'int', bits: 32, signed: false });
        let at = fn.binary('and', descriptor, constInt(i64, 0xffff));
        if (field.dataLoc.relative) at = fn.binary('add', at, constInt(i64, offset + 4));
        return { type, ir: fn.binary('add', fn.ptrToInt(object.ir), at) };
      }
    }
    const p = fn.byteOffset(object.ir, offset);
    if (isAggregate(type)) {
      // Copy out of the context so later stores and helpers see ordinary stack memory.
      const out = this.temp(type);
      this.memcpy(out, p, sizeOf(type));
      return { type, ir: out };
    }
    return { type, ir: this.loadInt(p, type.kind === 'pointer' ? UINT64 : type) };
  }

  private binaryExpr(e: Extract<Expr, { kind: 'Binary' }>, type: Type): Val {
    const { fn } = this;
    if (e.op === '&&' || e.op === '||') {
      const rhs = fn.label('rhs');
      const shortcut = fn.label('short');
      const done = fn.label('logic');
      const left = this.truthy(this.expr(e.left));
      if (e.op === '&&') fn.condBr(left, rhs, shortcut);
      else fn.condBr(left, shortcut, rhs);
      fn.place(rhs);
      const right = fn.intCast(this.truthy(this.expr(e.right)), i64, false);
      const rhsEnd = fn.label('rhsend');
      fn.br(rhsEnd);
      fn.place(rhsEnd);
      fn.br(done);
      fn.place(shortcut);
      fn.br(done);
      fn.place(done);
      return { type, ir: fn.phi(i64, [[right, rhsEnd], [constInt(i64, e.op === '&&' ? 0 : 1), shortcut]]) };
    }
    const a = this.expr(e.left);
    const b = this.expr(e.right);
    if (a.type.kind === 'string' && b.type.kind === 'string') {
      const equal = this.stringsEqual(a, b);
      return { type, ir: fn.intCast(e.op === '==' ? equal : fn.binary('xor', equal, constInt(i1, 1)), i64, false) };
    }
    const signed = (a.type.kind === 'int' && a.type.signed) && (b.type.kind === 'int' && b.type.signed);
    const compare: Record<string, string> = {
      '==': 'eq', '!=': 'ne',
      '<': signed ? 'slt' : 'ult', '<=': signed ? 'sle' : 'ule', '>': signed ? 'sgt' : 'ugt', '>=': signed ? 'sge' : 'uge',
    };
    const predicate = compare[e.op];
    if (predicate) return { type, ir: fn.intCast(fn.icmp(predicate, this.toI64(a), this.toI64(b)), i64, false) };
    return this.arith(e.op, a, b, type);
  }

  private arith(op: string, a: Val, b: Val, type: Type = a.type): Val {
    const ops: Record<string, string> = {
      // BPF (cpu v3) has no signed division; bpftrace divides unsigned too, and warns.
      // bpftrace 0.17 shifts right logically whatever the sign, on the value widened to 64 bits:
      // `-8 >> 1` is 9223372036854775804 there, and so here.
      '+': 'add', '-': 'sub', '*': 'mul', '/': 'udiv', '%': 'urem',
      '<<': 'shl', '>>': 'lshr', '&': 'and', '|': 'or', '^': 'xor',
    };
    return { type, ir: this.fn.binary(ops[op]!, this.toI64(a), this.toI64(b)) };
  }

  // ---- value functions (ksym, buf, join, ntop, stacks...) ----

  /** An address with the current process's pid, as usym values are kept. */
  private userAddress(address: IrValue, type: Type): Val {
    const { fn } = this;
    const out = this.temp(type);
    fn.store(address, fn.bitcast(out, ptr(i64)), 8);
    const pid = fn.binary('lshr', fn.callHelper(Helper.getCurrentPidTgid, i64, []), constInt(i64, 32));
    fn.store(pid, fn.byteOffset(out, 8, i64), 8);
    return { type, ir: out };
  }

  private stack(type: Type): Val {
    const { fn } = this;
    if (type.kind !== 'kstack' && type.kind !== 'ustack') return { type, ir: constInt(i64, 0) };
    const flags = type.kind === 'ustack' ? BPF_F_USER_STACK : 0;
    const map = this.maps.address(stackMap(type.kind, type.depth));
    const id = fn.callHelper(Helper.getStackid, i64, [fn.param(0), map, constInt(i64, flags)]);
    if (type.kind === 'kstack') return { type, ir: id };
    this.announceProcess();
    return this.userAddress(id, type);
  }

  /** Sends PROCESS_SEEN_EVENT the first time this process records a ustack. */
  private announceProcess(): void {
    const { fn } = this;
    const seen = this.maps.ref({ symbol: PROCESSES_SEEN_MAP, type: 'hash', keySize: 8, valueSize: 8, maxEntries: PROCESSES_SEEN_MAX, noPrealloc: true });
    const record = fn.scratch(arrayType(16, i8));
    const id = fn.bitcast(record, ptr(i64));
    const pid = fn.byteOffset(record, 8, i64);
    fn.store(constInt(i64, PROCESS_SEEN_EVENT), id, 8);
    fn.store(fn.binary('lshr', fn.callHelper(Helper.getCurrentPidTgid, i64, []), constInt(i64, 32)), pid, 8);
    const rc = fn.callHelper(Helper.mapUpdateElem, i64, [seen, fn.bitcast(pid, i8p), fn.bitcast(id, i8p), constInt(i64, BPF_NOEXIST)]);
    const announce = fn.label('newprocess');
    const done = fn.label('knownprocess');
    fn.condBr(fn.icmp('eq', rc, constInt(i64, 0)), announce, done);
    fn.place(announce);
    fn.callHelper(Helper.ringbufOutput, i64, [this.maps.address(EVENTS_MAP), fn.bitcast(record, i8p), constInt(i64, 16), constInt(i64, BPF_RB_NO_WAKEUP)]);
    fn.br(done);
    fn.place(done);
  }

  private integerConstant(e: Expr): bigint {
    const v = this.program.constants.get(e);
    return typeof v === 'bigint' ? v : 0n;
  }

  private constantOf(c: Call): bigint | Uint8Array | undefined {
    return this.program.constants.get(c);
  }

  /** Where the memory a value points to lives: a pointer's own mark, else the probe's kind. */
  private spaceOf(v: Val): AddressSpace {
    if (v.type.kind === 'pointer') return v.type.userSpace ? 'user' : 'kernel';
    return this.userProbe ? 'user' : 'unknown';
  }

  /** Whether the probe runs in a traced process's context (its registers and memory are user space). */
  private get userProbe(): boolean {
    const provider = this.targets[0]!.provider;
    return provider === 'uprobe' || provider === 'uretprobe' || provider === 'usdt';
  }

  /**
   * Reads `size` bytes (a string up to `size` bytes with `string`) at `address` (i64) into `dest`
   * with the helper for the address space. A failure is never silent: it is counted at its site
   * (the runtime reports the count), and with -kk also reported as it happens (unless
   * `reportEach` is false: join()'s reads, whose branches would fill the verifier). Returns the rc.
   */
  private probeRead(dest: IrValue, size: number | IrValue, address: IrValue, space: AddressSpace,
    { span = this.site, string = false, reportEach = true }: { span?: Span; string?: boolean; reportEach?: boolean } = {}): IrValue {
    const { fn } = this;
    const helper = string ? READ_HELPERS[space].string : READ_HELPERS[space].bytes;
    const n = typeof size === 'number' ? constInt(i32, size) : fn.intCast(size, i32, false);
    const rc = fn.callHelper(helper, i64, [dest, n, fn.intToPtr(address, i8p)]);
    if (span) this.noteFailure(rc, { read: this.readSites.slot(span, helper) });
    if (reportEach) this.reportHelperError(helper, rc, true, span);
    return rc;
  }

  /**
   * Notes, without a branch, that the helper whose result is `rc` failed (rc < 0, whose sign bit
   * is the 1 added): at a read site (its slot in READ_FAILURES_MAP) or for a counter.
   */
  private noteFailure(rc: IrValue, failure: Failure): void {
    const { fn } = this;
    const failed = fn.binary('lshr', rc, constInt(i64, 63));
    if (!this.exit) {
      if ('counter' in failure) this.bumpCounter(failure.counter, failed);
      return;
    }
    this.failures ??= { words: [], bits: [], counts: new Map() };
    const state = this.failures;
    const repeats = this.unrolling > 0 || this.loops.some((l) => l !== 'callback');
    if ('counter' in failure && repeats) {
      let count = state.counts.get(failure.counter);
      if (!count) state.counts.set(failure.counter, count = fn.zeroedAlloca(i64));
      fn.store(fn.binary('add', fn.load(count, 8), failed), count, 8);
      return;
    }
    // A read site's bit is shared by its reads; a map update has a bit of its own.
    let bit = 'read' in failure ? state.bits.findIndex((b) => 'read' in b && b.read === failure.read) : -1;
    if (bit < 0) bit = state.bits.push(failure) - 1;
    const word = state.words[bit >> 6] ??= fn.zeroedAlloca(i64);
    fn.store(fn.binary('or', fn.load(word, 8), fn.binary('shl', failed, constInt(i64, bit & 63))), word, 8);
  }

  /** Starts a body whose returns go through one exit, where its failures are counted. */
  private beginExits(): void {
    this.failures = undefined;
    this.exit = { label: this.fn.label('exit'), value: this.fn.alloca(i64) };
  }

  /** Returns `value` from the body (through its exit). */
  private returnValue(value: number): void {
    if (!this.exit) {
      this.fn.ret(constInt(i64, value));
      return;
    }
    this.fn.store(constInt(i64, value), this.exit.value, 8);
    this.fn.br(this.exit.label);
  }

  /**
   * The body's exit: adds each failure's bit to its count, then returns. One branch (did anything
   * fail?) and none per failure: the bits are loaded as opaque words, so LLVM cannot turn them
   * back into a comparison per helper call, which would multiply the verifier's paths.
   */
  private endExits(): void {
    const { fn } = this;
    const exit = this.exit!;
    if (!fn.isTerminated) this.returnValue(0);
    fn.place(exit.label);
    const state = this.failures;
    if (state) {
      // Loaded as opaque values, so LLVM cannot turn them back into a comparison per helper call.
      const words = state.words.map((w) => fn.loadVolatile(w));
      const counts = new Map([...state.counts].map(([counter, slot]) => [counter, fn.loadVolatile(slot)]));
      const any = [...words, ...counts.values()].reduce((a, b) => fn.binary('or', a, b));
      const record = fn.label('failed');
      const done = fn.label('counted');
      fn.condBr(fn.icmp('ne', any, constInt(i64, 0)), record, done);
      fn.place(record);
      const bitOf = (bit: number) => fn.binary('and', fn.binary('lshr', words[bit >> 6]!, constInt(i64, bit & 63)), constInt(i64, 1));
      const reads: { slot: number; bit: number }[] = [];
      state.bits.forEach((failure, bit) => {
        if ('read' in failure) reads.push({ slot: failure.read, bit });
        else {
          const before = counts.get(failure.counter);
          counts.set(failure.counter, before ? fn.binary('add', before, bitOf(bit)) : bitOf(bit));
        }
      });
      if (reads.length > 0) {
        const found = fn.label('readcount');
        const next = fn.label('readcounted');
        const key = fn.alloca(i32, 8);
        fn.store(constInt(i32, 0), key, 4);
        const readFailures = this.maps.ref({
          symbol: READ_FAILURES_MAP, type: 'percpu_array', keySize: 4, valueSize: READ_FAILURE_BYTES, maxEntries: 1,
        });
        const p = fn.callHelper(Helper.mapLookupElem, i8p, [readFailures, fn.bitcast(key, i8p)]);
        fn.condBr(fn.icmp('ne', p, { type: i8p, ref: 'null' }), found, next);
        fn.place(found);
        for (const { slot, bit } of reads) {
          const count = fn.byteOffset(p, slot * 8, i64);
          fn.store(fn.binary('add', fn.load(count, 8), bitOf(bit)), count, 8);
        }
        fn.place(next);
      }
      for (const [counter, value] of counts) this.bumpCounter(counter, value);
      fn.br(done);
      fn.place(done);
    }
    fn.ret(fn.load(exit.value, 8));
    this.exit = undefined;
  }

  private valueFunction(c: Call, type: Type): Val | undefined {
    const { fn } = this;
    const int = (v: IrValue): Val => ({ type, ir: v });
    switch (c.name) {
      case 'ksym':
      case 'strftime':
        return int(this.toI64(this.expr(c.args[c.name === 'ksym' ? 0 : 1]!)));
      case 'usym':
        return this.userAddress(this.toI64(this.expr(c.args[0]!)), type);
      case 'kaddr': case 'uaddr': case 'cgroupid': {
        const v = this.constantOf(c);
        return int(constInt(i64, typeof v === 'bigint' ? v : 0n));
      }
      case 'pton': {
        const v = this.constantOf(c);
        const out = this.temp(type);
        if (v instanceof Uint8Array) v.forEach((b, i) => fn.store(constInt(i8, b), fn.byteOffset(out, i), 1));
        return { type, ir: out };
      }
      case 'reg': {
        const name = c.args[0]?.kind === 'StringLiteral' ? c.args[0].value : 'ip';
        return int(this.loadInt(fn.byteOffset(fn.param(0), PT_REGS.get(name) ?? 0), UINT64));
      }
      case 'kstack': case 'ustack':
        return this.stack(type);
      case 'nsecs':
        return int(fn.callHelper(CLOCK_HELPERS[(c.args[0] as Identifier).name] ?? Helper.ktimeGetNs, i64, []));
      case 'pid': case 'tid':
        return (c.args[0] as Identifier).name === 'curr_ns' ? int(this.namespaceId(c.name)) : this.builtin(c.name, type);
      case 'buf': {
        const size = type.kind === 'buffer' ? type.size : 0;
        const out = this.temp(type);
        this.memset(out, size + 1);
        const src = this.expr(c.args[0]!);
        if (isAggregate(src.type)) {
          const n = Math.min(size, sizeOf(src.type));
          this.memcpy(fn.byteOffset(out, 1), src.ir, n);
          fn.store(constInt(i8, n), out, 1);
          return { type, ir: out };
        }
        let length: IrValue = constInt(i64, size);
        if (c.args[1] && constantOf(c.args[1]) === undefined) {
          const n = this.toI64(this.expr(c.args[1]));
          length = fn.select(fn.icmp('ugt', n, constInt(i64, size)), constInt(i64, size), n);
        }
        if (size > 0) this.probeRead(fn.byteOffset(out, 1), length, this.toI64(src), this.spaceOf(src));
        fn.store(fn.intCast(length, i8, false), out, 1);
        return { type, ir: out };
      }
      case 'ntop': {
        const out = this.temp(type);
        this.memset(out, 24);
        const [first, second] = c.args;
        const addr = this.expr(second ?? first!);
        let family: IrValue;
        if (isAggregate(addr.type)) {
          const n = sizeOf(addr.type) >= 16 ? 16 : 4;
          this.memcpy(fn.byteOffset(out, 8), addr.ir, n);
          family = constInt(i64, n === 16 ? 10 : 2);
        } else {
          fn.store(fn.intCast(this.toI64(addr), i32, false), fn.byteOffset(out, 8, i32), 4);
          family = constInt(i64, 2);
        }
        if (second) family = this.toI64(this.expr(first!));
        fn.store(family, fn.bitcast(out, ptr(i64)), 8);
        return { type, ir: out };
      }
      case 'macaddr': {
        const raw = this.temp({ kind: 'string', size: 8 });
        const src = this.expr(c.args[0]!);
        if (isAggregate(src.type)) this.memcpy(raw, src.ir, 6);
        else this.probeRead(raw, 6, this.toI64(src), this.spaceOf(src));
        // "AA:BB:CC:DD:EE:FF", formatted in the probe.
        const out = this.temp(type);
        this.memset(out, 18);
        for (let i = 0; i < 6; i++) {
          const b = fn.intCast(fn.load(fn.byteOffset(raw, i), 1), i64, false);
          const digits = [fn.binary('lshr', b, constInt(i64, 4)), fn.binary('and', b, constInt(i64, 15))];
          digits.forEach((d, j) => {
            const ch = fn.select(fn.icmp('ult', d, constInt(i64, 10)),
              fn.binary('add', d, constInt(i64, 0x30)), fn.binary('add', d, constInt(i64, 0x41 - 10)));
            fn.store(fn.intCast(ch, i8, false), fn.byteOffset(out, i * 3 + j), 1);
          });
          if (i < 5) fn.store(constInt(i8, 0x3a), fn.byteOffset(out, i * 3 + 2), 1);
        }
        return { type, ir: out };
      }
      case 'signal': {
        const a = c.args[0]!;
        const sig = a.kind === 'StringLiteral' ? constInt(i64, signalNumber(a.value) ?? 0) : this.toI64(this.expr(a));
        fn.callHelper(Helper.sendSignal, i64, [fn.intCast(sig, i32, false)]);
        return int(constInt(i64, 0));
      }
      case 'uptr': case 'kptr': // only the type changes: it says which helper reads through the pointer
        return int(this.toI64(this.expr(c.args[0]!)));
      case 'bswap': {
        // Reverses the bytes of the value at its own width (bpftrace's bswap).
        if (type.kind !== 'int' || type.bits === 8) return this.normalize(this.toI64(this.expr(c.args[0]!)), type);
        const narrow = fn.intCast(this.toI64(this.expr(c.args[0]!)), intType(type.bits), false);
        const swapped = fn.call(intType(type.bits), `llvm.bswap.i${type.bits}`, [narrow])!;
        this.module.declare(`declare i${type.bits} @llvm.bswap.i${type.bits}(i${type.bits})`);
        return { type, ir: fn.intCast(swapped, i64, type.signed) };
      }
      case 'strncmp': {
        const a = this.expr(c.args[0]!);
        const b = this.expr(c.args[1]!);
        const n = Number(constantOf(c.args[2]!) ?? BigInt(Math.max(sizeOf(a.type), sizeOf(b.type))));
        return int(fn.intCast(fn.binary('xor', this.stringsEqual(a, b, n), constInt(i1, 1)), i64, false));
      }
      case 'strerror':
        return int(this.toI64(this.expr(c.args[0]!)));
      case 'strcontains':
        return int(fn.intCast(this.stringContains(this.expr(c.args[0]!), this.expr(c.args[1]!)), i64, false));
      case 'cat': case 'system':
        this.eventWithArgs(c, c.args.slice(1));
        return int(constInt(i64, 0));
      case 'join':
        this.join(c);
        return int(constInt(i64, 0));
      default:
        return undefined;
    }
  }

  /**
   * Byte-wise comparison up to the first NUL (and at most `n` bytes), as bpftrace compares
   * strings; bytes past the end of the shorter string count as NUL.
   */
  private stringsEqual(a: Val, b: Val, n = Infinity): IrValue {
    const { fn } = this;
    const result = fn.scratch(i1, 1);
    fn.store(constInt(i1, 1), result, 1);
    const differ = fn.label('strndiff');
    const done = fn.label('strndone');
    const limit = Math.min(n, Math.max(sizeOf(a.type), sizeOf(b.type)));
    const at = (v: Val, i: number) => (i < sizeOf(v.type) ? fn.load(fn.byteOffset(v.ir, i), 1) : constInt(i8, 0));
    for (let i = 0; i < limit; i++) {
      const ca = at(a, i);
      const cb = at(b, i);
      const same = fn.label('strnsame');
      fn.condBr(fn.icmp('ne', ca, cb), differ, same);
      fn.place(same);
      const next = fn.label('strnnext');
      fn.condBr(fn.icmp('eq', ca, constInt(i8, 0)), done, next);
      fn.place(next);
    }
    fn.br(done);
    fn.place(differ);
    fn.store(constInt(i1, 0), result, 1);
    fn.br(done);
    fn.place(done);
    return fn.load(result, 1);
  }

  /** Does `hay` contain `needle`? Bounded loops over both strings. */
  private stringContains(hay: Val, needle: Val): IrValue {
    const { fn } = this;
    const hayLen = sizeOf(hay.type);
    const needleLen = sizeOf(needle.type);
    const found = fn.scratch(i1, 1);
    fn.store(constInt(i1, 0), found, 1);
    const done = fn.label('scdone');
    const yes = fn.label('scyes');
    for (let i = 0; i < hayLen; i++) {
      // Unrolled over start positions; inner comparison unrolled too but cut short at the end.
      const nextStart = fn.label('scnext');
      for (let j = 0; j < needleLen; j++) {
        const cn = fn.load(fn.byteOffset(needle.ir, j), 1);
        const more = fn.label('scmore');
        fn.condBr(fn.icmp('eq', cn, constInt(i8, 0)), yes, more);
        fn.place(more);
        if (i + j >= hayLen) {
          fn.br(done);
          break;
        }
        const ch = fn.load(fn.byteOffset(hay.ir, i + j), 1);
        const same = fn.label('scsame');
        fn.condBr(fn.icmp('ne', ch, cn), nextStart, same);
        fn.place(same);
        if (j === needleLen - 1) fn.br(yes);
      }
      if (!fn.isTerminated) fn.br(nextStart);
      fn.place(nextStart);
      if (i === hayLen - 1) break;
      const ch0 = fn.load(fn.byteOffset(hay.ir, i + 1), 1);
      const go = fn.label('scgo');
      fn.condBr(fn.icmp('eq', ch0, constInt(i8, 0)), done, go);
      fn.place(go);
    }
    if (!fn.isTerminated) fn.br(done);
    fn.place(yes);
    fn.store(constInt(i1, 1), found, 1);
    fn.br(done);
    fn.place(done);
    return fn.load(found, 1);
  }

  /** join(argv[, sep]): up to JOIN_ARGS strings of a NULL-terminated char ** array, into one event. */
  private join(c: Call): void {
    const { fn } = this;
    const spec = this.program.eventOf.get(c)!;
    const argvValue = this.expr(c.args[0]!);
    const argv = this.toI64(argvValue);
    const space = this.spaceOf(argvValue);
    const slot = fn.scratch(i64, 8);
    this.emitEvent(spec, (record) => {
      for (let i = 0; i < JOIN_ARGS; i++) fn.store(constInt(i8, 0), fn.byteOffset(record, 8 + i * JOIN_ARG_SIZE), 1);
      const end = fn.label('joinend');
      for (let i = 0; i < JOIN_ARGS; i++) {
        fn.store(constInt(i64, 0), slot, 8);
        this.probeRead(fn.bitcast(slot, i8p), 8, fn.binary('add', argv, constInt(i64, i * 8)), space, { reportEach: false });
        const p = fn.load(slot, 8);
        const read = fn.label('joinread');
        fn.condBr(fn.icmp('eq', p, constInt(i64, 0)), end, read);
        fn.place(read);
        this.probeRead(fn.byteOffset(record, 8 + i * JOIN_ARG_SIZE), JOIN_ARG_SIZE, p, space, { string: true, reportEach: false });
      }
      fn.br(end);
      fn.place(end);
    }, false);
  }

  // ---- memory helpers ----

  private truthy(v: Val): IrValue {
    return this.fn.icmp('ne', this.toI64(v), constInt(i64, 0));
  }

  /** A 64-bit value cut to an integer type's width and extended back by its signedness. */
  private fitToType(v: IrValue, type: Type): IrValue {
    if (type.kind !== 'int') return v;
    return this.fn.intCast(this.fn.intCast(v, intType(type.bits), false), i64, type.signed);
  }

  private toI64(v: Val): IrValue {
    if (v.ir.type === i64) return v.ir;
    if (v.ir.type.endsWith('*')) return this.fn.ptrToInt(v.ir);
    return this.fn.intCast(v.ir, i64, v.type.kind === 'int' && v.type.signed);
  }

  private loadInt(p: IrValue, t: Type): IrValue {
    const bits = t.kind === 'int' ? t.bits : 64;
    const v = this.fn.load(this.fn.bitcast(p, ptr(intType(bits))), 1);
    return this.fn.intCast(v, i64, t.kind === 'int' && t.signed);
  }

  /** A zeroed stack buffer for a value of `t` (as i8*). */
  private temp(t: Type): IrValue {
    const slot = this.fn.scratch(arrayType(Math.max(1, sizeOf(t)), i8));
    return this.fn.bitcast(slot, i8p);
  }

  /**
   * Stores `v` at `dest` as type `t`: integers at t's width, strings copied (truncated or
   * zero-padded to t's size), tuples element by element (from `elements` when building one).
   */
  private storeInto(dest: IrValue, t: Type, v: Val, elements?: readonly Val[]): void {
    const { fn } = this;
    if (t.kind === 'int' || t.kind === 'pointer' || t.kind === 'bool' || isScalar64(t)) {
      const bits = t.kind === 'int' ? t.bits : 64;
      fn.store(fn.intCast(this.toI64(v), intType(bits), false), fn.bitcast(dest, ptr(intType(bits))), 1);
      return;
    }
    if (t.kind === 'tuple') {
      const layout = tupleLayout(t.elements);
      const srcType = v.type.kind === 'tuple' ? v.type : t;
      const srcLayout = tupleLayout(srcType.elements);
      t.elements.forEach((et, i) => {
        const part = elements?.[i] ?? this.elementOf(v, srcType.elements[i]!, srcLayout.offsets[i]!);
        this.storeInto(fn.byteOffset(dest, layout.offsets[i]!), et, part);
      });
      return;
    }
    const destSize = sizeOf(t);
    const srcSize = sizeOf(v.type);
    if (destSize > srcSize) this.memset(dest, destSize);
    this.memcpy(dest, v.ir, Math.min(destSize, srcSize));
  }

  private elementOf(tuple: Val, t: Type, offset: number): Val {
    const p = this.fn.byteOffset(tuple.ir, offset);
    return isAggregate(t) ? { type: t, ir: p } : { type: t, ir: this.loadInt(p, t) };
  }

  private stringConstant(text: string | Uint8Array, size: number): IrValue {
    const bytes = Buffer.alloc(size);
    (typeof text === 'string' ? stringBytes(text) : Buffer.from(text)).copy(bytes, 0, 0, size - 1);
    const out = this.temp({ kind: 'string', size });
    // Store 8 bytes at a time: fewer instructions than a byte-wise copy.
    for (let off = 0; off < size; off += 8) {
      if (off + 8 <= size) {
        this.fn.store(constInt(i64, bytes.readBigInt64LE(off)), this.fn.byteOffset(out, off, i64), 1);
      } else {
        for (let i = off; i < size; i++) this.fn.store(constInt(i8, bytes[i]!), this.fn.byteOffset(out, i), 1);
      }
    }
    return out;
  }

  private memset(dest: IrValue, size: number): void {
    this.fn.call('void', 'llvm.memset.p0i8.i64', [this.fn.bitcast(dest, i8p), constInt(i8, 0), constInt(i64, size), constInt(i1, 0)]);
  }

  private memcpy(dest: IrValue, src: IrValue, size: number): void {
    if (size <= 0) return;
    this.fn.call('void', 'llvm.memcpy.p0i8.p0i8.i64', [
      this.fn.bitcast(dest, i8p), this.fn.bitcast(src, i8p), constInt(i64, size), constInt(i1, 0),
    ]);
  }
}

/** Bytes of a variable's stack slot (integers are kept as i64). */
function slotSize(t: Type): number {
  return isAggregate(t) ? Math.max(1, sizeOf(t)) : 8;
}

/** Names of the scratch variables a piece of code reads or writes. */
function containsReturn(node: unknown): boolean {
  let found = false;
  walk(node, (n) => {
    if (n.kind === 'JumpStmt' && (n as JumpStmt).jump === 'return') found = true;
  });
  return found;
}

function variablesIn(node: unknown): Set<string> {
  const found = new Set<string>();
  walk(node, (n) => {
    if (n.kind === 'Variable') found.add(variableKey(n as Variable));
  });
  return found;
}

/** The IR type a variable of `t` is kept in. */
function irStorage(t: Type): string {
  return isAggregate(t) ? arrayType(Math.max(1, sizeOf(t)), i8) : i64;
}

/** Bytes between consecutive elements behind a pointer (`p[i]`); records use their BTF size. */
function elementSize(t: Type): number {
  return t.kind === 'none' ? 1 : Math.max(1, sizeOf(t));
}

function constantOf(e: Expr): bigint | undefined {
  return e.kind === 'IntLiteral' ? e.value : undefined;
}
