// Sorted symbol tables of large ELF files, kept in tracelet's cache (`symbols/` of the cache
// directory). Reading the node binary's 181k symbols and sorting them costs a run that names its
// frames ~35 ms and 2.4 MB; the table saved once is mapped by later runs, which touch only the
// pages their lookups need. Names stay in the ELF files (read when a frame is named). An entry is
// keyed by the identity (device, inode, size, modification time) of each file the table was read
// from, so a rebuilt binary or debug file is read again.
import { join } from 'node:path';
import { keepNewest, readCacheFile, storeCacheFile } from './cache-files.js';
import { sha256 } from './digest.js';
import type { SymbolEntries } from './elf.js';
import type { SymbolSizes, SymbolStarts, SymbolTable } from './symtab.js';

/** Tables with fewer symbols are read each time: reading them costs less than a cache file. */
export const CACHED_SYMBOLS_MIN = 10_000;
/** Entries kept; the least recently used beyond go. */
const ENTRIES_MAX = 64;
const MAGIC = Buffer.from('TLUSYMS\0', 'latin1');
const FORMAT = 1;
/** magic, format, count, starts are doubles, sizes are doubles, 8 spare bytes, the key's digest. */
const HEADER = 48;

/**
 * A table in sorted order (index = sorted position): starts and sizes, and where each name is:
 * `part` (which of the files it was read from) << 4 | the symbol table in that file, and the
 * offset in that table's strings.
 */
export interface SortedSymbols {
  readonly starts: SymbolStarts;
  readonly sizes: SymbolSizes;
  readonly nameOff: Uint32Array;
  readonly tag: Uint8Array;
}

function digest(key: string): Buffer {
  return sha256(`${FORMAT}\0${key}`);
}

function entryFile(dir: string, key: string): string {
  return join(dir, 'symbols', `${digest(key).toString('hex').slice(0, 32)}.bin`);
}

function bytesOf(a: Uint32Array | Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The table stored under `key`, if there is a whole one (views of the mapped file). */
export function loadSortedSymbols(dir: string, key: string): SortedSymbols | undefined {
  const bytes = readCacheFile(entryFile(dir, key));
  if (!bytes || bytes.length < HEADER || bytes.byteOffset % 8 !== 0) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (!b.subarray(0, 8).equals(MAGIC) || b.readUInt32LE(8) !== FORMAT) return undefined;
  if (!b.subarray(32, 48).equals(digest(key).subarray(0, 16))) return undefined;
  const n = b.readUInt32LE(12);
  const startsWide = b.readUInt32LE(16) === 1;
  const sizesWide = b.readUInt32LE(20) === 1;
  let at = HEADER;
  const take = <T>(make: (offset: number) => T, bytesEach: number): T => {
    const out = make(b.byteOffset + at);
    at += n * bytesEach;
    return out;
  };
  const numbers = (wide: boolean) => take((o) => (wide ? new Float64Array(b.buffer, o, n) : new Uint32Array(b.buffer, o, n)), wide ? 8 : 4);
  // Check the length first: the views below must lie within the file.
  const size = HEADER + n * ((startsWide ? 8 : 4) + (sizesWide ? 8 : 4) + 4 + 1);
  if (b.length !== size + ((8 - (size % 8)) % 8)) return undefined;
  const starts = numbers(startsWide);
  const sizes = numbers(sizesWide);
  const nameOff = take((o) => new Uint32Array(b.buffer, o, n), 4);
  const tag = take((o) => new Uint8Array(b.buffer, o, n), 1);
  return { starts, sizes, nameOff, tag };
}

/**
 * The table `table` sorted, made of `parts` (their entries joined in order, as it was built), in
 * sorted order for storing.
 */
export function sortedSymbols(table: SymbolTable, parts: readonly SymbolEntries[]): SortedSymbols {
  const starts = table.sortedStarts();
  if (parts.length === 1) {
    const [p] = parts;
    return { starts, sizes: table.inSortedOrder(p!.sizes), nameOff: table.inSortedOrder(p!.nameOff), tag: table.inSortedOrder(p!.tableOf) };
  }
  // The parts' columns joined in order, as the table's entries were (joinEntries); a name's tag
  // also says which part it is in.
  const n = table.length;
  const sizes = parts.some((p) => p.sizes instanceof Float64Array) ? new Float64Array(n) : new Uint32Array(n);
  const nameOff = new Uint32Array(n);
  const tag = new Uint8Array(n);
  let at = 0;
  parts.forEach((p, k) => {
    sizes.set(p.sizes, at);
    nameOff.set(p.nameOff, at);
    for (let j = 0; j < p.tableOf.length; j++) tag[at + j] = (k << 4) | p.tableOf[j]!;
    at += p.starts.length;
  });
  return { starts, sizes: table.inSortedOrder(sizes), nameOff: table.inSortedOrder(nameOff), tag: table.inSortedOrder(tag) };
}

/** Stores a table under `key` (whole or not at all) and keeps the directory to ENTRIES_MAX. */
export function storeSortedSymbols(dir: string, key: string, t: SortedSymbols): void {
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT, 8);
  header.writeUInt32LE(t.starts.length, 12);
  header.writeUInt32LE(t.starts instanceof Float64Array ? 1 : 0, 16);
  header.writeUInt32LE(t.sizes instanceof Float64Array ? 1 : 0, 20);
  digest(key).copy(header, 32, 0, 16);
  const body = [header, bytesOf(t.starts), bytesOf(t.sizes), bytesOf(t.nameOff), bytesOf(t.tag)];
  const length = body.reduce((a, x) => a + x.length, 0);
  body.push(Buffer.alloc((8 - (length % 8)) % 8));
  const file = entryFile(dir, key);
  if (storeCacheFile(file, Buffer.concat(body))) keepNewest(join(dir, 'symbols'), /^[0-9a-f]{32}\.bin$/, ENTRIES_MAX);
}
