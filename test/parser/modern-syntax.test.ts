// Syntax of bpftrace 0.2x that tracelet accepts on top of 0.17 (issue 14): the parser's view.
import { describe, expect, it } from 'vitest';
import { parse, splitNamedParams } from '../../src/parser/index.js';
import { at, body, diags, diagnosticsOf, expr, ok, st, sx } from './helpers.js';

describe('duration literals', () => {
  it.each([
    ['1ns', '1'],
    ['1us', '1000'],
    ['100ms', '100000000'],
    ['2s', '2000000000'],
    ['1m', '60000000000'],
    ['1h', '3600000000000'],
    ['1d', '86400000000000'],
    ['1_500ms', '1500000000'],
    ['1e3us', '1000000'],
  ])('%s is %s nanoseconds, a plain (signed) literal', (src, want) => {
    expect(expr(src)).toBe(want);
  });

  it('keeps digit separators and C suffixes as they were', () => {
    expect(expr('1_000')).toBe('1000');
    expect(expr('10us + 10u')).toBe('(+ 10000 10u)');
  });

  it('reports an unknown suffix with the duration units in the hint', () => {
    expect(diags('BEGIN { $x = 5sec; }')).toEqual([['E_INVALID_INTEGER', '1:14-1:18']]);
    expect(diagnosticsOf('BEGIN { $x = 5sec; }')[0]!.hint).toContain('ns, us, ms, s, m, h, d');
  });

  it('reports a duration that does not fit in 64 bits', () => {
    expect(diags('BEGIN { $x = 300000d; }')).toEqual([['E_INTEGER_TOO_LARGE', '1:14-1:21']]);
  });

  it('accepts durations and nanoseconds as the one field of interval and profile', () => {
    for (const ap of ['interval:1s', 'interval:100ms', 'interval:1m', 'interval:1000000', 'interval:1_000us', 'profile:hz:99', 'profile:10ms']) {
      expect(diags(`${ap} { exit(); }`)).toEqual([]);
    }
    expect(diags('interval:1x { }')).toEqual([['E_ATTACH_POINT', '1:10-1:12']]);
  });
});

describe('let declarations and block scoping', () => {
  it('parses the three forms', () => {
    expect(body('let $a; let $b = 1; let $c: uint16 = 2; let $d: struct task_struct * = curtask;')).toEqual([
      'let $a<a#1>', 'let $b<b#2> = 1', 'let $c<c#3>: uint16 = 2', 'let $d<d#4>: struct task_struct* = curtask',
    ]);
  });

  it('binds uses to the declaration of their block only', () => {
    expect(body('let $x = 1; if ($x) { let $y = $x; print($y); } print($y); $z = 1; { $z = 2; }')).toEqual([
      'let $x<x#1> = 1', 'if $x<x#1> {let $y<y#2> = $x<x#1>; print($y<y#2>)}', 'print($y)', '$z = 1', '{$z = 2}',
    ]);
  });

  it('gives declarations of the same name in sibling blocks their own variables', () => {
    expect(body('if (1) { let $v = 1; } else { let $v = "s"; }')).toEqual(['if 1 {let $v<v#1> = 1} else {let $v<v#2> = "s"}']);
  });

  it('leaves a program without declarations as bpftrace 0.17 reads it', () => {
    expect(body('if (1) { $v = 1; } print($v);')).toEqual(['if 1 {$v = 1}', 'print($v)']);
  });

  it('refuses a declaration that shadows a visible variable, with a note at it', () => {
    expect(diags('BEGIN { $a = 1; if (1) { let $a = 2; } }')).toEqual([['E_REDECLARED', '1:30-1:32']]);
    const [d] = diagnosticsOf('BEGIN { let $a; let $a = 2; }');
    expect(d!.code).toBe('E_REDECLARED');
    expect(d!.notes?.map((n) => at(n.span))).toEqual(['1:13-1:15']);
  });

  it('reports a let without a variable', () => {
    expect(diags('BEGIN { let x = 1; }')[0]).toEqual(['E_SYNTAX', '1:13-1:14']);
  });
});

