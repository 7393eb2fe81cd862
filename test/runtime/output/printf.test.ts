// printf: format parsing and checking as bpftrace 0.17 does it, and formatting with its C semantics.
// Expected strings come from the installed bpftrace 0.17 (fixtures extra/p.bt, extra/q.bt, 09_printf).
import { describe, expect, it } from 'vitest';
import { createFormatter } from '../../../src/runtime/output/index.js';
import type { TypedValue } from '../../../src/runtime/output/model.js';
import { compilePrintf, formatPrintf } from '../../../src/runtime/output/printf.js';
import { checkPrintfArgs, parsePrintfFormat, PRINTF_TOKENS } from '../../../src/model/printf-format.js';
import { INT64, int, str, type Type } from '../../../src/model/types.js';
import { stringBytes } from '../../../src/model/strings.js';
import { fixture } from './helpers.js';

const L = (v: bigint | number): TypedValue => ({ type: INT64, value: BigInt(v) });
const S = (v: string): TypedValue => ({ type: str(64), value: v });
const B = (...bytes: number[]): TypedValue => ({ type: { kind: 'buffer', size: bytes.length }, value: new Uint8Array(bytes) });
const BUF: Type = { kind: 'buffer', size: 4 };
const f = (fmt: string, ...args: TypedValue[]) => formatPrintf(fmt, args);

describe('parsePrintfFormat', () => {
  it('finds conversions with flags, width, precision and length', () => {
    const cs = parsePrintfFormat('a %-10s b %05lld c %.3s %x %%d %rx');
    expect(cs.map((c) => c.text)).toEqual(['%-10s', '%05lld', '%.3s', '%x', '%d', '%rx']);
    expect(cs[0]).toMatchObject({ start: 2, end: 7, leftAlign: true, zeroPad: false, width: 10, conversion: 's', token: 's', argKind: 'string', bits: 0 });
    expect(cs[1]).toMatchObject({ zeroPad: true, width: 5, length: 'll', conversion: 'd', token: 'lld', argKind: 'integer', bits: 64 });
    expect(cs[2]).toMatchObject({ precision: 3, width: undefined });
    expect(cs[3]).toMatchObject({ bits: 32, escaped: false });
    expect(cs[4]).toMatchObject({ escaped: true, start: 28 }); // `%%d`: the regex finds `%d` at the second `%`
    expect(cs[5]).toMatchObject({ conversion: 'rx', argKind: 'buffer' });
  });

  it('accepts exactly bpftrace 0.17 tokens', () => {
    const lengths = ['', 'hh', 'h', 'l', 'll', 'j', 'z', 't'];
    for (const l of lengths) for (const c of ['d', 'u', 'o', 'x', 'X', 'p']) expect(parsePrintfFormat(`%${l}${c}`)).toHaveLength(1);
    for (const t of ['s', 'c', 'r', 'rx', 'rh']) expect(parsePrintfFormat(`%${t}`)).toHaveLength(1);
    expect(PRINTF_TOKENS.size).toBe(8 * 6 + 5);
    // Rejected by bpftrace 0.17 (they are not conversions, so they take no argument).
    for (const bad of ['%i', '%e', '%f', '%+d', '% d', '%#x', '%*d', '%.d', '%5.d', '%-5', '%hhc', '%lc', '%ls', '%Lf', '%qd', '%llld', '%lhd', '%']) {
      expect(parsePrintfFormat(bad), bad).toHaveLength(0);
    }
    expect(parsePrintfFormat('%rxx')[0]!.token).toBe('rx');
    expect(parsePrintfFormat('%08.3s')[0]).toMatchObject({ zeroPad: true, width: 8, precision: 3 });
    expect(parsePrintfFormat('%000005d')[0]).toMatchObject({ zeroPad: true, width: 5 });
    expect(parsePrintfFormat('%00d')[0]).toMatchObject({ zeroPad: true, width: undefined });
  });

  it('counts %%d as a conversion, but not %%', () => {
    expect(parsePrintfFormat('100%%\n')).toHaveLength(0);
    expect(parsePrintfFormat('%%d\n')).toHaveLength(1);
    expect(parsePrintfFormat('%%%d')[0]).toMatchObject({ start: 2, escaped: false });
    expect(parsePrintfFormat('tail: %% %s%%|%d|%%\n').map((c) => c.start)).toEqual([9, 14]);
  });
});

