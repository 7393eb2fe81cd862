// The kernel symbol cache (src/kernel/kernel-symbols.ts): the core kernel's symbols kept for the
// rest of a boot must name every address of the core kernel's text exactly as the table they were
// saved from, and nothing else: other addresses go to /proc/kallsyms.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kallsyms } from '../../src/kernel/kallsyms.js';
import { KernelSymbols } from '../../src/kernel/kernel-symbols.js';
import { useSymbolNatives } from '../../src/kernel/natives.js';
import { native } from '../../src/runtime/native.js';

const TEXT = [
  'ffffffff81000000 T _stext',
  'ffffffff81000000 T _text',
  'ffffffff81000010 t __pfx_f1',
  'ffffffff81000020 t f1',
  'ffffffff81000100 T f2',
  'ffffffff81000100 T f2_alias',
  'ffffffff81000180 W weak_fn',
  'ffffffff81000200 T _etext',
  'ffffffff81800000 D some_data',
  'ffffffff83000000 T _sinittext',
  'ffffffff83000010 T start_kernel',
  'ffffffff83000100 T _einittext',
  'ffffffffc0000000 t mod_fn\t[mymod]',
  'ffffffffc0001000 t bpf_prog_0123456789abcdef_x\t[bpf]',
  '',
].join('\n');

const KEY = 'boot-1\0release\0version';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tl-ksyms-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every 8th address from `from` to `to`, and each symbol's start. */
function addresses(from: bigint, to: bigint): bigint[] {
  const out: bigint[] = [];
  for (let a = from; a < to; a += 8n) out.push(a);
  return out;
}
const CORE_TEXT = [...addresses(0xffffffff81000000n, 0xffffffff81000200n), ...addresses(0xffffffff83000000n, 0xffffffff83000100n)];

describe('kallsyms cache entry', () => {
  it('names every address of the core text as the table it was made from, and no other', () => {
    const full = new Kallsyms(TEXT);
    const bytes = full.toCache(KEY)!;
    expect(bytes).toBeDefined();
    const cached = Kallsyms.fromCache(new Uint8Array(bytes), KEY)!;
    for (const a of CORE_TEXT) {
      expect(cached.covers(a), a.toString(16)).toBe(true);
      expect(cached.lookup(a), a.toString(16)).toEqual(full.lookup(a));
    }
    expect(cached.lookup(0xffffffff81000025n)).toEqual({ name: 'f1', offset: 5n });
    expect(cached.lookup(0xffffffff81000012n)).toEqual({ name: '__pfx_f1', offset: 2n });
    expect(cached.lookup(0xffffffff83000011n)).toEqual({ name: 'start_kernel', offset: 1n });
    // Modules, BPF programs, data, the end of the text, user space: not this table's to name.
    for (const a of [0xffffffffc0000004n, 0xffffffffc0001004n, 0xffffffff81800000n, 0xffffffff81000200n, 0xffffffff83000100n, 0x400000n]) {
      expect(cached.covers(a), a.toString(16)).toBe(false);
      expect(cached.lookup(a), a.toString(16)).toBeUndefined();
    }
    expect(full.covers(0xffffffffc0000004n)).toBe(true);
  });

  it('keeps the order of aliases the saved table had (no second sort)', () => {
    const full = new Kallsyms(TEXT);
    full.prepare();
    const alias = full.lookup(0xffffffff81000104n)!.name;
    const cached = Kallsyms.fromCache(new Uint8Array(full.toCache(KEY)!), KEY)!;
    expect(cached.lookup(0xffffffff81000104n)!.name).toBe(alias);
    expect(cached.lookup(0xffffffff81000000n)!.name).toBe(full.lookup(0xffffffff81000000n)!.name);
  });

  it('refuses an entry of another boot, damaged or cut short', () => {
    const bytes = new Kallsyms(TEXT).toCache(KEY)!;
    expect(Kallsyms.fromCache(new Uint8Array(bytes), 'boot-2\0release\0version')).toBeUndefined();
    expect(Kallsyms.fromCache(new Uint8Array(bytes.subarray(0, bytes.length - 1)), KEY)).toBeUndefined();
    const bad = Buffer.from(bytes);
    bad[0] ^= 1;
    expect(Kallsyms.fromCache(new Uint8Array(bad), KEY)).toBeUndefined();
    expect(Kallsyms.fromCache(new Uint8Array(0), KEY)).toBeUndefined();
  });

  it('is not made without the symbols that bound the core text (no addresses: kptr_restrict)', () => {
    expect(new Kallsyms('ffffffff81000020 t f1\n').toCache(KEY)).toBeUndefined();
    expect(new Kallsyms('0000000000000000 T _stext\n0000000000000000 T _etext\n').toCache(KEY)).toBeUndefined();
  });
});

describe('KernelSymbols', () => {
  it('reads /proc/kallsyms once a boot, then only for addresses outside the core text', () => {
    const dir = tempDir();
    const full = new Kallsyms(TEXT);
    let reads = 0;
    const read = () => {
      reads++;
      return full;
    };
    // An entry of an earlier boot is removed when this boot's is written.
    writeFileSync(join(dir, 'kallsyms-old-boot.bin'), 'x');
    const first = KernelSymbols.open(dir, read);
    expect(first.cached).toBe(false);
    first.prepare();
    expect(reads).toBe(1);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([`kallsyms-${boot}.bin`]);
    // A fake table of this boot's key was stored: the second run takes it from the cache.
    const second = KernelSymbols.open(dir, read);
    expect(second.cached).toBe(true);
    second.prepare();
    for (const a of CORE_TEXT) expect(second.lookup(a)).toEqual(full.lookup(a));
    expect(reads).toBe(1);
    expect(second.lookup(0xffffffffc0001004n)).toEqual({ name: 'bpf_prog_0123456789abcdef_x', offset: 4n, module: 'bpf' });
    expect(reads).toBe(2);
  });

  it('neither reads nor writes a cache without a directory (--no-cache)', () => {
    let reads = 0;
    const k = KernelSymbols.open(undefined, () => {
      reads++;
      return new Kallsyms(TEXT);
    });
    expect(k.cached).toBe(false);
    expect(k.lookup(0xffffffff81000025n)).toEqual({ name: 'f1', offset: 5n });
    expect(reads).toBe(1);
  });

  it('names this kernel\'s text from a mapped entry as /proc/kallsyms does', () => {
    const addon = native();
    useSymbolNatives(addon);
    try {
      const dir = tempDir();
      const full = Kallsyms.read();
      KernelSymbols.open(dir, () => full).prepare();
      const file = join(dir, readdirSync(dir).find((n) => n.startsWith('kallsyms-'))!);
      expect(existsSync(file)).toBe(true);
      const cached = KernelSymbols.open(dir, () => {
        throw new Error('read /proc/kallsyms for an address of the core text');
      });
      expect(cached.cached).toBe(true);
      const start = full.addressOf('_stext')!;
      const end = full.addressOf('_etext')!;
      const functions = full.symbols.filter((s) => s.address >= start && s.address < end && s.module === undefined);
      expect(functions.length).toBeGreaterThan(10_000);
      for (let i = 0; i < functions.length; i += 7) {
        const a = functions[i]!.address + BigInt(i % 13);
        expect(cached.lookup(a), a.toString(16)).toEqual(full.lookup(a));
      }
      const vfsRead = full.addressOf('vfs_read')!;
      expect(cached.lookup(vfsRead + 7n)).toEqual({ name: 'vfs_read', offset: 7n });
    } finally {
      useSymbolNatives(undefined);
    }
  });
});
