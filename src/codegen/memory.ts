// Reads of probed memory, each with the helper of its address space (as bpftrace's): user
// memory in uprobes and through user pointers, kernel memory elsewhere; a read's failure is
// counted at its site (failures.ts).
import type { Span } from '../model/span.js';
import { inTracedProcess } from '../model/providers.js';
import { sizeOf, type Type } from '../model/types.js';
import { constInt, i32, i64, i8p, intType, type IrValue } from './ir/builder.js';
import { Helper, LARGE_READ_BYTES } from '../model/object-layout.js';
import { type AddressSpace, isAggregate, memset, temp, type Val } from './values.js';
import type { ProbeContext } from './context.js';
import type { ProgramScratch } from './maps.js';
import { noteFailure, reportHelperError } from './failures.js';


const READ_HELPERS: Record<AddressSpace, { bytes: number; string: number }> = {
  user: { bytes: Helper.probeReadUser, string: Helper.probeReadUserStr },
  kernel: { bytes: Helper.probeReadKernel, string: Helper.probeReadKernelStr },
  // An integer used as an address outside uprobes: bpf_probe_read finds out (x86).
  unknown: { bytes: Helper.probeRead, string: Helper.probeReadStr },
};

/** Where the memory a value points to lives: a pointer's own mark, else the probe's kind. */
export function spaceOf(g: ProbeContext, v: Val): AddressSpace {
  if (v.type.kind === 'pointer') return pointerSpace(v.type);
  return inTracedProcess(g.targets[0]!.provider) ? 'user' : 'unknown';
}

/** Where a pointer (or a record reached through one) points, from its type's mark. */
export function pointerSpace(t: Type): AddressSpace {
  if (t.kind !== 'pointer' && t.kind !== 'record') return 'kernel';
  return t.userSpace ? 'user' : t.anySpace ? 'unknown' : 'kernel';
}


/**
 * Reads `size` bytes (a string up to `size` bytes with `string`) at `address` (i64) into `dest`
 * with the helper for the address space. A failure is never silent: it is counted at its site
 * (the runtime reports the count), and with -kk also reported as it happens (unless
 * `reportEach` is false: join()'s reads, whose branches would fill the verifier). Returns the rc.
 */
export function probeRead(g: ProbeContext, dest: IrValue, size: number | IrValue, address: IrValue, space: AddressSpace,
  { span = g.site, string = false, reportEach = true }: { span?: Span; string?: boolean; reportEach?: boolean } = {}): IrValue {
  const { fn } = g;
  const helper = string ? READ_HELPERS[space].string : READ_HELPERS[space].bytes;
  const n = typeof size === 'number' ? constInt(i32, size) : fn.intCast(size, i32, false);
  const rc = fn.callHelper(helper, i64, [dest, n, fn.intToPtr(address, i8p)]);
  if (span) noteFailure(g, rc, { read: g.readSites.slot(span, helper) });
  if (reportEach) reportHelperError(g, helper, rc, true, span);
  return rc;
}

/** Reads a value of `t` at `addr` (i64) in `space` with its bpf_probe_read helper. */
export function readMemory(g: ProbeContext, addr: IrValue, t: Type, space: AddressSpace, resultType: Type = t, bits?: { offset: number; width: number }, span = g.site): Val {
  const { fn } = g;
  if (isAggregate(t)) {
    const size = sizeOf(t);
    let out: IrValue;
    if (size >= LARGE_READ_BYTES) {
      out = scratchBytes(g, g.maps.scratch, size); // a failed read leaves zeros: the helper clears its destination
    } else {
      out = temp(fn, t);
      memset(fn, out, size);
    }
    probeRead(g, out, size, addr, space, { span });
    return { type: resultType, ir: out };
  }
  const width = t.kind === 'int' ? t.bits / 8 : 8;
  const bytes = bits ? Math.min(8, [1, 2, 4, 8].find((b) => b * 8 >= bits.offset + bits.width) ?? 8) : width;
  const slot = fn.scratch(i64, 8);
  fn.store(constInt(i64, 0), slot, 8);
  probeRead(g, fn.bitcast(slot, i8p), bytes, addr, space, { span });
  let v = fn.load(slot, 8);
  if (bits) {
    v = fn.binary('lshr', v, constInt(i64, bits.offset));
    v = fn.binary('and', v, constInt(i64, (1n << BigInt(bits.width)) - 1n));
    return { type: resultType, ir: v };
  }
  if (t.kind === 'int' && t.bits < 64) v = fn.intCast(fn.intCast(v, intType(t.bits), false), i64, t.signed);
  return { type: resultType, ir: v };
}

/** Reads `bytes` (≤ 8) of kernel memory at address + offset, zero-extended to i64. */
export function readKernel(g: ProbeContext, address: IrValue, offset: number, bytes: number): IrValue {
  const { fn } = g;
  fn.beginScope();
  const slot = fn.scratch(i64, 8);
  fn.store(constInt(i64, 0), slot, 8);
  const source = fn.intToPtr(fn.binary('add', address, constInt(i64, offset)), i8p);
  fn.callHelper(Helper.probeReadKernel, i64, [fn.bitcast(slot, i8p), constInt(i32, bytes), source]);
  const value = fn.load(slot, 8);
  fn.endScope();
  return value;
}

/**
 * `size` bytes of the program's own entry of a ProgramScratch map (SCRATCH_MAP: a struct or array
 * read whole; STACK_BUFFER_MAP: a stack). The entry always exists: a lookup that found none
 * returns from the program.
 */
export function scratchBytes(g: ProbeContext, scratch: ProgramScratch, size: number): IrValue {
  const { fn } = g;
  const { slot, offset } = scratch.take(fn.name, size);
  const key = fn.scratch(i32, 4);
  fn.store(constInt(i32, slot), key, 4);
  const entry = fn.callHelper(Helper.mapLookupElem, i8p, [scratch.address(), fn.bitcast(key, i8p)]);
  const missing = fn.label('noscratch');
  const found = fn.label('scratch');
  fn.condBr(fn.icmp('eq', entry, { type: i8p, ref: 'null' }), missing, found);
  fn.place(missing);
  fn.ret(constInt(i64, 0));
  fn.place(found);
  fn.assumeAligned(entry, 8); // map values are 8-byte aligned; regions are multiples of 8
  return fn.byteOffset(entry, offset);
}
