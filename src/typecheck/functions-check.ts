// The type rule of each built-in function (its record is in model/functions.ts): what it takes,
// what it returns, the events it sends and the compile-time work some do (kaddr, uaddr, pton,
// cgroupid). Checker.call has checked the argument count and --unsafe before an entry runs.
import { PT_REGS } from '../kernel/registers.js';
import { signalNumber } from '../kernel/signals.js';
import { statSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { mapName, type Call, type Expr, type MapRef, type StringLiteral } from '../model/ast.js';
import { error, warning, withNote, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { AggregationParams, CheckContext } from './context.js';
import { parameterText } from './positional.js';
import { checkBuiltinCall } from './builtin-calls.js';
import { providerRecord } from '../model/providers.js';
import { BUILTIN_FUNCTIONS, type FunctionName } from '../model/functions.js';
import { JOIN_ARGS, JOIN_ARG_SIZE, type TseriesAggregation } from '../model/program.js';
import {
  MAX_STACK_DEPTH, NONE, UINT64, INT64, UINT8, sizeOf, storageType, str, typeName, type AggregationKind, type StackMode, type Type,
} from '../model/types.js';
import { checkPrintfArgs, formatIntConversion, padString, parsePrintfFormat } from '../model/printf-format.js';

/**
 * Types a call and returns its type. An aggregation is given the map it is assigned to (`into`);
 * without one it is misused, which the statement has reported.
 */
export type FunctionCheck = (c: CheckContext, call: Call, into?: MapRef) => Type;

const STACK_MODES: ReadonlySet<string> = new Set(['bpftrace', 'perf', 'raw', 'build_id']);


function literal(c: CheckContext, call: Call, e: Expr | undefined, what: string): string | undefined {
  if (e?.kind === 'StringLiteral') return e.value;
  if (e) c.expr(e);
  // str($N) is a literal too, as in bpftrace.
  const text = e?.kind === 'Call' && e.name === 'str' ? c.constants.get(e) : undefined;
  if (text instanceof Uint8Array) return Buffer.from(text).toString();
  c.report(error('E_ARG_TYPE', e?.span ?? call.span, `${call.name}() expects a string literal ${what}`));
  return undefined;
}

function isInt(t: Type): boolean {
  return t.kind === 'int' || t.kind === 'pointer' || t.kind === 'bool';
}

/** The first probe type of the probe being checked that the function's record does not allow. */
function refusedProvider(c: CheckContext, name: FunctionName): string | undefined {
  const allowed = BUILTIN_FUNCTIONS[name].providers;
  return allowed && c.targets.find((t) => !allowed.includes(t.provider))?.provider;
}

/** Checks the one argument of a function that takes an integer (or pointer) and returns `type`. */
function integerArgument(what: string, type: Type): FunctionCheck {
  return (c, call) => {
    const t = c.expr(call.args[0]!);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', call.args[0]!.span, `${call.name}() expects ${what}, got ${typeName(t)}`));
    return type;
  };
}

/** Checks all arguments and returns nothing: functions this kernel cannot run say why. */
function unavailable(message: string): FunctionCheck {
  return (c, call) => {
    call.args.forEach((a) => c.expr(a));
    c.report(error('E_UNAVAILABLE', call.span, message));
    return NONE;
  };
}

/** An aggregation's rule: integer arguments; `params` checks lhist's and tseries's constant ones. */
function aggregation(params?: (c: CheckContext, call: Call) => AggregationParams | undefined): FunctionCheck {
  return (c, call, into) => {
    if (!into) {
      call.args.forEach((a) => c.expr(a));
      return NONE;
    }
    const kind = call.name as AggregationKind;
    const { minArgs, maxArgs } = BUILTIN_FUNCTIONS[kind];
    c.checkArity(call, minArgs, maxArgs, kind === 'tseries' ? TSERIES_USAGE : undefined);
    const argTypes = call.args.map((a) => c.expr(a));
    for (const [i, t] of argTypes.entries()) {
      // tseries()'s aggregation is a string literal (checked by its params).
      if (t.kind !== 'int' && t.kind !== 'bool' && !(kind === 'tseries' && i === 3)) {
        c.report(error('E_ARG_TYPE', call.args[i]!.span, `${call.name}() expects an integer, got ${typeName(t)}`));
      }
    }
    const signed = argTypes[0]?.kind === 'int' && argTypes[0].signed;
    const valueType: Type = { kind: 'aggregation', agg: kind, signed: kind === 'count' ? false : signed };
    c.mapAssign(into, kind, valueType, call.span, params?.(c, call));
    return valueType;
  };
}

function lhistParams(c: CheckContext, call: Call): AggregationParams | undefined {
  if (call.args.length !== 4) return undefined;
  const [min, max, step] = call.args.slice(1).map((a) => c.constant(a));
  if (min === undefined || max === undefined || step === undefined) {
    c.report(error('E_LHIST', call.span, 'lhist() min, max and step must be constants'));
  } else if (min < 0n || max <= min || step <= 0n) {
    c.report(error('E_LHIST', call.span, 'lhist() needs 0 <= min < max and step > 0'));
  } else if (step > max - min) {
    c.report(error('E_LHIST', call.span, `lhist() step is too large for the given range (step ${step} for range ${max - min})`,
      'a step no larger than max - min, as bpftrace requires'));
  } else if ((max - min) / step > 1000n) {
    c.report(error('E_LHIST', call.span, 'lhist() has more than 1000 buckets; use a larger step'));
  } else {
    return { lhist: { min, max, step } };
  }
  return undefined;
}

const TSERIES_AGGREGATIONS: readonly TseriesAggregation[] = ['avg', 'max', 'min', 'sum'];
const TSERIES_USAGE = 'tseries(value, interval, intervals [, "avg"|"max"|"min"|"sum"]), e.g. @x = tseries(n, 100ms, 20)';

/** tseries(n, interval_ns, num_intervals [, agg]): constant bounds (as bpftrace 0.26), a known agg. */
function tseriesParams(c: CheckContext, call: Call): AggregationParams | undefined {
  const [, intervalArg, countArg, aggArg] = call.args;
  if (!intervalArg || !countArg) return undefined;
  const interval = c.constant(intervalArg);
  const intervals = c.constant(countArg);
  let ok = true;
  if (interval === undefined || interval < 1n) {
    c.report(error('E_TSERIES', intervalArg.span, 'tseries() interval_ns must be a constant >= 1', 'e.g. tseries(n, 100ms, 20)'));
    ok = false;
  }
  if (intervals === undefined || intervals < 1n || intervals > 1000000n) {
    c.report(error('E_TSERIES', countArg.span, 'tseries() num_intervals must be a constant from 1 to 1000000', 'e.g. tseries(n, 1s, 60)'));
    ok = false;
  }
  let agg: TseriesAggregation = 'last';
  if (aggArg) {
    const name = aggArg.kind === 'StringLiteral' ? aggArg.value : undefined;
    if (!TSERIES_AGGREGATIONS.includes(name as TseriesAggregation)) {
      c.report(error('E_TSERIES', aggArg.span, 'tseries() aggregates with one of "avg", "max", "min", "sum"',
        'leave it out to keep the last value of each interval'));
      ok = false;
    } else agg = name as TseriesAggregation;
  }
  return ok ? { tseries: { intervalNs: interval!, intervals: Number(intervals), agg } } : undefined;
}

/** clear(@m), zero(@m): a whole map. */
function wholeMap(c: CheckContext, call: Call): Type {
  const target = call.args[0]!;
  if (target.kind !== 'MapRef' || (target.keys && target.keys.length > 0)) {
    c.report(error('E_ARG_TYPE', target.span, `${call.name}() takes a map, e.g. ${call.name}(@name)`));
    return NONE;
  }
  c.requireAssigned(target);
  c.addEvent(call, call.name as 'clear' | 'zero', { map: mapName(target), fieldTypes: [] });
  return NONE;
}

/** cat(fmt, ...), system(fmt, ...): a printf format and its arguments, sent to user space. */
function formatted(c: CheckContext, call: Call): Type {
  const fmt = call.args[0]!;
  const argTypes = call.args.slice(1).map((a) => c.expr(a));
  if (fmt.kind !== 'StringLiteral') {
    c.report(error('E_ARG_TYPE', fmt.span, `${call.name}() needs a string literal as its format`));
    return NONE;
  }
  const problem = checkPrintfArgs(fmt.value, argTypes);
  if (problem) c.report(error('E_PRINTF', fmt.span, problem.message.replace(/^printf/, call.name)));
  c.addEvent(call, call.name as 'cat' | 'system', { format: fmt.value, fieldTypes: argTypes.map(storageType) });
  return NONE;
}

/**
 * printf(fmt, ...) and bpftrace 0.2x's errorf()/warnf() (printed as an error or a warning at the
 * call): a literal format and its arguments, sent to user space.
 */
function printfLike(c: CheckContext, call: Call): Type {
  const format = formatCall(c, call);
  if (!format) return NONE;
  const { errorsBefore, argTypes, fmt, conversions } = format;
  // %s of an enum value (0.22+): its enumerator's name, looked up when the record is printed.
  const shown: Type[] = argTypes.map((t, i) => (t.kind === 'int' && t.enumerators && conversions[i]?.conversion === 's'
    ? { kind: 'enum_name', enumerators: t.enumerators } : t));
  checkFormatArgs(c, call, fmt, shown, conversions, errorsBefore);
  c.addEvent(call, call.name as 'printf' | 'errorf' | 'warnf', { format: fmt.value, fieldTypes: shown.map(storageType) });
  return NONE;
}

/**
 * A call with a format (printf, debugf...): its arguments' types, then its literal format and
 * that format's conversions (undefined, reported, when the format is not a literal). `errorsBefore`:
 * the error count before the arguments were checked (see checkFormatArgs).
 */
function formatCall(c: CheckContext, call: Call) {
  const errorsBefore = c.errorCount();
  const argTypes = call.args.slice(1).map((a) => c.expr(a));
  const fmt = literalFormat(c, call);
  return fmt && { errorsBefore, argTypes, fmt, conversions: parsePrintfFormat(fmt.value) };
}

/** The call's first argument, a string literal format; else an error, and undefined. */
function literalFormat(c: CheckContext, call: Call): StringLiteral | undefined {
  const fmt = call.args[0]!;
  if (fmt.kind === 'StringLiteral') return fmt;
  c.report(error('E_ARG_TYPE', fmt.span, `${call.name}() needs a string literal as its format`,
    `the format is fixed when the program is compiled; the values go after it: ${call.name}("%s: %d\\n", comm, pid)`));
  return undefined;
}

/**
 * A format's conversions against its arguments' types: the first mismatch, at the argument (or
 * the format). An argument already reported (an unknown field...) has a stand-in type: no second error.
 */
function checkFormatArgs(
  c: CheckContext, call: Call, fmt: StringLiteral, argTypes: readonly Type[], conversions: ReturnType<typeof parsePrintfFormat>, errorsBefore: number,
): void {
  const problem = checkPrintfArgs(fmt.value, argTypes, conversions, call.name);
  if (problem && !(problem.argument !== undefined && c.errorCount() > errorsBefore)) {
    c.report(error('E_PRINTF', problem.argument !== undefined ? call.args[problem.argument + 1]!.span : fmt.span, problem.message));
  }
}

/**
 * debugf(fmt, ...), as bpftrace 0.17: bpf_trace_printk to the kernel's trace pipe, whose printf
 * takes at most 3 conversions, of integers and strings.
 */
function debugf(c: CheckContext, call: Call): Type {
  const format = formatCall(c, call);
  if (!format) return NONE;
  const { errorsBefore, argTypes, fmt, conversions } = format;
  if (conversions.length > 3) {
    c.report(error('E_PRINTF', call.span, 'debugf: cannot use more than 3 conversion specifiers', 'bpf_trace_printk takes at most 3 values'));
    return NONE;
  }
  checkFormatArgs(c, call, fmt, argTypes, conversions, errorsBefore);
  argTypes.forEach((t, i) => {
    if (!isInt(t) && t.kind !== 'string') c.report(error('E_ARG_TYPE', call.args[i + 1]!.span, `debugf() prints integers and strings, not ${typeName(t)}`));
  });
  c.report(warning('W_DEBUGF', call.span, 'the debugf() builtin is not recommended for production use',
    'it writes to the kernel\'s trace pipe (/sys/kernel/tracing/trace_pipe); see bpf_trace_printk in bpf-helpers(7)'));
  return NONE;
}

/** kstack([mode,] [depth]), ustack(...). */
function stack(c: CheckContext, call: Call): Type {
  // Without a mode: stack_mode's (build_id is for ustack only).
  let mode: StackMode = call.name === 'kstack' && c.stackMode === 'build_id' ? 'bpftrace' : c.stackMode;
  let depth = MAX_STACK_DEPTH;
  for (const [i, a] of call.args.entries()) {
    if (a.kind === 'Identifier' && i === 0) {
      const modes = call.name === 'ustack' ? 'bpftrace, perf, raw or build_id' : 'bpftrace, perf or raw';
      if (!STACK_MODES.has(a.name)) c.report(error('E_ARG_TYPE', a.span, `${a.name} is not a stack mode (${modes})`));
      // As bpftrace 0.26: the kernel has build ids of user files only.
      else if (a.name === 'build_id' && call.name === 'kstack') c.report(error('E_ARG_TYPE', a.span, "'build_id' stack mode can only be used for ustack", 'raw prints the addresses'));
      else mode = a.name as StackMode;
      continue;
    }
    c.expr(a);
    const n = c.constant(a);
    if (n === undefined) c.report(error('E_ARG_TYPE', a.span, `${call.name}() expects an integer literal as its depth`));
    else if (n < 1n || n > BigInt(MAX_STACK_DEPTH)) c.report(error('E_ARG_TYPE', a.span, `${call.name}() depth must be from 1 to ${MAX_STACK_DEPTH}`));
    else depth = Number(n);
  }
  return { kind: call.name as 'kstack' | 'ustack', depth, mode };
}

/** uptr(p), kptr(p): marks where a pointer (or an integer address) points, overriding what the probe implies. */
function addressSpace(userSpace: boolean): FunctionCheck {
  return (c, call) => {
    const t = c.expr(call.args[0]!);
    if (t.kind !== 'int' && t.kind !== 'pointer') {
      c.report(error('E_ARG_TYPE', call.args[0]!.span, `${call.name}() expects a pointer or an integer, got ${typeName(t)}`));
      return INT64;
    }
    const target = t.kind === 'pointer' ? t.target : INT64;
    return userSpace ? { kind: 'pointer', target, userSpace: true } : { kind: 'pointer', target };
  };
}

/** A builtin called with a mode (builtin-calls.ts): nsecs(boot), pid(curr_ns), comm(pid). */
function builtinWithMode(c: CheckContext, call: Call): Type {
  return checkBuiltinCall(c, call) ?? NONE;
}

/**
 * is_str(e) and its kind (0.26): e is typed, not evaluated; the answer is a constant (so a
 * condition on it is one too, and decides a fail() in a macro).
 */
function typePredicate(holds: (t: Type, e: Expr) => boolean): FunctionCheck {
  return (c, call) => {
    const e = call.args[0]!;
    c.constants.set(call, holds(c.expr(e), e) ? 1n : 0n);
    return UINT64;
  };
}

/** A diagnostic at a call in a macro, with a note at each macro call it was expanded from (innermost first). */
function expandedFrom(call: Call, d: Diagnostic): Diagnostic {
  return (call.expandedFrom ?? []).reduce((out, span) => withNote(out, span, 'in the macro expanded here'), d);
}

/** A fail() argument, known when the program is compiled: a string literal (or `str($1)`) or a constant integer. */
function compileTimeValue(c: CheckContext, call: Call, e: Expr, t: Type): bigint | string | undefined {
  if (e.kind === 'StringLiteral') return e.value;
  const text = e.kind === 'Call' && e.name === 'str' ? c.constants.get(e) : undefined;
  if (text instanceof Uint8Array) return Buffer.from(text).toString();
  const n = t.kind === 'int' || t.kind === 'bool' ? c.conditionConstant(e) : undefined;
  if (n === undefined) {
    c.report(error('E_ARG_TYPE', e.span, `${call.name}() arguments must be known when the program is compiled`,
      'literals, constants and positional parameters ($1); errorf() reports values of a run'));
  }
  return n;
}

/** A printf format filled in when the program is compiled (fail()'s message); a trailing newline dropped. */
export function formatAtCompileTime(format: string, values: readonly (bigint | string)[]): string {
  let out = '';
  let from = 0;
  const literalText = (text: string) => text.replaceAll('%%', '%');
  parsePrintfFormat(format).forEach((conv, i) => {
    out += literalText(format.slice(from, conv.start));
    from = conv.end;
    // `%%d`: the pair is one `%`, the rest is text (C's printf drops the argument).
    if (conv.escaped) {
      out = out.slice(0, -1) + conv.text;
      return;
    }
    const v = values[i]!;
    const text = typeof v === 'string' ? padString(conv, v) : formatIntConversion(conv, BigInt.asUintN(64, v));
    out += text;
  });
  out += literalText(format.slice(from));
  return out.endsWith('\n') ? out.slice(0, -1) : out;
}

/** The types memcmp() compares: values with bytes of their own in the program. */
const MEMCMP_KINDS: ReadonlySet<Type['kind']> = new Set(['int', 'bool', 'pointer', 'string', 'array', 'tuple', 'record', 'buffer']);

/** The functions whose call is a constant the checker folds (in conditions too). */
export const CONSTANT_CALLS: ReadonlySet<string> = new Set([
  'is_array', 'is_integer', 'is_unsigned_integer', 'is_ptr', 'is_str', 'is_literal', 'kfunc_exist', 'kfunc_allowed',
]);

/** kfunc_exist("f"), kfunc_allowed("f") (0.26): a question about a kernel function answered when the program is compiled. */
function kfuncQuestion(answer: (c: CheckContext, name: string) => boolean): FunctionCheck {
  return (c, call) => {
    const name = literal(c, call, call.args[0], 'naming a kernel function');
    if (name !== undefined) c.constants.set(call, answer(c, name) ? 1n : 0n);
    return UINT64;
  };
}

function isLiteral(e: Expr): boolean {
  if (e.kind === 'Unary' && (e.op === '-' || e.op === '+')) return e.operand.kind === 'IntLiteral';
  return e.kind === 'IntLiteral' || e.kind === 'StringLiteral' || e.kind === 'BoolLiteral';
}

/** signal(sig), signal_thread(sig): a signal by name or number (1-64), where a task is current. */
function sendSignal(c: CheckContext, call: Call): Type {
  const a = call.args[0]!;
  if (a.kind === 'StringLiteral') {
    if (signalNumber(a.value) === undefined) c.report(error('E_ARG_TYPE', a.span, `${a.value} is not a valid signal`));
  } else {
    const t = c.expr(a);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', a.span, `${call.name}() expects a signal name or number, got ${typeName(t)}`));
    const n = c.constant(a);
    if (n !== undefined && (n < 1n || n > 64n)) c.report(error('E_ARG_TYPE', a.span, `sig must be between 1 and 64, got ${n}`));
  }
  const bad = refusedProvider(c, call.name as 'signal' | 'signal_thread');
  if (bad) c.report(error('E_BUILTIN_CONTEXT', call.span, `${call.name} can not be used with "${bad}" probes`));
  return NONE;
}

/** The type rule of every function, by name. */
export const FUNCTION_CHECKS = {
  count: aggregation(),
  sum: aggregation(),
  avg: aggregation(),
  min: aggregation(),
  max: aggregation(),
  stats: aggregation(),
  hist: aggregation(),
  lhist: aggregation(lhistParams),
  tseries: aggregation(tseriesParams),
  printf: printfLike,
  debugf,
  errorf: printfLike,
  warnf: printfLike,
  print: (c, call) => {
    const target = call.args[0]!;
    if (target.kind === 'MapRef' && (!target.keys || target.keys.length === 0)) {
      c.requireAssigned(target, true);
      const [top, div] = call.args.slice(1).map((a) => c.constant(a));
      for (const a of call.args.slice(1)) {
        c.expr(a);
        if (c.constant(a) === undefined) c.report(error('E_ARG_TYPE', a.span, 'print() top and div must be constants'));
      }
      c.addEvent(call, 'print_map', { map: mapName(target), top: Number(top ?? 0n), div: Number(div ?? 0n), fieldTypes: [] });
      return NONE;
    }
    if (call.args.length > 1) {
      c.report(error('E_ARITY', call.span, 'print() of a value takes just that value'));
    }
    const t = c.expr(target);
    // A tracepoint's args is its record in the context, not a value to copy (0.17 refuses it too).
    if (t.kind === 'record' && target.kind === 'Builtin' && target.name === 'args' && t.size === 0) {
      c.report(error('E_TYPE', target.span, "print() of a tracepoint's args is not supported",
        'print its fields, e.g. print(args.FIELD), or use rawtracepoint:EVENT, whose args print'));
      return NONE;
    }
    c.addEvent(call, 'print_value', { fieldTypes: [storageType(t)] });
    return NONE;
  },
  time: (c, call) => {
    const fmt = call.args[0];
    if (fmt && fmt.kind !== 'StringLiteral') {
      c.report(error('E_ARG_TYPE', fmt.span, 'time() needs a string literal as its format'));
    }
    c.addEvent(call, 'time', { format: fmt?.kind === 'StringLiteral' ? fmt.value : '%H:%M:%S\n', fieldTypes: [] });
    return NONE;
  },
  clear: wholeMap,
  zero: wholeMap,
  delete: (c, call) => {
    const target = call.args[0]!;
    if (target.kind !== 'MapRef') {
      c.report(error('E_ARG_TYPE', target.span, 'delete() takes a map element, e.g. delete(@m[key])'));
      return NONE;
    }
    // delete(@m, key) is the newer spelling of delete(@m[key]).
    if (call.args.length === 2) {
      if (target.keys?.length) c.report(error('E_ARG_TYPE', target.span, 'delete(@m, key) takes the map without a key'));
      c.expr(call.args[1]!);
    }
    const known = call.args.length === 1 ? c.readMap(target) : c.mapInfo(mapName(target));
    if (!known && !c.collecting) {
      c.report(error('E_UNDEFINED_MAP', target.span, `map ${mapName(target)} is used but never assigned`));
    }
    return NONE;
  },
  exit: (c, call) => {
    // exit(code) (0.2x): the code travels with the event; the first exit() to arrive wins.
    const code = call.args[0];
    if (code) {
      const t = c.expr(code);
      if (!isInt(t)) c.report(error('E_ARG_TYPE', code.span, `exit() code must be an integer, got ${typeName(t)}`, 'e.g. exit(1)'));
    }
    c.addEvent(call, 'exit', { fieldTypes: code ? [INT64] : [] });
    return NONE;
  },
  has_key: (c, call) => {
    // has_key(@m, k) (0.22+): whether @m[k] exists; its key is checked as a read of @m[k].
    const [target, key] = call.args as [Expr, Expr];
    if (target.kind !== 'MapRef' || target.keys?.length) {
      c.report(error('E_ARG_TYPE', target.span, 'has_key() takes a map and a key', 'e.g. has_key(@m, 1) or has_key(@m, (1, "a"))'));
      return INT64;
    }
    const known = c.readMap({ ...target, keys: [key] }) as { kind?: string } | undefined;
    if (!known && !c.collecting) {
      c.report(error('E_UNDEFINED_MAP', target.span, `map ${mapName(target)} is used but never assigned`));
    } else if (known?.kind === 'hist' || known?.kind === 'lhist' || known?.kind === 'tseries') {
      c.report(error('E_ARG_TYPE', target.span, `has_key() of a ${known.kind}() map is not supported`, 'keep a count() of the same keys beside it'));
    }
    return INT64;
  },
  find: (c, call) => {
    // find(@m, k, $v) (0.26): has_key() and a read of @m[k] into $v, in one lookup.
    const [target, key, variable] = call.args as [Expr, Expr, Expr];
    if (target.kind !== 'MapRef' || target.keys?.length) {
      c.report(error('E_ARG_TYPE', target.span, 'find() takes a map, a key and a variable', 'e.g. find(@m, 1, $v)'));
      return INT64;
    }
    const known = c.readMap({ ...target, keys: [key] }) as { kind?: string; valueType?: Type } | undefined;
    if (!known) {
      if (!c.collecting) c.report(error('E_UNDEFINED_MAP', target.span, `map ${mapName(target)} is used but never assigned`));
    } else if (known.kind !== 'scalar') {
      c.report(error('E_ARG_TYPE', target.span, `find() of a ${known.kind}() map is not supported`, `read the value as ${mapName(target)}[key]`));
    }
    if (variable.kind !== 'Variable') {
      c.report(error('E_ARG_TYPE', variable.span, 'find() stores the value it finds in a variable', 'e.g. let $v; if (find(@m, 1, $v)) { print($v); }'));
    } else if (known?.kind === 'scalar' && known.valueType) {
      c.assignVariable(variable, known.valueType);
    }
    return INT64;
  },
  str: (c, call) => {
    const [p, n] = call.args;
    const text = parameterText(c, call);
    // Like any str(), at most BPFTRACE_STRLEN bytes with the NUL, as bpftrace cuts it.
    const t = text ? str(Math.min(text.length + 1, c.stringLength)) : c.expr(p!);
    if (n) {
      c.expr(n);
    }
    const size = n ? c.constant(n) : undefined;
    if (n && size !== undefined && size < 0n) {
      c.report(error('E_ARG_TYPE', n.span, `str() cannot use a negative length (${size})`));
    }
    if (t.kind === 'string') {
      // str() of a string (0.17 rejects it): the string itself, cut to n characters.
      if (n && size === undefined) c.report(error('E_ARG_TYPE', n.span, 'the length of str() of a string must be a constant'));
      const cut = size !== undefined && size >= 0n && size + 1n < BigInt(t.size) ? str(Number(size) + 1) : t;
      // str($N): a constant, the parameter's text.
      if (text) c.constants.set(call, text.subarray(0, sizeOf(cut) - 1));
      return cut;
    }
    if (t.kind !== 'int' && t.kind !== 'pointer') {
      c.report(error('E_ARG_TYPE', p!.span, `str() expects a pointer or an integer address, got ${typeName(t)}`));
    }
    // str(p, n) keeps n characters (captures 11: str(args->filename, 6) is `/etc/l`), plus the NUL.
    return str(size !== undefined && size >= 0n && size + 1n < BigInt(c.stringLength) ? Number(size) + 1 : c.stringLength);
  },
  buf: (c, call) => {
    const args = call.args;
    const t = c.expr(args[0]!);
    let size: number | undefined;
    if (args[1]) {
      const n = c.expr(args[1]);
      if (!isInt(n)) c.report(error('E_ARG_TYPE', args[1].span, `buf() length must be an integer, got ${typeName(n)}`));
      const k = c.constant(args[1]);
      size = k === undefined ? c.stringLength : Math.max(0, Math.min(Number(k), c.stringLength));
    } else if (t.kind === 'array') {
      size = Math.min(sizeOfArray(t), c.stringLength);
    } else {
      c.report(error('E_ARG_TYPE', call.span, `buf() expects a length argument for non-array type ${typeName(t)}`));
      size = 0;
    }
    if (!isInt(t) && t.kind !== 'string' && t.kind !== 'array') {
      c.report(error('E_ARG_TYPE', args[0]!.span, `buf() expects a pointer, an array or a string, got ${typeName(t)}`));
    }
    return { kind: 'buffer', size: Math.min(size, 255) };
  },
  join: (c, call) => {
    const t = c.expr(call.args[0]!);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', call.args[0]!.span, `join() expects a char ** pointer, got ${typeName(t)}`));
    let separator = ' ';
    if (call.args[1]) separator = literal(c, call, call.args[1], 'as its separator') ?? ' ';
    const fieldTypes = Array.from({ length: JOIN_ARGS }, () => str(JOIN_ARG_SIZE));
    c.addEvent(call, 'join', { separator, fieldTypes });
    return NONE;
  },
  ksym: integerArgument('an integer address', { kind: 'ksym' }),
  usym: integerArgument('an integer address', { kind: 'usym' }),
  kaddr: (c, call) => {
    const name = literal(c, call, call.args[0], 'naming a kernel symbol');
    if (name === undefined) return UINT64;
    const address = c.kernel.kernelSymbols().find((s) => s.name === name)?.address;
    if (address === undefined) {
      c.report(error('E_SYMBOL', call.args[0]!.span, `Failed to resolve kernel symbol: ${name}`));
      return UINT64;
    }
    c.constants.set(call, address);
    return UINT64;
  },
  uaddr: (c, call) => {
    const name = literal(c, call, call.args[0], 'naming a symbol');
    if (name === undefined) return UINT64;
    if (c.targets.length === 0 || refusedProvider(c, 'uaddr')) {
      c.report(error('E_BUILTIN_CONTEXT', call.span, 'uaddr can only be used with u(ret)probes and usdt probes'));
      return UINT64;
    }
    const file = c.targets[0]!.parts[0] ?? '';
    const binary = c.kernel.resolveBinary(file) ?? file;
    // As bpftrace 0.17: only data (object) symbols resolve.
    const sym = c.kernel.elfSymbols(binary).find((s) => s.name === name && s.type === 'object');
    if (!sym) {
      c.report(error('E_SYMBOL', call.span, `Could not resolve symbol: ${binary}:${name}`));
      return UINT64;
    }
    c.constants.set(call, sym.address);
    // As bpftrace 0.17: a pointer to a signed integer of the symbol's size (1, 2 or 4 bytes; else
    // 8), so *uaddr("counter") reads the whole int and uaddr("arr") + 1 moves by an element.
    const size = Number(sym.size);
    const bits = size === 1 || size === 2 || size === 4 ? size * 8 : 64;
    return { kind: 'pointer', target: { kind: 'int', bits: bits as 8, signed: true }, userSpace: true };
  },
  reg: (c, call) => {
    const name = literal(c, call, call.args[0], 'naming a register');
    const bad = refusedProvider(c, 'reg');
    if (bad) c.report(error('E_BUILTIN_CONTEXT', call.span, `reg can not be used with "${bad}" probes`));
    if (name !== undefined && !PT_REGS.has(name)) {
      c.report(error('E_ARG_TYPE', call.args[0]!.span, `'${name}' is not a valid register`,
        `registers: ${[...PT_REGS.keys()].join(', ')}`));
    }
    return UINT64;
  },
  ntop: (c, call) => {
    const [first, second] = call.args;
    if (second) {
      const af = c.expr(first!);
      if (!isInt(af)) c.report(error('E_ARG_TYPE', first!.span, `ntop() expects an integer address family, got ${typeName(af)}`));
    }
    const a = second ?? first!;
    const t = c.expr(a);
    const ok = isInt(t) || (t.kind === 'array' && (sizeOfArray(t) === 4 || sizeOfArray(t) === 16))
      || (t.kind === 'string' && (t.size === 4 || t.size === 16));
    if (!ok) c.report(error('E_ARG_TYPE', a.span, `ntop() expects an integer or array argument, got ${typeName(t)}`));
    return { kind: 'inet' };
  },
  pton: (c, call) => {
    const text = literal(c, call, call.args[0], 'holding an address');
    if (text === undefined) return NONE;
    let bytes: Uint8Array | undefined;
    if (isIPv4(text)) bytes = Uint8Array.from(text.split('.').map(Number));
    else if (isIPv6(text) && !text.includes('.')) bytes = ipv6Bytes(text);
    if (!bytes) {
      c.report(error('E_ARG_TYPE', call.span, `pton() expects a valid IPv4/IPv6 address, got ${text}`));
      return NONE;
    }
    c.constants.set(call, bytes);
    return { kind: 'array', element: UINT8, length: bytes.length };
  },
  macaddr: (c, call) => {
    const a = call.args[0]!;
    const t = c.expr(a);
    if (a.kind === 'StringLiteral') {
      c.report(error('E_ARG_TYPE', a.span, 'macaddr() does not support literal string arguments'));
    } else if (!isInt(t) && !((t.kind === 'array' || t.kind === 'string') && sizeOfArrayish(t) === 6)) {
      c.report(error('E_ARG_TYPE', a.span, 'macaddr() argument must be 6 bytes in size'));
    }
    return str(18);
  },
  cgroupid: (c, call) => {
    const path = literal(c, call, call.args[0], 'holding a cgroup path');
    if (path === undefined) return UINT64;
    try {
      c.constants.set(call, statSync(path, { bigint: true }).ino);
    } catch (e) {
      c.report(error('E_CGROUP', call.args[0]!.span, `Failed to get cgroupid for path: "${path}": ${(e as NodeJS.ErrnoException).code}`));
    }
    return UINT64;
  },
  cgroup_path: (c, call) => {
    const [id, filter] = call.args;
    const t = c.expr(id!);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', id!.span, `cgroup_path() expects an integer cgroup id, got ${typeName(t)}`, 'e.g. cgroup_path(cgroup)'));
    const text = filter ? literal(c, call, filter, 'as its filter') : '*';
    return { kind: 'cgroup_path', filter: text ?? '*' };
  },
  path: unavailable(
    "The path function can only be used with 'kfunc', 'kretfunc', 'iter' probes, which need BPF tracing programs (BTF trampolines); this kernel has none"),
  system: formatted,
  cat: formatted,
  signal: sendSignal,
  signal_thread: sendSignal,
  unwatch: (c, call) => {
    const t = c.expr(call.args[0]!);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', call.args[0]!.span, `unwatch() expects a watched address, got ${typeName(t)}`));
    c.addEvent(call, 'unwatch', { fieldTypes: [UINT64] });
    return NONE;
  },
  bswap: (c, call) => {
    const t = c.expr(call.args[0]!);
    if (t.kind !== 'int') {
      c.report(error('E_ARG_TYPE', call.args[0]!.span, `bswap() expects an integer, got ${typeName(t)}`));
      return UINT64;
    }
    return t;
  },
  uptr: addressSpace(true),
  kptr: addressSpace(false),
  strerror: integerArgument('an errno value', { kind: 'strerror' }),
  syscall_name: integerArgument('a syscall number', { kind: 'syscall_name' }),
  signal_name: integerArgument('a signal number', { kind: 'signal_name' }),
  strncmp: (c, call) => {
    const [a, b, n] = call.args;
    for (const x of [a!, b!]) {
      const t = c.expr(x);
      if (t.kind !== 'string') c.report(error('E_ARG_TYPE', x.span, `strncmp() expects a string, got ${typeName(t)}`));
    }
    c.expr(n!);
    const k = c.constant(n!);
    if (k === undefined || k < 0n) c.report(error('E_ARG_TYPE', n!.span, 'strncmp() expects a non-negative integer literal as its length'));
    return UINT64;
  },
  strcontains: (c, call) => {
    for (const x of call.args) {
      const t = c.expr(x);
      if (t.kind !== 'string') c.report(error('E_ARG_TYPE', x.span, `strcontains() expects a string, got ${typeName(t)}`));
    }
    return UINT64;
  },
  strftime: (c, call) => {
    const fmt = literal(c, call, call.args[0], 'as its format');
    const t = c.expr(call.args[1]!);
    if (!isInt(t)) c.report(error('E_ARG_TYPE', call.args[1]!.span, `strftime() expects an integer timestamp, got ${typeName(t)}`));
    return { kind: 'timestamp', format: fmt ?? '' };
  },
  kstack: stack,
  ustack: stack,
  nsecs: builtinWithMode,
  pid: builtinWithMode,
  tid: builtinWithMode,
  comm: builtinWithMode,
  fail: (c, call) => {
    const [fmt, ...args] = call.args as [Expr, ...Expr[]];
    const types = args.map((a) => c.expr(a));
    const values = args.map((a, i) => compileTimeValue(c, call, a, types[i]!));
    if (fmt.kind !== 'StringLiteral') {
      c.report(error('E_ARG_TYPE', fmt.span, 'fail() needs a string literal as its format'));
      return NONE;
    }
    const problem = checkPrintfArgs(fmt.value, types, undefined, 'fail');
    if (problem) c.report(error('E_PRINTF', fmt.span, problem.message));
    else if (!c.unreachable && values.every((v) => v !== undefined)) {
      c.report(expandedFrom(call, error('E_FAIL', call.span, formatAtCompileTime(fmt.value, values as (bigint | string)[]))));
    }
    return NONE;
  },
  static_assert: (c, call) => {
    const [cond, msg] = call.args as [Expr, Expr];
    c.expr(cond);
    const known = c.conditionConstant(cond);
    if (known === undefined) {
      c.report(error('E_COMPTIME', cond.span, 'static_assert() needs a condition known when the program is compiled',
        'constants, sizeof(), $1 and the is_*() predicates fold; assert(cond, "message") tests a value at run time'));
    }
    const text = literal(c, call, msg, 'as its message');
    if (known === 0n && text !== undefined && !c.unreachable) c.report(expandedFrom(call, error('E_FAIL', call.span, text)));
    return NONE;
  },
  len: (c, call) => {
    const e = call.args[0]!;
    if (e.kind === 'MapRef' && !e.keys?.length) {
      // len(@m) (0.26): the map's entries; a map without keys has one value, hist() maps an entry per bucket.
      const name = mapName(e);
      const info = c.mapInfo(name) as { kind?: string; keyType?: Type } | undefined;
      if (!info) {
        if (!c.collecting) c.report(error('E_UNDEFINED_MAP', e.span, `map ${name} is used but never assigned`));
      } else if (!info.keyType) {
        c.report(error('E_ARG_TYPE', e.span, `len() counts the entries of a map with keys; ${name} has no key`, 'a map without keys holds one value'));
      } else if (info.kind === 'hist' || info.kind === 'lhist' || info.kind === 'tseries') {
        c.report(error('E_ARG_TYPE', e.span, `len() of a ${info.kind}() map is not supported`, 'keep a count() of the same keys beside it and take its len()'));
      }
      return INT64;
    }
    const t = c.expr(e);
    const taken = (e.kind === 'Builtin' || e.kind === 'Call') && (e.name === 'ustack' || e.name === 'kstack');
    if ((t.kind === 'ustack' || t.kind === 'kstack') && !taken) {
      c.report(error('E_ARG_TYPE', e.span, 'len() counts the frames of a stack where it is taken: len(ustack), len(kstack(5))',
        'a stack kept in a variable or map is an id in a stack table, which a program cannot look up by id'));
    } else if (t.kind === 'ustack' || t.kind === 'kstack') {
      // The stack is taken from the probe's context, which a loop's callback does not have.
      if (c.inForLoop) c.report(error('E_FOR_LOOP', call.span, 'len() of a stack is not available inside a for loop', 'take it into a variable before the loop: $n = len(kstack);'));
    } else {
      c.report(error('E_ARG_TYPE', e.span, `len() takes a map, ustack or kstack, got ${typeName(t)}`,
        t.kind === 'string' ? 'the length of a string is strlen(s)' : 'e.g. len(@m), len(ustack)'));
    }
    return INT64;
  },
  memcmp: (c, call) => {
    const [left, right, count] = call.args as [Expr, Expr, Expr];
    const sizes = [left, right].map((e) => {
      const t = c.expr(e);
      if (!MEMCMP_KINDS.has(t.kind)) {
        c.report(error('E_ARG_TYPE', e.span, `memcmp() compares values held in the program, got ${typeName(t)}`,
          'strings, arrays, tuples, records, integers and pointers; to compare memory a pointer points to, read it first: buf(p, n) or str(p)'));
        return undefined;
      }
      return sizeOf(t);
    });
    const t = c.expr(count);
    if (!isInt(t)) {
      c.report(error('E_ARG_TYPE', count.span, `memcmp() count must be an integer, got ${typeName(t)}`));
      return INT64;
    }
    const n = c.constant(count);
    const [a, b] = sizes;
    if (n !== undefined && n < 0n) c.report(error('E_ARG_TYPE', count.span, `memcmp() count must not be negative, got ${n}`));
    else if (n !== undefined && a !== undefined && b !== undefined && n > BigInt(Math.min(a, b))) {
      c.report(error('E_ARG_TYPE', count.span, `memcmp() count ${n} is more than the ${Math.min(a, b)} bytes of ${a <= b ? 'left' : 'right'}`,
        `left has ${a} bytes, right ${b}`));
    }
    return INT64;
  },
  kfunc_exist: kfuncQuestion((c, name) => c.kernel.kernelFunction?.(name) !== undefined),
  // As comm(pid) is checked: refused only where the kernel says no (a test load per program type).
  kfunc_allowed: kfuncQuestion((c, name) => c.kernel.kernelFunction?.(name) !== undefined
    && c.targets.every((t) => c.kernel.kfuncAllowed?.(name, providerRecord(t.provider).programType) !== false)),
  is_array: typePredicate((t) => t.kind === 'array'),
  is_integer: typePredicate((t) => t.kind === 'int'),
  is_unsigned_integer: typePredicate((t) => t.kind === 'int' && !t.signed),
  is_ptr: typePredicate((t) => t.kind === 'pointer'),
  is_str: typePredicate((t) => t.kind === 'string'),
  is_literal: typePredicate((_t, e) => isLiteral(e)),
  override: unavailable('override can only be used with kprobes, and this kernel has no kprobes'),
} satisfies Record<FunctionName, FunctionCheck>;

function sizeOfArray(t: Extract<Type, { kind: 'array' }>): number {
  return t.length * (t.element.kind === 'int' ? t.element.bits / 8 : 8);
}

function sizeOfArrayish(t: Type): number {
  return t.kind === 'array' ? sizeOfArray(t) : t.kind === 'string' ? t.size : 0;
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  const groups = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  return out;
}
