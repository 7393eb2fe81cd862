// The contract between a compiled object and the runtime that loads it: the object's programs,
// the names of its maps and globals, the slots in them, the ids of events and BPF helpers. Codegen
// writes the object by it; the runtime (and --explain) read the object by it, never codegen itself.
import { stringBytes } from './strings.js';
import type { ProgramType } from './providers.js';
import type { BpfMapType, MapSpec, ProbeTarget, TypedProbe, TypedProgram } from './program.js';
import type { Span } from './span.js';

/** The raw tracepoints every syscall passes through. */
export type SyscallEvent = 'sys_enter' | 'sys_exit';

/** A kernel program of the object. */
export interface GeneratedProgram {
  /** The function (and kernel program) name, `tl_...`. */
  readonly name: string;
  readonly type: ProgramType;
  readonly probe: TypedProbe;
  readonly targets: readonly ProbeTarget[];
  /**
   * Set when the program is attached once, to this raw tracepoint (`sys_enter` / `sys_exit`),
   * instead of to each target: it dispatches on the syscall number to the code of its targets.
   */
  readonly rawTracepoint?: SyscallEvent;
  /** A multi-uprobe program that reads `func` or `probe` from targetNamesMap(name) by attach cookie. */
  readonly namesByCookie?: boolean;
}

export type MapType = BpfMapType | 'ringbuf' | 'stack_trace';

/** BPF_MAP_TYPE_* (include/uapi/linux/bpf.h) of the maps tracelet creates. */
export const MAP_TYPE_IDS: Readonly<Record<MapType, number>> = {
  hash: 1, array: 2, percpu_hash: 5, percpu_array: 6, stack_trace: 7, lru_hash: 9, lru_percpu_hash: 10, ringbuf: 27,
};

/** The ring buffer every probe writes its events to. */
export const EVENTS_MAP = 'tl_events';
/**
 * The counters (counterSlots u64s: lost events, updates each full map refused), a global (see
 * globalMapName) that probes add to atomically: only failures count, so they never contend.
 */
export const COUNTERS_MAP = 'tl_counters';
/**
 * A global (see globalMapName) of a u64 per read site: the probe runs in which its read failed,
 * added to atomically. Zeros that come from failed reads are reported, never silent. Only in
 * programs that read.
 */
export const READ_FAILURES_MAP = 'tl_readfail';
/**
 * A global u64 (see globalMapName): once the runtime sets it to non-zero, every probe but BEGIN and
 * END returns at once. That stops a run instantly, while detaching (slow for perf events) happens later.
 */
export const STOPPED_MAP = 'tl_stopped';
/** The stopped flag's value once a probe has called exit(): set by the program itself, at once. */
export const STOPPED_BY_EXIT = 2n;

/**
 * The map of a global variable: each is alone in a section `.bss.SYMBOL`, which libbpf makes an
 * array map of one value, found by that name. Code addresses a global directly (4 instructions
 * to test a flag, where an array map lookup took ~18); the runtime reads and writes the map.
 */
export function globalMapName(symbol: string): string {
  return `.bss.${symbol}`;
}
/**
 * An array of the values only a run knows, which the runtime writes before attaching (slots
 * RUN_START_NS...); only in programs that use `elapsed`, `cpid` or pid(curr_ns).
 */
export const RUN_VALUES_MAP = 'tl_run';
/** CLOCK_MONOTONIC when the run started, for `elapsed`. */
export const RUN_START_NS = 0;
/** The -c child's pid, for `cpid`. */
export const RUN_CPID = 1;
/** tracelet's pid namespace (st_dev and st_ino of /proc/self/ns/pid), for pid(curr_ns). */
export const RUN_PIDNS_DEV = 2;
export const RUN_PIDNS_INO = 3;
export const RUN_VALUE_SLOTS = 4;
/**
 * A hash of the pids that have recorded a ustack: a process's first ustack sends its pid (a u64)
 * to PROCESSES_RING_MAP, whose reader (native/process-maps.cc) reads its mappings while it
 * lives, so that its stacks are named even after it has exited. Only with ustack.
 */
