// bpftrace 0.26's standard library functions (issue 14) in the type checker, on the fake kernel.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import type { Call } from '../../src/model/ast.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function check(text: string) {
  const parsed = parse(text, {});
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), {});
}

/** `name(...) = value` for each call the checker made a constant, in the order it checked them. */
function calls(text: string): string[] {
  const r = check(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return [...r.program!.constants].filter(([e]) => e.kind === 'Call')
    .map(([e, v]) => `${(e as Call).name} ${String(v)}`);
}

describe('type predicates', () => {
  it('answer from the argument\'s type, as constants', () => {
    expect(calls('BEGIN { $a = (int8[8])1; $u = (uint32)1; print((is_str(comm), is_str(1), is_integer(pid), is_integer((int8 *)$u), '
      + 'is_ptr((int8 *)$u), is_ptr(1), is_array($a), is_array("abc"), is_unsigned_integer($u), is_unsigned_integer(-1))); }'))
      .toEqual(['is_str 1', 'is_str 0', 'is_integer 1', 'is_integer 0', 'is_ptr 1', 'is_ptr 0', 'is_array 1', 'is_array 0',
        'is_unsigned_integer 1', 'is_unsigned_integer 0']);
  });

  it('is_literal() is 1 for literals only, also through a macro\'s parameter', () => {
    expect(calls('macro lit(x) { is_literal(x) } BEGIN { $x = 1; print((is_literal(1), is_literal(-2), is_literal("a"), '
      + 'is_literal(true), is_literal($x), is_literal(1 + 1), lit(3), lit($x))); }'))
      .toEqual(['is_literal 1', 'is_literal 1', 'is_literal 1', 'is_literal 1', 'is_literal 0', 'is_literal 0', 'is_literal 1', 'is_literal 0']);
  });

  it('takes one argument', () => {
    const r = typecheck(parse('BEGIN { print(is_str()); }', {}).program, new FakeKernel(), {});
    expect(r.diagnostics.map((d) => d.code)).toContain('E_ARITY');
  });
});

/** `code@line:column message` of each error. */
function errors(text: string): string[] {
  return check(text).diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.code}@${d.span.line}:${d.span.column} ${d.message}`);
}

describe('memcmp()', () => {
  it('compares values of the program, with a constant or computed count', () => {
    expect(errors('BEGIN { $n = 2; $a = (1, "x"); print((memcmp("abc", "abd", 3), memcmp($a, (2, "y"), 9), memcmp(comm, "x", $n), '
      + 'memcmp(pid, tid, 8), memcmp((int8 *)0, (int8 *)1, 8))); }')).toEqual([]);
  });

  it('refuses a constant count beyond either value, values without bytes of their own and a count that is no integer', () => {
    expect(errors('BEGIN { memcmp("ab", "abcd", 4); memcmp(kstack, "a", 1); memcmp("a", "b", "c"); memcmp((uint16)1, 2, -1); }')).toEqual([
      'E_ARG_TYPE@1:30 memcmp() count 4 is more than the 3 bytes of left',
      'E_ARG_TYPE@1:41 memcmp() compares values held in the program, got kstack',
      'E_ARG_TYPE@1:75 memcmp() count must be an integer, got string[2]',
      'E_ARG_TYPE@1:102 memcmp() count must not be negative, got -1',
    ]);
  });
});

describe('len()', () => {
  it('takes a map with keys (an aggregation too) or a stack where it is taken', () => {
    expect(errors('BEGIN { @m[1] = 1; @c["a"] = count(); print((len(@m), len(@c), len(kstack), len(ustack(3)), len(kstack(raw, 2)))); }')).toEqual([]);
  });

  it('refuses a map without keys, a hist() map, a stack kept in a variable and other values', () => {
    expect(errors('BEGIN { @s = 1; @h[1] = hist(1); $k = kstack; len(@s); len(@h); len($k); len("abc"); len(@nope); }')).toEqual([
      'E_ARG_TYPE@1:51 len() counts the entries of a map with keys; @s has no key',
      'E_ARG_TYPE@1:60 len() of a hist() map is not supported',
      'E_ARG_TYPE@1:69 len() counts the frames of a stack where it is taken: len(ustack), len(kstack(5))',
      'E_ARG_TYPE@1:78 len() takes a map, ustack or kstack, got string[4]',
      'E_UNDEFINED_MAP@1:90 map @nope is used but never assigned',
    ]);
  });
});
