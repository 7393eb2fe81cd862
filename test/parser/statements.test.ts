import { describe, expect, it } from 'vitest';
import { at, body, cty, ok, sx } from './helpers.js';
import { parse } from '../../src/parser/index.js';
import type { IfStmt } from '../../src/model/ast.js';

describe('statements', () => {
  it('assignments, plain and compound', () => {
    expect(body('@x = 1; $y = 2; @m[1, 2] = 3;')).toEqual(['@x = 1', '$y = 2', '@m[1, 2] = 3']);
    expect(body('$a += 1; $a -= 1; $a *= 2; $a /= 2; $a %= 3; $a &= 1; $a |= 1; $a ^= 1; $a <<= 1; $a >>= 1;')).toEqual([
      '$a += 1', '$a -= 1', '$a *= 2', '$a /= 2', '$a %= 3', '$a &= 1', '$a |= 1', '$a ^= 1', '$a <<= 1', '$a >>= 1',
    ]);
    expect(body('@x[pid] += arg0')).toEqual(['@x[pid] += arg0']);
  });

  it('increment and decrement statements', () => {
    expect(body('@c++; $i--; ++@c; --$i; @m[comm]++;')).toEqual(['(++post @c)', '(--post $i)', '(++pre @c)', '(--pre $i)', '(++post @m[comm])']);
  });

  it('expression statements and calls', () => {
    expect(body('printf("%d\\n", pid); exit(); time("%H:%M:%S"); print(@); clear(@m)')).toEqual([
      'printf("%d\\n", pid)', 'exit()', 'time("%H:%M:%S")', 'print(@)', 'clear(@m)',
    ]);
  });

  it('delete in both forms is a plain call', () => {
    expect(body('delete(@m[1]); delete(@m, 1); delete(@m[comm, pid])')).toEqual([
      'delete(@m[1])', 'delete(@m, 1)', 'delete(@m[comm, pid])',
    ]);
  });

  it('if / else if / else', () => {
    expect(body('if ($a) { @x = 1; }')).toEqual(['if $a {@x = 1}']);
    expect(body('if ($a > 1) { @x = 1 } else { @x = 2 }')).toEqual(['if (> $a 1) {@x = 1} else {@x = 2}']);
    expect(body('if ($a) { } else if ($b) { $c = 1; } else if ($d) { } else { $e = 1 }')).toEqual([
      'if $a {} else if $b {$c = 1} else if $d {} else {$e = 1}',
    ]);
    const s = ok('BEGIN { if (1) { } else if (2) { } }').probes[0]!.body.statements[0] as IfStmt;
    expect(s.otherwise?.kind).toBe('IfStmt');
  });

  it('while with break and continue; unroll; for over a map', () => {
    expect(body('while ($i < 10) { $i++; if ($i == 5) { continue; } if ($i > 8) { break } }')).toEqual([
      'while (< $i 10) {(++post $i); if (== $i 5) {continue}; if (> $i 8) {break}}',
    ]);
    expect(body('unroll(4) { @x++ }')).toEqual(['unroll 4 {(++post @x)}']);
    expect(body('unroll($1) { @x++ }')).toEqual(['unroll $1 {(++post @x)}']);
    expect(body('for ($kv : @start) { printf("%d %d\\n", $kv.0, $kv.1); }')).toEqual([
      'for $kv : @start {printf("%d %d\\n", (.0 $kv), (.1 $kv))}',
    ]);
  });

  it('return, nested blocks, empty statements, optional final semicolon', () => {
    expect(body('return;')).toEqual(['return']);
    expect(body('return')).toEqual(['return']);
    expect(body('{ $a = 1; { $b = 2 } }')).toEqual(['{$a = 1; {$b = 2}}']);
    expect(body(';;; @x = 1;;; ;')).toEqual(['@x = 1']);
    expect(body('')).toEqual([]);
    expect(body('@x = 1')).toEqual(['@x = 1']);
    expect(body('if (1) { @x = 1 }; @y = 2')).toEqual(['if 1 {@x = 1}', '@y = 2']);
    expect(body('if (1) { @x = 1 } @y = 2')).toEqual(['if 1 {@x = 1}', '@y = 2']);
  });

  it('statement spans exclude the terminator', () => {
    const src = 'BEGIN {\n  @x = 1;\n  if ($a) {\n    return;\n  } else { $b++ }\n  while (1) { break; }\n}';
    const ss = ok(src).probes[0]!.body.statements;
    expect(ss.map((s) => at(s.span))).toEqual(['2:3-2:9', '3:3-5:18', '6:3-6:23']);
    const i = ss[1] as IfStmt;
    expect(at(i.then.statements[0]!.span)).toBe('4:5-4:11');
    expect(at(i.condition.span)).toBe('3:7-3:9');
  });
});

