// Turns what probes record (addresses, stack ids, uids, address families, boot-time nanoseconds)
// into what bpftrace prints: symbols, stack frames, user names, IP addresses, dates. Names are
// found when a value is printed, with bcc's rules (bpftrace 0.17 symbolizes with bcc); a
// process's mappings are read when it records its first ustack (`takeProcessMaps`), so that a
// process that has exited by then is still named (bpftrace prints hex for it).
import { readFileSync, statSync } from 'node:fs';
import type { SymbolHit } from '../kernel/kallsyms.js';
import type { KernelSymbolLookup } from '../kernel/kernel-symbols.js';
import { FileSymbols, PerfMap } from '../kernel/user-symbols.js';
import { BUILD_ID_FRAME_BYTES } from '../model/object-layout.js';
import type { StackMode } from '../model/types.js';
import { strftimeIn64Bytes } from './output/time.js';
import { CgroupPaths } from './cgroups.js';

/** An executable, file-backed mapping of a process (user addresses are exact as doubles). */
interface Region {
  readonly start: number;
  readonly end: number;
  readonly offset: number;
  readonly path: string;
  readonly inode: number;
}

/** What a process maps, as read from /proc/PID/maps at `at` (Date.now()). */
interface ProcessImage {
  readonly regions: readonly Region[];
  readonly at: number;
}

interface UserHit {
  readonly name?: string;
  readonly offset: number;
  readonly path: string;
  readonly buildId?: string;
  readonly jit?: boolean;
  /** The frame as ustack prints it (`name+offset`), made once: one frame is in many stacks. */
  text?: string;
}

/**
 * One frame of a stack, symbolized, for consumers other than the text/JSON printers (folded
 * stacks, flame graphs, pprof). `symbol` is undefined when the address cannot be named (bpftrace
 * prints the address in hex then); `offset` is the distance from the symbol's start (0 without a
 * symbol). `module`: for kernel frames the module name of a loadable module, or `[kernel.kallsyms]`
 * for the kernel image; for user frames the mapped file's path (for JIT frames the perf map,
 * `/tmp/perf-PID.map`). `buildId`: the GNU build-id of a user frame's file, in hex, when it has one.
 */
export interface Frame {
  readonly address: bigint;
  readonly symbol?: string;
  readonly offset: bigint;
  readonly module?: string;
  readonly buildId?: string;
  readonly kind: 'kernel' | 'user' | 'jit';
}

/**
 * One frame of a `ustack(build_id)` stack, as the kernel records it (BPF_F_STACK_BUILD_ID): the
 * GNU build id of the frame's file (40 hex digits) and the offset in that file, or, when the
 * kernel could not read the file's build id, the address.
 */
export type BuildIdFrame =
  | { readonly buildId: string; readonly offset: bigint }
  | { readonly address: bigint };

/** struct bpf_stack_build_id's status: the end of the stack, a build id and offset, an address. */
const BUILD_ID_EMPTY = 0;
const BUILD_ID_VALID = 1;

/** The frames of a build_id stack (struct bpf_stack_build_id[depth], BPF_F_USER_BUILD_ID), up to the first empty one. */
export function decodeBuildIdFrames(value: Buffer): BuildIdFrame[] {
  const out: BuildIdFrame[] = [];
  for (let at = 0; at + BUILD_ID_FRAME_BYTES <= value.length; at += BUILD_ID_FRAME_BYTES) {
    const status = value.readInt32LE(at);
    if (status === BUILD_ID_EMPTY) break;
    const word = value.readBigUInt64LE(at + 24);
    out.push(status === BUILD_ID_VALID ? { buildId: value.toString('hex', at + 4, at + 24), offset: word } : { address: word });
  }
  return out;
}

/** A build_id frame as bpftrace 0.26 prints it: `<build id> 0x<offset>` (2 digits at least), or the address in hex. */
export function buildIdFrameText(f: BuildIdFrame): string {
  return 'buildId' in f ? `${f.buildId} 0x${f.offset.toString(16).padStart(2, '0')}` : f.address.toString(16);
}

