// Address → symbol tables in typed arrays, searched the way bcc (which bpftrace 0.17 symbolizes
// with) searches its own: symbols sorted by start address with libstdc++'s std::sort, which is not
// stable, so among aliases (several names at one address, e.g. libc's `getdents64` and
// `__getdents64`) the one bpftrace prints is the one that sort leaves last. `stdSort` reproduces
// that sort exactly, so tracelet picks the same name.
import { symbolNatives } from './natives.js';

/**
 * libstdc++'s std::sort (introsort, _S_threshold 16, median of three, heap sort past the depth
 * limit, final insertion sort) of `keys` ascending, moving `order` along with them: the same
 * permutation the C++ sort makes of equal keys.
 */
export function stdSort(order: Int32Array, keys: SymbolStarts): void {
  const n = order.length;
  if (n < 2) return;
  introsort(keys, order, 0, n, 2 * Math.floor(Math.log2(n)));
  if (n > 16) {
    insertionSort(keys, order, 0, 16);
    for (let i = 16; i < n; i++) linearInsert(keys, order, i);
  } else insertionSort(keys, order, 0, n);
}

/**
 * Sorts `starts` in place as stdSort does and returns the permutation (sorted position → index
 * before): the addon's std::sort when the runtime has provided it (the same permutation, faster,
 * and no JavaScript loop over every symbol to get V8's optimizing compiler going).
 */
function sortedOrder(starts: SymbolStarts): Int32Array {
  const native = symbolNatives();
  if (native) return native.sortSymbols(starts);
  const order = new Int32Array(starts.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  stdSort(order, starts);
  return order;
}

type Column = Uint8Array | Int32Array | Uint32Array | Float64Array;

/** A new array of `source`'s type whose element k is source[order[k]]: natively when provided. */
export function gather<T extends Column>(source: T, order: Int32Array): T {
  const native = symbolNatives();
  if (native) return native.gather(source, order);
  const out = new (source.constructor as new (n: number) => T)(order.length);
  for (let k = 0; k < order.length; k++) out[k] = source[order[k]!]!;
  return out;
}

function swap(k: SymbolStarts, o: Int32Array, i: number, j: number): void {
  const tk = k[i]!;
  k[i] = k[j]!;
  k[j] = tk;
  const to = o[i]!;
  o[i] = o[j]!;
  o[j] = to;
}

function introsort(k: SymbolStarts, o: Int32Array, first: number, last: number, depth: number): void {
  while (last - first > 16) {
    if (depth === 0) {
      heapSort(k, o, first, last);
      return;
    }
    depth--;
    // __move_median_to_first(first, first + 1, mid, last - 1)
    const a = first + 1;
    const b = first + ((last - first) >> 1);
    const c = last - 1;
    if (k[a]! < k[b]!) {
      if (k[b]! < k[c]!) swap(k, o, first, b);
      else if (k[a]! < k[c]!) swap(k, o, first, c);
      else swap(k, o, first, a);
    } else if (k[a]! < k[c]!) swap(k, o, first, a);
    else if (k[b]! < k[c]!) swap(k, o, first, c);
    else swap(k, o, first, b);
    // __unguarded_partition(first + 1, last, first)
    const pivot = k[first]!;
    let lo = first + 1;
    let hi = last;
    for (;;) {
      while (k[lo]! < pivot) lo++;
      hi--;
      while (pivot < k[hi]!) hi--;
      if (!(lo < hi)) break;
      swap(k, o, lo, hi);
      lo++;
    }
    introsort(k, o, lo, last, depth);
    last = lo;
  }
}

function adjustHeap(k: SymbolStarts, o: Int32Array, first: number, hole: number, len: number, vk: number, vo: number): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (k[first + child]! < k[first + child - 1]!) child--;
    k[first + hole] = k[first + child]!;
    o[first + hole] = o[first + child]!;
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
    child = 2 * (child + 1);
    k[first + hole] = k[first + child - 1]!;
    o[first + hole] = o[first + child - 1]!;
    hole = child - 1;
  }
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && k[first + parent]! < vk) {
    k[first + hole] = k[first + parent]!;
    o[first + hole] = o[first + parent]!;
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  k[first + hole] = vk;
  o[first + hole] = vo;
}

function heapSort(k: SymbolStarts, o: Int32Array, first: number, last: number): void {
  const len = last - first;
  if (len >= 2) {
    for (let parent = Math.floor((len - 2) / 2); ; parent--) {
      adjustHeap(k, o, first, parent, len, k[first + parent]!, o[first + parent]!);
      if (parent === 0) break;
    }
  }
  while (last - first > 1) {
    last--;
    const vk = k[last]!;
    const vo = o[last]!;
    k[last] = k[first]!;
    o[last] = o[first]!;
    adjustHeap(k, o, first, 0, last - first, vk, vo);
  }
}

