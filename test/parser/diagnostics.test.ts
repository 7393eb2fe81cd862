import { describe, expect, it } from 'vitest';
import { at, diags, diagnosticsOf } from './helpers.js';
import { parse } from '../../src/parser/index.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import type { AssignStmt } from '../../src/model/ast.js';

describe('a program without probes', () => {
  it.each([
    ['', '1:1-1:1'],
    ['  \n\n', '1:1-1:1'],
    ['// only a comment\n', '1:18-1:18'],
    ['/* a\n   b */\n', '2:8-2:8'],
    ['struct Foo { int a; };', '1:23-1:23'],
    ['#include <linux/sched.h>\n', '1:25-1:25'],
  ])('%j is refused with E_NO_PROBES where a probe was expected', (src, span) => {
    expect(diags(src)).toEqual([['E_NO_PROBES', span]]);
  });

  it('is not reported on top of a syntax error', () => {
    expect(diags('BEGIN {').map(([code]) => code)).toEqual(['E_SYNTAX']);
  });
});

describe('lexical diagnostics', () => {
  it('E_UNTERMINATED_STRING spans from the quote to the end of the line', () => {
    expect(diags('BEGIN { printf("abc);\n}')[0]).toEqual(['E_UNTERMINATED_STRING', '1:16-1:22']);
  });

  it('E_UNTERMINATED_COMMENT points at the /*', () => {
    expect(diags('BEGIN { } /* never closed\n\n')).toEqual([['E_UNTERMINATED_COMMENT', '1:11-1:13']]);
  });

  it('E_NUL_IN_STRING: a raw NUL byte in a literal is refused at the literal, as bpftrace refuses it', () => {
    expect(diags('BEGIN { printf("a\0b\\n"); }')).toEqual([['E_NUL_IN_STRING', '1:16-1:23']]);
    expect(diags('BEGIN { @s = "\0"; }')).toEqual([['E_NUL_IN_STRING', '1:14-1:17']]);
    // The escapes are how a NUL is written (bpftrace 0.17 accepts them).
    expect(diags('BEGIN { printf("a\\0b\\x00c\\n"); }')).toEqual([]);
  });

  it('E_BAD_ESCAPE points at the escape sequence', () => {
    expect(diags('BEGIN { printf("a\\qb"); }')).toEqual([['E_BAD_ESCAPE', '1:18-1:20']]);
    expect(diags('BEGIN { printf("\\xZZ"); }')).toEqual([['E_BAD_ESCAPE', '1:17-1:19']]);
    expect(diags('BEGIN { printf("\\777"); }')).toEqual([['E_BAD_ESCAPE', '1:17-1:21']]);
  });

  it.each([
    ['08', '1:14-1:16'],
    ['0x', '1:14-1:16'],
    ['1_', '1:14-1:16'],
    ['12abc', '1:14-1:19'],
    ['10uu', '1:14-1:18'],
    ['10lll', '1:14-1:19'],
    ['1e', '1:14-1:16'],
    ['0xfg', '1:14-1:18'],
  ])('E_INVALID_INTEGER for %s', (lit, span) => {
    expect(diags(`BEGIN { @x = ${lit}; }`)).toEqual([['E_INVALID_INTEGER', span]]);
  });

  it.each([
    ['18446744073709551616', '1:14-1:34'],
    ['0x10000000000000000', '1:14-1:33'],
    ['99999999999999999999999', '1:14-1:37'],
    ['2e19', '1:14-1:18'],
    ['1e300', '1:14-1:19'],
  ])('E_INTEGER_TOO_LARGE for %s', (lit, span) => {
    expect(diags(`BEGIN { @x = ${lit}; }`)).toEqual([['E_INTEGER_TOO_LARGE', span]]);
  });

  it('E_INVALID_CHARACTER, one per run of bad characters', () => {
    expect(diags('BEGIN { @x = 1 ` 2; }')).toEqual([['E_INVALID_CHARACTER', '1:16-1:17'], ['E_SYNTAX', '1:18-1:19']]);
    expect(diags('BEGIN { @x = 1; } \x7f\x01')).toEqual([['E_INVALID_CHARACTER', '1:19-1:21']]);
    expect(diags('BEGIN { ``` }')).toEqual([['E_INVALID_CHARACTER', '1:9-1:12']]);
  });
});

