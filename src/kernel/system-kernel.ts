// The real KernelInfo: tracefs, BTF, kallsyms and ELF files of this machine, each read on first
// use and kept.
import { findHeader, headerMacros, INCLUDE_DIRS } from './headers.js';
import { kernelIdentity } from './identity.js';
import { possibleCpus } from './cpus.js';
import { existsSync } from 'node:fs';
import type { Type } from '../model/types.js';
import type { ProgramType } from '../model/providers.js';
import { Btf, btfMemberOffset, VMLINUX_BTF } from './btf.js';
import { ElfFile } from './elf.js';
import { DwarfInfo } from './dwarf.js';
import { findDebugFile } from './user-symbols.js';
import type { UsdtNote } from './elf.js';
import { probeFeature } from './features.js';
import type { Feature } from './features.js';
import { Kallsyms } from './kallsyms.js';
import type { SymbolHit } from './kallsyms.js';
import type { DwarfFunction, DwarfType, ElfSymbol, KernelFunction, KernelInfo, KernelParam, TracepointFormat } from './kernel-info.js';
import { libraryDependencies, processFiles, resolveBinary } from './resolve.js';
import { ensureTracefs, findTracefs, listTracepoints, readTracepointFormat, readTracepointId, tracepointExists } from './tracefs.js';

export interface SystemKernelOptions {
  readonly btfPath?: string;
  readonly kallsymsPath?: string;
  /**
   * Feature answers known better than the file-based probes, e.g. from a BPF_PROG_LOAD test in
   * the runtime (`{ kfunc: true }`).
   */
  readonly features?: Partial<Record<Feature, boolean>>;
  /** -I: directories searched for #included headers before the system ones. */
  readonly includeDirs?: readonly string[];
  /**
   * Asks the kernel whether programs of a type may call the kfunc with a BTF id (a test load by
   * the runtime's native addon, which this module must not import); null: it would not say.
   */
  readonly kfuncProbe?: (btfId: number, programType: ProgramType) => boolean | null;
}

export class SystemKernel implements KernelInfo {
  private readonly opts: SystemKernelOptions;
  private tracefsRoot?: string;
  private tracefsNotice?: string;
  private tracefsTried = false;
  private tracepointList?: string[];
  private readonly formats = new Map<string, TracepointFormat | undefined>();
  private readonly kfuncAnswers = new Map<string, boolean | undefined>();
  /** Each uprobe target's DWARF, read once (null: none). */
  private readonly dwarfs = new Map<string, DwarfInfo | null>();
  private readonly userFunctions = new Map<string, DwarfFunction | undefined>();
  private readonly userTypes = new Map<string, DwarfType | undefined>();
  private readonly memberOffsets = new Map<string, number | undefined>();
  private btfState?: Btf | null;
  private kallsymsState?: Kallsyms | null;
  private readonly features = new Map<Feature, boolean>();

  constructor(opts: SystemKernelOptions = {}) {
    this.opts = opts;
  }

  // ---- tracefs ----

  ensureTracefs(): { mounted: boolean; notice?: string } {
    if (this.tracefsRoot) return this.tracefsNotice ? { mounted: true, notice: this.tracefsNotice } : { mounted: true };
    const r = ensureTracefs();
    this.tracefsTried = true;
    this.tracefsRoot = r.root;
    this.tracefsNotice = r.notice;
    return r.notice ? { mounted: r.mounted, notice: r.notice } : { mounted: r.mounted };
  }

  /** The tracefs root, mounting it on first need; undefined if it cannot be had. */
  tracefs(): string | undefined {
    if (this.tracefsRoot) return this.tracefsRoot;
    const found = findTracefs();
    if (found) return (this.tracefsRoot = found);
    if (!this.tracefsTried) this.ensureTracefs();
    return this.tracefsRoot;
  }

  listTracepoints(): readonly string[] {
    if (this.tracepointList) return this.tracepointList;
    const root = this.tracefs();
    if (!root) return [];
    return (this.tracepointList = listTracepoints(root));
  }

  hasTracepoint(category: string, event: string): boolean {
    const root = this.tracefs();
    return root !== undefined && tracepointExists(root, category, event);
  }

