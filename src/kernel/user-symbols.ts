// User-space symbol tables as bcc (bpftrace 0.17's symbolizer) builds them: per ELF file, the
// separate debug file's symbols first (`/usr/lib/debug/.build-id/xx/yyyy.debug`, then
// `.gnu_debuglink` next to the file, in its `.debug/` and under /usr/lib/debug), then the file's
// own .symtab/.dynsym; and per JIT process its `/tmp/perf-PID.map`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { ElfFile, ET_EXEC, isElfFile, type SymbolEntries } from './elf.js';
import { CACHED_SYMBOLS_MIN, loadSortedSymbols, sortedSymbols, storeSortedSymbols } from './elf-symbol-cache.js';
import { SymbolTable } from './symtab.js';

export interface UserSymbolHit {
  readonly name: string;
  /** Bytes from the start of the symbol. */
  readonly offset: number;
}

/** Names by table index, decoded once (only those of symbols found: a Map, not an array per symbol). */
class NamedTable {
  /** null: the name could not be read (the file was replaced since its table was built). */
  private readonly names = new Map<number, string | null>();
  constructor(private readonly table: SymbolTable, private readonly nameOf: (i: number) => string | undefined) {}

  lookup(address: number): UserSymbolHit | undefined {
    const hit = this.table.containing(address);
    if (!hit) return undefined;
    let name = this.names.get(hit.index);
    if (name === undefined) this.names.set(hit.index, (name = this.nameOf(hit.index) ?? null));
    return name === null ? undefined : { name, offset: hit.offset };
  }
}

/** The symbols of one mapped ELF file (and of its debug file). */
export class FileSymbols {
  readonly buildId?: string;
  /** The debug file whose symbols were used, if any. */
  readonly debugFile?: string;
  private readonly isExec: boolean;
  private readonly text?: { addr: number; offset: number };
  private table?: NamedTable;

  private constructor(readonly path: string, private readonly elf: ElfFile, debugRoot: string, private readonly cacheDir?: string) {
    this.isExec = elf.type === ET_EXEC;
    const t = elf.textSection();
    if (t) this.text = { addr: Number(t.addr), offset: Number(t.offset) };
    this.buildId = elf.buildId();
    this.debugFile = findDebugFile(elf, path, debugRoot);
  }

  /**
   * Opens an ELF file; undefined if it is not one. With `cacheDir`, a large symbol table is kept
   * sorted in the cache for later runs (elf-symbol-cache.ts).
   */
  static open(path: string, debugRoot = '/usr/lib/debug', cacheDir?: string): FileSymbols | undefined {
    try {
      return new FileSymbols(path, ElfFile.open(path), debugRoot, cacheDir);
    } catch {
      return undefined;
    }
  }

  /** Whether the symbol table came from tracelet's cache (once a lookup has needed it). */
  tableFromCache = false;

  /**
   * The address in the file's own terms that a process address maps to, given the mapping's start
   * and file offset: the address itself for ET_EXEC, else placed through `.text` as bcc does.
   */
  fileAddress(address: number, mapStart: number, mapOffset: number): number {
    if (this.isExec) return address;
    const text = this.text ?? { addr: 0, offset: 0 };
    return address - mapStart + mapOffset - text.offset + text.addr;
  }

  lookup(fileAddress: number): UserSymbolHit | undefined {
    let hit = this.hits.get(fileAddress);
    if (hit === undefined) {
      this.table ??= this.readTable();
      this.hits.set(fileAddress, (hit = this.table.lookup(fileAddress) ?? null));
    }
    return hit ?? undefined;
  }

  /** Lookups done (null: no symbol there): a library's frames recur in every process that maps it. */
  private readonly hits = new Map<number, UserSymbolHit | null>();

  /**
   * The debug file's symbols and then the file's own (bcc adds them to one vector), from the cache
   * when it holds the table of these very files (the key names the files a table was read from,
   * in order: the `part` of each name).
   */
  private readTable(): NamedTable {
    let debug: ElfFile | undefined;
    try {
      debug = this.debugFile ? ElfFile.open(this.debugFile) : undefined;
    } catch {
      // unreadable debug file: the binary's own symbols only
    }
    const keyOf = (files: readonly ElfFile[]) => (this.cacheDir === undefined ? undefined : files.map((f) => f.fileIdentity).join('\0'));
    const files = debug ? [debug, this.elf] : [this.elf];
    const key = keyOf(files);
    const cached = key === undefined ? undefined : loadSortedSymbols(this.cacheDir!, key);
    if (cached) {
      this.tableFromCache = true;
      const { nameOff, tag } = cached;
      return new NamedTable(SymbolTable.presorted(cached.starts, cached.sizes), (i) => files[tag[i]! >> 4]!.nameAt(tag[i]! & 15, nameOff[i]!));
    }
    const read: ElfFile[] = [];
    const parts: SymbolEntries[] = [];
    for (const f of files) {
      try {
        parts.push(f.symbolEntries());
        read.push(f);
      } catch (e) {
        if (f === this.elf) throw e; // a debug file's failure leaves the binary's own symbols
      }
    }
    const { table, names } = joinEntries(parts);
    const readKey = keyOf(read);
    if (readKey !== undefined && table.length >= CACHED_SYMBOLS_MIN) storeSortedSymbols(this.cacheDir!, readKey, sortedSymbols(table, parts));
    return new NamedTable(table, names);
  }
}

