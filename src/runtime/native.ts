// The native addon's API, as TypeScript sees it. The C++ lives in ./native/, built into two
// files: tracelet_native.node (libbpf and the rest) and tracelet_llvm.node (llvm.cc: LLVM linked
// in, ~10 MiB and tens of ms to load). This file is the one place that loads them, as one
// NativeAddon whose LLVM functions load the second file on first call, so a run whose object
// comes from the compile cache never loads LLVM.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { useSymbolNatives, type NativeBtfOffsets, type NativeKallsyms, type NativeSymbolEntries } from '../kernel/natives.js';

/**
 * What the addon throws. Kernel and libbpf failures carry the errno (`code` e.g. 'ENOENT',
 * `errno` e.g. 2) and libbpf's log lines in the message; loadObject failures also carry the
 * whole verifier log (`log`; the message has its last 50 lines) and libbpf's output (`libbpfLog`).
 * Wrong argument types or sizes throw TypeError / RangeError.
 */
export interface NativeError extends Error {
  code?: string;
  errno?: number;
  log?: string;
  libbpfLog?: string;
}

/**
 * What a row of a rendered dump holds (NativeAddon.renderDump): each field in turn. An entry's
 * value is the sum of its `slots` 64-bit integers (one per CPU for a per-CPU map), wrapping.
 */
export interface DumpRows {
  readonly keySize: number;
  /** Bytes of one entry's value in the dump. */
  readonly valueBytes: number;
  readonly slots: number;
  /** The value is an int64 (else a uint64), to sort by and to print. */
  readonly signed: boolean;
  readonly fields: readonly DumpField[];
  /** Written between two rows. */
  readonly separator: Uint8Array;
  /** 256 entries: what each byte of a string field is written as (undefined: the byte itself). */
  readonly escapes?: readonly (Uint8Array | undefined)[];
}

/**
 * A field of a row: literal bytes; a key element, an integer (`size` 1, 2, 4 or 8 bytes at
 * `offset` in the key, little-endian) in decimal or a string (at most `size` bytes, up to the
 * first NUL) through `escapes`; or the entry's value in decimal.
 */
export type DumpField =
  | { readonly kind: 'literal'; readonly bytes: Uint8Array }
  | { readonly kind: 'int'; readonly offset: number; readonly size: number; readonly signed: boolean }
  | { readonly kind: 'string'; readonly offset: number; readonly size: number }
  | { readonly kind: 'value' };

/** A ring buffer map being made (ringBufferInBackground), for one loadObject. */
export interface PendingRing {
  readonly __pendingRing: unique symbol;
}

export type NativeMapType = 'hash' | 'percpu_hash' | 'array' | 'percpu_array' | 'lru_hash' | 'ringbuf' | 'stack_trace';

/** A loaded BPF object (libbpf bpf_object) with its programs. */
export interface NativeObject {
  /** Program names as in the ELF (function names), in ELF order. */
  readonly programs: readonly string[];
  /** The fd of a loaded program. */
  programFd(name: string): number;
  /** How many BPF instructions a program was loaded with. */
  programInstructions(name: string): number;
  /** The fd of a map the object declares (its symbol, e.g. `tl_events`), or -1; the object owns it. */
  mapFd(name: string): number;
  /** With loadObject's `verifierLogs`: each program's verifier log (level 1), by name. */
  readonly verifierLogs?: Readonly<Record<string, string>>;
  /** Closes the object and every program in it (links must be destroyed first). */
  close(): void;
}

/** An attachment. Destroying it detaches. */
export interface NativeLink {
  destroy(): void;
}

export interface RingBufferConsumer {
  /**
   * Reads every record now available; returns them concatenated, each as [u32 length][bytes],
   * length not counting the 4-byte header, each record (header included) padded to 8 bytes. Empty buffer if none.
   */
  drain(): Buffer;
  /** Stops the uv_poll handle and frees the consumer (not the map). */
  close(): void;
}

