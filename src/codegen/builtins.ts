// Builtin variables (pid, comm, argN, retval, kstack, ...): the code that reads each one, one
// entry per builtin of src/model/builtins.ts; probe arguments from registers, the stack, the
// context or a USDT argument spec.
import { type BuiltinName, builtinNamed } from '../model/builtins.js';
import { inTracedProcess, probeTypeName } from '../model/providers.js';
import { sizeOf, type Type, UINT32, UINT64 } from '../model/types.js';
import { ARG_REGS, PT_REGS_CS, PT_REGS_RAX, PT_REGS_RSP } from '../kernel/registers.js';
import { usdtArgs } from '../kernel/usdt-args.js';
import { constInt, i64, i8p, intType, type IrValue, type Label, ptr } from './ir/builder.js';
import { BPF_F_USER_BUILD_ID, BPF_F_USER_STACK, BPF_NOEXIST, BPF_RB_FORCE_WAKEUP } from './helpers.js';
import { noteFailure } from './failures.js';
import {
  Helper, PROCESSES_RING_BYTES, PROCESSES_RING_MAP, PROCESSES_SEEN_MAP, RUN_CPID, RUN_PIDNS_DEV, RUN_PIDNS_INO,
  RUN_START_NS, STACK_IDS_MAP, stackMapSpec, targetNamesEntry, targetNamesMap,
} from '../model/object-layout.js';
import { PROCESSES_SEEN_MAX } from './maps.js';
import { loadInt, memset, normalize, storeInto, stringConstant, temp, type Val, writeComm } from './values.js';
import type { ProbeContext } from './context.js';
import { probeRead, readKernel, readMemory, scratchBytes } from './memory.js';
import { freshTemp, nameFromArrayMap, runValue } from './map-ops.js';
import { syscallField, syscallProbeName } from './syscalls.js';

/** The value of a builtin variable (`pid`, `comm`, `arg0`, ...). */
export function builtin(g: ProbeContext, name: string, type: Type): Val {
  return BUILTIN_CODE[builtinNamed(name)!](g, name, type);
}

/**
 * A tracepoint's record as a value (print(args), @x = args): copied with a read, as the verifier refuses loads of the
 * context's first 8 bytes (there the kernel put a pointer over the common_* header); in a
 * syscall dispatch program, rebuilt field by field from the registers.
 */
function tracepointRecord(g: ProbeContext, type: Type): Val {
  const out = temp(g.fn, type);
  memset(g.fn, out, sizeOf(type));
  if (!g.syscall || type.kind !== 'record') probeRead(g, out, sizeOf(type), g.fn.ptrToInt(g.fn.param(0)), 'kernel');
  else for (const f of type.fields) storeInto(g.fn, g.fn.byteOffset(out, f.offset), f.type, syscallField(g, f.name, f.type));
  return { type, ir: out };
}

