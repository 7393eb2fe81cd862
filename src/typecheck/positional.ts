// Positional parameters are compile-time constants, read with bpftrace 0.17's rules:
//
//   $N        a number: the N-th parameter as C's strtoll(text, 0) reads all of it (leading
//             blanks, a sign, 0x hex, 0 octal, within int64); 0 when not given; any other text
//             is an error ("Try using str($N)"), also where a string is expected.
//   $#        the number of parameters; str($#) is an error.
//   str($N)   the parameter's text as a string (numbers too), "" when not given, cut as any
//             str() to BPFTRACE_STRLEN bytes with the NUL;
//             str($N, n) its first n bytes; str($N + k), str(k + $N) with an integer literal
//             0 <= k <= its length: the text from byte k. Any other use of $N in str()'s first
//             argument is an error. (In the length argument $N is a number: str(p, $1) works,
//             which 0.17 rejects.)
//
// In attach points parameters are replaced by their text (see parser/attach-point.ts).
import type { Call, Expr, PositionalParam } from '../parser/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import { walk } from '../parser/walk.js';
import type { Checker } from './check.js';
import { stringBytes } from './types.js';

const C_INTEGER = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

/** A parameter's text as a number, as C's strtoll(text, &end, 0) reads it to its end; or undefined. */
export function parameterInteger(text: string): bigint | undefined {
  const m = C_INTEGER.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  const octal = digits.length > 1 && /^0[0-7]/.test(digits);
  const magnitude = BigInt(octal ? `0o${digits.slice(1)}` : digits);
  const value = m[1] === '-' ? -magnitude : magnitude;
  return BigInt.asIntN(64, value) === value ? value : undefined;
}

/** The value of `$N` or `$#` used as a number; a parameter that is not a number is reported. */
export function parameterValue(c: Checker, e: PositionalParam): bigint {
  const params = c.options.params ?? [];
  if (e.count) return BigInt(params.length);
  const text = params[e.index - 1] ?? '0';
  const value = parameterInteger(text);
  if (value === undefined) {
    c.report(error('E_POSITIONAL', e.span, `$${e.index} used numerically but given "${text}"`, `use str($${e.index}) for its text`));
  }
  return value ?? 0n;
}

const isParam = (e: Expr): e is PositionalParam => e.kind === 'PositionalParam' && !e.count;

/**
 * str() of a positional parameter (`str($N)`, `str($N + k)`): its text, recorded as the call's
 * constant (without the length cut, which str() applies). Undefined when the first argument
 * involves no parameter.
 */
export function parameterText(c: Checker, call: Call): Uint8Array | undefined {
  const arg = call.args[0]!;
  if (arg.kind === 'PositionalParam' && arg.count) {
    c.report(error('E_POSITIONAL', arg.span, 'use $#, not str($#)'));
    return new Uint8Array();
  }
  const text = (p: PositionalParam) => stringBytes(c.options.params?.[p.index - 1] ?? '');
  if (isParam(arg)) return text(arg);
  if (arg.kind === 'Binary' && (isParam(arg.left) || isParam(arg.right))) {
    const param = isParam(arg.left) ? arg.left : (arg.right as PositionalParam);
    const other = param === arg.left ? arg.right : arg.left;
    const bytes = text(param);
    if (arg.op === '+' && other.kind === 'IntLiteral' && other.value <= BigInt(bytes.length)) {
      return bytes.subarray(Number(other.value));
    }
    c.report(error('E_POSITIONAL', arg.span,
      `only addition of a single constant less or equal to the length of $${param.index} (which is ${bytes.length}) is allowed inside str()`));
    return new Uint8Array();
  }
  let mentions = false;
  walk(arg, (n) => {
    if (n.kind === 'PositionalParam') mentions = true;
    return mentions ? 'stop' : undefined;
  });
  if (!mentions) return undefined;
  c.report(error('E_POSITIONAL', arg.span, 'str() only accepts positional parameters directly or with a single constant offset added'));
  return new Uint8Array();
}