describe('syntax errors', () => {
  it('says what was expected and what was found', () => {
    const [d] = diagnosticsOf('BEGIN { $x = 1 foo; }');
    expect(d).toMatchObject({ code: 'E_SYNTAX', message: "expected ';' or '}' after the statement, found 'foo'" });
    expect(at(d!.span)).toBe('1:16-1:19');
  });

  it.each([
    ['BEGIN { $x = ; }', '1:14-1:15', "expected an expression, found ';'"],
    ['BEGIN { $x = 1', '1:15-1:15', "expected a statement or '}', found end of input"],
    ['kprobe:f kprobe:g { }', '1:10-1:18', "expected ',', '/' or '{' after the attach point, found 'kprobe:g'"],
    ['kprobe:f /pid == 1 { }', '1:20-1:21', "expected '/' to end the predicate, found '{'"],
    ['kprobe:f /pid == / { }', '1:18-1:19', "expected an expression, found '/'"],
    ['BEGIN { if ($x { } }', '1:16-1:17', "expected ',' or ')', found '{'"],
    ['BEGIN { if ) { } }', '1:12-1:13', "expected an expression, found ')'"],
    ['BEGIN { if $x == 1 { } }', '1:15-1:17', "expected '{' (without parentheses a condition is one operand: put it in parentheses), found '=='"],
    ['BEGIN { printf("x" }', '1:20-1:21', "expected ',' or ')' in the argument list, found '}'"],
    ['BEGIN { @x[1 = 2; }', '1:14-1:15', "expected ',' or ']' after the map key, found '='"],
    ['BEGIN { $x = $y ? 1; }', '1:20-1:21', "expected ':' in the conditional expression, found ';'"],
    ['BEGIN { for ($k in @m) { } }', '1:17-1:19', "expected ':' between the loop variable and the map or range, found 'in'"],
    ['$x = 1; BEGIN { }', '1:1-1:3', "expected a probe, a struct definition or a config block, found '$x'"],
    ['BEGIN { } }', '1:11-1:12', "expected a probe, a struct definition or a config block, found '}'"],
    ['struct foo\nBEGIN { }', '2:1-2:6', "expected ';' after the definition, found 'BEGIN'"],
    ['BEGIN { $p->; }', '1:13-1:14', "expected a field name after '->', found ';'"],
    ['BEGIN { $t.; }', '1:12-1:13', "expected a field name or a tuple index after '.', found ';'"],
  ])('%s', (src, span, message) => {
    const ds = diagnosticsOf(src);
    expect(ds.map((d) => [d.code, at(d.span), d.message])).toEqual([['E_SYNTAX', span, message]]);
  });

  it('E_ASSIGN_TARGET and E_INCDEC_TARGET', () => {
    expect(diags('BEGIN { pid = 1; }')).toEqual([['E_ASSIGN_TARGET', '1:9-1:12']]);
    expect(diags('BEGIN { $p->x = 1; }')).toEqual([['E_ASSIGN_TARGET', '1:9-1:14']]);
    expect(diags('BEGIN { (1 + 2) = 3; }')).toEqual([['E_ASSIGN_TARGET', '1:10-1:15']]);
    expect(diags('BEGIN { 3++; }')).toEqual([['E_INCDEC_TARGET', '1:9-1:10']]);
    expect(diags('BEGIN { ++count(); }')).toEqual([['E_INCDEC_TARGET', '1:11-1:18']]);
  });

  it('E_PREPROCESSOR', () => {
    expect(diags('#ifdef X\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:9']]);
    expect(diags('#endif\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:7']]);
    expect(diags('#else\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:6']]);
    expect(diags('#define F(x) x\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:10-1:11']]);
    expect(diags('#frobnicate\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:12']]);
    expect(diags('#include foo\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:13']]);
    expect(diags('#if X > 1\n#endif\nBEGIN { }')).toEqual([['E_PREPROCESSOR', '1:1-1:10']]);
    expect(diags('#pragma once\nBEGIN { }')).toEqual([]);
  });
});

