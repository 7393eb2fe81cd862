// Expressions: literals, variables, map reads, operators, tuples, casts, struct members and
// pointer reads in probed memory, tracepoint fields; calls go to functions.ts, builtin
// variables to builtins.ts.
import { type Expr, mapName, type MapRef, variableKey } from '../model/ast.js';
import { INT64, sizeOf, tupleLayout, type Type, UINT64 } from '../model/types.js';
import { constInt, type FunctionBuilder, i1, i64, i8p, intType, type IrValue, ptr } from './ir/builder.js';
import { type AddressSpace, copyFromContext, fitToType, isAggregate, loadInt, memcpy, memset, normalize, storeInto, stringConstant, temp, toI64, truthy, type Val } from './values.js';
import type { ProbeContext } from './context.js';
import { pointerSpace, readMemory } from './memory.js';
import { lookup, mapKey, mapSpec } from './map-ops.js';
import { assignTo } from './variables.js';
import { aggregationValue } from './aggregations.js';
import { syscallField } from './syscalls.js';
import { builtin, ctxU64 } from './builtins.js';
import { call, stringsEqual } from './functions.js';

/** Bytes between consecutive elements behind a pointer (`p[i]`); records use their BTF size. */
function elementSize(t: Type): number {
  return t.kind === 'none' ? 1 : Math.max(1, sizeOf(t));
}

