// printf with bpftrace 0.17's exact semantics.
//
// bpftrace splits the format after each conversion and hands each piece, with its one argument, to
// C's snprintf; the text after the last conversion is written as is. Integer arguments are passed as
// 64-bit values (sign- or zero-extended from their type), so the C conversion decides the width:
// `%d` and `%u` read 32 bits, `%hhd` 8, `%hd` 16, `%ld`/`%lld`/`%jd`/`%zd`/`%td` 64. Consequences
// reproduced here:
// - `%%` becomes `%` only in a piece that ends with a conversion; after the last conversion (or in
//   a format with none) it is printed as `%%`;
// - `%%d` is a conversion to bpftrace but prints `%d` and drops its argument;
// - a piece is cut at its first NUL (`%c` of 0 ends the piece);
// - `%p` prints `0x...`, or `(nil)` for 0; `%r`/`%rx`/`%rh` only work bare: with a width or precision
//   glibc prints the conversion text itself (`%5r`).
// Stray `%` sequences in the text before a conversion (`%i %d`) are printed literally; C would
// consume the argument there (undefined behaviour in bpftrace).
import { formatIntConversion, padString, parsePrintfFormat, type PrintfConversion } from '../../model/printf-format.js';
import type { Type } from '../../model/types.js';
import type { TypedValue, Value } from './model.js';
import { cString, formatBuffer, formatStack, normalizeInt, valueToText } from './values.js';

export interface CompiledPrintf {
  (args: readonly TypedValue[]): string;
  readonly format: string;
  readonly conversions: readonly PrintfConversion[];
}

export type ConvFn = (arg: TypedValue | undefined) => string;

/** Parse a format once; the returned function formats one event's arguments. */
export function compilePrintf(format: string): CompiledPrintf {
  const conversions = parsePrintfFormat(format);
  const fn = assemblePrintf(format, conversions, (c, i) => {
    const convert = conversionFn(c);
    return (args: readonly TypedValue[]) => convert(args[i]);
  }) as CompiledPrintf;
  Object.defineProperty(fn, 'format', { value: format });
  Object.defineProperty(fn, 'conversions', { value: conversions });
  return fn;
}

/**
 * A format as one function of `A` (the arguments, in whatever form): the text before each
 * conversion, then what `convert` made of the conversion (the i-th, for the i-th argument), each
 * piece cut at its first NUL as C's snprintf cuts it; then the text after the last conversion.
 */
export function assemblePrintf<A>(
  format: string, conversions: readonly PrintfConversion[], convert: (c: PrintfConversion, index: number) => (args: A) => string,
): (args: A) => string {
  const prefixes: string[] = [];
  const fns: ((args: A) => string)[] = [];
  let partStart = 0;
  conversions.forEach((c, i) => {
    let prefix = format.slice(partStart, c.start);
    if (c.escaped) {
      // The `%` before the conversion pairs with its `%`: C prints `%` and then the rest as text.
      prefix = cText(prefix.slice(0, -1)) + '%' + c.text.slice(1);
      fns.push(() => '');
    } else {
      prefix = cText(prefix);
      fns.push(convert(c, i));
    }
    prefixes.push(prefix);
    partStart = c.end;
  });
  const tail = format.slice(partStart);
  const n = conversions.length;
  return (args: A): string => {
    let out = '';
    for (let i = 0; i < n; i++) {
      const piece = prefixes[i]! + fns[i]!(args);
      const nul = piece.indexOf('\0');
      out += nul < 0 ? piece : piece.slice(0, nul);
    }
    return out + tail;
  };
}

const cache = new Map<string, CompiledPrintf>();

/** printf(format, args...) as bpftrace prints it. Compiled formats are cached. */
export function formatPrintf(format: string, args: readonly TypedValue[]): string {
  let f = cache.get(format);
  if (!f) {
    if (cache.size > 1000) cache.clear();
    f = compilePrintf(format);
    cache.set(format, f);
  }
  return f(args);
}

/** Literal text before a conversion, as C's printf prints it: `%%` becomes `%`. */
function cText(s: string): string {
  return s.includes('%%') ? s.replace(/%%/g, '%') : s;
}

// ---------------------------------------------------------------------------------------------

/** The text of one conversion of one argument (as bpftrace's snprintf of it). */
export function conversionFn(c: PrintfConversion): ConvFn {
  switch (c.conversion) {
    case 's':
      return (a) => padString(c, a ? stringOf(a.type, a.value) : '');
    case 'r':
    case 'rx':
    case 'rh': {
      if (c.text.length !== c.conversion.length + 1) return () => c.text; // glibc: unknown conversion
      const style = c.conversion === 'r' ? 'ascii' : c.conversion === 'rx' ? 'hex' : 'hexspaced';
      return (a) => (a ? formatBuffer(a.value, style) : '');
    }
    default:
      return (a) => formatIntConversion(c, int64Of(a));
  }
}

/** The 64-bit pattern bpftrace passes to snprintf: the value sign- or zero-extended from its type. */
function int64Of(a: TypedValue | undefined): bigint {
  if (!a) return 0n;
  const v = a.value;
  if (typeof v !== 'bigint') return 0n;
  return BigInt.asUintN(64, normalizeInt(a.type, v));
}

/** The text %s prints for a string-like argument. */
function stringOf(type: Type, v: Value): string {
  switch (type.kind) {
    case 'string':
      return typeof v === 'string' ? cString(v) : String(v);
    case 'kstack':
    case 'ustack':
      return formatStack(v, type.mode, 8);
    default:
      return valueToText(type, v);
  }
}

