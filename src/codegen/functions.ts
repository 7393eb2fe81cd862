// Calls of built-in functions: the code of each, one entry per function of src/model/functions.ts
// (FUNCTION_CODE): events (printf, print, exit, ...), delete, str, and the value functions (ksym,
// buf, ntop, macaddr, strncmp, join, ...). Aggregations are map updates (aggregations.ts).
import { type Call, type Identifier, mapName, type MapRef, type StringLiteral, type Variable, variableKey } from '../model/ast.js';
import { type FunctionName, functionNamed } from '../model/functions.js';
import { alignUp, sizeOf, type Type, UINT64 } from '../model/types.js';
import { bucketCount, JOIN_ARG_SIZE, JOIN_ARGS, type MapSpec } from '../model/program.js';
import { signalNumber } from '../kernel/signals.js';
import { PT_REGS } from '../kernel/registers.js';
import { constInt, FunctionBuilder, i1, i32, i64, i8, i8p, intType, type IrValue, ptr } from './ir/builder.js';
import { BPF_F_USER_STACK, BPF_RB_NO_WAKEUP, CLOCK_HELPERS } from './helpers.js';
import { EVENTS_MAP, Helper, STOPPED_BY_EXIT, STOPPED_MAP } from '../model/object-layout.js';
import { constantOf, isAggregate, loadInt, memcpy, memset, normalize, storeInto, stringConstant, temp, toI64, type Val } from './values.js';
import type { ProbeContext } from './context.js';
import { emitEvent, eventWithArgs } from './events.js';
import { probeRead, spaceOf } from './memory.js';
import { freshTemp, lookup, mapKey, mapPointer, mapSpec } from './map-ops.js';
import { storeVariable } from './variables.js';
import { deleteKeyZero } from './aggregations.js';
import { reportHelperError, returnFromProbe } from './failures.js';
import { builtin, namespaceId, stack, userAddress } from './builtins.js';
import { commOfPid } from './kfuncs.js';

/** The code of a call of a built-in function: the value it returns (0 when it returns nothing). */
type FunctionCode = (g: ProbeContext, c: Call, type: Type) => Val;

/** The value of a call of a built-in function (its side effects written first). */
export function call(g: ProbeContext, c: Call, type: Type): Val {
  const name = functionNamed(c.name);
  return name ? FUNCTION_CODE[name](g, c, type) : nothing(type);
}

function nothing(type: Type): Val {
  return { type, ir: constInt(i64, 0) };
}

/** Sends the call's event with its arguments from `first` on (printf, errorf, warnf, cat, system: after the format). */
function eventFrom(first: number): FunctionCode {
  return (g, c, type) => {
    eventWithArgs(g, c, c.args.slice(first));
    return nothing(type);
  };
}

/** Sends the call's event, which has no fields (time, clear, zero). */
const bareEvent: FunctionCode = (g, c, type) => {
  emitEvent(g, g.program.eventOf.get(c)!, () => {}, false);
  return nothing(type);
};

/** The value of the first argument as an integer: `type` alone tells the printer what it is. */
const firstArgument: FunctionCode = (g, c, type) => ({ type, ir: toI64(g.fn, g.expr(c.args[0]!)) });

/** A value the checker computed (kaddr, uaddr, cgroupid, is_str...). */
const constantValue: FunctionCode = (g, c, type) => {
  const v = callConstant(g, c);
  return { type, ir: constInt(i64, typeof v === 'bigint' ? v : 0n) };
};

/** Aggregations are map updates (aggregations.ts): they are no expressions. */
const aggregation: FunctionCode = (_g, _c, type) => nothing(type);

/**
 * The code of each function, keyed by its record in src/model/functions.ts (aggregations:
 * aggregate() in aggregations.ts).
 */