/** One table over several lists of entries, in order (bcc adds them to one vector), and their names by index. */
function joinEntries(parts: readonly SymbolEntries[]): { table: SymbolTable; names: (i: number) => string | undefined } {
  // Only the name functions outlive this: the parts' arrays are garbage once copied (or sorted).
  const names = parts.map((p) => p.name);
  if (parts.length === 1) return { table: new SymbolTable(parts[0]!.starts, parts[0]!.sizes), names: names[0]! };
  const n = parts.reduce((a, p) => a + p.starts.length, 0);
  const starts = parts.every((p) => p.starts instanceof Uint32Array) ? new Uint32Array(n) : new Float64Array(n);
  const sizes = parts.every((p) => p.sizes instanceof Uint32Array) ? new Uint32Array(n) : new Float64Array(n);
  const bases: number[] = [];
  let at = 0;
  for (const p of parts) {
    bases.push(at);
    starts.set(p.starts, at);
    sizes.set(p.sizes, at);
    at += p.starts.length;
  }
  return { table: new SymbolTable(starts, sizes), names: partNames(names, bases) };
}

/** Names by index over parts that start at `bases` (a function apart, so that it keeps nothing else). */
function partNames(names: readonly ((i: number) => string | undefined)[], bases: readonly number[]): (i: number) => string | undefined {
  return (i) => {
    let k = names.length - 1;
    while (bases[k]! > i) k--;
    return names[k]!(i - bases[k]!);
  };
}

/**
 * bcc's search for a separate debug file: by build-id under `debugRoot`, then by
 * `.gnu_debuglink` (checked by CRC-32) next to the file, in its `.debug/`, and under `debugRoot`.
 */
export function findDebugFile(elf: ElfFile, path: string, debugRoot = '/usr/lib/debug'): string | undefined {
  const id = elf.buildId();
  if (id && id.length > 2) {
    const byId = `${debugRoot}/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
    if (isElfFile(byId)) return byId;
  }
  const link = elf.debugLink();
  if (!link) return undefined;
  const dir = dirname(path);
  const candidates = [`${dir}/${link.name}`, `${dir}/.debug/${link.name}`, `${debugRoot}${dir}/${link.name}`];
  for (const c of candidates) {
    if (c === candidates[0] && sameFile(c, path)) continue;
    if (!existsSync(c)) continue;
    try {
      if (crc32(readFileSync(c)) >>> 0 === link.crc && isElfFile(c)) return c;
    } catch {
      // unreadable: next candidate
    }
  }
  return undefined;
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * `/tmp/perf-PID.map` as bcc reads it: `START SIZE NAME` lines (hex, the name is the rest of the
 * line), for JIT runtimes (node --perf-basic-prof, Java agents).
 */
export class PerfMap {
  private constructor(private readonly table: NamedTable) {}

  static parse(text: string): PerfMap {
    const starts: number[] = [];
    const sizes: number[] = [];
    const names: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^(?:0x)?([0-9a-fA-F]+) +(?:0x)?([0-9a-fA-F]+) (.*)$/.exec(line);
      if (!m) continue;
      const start = parseInt(m[1]!, 16);
      if (start === 0) continue;
      starts.push(start);
      sizes.push(parseInt(m[2]!, 16));
      names.push(m[3]!);
    }
    return new PerfMap(new NamedTable(new SymbolTable(Float64Array.from(starts), Float64Array.from(sizes)), (i) => names[i]!));
  }

  static read(path: string): PerfMap | undefined {
    // Most processes have none: asking is cheaper than a failed read's exception.
    if (!existsSync(path)) return undefined;
    try {
      return PerfMap.parse(readFileSync(path, 'latin1'));
    } catch {
      return undefined;
    }
  }

  lookup(address: number): UserSymbolHit | undefined {
    return this.table.lookup(address);
  }
}
