// Statements: blocks, if, while, unroll, break/continue/return, let, assignments, and for loops
// (over a map or a range) as callbacks of bpf_for_each_map_elem / bpf_loop.
import { type AssignStmt, type Block, type Call, type ForRangeStmt, type ForStmt, type JumpStmt, type LetStmt, mapName, type Stmt, type Variable, variableKey } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { walk } from '../model/walk.js';
import { alignUp, INT64, sizeOf, tupleLayout } from '../model/types.js';
import { arrayType, constInt, FunctionBuilder, i32, i64, i8, i8p, type IrType, type IrValue, ptr } from './ir/builder.js';
import { Helper } from '../model/object-layout.js';
import { constantOf, isAggregate, memcpy, memset, slotSize, temp, toI64, truthy } from './values.js';
import type { ProbeContext } from './context.js';
import { beginExits, endExits, reportHelperError, returnFromProbe, returnValue } from './failures.js';
import { mapPointer, mapSpec } from './map-ops.js';
import { assignTo, storeVariable, variableSlot } from './variables.js';
import { aggregate } from './aggregations.js';
import { arith } from './expressions.js';

/** Whether a piece of code has a `return`, or an exit() (which returns, see FUNCTION_CODE.exit). */
function containsReturn(node: unknown): boolean {
  let found = false;
  walk(node, (n) => {
    if ((n.kind === 'JumpStmt' && (n as JumpStmt).jump === 'return') || (n.kind === 'Call' && (n as Call).name === 'exit')) found = true;
  });
  return found;
}

/** Names of the scratch variables a piece of code reads or writes. */
function variablesIn(node: unknown): Set<string> {
  const found = new Set<string>();
  walk(node, (n) => {
    if (n.kind === 'Variable') found.add(variableKey(n as Variable));
  });
  return found;
}

/** Compiles the statements of a block, each in a scope of its own (for scratch stack slots). */
export function block(g: ProbeContext, b: Block): void {
  statements(g, b.statements);
}

/** Compiles statements in order (a block's, or those before a block expression's value). */
export function statements(g: ProbeContext, list: readonly Stmt[]): void {
  for (const s of list) stmt(g, s);
}

/** One statement, with its debug location and the site its failed helpers are reported at. */
function stmt(g: ProbeContext, s: Stmt): void {
  g.fn.comment(`${s.kind} at line ${s.span.line}:${s.span.column}`);
  g.fn.setLocation(s.span.line, s.span.column);
  g.site = s.span;
  g.fn.beginScope();
  stmtInScope(g, s);
  g.fn.endScope();
}

function stmtInScope(g: ProbeContext, s: Stmt): void {
  const { fn } = g;
  switch (s.kind) {
    case 'ExprStmt':
      g.expr(s.expr);
      return;
    case 'AssignStmt':
      assign(g, s);
      return;
    case 'BlockStmt':
      block(g, s.block);
      return;
    case 'IfStmt': {
      if (s.comptime) {
        // Decided when the program was compiled: only the branch taken was checked.
        if (g.program.constants.get(s.condition) !== 0n) block(g, s.then);
        else if (s.otherwise) s.otherwise.kind === 'IfStmt' ? stmt(g, s.otherwise) : block(g, s.otherwise);
        return;
      }
      const then = fn.label('then');
      const otherwise = fn.label('else');
      const done = fn.label('endif');
      fn.condBr(truthy(fn, g.expr(s.condition)), then, s.otherwise ? otherwise : done);
      fn.place(then);
      block(g, s.then);
      if (!fn.isTerminated) fn.br(done);
      if (s.otherwise) {
        fn.place(otherwise);
        if (s.otherwise.kind === 'IfStmt') stmt(g, s.otherwise);
        else block(g, s.otherwise);
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
      fn.condBr(truthy(fn, g.expr(s.condition)), body, done);
      fn.place(body);
      g.loops.push({ continueTo: head, breakTo: done });
      block(g, s.body);
      g.loops.pop();
      if (!fn.isTerminated) fn.br(head);
      fn.place(done);
      return;
    }
    case 'UnrollStmt': {
      const n = Number(constantOf(s.count) ?? 1n);
      g.unrolling++;
      for (let i = 0; i < n; i++) block(g, s.body);
      g.unrolling--;
      return;
    }
    case 'JumpStmt': {
      if (s.jump === 'return') {
        returnFromProbe(g, s.value ? toI64(fn, g.expr(s.value)) : constInt(i64, 0));
        return;
      }
      const loop = g.loops.at(-1)!;
      // In a for-loop callback, returning 1 stops bpf_for_each_map_elem and 0 goes on.
      if (loop === 'callback') returnValue(g, s.jump === 'break' ? 1 : 0);
      else fn.br(s.jump === 'break' ? loop.breakTo : loop.continueTo);
      return;
    }
    case 'ForStmt':
      forLoop(g, s);
      return;
    case 'ForRangeStmt':
      forRange(g, s);
      return;
    case 'LetStmt':
      declare(g, s);
      return;
  }
}

/** `let $x = e`; `let $x;` sets it to 0 (again on every run of the declaration, as in a loop). */
function declare(g: ProbeContext, s: LetStmt): void {
  const key = variableKey(s.variable);
  if (s.value) {
    storeVariable(g, key, g.expr(s.value));
    return;
  }
  const v = variableSlot(g, key, INT64);
  if (isAggregate(v.type)) memset(g.fn, v.slot, sizeOf(v.type));
  else g.fn.store(constInt(i64, 0), g.fn.bitcast(v.slot, ptr(i64)), 8);
}

/**
 * `for ($i : start..end) { body }` → bpf_loop with the body as a callback; start and end are
 * read once. bpf_loop runs at most 2^23 times: a longer range fails (-E2BIG, reported with -k).
 */
function forRange(g: ProbeContext, s: ForRangeStmt): void {
  const { fn } = g;
  const start = toI64(fn, g.expr(s.start));
  const end = toI64(fn, g.expr(s.end));
  const empty = fn.icmp('sle', end, start);
  const count = fn.binary('sub', end, start);
  loopCallback(g, s, [{ type: i64, name: 'index' }, { type: i8p, name: 'context' }], 1, {
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
      reportHelperError(g, Helper.loop, rc);
      fn.br(done);
      fn.place(done);
    },
  });
}

