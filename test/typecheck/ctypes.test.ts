// The script's C definitions: layouts as gcc makes them (x86-64 System V), typedefs, enums and
// the errors, each with its code and span. (test/e2e/probes.test.ts checks the same layout
// against gcc itself, by reading a struct of a running C program.)
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { scriptTypes } from '../../src/typecheck/ctypes.js';
import { typecheck } from '../../src/typecheck/check.js';
import { typeName, type Type } from '../../src/model/types.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function define(text: string): { types: ReadonlyMap<string, Type>; enumerators: ReadonlyMap<string, bigint>; diagnostics: Diagnostic[] } {
  const parsed = parse(`${text}\nBEGIN { }`);
  expect(parsed.diagnostics).toEqual([]);
  const diagnostics: Diagnostic[] = [];
  const r = scriptTypes(parsed.program.cDefinitions, new FakeKernel(), diagnostics);
  return { types: r.types, enumerators: r.enumerators, diagnostics };
}

/** A record as `size: name@offset[.bit:width] type, ...`. */
function layout(t: Type | undefined): string {
  if (t?.kind !== 'record') return String(t?.kind);
  const fields = t.fields.map((f) =>
    `${f.name}@${f.offset}${f.bitWidth !== undefined ? `.${f.bitOffset}:${f.bitWidth}` : ''} ${typeName(f.type)}`);
  return `${t.size}: ${fields.join(', ')}`;
}

function errors(text: string): string[] {
  const parsed = parse(text);
  expect(parsed.diagnostics).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), {}).diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}@${d.span.line}:${d.span.column}-${d.span.endColumn} ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
}