describe('for over a range', () => {
  it('parses start..end with unary bounds, scoping the variable to the body', () => {
    expect(body('for ($i : 0..10) { print($i); } for ($j : $a..@b[1]) { } for ($k : -1..(5 + 1)) { break; continue; }')).toEqual([
      'for $i<i#1> : 0..10 {print($i<i#1>)}', 'for $j<j#2> : $a..@b[1] {}', 'for $k<k#3> : (- 1)..(+ 5 1) {break; continue}',
    ]);
  });

  it('still reads for over a map, and fields after a number', () => {
    expect(body('for ($kv : @m) { print($kv.0); }')).toEqual(['for $kv : @m {print((.0 $kv))}']);
  });

  it('takes the loop without parentheses, as bpftrace 0.26', () => {
    expect(body('for $i : 0..10 { print($i); } for $kv : @m { print($kv.0); }')).toEqual([
      'for $i<i#1> : 0..10 {print($i<i#1>)}', 'for $kv : @m {print((.0 $kv))}',
    ]);
    const [d] = diagnosticsOf('BEGIN { for ($i : 0..3 { } }');
    expect(d!.message).toMatch(/^expected '\)' after the map or range/);
  });

  it('asks for parentheses around a bound that is not one operand', () => {
    const [d] = diagnosticsOf('BEGIN { for ($i : 0..$n + 1) { } }');
    expect(d!.code).toBe('E_SYNTAX');
    expect(d!.message).toContain('0..($n + 1)');
  });
});

describe('if as a value (0.26)', () => {
  it('reads `if c { a } else { b }` in an expression as a conditional of two block expressions', () => {
    expect(body('$x = if $a { 1 } else { 2 }; $y = if ($a > 1) { $b = 3; $b } else if $c { 4 } else { 5 }; if $a { print(1); }')).toEqual([
      '$x = (? $a {1 =>} {2 =>})', '$y = (? (> $a 1) {$b = 3; $b =>} (? $c {4 =>} {5 =>}))', 'if $a {print(1)}',
    ]);
  });

  it("needs an 'else' when it is a value", () => {
    const [d] = diagnosticsOf('BEGIN { $x = if $a { 1 }; }');
    expect(d!.message).toMatch(/^expected 'else': an if used as a value needs one/);
  });
});

describe('?: with an empty middle, conditions without parentheses', () => {
  it('reads a ?: b as a ternary whose then is the condition itself', () => {
    const p = ok('BEGIN { $x = $a ?: $b ? 1 : 2; }');
    const s = p.probes[0]!.body.statements[0]!;
    expect(st(s)).toBe('$x = (? $a $a (? $b 1 2))');
    if (s.kind !== 'AssignStmt' || s.value.kind !== 'Ternary') throw new Error('not a ternary');
    expect(s.value.then).toBe(s.value.condition);
  });

  it('takes one operand after if, while and unroll', () => {
    expect(body('if $x { } else if !@done[1] { } while $i { $i--; } unroll 2 { } if ($a > 1) { }')).toEqual([
      'if $x {} else if (! @done[1]) {}', 'while $i {(--post $i)}', 'unroll 2 {}', 'if (> $a 1) {}',
    ]);
  });

  it('asks for parentheses around a condition with an operator', () => {
    expect(diagnosticsOf('BEGIN { while $i < 2 { } }').map((d) => d.message)).toEqual([
      "expected '{' (without parentheses a condition is one operand: put it in parentheses), found '<'",
    ]);
  });
});