/** Compiles an expression: its value, of the type the checker gave it. */
export function expr(g: ProbeContext, e: Expr): Val {
  const type = g.program.types.get(e) ?? INT64;
  const { fn } = g;
  switch (e.kind) {
    case 'IntLiteral':
      return { type, ir: constInt(i64, e.value) };
    case 'Identifier':
      return { type, ir: constInt(i64, integerConstant(g, e)) };
    case 'BoolLiteral':
      return { type, ir: constInt(i64, e.value ? 1 : 0) };
    case 'StringLiteral':
      return { type, ir: stringConstant(fn, e.value, sizeOf(type)) };
    case 'PositionalParam':
      return { type, ir: constInt(i64, integerConstant(g, e)) };
    case 'Builtin':
      return builtin(g, e.name, type);
    case 'Variable': {
      const v = g.vars.get(variableKey(e));
      if (!v) return { type, ir: constInt(i64, 0) };
      if (isAggregate(v.type)) return { type: v.type, ir: v.slot };
      return { type: v.type, ir: fn.load(v.slot, 8) };
    }
    case 'MapRef':
      return mapRead(g, e);
    case 'Call': {
      const outer = g.site;
      g.site = e.span;
      const v = call(g, e, type);
      g.site = outer;
      return v;
    }
    case 'Unary': {
      if (e.op === '*') return readPlace(g, e, type) ?? { type, ir: constInt(i64, 0) };
      const v = g.expr(e.operand);
      switch (e.op) {
        // An unsigned operand is negated at its own width, as bpftrace 0.17 does: -(uint16)1 is
        // 65535. A signed one in 64 bits, as C (0.17 printed -(int8)5 as 251; see README).
        case '-': {
          const negated = fn.binary('sub', constInt(i64, 0), toI64(fn, v));
          return { type, ir: v.type.kind === 'int' && !v.type.signed ? fitToType(fn, negated, v.type) : negated };
        }
        // ~ keeps its operand's type: ~(uint8)0 is 255, not a 64-bit -1.
        case '~': return { type, ir: fitToType(fn, fn.binary('xor', toI64(fn, v), constInt(i64, -1)), type) };
        case '!': return { type, ir: fn.intCast(fn.icmp('eq', toI64(fn, v), constInt(i64, 0)), i64, false) };
        default: return { type, ir: toI64(fn, v) };
      }
    }
    case 'IncDec': {
      const before = g.expr(e.target);
      const after = arith(g, e.op === '++' ? '+' : '-', before, { type: INT64, ir: constInt(i64, 1) });
      assignTo(g, e.target, after);
      return e.prefix ? after : before;
    }
    case 'Binary':
      return binaryExpr(g, e, type);
    case 'Ternary': {
      // if comptime as a value: decided when the program was compiled.
      if (e.comptime) return g.expr(g.program.constants.get(e.condition) !== 0n ? e.then : e.otherwise);
      const then = fn.label('tthen');
      const otherwise = fn.label('telse');
      const done = fn.label('tdone');
      const tested = g.expr(e.condition);
      const condition = truthy(fn, tested);
      // `a ?: b`: the value tested is the result (see Ternary.then).
      const thenValue = () => (e.then === e.condition ? tested : g.expr(e.then));
      if (isAggregate(type)) {
        // The result's slot is made before the branches, so that both reach it.
        const out = temp(fn, type);
        memset(fn, out, sizeOf(type));
        fn.condBr(condition, then, otherwise);
        fn.place(then);
        storeInto(fn, out, type, thenValue());
        fn.br(done);
        fn.place(otherwise);
        storeInto(fn, out, type, g.expr(e.otherwise));
        fn.br(done);
        fn.place(done);
        return { type, ir: out };
      }
      fn.condBr(condition, then, otherwise);
      fn.place(then);
      const a = toI64(fn, thenValue());
      const thenEnd = fn.label('tthenend');
      fn.br(thenEnd);
      fn.place(thenEnd);
      fn.br(done);
      fn.place(otherwise);
      const b = toI64(fn, g.expr(e.otherwise));
      const elseEnd = fn.label('telseend');
      fn.br(elseEnd);
      fn.place(elseEnd);
      fn.br(done);
      fn.place(done);
      return { type, ir: fn.phi(i64, [[a, thenEnd], [b, elseEnd]]) };
    }
    case 'FieldAccess': {
      const record = g.program.types.get(e.object);
      if (record?.kind === 'tuple') return tupleElement(g, e.object, record.names?.indexOf(e.field) ?? 0, type);
      return fieldAccess(g, e, type);
    }
    case 'TupleExpr': {
      const out = temp(fn, type);
      memset(fn, out, sizeOf(type));
      storeInto(fn, out, type, { type, ir: out }, e.elements.map((x) => g.expr(x)));
      return { type, ir: out };
    }
    case 'TupleIndex':
      return tupleElement(g, e.tuple, e.index, type);
    case 'Cast': {
      const operand = g.expr(e.operand);
      // Integer <-> integer array: the same bytes (the checker made both sides one size).
      if (operand.type.kind === 'array') return { type, ir: loadInt(fn, operand.ir, type) };
      // A wider type keeps the value (extended by the operand's sign, as C and bpftrace since 0.18:
      // 0.17 extended by the target's, so (int32)(uint8)200 was -56 there; see README).
      if (type.kind !== 'array') return { type, ir: fitToType(fn, toI64(fn, operand), type) };
      const out = temp(fn, type);
      const bits = sizeOf(type) * 8;
      fn.store(fn.intCast(toI64(fn, operand), intType(bits), false), fn.bitcast(out, ptr(intType(bits))), 1);
      return { type, ir: out };
    }
    case 'Index': {
      if (g.program.types.get(e.object)?.kind === 'tuple') return tupleElement(g, e.object, Number(integerConstant(g, e.index)), type);
      const fromMemory = readPlace(g, e, type);
      if (fromMemory) return fromMemory;
      // A string or an integer array on the stack (comm, a variable): an element of it, 0 past
      // its end (bpftrace 0.25 indexes strings with any integer).
      const s = g.expr(e.object);
      const width = s.type.kind === 'string' ? 1 : s.type.kind === 'array' && s.type.element.kind === 'int' ? sizeOf(s.type.element) : 0;
      if (width === 0) return { type, ir: constInt(i64, 0) };
      const at = toI64(fn, g.expr(e.index));
      const byte = temp(fn, INT64);
      fn.store(constInt(i64, 0), fn.bitcast(byte, ptr(i64)), 8);
      const inside = fn.label('strindex');
      const done = fn.label('strindexed');
      fn.condBr(fn.icmp('ult', at, constInt(i64, sizeOf(s.type) / width)), inside, done);
      fn.place(inside);
      const offset = width === 1 ? at : fn.binary('mul', at, constInt(i64, width));
      fn.store(loadInt(fn, fn.byteOffset(s.ir, offset), type), fn.bitcast(byte, ptr(i64)), 8);
      fn.br(done);
      fn.place(done);
      return { type, ir: fn.load(fn.bitcast(byte, ptr(i64)), 8) };
    }
    case 'SizeOf':
    case 'OffsetOf':
      return { type, ir: constInt(i64, integerConstant(g, e)) };
    case 'BlockExpr': {
      // The statements, then the value; the statements' failed helpers are reported at each of
      // them, the value's where the enclosing statement is.
      const outer = g.site;
      g.unit.statements(g, e.statements);
      g.site = outer;
      return g.expr(e.value);
    }
    default:
      return { type, ir: constInt(i64, 0) };
  }
}