describe('checkPrintfArgs (bpftrace 0.17 messages)', () => {
  it('counts arguments', () => {
    expect(checkPrintfArgs('%d %s\n', [INT64])).toEqual({
      message: 'printf: Not enough arguments for format string (1 supplied, 2 expected)', offset: 0, length: 6,
    });
    expect(checkPrintfArgs('%i\n', [INT64])?.message).toBe('printf: Too many arguments for format string (1 supplied, 0 expected)');
    expect(checkPrintfArgs('%%d\n', [])?.message).toBe('printf: Not enough arguments for format string (0 supplied, 1 expected)');
    expect(checkPrintfArgs('%d %s\n', [INT64, str(8)])).toBeUndefined();
  });

  it('checks each argument kind', () => {
    expect(checkPrintfArgs('x %s', [INT64])).toEqual({
      message: 'printf: %s specifier expects a value of type string (integer supplied)', offset: 2, length: 2, argument: 0,
    });
    expect(checkPrintfArgs('%s', [BUF])?.message).toBe('printf: %s specifier expects a value of type string (buffer supplied)');
    expect(checkPrintfArgs('%d', [{ kind: 'tuple', elements: [INT64, INT64] }])?.message)
      .toBe('printf: %d specifier expects a value of type integer (tuple supplied)');
    expect(checkPrintfArgs('%d', [{ kind: 'kstack', depth: 127, mode: 'bpftrace' }])?.message)
      .toBe('printf: %d specifier expects a value of type integer (string supplied)');
    expect(checkPrintfArgs('%rh', [INT64])?.message).toBe('printf: %rh specifier expects a value of type buffer (integer supplied)');
    expect(checkPrintfArgs('%rxx', [str(8)])?.message).toBe('printf: %rx specifier expects a value of type buffer (string supplied)');
    // Accepted: pointers and bools as integers; symbols, stacks, usernames... as strings.
    const ok: Array<[string, Type]> = [
      ['%d', { kind: 'pointer', target: INT64 }], ['%lx', { kind: 'bool' }], ['%s', { kind: 'ksym' }], ['%s', { kind: 'usym' }],
      ['%s', { kind: 'username' }], ['%s', { kind: 'inet' }], ['%s', { kind: 'ustack', depth: 5, mode: 'perf' }],
      ['%s', { kind: 'timestamp' }], ['%r', BUF], ['%c', int(8, false)],
    ];
    for (const [fmt, t] of ok) expect(checkPrintfArgs(fmt, [t]), fmt).toBeUndefined();
  });
});

