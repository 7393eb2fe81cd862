// Code that reads and writes the script's maps: a map's address (a relocation, maps.ts), keys
// built on the stack, lookups and updates (a refused update is counted), and the values only a
// run knows (RUN_VALUES_MAP).
import type { Expr, MapRef } from '../model/ast.js';
import { sizeOf, tupleLayout, type Type } from '../model/types.js';
import type { MapSpec } from '../model/program.js';
import { arrayType, constInt, i32, i64, i8, i8p, type IrValue, ptr } from './ir/builder.js';
import { Helper, mapFullCounter, RUN_VALUE_SLOTS, RUN_VALUES_MAP } from '../model/object-layout.js';
import { memcpy, memset, storeInto, temp } from './values.js';
import type { ProbeContext } from './context.js';
import type { MapDefinition } from './maps.js';
import { noteFailure, reportHelperError } from './failures.js';

export function mapSpec(g: ProbeContext, name: string): MapSpec {
  return g.program.maps.get(name)!;
}

/** The address of a script map's global (a relocation libbpf resolves at load). */
export function mapPointer(g: ProbeContext, name: string): IrValue {
  const symbol = g.maps.symbols.get(name);
  if (symbol === undefined) throw new Error(`internal error: no map ${name}`);
  return g.maps.address(symbol);
}

/**
 * A value only the run knows (RUN_START_NS, RUN_CPID), which the runtime writes into
 * RUN_VALUES_MAP before attaching: the object stays the same from run to run.
 */
export function runValue(g: ProbeContext, slot: number): IrValue {
  const { fn } = g;
  const map = g.maps.ref({ symbol: RUN_VALUES_MAP, type: 'array', keySize: 4, valueSize: 8, maxEntries: RUN_VALUE_SLOTS });
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
export function mapKey(g: ProbeContext, spec: MapSpec, ref: MapRef | undefined, keyExprs?: readonly Expr[]): IrValue {
  const exprs = keyExprs ?? ref?.keys ?? [];
  const only = spec.keyType && exprs.length === 1 ? g.expr(exprs[0]!) : undefined;
  // A whole key that str() or comm has just written is the key as it is: no copy.
  if (only && g.freshTemps.has(only.ir.ref) && sizeOf(only.type) === spec.keySize) return only.ir;
  const key = g.fn.scratch(arrayType(spec.keySize, i8));
  const bytes = g.fn.bitcast(key, i8p);
  memset(g.fn, bytes, spec.keySize);
  if (spec.keyType && exprs.length > 0) {
    const elements = exprs.length === 1 ? [spec.keyType] : spec.keyType.kind === 'tuple' ? spec.keyType.elements : [spec.keyType];
    const layout = exprs.length === 1 ? { offsets: [0] } : tupleLayout(elements);
    exprs.forEach((e, i) => {
      const dest = g.fn.byteOffset(bytes, layout.offsets[i]!);
      if (only) return storeInto(g.fn, dest, elements[i]!, only);
      // Each part's temporaries end once it is in the key: the next part's may reuse their stack
      // (`@[probe, func, comm]` needs the key's bytes and the largest part's, not all of them).
      g.fn.beginScope();
      storeInto(g.fn, dest, elements[i]!, g.expr(e));
      g.fn.endScope();
    });
  }
  return bytes;
}

export function lookup(g: ProbeContext, spec: MapSpec, key: IrValue): IrValue {
  const value = g.fn.callHelper(Helper.mapLookupElem, i8p, [mapPointer(g, spec.name), key]);
  g.fn.assumeAligned(value, 8); // the kernel keeps map values 8-byte aligned
  return value;
}

/** Writes `value` at `key`; a refused update is counted (the map is full) and reported with -k. */
export function mapUpdate(g: ProbeContext, spec: MapSpec, key: IrValue, value: IrValue): void {
  const rc = g.fn.callHelper(Helper.mapUpdateElem, i64, [
    mapPointer(g, spec.name), key, g.fn.bitcast(value, i8p), constInt(i64, 0),
  ]);
  reportHelperError(g, Helper.mapUpdateElem, rc);
  // A full map is counted, never silent; without a branch here (see noteFailure). A map without
  // a key cannot be full: it is sized for all its entries (its one key, or each of its buckets),
  // preallocated, and the kernel replaces an entry in place or from its spare elements.
  if (!spec.keyType && spec.preallocate) return;
  noteFailure(g, rc, { counter: mapFullCounter(g.program.maps, spec.name) });
}

/** A temporary the caller writes whole (see ProbeContext.freshTemps). */
export function freshTemp(g: ProbeContext, t: Type): IrValue {
  const out = temp(g.fn, t);
  g.freshTemps.add(out.ref);
  return out;
}

/**
 * A string of `size` bytes from an array map of names the run fills: `bytes` at most, from byte
 * `offset` of entry `index` (an integer, taken as u32); zeroes if the entry is not there. `probe`
 * of a syscall dispatch program and `func`/`probe` of a multi-uprobe program.
 */
export function nameFromArrayMap(g: ProbeContext, map: MapDefinition, index: IrValue, offset: number, bytes: number, size: number): IrValue {
  const { fn } = g;
  const out = temp(fn, { kind: 'string', size });
  memset(fn, out, size);
  const names = g.maps.ref(map);
  fn.beginScope();
  const key = fn.scratch(i32, 4);
  fn.store(fn.intCast(index, i32, false), key, 4);
  const entry = fn.callHelper(Helper.mapLookupElem, i8p, [names, fn.bitcast(key, i8p)]);
  // Map values are 8-byte aligned: the copy moves 8 bytes at a time. Byte by byte, LLVM loaded
  // every byte before storing any, and a 128-byte name spilled past the 512-byte stack.
  fn.assumeAligned(entry, 8);
  fn.endScope();
  const found = fn.label('name');
  const done = fn.label('named');
  fn.condBr(fn.icmp('ne', entry, { type: i8p, ref: 'null' }), found, done);
  fn.place(found);
  memcpy(fn, out, offset === 0 ? entry : fn.byteOffset(entry, offset), Math.min(size, bytes));
  fn.br(done);
  fn.place(done);
  return out;
}
