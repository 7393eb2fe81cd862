// /proc/kallsyms: kernel function symbols, sorted by address, and address → symbol+offset lookup
// (binary search) for ksym() and kstack.
import { closeSync, openSync, readSync } from 'node:fs';
import { SymbolTable } from './symtab.js';

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

/** A file of unknown size (procfs) in 1 MiB reads: readFileSync's small reads are 2-3x slower here. */
export function readWhole(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(8 << 20);
    let n = 0;
    for (;;) {
      if (buf.length - n < 1 << 20) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, 1 << 20, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export class Kallsyms {
  // One pass over the bytes records each symbol's address (as two 32-bit halves: kernel addresses
  // do not fit a double) and where its name is; names and BigInts are made on demand. The symbols
  // are those bcc's KSyms keeps (every type but data: b, d, r), so that kstack and ksym name an
  // address as bpftrace does; `symbols` and `addressOf` list only functions (t, w).
  private readonly buf: Buffer;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Byte range of the name, and of the module name (0,0 when none). */
  private readonly nameStart: Uint32Array;
  private readonly nameEnd: Uint32Array;
  private readonly modEnd: Uint32Array;
  /** Whether the symbol is a function (t, T, w, W). */
  private readonly text: Uint8Array;
  private table?: SymbolTable;
  private symbolList?: KernelSymbol[];

  constructor(text: Buffer | string) {
    const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    this.buf = buf;
    let cap = 1 << 17;
    let hi = new Uint32Array(cap);
    let lo = new Uint32Array(cap);
    let ns = new Uint32Array(cap);
    let ne = new Uint32Array(cap);
    let me = new Uint32Array(cap);
    let tx = new Uint8Array(cap);
    let n = 0;
    let p = 0;
    const len = buf.length;
    while (p < len) {
      // address
      let h = 0;
      let l = 0;
      let digits = 0;
      for (let d = HEX[buf[p]!]!; d >= 0 && p < len; d = HEX[buf[++p]!]!) {
        h = ((h << 4) | (l >>> 28)) >>> 0;
        l = ((l << 4) | d) >>> 0;
        digits++;
      }
      // " T name[\t[module]]\n"
      const type = buf[p + 1]! | 0x20;
      const s0 = p + 3;
      let q = s0;
      while (q < len && buf[q] !== 0x0a && buf[q] !== 0x09) q++;
      const nameEnd = q;
      let modEnd = 0;
      if (q < len && buf[q] === 0x09) {
        while (q < len && buf[q] !== 0x0a) q++;
        modEnd = q;
      }
      // Kernel addresses only (bcc: above 0x00ffffffffffffff, not all ones); these are all at or
      // above KERNEL_BASE here, which keeps them exact as doubles relative to it.
      if (digits > 0 && buf[p] === 0x20 && h >= KERNEL_BASE_HI && !(h === 0xffffffff && l === 0xffffffff)
        && type !== 0x62 && type !== 0x64 && type !== 0x72) {
        if (n === cap) {
          cap *= 2;
          const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
            const b = new (a.constructor as new (n: number) => T)(cap);
            b.set(a);
            return b;
          };
          hi = grow(hi); lo = grow(lo); ns = grow(ns); ne = grow(ne); me = grow(me); tx = grow(tx);
        }
        hi[n] = h;
        lo[n] = l;
        ns[n] = s0;
        ne[n] = nameEnd;
        me[n] = modEnd;
        tx[n] = type === 0x74 || type === 0x77 ? 1 : 0;
        n++;
      }
      while (q < len && buf[q] !== 0x0a) q++;
      p = q + 1;
    }
    this.hi = hi.slice(0, n); this.lo = lo.slice(0, n);
    this.nameStart = ns.slice(0, n); this.nameEnd = ne.slice(0, n); this.modEnd = me.slice(0, n);
    this.text = tx.slice(0, n);
  }

  /** Builds the lookup table now (it is otherwise built on the first lookup). */
  prepare(): void {
    this.sorted();
  }

  /** Sorted as bcc sorts them, on first lookup. */
  private sorted(): SymbolTable {
    if (!this.table) {
      const starts = new Float64Array(this.hi.length);
      for (let i = 0; i < starts.length; i++) starts[i] = (this.hi[i]! - KERNEL_BASE_HI) * 0x1_0000_0000 + this.lo[i]!;
      this.table = new SymbolTable(starts, new Float64Array(starts.length));
    }
    return this.table;
  }

  static read(path = '/proc/kallsyms'): Kallsyms {
    return new Kallsyms(readWhole(path));
  }

  private addr(i: number): bigint {
    return (BigInt(this.hi[i]!) << 32n) | BigInt(this.lo[i]!);
  }

  private name(i: number): string {
    return this.buf.toString('latin1', this.nameStart[i]!, this.nameEnd[i]!);
  }

  private module(i: number): string | undefined {
    const e = this.modEnd[i]!;
    if (e === 0) return undefined;
    return this.buf.toString('latin1', this.nameEnd[i]! + 1, e).replace(/^\[|\]$/g, '');
  }

  /** Functions (text symbols), sorted by address. */
  get symbols(): readonly KernelSymbol[] {
    if (!this.symbolList) {
      const out: KernelSymbol[] = [];
      for (let i = 0; i < this.hi.length; i++) {
        if (!this.text[i]) continue;
        const m = this.module(i);
        out.push(m === undefined ? { address: this.addr(i), name: this.name(i) } : { address: this.addr(i), name: this.name(i), module: m });
      }
      this.symbolList = out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    }
    return this.symbolList;
  }

  /** Whether addresses are real (they read as 0 without privilege / with kptr_restrict). */
  get hasAddresses(): boolean {
    return this.hi.length > 0;
  }

  /**
   * The symbol of `address` as bcc names it: the last symbol at or below it, of aliases the one
   * std::sort leaves last.
   */
  lookup(address: bigint): SymbolHit | undefined {
    if (address < KERNEL_BASE || address > 0xffff_ffff_ffff_ffffn) return undefined;
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
    const needle = Buffer.from(name, 'latin1');
    const starts = this.nameStart;
    const ends = this.nameEnd;
    for (let at = this.buf.indexOf(needle); at >= 0; at = this.buf.indexOf(needle, at + 1)) {
      const c = this.buf[at + needle.length];
      if (this.buf[at - 1] !== 0x20 || (c !== 0x0a && c !== 0x09 && c !== undefined)) continue;
      // Which symbol starts here? Names are in file order only when the file was sorted; scan.
      for (let i = 0; i < starts.length; i++) if (starts[i] === at && ends[i] === at + needle.length && this.text[i]) return this.addr(i);
    }
    return undefined;
  }
}