const FUNCTION_CODE = {
  count: aggregation,
  sum: aggregation,
  avg: aggregation,
  min: aggregation,
  max: aggregation,
  stats: aggregation,
  hist: aggregation,
  lhist: aggregation,
  tseries: aggregation,
  printf: eventFrom(1),
  // bpf_trace_printk(fmt, size, a, b, c): the format on the stack, a string by its address.
  debugf: (g, c, type) => {
    const format = (c.args[0] as StringLiteral).value;
    const size = Buffer.byteLength(format) + 1;
    const values = c.args.slice(1).map((a) => {
      const v = g.expr(a);
      return v.type.kind === 'string' ? g.fn.ptrToInt(v.ir) : toI64(g.fn, v);
    });
    const rc = g.fn.callHelper(Helper.tracePrintk, i64, [g.fn.bitcast(stringConstant(g.fn, format, size), i8p), constInt(i32, size), ...values]);
    reportHelperError(g, Helper.tracePrintk, rc, false, c.span);
    return nothing(type);
  },
  errorf: eventFrom(1),
  warnf: eventFrom(1),
  print: (g, c, type) => {
    const spec = g.program.eventOf.get(c)!;
    if (spec.kind === 'print_map') emitEvent(g, spec, () => {}, false);
    else eventWithArgs(g, c, [c.args[0]!]);
    return nothing(type);
  },
  time: bareEvent,
  clear: bareEvent,
  zero: bareEvent,
  // Wake the reader at once: the session stops on this event. Until it has, the flag keeps
  // every other probe from running (as if the run had stopped right here). The probe itself ends
  // here too, as in bpftrace (0.17 returns after exit(), 0.2x injects a return).
  exit: (g, c, type) => {
    eventWithArgs(g, c, c.args, true);
    g.fn.store(constInt(i64, STOPPED_BY_EXIT), g.maps.word(STOPPED_MAP, 0), 8);
    returnFromProbe(g, constInt(i64, 0));
    return nothing(type);
  },
  delete: (g, c, type) => {
    const target = c.args[0] as MapRef;
    const spec = mapSpec(g, mapName(target));
    const key = mapKey(g, spec, target, c.args.length === 2 ? [c.args[1]!] : undefined);
    if (spec.bpfType === 'percpu_array') deleteKeyZero(g, spec, key);
    else if (spec.keyType && bucketCount(spec) > 1) deleteBuckets(g, spec, key);
    else {
      // -k reports a key that is not there (ENOENT), as bpftrace 0.17 does.
      const rc = g.fn.callHelper(Helper.mapDeleteElem, i64, [mapPointer(g, spec.name), key]);
      reportHelperError(g, Helper.mapDeleteElem, rc, false, c.span);
    }
    return nothing(type);
  },
  has_key: (g, c, type) => {
    const ref = c.args[0] as MapRef;
    const spec = mapSpec(g, mapName(ref));
    const found = g.fn.callHelper(Helper.mapLookupElem, i8p, [mapPointer(g, spec.name), mapKey(g, spec, ref, [c.args[1]!])]);
    return { type, ir: g.fn.intCast(g.fn.icmp('ne', found, { type: i8p, ref: 'null' }), i64, false) };
  },
  find,
  str,
  buf,
  join: (g, c, type) => {
    join(g, c);
    return nothing(type);
  },
  ksym: firstArgument,
  usym: (g, c, type) => userAddress(g, toI64(g.fn, g.expr(c.args[0]!)), type),
  kaddr: constantValue,
  uaddr: constantValue,
  reg: (g, c, type) => {
    const name = c.args[0]?.kind === 'StringLiteral' ? c.args[0].value : 'ip';
    return { type, ir: loadInt(g.fn, g.fn.byteOffset(g.fn.param(0), PT_REGS.get(name) ?? 0), UINT64) };
  },
  ntop,
  pton: (g, c, type) => {
    const { fn } = g;
    const v = callConstant(g, c);
    const out = temp(fn, type);
    if (v instanceof Uint8Array) v.forEach((b, i) => fn.store(constInt(i8, b), fn.byteOffset(out, i), 1));
    return { type, ir: out };
  },
  macaddr,
  cgroupid: constantValue,
  // The id: the runtime finds its paths when it prints the value.
  cgroup_path: firstArgument,
  // Refused by the checker on this kernel (no BPF tracing programs).
  path: (_g, _c, type) => nothing(type),
  system: eventFrom(1),
  cat: eventFrom(1),
  signal: sendSignal(Helper.sendSignal),
  // The current thread only (signal() signals its whole process).
  signal_thread: sendSignal(Helper.sendSignalThread),
  // The run removes the watchpoint when the event arrives (async, as bpftrace): the reader is
  // woken at once, so that few hits come after it.
  unwatch: (g, c, type) => {
    eventWithArgs(g, c, c.args, true);
    return nothing(type);
  },
  bswap,
  // Only the type changes: it says which helper reads through the pointer.
  uptr: firstArgument,
  kptr: firstArgument,
  strerror: firstArgument,
  syscall_name: firstArgument,
  signal_name: firstArgument,
  strncmp: (g, c, type) => {
    const a = g.expr(c.args[0]!);
    const b = g.expr(c.args[1]!);
    const n = Number(constantOf(c.args[2]!) ?? BigInt(Math.max(sizeOf(a.type), sizeOf(b.type))));
    return { type, ir: g.fn.intCast(g.fn.binary('xor', stringsEqual(g, a, b, n), constInt(i1, 1)), i64, false) };
  },
  strcontains: (g, c, type) => ({
    type, ir: g.fn.intCast(stringContains(g, g.expr(c.args[0]!), g.expr(c.args[1]!)), i64, false),
  }),
  strftime: (g, c, type) => ({ type, ir: toI64(g.fn, g.expr(c.args[1]!)) }),
  nsecs: (g, c, type) => ({
    type, ir: g.fn.callHelper(CLOCK_HELPERS[(c.args[0] as Identifier).name] ?? Helper.ktimeGetNs, i64, []),
  }),
  pid: (g, c, type) => ((c.args[0] as Identifier).name === 'curr_ns' ? { type, ir: namespaceId(g, 'pid') } : builtin(g, 'pid', type)),
  tid: (g, c, type) => ((c.args[0] as Identifier).name === 'curr_ns' ? { type, ir: namespaceId(g, 'tid') } : builtin(g, 'tid', type)),
  // comm(pid) (bare `comm` is a builtin variable).
  comm: commOfPid,
  kstack: (g, _c, type) => stack(g, type),
  ustack: (g, _c, type) => stack(g, type),
  // Compile-time only: the checker reported them where reached.
  fail: (_g, _c, type) => nothing(type),
  static_assert: (_g, _c, type) => nothing(type),
  len,
  memcmp,
  // Constants the checker decided from the argument's type; the argument is not evaluated.
  kfunc_exist: constantValue,
  kfunc_allowed: constantValue,
  is_array: constantValue,
  is_integer: constantValue,
  is_unsigned_integer: constantValue,
  is_ptr: constantValue,
  is_str: constantValue,
  is_literal: constantValue,
  // Refused by the checker on this kernel (no kprobes).
  override: (_g, _c, type) => nothing(type),
} satisfies Record<FunctionName, FunctionCode>;