/** The mappings of announced processes, read by a thread as each is announced (watchProcessMaps). */
export interface ProcessMapsWatcher {
  /**
   * What was read since the last take(), oldest first: /proc/PID/maps's executable file-backed
   * lines ('' if the process had gone), by pid and exec generation (see Resolver's processKey).
   */
  take(): { pid: number; generation: number; maps: string }[];
  /** Stops the thread (not the map). */
  close(): void;
}

/**
 * LLVM's pass pipeline for a compile: `tracelet` (the default: -O2's passes that change
 * tracelet's code, chosen by bench/opt-levels.ts) or LLVM's own -O0 to -O3.
 */
export type LlvmPipeline = 'tracelet' | 'O0' | 'O1' | 'O2' | 'O3';

export interface NativeAddon {
  /**
   * Compiles LLVM IR text to a BPF ELF object (BPF target, cpu v3). Throws with LLVM's message.
   * A module of several programs and ~400 instructions or more is compiled in parts, one thread
   * each (one per CPU, up to 4), that libbpf's linker joins; `threads` sets the number of parts
   * (1: whole).
   */
  compileIR(ir: string, options?: { pipeline?: LlvmPipeline; threads?: number }): Buffer;
  /** Same, but returns BPF assembly text (for --emit-asm / debugging). */
  compileIRToAsm(ir: string): string;
  /** The IR after LLVM's optimisation passes (what compileIR turns into BPF), as text. */
  optimizeIR(ir: string, options?: { pipeline?: LlvmPipeline }): string;
  /** The version of the LLVM linked in (e.g. `14.0.6`). */
  llvmVersion(): string;