/** The code that reads each builtin variable. */
const BUILTIN_CODE = {
  pid: (g, _name, type) => ({ type, ir: g.fn.binary('lshr', pidTgid(g), constInt(i64, 32)) }),
  tid: (g, _name, type) => ({ type, ir: g.fn.binary('and', pidTgid(g), constInt(i64, 0xffffffff)) }),
  uid: (g, _name, type) => ({ type, ir: g.fn.binary('and', uidGid(g), constInt(i64, 0xffffffff)) }),
  gid: (g, _name, type) => ({ type, ir: g.fn.binary('lshr', uidGid(g), constInt(i64, 32)) }),
  nsecs: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.ktimeGetNs, i64, []) }),
  elapsed: (g, _name, type) => ({
    type, ir: g.fn.binary('sub', g.fn.callHelper(Helper.ktimeGetNs, i64, []), runValue(g, RUN_START_NS)),
  }),
  cpu: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getSmpProcessorId, i64, []) }),
  ncpus: (g, _name, type) => ({ type, ir: constInt(i64, g.kernel.possibleCpus()) }),
  numaid: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getNumaNodeId, i64, []) }),
  rand: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getPrandomU32, i64, []) }),
  cgroup: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getCurrentCgroupId, i64, []) }),
  curtask: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.getCurrentTask, i64, []) }),
  jiffies: (g, _name, type) => ({ type, ir: g.fn.callHelper(Helper.jiffies64, i64, []) }),
  comm: (g, _name, type) => {
    const out = freshTemp(g, type);
    writeComm(g.fn, out);
    return { type, ir: out };
  },
  probe: (g, _name, type) => {
    if (g.syscall && g.targets.length > 1) return { type, ir: syscallProbeName(g, sizeOf(type)) };
    if (namesByCookie(g)) return { type, ir: targetName(g, 'probe', sizeOf(type)) };
    return { type, ir: stringConstant(g.fn, g.targets[0]!.name, sizeOf(type)) };
  },
  // As bpftrace 0.26: the probe's first attach point's type, whichever of its targets fired.
  probetype: (g, _name, type) => ({ type, ir: stringConstant(g.fn, probeTypeName(g.probe.targets[0]!.provider), sizeOf(type)) }),
  ctx: (g, _name, type) => ({ type, ir: g.fn.ptrToInt(g.fn.param(0)) }),
  // args.FIELD reads the context in place (a record of size 0); a tracepoint's whole record is copied.
  args: (g, _name, type) => (g.targets[0]!.provider === 'tracepoint' && sizeOf(type) > 0
    ? tracepointRecord(g, type) : { type, ir: g.fn.param(0) }),
  func: (g, _name, type) => ({
    type, ir: namesByCookie(g) ? targetName(g, 'func', sizeOf(type)) : stringConstant(g.fn, g.targets[0]!.funcPrinted ?? g.targets[0]!.func ?? '', sizeOf(type)),
  }),
  cpid: (g, _name, type) => ({ type, ir: runValue(g, RUN_CPID) }),
  // The run writes cpid before attaching: 0 without a -c command.
  has_cpid: (g, _name, type) => ({ type, ir: g.fn.intCast(g.fn.icmp('ne', runValue(g, RUN_CPID), constInt(i64, 0)), i64, false) }),
  retval: (g, _name, type) => {
    const t = g.targets[0]!;
    if (t.provider === 'kretfunc') {
      const n = g.kernel.kernelFunction?.(t.func ?? '')?.params.length ?? 0;
      return normalize(g.fn, ctxU64(g, n * 8), type);
    }
    return { type, ir: ctxU64(g, PT_REGS_RAX) };
  },
  username: (g, _name, type) => ({ type, ir: g.fn.binary('and', uidGid(g), constInt(i64, 0xffffffff)) }),
  kstack: (g, _name, type) => stack(g, type),
  ustack: (g, _name, type) => stack(g, type),
  // The saved CS selector's privilege level: 3 is user mode (as bpftrace on x86-64).
  usermode: (g, _name, type) => ({
    type, ir: g.fn.intCast(g.fn.icmp('eq', g.fn.binary('and', ctxU64(g, PT_REGS_CS), constInt(i64, 3)), constInt(i64, 3)), i64, false),
  }),
  argN: (g, name, type) => argument(g, Number(name.slice('arg'.length)), false, type),
  sargN: (g, name, type) => argument(g, Number(name.slice('sarg'.length)), true, type),
} satisfies Record<BuiltinName, (g: ProbeContext, name: string, type: Type) => Val>;

/** pid(curr_ns)/tid(curr_ns): the id in tracelet's pid namespace (0 if the task is not in it). */
export function namespaceId(g: ProbeContext, which: 'pid' | 'tid'): IrValue {
  const { fn } = g;
  const ids = fn.scratch(i64, 8); // struct bpf_pidns_info { u32 pid; u32 tgid; }
  fn.store(constInt(i64, 0), ids, 8);
  fn.callHelper(Helper.getNsCurrentPidTgid, i64, [runValue(g, RUN_PIDNS_DEV), runValue(g, RUN_PIDNS_INO), fn.bitcast(ids, i8p), constInt(i64, 8)]);
  return loadInt(fn, fn.byteOffset(fn.bitcast(ids, i8p), which === 'pid' ? 4 : 0), UINT32);
}

function pidTgid(g: ProbeContext): IrValue {
  return g.fn.callHelper(Helper.getCurrentPidTgid, i64, []);
}

function uidGid(g: ProbeContext): IrValue {
  return g.fn.callHelper(Helper.getCurrentUidGid, i64, []);
}

/** A u64 at `offset` in the context (pt_regs, or a raw tracepoint's/kfunc's argument array). */
export function ctxU64(g: ProbeContext, offset: number): IrValue {
  return g.fn.load(g.fn.byteOffset(g.fn.param(0), offset, i64), 8);
}

