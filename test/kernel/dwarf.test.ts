// Function parameters from DWARF (uprobe `args`), on files gcc and g++ build here with -g, as
// DWARF 5 (gcc's default) and DWARF 4.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DwarfInfo } from '../../src/kernel/dwarf.js';
import { ElfFile } from '../../src/kernel/elf.js';
import { typeName, type Type } from '../../src/model/types.js';

const dir = mkdtempSync(join(tmpdir(), 'tracelet-dwarf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = `
#include <stdbool.h>
typedef unsigned short port_t;
enum color { RED, GREEN = 7 };
struct node { struct node *next; int value; };
struct shape {
  char tag;
  union { int as_int; unsigned char bytes[4]; };
  struct { long lo, hi; } range;
  short grid[2][3];
  unsigned flags : 3;
  const char *name;
  struct node *head;
};
__attribute__((noinline)) int f_scalars(int a, unsigned long b, signed char c, port_t d, bool e, enum color g) {
  return a + (int)b + c + d + e + g;
}
__attribute__((noinline)) double f_mixed(double x, const struct shape *s, char **argv) { return x + s->tag + (argv != 0); }
__attribute__((noinline)) void f_none(void) {}
int main(void) { struct shape s = {0}; f_none(); return f_scalars(1, 2, 3, 4, true, GREEN) + (int)f_mixed(1.0, &s, 0); }
`;

function build(name: string, args: string[], source: string, compiler = 'gcc', ext = 'c'): DwarfInfo {
  const src = join(dir, `${name}.${ext}`);
  writeFileSync(src, source);
  const out = join(dir, name);
  const r = spawnSync(compiler, [...args, '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return DwarfInfo.of(ElfFile.open(out))!;
}

const described = (params: readonly { name: string; type: Type }[]) => params.map((p) => `${p.name}: ${typeName(p.type)}`);

describe('DwarfInfo', () => {
  for (const version of ['-gdwarf-5', '-gdwarf-4']) {
    it(`gives a function's parameters with their C types (${version})`, () => {
      const dwarf = build(`c${version}`, ['-O0', version], SOURCE);
      // As bpftrace 0.17's -lv writes them.
      expect(dwarf.functionNamed('f_mixed')!.params.map((p) => p.typeName)).toEqual(['double', 'const struct shape*', 'char**']);
      expect(dwarf.functionNamed('f_scalars')!.params.map((p) => p.typeName)).toEqual([
        'int', 'long unsigned int', 'signed char', 'port_t', '_Bool', 'enum color',
      ]);
      expect(described(dwarf.functionNamed('f_scalars')!.params)).toEqual([
        'a: int32', 'b: uint64', 'c: int8', 'd: uint16', 'e: uint8', 'g: uint32',
      ]);
      const mixed = dwarf.functionNamed('f_mixed')!;
      // A double is not in a general register: its type is none (args leaves it out).
      expect(mixed.params.map((p) => [p.name, p.type.kind])).toEqual([['x', 'none'], ['s', 'pointer'], ['argv', 'pointer']]);
      expect(dwarf.functionNamed('f_none')!.params).toEqual([]);
      expect(dwarf.functionNamed('no_such_function')).toBeUndefined();
    });

    it(`lays out structs as gcc does: anonymous members inline, arrays, nested records (${version})`, () => {
      const dwarf = build(`s${version}`, ['-O0', version], SOURCE);
      const { params, records } = dwarf.functionNamed('f_mixed')!;
      // Behind a pointer a record is opaque; its fields are in `records`.
      expect(params[1]!.type).toMatchObject({ kind: 'pointer', userSpace: true, target: { kind: 'record', name: 'struct shape', fields: [] } });
      const shape = records.get('struct shape')!;
      expect(shape.size).toBe(56);
      const field = (n: string) => shape.fields.find((f) => f.name === n);
      expect(shape.fields.map((f) => f.name)).toEqual(['tag', 'as_int', 'bytes', 'range', 'grid', 'name', 'head']);
      expect(field('as_int')!.offset).toBe(4);
      // A char array is a string, as bpftrace 0.17 reads DWARF (it prints `.bytes = ab`, not [97,98,0,0]).
      expect(field('bytes')).toMatchObject({ offset: 4, type: { kind: 'string', size: 4 } });
      expect(field('range')).toMatchObject({ offset: 8, type: { kind: 'record', size: 16 } });
      expect(field('grid')).toMatchObject({ offset: 24, type: { kind: 'array', length: 2, element: { kind: 'array', length: 3 } } });
      expect(field('name')!.offset).toBe(40);
      // A struct that points to itself: the pointer's target is opaque, so there is no cycle.
      expect(records.get('struct node')!.fields.map((f) => [f.name, f.offset, typeName(f.type)])).toEqual([
        ['next', 0, 'struct node *'], ['value', 8, 'int32'],
      ]);
    });
  }

  it('finds a C++ function by its mangled name, its parameters named from its definition', () => {
    const dwarf = build('cpp', ['-O0', '-g'], 'namespace ns { struct K { int m(int x) { return x; } }; int f(int x, long y) { return x + y; } }\n'
      + 'int main() { ns::K k; return k.m(1) + ns::f(2, 3); }\n', 'g++', 'cc');
    expect(described(dwarf.functionNamed('_ZN2ns1fEil')!.params)).toEqual(['x: int32', 'y: int64']);
    expect(described(dwarf.functionNamed('_ZN2ns1K1mEi')!.params)).toEqual(['this: struct K *', 'x: int32']);
  });

  it('reads sections compressed with zlib (as debug packages ship them), and finds a function by its address', () => {
    const src = join(dir, 'gz.c');
    writeFileSync(src, SOURCE);
    const out = join(dir, 'gz');
    expect(spawnSync('gcc', ['-O0', '-g', '-gz=zlib', '-o', out, src]).status).toBe(0);
    const elf = ElfFile.open(out);
    expect(Number(elf.section('.debug_info')!.flags) & 0x800).toBe(0x800); // SHF_COMPRESSED
    const dwarf = DwarfInfo.of(elf)!;
    // By address (DW_AT_low_pc, through .debug_aranges), whatever the name asked for.
    const address = Number(elf.findSymbol('f_scalars')[0]!.address);
    expect(described(dwarf.functionNamed('an alias of it', address)!.params)).toEqual([
      'a: int32', 'b: uint64', 'c: int8', 'd: uint16', 'e: uint8', 'g: uint32',
    ]);
  });

  it('is undefined for a file without debug info', () => {
    const src = join(dir, 'nodebug.c');
    writeFileSync(src, 'int main(void) { return 0; }\n');
    expect(spawnSync('gcc', ['-o', join(dir, 'nodebug'), src]).status).toBe(0);
    expect(DwarfInfo.of(ElfFile.open(join(dir, 'nodebug')))).toBeUndefined();
  });
});