function linearInsert(k: SymbolStarts, o: Int32Array, i: number): void {
  const vk = k[i]!;
  const vo = o[i]!;
  let j = i - 1;
  while (vk < k[j]!) {
    k[j + 1] = k[j]!;
    o[j + 1] = o[j]!;
    j--;
  }
  k[j + 1] = vk;
  o[j + 1] = vo;
}

function insertionSort(k: SymbolStarts, o: Int32Array, first: number, last: number): void {
  for (let i = first + 1; i < last; i++) {
    const vk = k[i]!;
    if (vk < k[first]!) {
      const vo = o[i]!;
      k.copyWithin(first + 1, first, i);
      o.copyWithin(first + 1, first, i);
      k[first] = vk;
      o[first] = vo;
    } else linearInsert(k, o, i);
  }
}

/** Symbol sizes: 32-bit unless some symbol is 4 GiB or more. */
export type SymbolSizes = Float64Array | Uint32Array;
/** Start addresses from a base: 32-bit when every one is within 4 GiB of it (half the memory). */
export type SymbolStarts = Float64Array | Uint32Array;

/**
 * Symbols as start addresses (`base` plus `starts`, exact as doubles) and sizes, sorted as bcc
 * sorts them. Lookups return the index the symbol had when it was added; names stay with the
 * caller. The table takes `starts` over (it sorts them in place) and keeps `sizes` as given (in
 * the order added: no sorted copy); without `sizes`, only `nearest` works. Addresses given to it
 * and taken from it are the full ones (base added).
 */
export class SymbolTable {
  /** Start addresses in sorted order, from `base`. */
  private readonly starts: SymbolStarts;
  /** Sizes by index as added. */
  private readonly sizes?: SymbolSizes;
  /** Sorted position → index as added; none when they were added sorted (see `presorted`). */
  private readonly order?: Int32Array;

  constructor(starts: SymbolStarts, sizes?: SymbolSizes, private readonly base = 0, sorted = false) {
    if (!sorted) this.order = sortedOrder(starts);
    this.starts = starts;
    this.sizes = sizes;
  }

  /**
   * A table of starts already in the order this table sorts them to (saved from one that did): not
   * sorted again, as std::sort could reorder aliases; an index is its sorted position.
   */
  static presorted(starts: SymbolStarts, sizes?: SymbolSizes, base = 0): SymbolTable {
    return new SymbolTable(starts, sizes, base, true);
  }

  get length(): number {
    return this.starts.length;
  }

  /** The index as added of the symbol at sorted position `at`. */
  indexAt(at: number): number {
    return this.order ? this.order[at]! : at;
  }

  /** The start (from `base`) of the symbol at sorted position `at`. */
  sortedStart(at: number): number {
    return this.starts[at]!;
  }

  /** The start addresses (from `base`) in sorted order: the table's own array, not a copy. */
  sortedStarts(): SymbolStarts {
    return this.starts;
  }

  /** A column of the symbols in the order they were added (by index), put in sorted order (a new array). */
  inSortedOrder<T extends Column>(byIndex: T): T {
    return this.order ? gather(byIndex, this.order) : (byIndex.slice() as T);
  }

  /** The start address of the symbol added `index`th (a search: for the odd symbol, not for every one). */
  startOf(index: number): number {
    return this.base + this.starts[this.order ? this.order.indexOf(index) : index]!;
  }

  /** The start addresses in the order the symbols were added (a new array). */
  startsByIndex(): Float64Array {
    const out = new Float64Array(this.starts.length);
    for (let at = 0; at < out.length; at++) out[this.indexAt(at)] = this.base + this.starts[at]!;
    return out;
  }

  /** std::upper_bound: the first sorted position whose start is above `address`. */
  private upperBound(address: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (address < this.starts[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** bcc's KSyms::resolve_addr: the last symbol starting at or below the address (sizes ignored). */
  nearest(address: number): { index: number; offset: number } | undefined {
    address -= this.base;
    const at = this.upperBound(address) - 1;
    if (at < 0) return undefined;
    return { index: this.indexAt(at), offset: address - this.starts[at]! };
  }

  /**
   * bcc's ProcSyms::Module::find_addr: walk back from the last symbol at or below the address to
   * one whose [start, start + size) holds it, through nested symbols, stopping at the first symbol
   * that ends before the start of the one just below the address.
   */
  containing(address: number): { index: number; offset: number } | undefined {
    const sizes = this.sizes;
    address -= this.base;
    let at = this.upperBound(address) - 1;
    if (at < 0 || !sizes) return undefined;
    const limit = this.starts[at]!;
    for (; address >= this.starts[at]!; at--) {
      const index = this.indexAt(at);
      const end = this.starts[at]! + sizes[index]!;
      if (address < end) return { index, offset: address - this.starts[at]! };
      if (limit > end || at === 0) break;
    }
    return undefined;
  }
}