export const PROCESSES_SEEN_MAP = 'tl_upids';
export const PROCESSES_RING_MAP = 'tl_upids_ring';
/** The ring's bytes: 2,730 announcements (8 bytes and a header of 8 each) unread at a time. */
export const PROCESSES_RING_BYTES = 64 * 1024;

/** The array map (syscall number → tracepoint name) a syscall dispatch program reads `probe` from. */
export function syscallNamesMap(event: SyscallEvent): string {
  return `tl_${event}`;
}
/** Value size of the syscall names maps (syscallNamesMap()). */
export const SYSCALL_NAME_BYTES = 64;

/**
 * The array map a multi-uprobe program reads `func` and `probe` from, by the attach cookie of the
 * uprobe that fired (its target's index): one program serves every function of a wildcard, where a
 * constant name each would need a program each (libc's 7,000: minutes to compile and load).
 */
export function targetNamesMap(program: string): string {
  return `${program}_names`;
}
/**
 * The size of `probe` or `func` (a string type) in a probe of these targets, and of that name in
 * an entry of targetNamesMap() (the target's `func`, then its `probe`, each NUL-padded to its
 * size): room for the longest, at least 64 bytes (max_strlen's default) and at most 256 (names
 * are on the 512-byte BPF stack). uprobe paths and C++ names are often longer than 63 bytes: cut
 * there, two overloads were one map key.
 */
export function targetNameBytes(targets: readonly TargetNames[], which: 'probe' | 'func'): number {
  const longest = Math.max(0, ...targets.map((t) => stringBytes(which === 'probe' ? t.name : t.funcPrinted ?? t.func ?? '').length));
  return Math.min(TARGET_NAME_MAX, Math.max(64, Math.ceil((longest + 1) / 8) * 8));
}

/** An entry of targetNamesMap(): the target's `func` at 0, then its `probe` at `funcBytes`, each NUL-padded to its size. */
export function targetNamesEntry(targets: readonly TargetNames[]): { funcBytes: number; probeBytes: number; bytes: number } {
  const funcBytes = targetNameBytes(targets, 'func');
  const probeBytes = targetNameBytes(targets, 'probe');
  return { funcBytes, probeBytes, bytes: funcBytes + probeBytes };
}

/** What a target is called: `probe` and `func`. */
export interface TargetNames {
  readonly name: string;
  readonly func?: string;
  readonly funcPrinted?: string;
}
const TARGET_NAME_MAX = 256;

/** The size of a frame of a build_id stack: struct bpf_stack_build_id (status, 20-byte id, offset or ip). */
export const BUILD_ID_FRAME_BYTES = 32;

/**
 * Distinct stacks a stack table holds (0.17's stack maps hold 128K). Its entries are allocated as
 * stacks are first seen, ~1.1 KiB each at the default depth.
 */
export const STACKS_MAX = 131072;

/**
 * The scratch buffer (a per-CPU array, an entry per program that records stacks) each stack is
 * written into before it is looked up: a stack is larger than the BPF stack holds.
 */
export const STACK_BUFFER_MAP = 'tl_stack_buf';
/**
 * Scratch space for a large struct or array read whole (a per-CPU array, an entry per program
 * that reads one, each read its own bytes of it): what would not fit the 512-byte BPF stack.
 */
export const SCRATCH_MAP = 'tl_scratch';
/** Reads of at least this many bytes go to SCRATCH_MAP rather than the stack. */
export const LARGE_READ_BYTES = 128;
/** A global (see globalMapName): the last stack id given out (ids start at 1). */
export const STACK_IDS_MAP = 'tl_stack_ids';

/**
 * The stack tables of kstack or ustack frames of one depth, as addresses or (buildId) as build id
 * and offset: hash maps whose key is the stack (its frames, zero-filled) and whose value is the
 * stack's id, given out once (map keys and values hold the id). Exact, unlike a
 * BPF_MAP_TYPE_STACK_TRACE map, whose buckets are the stacks' hashes: two stacks that share one
 * lose the later stack (bpftrace's stacks then print empty, silently). A stack of up to
 * SHORT_STACK_FRAMES frames goes to a table of that key size, a longer one to one of the whole
 * depth: the kernel hashes and compares the whole key, ~400 ns at 127 frames.
 */
