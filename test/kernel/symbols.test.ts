import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfFile, Kallsyms, parseLdCache, SystemKernel } from '../../src/kernel/index.js';
import { readFileSync } from 'node:fs';

const kernel = new SystemKernel();
const LIBSTDCXX = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
const LIBPYTHON = '/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0';

describe('kallsyms', () => {
  it('finds a known function and symbolizes an address inside it', () => {
    const k = kernel.kallsyms()!;
    const a = k.addressOf('vfs_read')!;
    expect(a).toBeGreaterThan(0xffff_0000_0000_0000n);
    expect(k.lookup(a)).toEqual({ name: 'vfs_read', offset: 0n });
    expect(k.lookup(a + 7n)).toEqual({ name: 'vfs_read', offset: 7n });
    expect(k.format(a + 7n)).toBe('vfs_read+7');
    expect(k.lookup(0x1000n)).toBeUndefined();
    expect(kernel.kernelSymbols().some((s) => s.name === 'vfs_read' && s.address === a)).toBe(true);
  });

  it('parses text with modules and unsorted entries', () => {
    const k = new Kallsyms([
      'ffffffffc0002000 t mod_fn\t[mymod]',
      'ffffffff81000100 T b_fn',
      'ffffffff81000000 T a_fn',
      'ffffffff82000000 D some_data',
      '',
    ].join('\n'));
    expect(k.symbols.map((s) => s.name)).toEqual(['a_fn', 'b_fn', 'mod_fn']);
    expect(k.lookup(0xffffffffc0002010n)).toEqual({ name: 'mod_fn', offset: 16n, module: 'mymod' });
    expect(k.lookup(0xffffffff810000ffn)).toEqual({ name: 'a_fn', offset: 0xffn });
    expect(k.addressOf('b_fn')).toBe(0xffffffff81000100n);
    expect(k.addressOf('some_data')).toBeUndefined();
  });
});

describe('binaries and ELF', () => {
  it('resolves libc, libc.so.6, bash and absolute paths', () => {
    expect(kernel.resolveBinary('libc')).toMatch(/\/libc\.so\.6$/);
    expect(kernel.resolveBinary('libc.so.6')).toMatch(/\/libc\.so\.6$/);
    expect(kernel.resolveBinary('bash')).toMatch(/\/bash$/);
    expect(kernel.resolveBinary('/bin/bash')).toBe('/bin/bash');
    expect(kernel.resolveBinary('/no/such/file')).toBeUndefined();
    expect(kernel.resolveBinary('no_such_program_xyz')).toBeUndefined();
    // With a pid: what the process maps.
    expect(kernel.resolveBinary('libc', process.pid)).toMatch(/libc\.so\.6$/);
  });

  it('parses ld.so.cache', () => {
    const entries = parseLdCache(readFileSync('/etc/ld.so.cache'));
    expect(entries.some((e) => e.name === 'libc.so.6' && e.path.endsWith('/libc.so.6'))).toBe(true);
  });

  it('finds malloc in libc', () => {
    const libc = kernel.resolveBinary('libc')!;
    const t0 = performance.now();
    const hits = kernel.elfSymbol(libc, 'malloc');
    const t1 = performance.now();
    const all = kernel.elfSymbols(libc);
    const t2 = performance.now();
    console.log(`libc: malloc in ${(t1 - t0).toFixed(1)} ms; all ${all.length} symbols in ${(t2 - t1).toFixed(1)} ms`);
    expect(hits.length).toBe(1);
    const m = hits[0]!;
    expect(m).toMatchObject({ name: 'malloc', type: 'func' });
    expect(m.size).toBeGreaterThan(0n);
    expect(all.find((s) => s.name === 'malloc')).toEqual(m);
    const elf = ElfFile.open(libc);
    expect(elf.vaddrToOffset(m.address)).toBe(m.fileOffset);
    expect(elf.buildId()).toMatch(/^[0-9a-f]{40}$/);
    expect(ElfFile.open(libc)).toBe(elf); // cached
  });

  it('places symbols from separate debug files at the file offsets of the binary itself', () => {
    const kernel = new SystemKernel();
    const libc = kernel.resolveBinary('libc')!;
    const elf = ElfFile.open(libc);
    const symbols = kernel.elfSymbols(libc);
    const debugOnly = symbols.filter((s) => !elf.symbols().some((o) => o.name === s.name));
    if (debugOnly.length === 0) return; // no /usr/lib/debug symbols for this libc here
    for (const s of debugOnly.slice(0, 200)) expect(s.fileOffset).toBe(elf.vaddrToOffset(s.address));
  });

  it('finds a symbol in /bin/bash .dynsym (no .symtab)', () => {
    const elf = ElfFile.open('/bin/bash');
    expect(elf.section('.dynsym')).toBeDefined();
    const rl = kernel.elfSymbol('/bin/bash', 'readline');
    expect(rl.length).toBe(1);
    expect(rl[0]).toMatchObject({ type: 'func' });
    expect(kernel.usdtProbes('/bin/bash')).toEqual([]);
  });

  it.skipIf(!existsSync(LIBSTDCXX))('reads the 3 USDT probes of libstdc++', () => {
    const probes = kernel.usdtProbes(LIBSTDCXX);
    expect(probes.map((p) => `${p.provider}:${p.name}`).sort()).toEqual(['libstdcxx:catch', 'libstdcxx:rethrow', 'libstdcxx:throw']);
    for (const p of probes) {
      expect(p.semaphoreOffset).toBe(0n);
      expect(p.fileOffset).toBeGreaterThan(0n);
      expect(p.args).toMatch(/@/);
    }
  });

  it.skipIf(!existsSync(LIBPYTHON))('reads the 8 USDT probes of libpython3.11, with semaphores', () => {
    const probes = kernel.usdtProbes(LIBPYTHON);
    expect(probes.length).toBe(8);
    expect(probes.map((p) => p.name)).toContain('function__entry');
    const elf = ElfFile.open(LIBPYTHON);
    const probesSec = elf.section('.probes')!;
    for (const p of probes) {
      expect(p.provider).toBe('python');
      expect(p.semaphoreOffset).not.toBe(0n);
      // Semaphores live in .probes; the file offset is where the section's bytes are.
      expect(p.semaphoreAddress).toBeGreaterThanOrEqual(probesSec.addr);
      expect(p.semaphoreAddress).toBeLessThan(probesSec.addr + probesSec.size);
      expect(p.semaphoreOffset).toBe(p.semaphoreAddress - probesSec.addr + probesSec.offset);
      expect(elf.vaddrToOffset(p.address)).toBe(p.fileOffset);
    }
  });
});
