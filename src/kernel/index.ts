// The kernel stage: what the machine offers a tracer. `KernelInfo` is the interface the type
// checker and runtime use; `SystemKernel` is the real implementation.
export type {
  DataLocInfo, ElfSymbol, KernelFunction, KernelInfo, KernelParam, TracepointField, TracepointFormat, UsdtProbe,
} from './kernel-info.js';
export { SystemKernel } from './system-kernel.js';
export type { SystemKernelOptions } from './system-kernel.js';
export { Btf, BtfError, VMLINUX_BTF } from './btf.js';
export { ElfFile, ElfError } from './elf.js';
export type { ElfSection, ElfSegment, UsdtNote } from './elf.js';
export { Kallsyms } from './kallsyms.js';
export type { KernelSymbol, SymbolHit } from './kallsyms.js';
export { KernelSymbols } from './kernel-symbols.js';
export type { KernelSymbolLookup } from './kernel-symbols.js';
export { cacheDir } from './cache-files.js';
export { ensureTracefs, findTracefs, listTracepoints, parseTracepointFormat, readTracepointFormat, TRACEFS } from './tracefs.js';
export { findInPath, findLibrary, ldCacheEntries, libraryDependencies, mappedFiles, parseLdCache, resolveBinary } from './resolve.js';
export { hasPmu, kernelConfig, probeFeature } from './features.js';
export type { Feature } from './features.js';
export { FileSymbols, findDebugFile, PerfMap } from './user-symbols.js';
export type { UserSymbolHit } from './user-symbols.js';
export { stdSort, SymbolTable } from './symtab.js';
