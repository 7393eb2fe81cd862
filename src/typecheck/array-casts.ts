// Casts between integers and integer arrays (bpftrace 0.2x): `(uint8[8])12345`, `(uint8[])$x`
// (the length from the value's size), `(uint64)$bytes`. Both sides have the same size, as
// bpftrace requires; the bytes are the integer's, in memory order (little-endian here).
import type { Cast } from '../model/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import { INT64, sizeOf, typeName, type Type } from '../model/types.js';
import type { CheckContext } from './context.js';

const INTEGER = /^(u?)int(8|16|32|64)$/;

/** The type of a cast to or from an integer array (reported when it is not one). */
export function arrayCast(c: CheckContext, e: Cast, from: Type): Type {
  const m = INTEGER.exec(e.type.name);
  const toArray = e.type.arrayLength !== undefined || e.type.unsizedArray === true;
  if (!m || e.type.pointerDepth > 0) return refuse(c, e, from, 'integer arrays cast only to and from integers');
  const element: Type = { kind: 'int', bits: Number(m[2]) as 8, signed: m[1] === '' };
  if (toArray) {
    if (from.kind !== 'int') return refuse(c, e, from, 'an integer array is cast from an integer');
    const fromBytes = sizeOf(from);
    const length = e.type.unsizedArray ? fromBytes / sizeOf(element) : e.type.arrayLength!;
    const to: Type = { kind: 'array', element, length: Math.max(1, Math.floor(length)) };
    if (sizeOf(to) !== fromBytes) return refuse(c, e, from, `both sides must have the same size: ${fromBytes} and ${sizeOf(to)} bytes`);
    return to;
  }
  if (from.kind !== 'array' || from.element.kind !== 'int') return refuse(c, e, from, 'an integer is cast from an integer array');
  if (sizeOf(from) !== sizeOf(element)) return refuse(c, e, from, `both sides must have the same size: ${sizeOf(from)} and ${sizeOf(element)} bytes`);
  return element;
}

function refuse(c: CheckContext, e: Cast, from: Type, why: string): Type {
  const to = `${e.type.name}${e.type.unsizedArray ? '[]' : e.type.arrayLength !== undefined ? `[${e.type.arrayLength}]` : ''}`;
  c.report(error('E_TYPE', e.span, `cannot cast ${typeName(from)} to ${to}`, why));
  return INT64;
}