  tracepointFormat(category: string, event: string): TracepointFormat | undefined {
    const key = `${category}:${event}`;
    if (this.formats.has(key)) return this.formats.get(key);
    const root = this.tracefs();
    if (!root) return undefined;
    // Formats need BTF only for typedefs the parser does not know (their signedness) and records'
    // sizes; BTF is loaded on the first such question, and records come back opaque.
    const f = readTracepointFormat(root, category, event, (n) => this.btf()?.typeByName(n, true));
    this.formats.set(key, f);
    return f;
  }

  tracepointId(category: string, event: string): number | undefined {
    const known = this.formats.get(`${category}:${event}`);
    if (known) return known.id;
    const root = this.tracefs();
    return root === undefined ? undefined : readTracepointId(root, category, event);
  }

  // ---- BTF ----

  /** The vmlinux BTF reader, or undefined if the kernel has none. */
  btf(): Btf | undefined {
    if (this.btfState === undefined) {
      const path = this.opts.btfPath ?? VMLINUX_BTF;
      try {
        this.btfState = existsSync(path) ? Btf.fromFile(path) : null;
      } catch {
        this.btfState = null;
      }
    }
    return this.btfState ?? undefined;
  }

  listRawTracepoints(): readonly string[] {
    return this.btf()?.listRawTracepoints() ?? [];
  }

  rawTracepointArgs(name: string): readonly KernelParam[] | undefined {
    return this.btf()?.rawTracepointArgs(name);
  }

  kernelType(name: string): Type | undefined {
    return this.btf()?.typeByName(name);
  }

  structMemberOffset(struct: string, member: string): number | undefined {
    // Asked by every ustack and usym of a program.
    const key = `${struct}.${member}`;
    if (!this.memberOffsets.has(key)) {
      this.memberOffsets.set(key, btfMemberOffset(this.opts.btfPath ?? VMLINUX_BTF, struct.replace(/^struct /, ''), member));
    }
    return this.memberOffsets.get(key);
  }

  kernelFunction(name: string): KernelFunction | undefined {
    return this.btf()?.kernelFunction(name);
  }

  /** Kernel functions known to BTF (for `kfunc:*` listings), sorted. */
  listKernelFunctions(): readonly string[] {
    return this.btf()?.listFunctions() ?? [];
  }

  enumValue(name: string): bigint | undefined {
    return this.btf()?.enumeratorValue(name);
  }

  headerMacros(includes: readonly string[]): ReadonlyMap<string, bigint> {
    return headerMacros(includes, this.opts.includeDirs);
  }

  headerPath(name: string): string | undefined {
    return findHeader(name, [...(this.opts.includeDirs ?? []), ...INCLUDE_DIRS]);
  }

  // ---- kallsyms ----

  kallsyms(): Kallsyms | undefined {
    if (this.kallsymsState === undefined) {
      try {
        this.kallsymsState = Kallsyms.read(this.opts.kallsymsPath);
      } catch {
        this.kallsymsState = null;
      }
    }
    return this.kallsymsState ?? undefined;
  }

  kernelSymbols(): readonly { address: bigint; name: string }[] {
    return this.kallsyms()?.symbols ?? [];
  }

  /** Address → `symbol` + offset (ksym/kstack). */
  ksym(address: bigint): SymbolHit | undefined {
    return this.kallsyms()?.lookup(address);
  }

  // ---- ELF ----

  elfSymbols(path: string): readonly ElfSymbol[] {
    let elf: ElfFile;
    try {
      elf = ElfFile.open(path);
    } catch {
      return [];
    }
    const own = elf.symbols();
    // Separate debug symbols (by build-id under /usr/lib/debug, e.g. libc6-dbg, or by
    // .gnu_debuglink next to the file: findDebugFile, as stacks find them), as bcc and bpftrace
    // read them. Their virtual addresses are the binary's, but the debug file's program headers
    // are not: file offsets come from the binary's own segments.
    const debugPath = findDebugFile(elf, path);
    if (!debugPath) return own;
    let extra: readonly ElfSymbol[];
    try {
      extra = ElfFile.open(debugPath).symbols();
    } catch {
      return own;
    }
    const seen = new Set(own.map((s) => `${s.name}@${s.address}`));
    const added: ElfSymbol[] = [];
    for (const s of extra) {
      if (seen.has(`${s.name}@${s.address}`)) continue;
      const fileOffset = elf.vaddrToOffset(s.address);
      if (fileOffset !== undefined) added.push({ ...s, fileOffset });
    }
    return [...own, ...added];
  }

