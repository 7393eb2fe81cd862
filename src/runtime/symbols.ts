// Turns what probes record (addresses, stack ids, uids, address families, boot-time nanoseconds)
// into what bpftrace prints: symbols, stack frames, user names, IP addresses, dates. Resolution
// happens when a value is printed, as in bpftrace 0.17 (a process that has exited prints hex).
import { readFileSync } from 'node:fs';
import { ElfFile } from '../kernel/elf.js';
import type { Kallsyms } from '../kernel/kallsyms.js';
import type { StackMode } from '../model/types.js';
import { strftime } from './output/time.js';

interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly offset: bigint;
  readonly path: string;
}

interface FuncTable {
  readonly addresses: bigint[];
  readonly sizes: bigint[];
  readonly names: string[];
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

export interface ResolverOptions {
  readonly kallsyms?: () => Kallsyms | undefined;
  /** Reads the frames of a stack id from the stack map of that kind and depth. */
  readonly readStack?: (kind: 'kstack' | 'ustack', depth: number, id: number) => readonly bigint[];
  readonly demangle?: (name: string) => string;
}

const hex = (v: bigint) => BigInt.asUintN(64, v).toString(16);
/** An address bpftrace cannot name, as C++'s `std::showbase << std::hex` prints it: 0 has no `0x`. */
const unnamed = (v: bigint) => (BigInt.asUintN(64, v) === 0n ? '0' : `0x${hex(v)}`);

export class Resolver {
  private readonly maps = new Map<number, { at: number; maps: Mapping[] } | null>();
  private readonly tables = new Map<string, FuncTable | null>();
  private users?: Map<bigint, string>;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC, in ns: bpftrace's nsecs are monotonic. */
  private readonly realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  constructor(private readonly options: ResolverOptions = {}) {}

  // ---- kernel ----

  /** ksym(): the symbol without offset, or the address in hex. */
  ksym(address: bigint): string {
    const hit = this.options.kallsyms?.()?.lookup(address);
    return hit ? hit.name : unnamed(address);
  }

  kstack(id: bigint, depth: number, mode: StackMode): string[] {
    return this.addresses('kstack', id, depth).map((a) => {
      const hit = this.options.kallsyms?.()?.lookup(a);
      const sym = hit ? `${hit.name}+${hit.offset}` : unnamed(a);
      return mode === 'raw' ? hex(a) : mode === 'perf' ? `${hex(a)} ${sym}` : sym;
    });
  }

  // ---- user space ----

  /** usym(): the function containing the address (no offset), or the address in hex. */
  usym(address: bigint, pid: number): string {
    const hit = this.userSymbol(address, pid);
    return hit?.name !== undefined ? hit.name : unnamed(address);
  }

  ustack(id: bigint, pid: number, depth: number, mode: StackMode): string[] {
    return this.addresses('ustack', id, depth).map((a) => {
      if (mode === 'raw') return hex(a);
      const hit = this.userSymbol(a, pid);
      if (mode === 'perf') {
        const sym = hit?.name !== undefined ? `${hit.name}+${hit.offset}` : '[unknown]';
        return `${hex(a)} ${sym} (${hit?.path ?? '[unknown]'})`;
      }
      return hit?.name !== undefined ? `${hit.name}+${hit.offset}` : unnamed(a);
    });
  }

  /**
   * The frames of a stack id, leaf first (as the kernel stores them), symbolized: the one API the
   * text printers, folded stacks, flame graphs and pprof share. `pid` is the process of a ustack
   * (ignored for kstack).
   */
  frames(kind: 'kstack' | 'ustack', id: bigint, depth: number, pid: number): Frame[] {
    return this.addresses(kind, id, depth).map((address) => {
      if (kind === 'kstack') {
        const hit = this.options.kallsyms?.()?.lookup(address);
        if (!hit) return { address, offset: 0n, kind: 'kernel' };
        return { address, symbol: hit.name, offset: hit.offset, module: hit.module ?? '[kernel.kallsyms]', kind: 'kernel' };
      }
      const hit = this.userSymbol(address, pid);
      if (!hit) return { address, offset: 0n, kind: 'user' };
      const frame: Frame = { address, offset: hit.offset, module: hit.path, kind: 'user', ...(hit.buildId ? { buildId: hit.buildId } : {}) };
      return hit.name === undefined ? frame : { ...frame, symbol: hit.name };
    });
  }

