// Large ELF symbol tables kept sorted in tracelet's cache (src/kernel/elf-symbol-cache.ts): a
// table from the cache must name every address as the table read from the files does (aliases
// included), and be used only for the very files it was read from.
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfFile } from '../../src/kernel/elf.js';
import { useSymbolNatives } from '../../src/kernel/natives.js';
import { FileSymbols, findDebugFile } from '../../src/kernel/user-symbols.js';
import { native } from '../../src/runtime/native.js';

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tl-elfsyms-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const entries = (dir: string) => {
  try {
    return readdirSync(join(dir, 'symbols')).filter((n) => n.endsWith('.bin'));
  } catch {
    return [];
  }
};

/** Addresses to look up: starts of every `step`th symbol (of the file and its debug file) and a few bytes in. */
function sampleAddresses(path: string, step: number): number[] {
  const elf = ElfFile.open(path);
  const debug = findDebugFile(elf, path);
  const starts = [...elf.symbolEntries().starts, ...(debug ? ElfFile.open(debug).symbolEntries().starts : [])];
  const out: number[] = [];
  for (let i = 0; i < starts.length; i += step) out.push(starts[i]!, starts[i]! + (i % 29));
  return out;
}

/** The same file's symbols from the cache in `dir` (stored there by an earlier instance). */
function compareWithCache(path: string, step: number): void {
  const dir = tempDir();
  const addresses = sampleAddresses(path, step);
  const plain = FileSymbols.open(path)!;
  const first = FileSymbols.open(path, undefined, dir)!;
  for (const a of addresses) expect(first.lookup(a), `${path} 0x${a.toString(16)}`).toEqual(plain.lookup(a));
  expect(first.tableFromCache).toBe(false);
  expect(entries(dir)).toHaveLength(1);
  const second = FileSymbols.open(path, undefined, dir)!;
  for (const a of addresses) expect(second.lookup(a), `${path} 0x${a.toString(16)}`).toEqual(plain.lookup(a));
  expect(second.tableFromCache).toBe(true);
}

describe('ELF symbol tables from the cache', () => {
  it('name the node binary\'s addresses as its own tables do (mapped by the addon)', () => {
    useSymbolNatives(native());
    try {
      compareWithCache(process.execPath, 41);
    } finally {
      useSymbolNatives(undefined);
    }
  });

  it('name libc with its separate debug file, aliases as bcc names them (read without the addon)', () => {
    const debug = findDebugFile(ElfFile.open(LIBC), LIBC);
    compareWithCache(LIBC, 1);
    // With the debug file here, the table is two files' symbols: names come from both.
    if (debug) expect(FileSymbols.open(LIBC)!.debugFile).toBe(debug);
  });

  it('are not used for a file that changed since, nor kept for a small table', () => {
    const dir = tempDir();
    const copy = join(tempDir(), 'node-copy');
    copyFileSync(process.execPath, copy);
    const addresses = sampleAddresses(copy, 997);
    const before = FileSymbols.open(copy, undefined, dir)!;
    before.lookup(addresses[0]!);
    expect(entries(dir)).toHaveLength(1);
    // Appending changes the size and time: another entry, read from the file again.
    appendFileSync(copy, Buffer.alloc(16));
    const after = FileSymbols.open(copy, undefined, dir)!;
    for (const a of addresses) expect(after.lookup(a)).toEqual(before.lookup(a));
    expect(after.tableFromCache).toBe(false);
    expect(entries(dir)).toHaveLength(2);

    const small = tempDir();
    FileSymbols.open('/usr/bin/ls', undefined, small)!.lookup(0x4000);
    expect(entries(small)).toEqual([]);
  });

  it('ignore a damaged entry and replace it', () => {
    const dir = tempDir();
    const addresses = sampleAddresses(process.execPath, 4999);
    const plain = FileSymbols.open(process.execPath)!;
    FileSymbols.open(process.execPath, undefined, dir)!.lookup(addresses[0]!);
    const [name] = entries(dir);
    writeFileSync(join(dir, 'symbols', name!), Buffer.alloc(100, 7), { mode: 0o600 });
    const again = FileSymbols.open(process.execPath, undefined, dir)!;
    for (const a of addresses) expect(again.lookup(a)).toEqual(plain.lookup(a));
    expect(again.tableFromCache).toBe(false);
    expect(FileSymbols.open(process.execPath, undefined, dir)!.lookup(addresses[0]!)).toEqual(plain.lookup(addresses[0]!));
  });
});