export interface StackMapSpec {
  readonly kind: 'kstack' | 'ustack';
  readonly depth: number;
  readonly buildId: boolean;
  /** The size of one frame: an address, or a struct bpf_stack_build_id. */
  readonly frameBytes: number;
  /** Its tables by key size, the smaller first: the short stacks', then (if deeper) the whole depth's. */
  readonly tables: readonly StackTable[];
}

export interface StackTable {
  readonly symbol: string;
  readonly frames: number;
  readonly keyBytes: number;
}

/** The frames of the short stacks' table (most kernel and user stacks are shorter). */
export const SHORT_STACK_FRAMES = 32;

/** The stack tables of kstack/ustack of one depth (build_id stacks have their own). */
export function stackMapSpec(kind: 'kstack' | 'ustack', depth: number, buildId: boolean): StackMapSpec {
  const base = buildId ? `tl_${kind}_build_id_${depth}` : `tl_${kind}_${depth}`;
  const frameBytes = buildId ? BUILD_ID_FRAME_BYTES : 8;
  const table = (frames: number, symbol: string) => ({ symbol, frames, keyBytes: frames * frameBytes });
  const tables = depth > SHORT_STACK_FRAMES ? [table(SHORT_STACK_FRAMES, `${base}_s`), table(depth, base)] : [table(depth, base)];
  return { kind, depth, buildId, frameBytes, tables };
}

/** The stack tables a program needs: of each kind, depth and build_id or not. */
export function stackMaps(program: TypedProgram): StackMapSpec[] {
  const out = new Map<string, StackMapSpec>();
  for (const t of program.types.values()) {
    if (t.kind !== 'kstack' && t.kind !== 'ustack') continue;
    const spec = stackMapSpec(t.kind, t.depth, t.mode === 'build_id');
    out.set(spec.tables[0]!.symbol, spec);
  }
  return [...out.values()];
}

/** Slots of the counters array: [0] events lost to a full ring buffer, then one per map. */
export const COUNTER_LOST_EVENTS = 0;

/** The counter of updates a map refused because it was full (maps in the program's order). */
export function mapFullCounter(maps: ReadonlyMap<string, MapSpec>, name: string): number {
  const index = [...maps.keys()].indexOf(name);
  if (index < 0) throw new Error(`no map ${name} to count full updates of`);
  return 1 + index;
}

export function counterSlots(maps: ReadonlyMap<string, MapSpec>): number {
  return 1 + maps.size;
}

/** Read sites counted one by one; further sites share the last slot. */
export const READ_SITES_MAX = 512;
/** Value size of the READ_FAILURES_MAP: a count per site. */
export const READ_FAILURE_BYTES = READ_SITES_MAX * 8;

/**
 * A place in the script that reads probed memory, and the helper it reads with; or (`'process'`)
 * where comm(pid) looks a process up by pid, which fails when there is none.
 */
export interface ReadSite {
  readonly span: Span;
  /** The helper that failed; 'process': no process of the pid asked for; 'stack': a full stack table. */
  readonly helper: number | 'process' | 'stack';
}

/** BPF helper function ids (include/uapi/linux/bpf.h) that generated code calls. */
export const Helper = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  probeRead: 4,
  ktimeGetNs: 5,
  getPrandomU32: 7,
  getSmpProcessorId: 8,
  getCurrentPidTgid: 14,
  getCurrentUidGid: 15,
  getCurrentComm: 16,
  getStackid: 27,
  getStack: 67,
  getCurrentTask: 35,
  getNumaNodeId: 42,
  tracePrintk: 6,
  probeReadStr: 45,
  getCurrentCgroupId: 80,
  sendSignal: 109,
  sendSignalThread: 117,
  probeReadUser: 112,
  probeReadKernel: 113,
  probeReadUserStr: 114,
  probeReadKernelStr: 115,
  jiffies64: 118,
  getNsCurrentPidTgid: 120,
  ktimeGetBootNs: 125,
  ringbufOutput: 130,
  ringbufReserve: 131,
  ringbufSubmit: 132,
  ringbufDiscard: 133,
  forEachMapElem: 164,
  getAttachCookie: 174,
  loop: 181,
  mapLookupPercpuElem: 195,
  ktimeGetTaiNs: 208,
} as const;
