// Values in generated code and the stack memory that holds them: conversions between a value's
// IR and its type, zeroed temporaries, copies, stores at a type's width. Each function takes
// only the FunctionBuilder it writes into.
import type { Expr } from '../model/ast.js';
import { sizeOf, tupleLayout, type Type } from '../model/types.js';
import { stringBytes } from '../model/strings.js';
import { BUILTIN_VARIABLES } from '../model/builtins.js';
import { Helper } from '../model/object-layout.js';
import { arrayType, constInt, type FunctionBuilder, i32, i64, i8, i8p, intType, type IrValue, ptr } from './ir/builder.js';

/** Where probed memory lives, which decides the read helper (as bpftrace's address spaces). */
export type AddressSpace = 'user' | 'kernel' | 'unknown';

/** A value in generated code: an integer in a register, or a pointer to bytes of `type`. */
export interface Val {
  readonly type: Type;
  /** Integers: the register (i64 unless the type is narrower); aggregates: an i8* to the bytes. */
  readonly ir: IrValue;
  /** Set for a struct or array still in probed memory: `ir` is its address (i64), not read yet. */
  readonly inMemory?: { readonly space: AddressSpace };
}

/** Types kept as bytes on the stack (the value is an i8* to them), not in a register. */
export function isAggregate(t: Type): boolean {
  return t.kind === 'string' || t.kind === 'tuple' || t.kind === 'record' || t.kind === 'buffer' || t.kind === 'array'
    || t.kind === 'usym' || t.kind === 'ustack' || t.kind === 'inet';
}

/** Types kept as one 64-bit integer (addresses, stack ids, uids, timestamps). */
function isScalar64(t: Type): boolean {
  return t.kind === 'ksym' || t.kind === 'kstack' || t.kind === 'username' || t.kind === 'timestamp' || t.kind === 'strerror' || t.kind === 'syscall_name' || t.kind === 'signal_name' || t.kind === 'enum_name' || t.kind === 'cgroup_path';
}

/** Bytes of a variable's stack slot (integers are kept as i64). */
export function slotSize(t: Type): number {
  return isAggregate(t) ? Math.max(1, sizeOf(t)) : 8;
}

/** The IR type a variable of `t` is kept in. */
export function irStorage(t: Type): string {
  return isAggregate(t) ? arrayType(Math.max(1, sizeOf(t)), i8) : i64;
}

/** The value of an integer literal, else undefined (e.g. the count of an unroll). */
export function constantOf(e: Expr): bigint | undefined {
  return e.kind === 'IntLiteral' ? e.value : undefined;
}

export function truthy(fn: FunctionBuilder, v: Val): IrValue {
  return fn.icmp('ne', toI64(fn, v), constInt(i64, 0));
}

/** A 64-bit value cut to an integer type's width and extended back by its signedness. */
export function fitToType(fn: FunctionBuilder, v: IrValue, type: Type): IrValue {
  if (type.kind !== 'int') return v;
  return fn.intCast(fn.intCast(v, intType(type.bits), false), i64, type.signed);
}

export function toI64(fn: FunctionBuilder, v: Val): IrValue {
  if (v.ir.type === i64) return v.ir;
  if (v.ir.type.endsWith('*')) return fn.ptrToInt(v.ir);
  return fn.intCast(v.ir, i64, v.type.kind === 'int' && v.type.signed);
}

export function loadInt(fn: FunctionBuilder, p: IrValue, t: Type): IrValue {
  const bits = t.kind === 'int' ? t.bits : 64;
  const v = fn.load(fn.bitcast(p, ptr(intType(bits))));
  return fn.intCast(v, i64, t.kind === 'int' && t.signed);
}

/** A zeroed stack buffer for a value of `t` (as i8*). */
export function temp(fn: FunctionBuilder, t: Type): IrValue {
  const slot = fn.scratch(arrayType(Math.max(1, sizeOf(t)), i8));
  return fn.bitcast(slot, i8p);
}

/**
 * Stores `v` at `dest` as type `t`: integers at t's width, strings copied (truncated or
 * zero-padded to t's size), tuples element by element (from `elements` when building one).
 */