describe('probes', () => {
  it('several attach points, across lines, with a predicate', () => {
    const p = ok('kprobe:blk_account_io_done,\nkprobe:__blk_account_io_done\n/@start[arg0]/\n{\n\t@usecs = hist(1);\n}').probes[0]!;
    expect(p.attachPoints.map((a) => a.raw)).toEqual(['kprobe:blk_account_io_done', 'kprobe:__blk_account_io_done']);
    expect(sx(p.predicate!)).toBe('@start[arg0]');
    expect(at(p.predicate!.span)).toBe('3:2-3:14');
  });

  it('predicates with division and comparisons', () => {
    const p = ok('kprobe:f /@a / 2 > 1 && pid != 0/ { }').probes[0]!;
    expect(sx(p.predicate!)).toBe('(&& (> (/ @a 2) 1) (!= pid 0))');
    const q = ok('kprobe:f /(pid / 2) == 1/\n{ }').probes[0]!;
    expect(sx(q.predicate!)).toBe('(== (/ pid 2) 1)');
  });

  it('a predicate right after the attach point, without spaces', () => {
    const p = ok('kprobe:do_sys_open/comm == "x"/{ }').probes[0]!;
    expect(p.attachPoints[0]!.parts).toEqual(['do_sys_open']);
    expect(sx(p.predicate!)).toBe('(== comm "x")');
    const u = ok('uprobe:/bin/bash:readline/pid == 1/ { }').probes[0]!;
    expect(u.attachPoints[0]!.parts).toEqual(['/bin/bash', 'readline']);
    expect(sx(u.predicate!)).toBe('(== pid 1)');
  });

  it('comments inside predicates and between probes', () => {
    const prog = ok('// lead\nkprobe:f /* c */ /pid /* d */ == 1/ // e\n{ @x = 1; /* f */ }\n/* g */ END { }');
    expect(prog.probes.length).toBe(2);
    expect(sx(prog.probes[0]!.predicate!)).toBe('(== pid 1)');
  });

  it('several probes, and probes written on one line', () => {
    const prog = ok('BEGIN{@x=1}END{clear(@x)}kprobe:f{@y=2}');
    expect(prog.probes.map((p) => p.attachPoints[0]!.provider)).toEqual(['BEGIN', 'END', 'kprobe']);
  });
});

