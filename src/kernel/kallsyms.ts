// /proc/kallsyms: kernel function symbols, sorted by address, and address → symbol+offset lookup
// (binary search) for ksym() and kstack.
import { closeSync, openSync, readSync } from 'node:fs';
import { sha256 } from './digest.js';
import { symbolNatives, type NativeKallsyms } from './natives.js';
import { SymbolTable, type SymbolStarts } from './symtab.js';

export interface KernelSymbol {
  readonly address: bigint;
  readonly name: string;
  /** The module in brackets, for symbols of loadable modules. */
  readonly module?: string;
}

export interface SymbolHit {
  readonly name: string;
  /** Bytes from the start of the symbol. */
  readonly offset: bigint;
  readonly module?: string;
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x61 + c] = 10 + c;
  HEX[0x41 + c] = 10 + c;
}

/** Kernel symbols are kept relative to this address (the high half of x86-64's address space). */
const KERNEL_BASE_HI = 0xffff0000;
const KERNEL_BASE = 0xffff_0000_0000_0000n;
/**
 * 32-bit starts are from the top 4 GiB (0xffffffff00000000, this far from KERNEL_BASE), where
 * x86-64 puts the kernel, its modules and BPF code: half the memory of doubles. An address below
 * it makes them doubles from KERNEL_BASE (as the native reader does).
 */
const TOP_FROM_BASE = 0xffff_0000_0000;

/** /proc/kallsyms is read in pieces of this size (its lines are parsed as they arrive). */
const CHUNK = 1 << 18;
/** Names are kept in buffers of this size. */
const PAGE = 1 << 20;
/**
 * Set in `nameAt` when the name is `__pfx_` and the name (module included) at the rest of it: the
 * padding symbol a kernel built with CALL_PADDING puts before each function (`__pfx_NAME`, 16
 * bytes before NAME) is not stored again. Nearly half of the symbols are these, and half the bytes.
 */
const PFX_FLAG = 0x8000_0000;
const PFX_NAME = '__pfx_';
const PFX = Buffer.from(PFX_NAME, 'latin1');

/**
 * A cached table (`toCache`): a header (magic, format, count, whether starts are doubles, pages,
 * bytes used of the last page, CORE_TEXT's ranges as doubles, the key's digest), then starts,
 * nameAt, text, padding to 8 bytes and the name pages.
 */
const CACHE_MAGIC = Buffer.from('TLKSYMS\0', 'latin1');
const CACHE_FORMAT = 2;
const CACHE_HEADER = 80;
/**
 * The core kernel's text, as symbols that start and end it: fixed for a boot. Init text is freed
 * after boot, but the boot CPU's idle task still has its frames (start_kernel) on its stack.
 */
const CORE_TEXT = [['_stext', '_etext'], ['_sinittext', '_einittext']] as const;

function cacheKeyDigest(key: string): Buffer {
  return sha256(`${CACHE_FORMAT}\0${key}`).subarray(0, 16);
}

function pad8(n: number): number {
  return (8 - (n % 8)) % 8;
}