/** argN / sargN: registers or the stack (uprobe, kprobe), the argument array, or a USDT spec. */
function argument(g: ProbeContext, n: number, stack: boolean, type: Type): Val {
  const { fn } = g;
  const t = g.targets[0]!;
  const user = inTracedProcess(t.provider);
  if (t.provider === 'rawtracepoint' || t.provider === 'kfunc' || t.provider === 'kretfunc') {
    return normalize(fn, ctxU64(g, n * 8), type);
  }
  if (t.provider === 'usdt') {
    const spec = usdtArgs(t.usdt?.args ?? '')[n];
    // The checker refused an argument that is missing or cannot be read.
    if (!spec || spec.kind === 'unsupported') return { type, ir: constInt(i64, 0) };
    let v: IrValue;
    if (spec.kind === 'constant') v = constInt(i64, spec.value);
    else if (spec.kind === 'register') v = ctxU64(g, spec.register);
    else {
      // base + index * scale + offset (gcc -O2 gives an array element as `-8@(%rdi,%rsi,8)`).
      let addr: IrValue = constInt(i64, spec.offset);
      if (spec.base !== undefined) addr = fn.binary('add', addr, ctxU64(g, spec.base));
      if (spec.index !== undefined) addr = fn.binary('add', addr, fn.binary('mul', ctxU64(g, spec.index), constInt(i64, spec.scale)));
      return readMemory(g, addr, { kind: 'int', bits: (spec.size * 8) as 8, signed: spec.signed }, 'user', type);
    }
    if (spec.size >= 8) return { type, ir: v };
    return { type, ir: fn.intCast(fn.intCast(v, intType(spec.size * 8), false), i64, spec.signed) };
  }
  if (!stack && n < ARG_REGS.length) return { type, ir: ctxU64(g, ARG_REGS[n]!) };
  // Stack arguments: sargN at rsp + 8 * (N + 1); argN (N >= 6) are the stack's arguments after the return address.
  const slot = stack ? n + 1 : n - ARG_REGS.length + 1;
  const addr = fn.binary('add', ctxU64(g, PT_REGS_RSP), constInt(i64, slot * 8));
  return readMemory(g, addr, UINT64, user ? 'user' : 'kernel', type);
}

/** kstack / ustack: the stack's id (a ustack also keeps the process image, and announces a new one). */
export function stack(g: ProbeContext, type: Type): Val {
  if (type.kind !== 'kstack' && type.kind !== 'ustack') return { type, ir: constInt(i64, 0) };
  const id = stackId(g, type.kind, type.depth, type.mode === 'build_id');
  if (type.kind === 'kstack') return { type, ir: id };
  const image = processImage(g);
  announceProcess(g, image);
  return userAddress(g, id, type, image);
}

/**
 * The process and the program it runs: its pid, and in the upper 32 bits how many times it has
 * exec'd (task_struct.self_exec_id, from BTF; 0 without it). A process's addresses are named
 * with the mappings of the program that recorded them: a fork that records a ustack and then
 * execs is announced again.
 */
function processImage(g: ProbeContext): IrValue {
  const { fn } = g;
  const pid = fn.binary('lshr', fn.callHelper(Helper.getCurrentPidTgid, i64, []), constInt(i64, 32));
  const execId = g.kernel.structMemberOffset?.('struct task_struct', 'self_exec_id');
  if (execId === undefined) return pid;
  const generation = readKernel(g, fn.callHelper(Helper.getCurrentTask, i64, []), execId, 4);
  return fn.binary('or', pid, fn.binary('shl', generation, constInt(i64, 32)));
}

/**
 * The id of the current stack in its table (STACK_IDS_MAP gives a new stack the next one), or a
 * negative errno: bpf_get_stack's when there is no stack (a kernel thread's ustack), or the
 * table's when it is full (counted at the site). Either prints as an empty stack.
 */
function stackId(g: ProbeContext, kind: 'kstack' | 'ustack', depth: number, buildId: boolean): IrValue {
  const { fn } = g;
  const spec = stackMapSpec(kind, depth, buildId);
  const flags = (kind === 'ustack' ? BPF_F_USER_STACK : 0) | (buildId ? BPF_F_USER_BUILD_ID : 0);
  const id = fn.scratch(i64, 8);
  const buffer = scratchBytes(g, g.maps.stackBuffer, depth * spec.frameBytes);
  const done = fn.label('stackid');
  // The frames, and zeros after them to the depth: the key of the stack, whatever its length.
  const written = fn.callHelper(Helper.getStack, i64, [fn.param(0), buffer, constInt(i64, depth * spec.frameBytes), constInt(i64, flags)]);
  fn.store(written, id, 8);
  const found = fn.label('stackfound');
  fn.condBr(fn.icmp('sle', written, constInt(i64, 0)), done, found);
  fn.place(found);
  const [short, whole] = spec.tables;
  // One lookup-or-insert for both tables (the verifier checks each map that reaches the call).
  const table = whole
    ? fn.select(fn.icmp('sle', written, constInt(i64, short!.keyBytes)), g.maps.address(short!.symbol), g.maps.address(whole.symbol))
    : g.maps.address(short!.symbol);
  idInTable(g, table, buffer, id, g.readSites.slot(g.site ?? g.probe.probe.span, 'stack'), done);
  fn.place(done);
  return fn.load(id, 8);
}