describe('top level: includes, C types, config', () => {
  it('struct, union and enum definitions; forward declarations', () => {
    const prog = ok(`
struct cfs_rq {
  struct load_weight load;
  unsigned long runnable_weight;
  unsigned int nr_running, h_nr_running;
  const char *name;
  char comm[16];
  struct task_struct **tasks;
  u64 flags:3;
  int x : 5;
};
struct fwd;
union u { int i; char c[4]; };
enum color { RED, GREEN = 5, BLUE = -1, };
enum { ANON };
BEGIN { }`);
    expect(prog.cDefinitions.map((d) => cty(d.specifier))).toEqual([
      'struct cfs_rq{load struct load_weight; runnable_weight unsigned long; nr_running unsigned int; ' +
        'h_nr_running unsigned int; name *char; comm [16]char; tasks **struct task_struct; flags u64:3; x int:5}',
      'union u{i int; c [4]char}',
      'enum color{RED,GREEN=5,BLUE=-1}',
      'enum{ANON}',
    ]);
    const s = prog.cDefinitions[0]!;
    expect(at(s.span)).toBe('2:1-11:3');
    expect(s.specifier.kind === 'CRecordType' && s.specifier.fields!.map((f) => at(f.span))).toEqual([
      '3:3-3:26', '4:3-4:32', '5:3-5:26', '5:3-5:40', '6:3-6:19', '7:3-7:16', '8:3-8:29', '9:3-9:14', '10:3-10:12',
    ]);
  });

  it('nested and anonymous structs and unions, unnamed bit-fields', () => {
    const prog = ok(`
struct outer {
  union { int i; char c; };
  struct { long a, b; } pair;
  struct inner { u8 x; } in;
  int flag : 1, : 3, other : 4;
  enum state { ON, OFF } st;
};
BEGIN { }`);
    expect(cty(prog.cDefinitions[0]!.specifier)).toBe(
      'struct outer{_ union{i int; c char}; pair struct{a long; b long}; in struct inner{x u8}; ' +
        'flag int:1; _ int:3; other int:4; st enum state{ON,OFF}}',
    );
  });

  it('declarators: pointers to functions and arrays, arrays of pointers, multi-dimensional arrays', () => {
    const prog = ok(`
struct ops {
  void (*release)(struct inode *, struct file *f);
  int (*printk)(const char *fmt, ...);
  long (*table[4])(void);
  int (*row)[8];
  char *names[2];
  u32 grid[2][3];
  const char * const *argv;
};
BEGIN { }`);
    expect(cty(prog.cDefinitions[0]!.specifier)).toBe(
      'struct ops{release *func() void; printk *func() int; table [4]*func() long; row *[8]int; ' +
        'names [2]*char; grid [2][3]u32; argv **char}',
    );
  });

  it('typedef: of integers, structs defined in place, pointers and function pointers', () => {
    const prog = ok(`
typedef unsigned int myu32, *myu32p;
typedef struct pair { int a; int b; } pair_t;
typedef void (*handler_t)(int);
typedef union { u64 raw; u8 bytes[8]; } word_t;
struct uses { myu32 n; pair_t p; handler_t h; };
kprobe:f { }`);
    expect(prog.cDefinitions.map((d) => [cty(d.specifier), d.typedefs.map((t) => `${t.name}: ${cty(t.type)}`)])).toEqual([
      ['unsigned int', ['myu32: unsigned int', 'myu32p: *unsigned int']],
      ['struct pair{a int; b int}', ['pair_t: struct pair{a int; b int}']],
      ['void', ['handler_t: *func() void']],
      ['union{raw u64; bytes [8]u8}', ['word_t: union{raw u64; bytes [8]u8}']],
      ['struct uses{n myu32; p pair_t; h handler_t}', []],
    ]);
    // After the typedef's ';' the lexer is back at the top level: `kprobe:f` is an attach point.
    expect(prog.probes[0]!.attachPoints[0]!.provider).toBe('kprobe');
  });

  it('GCC attributes on records and members: packed and aligned(N) are kept, others ignored', () => {
    const prog = ok(`
struct __attribute__((packed)) a { int x __attribute__((aligned(8))), y : 3 __attribute__((unused)); };
struct b { char c; } __attribute__((aligned(16), deprecated));
typedef struct { int z; } __attribute__ ((__packed__)) c_t;
BEGIN { }`);
    const records = prog.cDefinitions.map((d) => d.specifier).filter((s) => s.kind === 'CRecordType');
    expect(records.map((r) => r.layout)).toEqual([{ packed: true }, { aligned: 16 }, { packed: true }]);
    expect(records[0]!.fields!.map((f) => f.layout)).toEqual([{ aligned: 8 }, undefined]);
  });

  it("a definition with a body may leave out its ';', as in bpftrace", () => {
    const prog = ok('struct foo { int a; int b; } union u { int x; } __attribute__((packed)) enum e { A, B }\nBEGIN { }');
    expect(prog.cDefinitions.map((d) => cty(d.specifier))).toEqual(['struct foo{a int; b int}', 'union u{x int}', 'enum e{A,B}']);
    expect(prog.probes[0]!.attachPoints[0]!.provider).toBe('BEGIN');
  });

  it('C definition errors point at the declaration', () => {
    const bad = (src: string) => parse(`${src}\nBEGIN { }`).diagnostics.map((d) => `${at(d.span)} ${d.message}`);
    expect(bad('struct s { int; };')).toEqual(['1:12-1:15 expected a field name']);
    expect(bad('typedef int;')).toEqual(['1:9-1:12 expected the name the typedef defines']);
    expect(bad('struct s { int a }')).toEqual(["1:18-1:19 expected ';' after the field, found '}'"]);
    expect(bad('typedef int t')).toEqual(["2:1-2:6 expected ';' after the typedef, found 'BEGIN'"]);
    expect(bad('struct s { int a; } x;')).toEqual(["1:21-1:22 expected ';' after the definition, found 'x'"]);
  });

  it('config block', () => {
    const prog = ok('config = { max_map_keys = 100; stack_mode = perf; name = "x"; flag = true }\nBEGIN { }');
    expect(prog.config.map((c) => [c.key, c.value])).toEqual([
      ['max_map_keys', 100n], ['stack_mode', 'perf'], ['name', 'x'], ['flag', 'true'],
    ]);
    expect(at(prog.config[0]!.span)).toBe('1:12-1:30');
  });

  it('config block without entries, and a probe named like config', () => {
    expect(ok('config = { } BEGIN { }').config).toEqual([]);
    // `config` followed by anything but '=' is an attach point (and an unknown provider).
    expect(parse('config { }').diagnostics.map((d) => d.code)).toEqual(['E_UNKNOWN_PROVIDER']);
  });
});

