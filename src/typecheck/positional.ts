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
import type { Call, PositionalParam } from '../model/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import { walk } from '../model/walk.js';
import type { CheckContext } from './context.js';
import { stringBytes } from '../model/strings.js';

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
export function parameterValue(c: CheckContext, e: PositionalParam): bigint {
  const params = c.options.params ?? [];
  if (e.count) return BigInt(params.length);
  const text = params[e.index - 1] ?? '0';
  const value = parameterInteger(text);
  if (value === undefined) {
    c.report(error('E_POSITIONAL', e.span, `$${e.index} used numerically but given "${text}"`, `use str($${e.index}) for its text`));
  }
  return value ?? 0n;
}

/**
 * str() of a positional parameter (`str($N)`, `str($N + k)`): its text, recorded as the call's
 * constant (without the length cut, which str() applies). Undefined when the first argument
 * involves no parameter.
 */
export function parameterText(c: CheckContext, call: Call): Uint8Array | undefined {
  const arg = call.args[0]!;
  let param: PositionalParam | undefined;
  walk(arg, (n) => {
    if (n.kind !== 'PositionalParam') return undefined;
    param = n as PositionalParam;
    return 'stop';
  });
  if (!param) return undefined;
  if (param.count) {
    c.report(error('E_POSITIONAL', param.span, 'use $#, not str($#)'));
    return new Uint8Array();
  }
  const bytes = stringBytes(c.options.params?.[param.index - 1] ?? '');
  if (arg === param) return bytes;
  if (arg.kind === 'Binary' && (arg.left === param || arg.right === param)) {
    const offset = arg.left === param ? arg.right : arg.left;
    if (arg.op === '+' && offset.kind === 'IntLiteral' && offset.value <= BigInt(bytes.length)) {
      return bytes.subarray(Number(offset.value));
    }
    c.report(error('E_POSITIONAL', arg.span,
      `only addition of a single constant less or equal to the length of $${param.index} (which is ${bytes.length}) is allowed inside str()`));
  } else {
    c.report(error('E_POSITIONAL', arg.span, 'str() only accepts positional parameters directly or with a single constant offset added'));
  }
  return new Uint8Array();
}