  userFunction(path: string, name: string, fileOffset?: bigint): DwarfFunction | undefined {
    const key = `${path}\0${name}\0${fileOffset ?? ''}`;
    if (!this.userFunctions.has(key)) this.userFunctions.set(key, this.readUserFunction(path, name, fileOffset));
    return this.userFunctions.get(key);
  }

  private readUserFunction(path: string, name: string, fileOffset?: bigint): DwarfFunction | undefined {
    let elf: ElfFile;
    try {
      elf = ElfFile.open(path);
    } catch {
      return undefined;
    }
    const vaddr = fileOffset === undefined ? undefined : elf.offsetToVaddr(fileOffset);
    try {
      return this.dwarfOf(path, elf)?.functionNamed(name, vaddr === undefined ? undefined : Number(vaddr));
    } catch {
      return undefined; // DWARF this reader does not know (an unknown form): as without debug info
    }
  }

  userType(path: string, name: string): DwarfType | undefined {
    // Asked again by each pass of the type checker.
    const key = `${path}\0${name}`;
    if (!this.userTypes.has(key)) {
      let found: DwarfType | undefined;
      try {
        found = this.dwarfOf(path, ElfFile.open(path))?.typeNamed(name);
      } catch {
        // not an ELF file, or DWARF this reader does not know
      }
      this.userTypes.set(key, found);
    }
    return this.userTypes.get(key);
  }

  /** The file's own DWARF, else its separate debug file's, found as for its symbols (read once). */
  private dwarfOf(path: string, elf: ElfFile): DwarfInfo | undefined {
    let dwarf = this.dwarfs.get(path);
    if (dwarf === undefined) {
      const debugFile = () => {
        const found = findDebugFile(elf, path);
        return found ? DwarfInfo.of(ElfFile.open(found)) : undefined;
      };
      try {
        dwarf = DwarfInfo.of(elf) ?? debugFile() ?? null;
      } catch {
        dwarf = null;
      }
      this.dwarfs.set(path, dwarf);
    }
    return dwarf ?? undefined;
  }

  /** One symbol by exact name without decoding the whole table (a few ms on libc). */
  elfSymbol(path: string, name: string): readonly ElfSymbol[] {
    try {
      return ElfFile.open(path).findSymbol(name);
    } catch {
      return [];
    }
  }

  usdtProbes(path: string): readonly UsdtNote[] {
    try {
      return ElfFile.open(path).usdtProbes();
    } catch {
      return [];
    }
  }

  resolveBinary(name: string, pid?: number): string | undefined {
    return resolveBinary(name, pid);
  }

  processFiles(pid: number): readonly string[] {
    return processFiles(pid);
  }

  libraryDependencies(path: string): readonly string[] {
    return libraryDependencies(path);
  }

  // ---- features ----

  hasFeature(feature: Feature): boolean {
    const forced = this.opts.features?.[feature];
    if (forced !== undefined) return forced;
    let v = this.features.get(feature);
    if (v === undefined) {
      const path = this.opts.btfPath ?? VMLINUX_BTF;
      v = probeFeature(feature, {
        tracefs: findTracefs(),
        btf: existsSync(path),
        btfHasFunction: (n) => this.btf()?.lookup(`func ${n}`) !== undefined,
      });
      this.features.set(feature, v);
    }
    return v;
  }

  kfuncAllowed(name: string, programType: ProgramType): boolean | undefined {
    const key = `${name}/${programType}`;
    if (!this.kfuncAnswers.has(key)) {
      const id = this.btf()?.lookup(`func ${name}`);
      const answer = id === undefined ? false : this.opts.kfuncProbe?.(id, programType) ?? undefined;
      this.kfuncAnswers.set(key, answer);
    }
    return this.kfuncAnswers.get(key);
  }

  possibleCpus(): number {
    return possibleCpus();
  }

  identity(): string {
    return [kernelIdentity(), this.opts.btfPath ?? '', ...(this.opts.includeDirs ?? [])].join('|');
  }
}
