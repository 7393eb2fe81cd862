// Positional parameters with bpftrace 0.17's rules (observed live): $N is a number read like C's
// strtoll (0 when not given), str($N) its text ("" when not given), $# the count.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import type { Expr } from '../../src/model/ast.js';
import { typecheck } from '../../src/typecheck/check.js';
import { parameterInteger } from '../../src/typecheck/positional.js';
import { typeName } from '../../src/model/types.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function check(text: string, params: string[] = []) {
  const parsed = parse(text, { params });
  expect(parsed.diagnostics).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), { params });
}

/** The errors of `BEGIN { <body> }` as `message@col-endCol`. */
function errors(body: string, params: string[] = []): string[] {
  return check(`BEGIN { ${body} }`, params).diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code} ${d.message}@${d.span.column}-${d.span.endColumn}`);
}

/** The type and constant value of each element of `BEGIN { print((...)) }`. */
function printed(args: string, params: string[] = []): [string, string | bigint][] {
  const r = check(`BEGIN { print((${args}, 0)); }`, params);
  expect(r.diagnostics).toEqual([]);
  const program = r.program!;
  const stmt = program.probes[0]!.probe.body.statements[0]!;
  const tuple = (stmt as { expr: Extract<Expr, { kind: 'Call' }> }).expr.args[0] as Extract<Expr, { kind: 'TupleExpr' }>;
  return tuple.elements.slice(0, -1).map((a) => {
    const v = program.constants.get(a);
    return [typeName(program.types.get(a)!), v instanceof Uint8Array ? Buffer.from(v).toString() : v!];
  });
}

describe('positional parameters', () => {
  it('reads numbers as strtoll does: blanks, sign, hex, octal, the whole text, within int64', () => {
    expect(['12', ' 12', '\t12', '+7', '-5', '0x10', '0X1f', '-0x10', '010', '0', '9223372036854775807', '-9223372036854775808']
      .map(parameterInteger)).toEqual([12n, 12n, 12n, 7n, -5n, 16n, 31n, -16n, 8n, 0n, 9223372036854775807n, -9223372036854775808n]);
    for (const bad of ['abc', '12abc', '12 ', '', ' ', '08', '0x', '- 5', '1e3', '0b11', '1_000', '18446744073709551615', '99999999999999999999']) {
      expect(parameterInteger(bad)).toBeUndefined();
    }
  });

  it('$N used as a number: its value, 0 when not given', () => {
    expect(printed('$1, $2, $5', ['0x10', '-5'])).toEqual([['int64', 16n], ['int64', -5n], ['int64', 0n]]);
  });

  it('$N used as a number but not one is an error, also where a string is expected', () => {
    expect(errors('@x = $1;', ['abc'])).toEqual(['E_POSITIONAL $1 used numerically but given "abc"@14-16']);
    expect(errors('printf("%s", $2);', ['1', '12abc'])[0]).toBe('E_POSITIONAL $2 used numerically but given "12abc"@22-24');
  });

  it('str($N) is the text of the parameter (numbers too), "" when not given', () => {
    expect(printed('$5, str($5), str($1), str($2)', ['12', 'hello'])).toEqual([
      ['int64', 0n], ['string[1]', ''], ['string[3]', '12'], ['string[6]', 'hello'],
    ]);
  });

  it('str($N, n) and str($N + k) cut the text; the length may be a parameter', () => {
    expect(printed('str($1, 2), str($1 + 2), str(1 + $1, 2), str($1 + 5), str($1, $2)', ['hello', '3'])).toEqual([
      ['string[3]', 'he'], ['string[4]', 'llo'], ['string[3]', 'el'], ['string[1]', ''], ['string[4]', 'hel'],
    ]);
  });

  it('str($N) is cut to BPFTRACE_STRLEN bytes with the NUL, as any str()', () => {
    const parsed = parse('BEGIN { @a = str($1); @b = str($1, 20); @c = str($1 + 2); }', { params: ['hello world'] });
    const r = typecheck(parsed.program, new FakeKernel(), { params: ['hello world'], stringLength: 8 });
    expect(['@a', '@b', '@c'].map((m) => typeName(r.program!.maps.get(m)!.valueType))).toEqual(['string[8]', 'string[8]', 'string[8]']);
    expect([...r.program!.constants.values()].filter((v) => v instanceof Uint8Array).map((v) => Buffer.from(v as Uint8Array).toString()))
      .toEqual(['hello w', 'hello w', 'llo wor']);
  });

  it('other uses of $N in str() are errors, with bpftrace words', () => {
    const add = 'only addition of a single constant less or equal to the length of $1 (which is 5) is allowed inside str()';
    expect(errors('@a = str($1 + 10);', ['hello'])).toEqual([`E_POSITIONAL ${add}@18-25`]);
    expect(errors('@a = str($1 - 1);', ['hello'])).toEqual([`E_POSITIONAL ${add}@18-24`]);
    expect(errors('@a = str(nsecs + ($1 + 1));', ['8'])).toEqual([
      'E_POSITIONAL str() only accepts positional parameters directly or with a single constant offset added@18-33',
    ]);
    expect(errors('@m[1] = 0; @a = str(@m[$1]);', ['1'])).toEqual([
      'E_POSITIONAL str() only accepts positional parameters directly or with a single constant offset added@29-35',
    ]);
  });

  it('$# is the number of parameters; str($#) is an error', () => {
    expect(printed('$#, $#', ['a', 'b', 'c'])).toEqual([['int64', 3n], ['int64', 3n]]);
    expect(printed('$#')).toEqual([['int64', 0n]]);
    expect(errors('@a = str($#);', ['a'])).toEqual(['E_POSITIONAL use $#, not str($#)@18-20']);
    expect(errors('@a = str(nsecs + $#);', ['a'])).toEqual(['E_POSITIONAL use $#, not str($#)@26-28']);
  });

  it('parameters are constants: lhist() bounds, unroll counts, and str($N) where a literal is expected', () => {
    const r = check('BEGIN { @h = lhist(1, 0, $1, 5); unroll($2) { @n++; } @p = pton(str($3)); }', ['20', '0x3', '1.2.3.4']);
    expect(r.diagnostics).toEqual([]);
    expect(r.program!.maps.get('@h')!.lhist).toEqual({ min: 0n, max: 20n, step: 5n });
    expect(typeName(r.program!.maps.get('@p')!.valueType)).toBe('uint8[4]');
  });
});