/** Element `index` of a tuple or record: `$t.1`, `$t[1]`, `$r.name`. */
function tupleElement(g: ProbeContext, tupleExpr: Expr, index: number, type: Type): Val {
  const tuple = g.expr(tupleExpr);
  const tt = tuple.type;
  const offset = tt.kind === 'tuple' ? tupleLayout(tt.elements).offsets[index] : undefined;
  if (offset === undefined) return { type, ir: constInt(i64, 0) };
  const p = g.fn.byteOffset(tuple.ir, offset);
  return isAggregate(type) ? { type, ir: p } : { type, ir: loadInt(g.fn, p, type) };
}

/** Reads `@m[k]`: the value, or zero when the key is absent. */
function mapRead(g: ProbeContext, ref: MapRef): Val {
  const { fn } = g;
  const spec = mapSpec(g, mapName(ref));
  const type = g.program.types.get(ref) ?? INT64;
  const key = mapKey(g, spec, ref);
  if (spec.kind !== 'scalar' && !isAggregate(type)) return { type, ir: aggregationValue(g, spec, key) };
  const p = lookup(g, spec, key);
  const found = fn.icmp('ne', p, { type: i8p, ref: 'null' });
  const hit = fn.label('hit');
  const miss = fn.label('miss');
  const done = fn.label('read');
  if (isAggregate(type)) {
    const out = temp(fn, type);
    memset(fn, out, sizeOf(type));
    fn.condBr(found, hit, done);
    fn.place(hit);
    memcpy(fn, out, p, sizeOf(type));
    fn.br(done);
    fn.place(done);
    return { type, ir: out };
  }
  fn.condBr(found, hit, miss);
  fn.place(hit);
  const v = loadInt(fn, p, type);
  fn.br(done);
  fn.place(miss);
  fn.br(done);
  fn.place(done);
  return { type, ir: fn.phi(i64, [[v, hit], [constInt(i64, 0), miss]]) };
}

/**
 * The address (i64) of a struct member, dereferenced pointer or indexed element in probed
 * memory, or undefined when the expression is not such a place (e.g. a tracepoint's args).
 */
