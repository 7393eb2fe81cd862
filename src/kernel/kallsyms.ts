// /proc/kallsyms: kernel function symbols, sorted by address, and address → symbol+offset lookup
// (binary search) for ksym() and kstack.
import { readFileSync } from 'node:fs';

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

export class Kallsyms {
  // One pass over the bytes records each function's address (as two 32-bit halves: kernel
  // addresses do not fit a double) and where its name is; names and BigInts are made on demand.
  private readonly buf: Buffer;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Byte range of the name, and of the module name (0,0 when none). */
  private readonly nameStart: Uint32Array;
  private readonly nameEnd: Uint32Array;
  private readonly modEnd: Uint32Array;
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
      const type = buf[p + 1];
      const s0 = p + 3;
      let q = s0;
      while (q < len && buf[q] !== 0x0a && buf[q] !== 0x09) q++;
      const nameEnd = q;
      let modEnd = 0;
      if (q < len && buf[q] === 0x09) {
        while (q < len && buf[q] !== 0x0a) q++;
        modEnd = q;
      }
      if (digits > 0 && buf[p] === 0x20 && (type === 0x74 || type === 0x54 || type === 0x77 || type === 0x57)) {
        if (n === cap) {
          cap *= 2;
          const grow = (a: Uint32Array) => {
            const b = new Uint32Array(cap);
            b.set(a);
            return b;
          };
          hi = grow(hi); lo = grow(lo); ns = grow(ns); ne = grow(ne); me = grow(me);
        }
        hi[n] = h;
        lo[n] = l;
        ns[n] = s0;
        ne[n] = nameEnd;
        me[n] = modEnd;
        n++;
      }
      while (q < len && buf[q] !== 0x0a) q++;
      p = q + 1;
    }
    // /proc/kallsyms is sorted except for module symbols; sort (stably) only if needed.
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) {
      if (hi[i]! < hi[i - 1]! || (hi[i] === hi[i - 1] && lo[i]! < lo[i - 1]!)) sorted = false;
    }
    if (sorted) {
      this.hi = hi.slice(0, n); this.lo = lo.slice(0, n);
      this.nameStart = ns.slice(0, n); this.nameEnd = ne.slice(0, n); this.modEnd = me.slice(0, n);
    } else {
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
      const pick = (a: Uint32Array) => Uint32Array.from(idx, (i) => a[i]!);
      this.hi = pick(hi); this.lo = pick(lo);
      this.nameStart = pick(ns); this.nameEnd = pick(ne); this.modEnd = pick(me);
    }
  }

  static read(path = '/proc/kallsyms'): Kallsyms {
    return new Kallsyms(readFileSync(path));
  }

  get length(): number {
    return this.hi.length;
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
      const out: KernelSymbol[] = new Array(this.length);
      for (let i = 0; i < out.length; i++) {
        const m = this.module(i);
        out[i] = m === undefined ? { address: this.addr(i), name: this.name(i) } : { address: this.addr(i), name: this.name(i), module: m };
      }
      this.symbolList = out;
    }
    return this.symbolList;
  }

  /** Whether addresses are real (they read as 0 without privilege / with kptr_restrict). */
  get hasAddresses(): boolean {
    const n = this.length;
    return n > 0 && (this.hi[n - 1] !== 0 || this.lo[n - 1] !== 0);
  }

  /**
   * The symbol containing `address`: the last symbol at or below it. Several names at one address
   * resolve to the first listed.
   */
  lookup(address: bigint): SymbolHit | undefined {
    const n = this.length;
    if (n === 0 || address < 0n || address > 0xffff_ffff_ffff_ffffn) return undefined;
    const ah = Number(address >> 32n);
    const al = Number(address & 0xffff_ffffn);
    const le = (i: number) => this.hi[i]! < ah || (this.hi[i] === ah && this.lo[i]! <= al);
    if (!le(0)) return undefined;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (le(mid)) lo = mid;
      else hi = mid - 1;
    }
    while (lo > 0 && this.hi[lo - 1] === this.hi[lo] && this.lo[lo - 1] === this.lo[lo]) lo--;
    const offset = address - this.addr(lo);
    const m = this.module(lo);
    return m === undefined ? { name: this.name(lo), offset } : { name: this.name(lo), offset, module: m };
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
      for (let i = 0; i < starts.length; i++) if (starts[i] === at && ends[i] === at + needle.length) return this.addr(i);
    }
    return undefined;
  }
}
