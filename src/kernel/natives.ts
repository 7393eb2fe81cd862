// Native versions of this layer's bulk symbol work (src/runtime/native/symbols.cc): the runtime
// provides them once its addon is loaded, as this layer does not load the addon. Without them
// the JavaScript versions run, which compute the same (the tests compare the two).

/** ElfFile.symbolEntries' arrays, before names are attached. */
export interface NativeSymbolEntries {
  readonly starts: Uint32Array | Float64Array;
  readonly sizes: Uint32Array | Float64Array;
  readonly nameOff: Uint32Array;
  readonly tableOf: Uint8Array;
}

/** /proc/kallsyms as Kallsyms keeps it (see its fields). */
export interface NativeKallsyms {
  /** From 0xffffffff00000000 when a Uint32Array, else from 0xffff000000000000. */
  readonly starts: Uint32Array | Float64Array;
  readonly nameAt: Uint32Array;
  readonly text: Uint8Array;
  readonly pages: Buffer[];
  readonly pageUsed: number;
}

/** A BTF blob's types: the byte offset and name offset of each, indexed by type id (0: void). */
export interface NativeBtfOffsets {
  readonly offsets: Uint32Array;
  readonly nameOffs: Uint32Array;
}

export interface SymbolNatives {
  /** std::sort of `keys` in place; the permutation it made (what stdSort in symtab.ts makes of 0..n-1). */
  sortSymbols(keys: Float64Array | Uint32Array): Int32Array;
  /** A new array of `source`'s type whose element k is source[order[k]]. */
  gather<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(source: T, order: Int32Array): T;
  /** The named, defined entries of the symbol tables given as [symOffset, symSize, strOffset, strSize]... */
  symbolEntries(fd: number, tables: Float64Array): NativeSymbolEntries;
  /** Kallsyms.read's parse of the file at `path`. */
  readKallsyms(path: string): NativeKallsyms;
  /** The first `length` bytes of the open file `fd`, mapped copy-on-write (unmapped when collected). */
  mapFile(fd: number, length: number, readOnly?: boolean): ArrayBuffer;
  /** The SHA-256 of the parts one after another (strings as UTF-8). */
  sha256(parts: readonly (string | Uint8Array)[]): Buffer;
  /** The Btf constructor's scan of a blob's type section (`words`: the blob; starts in bytes). */
  btfTypeOffsets(words: Uint32Array, typeStart: number, typeEnd: number): NativeBtfOffsets;
}

let natives: SymbolNatives | undefined;

export function useSymbolNatives(provided: SymbolNatives | undefined): void {
  natives = provided;
}

export function symbolNatives(): SymbolNatives | undefined {
  return natives;
}