function addressOf(g: ProbeContext, e: Expr): { ir: IrValue; space: AddressSpace; bits?: { offset: number; width: number } } | undefined {
  const { fn } = g;
  const typeOf = (x: Expr) => g.program.types.get(x) ?? INT64;
  switch (e.kind) {
    case 'FieldAccess': {
      if (e.object.kind === 'Builtin' && e.object.name === 'args') return undefined;
      const ot = typeOf(e.object);
      let base: { ir: IrValue; space: AddressSpace } | undefined;
      let record: Type | undefined;
      if (ot.kind === 'pointer') {
        base = { ir: toI64(fn, g.expr(e.object)), space: pointerSpace(ot) };
        record = ot.target;
      } else if (ot.kind === 'record') {
        const obj = place(g, e.object);
        if (!obj.inMemory) return undefined;
        base = { ir: obj.ir, space: obj.inMemory.space };
        record = ot;
      }
      if (!base || record?.kind !== 'record') return undefined;
      const f = record.fields.find((x) => x.name === e.field);
      if (!f) return undefined;
      const ir = f.offset === 0 ? base.ir : fn.binary('add', base.ir, constInt(i64, f.offset));
      return f.bitWidth ? { ir, space: base.space, bits: { offset: f.bitOffset ?? 0, width: f.bitWidth } } : { ir, space: base.space };
    }
    case 'Unary': {
      if (e.op !== '*') return undefined;
      const pt = typeOf(e.operand);
      if (pt.kind !== 'pointer') return undefined;
      return { ir: toI64(fn, g.expr(e.operand)), space: pointerSpace(pt) };
    }
    case 'Index': {
      const ot = typeOf(e.object);
      const index = toI64(fn, g.expr(e.index));
      if (ot.kind === 'pointer') {
        const size = elementSize(ot.target);
        const base = toI64(fn, g.expr(e.object));
        return { ir: fn.binary('add', base, fn.binary('mul', index, constInt(i64, size))), space: pointerSpace(ot) };
      }
      if (ot.kind === 'array' || ot.kind === 'string') {
        const obj = place(g, e.object);
        if (!obj.inMemory) return undefined;
        const size = ot.kind === 'array' ? elementSize(ot.element) : 1;
        return { ir: fn.binary('add', obj.ir, fn.binary('mul', index, constInt(i64, size))), space: obj.inMemory.space };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Like expr(), but a struct or array in probed memory stays there (its address) until a member is read. */
function place(g: ProbeContext, e: Expr): Val {
  const type = g.program.types.get(e) ?? INT64;
  if (type.kind === 'record' || type.kind === 'array' || (type.kind === 'string' && e.kind === 'FieldAccess')) {
    const a = addressOf(g, e);
    if (a) return { type, ir: a.ir, inMemory: { space: a.space } };
  }
  return g.expr(e);
}

/** Reads a member, dereferenced pointer or element from probed memory. */
function readPlace(g: ProbeContext, e: Expr, type: Type): Val | undefined {
  const a = addressOf(g, e);
  if (!a) return undefined;
  return readMemory(g, a.ir, type, a.space, type, a.bits, e.span);
}

/** `args->field` of a tracepoint: read straight from the context at this target's offset. */
function fieldAccess(g: ProbeContext, e: Extract<Expr, { kind: 'FieldAccess' }>, type: Type): Val {
  const { fn } = g;
  if (g.syscall && e.object.kind === 'Builtin' && e.object.name === 'args') return syscallField(g, e.field, type);
  const fromMemory = readPlace(g, e, type);
  if (fromMemory) return fromMemory;
  const object = g.expr(e.object);
  const objectType = object.type;
  if (objectType.kind !== 'record') return { type, ir: constInt(i64, 0) };
  const provider = g.targets[0]!.provider;
  if (e.object.kind === 'Builtin' && e.object.name === 'args' && provider !== 'tracepoint') {
    // rawtracepoint/kfunc: args are u64 slots of the context, in BTF's order.
    const f = objectType.fields.find((x) => x.name === e.field);
    return normalize(fn, ctxU64(g, f?.offset ?? 0), type);
  }
  let offset = objectType.fields.find((f) => f.name === e.field)?.offset ?? 0;
  if (e.object.kind === 'Builtin' && e.object.name === 'args') {
    const target = g.targets[0]!;
    const field = g.kernel.tracepointFormat(target.parts[0]!, target.parts[1]!)?.fields.find((f) => f.name === e.field);
    offset = field?.offset ?? offset;
    if (field?.dataLoc) {
      // A u32 descriptor: the data's offset in its low 16 bits, from the record's start
      // (__data_loc) or from the end of the field (__rel_loc).
      const descriptor = loadInt(fn, fn.byteOffset(object.ir, offset), { kind: 'int', bits: 32, signed: false });
      let at = fn.binary('and', descriptor, constInt(i64, 0xffff));
      if (field.dataLoc.relative) at = fn.binary('add', at, constInt(i64, offset + 4));
      return { type, ir: fn.binary('add', fn.ptrToInt(object.ir), at) };
    }
  }
  if (isAggregate(type)) {
    // Copy out of the context so later stores and helpers see ordinary stack memory.
    const out = temp(fn, type);
    copyFromContext(fn, out, object.ir, offset, sizeOf(type));
    return { type, ir: out };
  }
  return { type, ir: loadInt(fn, fn.byteOffset(object.ir, offset), type.kind === 'pointer' ? UINT64 : type) };
}

function binaryExpr(g: ProbeContext, e: Extract<Expr, { kind: 'Binary' }>, type: Type): Val {
  const { fn } = g;
  if (e.op === '&&' || e.op === '||') {
    const rhs = fn.label('rhs');
    const shortcut = fn.label('short');
    const done = fn.label('logic');
    const left = truthy(fn, g.expr(e.left));
    if (e.op === '&&') fn.condBr(left, rhs, shortcut);
    else fn.condBr(left, shortcut, rhs);
    fn.place(rhs);
    const right = fn.intCast(truthy(fn, g.expr(e.right)), i64, false);
    const rhsEnd = fn.label('rhsend');
    fn.br(rhsEnd);
    fn.place(rhsEnd);
    fn.br(done);
    fn.place(shortcut);
    fn.br(done);
    fn.place(done);
    return { type, ir: fn.phi(i64, [[right, rhsEnd], [constInt(i64, e.op === '&&' ? 0 : 1), shortcut]]) };
  }
  const a = g.expr(e.left);
  const b = g.expr(e.right);
  if (a.type.kind === 'string' && b.type.kind === 'string') {
    const equal = stringsEqual(g, a, b);
    return { type, ir: fn.intCast(e.op === '==' ? equal : fn.binary('xor', equal, constInt(i1, 1)), i64, false) };
  }
  const signed = (a.type.kind === 'int' && a.type.signed) && (b.type.kind === 'int' && b.type.signed);
  const compare: Record<string, string> = {
    '==': 'eq', '!=': 'ne',
    '<': signed ? 'slt' : 'ult', '<=': signed ? 'sle' : 'ule', '>': signed ? 'sgt' : 'ugt', '>=': signed ? 'sge' : 'uge',
  };
  const predicate = compare[e.op];
  if (predicate) return { type, ir: fn.intCast(fn.icmp(predicate, toI64(fn, a), toI64(fn, b)), i64, false) };
  return arith(g, e.op, a, b, type);
}

/** A binary arithmetic or bitwise operator on two values, as bpftrace 0.17 computes it. */
export function arith(g: ProbeContext, op: string, a: Val, b: Val, type: Type = a.type): Val {
  const ops: Record<string, string> = {
    // BPF (cpu v3) has no signed division; bpftrace divides unsigned too, and warns.
    // bpftrace 0.17 shifts right logically whatever the sign, on the value widened to 64 bits:
    // `-8 >> 1` is 9223372036854775804 there, and so here.
    '+': 'add', '-': 'sub', '*': 'mul', '/': 'udiv', '%': 'urem',
    '<<': 'shl', '>>': 'lshr', '&': 'and', '|': 'or', '^': 'xor',
  };
  // pointer ± integer moves by whole elements (a void or unsized element counts as a byte, as GNU C).
  const pointer = a.type.kind === 'pointer' ? a : b.type.kind === 'pointer' && op === '+' ? b : undefined;
  const offset = pointer === a ? b : a;
  if (pointer && pointer.type.kind === 'pointer' && offset.type.kind === 'int' && (op === '+' || op === '-')) {
    const scale = elementSize(pointer.type.target);
    const moved = scale === 1 ? toI64(g.fn, offset) : g.fn.binary('mul', toI64(g.fn, offset), constInt(i64, scale));
    return { type, ir: g.fn.binary(ops[op]!, toI64(g.fn, pointer), moved) };
  }
  const x = toI64(g.fn, a);
  const y = toI64(g.fn, b);
  if (op === '/' || op === '%' || op === '<<' || op === '>>') return { type, ir: definedAtEdges(g.fn, ops[op]!, x, y) };
  return { type, ir: g.fn.binary(ops[op]!, x, y) };
}

/**
 * Division and remainder by 0, and shifts by 64 or more, give 0 as in bpftrace 0.17. LLVM's IR
 * leaves them undefined, and LLVM made them whatever a register held (`@a /= 0` printed a
 * different garbage number each run). A constant operand folds the guard away.
 */
function definedAtEdges(fn: FunctionBuilder, op: string, x: IrValue, y: IrValue): IrValue {
  const division = op === 'udiv' || op === 'urem';
  const outside = division ? fn.icmp('eq', y, constInt(i64, 0)) : fn.icmp('uge', y, constInt(i64, 64));
  const safe = fn.select(outside, constInt(i64, division ? 1 : 0), y);
  return fn.select(outside, constInt(i64, 0), fn.binary(op, x, safe));
}

function integerConstant(g: ProbeContext, e: Expr): bigint {
  const v = g.program.constants.get(e);
  return typeof v === 'bigint' ? v : 0n;
}