describe('tuples and records', () => {
  it('reads (a,) as a one-element tuple and a trailing comma after more', () => {
    expect(expr('(1,)')).toBe('(tuple 1)');
    expect(expr('(1, "a",)')).toBe('(tuple 1 "a")');
    expect(expr('(1)')).toBe('1');
    expect(expr('$t[0]')).toBe('(index $t 0)');
  });

  it('reads (name = value, ...) as a record', () => {
    const s = ok('BEGIN { $r = (color = "green", size = 2 + 1); }').probes[0]!.body.statements[0]!;
    if (s.kind !== 'AssignStmt' || s.value.kind !== 'TupleExpr') throw new Error('not a record');
    expect(s.value.names).toEqual(['color', 'size']);
    expect(sx(s.value)).toBe('(tuple "green" (+ 2 1))');
  });

  it('refuses a record with a field twice, and a field without a name', () => {
    expect(diags('BEGIN { $r = (a = 1, a = 2); }')).toEqual([['E_SYNTAX', '1:22-1:23']]);
    expect(diags('BEGIN { $r = (a = 1, 2); }')[0]![0]).toBe('E_SYNTAX');
  });
});

describe('getopt named parameters', () => {
  const named = (args: string[]) => splitNamedParams(args).named;

  it('splits --name[=value] from positional parameters', () => {
    expect(splitNamedParams(['--aa=20', 'p1', '--bb', '-x'])).toEqual({ positional: ['p1', '-x'], named: new Map<string, string | true>([['aa', '20'], ['bb', true]]) });
  });

  it('turns each call into a literal: the value given, else the default', () => {
    const p = parse('BEGIN { $a = getopt("aa", 1); $b = getopt("bb"); $c = getopt("cc", "x", "a name"); $d = getopt("dd", -5); }',
      { named: named(['--aa=20', '--bb', '--cc=hello']) });
    expect(p.diagnostics).toEqual([]);
    expect(p.program.probes[0]!.body.statements.map(st)).toEqual(['$a = 20', '$b = true', '$c = "hello"', '$d = -5']);
  });

  it('reports bad calls, values of the wrong kind and parameters nothing reads', () => {
    expect(diags('BEGIN { $a = getopt(1); }')).toEqual([['E_GETOPT', '1:21-1:22']]);
    expect(parse('BEGIN { $a = getopt("aa", 1); }', { named: named(['--aa=x']) }).diagnostics.map((d) => d.code)).toEqual(['E_GETOPT']);
    expect(parse('BEGIN { $a = getopt("aa", 1); $b = getopt("aa", 2); }').diagnostics.map((d) => d.code)).toEqual(['E_GETOPT']);
    const [d] = parse('BEGIN { $a = getopt("aa", 1); }', { named: named(['--ab=3']) }).diagnostics;
    expect(d!.message).toBe('unknown named parameter --ab: the program reads no getopt("ab")');
    expect(d!.hint).toBe('it reads --aa');
  });
});

describe('macros', () => {
  it('expands a macro used as a statement into a block, and as a value into its expression', () => {
    const p = ok('macro one { 1 } macro add($v, @m, x) { $v += x; @m = x; $own = 1; } BEGIN { $a = one + one(); add($a, @c, 2 * 3); }');
    expect(p.macros).toBeUndefined();
    expect(p.probes[0]!.body.statements.map(st)).toEqual(['$a = (+ 1 1)', '{$a += (* 2 3); @c = (* 2 3); $own<own#m3> = 1}']);
  });

  it('refuses maps the macro was not given, wrong arguments and endless expansion', () => {
    expect(diags('macro bad() { @x++ } BEGIN { bad(); }')).toEqual([['E_MACRO', '1:15-1:17']]);
    expect(diags('macro w($x) { $x++ } BEGIN { w(@x); }').map((d) => d[0])).toEqual(['E_MACRO']);
    expect(diags('macro w(a, b) { a } BEGIN { w(1); }').map((d) => d[0])).toEqual(['E_MACRO']);
    expect(diags('macro loop(x) { loop(x) } BEGIN { loop(1); }').map((d) => d[0])).toEqual(['E_MACRO']);
    expect(diags('macro two() { $a = 1; } BEGIN { print(two()); }').map((d) => d[0])).toEqual(['E_MACRO']);
  });

  it('expands a body with statements before its value, used as a value, into a block expression', () => {
    const p = ok('macro inc(x) { $y = x; $y + 1 } macro add_one(x) { let $x = x; $x + 1 } BEGIN { $x = 2; $a = inc(3); $b = add_one($x); }');
    expect(p.probes[0]!.body.statements.map(st)).toEqual([
      '$x = 2', '$a = {$y<y#m1> = 3; (+ $y<y#m1> 1) =>}', '$b = {let $x<x#1> = $x; (+ $x<x#1> 1) =>}',
    ]);
  });
});