describe('formatPrintf', () => {
  it('reproduces the q.bt capture (%% handling, NUL, %p, buffers, %c, byte widths)', () => {
    const lines = [
      f('100%%\n'),
      f('%d 100%%\n', L(5)),
      f('a%cb%d\n', L(0), L(7)),
      f('[%p] [%p] [%10p|] [%-10p|]\n', L(0), L(1), L(255), L(255)),
      f('%%d %d\n', L(5), L(6)),
      f('%%%d|%%%%|\n', L(5)),
      f('[%rh] [%5r] [%.2r] [%r] [%rx]\n', ...new Array(5).fill(B(0x61, 0x62, 0x01, 0xff))),
      f('[%rx] [%r]\n', B(), B(0x61, 0x22, 0x5c, 0x20, 0x7f, 0x7e, 0x0a)),
      f('[%-c|] [%3c] [%c%c]\n', L(65), L(66), L(0x68), L(0x69)),
      f('[%.3s] [%8.3s|] [%-8.3s|] [%s]\n', S('éa'), S('abcdef'), S('abcdef'), S('')),
      f('[%x] [%X] [%o] [%hhd] [%hhu] [%hd] [%hu]\n', L(4294967296 + 255), L(-255), L(4294967295), L(128), L(-128), L(32768), L(-32768)),
      f('[%5.2x] [%-5.3o|] [%08.3d] [%.10d]\n', L(10), L(8), L(5), L(-1)),
      f('tail: %% %s%%|%d|%%\n', S('s'), L(3)),
    ];
    const text = createFormatter('text');
    const json = createFormatter('json');
    expect(text.attachedProbes(1) + lines.join('') + '\n\n').toBe(fixture('extra/q.text.stdout'));
    expect(json.attachedProbes(1) + lines.map((l) => json.printf(l)).join('') + '\n\n').toBe(fixture('extra/q.json.stdout'));
  });

  it('%c of a value above 0x7f writes that one byte, as bpftrace 0.17 does (not a character)', () => {
    // `printf("%c|%c|%c|%3c|%-3c|\n", 65, 0x263a, -1, 200, 0xe9)`, captured from bpftrace 0.17.
    const line = f('%c|%c|%c|%3c|%-3c|\n', L(65), L(0x263a), L(-1), L(200), L(0xe9));
    expect(stringBytes(line)).toEqual(Buffer.from([0x41, 0x7c, 0x3a, 0x7c, 0xff, 0x7c, 0x20, 0x20, 0xc8, 0x7c, 0xe9, 0x20, 0x20, 0x7c, 0x0a]));
    expect(createFormatter('json').printf(line)).toBe('{"type": "printf", "data": "A|:|\\uffffffff|  \\uffffffc8|\\uffffffe9  |\\n"}\n');
  });

  it('%d and %u are 32-bit, l/ll/j/z/t 64-bit, hh/h truncate (09_printf)', () => {
    expect(f('[%d] [%u]', L(4294967296n), L(-1))).toBe('[0] [4294967295]');
    expect(f('[%hhd] [%hd]', L(300), L(70000))).toBe('[44] [4464]');
    expect(f('[%ld] [%lu] [%lld] [%llu] [%lx] [%llx] [%zd] [%jd] [%td]', ...new Array(9).fill(L(-1))))
      .toBe('[-1] [18446744073709551615] [-1] [18446744073709551615] [ffffffffffffffff] [ffffffffffffffff] [-1] [-1] [-1]');
    expect(f('%d', L(2147483648))).toBe('-2147483648');
    expect(f('%ld', L(-9223372036854775808n))).toBe('-9223372036854775808');
  });

  it('extends narrow argument types by their signedness first', () => {
    expect(f('%lu', { type: int(16, true), value: -2n })).toBe('18446744073709551614');
    expect(f('%ld', { type: int(32, false), value: -1n })).toBe('4294967295');
    expect(f('%d', { type: int(8, true), value: 0xffn })).toBe('-1');
    expect(f('%x', { type: int(8, false), value: -1n })).toBe('ff');
    expect(f('%d', { type: { kind: 'bool' }, value: 5n })).toBe('1');
    expect(f('%lx', { type: { kind: 'pointer', target: INT64 }, value: 0xffff888000000000n })).toBe('ffff888000000000');
  });

  it('pads and truncates strings and numbers like glibc', () => {
    expect(f('[%-10s] [%10s] [%.3s] [%5d] [%-5d] [%05d]', S('left'), S('right'), S('abcdef'), L(7), L(7), L(7)))
      .toBe('[left      ] [     right] [abc] [    7] [7    ] [00007]');
    expect(f('[%05d] [%-05d] [%.0d] [%5.0d] [%05s] [%05c]', L(-42), L(-42), L(0), L(0), S('ab'), L(65)))
      .toBe('[-0042] [-42  ] [] [     ] [   ab] [    A]');
    expect(f('[%018p] [%.5p] [%8p] [%08p]', L(4096), L(255), L(0), L(0))).toBe('[0x0000000000001000] [0x000ff] [   (nil)] [   (nil)]');
    expect(f('[%o] [%lo] [%X] [%lX]', L(-1), L(-1), L(-1), L(-1))).toBe('[37777777777] [1777777777777777777777] [FFFFFFFF] [FFFFFFFFFFFFFFFF]');
  });

  it('prints string-like arguments (strings cut at NUL, symbols, stacks with 8 spaces)', () => {
    expect(f('[%s]', S('ab\0cd'))).toBe('[ab]');
    expect(f('[%s]', { type: { kind: 'ksym' }, value: 'vfs_read' })).toBe('[vfs_read]');
    expect(f('[%s]', { type: { kind: 'ustack', depth: 2, mode: 'bpftrace' }, value: ['a+1', 'b+2'] })).toBe('[\n        a+1\n        b+2\n]');
    expect(f('[%s]', { type: { kind: 'kstack', depth: 2, mode: 'perf' }, value: ['ffff1 a+1'] })).toBe('[\n\tffff1 a+1\n]');
    expect(f('[%s]', { type: { kind: 'kstack', depth: 2, mode: 'bpftrace' }, value: [] })).toBe('[]');
  });

  it('text without conversions, and after the last one, is written as is', () => {
    expect(f('tab\there, backslash \\ quote " done\n')).toBe('tab\there, backslash \\ quote " done\n');
    expect(f('50%% %d%%', L(1))).toBe('50% 1%%');
    expect(f('')).toBe('');
  });

  it('compilePrintf parses once and formats many events', () => {
    const p = compilePrintf('pid %d comm %s\n');
    expect(p.conversions).toHaveLength(2);
    expect(p.format).toBe('pid %d comm %s\n');
    expect(p([L(1), S('a')])).toBe('pid 1 comm a\n');
    expect(p([L(2), S('bb')])).toBe('pid 2 comm bb\n');
  });
});