describe('recovery: several errors in one run', () => {
  it('reports every broken statement and keeps the good ones', () => {
    const src = `BEGIN {
  $a = 1 +;
  $b = 2;
  $c = (3;
  @d[1 = 4;
  $e = 5;
}
kprob:x { @f = 6; }
tracepoint:syscalls:sys_enter_openat /pid == / {
  @g = 7;
}
END { printf("done\\n") }
`;
    const r = parse(src);
    expect(r.diagnostics.map((d) => [d.code, d.span.line])).toEqual([
      ['E_SYNTAX', 2],
      ['E_SYNTAX', 4],
      ['E_SYNTAX', 5],
      ['E_UNKNOWN_PROVIDER', 8],
      ['E_SYNTAX', 9],
    ]);
    const [begin, tp, end] = r.program.probes;
    expect(r.program.probes.length).toBe(3);
    // `@d[1 = 4` is repaired by inserting the missing ']'.
    expect(begin!.body.statements.map((s) => (s as AssignStmt).target.name)).toEqual(['b', 'c', 'd', 'e']);
    expect(tp!.predicate).toBeUndefined();
    expect(tp!.body.statements.length).toBe(1);
    expect(end!.attachPoints[0]!.provider).toBe('END');
  });

  it('lexical and syntax errors together', () => {
    const r = parse('BEGIN { @a = 0x; @b = "x\\q"; @c = ; }\nkprobe:f { @d = 1 }');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E_INVALID_INTEGER', 'E_BAD_ESCAPE', 'E_SYNTAX']);
    expect(r.program.probes.length).toBe(2);
  });

  it('diagnostics are sorted by position', () => {
    const ds = diagnosticsOf('BEGIN { @a = ; }\n#bogus\nBEGN { }\nEND { @x = 08 }');
    const starts = ds.map((d) => d.span.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(ds.map((d) => d.code)).toEqual(['E_SYNTAX', 'E_PREPROCESSOR', 'E_UNKNOWN_PROVIDER', 'E_INVALID_INTEGER']);
  });

  it('renders with the source line and an underline', () => {
    const src = 'BEGIN { $x = 1 foo; }';
    const [d] = diagnosticsOf(src);
    expect(renderDiagnostic(d!, { name: 'prog.bt', text: src })).toBe(
      "prog.bt:1:16: error: expected ';' or '}' after the statement, found 'foo'\n" +
        'BEGIN { $x = 1 foo; }\n' +
        '               ^~~\n',
    );
  });
});

describe('never throws', () => {
  it.each([
    '', ' ', '\n', '{', '}', '/', '//', '/*', '"', '#', '#if', '@', '$', '$$', '(', ')', ':', 'k:', 'BEGIN', 'BEGIN {',
    'BEGIN /', 'BEGIN / {', 'k:f / / {', 'struct', 'struct {', 'enum', 'config', 'config =', 'config = {', '\0\x01\x02',
    'BEGIN { (', 'BEGIN { ((((((((', 'BEGIN { sizeof(', 'BEGIN { offsetof(struct', 'BEGIN { $x = (struct', 'BEGIN { @x[',
    'BEGIN { for ( ', 'BEGIN { if (1) {} else', 'BEGIN { unroll', '}}}}{{{{', 'uprobe:"', 'uprobe:/x:"a::b',
  ])('%j', (src) => {
    const r = parse(src);
    expect(r.program.kind).toBe('Program');
    expect(r.diagnostics.every((d) => d.code !== 'E_INTERNAL')).toBe(true);
  });
});