describe("bpftrace 0.26's standard library macros", () => {
  it('gives a script the library macro it uses, by name and number of arguments', () => {
    const p = ok('BEGIN { $a = ppid; $b = ppid(curtask); $c = leader_comm(); }');
    expect(p.probes[0]!.body.statements.map(st)).toEqual([
      '$a = (. (. curtask real_parent) pid)', '$b = (. (. curtask real_parent) pid)', '$c = (. (. curtask group_leader) comm)',
    ]);
  });

  it("leaves the script's own macros of a name and number of parameters in place, and overloads by number", () => {
    const p = ok('macro ppid() { 7 } macro twice(x) { x * 2 } macro twice(x, y) { (x + y) * 2 } BEGIN { $a = ppid(); $b = ppid(curtask); $c = twice(1); $d = twice(1, 2); }');
    expect(p.probes[0]!.body.statements.map(st)).toEqual([
      '$a = 7', '$b = (. (. curtask real_parent) pid)', '$c = (* 1 2)', '$d = (* (+ 1 2) 2)',
    ]);
    expect(diags('macro m(x) { x } macro m(y) { y } BEGIN { m(1); }').map((d) => d[0])).toEqual(['E_MACRO']);
  });
});

describe('block expressions', () => {
  it('are a value where an expression can be, their last expression without a ;', () => {
    expect(expr('{ let $b = 1; $b }')).toBe('{let $b<b#1> = 1; $b<b#1> =>}');
    expect(expr('{ 1 } + { $q = 2; $q * 3 }')).toBe('(+ {1 =>} {$q = 2; (* $q 3) =>})');
    expect(expr('f({ printf("hi") })')).toBe('f({printf("hi") =>})');
  });

  it('scope their declarations to themselves', () => {
    expect(diags('BEGIN { $a = { let $b = 1; $b }; let $b = 2; print($a + $b); }')).toEqual([]);
    expect(diags('BEGIN { let $b = 0; $a = { let $b = 1; $b }; }').map((d) => d[0])).toEqual(['E_REDECLARED']);
  });

  it('stay block statements where a statement begins', () => {
    expect(ok('BEGIN { { $a = 1; $a } }').probes[0]!.body.statements.map(st)).toEqual(['{$a = 1; $a}']);
  });

  it('refuse a block that ends with a ; or with no expression', () => {
    expect(diags('BEGIN { $a = { let $b = 1; $b; }; }')).toEqual([['E_SYNTAX', '1:14-1:33']]);
    expect(diags('BEGIN { $a = { }; }')).toEqual([['E_SYNTAX', '1:14-1:17']]);
    expect(diags('BEGIN { $a = { if (1) { } }; }')).toEqual([['E_SYNTAX', '1:14-1:28']]);
  });

  it('discard a value with _ = e (0.26)', () => {
    expect(ok('BEGIN { _ = f(1); }').probes[0]!.body.statements.map(st)).toEqual(['f(1)']);
  });

  it('does not take a probe named like a macro for one', () => {
    expect(diags('macro_x:foo { }').map((d) => d[0])).not.toContain('E_MACRO');
  });
});