/** len(@map): the entries of the map; len(ustack), len(kstack(n)): the frames of the stack taken here. */
function len(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const arg = c.args[0]!;
  if (arg.kind === 'MapRef') {
    // bpf_for_each_map_elem returns how many entries it visited: a callback that goes on (0) visits all.
    const each = new FunctionBuilder(`${fn.name}_len${g.callbacks++}`, undefined,
      [{ type: i8p, name: 'map' }, { type: i8p, name: 'key' }, { type: i8p, name: 'value' }, { type: i8p, name: 'context' }]);
    each.attachDebug(g.module.debug!, c.span.line);
    each.setLocation(c.span.line, c.span.column);
    each.ret(constInt(i64, 0));
    g.module.addFunction(each);
    const spec = mapSpec(g, mapName(arg));
    const visited = fn.callHelper(Helper.forEachMapElem, i64, [mapPointer(g, spec.name), each.pointer, { type: i8p, ref: 'null' }, constInt(i64, 0)]);
    return { type, ir: visited };
  }
  // The frames written by bpf_get_stack into a ring buffer record reserved for the purpose (up to
  // 127 frames: more than the BPF stack holds) and discarded unsent; 0 when the ring is full.
  const stackType = g.program.types.get(arg)!;
  const depth = stackType.kind === 'kstack' || stackType.kind === 'ustack' ? stackType.depth : 1;
  const size = constInt(i64, depth * 8);
  const result = fn.scratch(i64, 8);
  fn.store(constInt(i64, 0), result, 8);
  const record = fn.callHelper(Helper.ringbufReserve, i8p, [g.maps.address(EVENTS_MAP), size, constInt(i64, 0)]);
  const reserved = fn.label('stackbuf');
  const done = fn.label('stacklen');
  fn.condBr(fn.icmp('ne', record, { type: i8p, ref: 'null' }), reserved, done);
  fn.place(reserved);
  const flags = stackType.kind === 'ustack' ? BPF_F_USER_STACK : 0;
  const bytes = fn.callHelper(Helper.getStack, i64, [fn.param(0), record, size, constInt(i64, flags)]);
  const written = fn.select(fn.icmp('slt', bytes, constInt(i64, 0)), constInt(i64, 0), fn.binary('lshr', bytes, constInt(i64, 3)));
  // The frames before the first zero address, as a stack is printed (a user stack's walk may end
  // with one): a bounded loop over the record (a BPF program has no stack for 127 loaded frames).
  const head = fn.label('frame');
  const next = fn.label('nextframe');
  const counted = fn.label('counted');
  fn.br(head);
  fn.place(head);
  const i = fn.load(result, 8);
  const more = fn.binary('and', fn.icmp('ult', i, written), fn.icmp('ult', i, constInt(i64, depth)));
  const check = fn.label('checkframe');
  fn.condBr(more, check, counted);
  fn.place(check);
  const address = fn.load(fn.byteOffset(record, fn.binary('shl', i, constInt(i64, 3)), i64), 8);
  fn.condBr(fn.icmp('ne', address, constInt(i64, 0)), next, counted);
  fn.place(next);
  fn.store(fn.binary('add', i, constInt(i64, 1)), result, 8);
  fn.br(head);
  fn.place(counted);
  fn.callHelper(Helper.ringbufDiscard, i64, [record, constInt(i64, BPF_RB_NO_WAKEUP)]);
  fn.br(done);
  fn.place(done);
  return { type, ir: fn.load(result, 8) };
}