  /** `preallocate: false` sets BPF_F_NO_PREALLOC (hash maps only). */
  mapCreate(type: NativeMapType, name: string, keySize: number, valueSize: number, maxEntries: number, options?: { preallocate?: boolean }): number;
  /** Per-CPU maps: the value buffer holds one round_up(valueSize, 8) slot per possible CPU. */
  mapLookup(fd: number, key: Buffer, valueBytes: number): Buffer | null;
  /** Entries whose keys and values lie back to back, in one BPF_MAP_UPDATE_BATCH (see mapUpdateBatch in maps.cc). */
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer): void;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  /**
   * Every entry of a map, in one call: keys concatenated, values concatenated (per-CPU values as
   * for mapLookup). Entries deleted during the walk are skipped.
   */
  mapDump(fd: number, keySize: number, valueBytes: number): { count: number; keys: Buffer; values: Buffer };
  /**
   * A stack table's dump (mapDump with 8-byte values, the ids) with each stack cut after its last
   * frame (one whose first 8 bytes are 0 ends it), packed back to back: stack i is
   * frames[ends[i - 1] ?? 0, ends[i]), its id ids[i].
   */
  packStacks(keys: Buffer, values: Buffer, count: number, keyBytes: number, frameBytes: number): { ids: Float64Array; ends: Uint32Array; frames: Buffer };
  /**
   * Each of the first `count` entries of a dump as a row of text (see DumpRows), `rows.separator`
   * between rows, in the order libstdc++'s std::sort by value leaves the entries (bpftrace's
   * order, ties included), to `write` in pieces: views of one buffer, valid only during the call,
   * each ending after a row.
   */
  renderDump(keys: Buffer, values: Buffer, count: number, rows: DumpRows, write: (bytes: Uint8Array) => void): void;
  /** Deletes every entry (hash) or zeroes every element (array). */
  mapClear(fd: number, keySize: number, valueBytes: number, isArray: boolean): void;
  closeFd(fd: number): void;
  /** Sets FD_CLOEXEC on each fd (fds handed over by a prepared run arrive without it). */
  closeOnExec(fds: readonly number[]): void;
  /** See releaseCleanPages() below. */
  releaseCleanPages(): number;
  /**
   * Keeps a directory's files named `*SUFFIX` to maxBytes in all, the least recently modified
   * unlinked first (never the file named `keep`), and unlinks `.tmp-*` files older than staleMs;
   * returns the files unlinked.
   */
  evictOldest(dir: string, suffix: string, maxBytes: number, keep: string, staleMs: number): number;
  possibleCpus(): number;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME in ns: the wall-clock time of boot (as bpftrace's strftime takes it). */
  bootTimeNs(): bigint;
  onlineCpus(): number[];
  /** A loaded program's kernel id and how often the kernel skipped it (another BPF program was running on its CPU). */
  programInfo(fd: number): { id: number; recursionMisses: bigint };

  /**
   * Opens and loads a BPF ELF object from memory. `programTypes` maps each program (function)
   * name to its kernel program type, e.g. 'tracepoint', 'raw_tracepoint', 'kprobe', 'perf_event'.
   * On failure the error message carries libbpf's log and the verifier log (see NativeError).
   * Each program must be in its own named ELF section (libbpf treats `.text` functions as
   * subprograms), and GPL-only helpers need a "license" section saying "GPL". Maps declared in
   * `.maps` (BTF-defined) are created by libbpf, `maxEntries` (by map name) resized first.
   */
  loadObject(
    elf: Buffer, programTypes: Record<string, string>,
    options?: { verifierLogs?: boolean; maxEntries?: Readonly<Record<string, number>>; premade?: Readonly<Record<string, PendingRing>> },
  ): NativeObject;
  /**
   * Starts creating a ring buffer map of `bytes` on a thread of its own: the kernel allocates and
   * zeroes all of it (~3 ms for 16 MiB). loadObject's `premade` uses it for the object's map of
   * that name, if that map has the same size; else it is closed and libbpf creates the map.
   */
  ringBufferInBackground(name: string, bytes: number): PendingRing;

  attachTracepoint(obj: NativeObject, program: string, category: string, event: string): NativeLink;
  attachRawTracepoint(obj: NativeObject, program: string, event: string): NativeLink;
  attachKprobe(obj: NativeObject, program: string, func: string, retprobe: boolean, offset: number): NativeLink;
  attachUprobe(
    obj: NativeObject, program: string, binary: string, offset: number, retprobe: boolean, pid: number,
    refCtrOffset: number,
  ): NativeLink;

  /**
   * A hardware breakpoint perf event (PERF_TYPE_BREAKPOINT, sample period 1) at `address`;
   * `bpType` is HW_BREAKPOINT_R 1, W 2, RW 3 or X 4; on one cpu (pid -1) or one process (cpu -1).
   */
  attachBreakpoint(
    obj: NativeObject, program: string, address: number | bigint, length: number, bpType: number, cpu: number, pid: number,
  ): NativeLink;
  /**
   * Attaches a program to a tracepoint (its tracefs id) through a perf event on CPU 0 and a
   * BPF_PERF_EVENT link. The caller owns both fds: closing `linkFd` detaches the program at once;
   * closing `perfFd` is the slow part (~72 ms per tracepoint here, serialised by the kernel), see
   * releaseInBackground.
   */
  attachTracepointPerf(progFd: number, tracepointId: number): { linkFd: number; perfFd: number };
  /**
   * A perf event (type, config, sample period or frequency) on one CPU, every process, with the
   * program linked to it (profile, interval, software, hardware); the fds as attachTracepointPerf's.
   */
  attachPerfEventLink(progFd: number, type: number, config: number, period: number, useFrequency: boolean, cpu: number): { linkFd: number; perfFd: number };
  /**
   * Closes `fds` here and hands them to a reaper process (a detached grandchild that keeps only
   * those fds) that closes them once this process has dropped its copies, so their slow teardown
   * happens there. Returns the reaper's pid, or 0 if there was nothing to do or fork failed (then
   * the fds were closed here).
   */
  releaseInBackground(fds: readonly number[]): number;
  /**
   * Forks the -c child held before exec (bpftrace's way): writing one byte to `gate` lets it
   * exec `path` with `argv` (argv[0] included); it exits if `gate` is closed first. If the exec
   * fails, its errno (a native-endian int) can be read from `report`; else `report` gives EOF.
   */
  /**
   * stackKib: the stack limit (KiB, -1 unlimited) the command gets back; absent: unchanged.
   * ignored: the signals it starts with ignored; every other one has its default action.
   */
  spawnHeld(
    path: string, argv: readonly string[], stackKib?: number, ignored?: readonly number[],
  ): { pid: number; gate: number; report: number };
  /** undefined while the child from spawnHeld runs, else its exit code (128 + signal); reaps it. */
  childStatus(pid: number): number | undefined;
  /**
   * One BPF_TRACE_UPROBE_MULTI link (Linux 6.6+) for many uprobes (file `offsets`) in one binary:
   * one attach and one detach for all of them. The program must have been loaded with type
   * 'uprobe_multi'. `refCtrOffsets` ([] or one per offset) are USDT semaphores; pid -1: all.
   * Returns the link fd; closing it detaches every uprobe.
   */
  attachUprobeMulti(
    progFd: number, path: string, offsets: readonly (number | bigint)[], refCtrOffsets: readonly (number | bigint)[],
    retprobe: boolean, pid: number, cookies?: readonly (number | bigint)[],
  ): number;

  /** Runs a raw-tracepoint program once (BEGIN/END) with BPF_PROG_TEST_RUN; returns its retval. */
  runProgram(progFd: number): number;

  /**
   * Runs an XDP program (a bench: probe) `repeat` times in a row with BPF_PROG_TEST_RUN; returns
   * its last retval and the kernel's average time of one run.
   */
  benchProgram(progFd: number, repeat: number): { retval: number; durationNs: number };

  /**
   * Consumes a ring buffer map: a collector thread moves its records into memory as the kernel
   * wakes the ring and every millisecond or so while events come, and calls `onReadable` on
   * Node's loop (a uv_async handle) when the kernel woke it (at most every millisecond) and, at
   * most every 10 ms, when its polls found records. The handle keeps the loop alive until close().
   */
  ringBuffer(mapFd: number, onReadable: () => void): RingBufferConsumer;
  /**
   * Calls `onExit` on Node's loop once process `pid` has exited (a pidfd: at once, no polling);
   * null where the kernel has no pidfd_open (before 5.3). Throws (ESRCH) if there is no such process.
   */
  watchProcessExit(pid: number, onExit: () => void): { close(): void } | null;

  /**
   * Watches a ring buffer map of pids (u64 records): for each, a thread reads /proc/PID/maps at
   * once, while the process lives (see process-maps.cc). Not Node's loop: it is never woken.
   */
  watchProcessMaps(mapFd: number): ProcessMapsWatcher;

  /**
   * Whether programs of `programType` may call the kernel function (kfunc) whose vmlinux BTF id
   * is `btfId` (a probe load the verifier refuses or accepts); null when the kernel would not say
   * (no privilege to load programs).
   */
  kfuncAllowed(btfId: number, programType: string): boolean | null;

  demangle(name: string): string;
  /** The C library's message for an errno value (strerror(3)). */
  strerror(errno: number): string;
  /** The C library's description of a signal (strsignal(3)). */
  strsignal(signal: number): string;
  /**
   * Whether this kernel's BPF accepts something, found by trying it (objects made are closed):
   * helper `helper` in programs of type `type` (BPF_PROG_TYPE_*, BPF_FUNC_*), map type `type`
   * (BPF_MAP_TYPE_*), program type `type`, programs over 4096 instructions (`large`), a bounded
   * loop (`loop`), BPF_MAP_LOOKUP_BATCH (`batch`).
   */
  probeKernel(what: 'helper', type: number, helper: number): boolean;
  probeKernel(what: 'map' | 'prog', type: number): boolean;
  probeKernel(what: 'large' | 'loop' | 'batch'): boolean;
  /** libstdc++'s std::sort of `keys` in place; the permutation it made (as stdSort in src/kernel/symtab.ts makes of 0..n-1). */
  sortSymbols(keys: Float64Array | Uint32Array): Int32Array;
  /** A new array of `source`'s type: element k is source[order[k]] (see gather in symbols.cc). */
  gather<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(source: T, order: Int32Array): T;
  /** An ELF file's symbol table entries (as ElfFile.symbolEntries in src/kernel/elf.ts). */
  symbolEntries(fd: number, tables: Float64Array): NativeSymbolEntries;
  /** /proc/kallsyms parsed (as Kallsyms.read in src/kernel/kallsyms.ts). */
  readKallsyms(path: string): NativeKallsyms;
  /** A file mapped copy-on-write (see mapFile in symbols.cc). */
  mapFile(fd: number, length: number, readOnly?: boolean): ArrayBuffer;
  /** SHA-256 of the parts (see sha256 in symbols.cc). */
  sha256(parts: readonly (string | Uint8Array)[]): Buffer;
  /** Where each type of a BTF blob starts, and its name (as the Btf constructor in src/kernel/btf.ts finds them). */
  btfTypeOffsets(words: Uint32Array, typeStart: number, typeEnd: number): NativeBtfOffsets;
}