export interface ResolverOptions {
  readonly kallsyms?: () => KernelSymbolLookup | undefined;
  /** Reads the frames of a stack id from the stack tables of that kind and depth. */
  readonly readStack?: (kind: 'kstack' | 'ustack', depth: number, id: number) => ArrayLike<bigint>;
  /** The mappings read of the process images announced since the last call (executable lines of /proc/PID/maps). */
  readonly takeProcessMaps?: () => readonly { pid: number; generation: number; maps: string }[];
  /** Reads the frames of a ustack(build_id) stack id. */
  readonly readBuildIdStack?: (depth: number, id: number) => readonly BuildIdFrame[];
  readonly demangle?: (name: string) => string;
  /** false: user addresses are never named (printed as addresses, as frames with no symbol). */
  readonly userSymbols?: boolean;
  /** tracelet's cache directory, where large ELF symbol tables are kept sorted (none: not kept). */
  readonly symbolCacheDir?: string;
  /** Reports an error of the run on stderr (`ERROR: ...`), as bpftrace logs one. */
  readonly error?: (message: string) => void;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME in ns, measured once (strftime's nsecs count from boot). */
  readonly bootTimeNs?: () => bigint;
}

/** Linux pids are below PID_MAX_LIMIT, 2^22. */
const PID_LIMIT = 4194304;

/**
 * A process image as a number: the pid, plus how many times it has exec'd times PID_LIMIT. A
 * ustack or usym value holds the pid and the exec count in one word (codegen's processImage);
 * its addresses are named with that program's mappings, not those of a later exec.
 */
export function processKey(word: bigint): number {
  return Number(word & 0xffffffffn) % PID_LIMIT + Number((word >> 32n) & 0x7fffffn) * PID_LIMIT;
}

const pidOf = (process: number) => process % PID_LIMIT;

const hex = (v: bigint) => BigInt.asUintN(64, v).toString(16);
/** An address bpftrace cannot name, as C++'s `std::showbase << std::hex` prints it: 0 has no `0x`. */
const unnamed = (v: bigint) => (BigInt.asUintN(64, v) === 0n ? '0' : `0x${hex(v)}`);

export class Resolver {
  private readonly processes = new Map<number, ProcessImage>();
  /** Symbols of mapped files by `inode:path` (null: not an ELF file we can read). */
  private readonly files = new Map<string, FileSymbols | null>();
  private readonly perfMaps = new Map<number, { at: number; map: { map: PerfMap; path: string } | null }>();
  private readonly demangled = new Map<string, string>();
  private readonly regionFiles = new WeakMap<Region, FileSymbols | null>();
  private readonly kernelHits = new Map<bigint, SymbolHit | null>();
  /** kstack frames as printed (`name+offset`), by address: one frame is in many stacks. */
  private readonly kernelFrames = new Map<bigint, string>();
  /**
   * kstack texts by id, depth and mode: a stack id's frames never change (an id is given to one
   * stack, once), and one kernel stack is in many keys of a map printed at exit.
   */
  private readonly kernelStacks = new Map<string, readonly string[]>();
  /** Named frames by process image (processKey) and address. */
  private readonly userHits = new Map<number, Map<bigint, UserHit | null>>();
  private users?: Map<bigint, string>;
  private cgroups?: CgroupPaths;
  /**
   * The wall-clock time of boot in ns: a timestamp is nsecs since boot, as bpftrace takes it
   * (nsecs is CLOCK_MONOTONIC, the same unless the machine was suspended since). Exact from the
   * addon; else from Date.now(), to the millisecond.
   */
  private bootTime?: bigint;

  constructor(private readonly options: ResolverOptions = {}) {}

  // ---- kernel ----

  /** ksym(): the symbol without offset, or the address in hex. */
  ksym(address: bigint): string {
    const hit = this.kernelSymbol(address);
    return hit ? hit.name : unnamed(address);
  }

  kstack(id: bigint, depth: number, mode: StackMode): readonly string[] {
    const key = `${id}:${depth}:${mode}`;
    let text = this.kernelStacks.get(key);
    if (!text) {
      text = this.addresses('kstack', id, depth).map((a) => {
        if (mode === 'raw') return hex(a);
        let sym = this.kernelFrames.get(a);
        if (sym === undefined) {
          const hit = this.kernelSymbol(a);
          this.kernelFrames.set(a, (sym = hit ? `${hit.name}+${hit.offset}` : unnamed(a)));
        }
        return mode === 'perf' ? `${hex(a)} ${sym}` : sym;
      });
      // An id not (or no longer) in the map reads as no frames: not kept, it may be read later.
      if (text.length > 0) this.kernelStacks.set(key, text);
    }
    return text;
  }

  /** Frames repeat across stacks: each address is looked up once. */
  private kernelSymbol(address: bigint): SymbolHit | undefined {
    let hit = this.kernelHits.get(address);
    if (hit === undefined) {
      hit = this.options.kallsyms?.()?.lookup(address) ?? null;
      this.kernelHits.set(address, hit);
    }
    return hit ?? undefined;
  }

  // ---- user space ----

  /** usym(): the function containing the address (no offset), or the address in hex. `process`: see processKey (a plain pid: as the process is mapped now). */
  usym(address: bigint, process: number): string {
    const hit = this.userSymbol(address, process);
    return hit?.name !== undefined ? this.demangle(hit.name) : unnamed(address);
  }