describe('C definitions in scripts', () => {
  it('lay out structs and unions with natural alignment and padding', () => {
    const { types, diagnostics } = define(`
struct a { char c; long l; short s; };
union u { char c; int i; long long ll; char buf[9]; };
struct b { struct a inner; union u un; char tail; };`);
    expect(diagnostics).toEqual([]);
    expect(layout(types.get('struct a'))).toBe('24: c@0 int8, l@8 int64, s@16 int16');
    expect(layout(types.get('union u'))).toBe('16: c@0 int8, i@0 int32, ll@0 int64, buf@0 string[9]');
    expect(layout(types.get('struct b'))).toBe('48: inner@0 struct a, un@24 union u, tail@40 int8');
  });

  it('flatten anonymous struct and union members into the parent', () => {
    const { types } = define('struct s { int tag; union { long l; struct { char lo, hi; }; }; char end; };');
    expect(layout(types.get('struct s'))).toBe('24: tag@0 int32, l@8 int64, lo@8 int8, hi@9 int8, end@16 int8');
  });

  it('pack bit-fields into units of their type; `: 0` and straddling start a new unit', () => {
    const { types } = define(`
struct bits { unsigned int a : 3, b : 7; unsigned char c : 6, d : 4; int : 0; int e : 1;
              unsigned long long w : 40, x : 30; };`);
    expect(layout(types.get('struct bits'))).toBe(
      '24: a@0.0:3 uint32, b@0.3:7 uint32, c@1.2:6 uint8, d@2.0:4 uint8, e@4.0:1 int32, w@8.0:40 uint64, x@16.0:30 uint64',
    );
    // Unnamed bit-fields do not align the struct: only the char counts here.
    expect(layout(define('struct p { char c; int : 4; };').types.get('struct p'))).toBe('2: c@0 int8');
  });

  it('GCC packed and aligned attributes, on records and on members (sizes as gcc prints them)', () => {
    const { types } = define(`
struct inner { char c; int i; } __attribute__((packed));
struct outer { char a; struct inner in; long l __attribute__((aligned(16))); short s; };
struct __attribute__((__packed__)) hdr { unsigned char v : 4, ihl : 4; unsigned short len; unsigned int addr; };
struct al { char c; } __attribute__((aligned(8), deprecated));
struct mix { char c; int x __attribute__((packed)); struct al a; };
struct pbits { char c; unsigned int a : 20, b : 20; } __attribute__((packed));`);
    expect(layout(types.get('struct inner'))).toBe('5: c@0 int8, i@1 int32');
    expect(layout(types.get('struct outer'))).toBe('32: a@0 int8, in@1 struct inner, l@16 int64, s@24 int16');
    expect(layout(types.get('struct hdr'))).toBe('7: v@0.0:4 uint8, ihl@0.4:4 uint8, len@1 uint16, addr@3 uint32');
    expect(layout(types.get('struct al'))).toBe('8: c@0 int8');
    expect(layout(types.get('struct mix'))).toBe('16: c@0 int8, x@1 int32, a@8 struct al');
    expect(layout(types.get('struct pbits'))).toBe('6: c@0 int8, a@1.0:20 uint32, b@3.4:20 uint32');
  });

  it('function pointers, arrays of pointers and 2-D arrays', () => {
    const { types } = define('struct ops { void (*fn)(int); long (*table[3])(void); int (*row)[4]; char *names[2]; short grid[2][3]; };');
    expect(layout(types.get('struct ops'))).toBe(
      '72: fn@0 none *, table@8 none *[3], row@32 int32[4] *, names@40 int8 *[2], grid@56 int16[3][2]',
    );
  });

  it('typedefs name any type, and nested tags and enumerators are defined at file scope', () => {
    const { types, enumerators } = define(`
typedef unsigned short port_t, *port_p;
typedef struct node { struct node *next; port_t port; } node_t;
struct holder { node_t n; struct inner { int x; } in; enum mode { OFF, ON = 4, MAX } m; };`);
    expect(typeName(types.get('port_t')!)).toBe('uint16');
    expect(typeName(types.get('port_p')!)).toBe('uint16 *');
    expect(layout(types.get('node_t'))).toBe('16: next@0 struct node *, port@8 uint16');
    expect(types.get('struct node')).toBe(types.get('node_t'));
    // An anonymous struct goes by its typedef name.
    expect(typeName(define('typedef struct { int a; } anon_t;').types.get('anon_t')!)).toBe('anon_t');
    expect(layout(types.get('struct inner'))).toBe('4: x@0 int32');
    expect(layout(types.get('struct holder'))).toBe('24: n@0 struct node, in@16 struct inner, m@20 uint32');
    expect([...enumerators]).toEqual([['OFF', 0n], ['ON', 4n], ['MAX', 5n]]);
  });

  it('typedef names work in casts, sizeof and offsetof', () => {
    const parsed = parse(`typedef struct { int a; long b; } pair_t; typedef unsigned int u32_t;
BEGIN { @a = sizeof(pair_t); @b = offsetof(pair_t, b); @c = (u32_t)-1; @d = ((pair_t *)0)->b; }`);
    expect(parsed.diagnostics).toEqual([]);
    const r = typecheck(parsed.program, new FakeKernel(), {});
    expect(r.diagnostics).toEqual([]);
    expect([...r.program!.maps].map(([name, m]) => `${name} ${typeName(m.valueType)}`)).toEqual([
      '@a uint64', '@b uint64', '@c uint64', '@d int64',
    ]);
  });

  it('offsetof() of a field of a field adds the offsets (bpftrace 0.26), and names where a path goes wrong', () => {
    const foo = 'struct Foo { int x; struct { int y; struct { long z; int d; } c; } b; }';
    const r = typecheck(parse(`${foo} BEGIN { @a = offsetof(struct Foo, b.c.d); @b = offsetof(struct Foo, b.c); }`).program, new FakeKernel(), {});
    expect(r.diagnostics).toEqual([]);
    expect([...r.program!.constants.values()]).toEqual([24n, 16n]);
    const bad = (field: string) => typecheck(parse(`${foo} BEGIN { @a = offsetof(struct Foo, ${field}); }`).program, new FakeKernel(), {})
      .diagnostics.map((d) => d.message);
    expect(bad('b.q')).toEqual(["struct Foo's field b has no field 'q'"]);
    expect(bad('x.q')).toEqual(["struct Foo's field x is not a struct: it has no field 'q'"]);
  });

  it('report unknown and incomplete types, function fields and bad bit-fields', () => {
    expect(errors('typedef unsigned int myint; struct s { myinnt x; }; BEGIN { }')).toEqual([
      "E_UNKNOWN_TYPE@1:40-46 unknown type 'myinnt' (did you mean myint?)",
    ]);
    expect(errors('struct fwd; struct s { struct fwd f; struct fwd *ok; }; BEGIN { }')).toEqual([
      "E_UNKNOWN_STRUCT@1:24-34 unknown type 'struct fwd'",
    ]);
    expect(errors('struct point { int x; }; struct s { struct pointt p; }; BEGIN { }')).toEqual([
      "E_UNKNOWN_STRUCT@1:37-50 unknown type 'struct pointt' (did you mean struct point?)",
    ]);
    expect(errors('struct s { struct s inner; }; BEGIN { }')).toEqual([
      "E_INCOMPLETE_TYPE@1:12-20 'struct s' is declared but not defined (use a pointer to it, or define it before this use)",
    ]);
    expect(errors('struct s { void fn(int); }; BEGIN { }')).toEqual([
      'E_FUNCTION_FIELD@1:17-24 a function cannot be stored in a struct (declare a pointer to it: `void (*name)(int)`)',
    ]);
    expect(errors('struct s { int a; union { long a; char c; }; }; BEGIN { }')).toEqual([
      "E_DUPLICATE_FIELD@1:19-44 duplicate member 'a' in struct s",
    ]);
    expect(errors('struct s { char *p : 3; int w : 33; int z : 0; }; BEGIN { }')).toEqual([
      'E_BAD_BITFIELD@1:12-23 a bit-field must have an integer type',
      "E_BAD_BITFIELD@1:25-35 'w' is wider than its type (32 bits)",
      'E_BAD_BITFIELD@1:37-46 a named bit-field cannot have width 0',
    ]);
  });
});