export function storeInto(fn: FunctionBuilder, dest: IrValue, t: Type, v: Val, elements?: readonly Val[]): void {
  if (t.kind === 'int' || t.kind === 'pointer' || t.kind === 'bool' || isScalar64(t)) {
    const bits = t.kind === 'int' ? t.bits : 64;
    fn.store(fn.intCast(toI64(fn, v), intType(bits), false), fn.bitcast(dest, ptr(intType(bits))));
    return;
  }
  if (t.kind === 'tuple') {
    const layout = tupleLayout(t.elements);
    const srcType = v.type.kind === 'tuple' ? v.type : t;
    const srcLayout = tupleLayout(srcType.elements);
    t.elements.forEach((et, i) => {
      // A record's field comes from the source's field of that name (it may have another order).
      const j = t.names && srcType.names ? srcType.names.indexOf(t.names[i]!) : i;
      const part = elements?.[j] ?? elementOf(fn, v, srcType.elements[j]!, srcLayout.offsets[j]!);
      storeInto(fn, fn.byteOffset(dest, layout.offsets[i]!), et, part);
    });
    return;
  }
  const destSize = sizeOf(t);
  const srcSize = sizeOf(v.type);
  if (destSize > srcSize) memset(fn, dest, destSize);
  memcpy(fn, dest, v.ir, Math.min(destSize, srcSize));
}

function elementOf(fn: FunctionBuilder, tuple: Val, t: Type, offset: number): Val {
  const p = fn.byteOffset(tuple.ir, offset);
  return isAggregate(t) ? { type: t, ir: p } : { type: t, ir: loadInt(fn, p, t) };
}

export function stringConstant(fn: FunctionBuilder, text: string | Uint8Array, size: number): IrValue {
  const bytes = Buffer.alloc(size);
  (typeof text === 'string' ? stringBytes(text) : Buffer.from(text)).copy(bytes, 0, 0, size - 1);
  const out = temp(fn, { kind: 'string', size });
  // Store 8 bytes at a time: fewer instructions than a byte-wise copy.
  for (let off = 0; off < size; off += 8) {
    if (off + 8 <= size) {
      fn.store(constInt(i64, bytes.readBigInt64LE(off)), fn.byteOffset(out, off, i64));
    } else {
      for (let i = off; i < size; i++) fn.store(constInt(i8, bytes[i]!), fn.byteOffset(out, i));
    }
  }
  return out;
}

export function memset(fn: FunctionBuilder, dest: IrValue, size: number): void {
  fn.memset(dest, size);
}

/** Bytes past which LLVM's BPF backend cannot copy inline (it would call memcpy, which BPF lacks). */
const INLINE_COPY_MAX = 512;

export function memcpy(fn: FunctionBuilder, dest: IrValue, src: IrValue, size: number): void {
  if (size > INLINE_COPY_MAX) {
    // A large struct read whole (in scratch space, not on the stack): the kernel copies it.
    fn.callHelper(Helper.probeReadKernel, i64, [fn.bitcast(dest, i8p), constInt(i32, size), fn.bitcast(src, i8p)]);
  } else if (size > 0) {
    fn.memcpy(dest, src, size);
  }
}

/**
 * Copies `size` bytes at `base + offset` of the probe's context (a tracepoint's args) to `dest`,
 * as loads as wide as the offset's alignment allows, each from its own address off `base`. Not a
 * memcpy: its source is one register, and once the optimizer shares the address of a field read
 * twice across a branch that register is the context moved, which the verifier refuses
 * ("dereference of modified ctx ptr"); a load's address is folded into the load. Volatile, so
 * that the optimizer does not merge the loads of two branches into one from a chosen address
 * (`family == 2 ? ntop(args->daddr) : ntop(args->daddr_v6)`), which is the same refusal.
 */
export function copyFromContext(fn: FunctionBuilder, dest: IrValue, base: IrValue, offset: number, size: number): void {
  for (let k = 0; k < size;) {
    const width = [8, 4, 2, 1].find((w) => (offset + k) % w === 0 && k + w <= size)!;
    const t = intType(width * 8);
    fn.store(fn.loadVolatile(fn.bitcast(fn.byteOffset(base, offset + k), ptr(t))), fn.bitcast(fn.byteOffset(dest, k), ptr(t)));
    k += width;
  }
}

/** Truncates an i64 to the type's width and extends it back with the type's sign. */
export function normalize(fn: FunctionBuilder, v: IrValue, type: Type): Val {
  if (type.kind !== 'int' || type.bits === 64) return { type, ir: v };
  return { type, ir: fn.intCast(fn.intCast(v, intType(type.bits), false), i64, type.signed) };
}

/** The bytes of `comm` (TASK_COMM_LEN), which bpf_get_current_comm writes whole. */
export const COMM_BYTES = sizeOf(BUILTIN_VARIABLES.comm.type);

/** The current task's name written at `into`: no zeroing first, the helper writes all of it (zero-padded, or zeros on error). */
export function writeComm(fn: FunctionBuilder, into: IrValue): void {
  fn.callHelper(Helper.getCurrentComm, i64, [into, constInt(i64, COMM_BYTES)]);
}