/**
 * memcmp(left, right, count): the values' bytes compared one by one without branches, from the
 * last byte both have to the first, so the difference kept is that of the first bytes that differ
 * (within count, when count is computed; a constant count compares that many).
 */
function memcmp(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const [left, right] = [g.expr(c.args[0]!), g.expr(c.args[1]!)].map((v) => bytesOf(fn, v));
  const known = constantOf(c.args[2]!);
  const both = Math.min(sizeOf(g.program.types.get(c.args[0]!)!), sizeOf(g.program.types.get(c.args[1]!)!));
  const count = known === undefined ? toI64(fn, g.expr(c.args[2]!)) : undefined;
  const bytes = known === undefined ? both : Math.min(both, Number(known));
  let result: IrValue = constInt(i64, 0);
  for (let i = bytes - 1; i >= 0; i--) {
    const l = fn.intCast(fn.load(fn.byteOffset(left!, i), 1), i64, false);
    const r = fn.intCast(fn.load(fn.byteOffset(right!, i), 1), i64, false);
    let differs = fn.icmp('ne', l, r);
    if (count) differs = fn.binary('and', differs, fn.icmp('ult', constInt(i64, i), count));
    result = fn.select(differs, fn.binary('sub', l, r), result);
  }
  return { type, ir: result };
}

/** A pointer to a value's bytes: an aggregate's own, an integer or pointer stored at its width. */
function bytesOf(fn: ProbeContext['fn'], v: Val): IrValue {
  if (isAggregate(v.type)) return v.ir;
  const out = temp(fn, v.type);
  storeInto(fn, out, v.type, v);
  return out;
}

/** signal(sig), signal_thread(sig): the signal's number (a name is resolved here) to the helper. */
function sendSignal(helper: number): FunctionCode {
  return (g, c, type) => {
    const a = c.args[0]!;
    const sig = a.kind === 'StringLiteral' ? constInt(i64, signalNumber(a.value) ?? 0) : toI64(g.fn, g.expr(a));
    g.fn.callHelper(helper, i64, [g.fn.intCast(sig, i32, false)]);
    return nothing(type);
  };
}

/** find(@m, k, $v): the entry looked up once; when there is one, its value stored in $v. */
function find(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const ref = c.args[0] as MapRef;
  const spec = mapSpec(g, mapName(ref));
  const p = lookup(g, spec, mapKey(g, spec, ref, [c.args[1]!]));
  const found = fn.icmp('ne', p, { type: i8p, ref: 'null' });
  const hit = fn.label('found');
  const done = fn.label('findend');
  fn.condBr(found, hit, done);
  fn.place(hit);
  const value = spec.valueType;
  storeVariable(g, variableKey(c.args[2] as Variable), { type: value, ir: isAggregate(value) ? p : loadInt(fn, p, value) });
  fn.br(done);
  fn.place(done);
  return { type, ir: fn.intCast(found, i64, false) };
}