  ustack(id: bigint, process: number, depth: number, mode: StackMode): string[] {
    if (mode === 'build_id') return this.buildIdFrames(id, depth).map(buildIdFrameText);
    return this.addresses('ustack', id, depth).map((a) => {
      if (mode === 'raw') return hex(a);
      const hit = this.userSymbol(a, process);
      const sym = hit?.name !== undefined ? (hit.text ??= `${this.demangle(hit.name)}+${hit.offset}`) : undefined;
      // As 0.17: a frame with no symbol is its address again, its module unknown (even if mapped).
      if (mode === 'perf') return sym !== undefined ? `${hex(a)} ${sym} (${hit!.path})` : `${hex(a)} ${unnamed(a)} ([unknown])`;
      return sym ?? unnamed(a);
    });
  }

  /**
   * The frames of a stack id, leaf first (as the kernel stores them), symbolized: the one API the
   * text printers, folded stacks, flame graphs and pprof share. `process` is the process image of a ustack (processKey)
   * (ignored for kstack).
   */
  frames(kind: 'kstack' | 'ustack', id: bigint, depth: number, process: number): Frame[] {
    return this.addresses(kind, id, depth).map((address): Frame => {
      if (kind === 'kstack') {
        const hit = this.kernelSymbol(address);
        if (!hit) return { address, offset: 0n, kind: 'kernel' };
        return { address, symbol: hit.name, offset: hit.offset, module: hit.module ?? '[kernel.kallsyms]', kind: 'kernel' };
      }
      const hit = this.userSymbol(address, process);
      if (!hit) return { address, offset: 0n, kind: 'user' };
      const frame: Frame = { address, offset: BigInt(hit.offset), module: hit.path, kind: hit.jit ? 'jit' : 'user', ...(hit.buildId ? { buildId: hit.buildId } : {}) };
      return hit.name === undefined ? frame : { ...frame, symbol: this.demangle(hit.name) };
    });
  }

  /** The frames of a ustack(build_id) stack id: files and offsets, nothing to symbolize. */
  buildIdFrames(id: bigint, depth: number): BuildIdFrame[] {
    if (id < 0n || !this.options.readBuildIdStack) return [];
    return [...this.options.readBuildIdStack(depth, Number(id))];
  }

  private addresses(kind: 'kstack' | 'ustack', id: bigint, depth: number): bigint[] {
    if (id < 0n || !this.options.readStack) return [];
    const frames = this.options.readStack(kind, depth, Number(id));
    const out: bigint[] = [];
    for (let i = 0; i < frames.length && frames[i] !== 0n; i++) out.push(frames[i]!);
    return out;
  }

  /** Reads /proc/PID/maps; a process that has gone keeps what was read of it before. */
  private readProcess(process: number): ProcessImage {
    return this.keepProcess(process, readRegions(pidOf(process)));
  }

  private keepProcess(process: number, regions: Region[] | undefined): ProcessImage {
    this.userHits.delete(process);
    const image = { regions: regions ?? this.processes.get(process)?.regions ?? [], at: Date.now() };
    this.processes.set(process, image);
    return image;
  }

  /** Keeps the mappings read of the process images announced since the last time (not those already known). */
  private takeProcessMaps(): void {
    for (const { pid, generation, maps } of this.options.takeProcessMaps?.() ?? []) {
      const process = processKey(BigInt(pid) | (BigInt(generation) << 32n));
      if (maps && !this.processes.has(process)) this.keepProcess(process, parseRegions(maps));
    }
  }

  private regionOf(address: number, process: number): Region | undefined {
    if (!this.processes.has(process)) this.takeProcessMaps();
    let image = this.processes.get(process);
    let hit = image && findRegion(image.regions, address);
    // Not in what was read (a library loaded since, or never read): read again, at most every second.
    if (!hit && (!image || Date.now() - image.at >= 1000)) {
      image = this.readProcess(process);
      hit = findRegion(image.regions, address);
    }
    return hit;
  }

  private userSymbol(address: bigint, process: number): UserHit | undefined {
    if (this.options.userSymbols === false) return undefined;
    let hits = this.userHits.get(process);
    if (!hits) this.userHits.set(process, (hits = new Map()));
    let hit = hits.get(address);
    if (hit === undefined) {
      hit = this.findUserSymbol(address, process) ?? null;
      // Forgotten when the process's mappings or perf map are read again (see forget()).
      this.userHits.get(process)?.set(address, hit);
    }
    return hit ?? undefined;
  }

  private findUserSymbol(address: bigint, process: number): UserHit | undefined {
    const a = Number(address);
    const pid = pidOf(process);
    const region = this.regionOf(a, process);
    if (region) {
      const file = this.fileOf(region, pid);
      const hit = file?.lookup(file.fileAddress(a, region.start, region.offset));
      if (hit) return { name: hit.name, offset: hit.offset, path: region.path, ...(file!.buildId ? { buildId: file!.buildId } : {}) };
    }
    // JIT code (or a file without a symbol there): the process's perf map, as bcc tries last.
    const jit = this.perfMapOf(pid, process);
    const hit = jit?.map.lookup(a);
    if (hit) return { name: hit.name, offset: hit.offset, path: region?.path ?? jit!.path, jit: !region };
    return region ? { offset: 0, path: region.path } : undefined;
  }

