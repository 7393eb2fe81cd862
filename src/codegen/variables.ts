// Scratch variables ($x): a stack slot per variable, made on first use with its declared type and
// zeroed at the probe's start, and assignments to a variable or a map entry.
import { mapName, type MapRef, type Variable, variableKey } from '../model/ast.js';
import { int, type IntBits, sameType, sizeOf, type Type } from '../model/types.js';
import { i64, type IrValue, ptr } from './ir/builder.js';
import { irStorage, isAggregate, normalize, storeInto, temp, toI64, type Val } from './values.js';
import type { ProbeContext } from './context.js';
import { mapKey, mapSpec, mapUpdate } from './map-ops.js';

/** The stack slot of a variable (by variableKey), made on first use with its type in the probe. */
export function variableSlot(g: ProbeContext, key: string, fallback: Type): { type: Type; slot: IrValue } {
  let v = g.vars.get(key);
  if (!v) {
    const declared = g.program.variables.get(g.probe.probe)?.get(key)?.type ?? fallback;
    // Lives for the whole probe, zero until assigned, as in bpftrace: a variable first assigned in
    // a branch that did not run reads 0 after it (not what LLVM makes of memory never written).
    v = { type: declared, slot: g.fn.zeroedAlloca(irStorage(declared)) };
    g.vars.set(key, v);
  }
  return v;
}

export function storeVariable(g: ProbeContext, key: string, value: Val): void {
  const v = variableSlot(g, key, value.type);
  if (isAggregate(v.type)) storeInto(g.fn, v.slot, v.type, value);
  else g.fn.store(normalize(g.fn, toI64(g.fn, value), v.type).ir, g.fn.bitcast(v.slot, ptr(i64)), 8);
}

/** `$x = v`, `@m[k] = v` (and `++`, `+=`, ...): stores the value in the variable or the map entry. */
export function assignTo(g: ProbeContext, target: MapRef | Variable, value: Val): void {
  if (target.kind === 'Variable') {
    storeVariable(g, variableKey(target), value);
    return;
  }
  const spec = mapSpec(g, mapName(target));
  const key = mapKey(g, spec, target);
  // A struct or array read whole is already the value's bytes: updated from where it was read
  // (a second copy of a large struct would not fit the stack).
  if (sameLayout(value.type, spec.valueType)) {
    mapUpdate(g, spec, key, value.ir);
    return;
  }
  const slot = temp(g.fn, spec.valueType);
  // Converted to the map's integer width (then kept in 64 bits by the map's sign).
  const stored = spec.intBits !== undefined && spec.valueType.kind === 'int'
    ? normalize(g.fn, toI64(g.fn, value), int(spec.intBits as IntBits, spec.valueType.signed))
    : value;
  storeInto(g.fn, slot, spec.valueType, stored);
  mapUpdate(g, spec, key, slot);
}

/** Whether a value of `a` is stored as a value of `b` byte for byte: a record or array of one type. */
function sameLayout(a: Type, b: Type): boolean {
  return (a.kind === 'record' || a.kind === 'array') && sameType(a, b) && sizeOf(a) === sizeOf(b);
}