/** str(p [, n]): a string read from probed memory, or a string value cut to its size. */
function str(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const size = sizeOf(type);
  const text = callConstant(g, c);
  if (text instanceof Uint8Array) return { type, ir: stringConstant(fn, text, size) };
  const src = g.expr(c.args[0]!);
  if (src.type.kind === 'string') {
    if (size >= sizeOf(src.type)) return src;
    // Cut to size - 1 characters and the terminator.
    const cut = temp(fn, type);
    memcpy(fn, cut, src.ir, size - 1);
    fn.store(constInt(i8, 0), fn.byteOffset(cut, size - 1), 1);
    return { type, ir: cut };
  }
  const out = freshTemp(g, type);
  memset(fn, out, size);
  let limit: IrValue = constInt(i64, size);
  if (c.args[1]) {
    // str(p, n) keeps n characters: it reads n + 1 bytes including the terminator, as bpftrace does.
    const n = fn.binary('add', toI64(fn, g.expr(c.args[1])), constInt(i64, 1));
    const tooBig = fn.icmp('ugt', n, constInt(i64, size));
    limit = fn.select(tooBig, constInt(i64, size), n);
  }
  probeRead(g, out, limit, toI64(fn, src), spaceOf(g, src), { string: true });
  return { type, ir: out };
}

/** buf(p [, length]): a length byte, then the bytes (copied from an array, else read). */
function buf(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const size = type.kind === 'buffer' ? type.size : 0;
  const out = temp(fn, type);
  memset(fn, out, size + 1);
  const src = g.expr(c.args[0]!);
  if (isAggregate(src.type)) {
    const n = Math.min(size, sizeOf(src.type));
    memcpy(fn, fn.byteOffset(out, 1), src.ir, n);
    // A string is NUL-padded past its end, as in bpftrace (buf("abc", 10) is abc and 7 NULs);
    // an array has only its own bytes.
    fn.store(constInt(i8, src.type.kind === 'string' ? size : n), out, 1);
    return { type, ir: out };
  }
  let length: IrValue = constInt(i64, size);
  if (c.args[1] && constantOf(c.args[1]) === undefined) {
    const n = toI64(fn, g.expr(c.args[1]));
    length = fn.select(fn.icmp('ugt', n, constInt(i64, size)), constInt(i64, size), n);
  }
  if (size > 0) probeRead(g, fn.byteOffset(out, 1), length, toI64(fn, src), spaceOf(g, src));
  fn.store(fn.intCast(length, i8, false), out, 1);
  return { type, ir: out };
}

/** ntop([af,] addr): the family, then the address's 4 or 16 bytes. */
function ntop(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const out = temp(fn, type);
  memset(fn, out, 24);
  const [first, second] = c.args;
  const addr = g.expr(second ?? first!);
  let family: IrValue;
  if (isAggregate(addr.type)) {
    const n = sizeOf(addr.type) >= 16 ? 16 : 4;
    memcpy(fn, fn.byteOffset(out, 8), addr.ir, n);
    family = constInt(i64, n === 16 ? 10 : 2);
  } else {
    fn.store(fn.intCast(toI64(fn, addr), i32, false), fn.byteOffset(out, 8, i32), 4);
    family = constInt(i64, 2);
  }
  if (second) family = toI64(fn, g.expr(first!));
  fn.store(family, fn.bitcast(out, ptr(i64)), 8);
  return { type, ir: out };
}

