// Symbol tables as bcc builds them: std::sort's order (which decides between aliases), bcc's
// lookup through nested symbols, kallsyms aliases, perf maps, and separate debug files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfFile, FileSymbols, findDebugFile, Kallsyms, PerfMap, stdSort, SymbolTable } from '../../src/kernel/index.js';
import { useSymbolNatives } from '../../src/kernel/natives.js';
import { gather } from '../../src/kernel/symtab.js';
import { native } from '../../src/runtime/native.js';

const dir = mkdtempSync(join(tmpdir(), 'tracelet-symtab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(name: string, args: string[], source: string, lang = 'c'): string {
  const src = join(dir, `${name}.${lang === 'c' ? 'c' : 'cc'}`);
  writeFileSync(src, source);
  const out = join(dir, name);
  const r = spawnSync(lang === 'c' ? 'gcc' : 'g++', [...args, '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

describe('stdSort', () => {
  it("leaves equal keys in libstdc++'s std::sort order", () => {
    // The reference: std::sort of (key, index) pairs compared by key only, as bcc sorts symbols.
    const sorter = build('sorter', ['-O2'], `#include <algorithm>
#include <cstdio>
#include <vector>
struct S { double k; int i; bool operator<(const S& o) const { return k < o.k; } };
int main() { std::vector<S> v; double k; int c = 0;
  while (scanf("%lf", &k) == 1) v.push_back({k, c++});
  std::sort(v.begin(), v.end());
  for (auto& s : v) printf("%d\\n", s.i); }`, 'c++');
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [n, range] of [[1, 1], [5, 2], [16, 3], [17, 3], [40, 5], [1000, 30], [20_000, 2000], [20_000, 1e9]] as const) {
      const keys = Float64Array.from({ length: n }, () => Math.floor(random() * range));
      const want = spawnSync(sorter, { input: `${keys.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.trim().split('\n').map(Number);
      const order = Int32Array.from({ length: n }, (_, i) => i);
      const sorted = keys.slice();
      stdSort(order, sorted);
      expect(Array.from(order)).toEqual(want);
      expect(Array.from(sorted)).toEqual(Array.from(keys).sort((a, b) => a - b));
    }
  });
});

describe('gather', () => {
  it('puts a column in sorted order natively as in JavaScript, for each column type', () => {
    const order = Int32Array.from([3, 0, 2, 1, 3]);
    const columns = [Uint8Array.from([1, 2, 3, 250]), Int32Array.from([-1, 5, -7, 9]), Uint32Array.from([4e9, 1, 2, 3]), Float64Array.from([0.5, 2 ** 60, -3, 7])];
    const inJs = columns.map((c) => gather(c, order));
    useSymbolNatives(native());
    try {
      columns.forEach((c, i) => {
        const inC = gather(c, order);
        expect(inC.constructor).toBe(c.constructor);
        expect([...inC]).toEqual([...inJs[i]!]);
        expect([...inC]).toEqual([...order].map((k) => c[k]));
      });
      // A view's own elements (from its offset), and no index outside it.
      expect([...gather(Uint32Array.from([9, 8, 7, 6]).subarray(2), Int32Array.from([1, 0]))]).toEqual([6, 7]);
      expect(() => gather(Uint8Array.from([1, 2]), Int32Array.from([2]))).toThrow(RangeError);
      expect(() => gather(Uint8Array.from([1, 2]), Int32Array.from([-1]))).toThrow(RangeError);
    } finally {
      useSymbolNatives(undefined);
    }
  });
});

describe('SymbolTable', () => {
  it("finds an address through nested symbols as bcc's find_addr does", () => {
    // bcc's example: goo [0,6), foo [6,0x16), bar [8,0xc) nested in foo, baz [0x16,0x26).
    const t = new SymbolTable(Float64Array.of(0, 6, 8, 0x16), Float64Array.of(6, 0x10, 4, 0x10));
    expect(t.containing(0x12)).toEqual({ index: 1, offset: 0xc });
    expect(t.containing(9)).toEqual({ index: 2, offset: 1 });
    expect(t.containing(0x16)).toEqual({ index: 3, offset: 0 });
    expect(t.containing(0x26)).toBeUndefined();
    // A symbol of size 0 contains nothing; the walk stops at a symbol ending before the start of
    // the one just below the address (here the size-0 symbol hides the big one from 0x38).
    const z = new SymbolTable(Float64Array.of(0x10, 0x20, 0x30), Float64Array.of(0x100, 0, 4));
    expect(z.containing(0x20)).toEqual({ index: 0, offset: 0x10 });
    expect(z.containing(0x38)).toBeUndefined();
    const gap = new SymbolTable(Float64Array.of(0x10, 0x20), Float64Array.of(4, 4));
    expect(gap.containing(0x30)).toBeUndefined();
    expect(gap.nearest(0x30)).toEqual({ index: 1, offset: 0x10 });
    expect(gap.nearest(0x5)).toBeUndefined();
  });
});

describe('Kallsyms', () => {
  it('names aliases as bcc does and keeps non-data symbols of every type', () => {
    // Few symbols: std::sort ends with an insertion sort, so the last listed alias is the one kept.
    const k = new Kallsyms([
      'ffffffff81000000 T first_alias',
      'ffffffff81000000 T second_alias',
      'ffffffff81000100 D some_data',
      'ffffffff81000200 A absolute_sym',
      'ffffffffc0001000 t mod_fn\t[mymod]',
      '0000000000000000 T zero_addr',
      '',
    ].join('\n'));
    expect(k.lookup(0xffffffff81000010n)).toEqual({ name: 'second_alias', offset: 0x10n });
    expect(k.lookup(0xffffffff81000150n)).toEqual({ name: 'second_alias', offset: 0x150n });
    expect(k.lookup(0xffffffff81000210n)).toEqual({ name: 'absolute_sym', offset: 0x10n });
    expect(k.lookup(0xffffffffc0001004n)).toEqual({ name: 'mod_fn', offset: 4n, module: 'mymod' });
    // Functions only for listing and addressOf.
    expect(k.symbols.map((s) => s.name)).toEqual(['first_alias', 'second_alias', 'mod_fn']);
    expect(k.addressOf('absolute_sym')).toBeUndefined();
  });

  it('reads a file piece by piece as it parses text whole (lines across pieces, names across pages)', () => {
    // ~4 MiB: lines straddle the 256 KiB reads and names fill several 1 MiB name pages.
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      const address = (0xffffffff81000000n + BigInt(i * 0x40)).toString(16);
      lines.push(`${address} ${i % 7 === 0 ? 'D' : 'T'} fn_${i}_${'x'.repeat(i % 40)}${i % 11 === 0 ? '\t[mod_' + (i % 3) + ']' : ''}`);
    }
    const text = `${lines.join('\n')}\n`;
    const file = join(dir, 'kallsyms');
    writeFileSync(file, text);
    const read = Kallsyms.read(file);
    const whole = new Kallsyms(text);
    expect(read.symbols).toEqual(whole.symbols);
    expect(read.symbols.length).toBe(60_000 - Math.ceil(60_000 / 7));
    for (const i of [1, 2, 22, 59_999]) {
      const at = 0xffffffff81000000n + BigInt(i * 0x40 + 5);
      const want = { name: `fn_${i}_${'x'.repeat(i % 40)}`, offset: 5n, ...(i % 11 === 0 ? { module: `mod_${i % 3}` } : {}) };
      expect(read.lookup(at)).toEqual(want);
      expect(whole.lookup(at)).toEqual(want);
    }
    expect(read.addressOf('fn_59999_' + 'x'.repeat(59_999 % 40))).toBe(0xffffffff81000000n + BigInt(59_999 * 0x40));
    // The last line without its newline is still read.
    writeFileSync(file, text.trimEnd());
    expect(Kallsyms.read(file).symbols.length).toBe(read.symbols.length);
  });
});

describe('PerfMap', () => {
  it('reads perf-PID.map lines as bcc does', () => {
    const m = PerfMap.parse([
      '7f0000001000 40 LazyCompile:*fib /app/x.js:3',
      '0x7f0000002000 0x10 Builtin:Foo',
      'garbage line',
      '0 10 zero start is skipped',
      '',
    ].join('\n'));
    expect(m.lookup(0x7f0000001008)).toEqual({ name: 'LazyCompile:*fib /app/x.js:3', offset: 8 });
    expect(m.lookup(0x7f000000200f)).toEqual({ name: 'Builtin:Foo', offset: 15 });
    expect(m.lookup(0x7f0000001040)).toBeUndefined();
    expect(m.lookup(0x10)).toBeUndefined();
  });
});

describe('FileSymbols', () => {
  it('reads names from the file when asked, and none from a file that replaced it', async () => {
    const source = 'int __attribute__((noinline)) named_later(int x) { return x + 1; }\nint main(int c, char **v) { (void)v; return named_later(c); }\n';
    const bin = build('names', ['-O1'], source);
    const fn = ElfFile.open(bin).findSymbol('named_later')[0]!;
    const file = FileSymbols.open(bin)!;
    expect(file.lookup(Number(fn.address) + 2)).toEqual({ name: 'named_later', offset: 2 });
    // A table built, then the path given to another file (a package upgrade): its names are not
    // read from the new file.
    const other = FileSymbols.open(bin)!;
    other.lookup(0);
    rmSync(bin);
    build('names', ['-O1'], source.replace(/named_later/g, 'renamed_fn'));
    // Files stay open for names until the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(other.lookup(Number(fn.address))).toBeUndefined();
  });
});

describe('separate debug files', () => {
  const source = 'static int __attribute__((noinline)) hidden_helper(int x) { return x * 3; }\nint main(int c, char **v) { (void)v; return hidden_helper(c); }\n';

  it('finds symbols through .gnu_debuglink (next to the file, in .debug/) with its CRC', () => {
    const bin = build('linked', ['-O1', '-g'], source);
    const debug = join(dir, '.debug');
    mkdirSync(debug, { recursive: true });
    expect(spawnSync('objcopy', ['--only-keep-debug', bin, join(debug, 'linked.debug')]).status).toBe(0);
    expect(spawnSync('strip', ['--strip-all', bin]).status).toBe(0);
    expect(spawnSync('objcopy', ['--add-gnu-debuglink', join(debug, 'linked.debug'), bin]).status).toBe(0);
    const elf = ElfFile.open(bin);
    const own = elf.symbolEntries();
    expect(Array.from({ length: own.starts.length }, (_, i) => own.name(i))).not.toContain('hidden_helper');
    expect(findDebugFile(elf, bin, join(dir, 'no-root'))).toBe(join(debug, 'linked.debug'));
    const helper = ElfFile.open(join(debug, 'linked.debug')).findSymbol('hidden_helper')[0]!;
    const file = FileSymbols.open(bin, join(dir, 'no-root'))!;
    expect(file.lookup(Number(helper.address) + 1)).toEqual({ name: 'hidden_helper', offset: 1 });
    // A debug file whose CRC does not match is not used.
    writeFileSync(join(debug, 'linked.debug'), Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(64)]));
    expect(findDebugFile(ElfFile.open(bin), bin, join(dir, 'no-root'))).toBeUndefined();
  });

  it('finds symbols by build-id under the debug root', () => {
    const bin = build('byid', ['-O1', '-g', '-Wl,--build-id'], source);
    const id = ElfFile.open(bin).buildId()!;
    const root = join(dir, 'debugroot');
    mkdirSync(join(root, '.build-id', id.slice(0, 2)), { recursive: true });
    const debugFile = join(root, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`);
    copyFileSync(bin, debugFile);
    expect(spawnSync('strip', ['--strip-all', bin]).status).toBe(0);
    expect(findDebugFile(ElfFile.open(bin), bin, root)).toBe(debugFile);
    const helper = ElfFile.open(debugFile).findSymbol('hidden_helper')[0]!;
    expect(FileSymbols.open(bin, root)!.lookup(Number(helper.address))).toEqual({ name: 'hidden_helper', offset: 0 });
    expect(FileSymbols.open(bin, join(dir, 'no-root'))!.lookup(Number(helper.address))).toBeUndefined();
  });
});
