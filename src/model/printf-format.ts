// printf format strings as bpftrace 0.17 reads them.
//
// bpftrace finds conversions with the regex `%-?[0-9]*(\.[0-9]+)?(KEY)`, where KEY is one of its
// printf_format_types: `s`, `r`, `rx`, `rh`, `c`, and every length in {'', hh, h, l, ll, j, z, t}
// followed by one of d u o x X p. The regex searches left to right, so:
// - only `-`, digits (a leading 0 is C's zero flag) and `.digits` may sit between `%` and the
//   conversion: `%+d`, `% d`, `%#x`, `%*d`, `%i`, `%e`, `%f`, `%hhc`, `%ls` are not conversions, and
//   then count as no argument (hence "Too many arguments ... (1 supplied, 0 expected)");
// - `%%` is not skipped: in `%%d` the regex finds the conversion `%d` at the second `%`. It needs an
//   argument, but C's printf then prints `%d` literally and drops that argument.
// Each conversion takes one argument; its kind must match exactly (integers, pointers and bools for
// the integer conversions; strings and the string-like types — ksym, usym, username, inet,
// timestamp, kstack, ustack — for %s; buf() for %r, %rx, %rh).
import type { Type } from './types.js';
import { bytesToString, stringBytes } from './strings.js';

export type PrintfLength = '' | 'hh' | 'h' | 'l' | 'll' | 'j' | 'z' | 't';
export type PrintfConversionChar = 'd' | 'u' | 'o' | 'x' | 'X' | 'p' | 'c' | 's' | 'r' | 'rx' | 'rh';
export type PrintfArgKind = 'integer' | 'string' | 'buffer';

export interface PrintfConversion {
  /** Offset of the `%` in the format string, and the offset just past the conversion. */
  readonly start: number;
  readonly end: number;
  /** The conversion as written, e.g. `%-10s`, `%05lld`. */
  readonly text: string;
  /** `-` flag. */
  readonly leftAlign: boolean;
  /** `0` flag (leading zero of the width). */
  readonly zeroPad: boolean;
  readonly width?: number;
  readonly precision?: number;
  readonly length: PrintfLength;
  readonly conversion: PrintfConversionChar;
  /** bpftrace's token (length + conversion, as in its messages): `d`, `lld`, `s`, `rx`. */
  readonly token: string;
  /** The kind of argument this conversion takes. */
  readonly argKind: PrintfArgKind;
  /**
   * The integer width the C conversion reads: 8 (hh), 16 (h), 32 (none: `%d` is 32-bit), 64 (l,
   * ll, j, z, t, and %p). 0 for %s and the buffer conversions; 8 for %c.
   */
  readonly bits: 0 | 8 | 16 | 32 | 64;
  /**
   * True when the `%` of this conversion pairs with a lone `%` just before it (`%%d`): C's printf
   * then prints the conversion's text literally and the argument is dropped.
   */
  readonly escaped: boolean;
}

export interface PrintfFormatError {
  /** bpftrace 0.17's message, e.g. `printf: Not enough arguments for format string (1 supplied, 2 expected)`. */
  readonly message: string;
  /** Offset and length of the blamed part of the format string (the whole string for count errors). */
  readonly offset: number;
  readonly length: number;
  /** The offending argument (0-based, after the format), for type errors. */
  readonly argument?: number;
}

const LENGTHS: readonly PrintfLength[] = ['hh', 'h', 'll', 'l', 'j', 'z', 't', ''];
const INT_CONVERSIONS = new Set(['d', 'u', 'o', 'x', 'X', 'p']);

/** Every token bpftrace 0.17 accepts, with its argument kind. */
export const PRINTF_TOKENS: ReadonlyMap<string, PrintfArgKind> = (() => {
  const m = new Map<string, PrintfArgKind>([['s', 'string'], ['r', 'buffer'], ['rx', 'buffer'], ['rh', 'buffer'], ['c', 'integer']]);
  for (const l of LENGTHS) for (const c of INT_CONVERSIONS) m.set(l + c, 'integer');
  return m;
})();

const BITS: Record<PrintfLength, 8 | 16 | 32 | 64> = { hh: 8, h: 16, '': 32, l: 64, ll: 64, j: 64, z: 64, t: 64 };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The longest token at `i` (only `r` / `rx` / `rh` overlap; bpftrace matches the longer ones). */
function tokenAt(format: string, i: number): string | undefined {
  for (let len = 3; len >= 1; len--) {
    const t = format.slice(i, i + len);
    if (t.length === len && PRINTF_TOKENS.has(t)) return t;
  }
  return undefined;
}