  private addresses(kind: 'kstack' | 'ustack', id: bigint, depth: number): bigint[] {
    if (id < 0n || !this.options.readStack) return [];
    const out: bigint[] = [];
    for (const a of this.options.readStack(kind, depth, Number(id))) {
      if (a === 0n) break;
      out.push(a);
    }
    return out;
  }

  private userSymbol(address: bigint, pid: number): { name?: string; offset: bigint; path: string; buildId?: string } | undefined {
    const m = this.mappingOf(address, pid);
    if (!m) return undefined;
    let elf: ElfFile;
    try {
      elf = ElfFile.open(m.path.startsWith('/') ? `/proc/${pid}/root${m.path}` : m.path);
    } catch {
      try {
        elf = ElfFile.open(m.path);
      } catch {
        return { offset: 0n, path: m.path };
      }
    }
    const vaddr = elf.offsetToVaddr(address - m.start + m.offset);
    if (vaddr === undefined) return { offset: 0n, path: m.path };
    const table = this.table(m.path, elf);
    if (!table) return { offset: 0n, path: m.path };
    // The last function at or below vaddr that contains it.
    let lo = 0;
    let hi = table.addresses.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (table.addresses[mid]! <= vaddr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const start = table.addresses[i]!;
      const size = table.sizes[i]!;
      if (vaddr < start + (size > 0n ? size : 1n)) {
        return { name: this.demangle(table.names[i]!), offset: vaddr - start, path: m.path, buildId: elf.buildId() };
      }
    }
    return { offset: 0n, path: m.path };
  }

  private demangle(name: string): string {
    if (!name.startsWith('_Z') || process.env.BPFTRACE_NO_CPP_DEMANGLE === '1' || !this.options.demangle) return name;
    try {
      return this.options.demangle(name) || name;
    } catch {
      return name;
    }
  }

  private table(path: string, elf: ElfFile): FuncTable | null {
    let t = this.tables.get(path);
    if (t === undefined) {
      const funcs = elf.symbols().filter((s) => s.type === 'func' && s.address !== 0n)
        .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
      t = funcs.length === 0 ? null : {
        addresses: funcs.map((f) => f.address), sizes: funcs.map((f) => f.size), names: funcs.map((f) => f.name),
      };
      this.tables.set(path, t);
    }
    return t;
  }

  private mappingOf(address: bigint, pid: number): Mapping | undefined {
    const find = (maps: Mapping[]) => maps.find((m) => address >= m.start && address < m.end);
    const cached = this.maps.get(pid);
    if (cached) {
      const hit = find(cached.maps);
      if (hit || Date.now() - cached.at < 200) return hit;
    } else if (cached === null) return undefined;
    const maps = readMaps(pid);
    if (!maps) {
      this.maps.set(pid, null);
      return undefined;
    }
    this.maps.set(pid, { at: Date.now(), maps });
    return find(maps);
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

  /** strftime(fmt, nsecs): nsecs is CLOCK_MONOTONIC (bpf_ktime_get_ns); `%f` is microseconds. */
  timestamp(ns: bigint, format: string): string {
    const real = ns + this.realtimeOffset;
    const micros = (real / 1000n) % 1_000_000n;
    const withMicros = format.replace(/%f/g, micros.toString().padStart(6, '0'));
    return strftime(withMicros, new Date(Number(real / 1_000_000n)));
  }
}

function readMaps(pid: number): Mapping[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return undefined;
  }
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), offset: BigInt(`0x${m[3]}`), path: m[4]!.replace(/ \(deleted\)$/, '') });
  }
  return out;
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