/** The functions of tracelet_llvm.node. */
type LlvmFunctions = Pick<NativeAddon, 'compileIR' | 'compileIRToAsm' | 'optimizeIR' | 'llvmVersion'>;

let addon: NativeAddon | undefined;
let llvm: LlvmFunctions | undefined;

/** Loads the addon on first use (start-up should not pay for it before it is needed). */
export function native(): NativeAddon {
  if (addon) return addon;
  addon = {
    ...(load('tracelet_native') as Omit<NativeAddon, keyof LlvmFunctions>),
    compileIR: (ir, options) => llvmFunctions().compileIR(ir, options),
    compileIRToAsm: (ir) => llvmFunctions().compileIRToAsm(ir),
    optimizeIR: (ir, options) => llvmFunctions().optimizeIR(ir, options),
    llvmVersion: () => llvmFunctions().llvmVersion(),
  };
  // Symbol tables (kernel and user stacks, ksym, usym) are read and sorted natively from now on.
  useSymbolNatives(addon);
  return addon;
}

/**
 * Unmaps from this process the pages of files it maps read-only that are clean copies of the file
 * (code and read-only data of Node, its start-up snapshot, the addons, LLVM after a compile), and
 * gives the C heap's free pages back. They stay in the page cache and fault back in if they run
 * again, so a process past a phase does not carry that phase's pages to its peak or through its
 * run: the CLI calls it before LLVM runs, after it, and once the probes have run for 50 ms
 * (~30 MiB of Node's start, ~16 MiB of LLVM's code). Not for a process embedding tracelet: its
 * pages are its own. Returns the resident bytes unmapped.
 */
export function releaseCleanPages(): number {
  return native().releaseCleanPages();
}

function llvmFunctions(): LlvmFunctions {
  llvm ??= load('tracelet_llvm') as LlvmFunctions;
  return llvm;
}

function load(name: AddonName): unknown {
  const path = addonPath(name);
  if (!path) throw new Error(`the native addon is not built (run \`npm run build:native\`): no ${name}.node`);
  // process.dlopen, not require(): the path is known, and require's resolution of it (package.json
  // lookups up the tree) cost more than the dlopen itself. Each addon is loaded once (above).
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports;
}

export type AddonName = 'tracelet_native' | 'tracelet_llvm';

/** An addon's file (build/Release/NAME.node), or undefined if it is not built. */
export function addonPath(name: AddonName): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, `../../build/Release/${name}.node`),
    join(here, `../../../build/Release/${name}.node`),
  ];
  return candidates.find((p) => existsSync(p));
}

/** SystemKernel's kfuncProbe: a test load by the addon (loaded only when a program calls a kfunc). */
export function kfuncProbe(btfId: number, programType: string): boolean | null {
  return native().kfuncAllowed(btfId, programType);
}