function bytesOf(a: Uint32Array | Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Grows a typed array (doubling), keeping its contents. */
function grow<T extends SymbolStarts | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export class Kallsyms {
  // Per symbol: its address (see `starts`) and where its name is in `pages`, 1 MiB buffers that
  // hold only `name[\t[module]]\n` of each symbol kept (a quarter of the file's bytes, `__pfx_`
  // names not stored again: PFX_FLAG; filled in turn, never copied; zeroed past the names, or for
  // the last one from the native reader a view ending there, so a search never matches past
  // them); names and BigInts are made on demand. The symbols are those bcc's KSyms keeps (every
  // type but data: b, d, r), so that kstack and ksym name an address as bpftrace does; `symbols`
  // and `addressOf` list only functions (t, w).
  private readonly pages: Buffer[] = [];
  /** Bytes used of the last page. */
  private pageUsed = PAGE;
  /** From TOP_FROM_BASE when a Uint32Array, else from KERNEL_BASE. */
  private starts: SymbolStarts;
  /** page * PAGE + offset in the page. */
  private nameAt: Uint32Array;
  /** Whether the symbol is a function (t, T, w, W). */
  private text: Uint8Array;
  private count = 0;
  /** A `__pfx_` symbol whose name is not stored yet: its index and line (see PFX_FLAG). */
  private pendingPfx?: { index: number; line: Buffer };
  private table?: SymbolTable;
  private symbolList?: KernelSymbol[];
  /**
   * For a table from the cache (`fromCache`): the core kernel's text (CORE_TEXT) from KERNEL_BASE,
   * the only addresses it names. A table read from /proc/kallsyms names any.
   */
  private ranges?: readonly { readonly lo: number; readonly hi: number }[];

  /**
   * Parses kallsyms text (the whole file; `read` parses the real one piece by piece), or takes
   * what the native reader parsed.
   */
  constructor(text?: Buffer | string | NativeKallsyms) {
    if (text !== undefined && typeof text !== 'string' && !Buffer.isBuffer(text)) {
      this.pages.push(...text.pages);
      this.pageUsed = text.pageUsed;
      // The last page holds names up to pageUsed only (what follows is not zeroed).
      if (this.pages.length > 0) this.pages[this.pages.length - 1] = this.pages.at(-1)!.subarray(0, this.pageUsed);
      this.starts = text.starts;
      this.nameAt = text.nameAt;
      this.text = text.text;
      this.count = text.starts.length;
      return;
    }
    // Room for a typical kernel's symbols (about 120k), so that the arrays rarely grow.
    const room = text === undefined ? 1 << 17 : 1 << 10;
    this.starts = new Uint32Array(room);
    this.nameAt = new Uint32Array(room);
    this.text = new Uint8Array(room);
    if (text !== undefined) {
      const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
      const used = this.parse(buf, buf.length);
      if (used < buf.length) this.parse(Buffer.concat([buf.subarray(used), Buffer.from('\n')]), buf.length - used + 1);
      this.trim();
    }
  }

  static read(path = '/proc/kallsyms'): Kallsyms {
    // The same parse, natively when the runtime has provided it (the loop over 120k lines runs
    // once: JavaScript would run it mostly interpreted).
    const native = symbolNatives();
    if (native) return new Kallsyms(native.readKallsyms(path));
    const k = new Kallsyms();
    const fd = openSync(path, 'r');
    try {
      // Whole lines are parsed as they arrive; a piece's unfinished last line moves to the front.
      const buf = Buffer.allocUnsafe(CHUNK);
      let have = 0;
      for (;;) {
        const got = readSync(fd, buf, have, buf.length - have, null);
        if (got === 0) break;
        have += got;
        const used = k.parse(buf, have);
        if (used === 0 && have === buf.length) throw new Error(`${path}: line longer than ${CHUNK} bytes`);
        buf.copy(buf, 0, used, have);
        have -= used;
      }
      if (have > 0) {
        buf[have] = 0x0a;
        k.parse(buf, have + 1);
      }
    } finally {
      closeSync(fd);
    }
    k.trim();
    return k;
  }

  /** Parses the whole lines in `buf[0, len)`; returns how many bytes they took. */
  private parse(buf: Buffer, len: number): number {
    let p = 0;
    for (;;) {
      const eol = buf.indexOf(0x0a, p);
      if (eol < 0 || eol >= len) return p;
      // address
      let h = 0;
      let l = 0;
      let digits = 0;
      for (let d = HEX[buf[p]!]!; d >= 0 && p < eol; d = HEX[buf[++p]!]!) {
        h = ((h << 4) | (l >>> 28)) >>> 0;
        l = ((l << 4) | d) >>> 0;
        digits++;
      }
      // " T name[\t[module]]\n"
      const type = buf[p + 1]! | 0x20;
      const s0 = p + 3;
      // Kernel addresses only (bcc: above 0x00ffffffffffffff, not all ones); these are all at or
      // above KERNEL_BASE here, which keeps them exact as doubles relative to it.
      if (digits > 0 && buf[p] === 0x20 && s0 <= eol && h >= KERNEL_BASE_HI && !(h === 0xffffffff && l === 0xffffffff)
        && type !== 0x62 && type !== 0x64 && type !== 0x72) {
        const n = this.count;
        if (n === this.starts.length) {
          this.starts = grow(this.starts, n * 2);
          this.nameAt = grow(this.nameAt, n * 2);
          this.text = grow(this.text, n * 2);
        }
        if (h !== 0xffffffff && this.starts instanceof Uint32Array) this.starts = Float64Array.from(this.starts, (v) => TOP_FROM_BASE + v);
        this.starts[n] = this.starts instanceof Uint32Array ? l : (h - KERNEL_BASE_HI) * 0x1_0000_0000 + l;
        this.text[n] = type === 0x74 || type === 0x77 ? 1 : 0;
        this.count++;
        const line = buf.subarray(s0, eol + 1);
        const pending = this.pendingPfx;
        this.pendingPfx = undefined;
        if (line.length > PFX.length && line.subarray(0, PFX.length).equals(PFX)) {
          // Its name waits for the next symbol's: the function it pads, most likely.
          if (pending) this.nameAt[pending.index] = this.storeName(pending.line);
          this.pendingPfx = { index: n, line: Buffer.from(line) };
        } else {
          this.nameAt[n] = this.storeName(line);
          if (pending) {
            this.nameAt[pending.index] = pending.line.subarray(PFX.length).equals(line)
              ? (PFX_FLAG | this.nameAt[n]!) >>> 0
              : this.storeName(pending.line);
          }
        }
      }
      p = eol + 1;
    }
  }

  /**
   * Ends the arrays at the last symbol, as views (as the native reader does): the room past it was
   * never written, so it holds no resident pages, and a copy would have both at once.
   */
  private trim(): void {
    if (this.pendingPfx) this.nameAt[this.pendingPfx.index] = this.storeName(this.pendingPfx.line);
    this.pendingPfx = undefined;
    const n = this.count;
    this.starts = this.starts.subarray(0, n);
    this.nameAt = this.nameAt.subarray(0, n);
    this.text = this.text.subarray(0, n);
  }

  /**
   * The symbols, sorted, for `fromCache` in a later run of the same boot, which names only the core
   * kernel's text with them: it does not move or change until a reboot, where modules, BPF
   * programs and trampolines come and go. Kept in the order this table sorted them, so that later
   * runs name aliases as this one did without sorting again. The names are the pages as they are.
   * Undefined without the symbols that bound CORE_TEXT.
   */
  toCache(key: string): Buffer | undefined {
    const table = this.sorted();
    const ranges = CORE_TEXT.map(([from, to]) => [this.addressOf(from), this.addressOf(to)] as const);
    if (ranges.some(([lo, hi]) => lo === undefined || hi === undefined || hi <= lo)) return undefined;
    // Every symbol, modules' too: the core kernel's keep the order this table gave them only
    // among all of them, and later runs name only addresses in CORE_TEXT with the table.
    const n = table.length;
    const wide = this.starts instanceof Float64Array;
    const starts = table.sortedStarts();
    const nameAt = table.inSortedOrder(this.nameAt.subarray(0, n));
    const text = table.inSortedOrder(this.text.subarray(0, n));
    const header = Buffer.alloc(CACHE_HEADER);
    CACHE_MAGIC.copy(header, 0);
    header.writeUInt32LE(CACHE_FORMAT, 8);
    header.writeUInt32LE(n, 12);
    header.writeUInt32LE(wide ? 1 : 0, 16);
    header.writeUInt32LE(this.pages.length, 20);
    header.writeUInt32LE(this.pageUsed, 24);
    ranges.forEach(([lo, hi], r) => {
      header.writeDoubleLE(Number(lo! - KERNEL_BASE), 32 + r * 16);
      header.writeDoubleLE(Number(hi! - KERNEL_BASE), 40 + r * 16);
    });
    cacheKeyDigest(key).copy(header, 64);
    const parts = [header, bytesOf(starts), bytesOf(nameAt), bytesOf(text), Buffer.alloc(pad8(n))];
    this.pages.forEach((page, p) => parts.push(p === this.pages.length - 1 ? page.subarray(0, this.pageUsed) : page));
    return Buffer.concat(parts);
  }

  /**
   * A table of what `toCache` wrote (its bytes read or mapped; they stay in use), if they are whole
   * and were made under `key`; it names only addresses it `covers`.
   */
  static fromCache(bytes: Uint8Array, key: string): Kallsyms | undefined {
    if (bytes.length < CACHE_HEADER || bytes.byteOffset % 8 !== 0) return undefined;
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (!b.subarray(0, 8).equals(CACHE_MAGIC) || b.readUInt32LE(8) !== CACHE_FORMAT) return undefined;
    if (!b.subarray(64, 80).equals(cacheKeyDigest(key))) return undefined;
    const n = b.readUInt32LE(12);
    const wide = b.readUInt32LE(16) === 1;
    const pages = b.readUInt32LE(20);
    const pageUsed = b.readUInt32LE(24);
    const startsAt = CACHE_HEADER;
    const nameAtAt = startsAt + n * (wide ? 8 : 4);
    const textAt = nameAtAt + n * 4;
    const pagesAt = textAt + n + pad8(n);
    if (pages === 0 || pageUsed > PAGE || b.length !== pagesAt + (pages - 1) * PAGE + pageUsed) return undefined;
    const k = new Kallsyms({
      starts: wide ? new Float64Array(b.buffer, b.byteOffset + startsAt, n) : new Uint32Array(b.buffer, b.byteOffset + startsAt, n),
      nameAt: new Uint32Array(b.buffer, b.byteOffset + nameAtAt, n),
      text: new Uint8Array(b.buffer, b.byteOffset + textAt, n),
      pages: Array.from({ length: pages }, (_, p) => b.subarray(pagesAt + p * PAGE, pagesAt + Math.min((p + 1) * PAGE, (pages - 1) * PAGE + pageUsed))),
      pageUsed,
    });
    k.table = SymbolTable.presorted(k.starts, undefined, k.startsBase());
    k.ranges = CORE_TEXT.map((_, r) => ({ lo: b.readDoubleLE(32 + r * 16), hi: b.readDoubleLE(40 + r * 16) }));
    return k;
  }

  /** Whether `lookup` names this address (always, unless the table came from the cache). */
  covers(address: bigint): boolean {
    if (!this.ranges) return true;
    if (address < KERNEL_BASE) return false;
    const a = Number(address - KERNEL_BASE);
    return this.ranges.some((r) => a >= r.lo && a < r.hi);
  }

  /** Copies `name[\t[module]]\n` to the pages; returns where it is (as nameAt holds it). */
  private storeName(line: Buffer): number {
    if (this.pageUsed + line.length > PAGE) {
      this.pages.push(Buffer.alloc(PAGE));
      this.pageUsed = 0;
    }
    const at = (this.pages.length - 1) * PAGE + this.pageUsed;
    this.pageUsed += line.copy(this.pages[this.pages.length - 1]!, this.pageUsed);
    return at;
  }

  /** Builds the lookup table now (it is otherwise built on the first lookup). */
  prepare(): void {
    this.sorted();
  }

  /** Sorted as bcc sorts them, on first lookup: the table sorts `starts` in place (no copy). */
  private sorted(): SymbolTable {
    return (this.table ??= new SymbolTable(this.starts.subarray(0, this.count), undefined, this.startsBase()));
  }

  /** What `starts` are from, relative to KERNEL_BASE. */
  private startsBase(): number {
    return this.starts instanceof Uint32Array ? TOP_FROM_BASE : 0;
  }

  /** Symbol i's address (`starts` is in symbol order only until the table sorts it). */
  private addr(i: number): bigint {
    return KERNEL_BASE + BigInt(this.table ? this.table.startOf(i) : this.startsBase() + this.starts[i]!);
  }

  /**
   * Symbol i's page, and where its name starts and ends there (at the tab before its module, or
   * the newline); `pfx`: the name is `__pfx_` and that (see PFX_FLAG).
   */
  private nameIn(i: number): { page: Buffer; start: number; end: number; pfx: boolean } {
    const pfx = this.nameAt[i]! >= PFX_FLAG;
    const at = this.nameAt[i]! & ~PFX_FLAG;
    const page = this.pages[Math.floor(at / PAGE)]!;
    const start = at % PAGE;
    let end = start;
    while (page[end] !== 0x0a && page[end] !== 0x09) end++;
    return { page, start, end, pfx };
  }

  private name(i: number): string {
    const { page, start, end, pfx } = this.nameIn(i);
    return (pfx ? PFX_NAME : '') + page.toString('latin1', start, end);
  }

  private module(i: number): string | undefined {
    const { page, end } = this.nameIn(i);
    if (page[end] !== 0x09) return undefined;
    return page.toString('latin1', end + 1, page.indexOf(0x0a, end)).replace(/^\[|\]$/g, '');
  }

  /** Functions (text symbols), sorted by address. */
  get symbols(): readonly KernelSymbol[] {
    if (!this.symbolList) {
      const out: KernelSymbol[] = [];
      const starts = this.table ? this.table.startsByIndex() : this.starts;
      const base = this.table ? 0 : this.startsBase();
      for (let i = 0; i < this.count; i++) {
        if (!this.text[i]) continue;
        const m = this.module(i);
        const address = KERNEL_BASE + BigInt(base + starts[i]!);
        out.push(m === undefined ? { address, name: this.name(i) } : { address, name: this.name(i), module: m });
      }
      this.symbolList = out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    }
    return this.symbolList;
  }

  /** Whether addresses are real (they read as 0 without privilege / with kptr_restrict). */
  get hasAddresses(): boolean {
    return this.count > 0;
  }

  /**
   * The symbol of `address` as bcc names it: the last symbol at or below it, of aliases the one
   * std::sort leaves last.
   */
  lookup(address: bigint): SymbolHit | undefined {
    if (address < KERNEL_BASE || address > 0xffff_ffff_ffff_ffffn || !this.covers(address)) return undefined;
    const hit = this.sorted().nearest(Number(address - KERNEL_BASE));
    if (!hit) return undefined;
    const i = hit.index;
    const offset = BigInt(hit.offset);
    const m = this.module(i);
    return m === undefined ? { name: this.name(i), offset } : { name: this.name(i), offset, module: m };
  }

  /** `name+26` (decimal offset, as bpftrace's ksym with offsets and kstack print), or `name`. */
  format(address: bigint, withOffset = true): string {
    const hit = this.lookup(address);
    if (!hit) return `0x${address.toString(16)}`;
    return withOffset && hit.offset !== 0n ? `${hit.name}+${hit.offset}` : hit.name;
  }

  /** A function's address by name (the lowest-addressed function of that name). */
  addressOf(name: string): bigint | undefined {
    let best: bigint | undefined;
    const nameAt = this.nameAt.subarray(0, this.count);
    const consider = (i: number) => {
      if (i < 0 || !this.text[i]) return;
      const address = this.addr(i);
      if (best === undefined || address < best) best = address;
    };
    /** The symbols whose name is stored as `stored`, with `flag` in nameAt. */
    const search = (stored: string, flag: number) => {
      const bytes = Buffer.from(stored, 'latin1');
      this.pages.forEach((page, p) => {
        for (let at = page.indexOf(bytes); at >= 0; at = page.indexOf(bytes, at + 1)) {
          const c = page[at + bytes.length];
          if ((at > 0 && page[at - 1] !== 0x0a) || (c !== 0x0a && c !== 0x09)) continue;
          // Which symbols' names start here? Names are in file order; search for them.
          const value = (flag | (p * PAGE + at)) >>> 0;
          for (let i = nameAt.indexOf(value); i >= 0; i = nameAt.indexOf(value, i + 1)) consider(i);
        }
      });
    };
    search(name, 0);
    // A `__pfx_` name is stored as it is, or as the name after it with PFX_FLAG.
    if (name.length > PFX_NAME.length && name.startsWith(PFX_NAME)) search(name.slice(PFX_NAME.length), PFX_FLAG);
    return best;
  }
}