/** `for ($kv : @m) { body }` → bpf_for_each_map_elem with the body as a callback. */
function forLoop(g: ProbeContext, s: ForStmt): void {
  const { fn } = g;
  const spec = mapSpec(g, mapName(s.map));
  const kvType = g.program.types.get(s.variable)!;
  loopCallback(g, s, [
    { type: i8p, name: 'map' }, { type: i8p, name: 'key' }, { type: i8p, name: 'value' }, { type: i8p, name: 'context' },
  ], 3, {
    enter: (body, callback) => {
      // $kv: the entry's key and value side by side, as a tuple.
      const kv = temp(body.fn, kvType);
      const elements = kvType.kind === 'tuple' ? kvType.elements : [];
      const layout = tupleLayout(elements);
      memcpy(body.fn, callback.byteOffset(kv, layout.offsets[0]!), callback.param(1), sizeOf(elements[0]!));
      memcpy(body.fn, callback.byteOffset(kv, layout.offsets[1]!), callback.param(2), sizeOf(elements[1]!));
      body.vars.set(variableKey(s.variable), { type: kvType, slot: kv });
    },
    call: (callback, context) => {
      fn.callHelper(Helper.forEachMapElem, i64, [mapPointer(g, spec.name), callback.pointer, context, constInt(i64, 0)]);
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
function loopCallback(g: ProbeContext,
  s: ForStmt | ForRangeStmt,
  params: readonly { type: IrType; name: string }[],
  contextParam: number,
  steps: {
    prepare?: (context: IrValue) => void;
    enter: (body: ProbeContext, callback: FunctionBuilder) => void;
    call: (callback: FunctionBuilder, context: IrValue) => void;
  },
): void {
  const { fn } = g;
  const loopKey = variableKey(s.variable);
  const used = variablesIn(s.body);
  const shared = [...g.vars].filter(([key]) => used.has(key) && key !== loopKey);
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
  shared.forEach(([, v], i) => memcpy(fn, fn.byteOffset(context, offsets[i]!), v.slot, slotSize(v.type)));

  const callback = new FunctionBuilder(`${fn.name}_for${g.callbacks++}`, undefined, [...params]);
  callback.attachDebug(g.module.debug!, s.span.line);
  callback.setLocation(s.span.line, s.span.column);
  const body = g.forFunction(callback);
  shared.forEach(([key, v], i) => {
    const slot = callback.byteOffset(callback.param(contextParam), offsets[i]!, isAggregate(v.type) ? i8 : i64);
    body.vars.set(key, { type: v.type, slot });
  });
  steps.enter(body, callback);
  if (returns) body.returnFlag = callback.byteOffset(callback.param(contextParam), flagOffset, i64);
  body.loops.push('callback');
  beginExits(body);
  block(body, s.body);
  endExits(body);
  g.module.addFunction(callback);

  steps.call(callback, context);
  shared.forEach(([, v], i) => memcpy(fn, v.slot, fn.byteOffset(context, offsets[i]!), slotSize(v.type)));
  if (returns) {
    // The body returned: so does the probe (or, in an outer loop's body, that loop's callback).
    const returned = fn.label('returned');
    const after = fn.label('afterloop');
    fn.condBr(fn.icmp('ne', fn.load(fn.byteOffset(context, flagOffset, i64), 8), constInt(i64, 0)), returned, after);
    fn.place(returned);
    returnFromProbe(g, fn.binary('ashr', fn.load(fn.byteOffset(context, flagOffset, i64), 8), constInt(i64, 1)));
    fn.place(after);
  }
}

/**
 * `span` widened back to the last blank before it on its line, as bpftrace 0.17's lexer places a
 * token (it moves a token's start only past blanks): `@x[1]=2`'s `=` is at `@x[1]=`.
 */
function fromLastBlank(span: Span, text: string | undefined): Span {
  if (text === undefined) return span;
  let start = span.start;
  while (start > 0 && !/\s/.test(text[start - 1]!)) start--;
  return start === span.start ? span : { ...span, start, column: span.column - (span.start - start) };
}

function assign(g: ProbeContext, s: AssignStmt): void {
  // A failed map update is reported at the operator (an aggregation: at its call), as bpftrace does.
  g.site = g.program.types.get(s.value)?.kind === 'aggregation' ? s.value.span : fromLastBlank(s.opSpan, s.opSpan.file?.text ?? g.options.sourceText);
  if (s.target.kind === 'MapRef' && s.value.kind === 'Call' && g.program.types.get(s.value)?.kind === 'aggregation') {
    aggregate(g, s.target, s.value);
    return;
  }
  let value = g.expr(s.value);
  if (s.op !== '=') {
    const current = g.expr(s.target);
    value = arith(g, s.op, current, value);
  }
  assignTo(g, s.target, value);
}