  /** The symbols of a mapped file, by inode: the path if it is still that file, else through /proc/PID/root. */
  private fileOf(region: Region, pid: number): FileSymbols | undefined {
    let file = this.regionFiles.get(region);
    if (file !== undefined) return file ?? undefined;
    const key = `${region.inode}:${region.path}`;
    file = this.files.get(key);
    if (file === undefined) {
      file = null;
      for (const path of [region.path, `/proc/${pid}/root${region.path}`]) {
        if (inodeOf(path) !== region.inode) continue;
        file = FileSymbols.open(path, undefined, this.options.symbolCacheDir) ?? null;
        if (file) break;
      }
      this.files.set(key, file);
    }
    this.regionFiles.set(region, file);
    return file ?? undefined;
  }

  private perfMapOf(pid: number, process: number): { map: PerfMap; path: string } | undefined {
    const cached = this.perfMaps.get(pid);
    if (cached !== undefined && Date.now() - cached.at < 1000) return cached.map ?? undefined;
    this.userHits.delete(process);
    let map: { map: PerfMap; path: string } | null = null;
    for (const path of [`/proc/${pid}/root/tmp/perf-${pid}.map`, `/tmp/perf-${pid}.map`]) {
      const m = PerfMap.read(path);
      if (m) {
        map = { map: m, path: `/tmp/perf-${pid}.map` };
        break;
      }
    }
    this.perfMaps.set(pid, { at: Date.now(), map });
    return map ?? undefined;
  }

  private demangle(name: string): string {
    if (!(name.startsWith('_Z') || name.startsWith('___Z')) || !this.options.demangle) return name;
    let d = this.demangled.get(name);
    if (d === undefined) {
      try {
        d = this.options.demangle(name) || name;
      } catch {
        d = name;
      }
      this.demangled.set(name, d);
    }
    return d;
  }

  // ---- other values ----

  username(uid: bigint): string {
    if (!this.users) {
      this.users = new Map();
      try {
        for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
          const f = line.split(':');
          if (f.length > 2 && /^\d+$/.test(f[2]!)) this.users.set(BigInt(f[2]!), f[0]!);
        }
      } catch {
        // no passwd: print uids
      }
    }
    return this.users.get(uid) ?? uid.toString();
  }

  /** cgroup_path(id, filter): the id's paths in the hierarchies the filter matches, resolved now. */
  cgroupPath(id: bigint, filter: string): string {
    this.cgroups ??= new CgroupPaths();
    return this.cgroups.text(id, filter);
  }

  /** strftime(fmt, nsecs): nsecs since boot; `%f` is microseconds. */
  timestamp(ns: bigint, format: string): string {
    this.bootTime ??= this.options.bootTimeNs?.() ?? BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    const real = ns + this.bootTime;
    const report = (message: string) => this.options.error?.(message);
    return strftimeIn64Bytes(format, new Date(Number(real / 1_000_000n)), report, Number((real / 1000n) % 1_000_000n)) ?? '(?)';
  }
}

/** The executable, file-backed mappings of a process, sorted by address (as bcc lists modules). */
function readRegions(pid: number): Region[] | undefined {
  try {
    return parseRegions(readFileSync(`/proc/${pid}/maps`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The executable, file-backed mappings of /proc/PID/maps's text. */
function parseRegions(text: string): Region[] {
  const out: Region[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) ..x. ([0-9a-f]+) \S+ (\d+)\s+(\/.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), offset: parseInt(m[3]!, 16), inode: Number(m[4]),
      path: m[5]!.replace(/ \(deleted\)$/, ''),
    });
  }
  return out;
}

function findRegion(regions: readonly Region[], address: number): Region | undefined {
  let lo = 0;
  let hi = regions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = regions[mid]!;
    if (address < r.start) hi = mid - 1;
    else if (address >= r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** inet_ntop as glibc prints it: dotted quads, and IPv6 with the longest run of zero groups as `::`. */
export function formatInet(family: number, bytes: Uint8Array): string {
  if (family === 2) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (family !== 10) return '';
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // IPv4-mapped and -compatible forms, as glibc writes them.
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || (groups[5] === 0 && (groups[6] !== 0 || groups[7]! > 1)))) {
    const v4 = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    return groups[5] === 0xffff ? `::ffff:${v4}` : `::${v4}`;
  }
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      parts.push(i === 0 ? ':' : '');
      i += bestLen - 1;
      if (i === 7) parts.push('');
      continue;
    }
    parts.push(groups[i]!.toString(16));
  }
  return parts.join(':');
}