/** Finds the conversions of a format string exactly as bpftrace 0.17's regex does. Never fails. */
export function parsePrintfFormat(format: string): PrintfConversion[] {
  const out: PrintfConversion[] = [];
  let pos = 0;
  let partStart = 0;
  while (pos < format.length) {
    const start = format.indexOf('%', pos);
    if (start < 0) break;
    let i = start + 1;
    const leftAlign = format.charCodeAt(i) === 45; /* - */
    if (leftAlign) i++;
    const digitsStart = i;
    while (i < format.length && isDigit(format.charCodeAt(i))) i++;
    const digits = format.slice(digitsStart, i);
    let precision: number | undefined;
    if (format.charCodeAt(i) === 46 /* . */ && isDigit(format.charCodeAt(i + 1))) {
      const p = i + 1;
      i = p;
      while (i < format.length && isDigit(format.charCodeAt(i))) i++;
      precision = Number(format.slice(p, i));
    }
    const token = tokenAt(format, i);
    if (token === undefined) {
      pos = start + 1;
      continue;
    }
    const end = i + token.length;
    const zeroPad = digits.startsWith('0');
    const widthDigits = digits.replace(/^0+/, '');
    const conv = (token === 'r' || token === 'rx' || token === 'rh' || token === 's' || token === 'c')
      ? token : token.slice(-1);
    const length = (token.length > 1 && conv.length === 1 ? token.slice(0, -1) : '') as PrintfLength;
    const argKind = PRINTF_TOKENS.get(token)!;
    out.push({
      start,
      end,
      text: format.slice(start, end),
      leftAlign,
      zeroPad,
      width: widthDigits === '' ? undefined : Number(widthDigits),
      precision,
      length,
      conversion: conv as PrintfConversionChar,
      token,
      argKind,
      bits: argKind !== 'integer' ? 0 : conv === 'c' ? 8 : conv === 'p' ? 64 : BITS[length],
      escaped: precededByLonePercent(format, partStart, start),
    });
    pos = end;
    partStart = end;
  }
  return out;
}

/** Whether C's printf, scanning from `from`, consumes the `%` at `at` as the second half of `%%`. */
function precededByLonePercent(format: string, from: number, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= from && format.charCodeAt(i) === 37; i--) n++;
  return n % 2 === 1;
}

/** How bpftrace 0.17 names an argument's type in printf messages. */
export function printfTypeName(t: Type): string {
  switch (t.kind) {
    case 'int': case 'bool': return 'integer';
    case 'aggregation': return t.agg;
    case 'pointer': return 'pointer';
    default: return t.kind;
  }
}

/** The kind of argument a value of this type is to printf (bpftrace's validate_format_string). */
export function printfArgKind(t: Type): PrintfArgKind | undefined {
  switch (t.kind) {
    case 'int': case 'bool': case 'pointer':
      return 'integer';
    case 'string': case 'ksym': case 'usym': case 'username': case 'inet': case 'timestamp': case 'strerror': case 'syscall_name': case 'signal_name': case 'enum_name': case 'cgroup_path':
    case 'kstack': case 'ustack':
      return 'string';
    case 'buffer':
      return 'buffer';
    default:
      return undefined;
  }
}

/**
 * Checks the arguments of printf (and of system(), cat() — the same rules) against the format,
 * as bpftrace 0.17 does: first the count, then each argument's kind in order. Returns the first
 * problem, or undefined.
 */
export function checkPrintfArgs(
  format: string,
  argTypes: readonly Type[],
  conversions: readonly PrintfConversion[] = parsePrintfFormat(format),
  name = 'printf',
): PrintfFormatError | undefined {
  const expected = conversions.length;
  const supplied = argTypes.length;
  if (supplied < expected) {
    return { message: `${name}: Not enough arguments for format string (${supplied} supplied, ${expected} expected)`, offset: 0, length: format.length };
  }
  if (supplied > expected) {
    return { message: `${name}: Too many arguments for format string (${supplied} supplied, ${expected} expected)`, offset: 0, length: format.length };
  }
  for (let i = 0; i < supplied; i++) {
    const c = conversions[i]!;
    const t = argTypes[i]!;
    if (printfArgKind(t) !== c.argKind) {
      const have = printfArgKind(t) ?? printfTypeName(t);
      return {
        message: `${name}: %${c.token} specifier expects a value of type ${c.argKind} (${have} supplied)`,
        offset: c.start,
        length: c.end - c.start,
        argument: i,
      };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// One conversion's text, as glibc's snprintf writes it: for the runtime's printf
// (src/runtime/output/printf.ts, printf-record.ts) and for messages made when the program is
// compiled (fail()).

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

/** An integer's sign and digits with the conversion's precision, width and flags. */
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

/** %p: `0x...`, or `(nil)` for 0. */
function formatPointer(c: PrintfConversion, v: bigint): string {
  if (v === 0n) return pad(c, '(nil)');
  return formatInt(c, '0x', v.toString(16));
}

/**
 * The text of an integer conversion (%d %u %o %x %X %p %c) of `v`, the 64-bit pattern bpftrace
 * passes to snprintf; the conversion's length decides how many of its bits count.
 */
export function formatIntConversion(c: PrintfConversion, v: bigint): string {
  switch (c.conversion) {
    case 'c':
      // One byte, as C writes it: above 0x7f a raw byte (see strings.ts), not a character.
      return pad(c, bytesToString(Uint8Array.of(Number(v & 0xffn))));
    case 'p':
      return formatPointer(c, BigInt.asUintN(64, v));
    case 'd': {
      const n = BigInt.asIntN(c.bits, v);
      return n < 0n ? formatInt(c, '-', (-n).toString()) : formatInt(c, '', n.toString());
    }
    default: {
      const digits = BigInt.asUintN(c.bits, v).toString(c.conversion === 'o' ? 8 : c.conversion === 'u' ? 10 : 16);
      return formatInt(c, '', c.conversion === 'X' ? digits.toUpperCase() : digits);
    }
  }
}
