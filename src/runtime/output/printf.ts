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
import { parsePrintfFormat, type PrintfConversion } from '../../model/printf-format.js';
import { bytesToString, stringBytes } from '../../model/strings.js';
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
    case 'c':
      return (a) => pad(c, String.fromCharCode(Number(int64Of(a) & 0xffn)));
    case 'p':
      return (a) => formatPointer(c, int64Of(a));
    case 'd': {
      const bits = c.bits;
      return (a) => {
        const v = BigInt.asIntN(bits, int64Of(a));
        return v < 0n ? formatInt(c, '-', (-v).toString()) : formatInt(c, '', v.toString());
      };
    }
    default: {
      const bits = c.bits;
      const radix = c.conversion === 'o' ? 8 : c.conversion === 'u' ? 10 : 16;
      const upper = c.conversion === 'X';
      return (a) => {
        const s = BigInt.asUintN(bits, int64Of(a)).toString(radix);
        return formatInt(c, '', upper ? s.toUpperCase() : s);
      };
    }
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

function isAscii(s: string): boolean {
  return !/[^\x00-\x7f]/.test(s);
}

/** Width and precision count bytes in C; strings here are UTF-8 text (see stringBytes). */
export function padString(c: PrintfConversion, s: string): string {
  if (c.precision !== undefined) {
    if (isAscii(s)) {
      if (s.length > c.precision) s = s.slice(0, c.precision);
    } else {
      const b = stringBytes(s);
      if (b.length > c.precision) s = bytesToString(b.subarray(0, c.precision));
    }
  }
  return pad(c, s);
}

function byteLength(s: string): number {
  return isAscii(s) ? s.length : stringBytes(s).length;
}

/** Space padding to the width (left or right); glibc ignores the 0 flag for %s, %c and (nil). */
function pad(c: PrintfConversion, s: string): string {
  const w = c.width;
  if (w === undefined) return s;
  const len = byteLength(s);
  if (len >= w) return s;
  const fill = ' '.repeat(w - len);
  return c.leftAlign ? s + fill : fill + s;
}

export function formatInt(c: PrintfConversion, sign: string, digits: string): string {
  if (c.precision !== undefined) {
    if (c.precision === 0 && digits === '0') digits = '';
    else if (digits.length < c.precision) digits = digits.padStart(c.precision, '0');
  }
  const w = c.width;
  const len = sign.length + digits.length;
  if (w === undefined || len >= w) return sign + digits;
  if (c.leftAlign) return sign + digits + ' '.repeat(w - len);
  if (c.zeroPad && c.precision === undefined) return sign + '0'.repeat(w - len) + digits;
  return ' '.repeat(w - len) + sign + digits;
}

function formatPointer(c: PrintfConversion, v: bigint): string {
  if (v === 0n) return pad(c, '(nil)');
  return formatInt(c, '0x', v.toString(16));
}