describe('preprocessor', () => {
  it('shebang, includes, #ifndef BPFTRACE_HAVE_BTF / #else / #endif', () => {
    const src = `#!/usr/bin/env bpftrace
#ifndef BPFTRACE_HAVE_BTF
#include <linux/socket.h>
#include <net/sock.h>
struct skipped { int a; };
#else
#include <sys/socket.h>
#endif
#include "local.h"
BEGIN { }`;
    const prog = ok(src);
    expect(prog.includes.map((i) => i.path)).toEqual(['sys/socket.h', 'local.h']);
    expect(prog.cDefinitions).toEqual([]);
    expect(at(prog.includes[0]!.span)).toBe('7:1-7:24');
  });

  it('#ifdef, nested conditionals, #if 0 / #if 1, #elif', () => {
    const src = `#ifdef BPFTRACE_HAVE_BTF
#ifdef NOPE
bad {
#else
BEGIN { @a = 1 }
#endif
#endif
#if 0
garbage garbage
#elif 1
END { @b = 1 }
#else
more garbage
#endif
#if defined(BPFTRACE_HAVE_BTF) 
kprobe:f { }
#endif`;
    const prog = ok(src);
    expect(prog.probes.map((p) => p.attachPoints[0]!.raw)).toEqual(['BEGIN', 'END', 'kprobe:f']);
  });

  it('#define substitutes object-like macros token by token', () => {
    const prog = ok('#define MAX 100\n#define LIMIT (MAX + 1)\n#define EMPTY\nBEGIN { @x = LIMIT * 2; @y = EMPTY 3; }');
    const ss = prog.probes[0]!.body.statements;
    expect(ss.map((s) => (s.kind === 'AssignStmt' ? sx(s.value) : ''))).toEqual(['(* (+ 100 1) 2)', '3']);
    // Expanded tokens point at the macro name.
    const v = ss[0]!.kind === 'AssignStmt' ? ss[0]!.value : undefined;
    expect(at(v!.span)).toBe('4:14-4:23');
  });

  it('#undef, and self-referencing macros do not loop', () => {
    const prog = ok('#define A A + 1\n#define B 2\n#undef B\nBEGIN { @x = A; @y = B; }');
    const ss = prog.probes[0]!.body.statements.map((s) => (s.kind === 'AssignStmt' ? sx(s.value) : ''));
    expect(ss).toEqual(['(+ id:A 1)', 'id:B']);
  });

  it('a # line inside a block comment is not a directive', () => {
    ok('/*\n # not a directive\n#include <x.h>\n*/\nBEGIN { }');
  });
});