/** Stores in `id` the id of the stack in `buffer` in a stack table, giving it a new one if it is new; then goes to `done`. */
function idInTable(g: ProbeContext, table: IrValue, buffer: IrValue, id: IrValue, site: number, done: Label): void {
  const { fn } = g;
  const known = (entry: IrValue, otherwise: Label) => {
    const copy = fn.label('stackknown');
    fn.condBr(fn.icmp('eq', entry, { type: i8p, ref: 'null' }), otherwise, copy);
    fn.place(copy);
    fn.store(fn.load(fn.bitcast(entry, ptr(i64)), 8), id, 8);
    fn.br(done);
  };
  const insert = fn.label('stacknew');
  known(fn.callHelper(Helper.mapLookupElem, i8p, [table, buffer]), insert);
  fn.place(insert);
  fn.store(fn.binary('add', fn.atomicFetchAdd(g.maps.word(STACK_IDS_MAP, 0), constInt(i64, 1)), constInt(i64, 1)), id, 8);
  const rc = fn.callHelper(Helper.mapUpdateElem, i64, [table, buffer, fn.bitcast(id, i8p), constInt(i64, BPF_NOEXIST)]);
  const refused = fn.label('stackrefused');
  fn.condBr(fn.icmp('eq', rc, constInt(i64, 0)), done, refused);
  // Another CPU stored the same stack first (its id stands), or the table is full.
  fn.place(refused);
  const full = fn.label('stackfull');
  known(fn.callHelper(Helper.mapLookupElem, i8p, [table, buffer]), full);
  fn.place(full);
  fn.store(rc, id, 8);
  noteFailure(g, rc, { read: site });
  fn.br(done);
}

/** An address with the current process image (processImage), as usym values are kept. */
export function userAddress(g: ProbeContext, address: IrValue, type: Type, image = processImage(g)): Val {
  const { fn } = g;
  const out = temp(fn, type);
  fn.store(address, fn.bitcast(out, ptr(i64)), 8);
  fn.store(image, fn.byteOffset(out, 8, i64), 8);
  return { type, ir: out };
}

/** Sends the process image (see processImage) to PROCESSES_RING_MAP the first time it records a ustack. */
function announceProcess(g: ProbeContext, image: IrValue): void {
  const { fn } = g;
  const seen = g.maps.ref({ symbol: PROCESSES_SEEN_MAP, type: 'lru_hash', keySize: 8, valueSize: 8, maxEntries: PROCESSES_SEEN_MAX });
  const ring = g.maps.ref({ symbol: PROCESSES_RING_MAP, type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: PROCESSES_RING_BYTES });
  const pid = fn.scratch(i64);
  fn.store(image, pid, 8);
  const rc = fn.callHelper(Helper.mapUpdateElem, i64, [seen, fn.bitcast(pid, i8p), fn.bitcast(pid, i8p), constInt(i64, BPF_NOEXIST)]);
  const announce = fn.label('newprocess');
  const done = fn.label('knownprocess');
  fn.condBr(fn.icmp('eq', rc, constInt(i64, 0)), announce, done);
  fn.place(announce);
  fn.callHelper(Helper.ringbufOutput, i64, [ring, fn.bitcast(pid, i8p), constInt(i64, 8), constInt(i64, BPF_RB_FORCE_WAKEUP)]);
  fn.br(done);
  fn.place(done);
}

/** A multi-uprobe program: which of its uprobes fired is known by the attach cookie only (see plan.ts). */
function namesByCookie(g: ProbeContext): boolean {
  const provider = g.targets[0]!.provider;
  return g.targets.length > 1 && !g.syscall && (provider === 'uprobe' || provider === 'uretprobe');
}

/**
 * `func` or `probe` of the uprobe that fired, from targetNamesMap() by its attach cookie (the
 * target's index; the runtime fills the map and sets the cookies): empty if it is not there.
 */
function targetName(g: ProbeContext, which: 'func' | 'probe', size: number): IrValue {
  const { funcBytes, probeBytes, bytes } = targetNamesEntry(g.targets);
  const names = {
    symbol: targetNamesMap(g.fn.name), type: 'array', keySize: 4, valueSize: bytes, maxEntries: g.targets.length,
  } as const;
  const cookie = g.fn.callHelper(Helper.getAttachCookie, i64, [g.fn.param(0)]);
  return nameFromArrayMap(g, names, cookie, which === 'func' ? 0 : funcBytes, which === 'func' ? funcBytes : probeBytes, size);
}