/** macaddr(addr): "AA:BB:CC:DD:EE:FF", formatted in the probe. */
function macaddr(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const raw = temp(fn, { kind: 'string', size: 8 });
  const src = g.expr(c.args[0]!);
  if (isAggregate(src.type)) memcpy(fn, raw, src.ir, 6);
  else probeRead(g, raw, 6, toI64(fn, src), spaceOf(g, src));
  const out = temp(fn, type);
  memset(fn, out, 18);
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

/** bswap(n): the bytes of the value reversed at its own width (bpftrace's bswap). */
function bswap(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  if (type.kind !== 'int' || type.bits === 8) return normalize(fn, toI64(fn, g.expr(c.args[0]!)), type);
  const narrow = fn.intCast(toI64(fn, g.expr(c.args[0]!)), intType(type.bits), false);
  const swapped = fn.call(intType(type.bits), `llvm.bswap.i${type.bits}`, [narrow])!;
  g.module.declare(`declare i${type.bits} @llvm.bswap.i${type.bits}(i${type.bits})`);
  return { type, ir: fn.intCast(swapped, i64, type.signed) };
}

/**
 * Byte-wise comparison up to the first NUL (and at most `n` bytes), as bpftrace compares
 * strings; bytes past the end of the shorter string count as NUL.
 */
export function stringsEqual(g: ProbeContext, a: Val, b: Val, n = Infinity): IrValue {
  const { fn } = g;
  const result = fn.scratch(i1, 1);
  fn.store(constInt(i1, 1), result, 1);
  const differ = fn.label('strndiff');
  const done = fn.label('strndone');
  // Past the shorter string the other is compared with its NUL: that byte settles it, so the
  // compare reads no further (a longer unrolled chain made LLVM split a string variable into a
  // value per byte, live across the branch: 64 spilled values for `$s == "ab"`, over the stack).
  const shorter = Math.min(sizeOf(a.type), sizeOf(b.type));
  const limit = Math.min(n, shorter + 1, Math.max(sizeOf(a.type), sizeOf(b.type)));
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
function stringContains(g: ProbeContext, hay: Val, needle: Val): IrValue {
  const { fn } = g;
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
function join(g: ProbeContext, c: Call): void {
  const { fn } = g;
  const spec = g.program.eventOf.get(c)!;
  const argvValue = g.expr(c.args[0]!);
  const argv = toI64(fn, argvValue);
  const space = spaceOf(g, argvValue);
  const slot = fn.scratch(i64, 8);
  emitEvent(g, spec, (record) => {
    for (let i = 0; i < JOIN_ARGS; i++) fn.store(constInt(i8, 0), fn.byteOffset(record, 8 + i * JOIN_ARG_SIZE), 1);
    const end = fn.label('joinend');
    for (let i = 0; i < JOIN_ARGS; i++) {
      fn.store(constInt(i64, 0), slot, 8);
      probeRead(g, fn.bitcast(slot, i8p), 8, fn.binary('add', argv, constInt(i64, i * 8)), space, { reportEach: false });
      const p = fn.load(slot, 8);
      const read = fn.label('joinread');
      fn.condBr(fn.icmp('eq', p, constInt(i64, 0)), end, read);
      fn.place(read);
      probeRead(g, fn.byteOffset(record, 8 + i * JOIN_ARG_SIZE), JOIN_ARG_SIZE, p, space, { string: true, reportEach: false });
    }
    fn.br(end);
    fn.place(end);
  }, false);
}

function callConstant(g: ProbeContext, c: Call): bigint | Uint8Array | undefined {
  return g.program.constants.get(c);
}

/**
 * delete(@h[k]) of a keyed hist/lhist/tseries: every bucket of the key (each is an entry of its
 * own, the bucket's number after the key), in a loop the verifier bounds by the bucket count.
 */
function deleteBuckets(g: ProbeContext, spec: MapSpec, key: IrValue): void {
  const { fn } = g;
  const bucketAt = fn.byteOffset(key, alignUp(sizeOf(spec.keyType!), 8), i64);
  const index = fn.scratch(i64, 8);
  fn.store(constInt(i64, 0), index, 8);
  const head = fn.label('delbucket');
  const body = fn.label('delbucketbody');
  const done = fn.label('delbucketsdone');
  fn.br(head);
  fn.place(head);
  const i = fn.load(index, 8);
  fn.condBr(fn.icmp('ult', i, constInt(i64, bucketCount(spec))), body, done);
  fn.place(body);
  fn.store(i, bucketAt, 8);
  fn.callHelper(Helper.mapDeleteElem, i64, [mapPointer(g, spec.name), key]);
  fn.store(fn.binary('add', i, constInt(i64, 1)), index, 8);
  fn.br(head);
  fn.place(done);
}
