// bpftrace 0.26's standard library functions (issue 14) in the type checker, on the fake kernel.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import type { Call } from '../../src/model/ast.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { formatAtCompileTime } from '../../src/typecheck/functions-check.js';
import { probeTypeName } from '../../src/model/providers.js';

function check(text: string, params: string[] = []) {
  const parsed = parse(text, {});
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), { params });
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
function errors(text: string, params: string[] = []): string[] {
  return check(text, params).diagnostics.filter((d) => d.severity === 'error')
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

  it('refuses a stack inside a for loop (a callback has no probe context); a map is counted there too', () => {
    expect(errors('BEGIN { @m[1] = 1; $n = len(kstack); for ($kv : @m) { print((len(ustack), len(@m), $n)); } }')).toEqual([
      'E_FOR_LOOP@1:62 len() of a stack is not available inside a for loop',
    ]);
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

describe('if comptime', () => {
  it('checks only the branch its condition picks', () => {
    expect(errors('macro show(x) { if comptime is_str(x) { printf("%s", x); } else { printf("%d", x); } } '
      + 'BEGIN { show("a"); show(1); if comptime (sizeof(int32) == 4 && !0) { $a = 1; } else { $a = "s"; $a + 1; } print($a); }')).toEqual([]);
  });

  it('as a value, and at the end of a macro used as a value (each branch ending with its value), picks one branch', () => {
    expect(errors('macro pick(x) { if comptime is_str(x) { let $l = strlen(x); $l * 10 } else if (x > 5) { x } else { 0 - x } } '
      + 'BEGIN { $a = if comptime (1 > 2) { "x" } else { 5 }; print(($a, pick("abc"), pick(7))); }')).toEqual([]);
    // Without an else there is no value.
    expect(parse('macro one(x) { if (x) { 1 } } BEGIN { print(one(1)); }', {}).diagnostics.map((d) => `${d.code}@${d.span.line}:${d.span.column}`))
      .toEqual(['E_MACRO@1:45']);
  });

  it('refuses a condition not known when the program is compiled', () => {
    expect(errors('BEGIN { if comptime (pid > 1) { } }')).toEqual([
      'E_COMPTIME@1:22 if comptime needs a condition known when the program is compiled',
    ]);
  });

  it('checks both branches of a plain if with a constant condition, as 0.17', () => {
    expect(errors('BEGIN { if (0) { $a = "s"; $a + 1; } }').map((e) => e.split(' ')[0])).toEqual(['E_TYPE@1:31']);
  });
});

describe('fail() and static_assert()', () => {
  it('fail() is an error with its formatted message where it is reached', () => {
    expect(errors('BEGIN { if ($1 < 2) { fail("want more than 1, got %d (%s)", $1, "x"); } }', ['1'])).toEqual([
      'E_FAIL@1:23 want more than 1, got 1 (x)',
    ]);
  });

  it('fail() is not reached in a branch a constant condition never takes, nor in one if comptime leaves out', () => {
    expect(errors('BEGIN { if ($1 < 2) { fail("want more than 1, got %d", $1); } }', ['5'])).toEqual([]);
    expect(errors('BEGIN { if (1) { } else { fail("no"); } if comptime (0) { fail("no"); } }')).toEqual([]);
    expect(errors('macro need_str(x) { if comptime !is_str(x) { fail("need a string"); } x } BEGIN { print(need_str("a")); }')).toEqual([]);
  });

  it('fail() arguments must be known when the program is compiled, and fit the format', () => {
    expect(errors('BEGIN { if (pid) { fail("%d", pid); } fail("%d %d", 1); }')).toEqual([
      'E_ARG_TYPE@1:31 fail() arguments must be known when the program is compiled',
      'E_PRINTF@1:44 fail: Not enough arguments for format string (1 supplied, 2 expected)',
    ]);
  });

  it('static_assert() fails with its message when its condition is false, and needs a known condition', () => {
    expect(errors('BEGIN { static_assert(sizeof(int32) == 4, "fine"); static_assert(sizeof(int32) == 8, "int32 is 4 bytes"); static_assert(pid, "x"); }')).toEqual([
      'E_FAIL@1:52 int32 is 4 bytes',
      'E_COMPTIME@1:121 static_assert() needs a condition known when the program is compiled',
    ]);
  });

  it('formats its message as printf, at compile time', () => {
    expect(formatAtCompileTime('%s-%5d|%-3x|%05d|%c|%u|%X 100%%\n', ['a', -12n, 10n, -42n, 65n, -1n, 255n]))
      .toBe('a-  -12|a  |-0042|A|4294967295|FF 100%');
  });
});

describe('printf %s of an enum value', () => {
  it('sends the value with the enum\'s names, for %s only', () => {
    const r = check('enum Color { RED, GREEN = 5, BLUE }; BEGIN { $c = (enum Color)6; printf("%s %d %s", $c, $c, (enum Color)0); }');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const printf = r.program!.events.find((e) => e.kind === 'printf')!;
    const [first, second, third] = printf.fields.map((f) => f.type);
    expect(first).toMatchObject({ kind: 'enum_name', enumerators: { type: 'enum Color' } });
    expect(first!.kind === 'enum_name' && [...first.enumerators.names]).toEqual([[0n, 'RED'], [5n, 'GREEN'], [6n, 'BLUE']]);
    expect(second!.kind).toBe('int');
    expect(third!.kind).toBe('enum_name');
  });

  it('names a value several enumerators share by the last of them, as bpftrace', () => {
    const r = check('enum Dup { A = 1, B = 1, C }; BEGIN { printf("%s", (enum Dup)1); }');
    const field = r.program!.events.find((e) => e.kind === 'printf')!.fields[0]!.type;
    expect(field.kind === 'enum_name' && [...field.enumerators.names]).toEqual([[1n, 'B'], [2n, 'C']]);
  });

  it('refuses %s of an integer computed from one: arithmetic gives a plain integer', () => {
    expect(errors('enum Color { RED, GREEN }; BEGIN { printf("%s", (enum Color)0 + 1); }')).toEqual([
      'E_PRINTF@1:49 printf: %s specifier expects a value of type string (integer supplied)',
    ]);
  });
});

describe('find()', () => {
  it('gives the variable the map\'s value type', () => {
    const r = check('BEGIN { @m[2] = (1, "hello"); let $v; if (find(@m, 2, $v)) { print($v); } }');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const vars = [...r.program!.variables.values()][0]!;
    expect([...vars.values()].find((v) => v.name === 'v')!.type).toMatchObject({ kind: 'tuple', elements: [{ kind: 'int' }, { kind: 'string' }] });
  });

  it('refuses a map without keys, an aggregation map, a value that is no variable and a variable of another type', () => {
    expect(errors('BEGIN { @s = 1; @c[1] = count(); @m[1] = 2; $t = "x"; find(@s, 1, $a); find(@c, 1, $b); find(@m, 1, 5); find(@m, 1, $t); find(@nope, 1, $d); }')).toEqual([
      'E_MAP_KEY@1:60 @s is used without a key elsewhere, but with a key here',
      'E_ARG_TYPE@1:77 find() of a count() map is not supported',
      'E_ARG_TYPE@1:101 find() stores the value it finds in a variable',
      'E_TYPE_MISMATCH@1:117 type mismatch for $t: assigning int64 to a variable of type string[2]',
      'E_UNDEFINED_MAP@1:127 map @nope is used but never assigned',
    ]);
  });
});

describe('probetype', () => {
  it('is bpftrace 0.26\'s name of each probe type', () => {
    expect((['BEGIN', 'END', 'self', 'test', 'bench', 'tracepoint', 'kfunc', 'kretfunc', 'asyncwatchpoint', 'uprobe'] as const).map(probeTypeName))
      .toEqual(['special', 'special', 'special', 'test', 'benchmark', 'tracepoint', 'fentry', 'fexit', 'watchpoint', 'uprobe']);
  });
});

describe('kfunc_exist()', () => {
  it('is a constant an if comptime folds: a function BTF does not have leaves its branch unchecked', () => {
    expect(errors('BEGIN { if comptime kfunc_exist("no_such_function") { $a = "s"; $a + 1; } }')).toEqual([]);
    expect(calls('BEGIN { print(kfunc_exist("no_such_function")); }')).toEqual(['kfunc_exist 0']);
  });
});
