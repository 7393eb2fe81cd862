// A small ELF64 (little-endian) reader: sections, program headers, .symtab/.dynsym symbols with
// virtual address → file offset conversion through PT_LOAD segments, the GNU build-id, and
// `.note.stapsdt` USDT notes. Reads only the byte ranges it needs; parsed files are cached per
// path, keyed by (device, inode, size, mtime).
import { closeSync, fstatSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';
import type { ElfSymbol, UsdtProbe } from './kernel-info.js';
import { symbolNatives } from './natives.js';
import type { SymbolSizes, SymbolStarts } from './symtab.js';

export class ElfError extends Error {}

const ELF_MAGIC = 0x7f454c46;

/** Whether a file starts with the ELF magic (false if it cannot be read). */
export function isElfFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === ELF_MAGIC;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: bigint;
  readonly size: bigint;
  readonly link: number;
  readonly info: number;
  readonly entsize: bigint;
}

export interface ElfSegment {
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

/** A USDT probe with the raw note addresses kept alongside the file offsets. */
export interface UsdtNote extends UsdtProbe {
  /** Probe site, virtual address after the `.stapsdt.base` adjustment. */
  readonly address: bigint;
  /** Semaphore virtual address (adjusted), or 0n. */
  readonly semaphoreAddress: bigint;
}

/** Symbol starts and sizes (exact as doubles in user space; sizes 32-bit unless one is 4 GiB or more), names by index. */
export interface SymbolEntries {
  /** 32-bit unless some value is 4 GiB or more. */
  readonly starts: SymbolStarts;
  readonly sizes: SymbolSizes;
  /** Where each name is: its offset in the string table of symbol table `tableOf` (see `nameAt`). */
  readonly nameOff: Uint32Array;
  readonly tableOf: Uint8Array;
  /** undefined when the path now holds another file. */
  name(i: number): string | undefined;
}

export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_NOTE = 4;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

/** What the dynamic loader reads from a file's dynamic section to find its libraries. */
export interface DynamicInfo {
  /** DT_NEEDED sonames, in order. */
  readonly needed: readonly string[];
  /** DT_RPATH and DT_RUNPATH directories, unexpanded ($ORIGIN kept). */
  readonly rpath: readonly string[];
  readonly runpath: readonly string[];
}

function readAt(fd: number, offset: bigint | number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, Number(offset) + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Reads up to `length` bytes at `offset` into the start of `buf`; returns how many it read. */
function readInto(fd: number, buf: Buffer, length: number, offset: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** Symbol table entries read at a time by symbolEntries (96 KiB). */
const SYMBOLS_PER_READ = 4096;

/** Where names are read into (most are shorter; longer ones get a bigger buffer). */
const nameScratch = Buffer.alloc(256);

/**
 * Keeps the entries in [from, to) of the arrays whose name is not empty (a name offset pointing
 * at a NUL byte), checking the string table a piece at a time; returns how many were kept. An
 * empty name's offset is set to 0 (which no entry kept has) to mark it.
 */
function dropEmptyNames(fd: number, str: ElfSection, a: { starts: SymbolStarts; sizes: SymbolSizes; nameOff: Uint32Array; tableOf: Uint8Array }, from: number, to: number): number {
  const size = Number(str.size);
  const piece = Buffer.alloc(Math.min(size, 1 << 18));
  for (let base = 0; base < size; base += piece.length) {
    const got = readInto(fd, piece, Math.min(piece.length, size - base), Number(str.offset) + base);
    for (let i = from; i < to; i++) {
      const at = a.nameOff[i]! - base;
      if (at >= 0 && at < got && piece[at] === 0) a.nameOff[i] = 0;
    }
  }
  let kept = from;
  for (let i = from; i < to; i++) {
    if (a.nameOff[i] === 0) continue;
    a.starts[kept] = a.starts[i]!;
    a.sizes[kept] = a.sizes[i]!;
    a.nameOff[kept] = a.nameOff[i]!;
    a.tableOf[kept] = a.tableOf[i]!;
    kept++;
  }
  return kept - from;
}

/**
 * Files open for reading symbol names: kept open while a batch of stacks is named (one synchronous
 * print), a few at a time, and all closed on the next turn of the event loop.
 */
const nameFds = new Map<ElfFile, number | undefined>();
const MAX_NAME_FDS = 16;

function openNames(elf: ElfFile): number | undefined {
  if (nameFds.has(elf)) return nameFds.get(elf);
  if (nameFds.size === 0) setImmediate(closeNames).unref();
  if (nameFds.size >= MAX_NAME_FDS) {
    const [oldest, fd] = nameFds.entries().next().value!;
    nameFds.delete(oldest);
    if (fd !== undefined) closeSync(fd);
  }
  const fd = elf.openForNames();
  nameFds.set(elf, fd);
  return fd;
}

function closeNames(): void {
  for (const fd of nameFds.values()) if (fd !== undefined) closeSync(fd);
  nameFds.clear();
}

function cstr(buf: Buffer, off: number): string {
  if (off < 0 || off >= buf.length) return '';
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 ? buf.length : end);
}

export class ElfFile {
  readonly path: string;
  /** e_type: ET_EXEC, ET_DYN (shared objects and PIE executables), ... */
  readonly type: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly ElfSegment[];
  private symbolCache?: ElfSymbol[];
  private symbolIndex?: Map<string, ElfSymbol[]>;
  private usdtCache?: UsdtNote[];
  private buildIdCache?: string | null;
  private dynamicCache?: DynamicInfo;

  private constructor(path: string, fd: number) {
    this.path = path;
    const h = readAt(fd, 0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== ELF_MAGIC) throw new ElfError(`${path}: not an ELF file`);
    if (h[4] !== 2) throw new ElfError(`${path}: not a 64-bit ELF file`);
    if (h[5] !== 1) throw new ElfError(`${path}: not a little-endian ELF file`);
    this.type = h.readUInt16LE(16);
    this.machine = h.readUInt16LE(18);
    const phoff = h.readBigUInt64LE(32);
    const shoff = h.readBigUInt64LE(40);
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    let shstrndx = h.readUInt16LE(62);

    const segments: ElfSegment[] = [];
    if (phoff !== 0n && phnum > 0) {
      const ph = readAt(fd, phoff, phentsize * phnum);
      for (let i = 0; i + 1 <= phnum && (i + 1) * phentsize <= ph.length; i++) {
        const o = i * phentsize;
        segments.push({
          type: ph.readUInt32LE(o),
          flags: ph.readUInt32LE(o + 4),
          offset: ph.readBigUInt64LE(o + 8),
          vaddr: ph.readBigUInt64LE(o + 16),
          filesz: ph.readBigUInt64LE(o + 32),
          memsz: ph.readBigUInt64LE(o + 40),
        });
      }
    }
    this.segments = segments;

    const sections: ElfSection[] = [];
    if (shoff !== 0n) {
      // Extended numbering: section 0 holds the real count / string table index.
      if (shnum === 0 || shstrndx === 0xffff) {
        const s0 = readAt(fd, shoff, shentsize);
        if (shnum === 0) shnum = Number(s0.readBigUInt64LE(32));
        if (shstrndx === 0xffff) shstrndx = s0.readUInt32LE(40);
      }
      const sh = readAt(fd, shoff, shentsize * shnum);
      const raw: Omit<ElfSection, 'name'>[] = [];
      const nameOffs: number[] = [];
      for (let i = 0; i < shnum && (i + 1) * shentsize <= sh.length; i++) {
        const o = i * shentsize;
        nameOffs.push(sh.readUInt32LE(o));
        raw.push({
          type: sh.readUInt32LE(o + 4),
          flags: sh.readBigUInt64LE(o + 8),
          addr: sh.readBigUInt64LE(o + 16),
          offset: sh.readBigUInt64LE(o + 24),
          size: sh.readBigUInt64LE(o + 32),
          link: sh.readUInt32LE(o + 40),
          info: sh.readUInt32LE(o + 44),
          entsize: sh.readBigUInt64LE(o + 56),
        });
      }
      const strSec = raw[shstrndx];
      const names = strSec ? readAt(fd, strSec.offset, Number(strSec.size)) : Buffer.alloc(0);
      raw.forEach((s, i) => sections.push({ name: cstr(names, nameOffs[i]!), ...s }));
    }
    this.sections = sections;
  }

  private static cache = new Map<string, { key: string; elf: ElfFile }>();

  /** Opens (or returns the cached parse of) an ELF file. Throws ElfError / fs errors. */
  static open(path: string): ElfFile {
    const st = statSync(path, { bigint: true });
    const key = fileIdentity(st);
    const hit = ElfFile.cache.get(path);
    if (hit && hit.key === key) return hit.elf;
    const fd = openSync(path, 'r');
    try {
      const elf = new ElfFile(path, fd);
      elf.identity = key;
      ElfFile.cache.set(path, { key, elf });
      return elf;
    } finally {
      closeSync(fd);
    }
  }

  private withFd<T>(f: (fd: number) => T): T {
    const fd = openSync(this.path, 'r');
    try {
      return f(fd);
    } finally {
      closeSync(fd);
    }
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Contents of a section (empty for SHT_NOBITS). */
  sectionData(s: ElfSection): Buffer {
    if (s.type === SHT_NOBITS || s.size === 0n) return Buffer.alloc(0);
    return this.withFd((fd) => readAt(fd, s.offset, Number(s.size)));
  }

  /** Virtual address → file offset through the PT_LOAD segment that contains it. */
  vaddrToOffset(addr: bigint): bigint | undefined {
    for (const seg of this.segments) {
      if (seg.type === PT_LOAD && addr >= seg.vaddr && addr < seg.vaddr + seg.memsz) return addr - seg.vaddr + seg.offset;
    }
    return undefined;
  }

  /** File offset → virtual address (inverse of vaddrToOffset), e.g. for ustack symbolization. */
  offsetToVaddr(offset: bigint): bigint | undefined {
    for (const seg of this.segments) {
      if (seg.type === PT_LOAD && offset >= seg.offset && offset < seg.offset + seg.filesz) return offset - seg.offset + seg.vaddr;
    }
    return undefined;
  }

  /** Symbols of .symtab and .dynsym (defined ones only), deduplicated by name and address. */
  symbols(): readonly ElfSymbol[] {
    if (this.symbolCache) return this.symbolCache;
    const out: ElfSymbol[] = [];
    const byName = new Map<string, ElfSymbol[]>();
    // PT_LOAD ranges as Numbers (exact below 2^53, true of user-space files): BigInt arithmetic
    // per symbol is what made this slow.
    const loads = this.segments.filter((g) => g.type === PT_LOAD).map((g) => [Number(g.vaddr), Number(g.vaddr + g.memsz), Number(g.offset)] as const);
    this.withFd((fd) => {
      for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
        for (const sec of this.sections) {
          if (sec.type !== type || sec.size === 0n) continue;
          const strSec = this.sections[sec.link];
          if (!strSec) continue;
          const ent = Number(sec.entsize) || 24;
          if (ent !== 24) continue;
          // Buffer.alloc gives a fresh, 8-aligned ArrayBuffer: read the table through typed views.
          const data = this.tableData(fd, sec);
          const strs = this.tableData(fd, strSec);
          const n = Math.floor(data.length / 24);
          const w32 = new Uint32Array(data.buffer, data.byteOffset, n * 6);
          const w64 = new BigUint64Array(data.buffer, data.byteOffset, n * 3);
          for (let i = 1; i < n; i++) {
            const shndx = w32[i * 6 + 1]! >>> 16;
            const nameOff = w32[i * 6]!;
            if (shndx === SHN_UNDEF || nameOff === 0) continue;
            const stt = w32[i * 6 + 1]! & 0xf;
            const address = w64[i * 3 + 1]!;
            let end = nameOff;
            while (end < strs.length && strs[end] !== 0) end++;
            const name = strs.toString('utf8', nameOff, end);
            const same = byName.get(name);
            if (same?.some((x) => x.address === address)) continue;
            const addrNum = w32[i * 6 + 2]! + w32[i * 6 + 3]! * 0x1_0000_0000;
            let fileOffset: bigint | undefined;
            for (const [vaddr, end, off] of loads) {
              if (addrNum >= vaddr && addrNum < end) {
                fileOffset = BigInt(addrNum - vaddr + off);
                break;
              }
            }
            if (fileOffset === undefined) {
              // Relocatable objects: no segments, addresses are section-relative.
              const s = shndx < 0xff00 ? this.sections[shndx] : undefined;
              fileOffset = s ? address - s.addr + s.offset : address;
            }
            const sym: ElfSymbol = {
              name,
              address,
              fileOffset,
              size: w64[i * 3 + 2]!,
              type: stt === STT_FUNC || stt === STT_GNU_IFUNC ? 'func' : stt === STT_OBJECT ? 'object' : 'other',
            };
            out.push(sym);
            if (same) same.push(sym); else byName.set(name, [sym]);
          }
        }
      }
    });
    this.symbolCache = out;
    this.symbolIndex = byName;
    this.tables.clear();
    this.findCache.clear();
    return out;
  }

  /**
   * Symbols with this exact name (several when versions or aliases differ). Before the full table
   * has been decoded this searches the string tables for the name and scans only the st_name
   * words, decoding just the matches (what a uprobe on one function needs).
   */
  findSymbol(name: string): readonly ElfSymbol[] {
    if (this.symbolIndex) return this.symbolIndex.get(name) ?? [];
    const hit = this.findCache.get(name);
    if (hit) return hit;
    const needle = Buffer.from(`${name}\0`, 'utf8');
    const out: ElfSymbol[] = [];
    this.withFd((fd) => {
      for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
        for (const sec of this.sections) {
          if (sec.type !== type || sec.size === 0n || Number(sec.entsize || 24n) !== 24) continue;
          const strSec = this.sections[sec.link];
          if (!strSec) continue;
          const strs = this.tableData(fd, strSec);
          // Every place the name (or a string ending in it, shared as a suffix) is stored.
          const offs = new Set<number>();
          for (let at = strs.indexOf(needle); at >= 0; at = strs.indexOf(needle, at + 1)) offs.add(at);
          if (!offs.size) continue;
          const data = this.tableData(fd, sec);
          const n = Math.floor(data.length / 24);
          const w32 = new Uint32Array(data.buffer, data.byteOffset, n * 6);
          for (let i = 1; i < n; i++) {
            if (!offs.has(w32[i * 6]!)) continue;
            const shndx = w32[i * 6 + 1]! >>> 16;
            if (shndx === SHN_UNDEF) continue;
            const sym = this.makeSymbol(data, i, name, shndx);
            if (!out.some((x) => x.address === sym.address)) out.push(sym);
          }
        }
      }
    });
    this.findCache.set(name, out);
    return out;
  }

  private readonly findCache = new Map<string, ElfSymbol[]>();
  private readonly tables = new Map<ElfSection, Buffer>();

  /** Section bytes kept for later lookups (symbol and string tables only). */
  private tableData(fd: number, sec: ElfSection): Buffer {
    let b = this.tables.get(sec);
    if (!b) {
      b = readAt(fd, sec.offset, Number(sec.size));
      this.tables.set(sec, b);
    }
    return b;
  }

  private makeSymbol(data: Buffer, i: number, name: string, shndx: number): ElfSymbol {
    const o = i * 24;
    const stt = data[o + 4]! & 0xf;
    const address = data.readBigUInt64LE(o + 8);
    let fileOffset = this.vaddrToOffset(address);
    if (fileOffset === undefined) {
      const s = shndx < 0xff00 ? this.sections[shndx] : undefined;
      fileOffset = s ? address - s.addr + s.offset : address;
    }
    return {
      name,
      address,
      fileOffset,
      size: data.readBigUInt64LE(o + 16),
      type: stt === STT_FUNC || stt === STT_GNU_IFUNC ? 'func' : stt === STT_OBJECT ? 'object' : 'other',
    };
  }

  /**
   * Every symbol bcc lists for symbolization (bpftrace 0.17 asks for all types): .symtab and
   * .dynsym entries in section-header order, with a name and a non-zero value. The tables are read
   * piece by piece and not kept: a symbol costs 17 bytes of typed arrays (sizes are 32-bit unless
   * one is 4 GiB or more), and its name is read from the file when asked for (`name(i)`), so the
   * node binary's 185k symbols take 3 MB, not the 17 MB of its symbol and string tables. The
   * arrays are sized for every entry and returned as views when few were left out (no copy). Each
   * call reads the file again (the caller keeps what it built).
   */
  symbolEntries(): SymbolEntries {
    const tables = this.symbolTables();
    const native = symbolNatives();
    if (native) {
      const spans = Float64Array.from(tables.flatMap(({ sym, str }) =>
        [Number(sym.offset), Number(sym.size), Number(str.offset), str.type === SHT_NOBITS ? 0 : Number(str.size)]));
      const e = this.withFd((fd) => native.symbolEntries(fd, spans));
      return { ...e, name: this.nameReader(e.nameOff, e.tableOf) };
    }
    const total = tables.reduce((a, t) => a + Math.floor(Number(t.sym.size) / 24), 0);
    let starts: SymbolStarts = new Uint32Array(total);
    let sizes: SymbolSizes = new Uint32Array(total);
    const nameOff = new Uint32Array(total);
    const tableOf = new Uint8Array(total);
    let n = 0;
    this.withFd((fd) => {
      const chunk = Buffer.alloc(SYMBOLS_PER_READ * 24);
      const w32 = new Uint32Array(chunk.buffer, chunk.byteOffset, SYMBOLS_PER_READ * 6);
      tables.forEach(({ sym, str }, table) => {
        const count = Math.floor(Number(sym.size) / 24);
        const strSize = str.type === SHT_NOBITS ? 0 : Number(str.size);
        const first = n;
        for (let done = 0; done < count;) {
          const want = Math.min(SYMBOLS_PER_READ, count - done);
          const got = Math.floor(readInto(fd, chunk, want * 24, Number(sym.offset) + done * 24) / 24);
          for (let i = 0; i < got; i++) {
            const off = w32[i * 6]!;
            // off 0 is the empty name (an ELF string table starts with a NUL byte).
            if (off === 0 || off >= strSize) continue;
            const value = w32[i * 6 + 2]! + w32[i * 6 + 3]! * 0x1_0000_0000;
            if (value === 0) continue;
            if (w32[i * 6 + 3] !== 0 && starts instanceof Uint32Array) starts = Float64Array.from(starts);
            starts[n] = value;
            if (w32[i * 6 + 5] !== 0 && sizes instanceof Uint32Array) sizes = Float64Array.from(sizes);
            sizes[n] = w32[i * 6 + 4]! + w32[i * 6 + 5]! * 0x1_0000_0000;
            nameOff[n] = off;
            tableOf[n] = table;
            n++;
          }
          if (got < want) break;
          done += got;
        }
        n = first + dropEmptyNames(fd, str, { starts, sizes, nameOff, tableOf }, first, n);
      });
    });
    // Views when at most an eighth was left out (undefined and unnamed symbols), else copies.
    const cut = <T extends Float64Array | Uint32Array | Uint8Array>(a: T): T => (n >= total - (total >> 3) ? a.subarray(0, n) : a.slice(0, n)) as T;
    const entries = { starts: cut(starts), sizes: cut(sizes), nameOff: cut(nameOff), tableOf: cut(tableOf) };
    return { ...entries, name: this.nameReader(entries.nameOff, entries.tableOf) };
  }

  /** The symbol tables (.symtab, .dynsym) with their string tables, numbered as `tableOf` numbers them. */
  private symbolTables(): { sym: ElfSection; str: ElfSection }[] {
    const tables: { sym: ElfSection; str: ElfSection }[] = [];
    for (const sec of this.sections) {
      if ((sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) || sec.size === 0n || Number(sec.entsize || 24n) !== 24) continue;
      const str = this.sections[sec.link];
      if (str) tables.push({ sym: sec, str });
    }
    return tables;
  }

  /**
   * The name at `nameOff` in the string table of symbol table `table` (as symbolEntries numbers
   * them), read from the file; undefined if the path now holds another file.
   */
  nameAt(table: number, nameOff: number): string | undefined {
    const str = (this.stringTables ??= this.symbolTables().map((t) => t.str))[table];
    return str && this.stringAt(Number(str.offset) + nameOff, Number(str.offset + str.size));
  }

  private stringTables?: ElfSection[];

  /** The file's identity when it was parsed (device, inode, size, mtime). */
  get fileIdentity(): string {
    return this.identity;
  }

  /**
   * `name(i)` of symbolEntries, made here so that it keeps only the name offsets alive (a closure
   * made there would keep that function's whole scope, starts and sizes included).
   */
  private nameReader(nameOff: Uint32Array, tableOf: Uint8Array): (i: number) => string | undefined {
    return (i) => this.nameAt(tableOf[i]!, nameOff[i]!);
  }

  /** Identity of the file parsed (device, inode, size, mtime), to know it is still the same file. */
  private identity = '';

  /**
   * The NUL-terminated string at a file offset (ending by `limit`), if the file at this path is
   * still the one parsed. Symbol names are read this way, one by one, as stacks name them.
   */
  private stringAt(offset: number, limit: number): string | undefined {
    const fd = openNames(this);
    if (fd === undefined) return undefined;
    let buf = nameScratch;
    for (;;) {
      const got = readInto(fd, buf, Math.min(buf.length, limit - offset), offset);
      const end = buf.indexOf(0);
      if (end >= 0 && end < got) return buf.toString('utf8', 0, end);
      if (got < buf.length) return buf.toString('utf8', 0, got);
      buf = Buffer.alloc(buf.length * 2);
    }
  }

  /** An fd of the file for reading names, or undefined if the path now holds another file. */
  openForNames(): number | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return undefined;
    }
    const st = fstatSync(fd, { bigint: true });
    if (fileIdentity(st) === this.identity) return fd;
    closeSync(fd);
    return undefined;
  }

  /** `.gnu_debuglink`: the separate debug file's name and its CRC-32. */
  debugLink(): { name: string; crc: number } | undefined {
    const sec = this.section('.gnu_debuglink');
    if (!sec) return undefined;
    const data = this.sectionData(sec);
    const end = data.indexOf(0);
    if (end <= 0) return undefined;
    const crcAt = (end + 4) & ~3;
    if (crcAt + 4 > data.length) return undefined;
    return { name: data.toString('utf8', 0, end), crc: data.readUInt32LE(crcAt) };
  }

  /** The `.text` section's address and file offset (how bcc places shared objects' addresses). */
  textSection(): { addr: bigint; offset: bigint } | undefined {
    const t = this.section('.text');
    return t ? { addr: t.addr, offset: t.offset } : undefined;
  }

  /** Parses notes (namesz, descsz, type, name, desc; 4-byte padding) from a buffer. */
  static parseNotes(buf: Buffer): { name: string; type: number; desc: Buffer }[] {
    const out: { name: string; type: number; desc: Buffer }[] = [];
    let o = 0;
    const align4 = (n: number) => (n + 3) & ~3;
    while (o + 12 <= buf.length) {
      const namesz = buf.readUInt32LE(o);
      const descsz = buf.readUInt32LE(o + 4);
      const type = buf.readUInt32LE(o + 8);
      const nameStart = o + 12;
      const descStart = nameStart + align4(namesz);
      if (descStart + descsz > buf.length) break;
      const name = buf.toString('latin1', nameStart, nameStart + Math.max(0, namesz - 1));
      out.push({ name, type, desc: buf.subarray(descStart, descStart + descsz) });
      o = descStart + align4(descsz);
    }
    return out;
  }

  /** DT_NEEDED / DT_RPATH / DT_RUNPATH from the PT_DYNAMIC segment (empty for static files). */
  dynamic(): DynamicInfo {
    if (this.dynamicCache) return this.dynamicCache;
    const info = { needed: [] as string[], rpath: [] as string[], runpath: [] as string[] };
    const seg = this.segments.find((g) => g.type === PT_DYNAMIC);
    if (seg) {
      this.withFd((fd) => {
        const data = readAt(fd, seg.offset, Number(seg.filesz));
        const entries: [bigint, bigint][] = [];
        for (let o = 0; o + 16 <= data.length; o += 16) {
          const tag = data.readBigInt64LE(o);
          if (tag === DT_NULL) break;
          entries.push([tag, data.readBigUInt64LE(o + 8)]);
        }
        const value = (tag: bigint) => entries.find(([t]) => t === tag)?.[1];
        // DT_STRTAB is a virtual address: the loader's view, valid without section headers.
        const strtab = value(DT_STRTAB);
        const strOffset = strtab === undefined ? undefined : this.vaddrToOffset(strtab);
        if (strOffset === undefined) return;
        const strs = readAt(fd, strOffset, Number(value(DT_STRSZ) ?? 0n));
        for (const [tag, v] of entries) {
          const text = cstr(strs, Number(v));
          if (tag === DT_NEEDED) info.needed.push(text);
          else if (tag === DT_RPATH) info.rpath.push(...text.split(':').filter(Boolean));
          else if (tag === DT_RUNPATH) info.runpath.push(...text.split(':').filter(Boolean));
        }
      });
    }
    this.dynamicCache = info;
    return info;
  }

  /** The GNU build-id as hex, or undefined (also when the file can no longer be read). */
  buildId(): string | undefined {
    if (this.buildIdCache !== undefined) return this.buildIdCache ?? undefined;
    try {
      return this.readBuildId();
    } catch {
      // Opened through /proc/PID/root of a process that has exited since: no build-id to give.
      this.buildIdCache = null;
      return undefined;
    }
  }

  private readBuildId(): string | undefined {
    let id: string | null = null;
    const fromNotes = (buf: Buffer) => {
      for (const n of ElfFile.parseNotes(buf)) if (n.name === 'GNU' && n.type === 3) return n.desc.toString('hex');
      return null;
    };
    const sec = this.section('.note.gnu.build-id');
    if (sec) id = fromNotes(this.sectionData(sec));
    if (id === null) {
      const notes = this.segments.filter((s) => s.type === PT_NOTE);
      if (notes.length) {
        id = this.withFd((fd) => {
          for (const seg of notes) {
            const r = fromNotes(readAt(fd, seg.offset, Number(seg.filesz)));
            if (r) return r;
          }
          return null;
        });
      }
    }
    this.buildIdCache = id;
    return id ?? undefined;
  }

  /**
   * USDT probes from `.note.stapsdt` (owner "stapsdt", type 3). Each note holds the probe site,
   * the link-time address of `.stapsdt.base`, the semaphore address (0 if none), then provider,
   * name and argument string. When the file was prelinked the section moved: both addresses are
   * shifted by (actual `.stapsdt.base` address − recorded base), as SystemTap's sdt.h specifies.
   */
  usdtProbes(): readonly UsdtNote[] {
    if (this.usdtCache) return this.usdtCache;
    const out: UsdtNote[] = [];
    const sec = this.section('.note.stapsdt');
    if (sec) {
      const baseSec = this.section('.stapsdt.base');
      for (const n of ElfFile.parseNotes(this.sectionData(sec))) {
        if (n.name !== 'stapsdt' || n.type !== 3 || n.desc.length < 24) continue;
        let pc = n.desc.readBigUInt64LE(0);
        const base = n.desc.readBigUInt64LE(8);
        let sema = n.desc.readBigUInt64LE(16);
        if (baseSec && base !== 0n) {
          const delta = baseSec.addr - base;
          pc += delta;
          if (sema !== 0n) sema += delta;
        }
        let p = 24;
        const provider = cstr(n.desc, p);
        p += Buffer.byteLength(provider) + 1;
        const name = cstr(n.desc, p);
        p += Buffer.byteLength(name) + 1;
        const args = cstr(n.desc, p);
        out.push({
          provider,
          name,
          args,
          address: pc,
          semaphoreAddress: sema,
          fileOffset: this.vaddrToOffset(pc) ?? pc,
          semaphoreOffset: sema === 0n ? 0n : this.vaddrToOffset(sema) ?? 0n,
        });
      }
    }
    this.usdtCache = out;
    return out;
  }
}
