// A Session owns every kernel object of one run: the loaded object (its maps and programs) and
// its links. It loads a compiled object, attaches, runs BEGIN, consumes events, and on stop
// detaches, runs END, prints the maps and frees everything — on every path.
import { execSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { Probe } from '../model/ast.js';
import type { Span } from '../model/span.js';
import {
  COUNTER_LOST_EVENTS, COUNTERS_MAP, counterSlots, EVENTS_MAP, globalMapName, Helper, mapFullCounter, PROCESSES_RING_MAP,
  READ_FAILURE_BYTES, READ_FAILURES_MAP, READ_SITES_MAX, RUN_CPID, RUN_PIDNS_DEV, RUN_PIDNS_INO, RUN_START_NS, RUN_VALUES_MAP,
  STACK_IDS_MAP, stackMapSpec, type StackMapSpec, stackMaps, STACKS_MAX, STOPPED_BY_EXIT, STOPPED_MAP, SYSCALL_NAME_BYTES, syscallNamesMap, targetNamesEntry, targetNamesMap,
  type GeneratedProgram, type ReadSite, type SyscallEvent,
} from '../model/object-layout.js';
import { warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { syscallTable } from '../kernel/syscalls.js';
import { Kallsyms } from '../kernel/kallsyms.js';
import { KernelSymbols, type KernelSymbolLookup } from '../kernel/kernel-symbols.js';
import { decodeBuildIdFrames, Resolver, type BuildIdFrame, type Frame } from './symbols.js';
import { unavailableProbe } from './availability.js';
import { inTracedProcess, PROVIDERS, providerRecord, type ProbeProvider } from '../model/providers.js';
import { bytesToString, stringBytes } from '../model/strings.js';
import {
  PERF_TYPE_HARDWARE, bucketCount, type EventSpec, type MapSpec, type ProbeTarget, type TypedProgram,
} from '../model/program.js';
import {
  native, type NativeAddon, type NativeError, type NativeLink, type NativeObject, type PendingRing, type ProcessMapsWatcher, type RingBufferConsumer,
} from './native.js';
import { decodeMap, decodeValue, spreadBuckets, valueBytes } from './decode.js';
import type { Formatter, MapEntry, MapSnapshot, ScriptLocation, TestOutcome } from './output/model.js';
import { textFormatter } from './output/text.js';
import { formatPrintf } from './output/printf.js';
import { compileRecordPrintf, type RecordCursor } from './printf-record.js';
import { strftimeIn64Bytes } from './output/time.js';
import { AdoptedObject, type Handover, type PreparedStep } from './prepared.js';

/**
 * The events ring's size when perf_rb_pages (the environment's, else the program's config) sets
 * it: that many pages for each CPU, rounded up to a power of two; undefined: the object's own.
 */
export function eventsRingBytes(ringPages: number | undefined, cpus: number): number | undefined {
  return ringPages ? 2 ** Math.ceil(Math.log2(ringPages * 4096 * cpus)) : undefined;
}

/** Why a run ended; the CLI maps these to exit codes. `stop`: the Node API's stop() or abort. */
export type StopReason = 'exit' | 'SIGINT' | 'SIGTERM' | 'error' | 'child-exit' | 'stop';

/**
 * Maps at exit that go elsewhere than the output (--flamegraph): those `takes` accepts are
 * decoded with key stacks named by `frameName`, handed to `take`, and not printed.
 */
export interface ExitMapSink {
  takes(spec: MapSpec): boolean;
  readonly frameName: (frame: Frame) => string;
  take(snapshot: MapSnapshot): void;
}

/**
 * A typed consumer of a run's events (the Node API): the records of printf, print and time are
 * handed to `event` as they come instead of being formatted (the record's bytes are valid only
 * during the call), and lost events are counted to `lost` instead of reported as text.
 */
export interface RecordSink {
  event(spec: EventSpec, record: Buffer): void;
  lost(count: number): void;
}

/** The event kinds a RecordSink takes; the others (join, cat, system, ...) are formatted as usual. */
const SINK_KINDS: ReadonlySet<EventSpec['kind']> = new Set(['printf', 'print_value', 'print_map', 'time', 'errorf', 'warnf']);

/**
 * Where an errorf()/warnf() event's call is (then the macro calls it was expanded from), with its
 * source lines: in its own file for a script brought in by `import`, else in the program's source.
 */
function scriptLocations(spec: EventSpec, source: { readonly name: string; readonly text: string }): ScriptLocation[] {
  return [spec.span, ...(spec.expandedFrom ?? [])].map((span) => {
    const file = span.file ?? source;
    return {
      file: file.name, line: span.line, column: span.column, endLine: span.endLine, endColumn: span.endColumn,
      lines: file.text.split('\n').slice(span.line - 1, span.endLine),
    };
  });
}

export interface SessionOptions {
  readonly formatter: Formatter;
  /** Where output goes (stdout, a file, a test buffer). Called once per batch of events. */
  readonly write: (text: string) => void;
  /**
   * The same output as bytes, as they are to be written (valid only during the call): large
   * maps printed at exit come this way when given (Formatter.writeMap), else as text to `write`.
   */
  readonly writeBytes?: (bytes: Uint8Array) => void;
  /**
   * Where the blank lines before the maps printed at exit go: bpftrace writes them to standard
   * output even with -o FILE. Defaults to `write`.
   */
  readonly writeExitSeparator?: (text: string) => void;
  /** Warnings for the user (e.g. full maps); the CLI prints them to stderr. */
  readonly warn?: (message: string) => void;
  /** false: warnf() messages are dropped (--no-warnings); the others the edge drops itself. */
  readonly warnings?: boolean;
  /** Warnings about a place in the script (e.g. reads that failed there); the CLI renders them. */
  readonly diagnostic?: (d: Diagnostic) => void;
  /** Errors that do not stop the run (e.g. cat() of a missing file); the CLI prints them to stderr. */
  readonly error?: (message: string) => void;
  // Config variables (src/model/config.ts) given for the run (the CLI's from the environment):
  // each wins over the script's config block (TypedProgram.settings).
  /** max_cat_bytes: the most bytes cat() prints of a file (default 10240). */
  readonly catBytesMax?: number;
  /** perf_rb_pages: pages per CPU of bpftrace's perf buffers; the one ring gets as many in all. */
  readonly ringPages?: number;
  /** cpp_demangle (default true). */
  readonly cppDemangle?: boolean;
  /** false: user addresses are printed in hex, never named (BPFTRACE_NO_USER_SYMBOLS=1). */
  readonly userSymbols?: boolean;
  /** print_maps_on_exit (default true). */
  readonly printMapsOnExit?: boolean;
  /** Put before each system() command (e.g. to give it the caller's resource limits back). */
  readonly shellPrefix?: string;
  /** The script's name as diagnostics show it (`stdin` for -e), for -k helper errors. */
  readonly sourceName?: string;
  /** The script itself, for the source line under a -k helper error. */
  readonly sourceText?: string;
  readonly exitMapSink?: ExitMapSink;
  /** Typed events instead of formatted ones (see RecordSink). */
  readonly records?: RecordSink;
  /** -k: report failed helper calls (1); -kk: also failed probe_read* (2). */
  readonly helperErrors?: number;
  /** Called once BEGIN has run and every probe records (e.g. to say the probes are attached). */
  readonly onRunning?: () => void;
  /** The events ring, made while the program compiled (ringBufferInBackground), for load() to use. */
  readonly premadeRing?: PendingRing;
  /** -p PID: uprobes, usdt probes and watchpoints attach to this process only. */
  readonly pid?: number;
  /** The -c child's pid, for `cpid`. */
  readonly cpid?: number;
  /** Stop with 'child-exit' when this process ends (-p PID, the -c child): at once, through a pidfd. */
  readonly watchPid?: number;
  /** -v: keep each program's verifier log (see loadedPrograms). */
  readonly verifierLogs?: boolean;
  /** Which maps stop() prints (default: all); an exporter may take some instead (-f pprof). */
  readonly printAtExit?: (spec: MapSpec) => boolean;
  /** Called at the end of stop(), after END and the maps printed, while the maps can still be read. */
  readonly beforeClose?: () => void;
  /** Called as each phase of the run ends, with its name (--timings, src/runtime/timings.ts). */
  readonly phase?: (name: string) => void;
  /**
   * Called once, when the run turns out to give JavaScript much to do: BUSY_EVENT_BYTES of events
   * read, or a map of BUSY_MAP_ENTRIES entries decoded (the CLI turns V8's optimizing compiler on).
   */
  readonly onBusy?: () => void;
  /**
   * tracelet's cache directory, where the core kernel's symbols are kept for the rest of the boot
   * (src/kernel/kernel-symbols.ts) and large ELF files' symbol tables sorted
   * (src/kernel/elf-symbol-cache.ts); none: they are read every run (--no-cache).
   */
  readonly symbolCacheDir?: string;
}

/** Events read (a thousand or two printf records) past which a run is busy (SessionOptions.onBusy). */
const BUSY_EVENT_BYTES = 1 << 16;
/** Batches of events (the addon's chunks of ~1 MiB) formatted in one turn of the event loop. */
const DRAIN_BATCHES_PER_TURN = 8;
/**
 * Characters of output written at a time while formatting events: the text stays a young-generation
 * string (V8 puts strings over 128 KiB in its large-object space, freed only by a full collection:
 * a stream's output had the heap growing by tens of MiB).
 */
const OUTPUT_PIECE = 1 << 16;
/** Entries of a map decoded for printing past which a run is busy. */
const BUSY_MAP_ENTRIES = 2000;

/** A loaded program as -v describes it. */
export interface LoadedProgram {
  readonly program: GeneratedProgram;
  /** The kernel's program id (as bpftool prog lists it). */
  readonly id: number;
  readonly instructions: number;
  /** The verifier's log (with the verifierLogs option), else ''. */
  readonly verifierLog: string;
}

/**
 * What a Session runs: a compiled object (as compile() returns it, or read from --emit-elf's file)
 * and what the runtime needs to know of it.
 */
export interface LoadableProgram {
  readonly program: TypedProgram;
  /** The BPF ELF object: its programs and its maps (BTF-defined, created by libbpf at load). */
  readonly object: Buffer;
  readonly programs: readonly GeneratedProgram[];
  /** -k: the script position of each helper_error site number. */
  readonly helperErrorSites: readonly Span[];
  /** Where the program reads probed memory, by slot of the read-failure map. */
  readonly readSites: readonly ReadSite[];
  /** The object's map of each script map (`@x` → `tl_x`). */
  readonly mapSymbols: ReadonlyMap<string, string>;
}

export class RuntimeError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** The most runs of one batch of a bench (the kernel takes a u32). */
const MAX_BENCH_ITERATIONS = 100_000_000;

/** HW_BREAKPOINT_* bp_type bits by watchpoint mode. */
const BREAKPOINT_TYPES: Record<string, number> = { r: 1, w: 2, rw: 3, wr: 3, x: 4 };

/**
 * User-space attachments in the order that makes the kernel run them in program order: it calls
 * the probes of one uprobe site newest first, so two blocks on one function (`uprobe:f { @x = 1 }
 * uprobe:f { print(@x) }`) ran backwards, the second reading what the first had not stored yet.
 * bpftrace runs them in program order.
 */
function inKernelRunOrder<T>(inProgramOrder: readonly T[]): T[] {
  return [...inProgramOrder].reverse();
}

export class Session {
  private readonly addon: NativeAddon;
  private readonly cpus: number;
  private readonly mapFds = new Map<string, number>();
  private ringbufFd = -1;
  private countersFd = -1;
  private readFailuresFd = -1;
  private stoppedFd = -1;
  /** The end of the process run() watches (-p, the -c child). */
  private exitWatch?: { close(): void };
  /** The last stack id given out (-1: no stacks), to tell a full stack table from a busy one. */
  private stackIdsFd = -1;
  private object?: NativeObject;
  private readonly program: TypedProgram;
  private readonly programs: readonly GeneratedProgram[];
  private links: NativeLink[] = [];
  /** The links of each watched address (a watchpoint per CPU, or one for -p), for unwatch(). */
  private readonly watchpoints = new Map<bigint, NativeLink[]>();
  /** Links to perf events (tracepoints, profile, interval, software): the link detaches fast, the perf event slowly. */
  private perfLinks: { linkFd: number; perfFd: number }[] = [];
  /** Perf events whose programs are detached, to be released in the background on close. */
  private detachedPerfFds: number[] = [];
  /** nameWrites(), once made. */
  private names?: { map: string; key: Buffer; value: Buffer }[];
  /** Multi-uprobe links: closing one detaches all its uprobes. */
  private multiLinkFds: number[] = [];
  private readonly helperErrorSites: readonly Span[];
  private readonly readSites: readonly ReadSite[];
  /** The failures of each read site already reported. */
  private readonly reportedReadFailures = new Map<number, bigint>();
  /** The pid of the process finishing the teardown of perf events after close(), or 0. */
  reaperPid = 0;
  private ring?: RingBufferConsumer;
  /** Reads the mappings of each process a ustack announces (programs with a ustack only). */
  private processMaps?: ProcessMapsWatcher;
  private timer?: NodeJS.Timeout;
  private finished?: (reason: StopReason) => void;
  private stopping = false;
  private requestedStop?: StopReason;
  private closed = false;
  private reported = { lost: 0n, full: new Map<string, bigint>() };
  /** Runs of each probe the kernel skipped (its programs' `recursion_misses`) reported so far. */
  private readonly reportedSkips = new Map<Probe, bigint>();
  private countersCheckedAt = 0;
  /** A drain is queued for the event loop's next turn (drainSome). */
  private drainQueued = false;
  /** exit()'s event was read: the run is stopping. */
  private exitSeen = false;
  /** Bytes of events read so far, and whether onBusy was called. */
  private eventBytes = 0;
  private busyTold = false;
  /** The buckets zero() left as keys of each keyless hist/lhist kept in one value (see spreadBuckets). */
  private readonly zeroedBuckets = new Map<string, ReadonlySet<number>>();
  /** Each stack table: its fd, its key's size, and the stacks read from it by id (see stackValue()). */
  private readonly stackTables = new Map<string, {
    tables: { fd: number; keyBytes: number }[]; frameBytes: number; byId: Map<number, Buffer>; absent: Set<number>;
  }>();
  /** The compiled printf of each printf, errorf and warnf event (see printf-record.ts). */
  private readonly printers = new Map<EventSpec, (r: RecordCursor) => string>();
  /** Where each errorf/warnf event's call is. */
  private readonly callSites = new Map<EventSpec, ScriptLocation[]>();
  private kallsyms?: KernelSymbolLookup | null;
  /**
   * While a test or bench runs: its output, kept (a test's, shown if it fails) or dropped (a
   * bench's), instead of written; and the runtime errors it met (-k helper errors, failed cat()).
   */
  private capture?: { text: string; readonly keep: boolean; errors: number };
  /** The code of the exit(code) that stopped the run (0.2x), if it had one. */
  exitCode?: bigint;
  /** How events are formatted: a test's captured output is text in any format, as in bpftrace. */
  private get eventFormatter(): Formatter {
    return this.capture ? textFormatter : this.options.formatter;
  }
  /** Symbolizes values as they are printed (ksym, usym, stacks, username, inet, strftime). */
  readonly resolver: Resolver;

  constructor(
    private readonly compiled: LoadableProgram,
    private readonly kernel: KernelInfo,
    private readonly options: SessionOptions,
  ) {
    this.program = compiled.program;
    this.programs = compiled.programs;
    this.helperErrorSites = compiled.helperErrorSites;
    this.readSites = compiled.readSites;
    this.addon = native();
    this.cpus = this.addon.possibleCpus();
    const demangle = this.options.cppDemangle ?? this.program.settings.cppDemangle ?? true;
    this.resolver = new Resolver({
      kallsyms: () => this.kernelSymbols(),
      readStack: (kind, depth, id) => this.readStack(kind, depth, id),
      readBuildIdStack: (depth, id) => this.readBuildIdStack(depth, id),
      takeProcessMaps: () => this.processMaps?.take() ?? [],
      ...(this.options.userSymbols === false ? { userSymbols: false } : {}),
      ...(demangle ? { demangle: (name: string) => this.addon.demangle(name) } : {}),
      ...(this.options.symbolCacheDir !== undefined ? { symbolCacheDir: this.options.symbolCacheDir } : {}),
      bootTimeNs: () => this.addon.bootTimeNs(),
      error: (message) => this.options.error?.(message),
    });
  }

  private kernelSymbols(): KernelSymbolLookup | undefined {
    if (this.kallsyms === undefined) {
      // Read through the kernel where it reads them (once, for kaddr() too; the tests' fake kernel).
      const k = (this.kernel as { kallsyms?: () => Kallsyms | undefined }).kallsyms;
      const read = k ? () => k.call(this.kernel) : () => Kallsyms.read();
      this.kallsyms = KernelSymbols.open(this.options.symbolCacheDir, read);
    }
    return this.kallsyms ?? undefined;
  }

  /**
   * The frames of a stack id (as many as the table's depth; the kernel zeroes those after the
   * stack). A stack table is keyed by the stack: an id not read yet has the table read whole
   * (one batch of syscalls), and every stack in it kept by id; ids never change. An id still
   * absent after a fresh read never had a stack (it lost a race for a stack another CPU stored).
   */
  private stackValue(spec: StackMapSpec, id: number): Buffer | undefined {
    const stacks = this.stackTables.get(spec.tables[0]!.symbol);
    if (!stacks || id <= 0) return undefined;
    let v = stacks.byId.get(id);
    if (!v && !stacks.absent.has(id)) {
      // A later read (a print during the run, an id stored since) keeps copies of its new stacks:
      // views would keep its whole dump, most of whose stacks are kept already, alive.
      const first = stacks.byId.size === 0;
      for (const table of stacks.tables) {
        const { count, keys, values } = this.addon.mapDump(table.fd, table.keyBytes, 8);
        // Kept trimmed (most stacks fill a fraction of the depth), in one 8-byte aligned buffer.
        const { ids, ends, frames } = this.addon.packStacks(keys, values, count, table.keyBytes, stacks.frameBytes);
        for (let i = 0; i < count; i++) {
          if (stacks.byId.has(ids[i]!)) continue;
          const stack = frames.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!);
          // Buffer.from's copy is 8-byte aligned (Node's pool aligns its slices so).
          stacks.byId.set(ids[i]!, first ? stack : Buffer.from(stack));
        }
      }
      v = stacks.byId.get(id);
      if (!v) stacks.absent.add(id);
    }
    return v;
  }

  /** The addresses of a stack id, up to the first 0. */
  private readStack(kind: 'kstack' | 'ustack', depth: number, id: number): BigUint64Array {
    const v = this.stackValue(stackMapSpec(kind, depth, false), id);
    if (!v) return new BigUint64Array(0);
    // A view of packStacks' buffer (the addon's own, 8-byte aligned; each stack a multiple of 8 bytes).
    return new BigUint64Array(v.buffer, v.byteOffset, Math.min(depth, v.length >> 3));
  }

  /** The frames of a ustack(build_id) id. */
  private readBuildIdStack(depth: number, id: number): BuildIdFrame[] {
    const v = this.stackValue(stackMapSpec('ustack', depth, true), id);
    return v ? decodeBuildIdFrames(v) : [];
  }

  /** The number of attach points, as `Attaching N probes...` counts them (test: and bench: probes are not attached). */
  get probeCount(): number {
    return this.program.probes.reduce((n, p) => n + p.targets.filter((t) => providerRecord(t.provider).runBy !== 'option').length, 0);
  }

  programNamed(name: string): GeneratedProgram | undefined {
    return this.programs.find((p) => p.name === name);
  }

  /** Loads the object: libbpf creates its maps and loads its programs (nothing attached yet). */
  load(): void {
    const unavailable = unavailableProbe(this.program.probes.flatMap((p) => p.targets.map((t) => t.provider)), this.kernel);
    if (unavailable) throw new RuntimeError(unavailable.message);
    try {
      const types: Record<string, string> = {};
      for (const p of this.programs) types[p.name] = p.type;
      const ringBytes = this.ringBytes();
      this.object = this.addon.loadObject(this.compiled.object, types, {
        verifierLogs: this.options.verifierLogs,
        ...(ringBytes ? { maxEntries: { [EVENTS_MAP]: ringBytes } } : {}),
        ...(this.options.premadeRing ? { premade: { [EVENTS_MAP]: this.options.premadeRing } } : {}),
      });
      const obj = this.object;
      this.useObject(obj);
      // Closed until BEGIN has run, so no probe's output comes before BEGIN's (see attach()).
      this.setStopped(true);
      // One batch a map: a big uprobe wildcard's names map has thousands of entries.
      const byMap = new Map<string, { keys: Buffer[]; values: Buffer[] }>();
      for (const { map, key, value } of this.nameWrites()) {
        const entries = byMap.get(map) ?? { keys: [], values: [] };
        entries.keys.push(key);
        entries.values.push(value);
        byMap.set(map, entries);
      }
      for (const [map, { keys, values }] of byMap) {
        const fd = obj.mapFd(map);
        if (fd >= 0) this.addon.mapUpdateBatch(fd, Buffer.concat(keys), Buffer.concat(values));
      }
      this.writeRunValues(obj.mapFd(RUN_VALUES_MAP));
      this.options.phase?.('load');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The size of the events ring the settings ask for (perf_rb_pages), if they do; rounded up to a power of two, as the kernel requires. */
  private ringBytes(): number | undefined {
    return eventsRingBytes(this.options.ringPages ?? this.program.settings.ringPages, this.cpus);
  }

  /** The maps the run reads once loaded, by their names in the object: the script's and the runtime's own. */
  private mapsUsed(): string[] {
    const stacks = stackMaps(this.program);
    return [
      ...this.compiled.mapSymbols.values(), EVENTS_MAP, globalMapName(COUNTERS_MAP), globalMapName(READ_FAILURES_MAP),
      globalMapName(STOPPED_MAP), ...stacks.flatMap((s) => s.tables.map((t) => t.symbol)),
      ...(stacks.length > 0 ? [globalMapName(STACK_IDS_MAP)] : []),
      // A ustack announces its process there (codegen/builtins.ts).
      ...(stacks.some((s) => s.kind === 'ustack') ? [PROCESSES_RING_MAP] : []),
    ];
  }

  /** Takes the fds of the maps the run reads (mapsUsed()) from a loaded object (loaded here, or by the launcher). */
  private useObject(obj: NativeObject): void {
    for (const [name, symbol] of this.compiled.mapSymbols) this.mapFds.set(name, obj.mapFd(symbol));
    this.ringbufFd = obj.mapFd(EVENTS_MAP);
    this.countersFd = obj.mapFd(globalMapName(COUNTERS_MAP));
    this.readFailuresFd = obj.mapFd(globalMapName(READ_FAILURES_MAP));
    this.stoppedFd = obj.mapFd(globalMapName(STOPPED_MAP));
    const stacks = stackMaps(this.program);
    if (stacks.length > 0) this.stackIdsFd = obj.mapFd(globalMapName(STACK_IDS_MAP));
    for (const s of stacks) {
      const tables = s.tables.map((t) => ({ fd: obj.mapFd(t.symbol), keyBytes: t.keyBytes }));
      this.stackTables.set(s.tables[0]!.symbol, { tables, frameBytes: s.frameBytes, byId: new Map(), absent: new Set() });
    }
    const announced = obj.mapFd(PROCESSES_RING_MAP);
    if (announced >= 0) this.processMaps = this.addon.watchProcessMaps(announced);
  }

  /** Where kernel symbols come from (-v), once attach() has prepared them; undefined if nothing names kernel addresses. */
  kernelSymbolSource(): string | undefined {
    return this.kallsyms instanceof KernelSymbols ? this.kallsyms.describe() : undefined;
  }

  /** Stacks and ksym() are named at print time: the kernel's symbols are read before that, once. */
  private prepareKernelSymbols(): void {
    if ([...this.program.types.values()].some((t) => t.kind === 'kstack' || t.kind === 'ksym')) {
      this.kernelSymbols()?.prepare();
      this.options.phase?.('symbols');
    }
  }

  /**
   * The steps of load() and attach() for the launcher to take on the next run of this command
   * line (src/runtime/prepared.ts), or undefined if they are not all steps it knows. Only probes
   * that attach the same way every run are prepared, and none that sample the CPU (profile,
   * software): those would sample the start of tracelet's own Node, and its reading of the
   * kernel's symbols (done before attaching otherwise; adopt() does it while the probes run).
   * Interval probes, which sample what runs on the first CPU too, are left to adopt(). Uprobes
   * are prepared one attachment each (not a wildcard's multi-uprobe); the launcher checks their
   * files' identities (encodePreparedRun).
   */
  preparedSteps(): PreparedStep[] | undefined {
    const steps: PreparedStep[] = this.programs.map((p) => ({ kind: 'program', name: p.name, type: p.type }));
    for (const map of this.mapsUsed()) steps.push({ kind: 'map', map });
    const ringBytes = this.ringBytes();
    if (ringBytes) steps.push({ kind: 'max-entries', map: EVENTS_MAP, entries: ringBytes });
    // As in load(), a map the object does not have is passed over.
    for (const { map, key, value } of this.nameWrites()) steps.push({ kind: 'fill', map, key, value });
    steps.push({ kind: 'run-values', map: RUN_VALUES_MAP, slots: [RUN_START_NS, RUN_CPID, RUN_PIDNS_DEV, RUN_PIDNS_INO] });
    steps.push({ kind: 'stopped', map: globalMapName(STOPPED_MAP), byExit: STOPPED_BY_EXIT });
    for (const p of this.programs) {
      if (p.targets[0]!.provider === 'BEGIN') steps.push({ kind: 'begin', program: p.name });
    }
    const userSite: PreparedStep[] = [];
    for (const p of this.programs) {
      if (p.rawTracepoint) {
        steps.push({ kind: 'raw-tracepoint', program: p.name, event: p.rawTracepoint });
        continue;
      }
      for (const t of p.targets) {
        switch (t.provider) {
          case 'BEGIN': case 'END': case 'self': break;
          case 'tracepoint': steps.push({ kind: 'tracepoint', program: p.name, category: t.parts[0]!, event: t.parts[1]! }); break;
          case 'rawtracepoint': steps.push({ kind: 'raw-tracepoint', program: p.name, event: t.parts.at(-1)! }); break;
          case 'uprobe': case 'uretprobe': case 'usdt':
            if (p.type === 'uprobe_multi') return undefined;
            userSite.push({
              kind: 'uprobe', program: p.name, path: t.path!, offset: t.address!, retprobe: t.provider === 'uretprobe',
              semaphoreOffset: t.usdt?.semaphoreOffset ?? 0n,
            });
            break;
          case 'interval': break; // attached by adopt()
          default: return undefined;
        }
      }
    }
    return [...steps, ...inKernelRunOrder(userSite)];
  }

  /**
   * Instead of load() and attach(): takes over the object the launcher loaded by the steps of
   * preparedSteps(), once it has run BEGIN and attached the probes, and attaches the interval
   * probes (here, once Node has started, so that they do not sample its start). The launcher keeps
   * its links: the stopped flag stops the probes (detach()), and they detach when the launcher
   * ends, just after this process.
   */
  adopt(handover: Handover): void {
    const obj = new AdoptedObject(handover, this.addon);
    this.object = obj;
    this.useObject(obj);
    this.prepareKernelSymbols();
    try {
      for (const p of this.programs) {
        for (const t of p.targets) if (t.provider === 'interval') this.attachPerfEvent(obj, p, t);
      }
    } catch (e) {
      this.close();
      throw new RuntimeError(`could not attach probe: ${(e as Error).message}`);
    }
  }

  /**
   * Attaches a multi-uprobe program to its targets, each uprobe's cookie its target's index (its
   * entry in targetNamesMap(): func, probe). A uprobe the kernel cannot place (ENOTSUPP: it cannot
   * step over the function's first instruction) fails the whole link: those are tried alone or found
   * by halving, left out and reported, and the others attached; EVEX-encoded ones are never placed.
   */
  private attachUprobeMulti(obj: NativeObject, p: GeneratedProgram): void {
    const first = p.targets[0]!;
    const firstBytes = firstByteAt(first.path!, p.targets.map((t) => t.address!));
    const evex = firstBytes.map(isEvex);
    const nameOf = (i: number) => p.targets[i]!.func ?? p.targets[i]!.name;
    const unsafe = p.targets.flatMap((_, i) => (evex[i] ? [nameOf(i)] : []));
    const skipped: string[] = [];
    const place = (indices: readonly number[]): void => {
      if (indices.length === 0) return;
      try {
        this.multiLinkFds.push(this.addon.attachUprobeMulti(
          obj.programFd(p.name), first.path!, indices.map((i) => p.targets[i]!.address!), [],
          first.provider === 'uretprobe', this.options.pid ?? -1, indices,
        ));
      } catch (e) {
        if ((e as { errno?: number }).errno !== ENOTSUPP) throw e;
        if (indices.length === 1) {
          skipped.push(nameOf(indices[0]!));
          return;
        }
        place(indices.slice(0, indices.length >> 1));
        place(indices.slice(indices.length >> 1));
      }
    };
    // The kernel refuses uprobes on VEX-encoded and lock-prefixed instructions (here: all of libc's
    // refusals), and each refused link costs a grace period (~50 ms): those are tried one by one,
    // after the rest in one link.
    const doubtful = firstBytes.map((b) => process.arch === 'x64' && (b === 0xc4 || b === 0xc5 || b === 0xf0));
    place(p.targets.flatMap((_, i) => (evex[i] || doubtful[i] ? [] : [i])));
    for (let i = 0; i < p.targets.length; i++) if (doubtful[i] && !evex[i]) place([i]);
    if (skipped.length + unsafe.length === p.targets.length) {
      throw new RuntimeError(`cannot attach ${first.provider}s to ${first.path}: ${unsafe.length > 0 ? EVEX_REASON : 'the kernel cannot place a uprobe on their first instruction'}`);
    }
    const listed = (names: readonly string[]) => names.slice(0, 8).join(', ') + (names.length > 8 ? `, and ${names.length - 8} more` : '');
    if (skipped.length > 0) {
      this.options.warn?.(`${skipped.length} of ${p.targets.length} ${first.provider}s in ${first.path} were left out: the kernel cannot place a uprobe on their first instruction (${listed(skipped)})`);
    }
    if (unsafe.length > 0) {
      this.options.warn?.(`${unsafe.length} of ${p.targets.length} ${first.provider}s in ${first.path} were left out: ${EVEX_REASON} (${listed(unsafe)})`);
    }
  }

  /** The programs load() loaded, in order, with their kernel ids and sizes. */
  loadedPrograms(): LoadedProgram[] {
    const obj = this.object;
    if (!obj) return [];
    return this.programs.map((program) => {
      return {
        program,
        id: this.addon.programInfo(obj.programFd(program.name)).id,
        instructions: obj.programInstructions(program.name),
        verifierLog: obj.verifierLogs?.[program.name] ?? '',
      };
    });
  }

  /**
   * Runs BEGIN, then attaches every other program to its targets (as bpftrace does, so BEGIN's
   * output comes before any event). Throws (after cleaning up) if one cannot be attached.
   */
  attach(): void {
    const obj = this.object!;
    try {
      // Read now, before any probe runs: read while they run, the work would show in a CPU profile
      // (a fifth of a 3-second profile's stacks were tracelet's own) and make its frames need naming too.
      this.prepareKernelSymbols();
      this.runSpecial('BEGIN');
      // An exit() in BEGIN has raised the flag itself: then no other probe runs.
      if (this.stoppedValue() !== STOPPED_BY_EXIT) this.setStopped(false);
      const attachments: (() => void)[] = [];
      const userSite: (() => void)[] = [];
      for (const p of this.programs) {
        if (p.rawTracepoint) {
          // Syscall dispatch: one attachment stands for every target of the program.
          attachments.push(() => this.links.push(this.addon.attachRawTracepoint(obj, p.name, p.rawTracepoint!)));
          continue;
        }
        if (p.type === 'uprobe_multi') {
          userSite.push(() => this.attachUprobeMulti(obj, p));
          continue;
        }
        for (const t of p.targets) (inTracedProcess(t.provider) ? userSite : attachments).push(() => Session.ATTACH[t.provider](this, obj, p, t));
      }
      for (const attach of [...attachments, ...inKernelRunOrder(userSite)]) attach();
      this.options.phase?.('attach');
    } catch (e) {
      this.close();
      throw e instanceof RuntimeError ? e : new RuntimeError(`could not attach probe: ${(e as Error).message}`);
    }
  }

  /** How a program is attached to one target, per provider (BEGIN, END, self, test and bench are run, not attached). */
  private static readonly ATTACH = {
    BEGIN: () => {},
    END: () => {},
    self: () => {},
    test: () => {},
    bench: () => {},
    tracepoint: (s, obj, p, t) => {
      const id = s.kernel.tracepointId(t.parts[0]!, t.parts[1]!) ?? -1;
      if (id < 0) s.links.push(s.addon.attachTracepoint(obj, p.name, t.parts[0]!, t.parts[1]!));
      else s.perfLinks.push(s.addon.attachTracepointPerf(obj.programFd(p.name), id));
    },
    rawtracepoint: (s, obj, p, t) => s.links.push(s.addon.attachRawTracepoint(obj, p.name, t.parts.at(-1)!)),
    kprobe: (s, obj, p, t) => s.attachKprobe(obj, p, t),
    kretprobe: (s, obj, p, t) => s.attachKprobe(obj, p, t),
    uprobe: (s, obj, p, t) => s.attachUprobe(obj, p, t),
    uretprobe: (s, obj, p, t) => s.attachUprobe(obj, p, t),
    usdt: (s, obj, p, t) => s.attachUprobe(obj, p, t),
    profile: (s, obj, p, t) => s.attachPerfEvent(obj, p, t),
    interval: (s, obj, p, t) => s.attachPerfEvent(obj, p, t),
    software: (s, obj, p, t) => s.attachPerfEvent(obj, p, t),
    hardware: (s, obj, p, t) => s.attachPerfEvent(obj, p, t),
    kfunc: (_s, _obj, _p, t) => Session.cannotAttach(t),
    kretfunc: (_s, _obj, _p, t) => Session.cannotAttach(t),
    watchpoint: (s, obj, p, t) => s.attachWatchpoint(obj, p, t),
    asyncwatchpoint: (s, obj, p, t) => s.attachWatchpoint(obj, p, t),
    iter: (_s, _obj, _p, t) => Session.cannotAttach(t),
  } satisfies Record<ProbeProvider, (s: Session, obj: NativeObject, p: GeneratedProgram, t: ProbeTarget) => void>;

  private static cannotAttach(t: ProbeTarget): never {
    throw new RuntimeError(`${t.provider} probes cannot be attached yet`);
  }

  private attachKprobe(obj: NativeObject, p: GeneratedProgram, t: ProbeTarget): void {
    this.links.push(this.addon.attachKprobe(obj, p.name, t.func!, t.provider === 'kretprobe', Number(t.address ?? 0n)));
  }

  private attachUprobe(obj: NativeObject, p: GeneratedProgram, t: ProbeTarget): void {
    if (t.provider !== 'usdt' && isEvex(firstByteAt(t.path!, [t.address!])[0]!)) {
      throw new RuntimeError(`cannot attach ${t.name}: ${EVEX_REASON}`);
    }
    // -p: uprobes and USDT probes fire in that process only. -c: USDT probes in the command's
    // process only, uprobes in every process (its children run the uprobed code too), as in bpftrace 0.17.
    const pid = this.options.pid ?? (t.provider === 'usdt' ? this.options.cpid : undefined) ?? -1;
    this.links.push(this.addon.attachUprobe(
      obj, p.name, t.path!, Number(t.address!), t.provider === 'uretprobe', pid, Number(t.usdt?.semaphoreOffset ?? 0n),
    ));
  }

  /** profile, software and hardware: on every CPU; interval: on the first. */
  private attachPerfEvent(obj: NativeObject, p: GeneratedProgram, t: ProbeTarget): void {
    const perf = t.perf!;
    const cpus = t.provider === 'interval' ? [this.addon.onlineCpus()[0] ?? 0] : this.addon.onlineCpus();
    for (const cpu of cpus) {
      try {
        this.perfLinks.push(this.addon.attachPerfEventLink(obj.programFd(p.name), perf.type, perf.config, perf.period, perf.frequency, cpu));
      } catch (e) {
        if (perf.type === PERF_TYPE_HARDWARE && (e as NativeError).code === 'ENOENT') {
          throw new RuntimeError(PROVIDERS.hardware.requires.message);
        }
        throw e;
      }
    }
  }

  private attachWatchpoint(obj: NativeObject, p: GeneratedProgram, t: ProbeTarget): void {
    const address = BigInt.asIntN(64, t.address!);
    const type = BREAKPOINT_TYPES[t.watch!.mode]!;
    // A watchpoint watches the memory of one process: -p's, or the -c command's.
    const watched = this.options.pid ?? this.options.cpid;
    const links = watched !== undefined
      ? [this.addon.attachBreakpoint(obj, p.name, address, t.watch!.length, type, -1, watched)]
      : this.addon.onlineCpus().map((cpu) => this.addon.attachBreakpoint(obj, p.name, address, t.watch!.length, type, cpu, -1));
    this.links.push(...links);
    const key = BigInt.asUintN(64, address);
    this.watchpoints.set(key, [...(this.watchpoints.get(key) ?? []), ...links]);
  }

  /** unwatch(addr) (0.26): detaches the watchpoints at that address; another unwatch of it does nothing. */
  private unwatch(address: bigint): void {
    const links = this.watchpoints.get(address);
    if (!links) return;
    this.watchpoints.delete(address);
    for (const l of links) l.destroy();
    this.links = this.links.filter((l) => !links.includes(l));
  }

  /**
   * Consumes events (BEGIN's first) until exit(), stop() or an error; then detaches, runs END,
   * prints the remaining maps and frees everything. Resolves with why it stopped.
   */
  run(): Promise<StopReason> {
    return new Promise<StopReason>((resolve) => {
      this.finished = resolve;
      this.ring = this.addon.ringBuffer(this.ringbufFd, () => this.drainSome());
      // The watched process's end comes as an event of Node's loop (a pidfd), or is looked for
      // every 10 ms where the kernel cannot say.
      const watched = this.options.watchPid;
      let polled = false;
      if (watched !== undefined) {
        try {
          this.exitWatch = this.addon.watchProcessExit(watched, () => this.stop('child-exit')) ?? undefined;
          polled = !this.exitWatch;
        } catch {
          polled = true; // gone already: the first check stops the run
        }
      }
      // The collector thread wakes us when it has records; this timer only checks the counters
      // (in drain()) when no event comes.
      this.timer = setInterval(() => {
        this.drainSome();
        if (polled && !processAlive(watched!)) this.stop('child-exit');
      }, polled ? WATCH_CHECK_MS : COUNTERS_CHECK_MS);
      this.options.onRunning?.();
      this.drainSome();
      this.options.phase?.('first-drain');
      if (this.requestedStop) this.stop(this.requestedStop);
    });
  }

  /**
   * --test or --bench instead of attach() and run(), as bpftrace 0.25: runs BEGIN, each test: (or
   * bench:) probe in order, reporting each through the formatter, then END; nothing is attached
   * and no map is printed. Returns whether every test (bench) passed. Frees everything, on every path.
   */
  runTests(kind: 'test' | 'bench', color: boolean): boolean {
    try {
      // Drained synchronously after each program run: nothing waits for the ring to wake us.
      this.ring = this.addon.ringBuffer(this.ringbufFd, () => {});
      this.runSpecial('BEGIN');
      this.drainAll();
      const programs = this.programs.filter((p) => p.targets[0]!.provider === kind);
      const names = programs.map((p) => p.targets[0]!.parts[0]!);
      const passed = kind === 'test' ? this.runEachTest(programs, names, color) : this.runEachBench(programs, names);
      this.runSpecial('END');
      this.drainAll();
      this.reportCounters();
      this.reportReadFailures(true);
      this.reportSkippedRuns(true);
      return passed;
    } finally {
      this.close();
    }
  }

  /**
   * Each test runs once; it fails if it returns non-zero (`return 1`) or meets a runtime error
   * (-k: a failed helper call; a cat() of a missing file), and then its output is shown.
   */
  private runEachTest(programs: readonly GeneratedProgram[], names: readonly string[], color: boolean): boolean {
    const results: TestOutcome[] = [];
    for (const [i, p] of programs.entries()) {
      const capture = (this.capture = { text: '', keep: true, errors: 0 });
      const start = process.hrtime.bigint();
      const retval = this.addon.runProgram(this.object!.programFd(p.name));
      const durationNs = Number(process.hrtime.bigint() - start);
      this.drainAll();
      this.capture = undefined;
      results.push({ name: names[i]!, passed: retval === 0 && capture.errors === 0, durationNs, output: capture.text });
      this.options.write(this.options.formatter.testResult(names, results, color));
    }
    return results.every((r) => r.passed);
  }

  /**
   * Each bench runs in the kernel in batches growing until one takes 1 ms (as bpftrace); its row
   * is the average time of one run. Its output is dropped; returning non-zero skips it; a runtime
   * error fails it (no row, and the run ends with false).
   */
  private runEachBench(programs: readonly GeneratedProgram[], names: readonly string[]): boolean {
    let first = true;
    let passed = true;
    for (const [i, p] of programs.entries()) {
      const fd = this.object!.programFd(p.name);
      for (let iterations = 1; ;) {
        const capture = (this.capture = { text: '', keep: false, errors: 0 });
        const { retval, durationNs } = this.addon.benchProgram(fd, iterations);
        this.drainAll();
        this.capture = undefined;
        if (capture.errors > 0) {
          this.options.error?.(`bench '${names[i]}' failed: it met a runtime error`);
          passed = false;
          break;
        }
        if (retval !== 0) break;
        const total = durationNs * iterations;
        const grow = total < 1e3 ? 1000 : total < 1e4 ? 100 : total < 1e5 ? 10 : total < 1e6 ? 2 : 1;
        // A body too fast for the kernel's clock (0 ns a run) stops growing at MAX_BENCH_ITERATIONS.
        if (grow > 1 && iterations < MAX_BENCH_ITERATIONS) {
          iterations = Math.min(iterations * grow, MAX_BENCH_ITERATIONS);
          continue;
        }
        this.options.write(this.options.formatter.benchResult(names, { name: names[i]!, averageNs: durationNs, iterations }, first));
        first = false;
        break;
      }
    }
    // Millions of runs may print more than the ring holds: output nobody reads is not "lost".
    this.reported.lost = this.counters()(COUNTER_LOST_EVENTS);
    return passed;
  }

  /** Ends the run (Ctrl-C, SIGTERM, end of a child). Safe to call more than once. */
  stop(reason: StopReason): void {
    if (!this.finished) {
      // A signal before run(): honour it as soon as the run starts.
      this.requestedStop ??= reason;
      return;
    }
    if (this.stopping) return;
    this.stopping = true;
    const finished = this.finished;
    try {
      this.stopWatching();
      this.options.phase?.('run');
      this.detach();
      this.drainAll();
      this.runSpecial('END');
      this.drainAll();
      this.reportCounters();
      this.reportReadFailures(true);
      this.reportSkippedRuns(true);
      this.options.phase?.('detach');
      const separator = this.options.formatter.exitSeparator();
      this.options.writeExitSeparator?.(separator);
      // Every map, in name order (TypedProgram.maps is sorted); empty ones print as bpftrace does.
      const sink = this.options.exitMapSink;
      const printed: MapSpec[] = [];
      const printMaps = this.options.printMapsOnExit ?? this.program.settings.printMapsOnExit ?? true;
      for (const spec of this.program.maps.values()) {
        if (sink?.takes(spec)) sink.take(this.snapshot(spec, sink.frameName));
        else if (printMaps && (this.options.printAtExit?.(spec) ?? true)) printed.push(spec);
      }
      this.printMaps(printed, this.options.writeExitSeparator ? '' : separator);
      this.options.beforeClose?.();
      this.options.phase?.('print');
    } finally {
      this.close();
      this.options.phase?.('close');
      finished(reason);
    }
  }

  /** No more checks of the counters, nor of the watched process's end. */
  private stopWatching(): void {
    if (this.timer) clearInterval(this.timer);
    this.exitWatch?.close();
    this.exitWatch = undefined;
  }

  /** Frees every kernel object this session created. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    this.detach();
    // Tearing down tracepoint perf events takes ~72 ms each: a reaper process does it.
    if (this.detachedPerfFds.length > 0) this.reaperPid = this.addon.releaseInBackground(this.detachedPerfFds);
    this.detachedPerfFds = [];
    this.ring?.close();
    this.processMaps?.close();
    // The object owns its maps: closing it frees them.
    this.object?.close();
  }

  /**
   * The entries of the maps programs read names from: syscall number → tracepoint name for syscall
   * dispatch programs (probe), attach cookie → func and probe for multi-uprobe programs. Made once,
   * for load() and for preparedSteps(); a map the object does not have (no program reads `probe`)
   * is passed over.
   */
  private nameWrites(): { map: string; key: Buffer; value: Buffer }[] {
    if (this.names) return this.names;
    const writes: { map: string; key: Buffer; value: Buffer }[] = (this.names = []);
    for (const p of this.programs) {
      if (!p.namesByCookie) continue;
      const { funcBytes, probeBytes, bytes } = targetNamesEntry(p.targets);
      p.targets.forEach((t, i) => {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(i);
        const value = Buffer.alloc(bytes);
        // As a constant name would be (stringConstant): its bytes, cut to leave a NUL.
        stringBytes(t.funcPrinted ?? t.func ?? '').copy(value, 0, 0, funcBytes - 1);
        stringBytes(t.name).copy(value, funcBytes, 0, probeBytes - 1);
        writes.push({ map: targetNamesMap(p.name), key, value });
      });
    }
    if (!this.programs.some((p) => p.rawTracepoint)) return writes;
    for (const event of ['sys_enter', 'sys_exit'] as const satisfies readonly SyscallEvent[]) {
      for (const [nr, name] of syscallTable()) {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(nr);
        const value = Buffer.alloc(SYSCALL_NAME_BYTES);
        value.write(`tracepoint:syscalls:${event}_${name.slice(0, SYSCALL_NAME_BYTES)}`.slice(0, SYSCALL_NAME_BYTES - 1));
        writes.push({ map: syscallNamesMap(event), key, value });
      }
    }
    return writes;
  }

  /** The values only this run knows (`elapsed`'s start, `cpid`, the pid namespace), if the program uses them (fd -1: not). */
  private writeRunValues(fd: number): void {
    if (fd < 0) return;
    const ns = statSync('/proc/self/ns/pid', { bigint: true });
    const values: [number, bigint][] = [
      [RUN_START_NS, process.hrtime.bigint()], [RUN_CPID, BigInt(this.options.cpid ?? 0)], [RUN_PIDNS_DEV, ns.dev], [RUN_PIDNS_INO, ns.ino],
    ];
    for (const [slot, value] of values) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(slot);
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(value);
      this.addon.mapUpdate(fd, key, bytes);
    }
  }

  /**
   * Stops every program at once: raises the `stopped` flag every probe checks first, detaches
   * what detaches quickly, and keeps tracepoint perf events (link ~24 ms + event ~72 ms each to
   * release here, serialised by the kernel) for close() to hand to a reaper process.
   */
  private detach(): void {
    this.setStopped(true);
    for (const l of this.links) l.destroy();
    this.links = [];
    for (const fd of this.multiLinkFds) this.addon.closeFd(fd);
    this.multiLinkFds = [];
    for (const t of this.perfLinks) {
      if (this.stoppedFd >= 0) {
        this.detachedPerfFds.push(t.linkFd, t.perfFd);
      } else {
        this.addon.closeFd(t.linkFd);
        this.detachedPerfFds.push(t.perfFd);
      }
    }
    this.perfLinks = [];
  }

  /** Stack ids given out so far: at least the stacks stored (a refused insert also took one). */
  private stacksGiven(): bigint {
    return this.globalWord(this.stackIdsFd);
  }

  private stoppedValue(): bigint {
    return this.globalWord(this.stoppedFd);
  }

  /** A one-word global of the object (-1: not in it, 0). */
  private globalWord(fd: number): bigint {
    return fd < 0 ? 0n : this.addon.mapLookup(fd, Buffer.alloc(4), 8)?.readBigUInt64LE() ?? 0n;
  }

  /** Sets the flag every probe but BEGIN and END checks first: while set, they return at once. */
  private setStopped(stopped: boolean): void {
    if (this.stoppedFd < 0) return;
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(stopped ? 1n : 0n);
    this.addon.mapUpdate(this.stoppedFd, Buffer.alloc(4), value);
  }

  private runSpecial(provider: 'BEGIN' | 'END' | 'self'): void {
    for (const p of this.programs) {
      if (p.targets[0]!.provider === provider) this.addon.runProgram(this.object!.programFd(p.name));
    }
  }

  /**
   * SIGUSR1 arrived while running: the self:signal:SIGUSR1 probes run (0.25+); a program without
   * them prints every map, as bpftrace 0.17 does.
   */
  signalled(): void {
    if (!this.finished || this.stopping) return;
    if (this.programs.some((p) => p.targets[0]!.provider === 'self')) {
      this.runSpecial('self');
      return;
    }
    this.drainAll();
    this.printMaps([...this.program.maps.values()], '');
  }

  /**
   * Writes `first` and then each map, in one write unless a map comes as bytes (Formatter.writeMap,
   * when the output takes bytes): the text before it is written first, to keep the order.
   */
  private printMaps(specs: readonly MapSpec[], first: string): void {
    const { formatter, write, writeBytes } = this.options;
    let out = first;
    let wrote = false;
    // Small maps are written together; a big one (thousands of stacks) on its own, not copied
    // into one string with the rest.
    const alone = (emit: () => void) => {
      if (out) write(out);
      out = '';
      emit();
      wrote = true;
    };
    const bytes = (piece: Uint8Array) => alone(() => writeBytes!(piece));
    for (const spec of specs) {
      const snapshot = this.snapshot(spec);
      if (writeBytes && formatter.writeMap?.(snapshot, bytes)) continue;
      if (formatter.mapPieces) {
        // Written as it is made, EXIT_WRITE_ALONE characters or more at a time.
        formatter.mapPieces(snapshot, (piece) => {
          out += piece;
          if (out.length >= EXIT_WRITE_ALONE) alone(() => {});
        });
        continue;
      }
      const text = formatter.map(snapshot);
      if (text.length < EXIT_WRITE_ALONE) out += text;
      else alone(() => write(text));
    }
    if (out || !wrote) write(out);
  }

  /**
   * A map's entries, decoded; stacks in keys named with `keyFrameName` when given (see Formatter);
   * `rawKeys` keeps each key's kernel bytes too (see MapEntry.rawKey).
   */
  snapshot(stored: MapSpec, keyFrameName = this.options.formatter.frameName, rawKeys = false): MapSnapshot {
    const fd = this.mapFds.get(stored.name)!;
    const read = this.addon.mapDump(fd, stored.keySize, valueBytes(stored, this.cpus));
    const { spec, dump } = stored.bucketsInValue
      ? spreadBuckets(stored, read, this.cpus, this.zeroedBuckets.get(stored.name))
      : { spec: stored, dump: read };
    const { addon, cpus, resolver } = this;
    let entries: MapEntry[] | undefined;
    const busy = dump.count >= BUSY_MAP_ENTRIES ? () => this.busy() : undefined;
    // Decoded only if the formatter asks: large count()/sum() maps print from the raw dump.
    return {
      spec,
      raw: { ...dump, cpus, render: (rows, write) => addon.renderDump(dump.keys, dump.values, dump.count, rows, write) },
      get entries() {
        if (!entries) busy?.();
        return (entries ??= decodeMap(spec, dump.count, dump.keys, dump.values, cpus, resolver, keyFrameName, rawKeys));
      },
    };
  }

  private busy(): void {
    if (this.busyTold) return;
    this.busyTold = true;
    this.options.onBusy?.();
  }

  /** At the end: every event left, however many drains that takes (one reads about 1 MiB). */
  private drainAll(): void {
    while (this.drain(true));
  }

  /**
   * While running: the events that have come, DRAIN_BATCHES_PER_TURN batches now and the rest
   * in the loop's next turns, so that signals and timers are not kept waiting by a stream.
   */
  private drainSome(): void {
    for (let i = 0; i < DRAIN_BATCHES_PER_TURN; i++) if (!this.drain()) return;
    if (this.drainQueued) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      this.drainSome();
    });
  }

  /**
   * Reads a batch of the available events and writes their output; false if there were none, or
   * if the batch held exit()'s event (the run stops: the events after it are not printed).
   */
  private drain(final = false): boolean {
    if (!this.ring || ((this.stopping || this.exitSeen) && !final)) return false;
    // Lost events and full maps are reported while running (about once a second), not only at exit.
    if (!final && Date.now() - this.countersCheckedAt >= COUNTERS_CHECK_MS) {
      this.countersCheckedAt = Date.now();
      this.reportCounters();
      this.reportReadFailures(false);
      this.reportSkippedRuns(false);
    }
    const records = this.ring.drain();
    if (records.length === 0) return false;
    if ((this.eventBytes += records.length) >= BUSY_EVENT_BYTES) this.busy();
    let out = '';
    let exit = false;
    const cursor: RecordCursor = { buf: records, base: 0 };
    const formatter = this.eventFormatter;
    for (let off = 0; off + 4 <= records.length;) {
      const len = records.readUInt32LE(off);
      const base = off + 4;
      off += (4 + len + 7) & ~7;
      if (exit) continue;
      // Event ids are small: the high half of the 8-byte id is 0.
      const spec = records.readUInt32LE(base + 4) === 0 ? this.program.events[records.readUInt32LE(base)] : undefined;
      if (!spec) continue;
      if (spec.kind === 'exit') {
        exit = true;
        const code = spec.fields[0];
        if (code) this.exitCode = records.readBigInt64LE(base + code.offset);
        continue;
      }
      if (this.options.records && SINK_KINDS.has(spec.kind)) {
        // The text of earlier events first, so that the consumer sees them in order.
        if (out) this.options.write(out);
        out = '';
        this.options.records.event(spec, records.subarray(base, base + len));
        continue;
      }
      if (spec.kind === 'printf') {
        // The hot case, formatted in place (see printf-record.ts).
        cursor.base = base;
        out += formatter.printf(this.recordPrintf(spec)(cursor));
        if (out.length >= OUTPUT_PIECE) {
          this.emit(out);
          out = '';
        }
        continue;
      }
      if (spec.kind === 'errorf' || spec.kind === 'warnf') {
        if (spec.kind === 'warnf' && this.options.warnings === false) continue;
        // As bpftrace: an errorf() fails the test (or bench) that called it; a run goes on.
        if (spec.kind === 'errorf' && this.capture) this.capture.errors++;
        cursor.base = base;
        const text = this.recordPrintf(spec)(cursor);
        out += formatter.scriptMessage({ severity: spec.kind === 'errorf' ? 'error' : 'warning', text, locations: this.callSite(spec) });
        continue;
      }
      out += this.handleEvent(spec, records.subarray(base, base + len));
    }
    this.emit(out);
    if (exit && !final) {
      this.exitSeen = true;
      setImmediate(() => this.stop('exit'));
    }
    return final || !exit;
  }

  /** Output of events: to the writer, or kept by a --test run. */
  private emit(out: string): void {
    if (this.capture) {
      if (this.capture.keep) this.capture.text += out;
    } else if (out) this.options.write(out);
  }

  private callSite(spec: EventSpec): ScriptLocation[] {
    let site = this.callSites.get(spec);
    if (!site) {
      site = scriptLocations(spec, { name: this.options.sourceName ?? 'stdin', text: this.options.sourceText ?? '' });
      this.callSites.set(spec, site);
    }
    return site;
  }

  private recordPrintf(spec: EventSpec): (r: RecordCursor) => string {
    let printf = this.printers.get(spec);
    if (!printf) {
      printf = compileRecordPrintf(spec, this.resolver);
      this.printers.set(spec, printf);
    }
    return printf;
  }

  private handleEvent(spec: EventSpec, record: Buffer): string {
    const f = this.eventFormatter;
    const args = () => spec.fields.map((field) => ({ type: field.type, value: decodeValue(field.type, record, field.offset, this.resolver) }));
    switch (spec.kind) {
      case 'helper_error': {
        const site = this.helperErrorSites[Number(record.readBigUInt64LE(spec.fields[2]!.offset))];
        if (!site) return '';
        if (this.capture) this.capture.errors++;
        if (f.helperErrorIsWarning && this.options.warnings === false) return '';
        return f.helperError({
          helper: helperName(Number(record.readBigUInt64LE(spec.fields[0]!.offset))),
          retcode: Number(record.readBigInt64LE(spec.fields[1]!.offset)),
          file: this.options.sourceName ?? 'stdin',
          line: site.line,
          column: site.column,
          endColumn: site.endLine === site.line ? site.endColumn : site.column + 1,
          sourceLine: this.options.sourceText?.split('\n')[site.line - 1] ?? '',
        });
      }
      case 'print_value':
        return f.value(args()[0]!);
      case 'time': {
        const text = strftimeIn64Bytes(spec.format!, new Date(), (message) => this.options.error?.(message));
        return text === undefined ? '' : f.time(text);
      }
      case 'print_map': {
        const map = this.program.maps.get(spec.map!);
        return map ? f.map(this.snapshot(map), { top: spec.top, div: spec.div }) : '';
      }
      case 'clear':
      case 'zero': {
        const map = this.program.maps.get(spec.map!);
        if (map) this.clearMap(map, spec.kind === 'zero');
        return '';
      }
      case 'join': {
        // Arguments up to the first empty one (a NULL pointer leaves its slot empty).
        const parts: string[] = [];
        for (const field of spec.fields) {
          const v = decodeValue(field.type, record, field.offset) as string;
          if (v === '') break;
          parts.push(v);
        }
        return f.join(parts.join(spec.separator ?? ' '));
      }
      case 'cat': {
        const path = formatPrintf(spec.format!, args());
        try {
          const max = this.options.catBytesMax ?? this.program.settings.catBytesMax ?? 10240;
          return f.cat(bytesToString(readFileSync(stringBytes(path)).subarray(0, max)));
        } catch (e) {
          this.options.error?.(`failed to open file '${path}': ${errnoText(e)}`);
          if (this.capture) this.capture.errors++;
          return f.cat(''); // nothing in text; an empty "cat" message in JSON, as bpftrace
        }
      }
      case 'system': {
        const command = formatPrintf(spec.format!, args());
        let out: string;
        try {
          out = execSync((this.options.shellPrefix ?? '') + command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: '/bin/sh' });
        } catch (e) {
          out = String((e as { stdout?: string }).stdout ?? '');
        }
        return f.system(out);
      }
      case 'unwatch':
        this.unwatch(record.readBigUInt64LE(spec.fields[0]!.offset));
        return '';
      default:
        return '';
    }
  }

  /** clear() deletes every entry; zero() keeps the keys with zeroed values. */
  private clearMap(spec: MapSpec, keepKeys: boolean): void {
    const fd = this.mapFds.get(spec.name)!;
    const bytes = valueBytes(spec, this.cpus);
    if (spec.bucketsInValue) {
      // The buckets a hash map would keep as keys: those with a count now, and those kept before.
      if (keepKeys) {
        const read = this.addon.mapDump(fd, spec.keySize, bytes);
        const { dump } = spreadBuckets(spec, read, this.cpus, this.zeroedBuckets.get(spec.name));
        const kept = new Set<number>();
        for (let e = 0; e < dump.count; e++) kept.add(Number(dump.keys.readBigUInt64LE(e * 8)));
        this.zeroedBuckets.set(spec.name, kept);
      } else {
        this.zeroedBuckets.delete(spec.name);
      }
      this.addon.mapClear(fd, spec.keySize, bytes, true);
      return;
    }
    if (!keepKeys) {
      this.addon.mapClear(fd, spec.keySize, bytes, spec.bpfType.endsWith('array'));
      return;
    }
    const dump = this.addon.mapDump(fd, spec.keySize, bytes);
    const zeroes = Buffer.alloc(bytes);
    for (let i = 0; i < dump.count; i++) {
      this.addon.mapUpdate(fd, dump.keys.subarray(i * spec.keySize, (i + 1) * spec.keySize), zeroes);
    }
  }

  /** The run's counters (lost events, full maps) as they are now, by slot. */
  private counters(): (index: number) => bigint {
    const counters = this.addon.mapLookup(this.countersFd, Buffer.alloc(4), 8 * counterSlots(this.program.maps));
    return (index) => counters?.readBigUInt64LE(index * 8) ?? 0n;
  }

  /** Events lost to a full ring buffer and updates lost to full maps are reported, never silent. */
  private reportCounters(): void {
    const read = this.counters();
    const lost = read(COUNTER_LOST_EVENTS);
    if (lost > this.reported.lost) {
      const count = Number(lost - this.reported.lost);
      if (this.options.records) this.options.records.lost(count);
      else this.options.write(this.options.formatter.lostEvents(count));
      this.reported.lost = lost;
    }
    for (const spec of this.program.maps.values()) {
      const full = read(mapFullCounter(this.program.maps, spec.name));
      const before = this.reported.full.get(spec.name) ?? 0n;
      if (full <= before) continue;
      // bpftrace -k words each failure `Failed to map_update_elem: Argument list too long (-7)`.
      this.options.warn?.(`Failed to map_update_elem ${full - before} time${full - before === 1n ? '' : 's'}: ${fullMap(spec)}`);
      this.reported.full.set(spec.name, full);
    }
  }

  /**
   * A tracing program does not run while another BPF program runs on the same CPU (the kernel's
   * recursion guard): the kernel skips it and counts the miss. Such a probe's counts are short, so
   * the misses are reported at the probe: while running the first time, at the end if they grew.
   */
  private reportSkippedRuns(final: boolean): void {
    const obj = this.object;
    if (!obj || !this.options.diagnostic) return;
    // A probe may be several programs (a wildcard's tracepoints): its misses are their sum, said once.
    const byProbe = new Map<Probe, bigint>();
    for (const program of this.programs) {
      const probe = program.probe.probe;
      byProbe.set(probe, (byProbe.get(probe) ?? 0n) + this.addon.programInfo(obj.programFd(program.name)).recursionMisses);
    }
    for (const [probe, misses] of byProbe) {
      const reported = this.reportedSkips.get(probe);
      if (misses === 0n || misses === reported || (!final && reported !== undefined)) continue;
      this.reportedSkips.set(probe, misses);
      const times = misses === 1n ? 'once' : `${misses} times`;
      this.options.diagnostic(warning('W_PROBE_SKIPPED', probe.attachPoints[0]?.span ?? probe.span,
        `the kernel skipped this probe ${times}: it fired while another BPF program was running on the same CPU`,
        reported === undefined ? 'the kernel runs one tracing program at a time on a CPU; what the probe missed is not in its output' : undefined));
    }
  }

  /**
   * Reads that failed are reported where they are in the script, with the number of probe runs in
   * which they failed: a value read there is 0 (or an empty string), and nobody should take such
   * zeros for data. While running, a site is reported the first time it fails; at the end (final)
   * every site whose count grew.
   * With -kk each failure was reported as it happened already.
   */
  private reportReadFailures(final: boolean): void {
    if (!this.options.diagnostic || (this.options.helperErrors ?? 0) >= 2) return;
    if (this.readSites.length === 0) return;
    const values = this.addon.mapLookup(this.readFailuresFd, Buffer.alloc(4), READ_FAILURE_BYTES);
    if (!values) return;
    for (let slot = 0; slot < this.readSites.length; slot++) {
      const failures = values.readBigUInt64LE(slot * 8);
      const reported = this.reportedReadFailures.get(slot);
      if (failures === 0n || failures === reported || (!final && reported !== undefined)) continue;
      const first = this.reportedReadFailures.size === 0;
      this.reportedReadFailures.set(slot, failures);
      const site = this.readSites[slot]!;
      const shared = slot === READ_SITES_MAX - 1 && this.readSites.length >= READ_SITES_MAX ? ' (and at later read sites)' : '';
      const runs = failures === 1n ? '1 run' : `${failures} runs`;
      this.options.diagnostic(site.helper === 'process'
        ? warning('W_READ_FAILED', site.span, `no process had the pid asked for here in ${runs} of the probe${shared}; comm() gave "N/A"`)
        : site.helper === 'stack'
        ? warning('W_READ_FAILED', site.span, this.stacksGiven() >= BigInt(STACKS_MAX)
          ? `the stack table was full (${STACKS_MAX} distinct stacks) in ${runs} of the probe${shared}; those stacks print empty`
          : `a stack could not be stored in its stack table in ${runs} of the probe${shared} (another BPF program held the table on the same CPU); those stacks print empty`)
        : warning('W_READ_FAILED', site.span,
          `${helperName(site.helper)} failed here in ${runs} of the probe${shared}; the values read were 0`,
          first ? '-kk reports each failed read as it happens, with its error' : undefined));
    }
  }
}

/**
 * Which map is full and its real limit (only keyed maps fill; their limit is their declaration's,
 * or BPFTRACE_MAP_KEYS_MAX).
 */
function fullMap(spec: MapSpec): string {
  const buckets = bucketCount(spec);
  const keys = spec.declaredAs ? `declared ${spec.declaredAs}`
    : buckets > 1 ? `BPFTRACE_MAP_KEYS_MAX ${spec.maxEntries / buckets}` : 'BPFTRACE_MAP_KEYS_MAX';
  // hist/lhist maps hold (key, bucket) entries: so many keys of every bucket.
  const limit = buckets > 1 ? `${keys} × ${buckets} buckets` : keys;
  return `map ${spec.name} is full (${spec.maxEntries} entries, ${limit})`;
}

/** How often a run checks the counters when no event comes, and whether -p's process lives. */
const COUNTERS_CHECK_MS = 1000;
const WATCH_CHECK_MS = 10;

/** A map printed at exit with at least this many characters is written on its own. */
const EXIT_WRITE_ALONE = 1 << 16;

/** The kernel's ENOTSUPP (524): what attaching a uprobe it cannot place fails with. */
const ENOTSUPP = 524;

const EVEX_REASON = 'their first instruction is AVX-512 (EVEX-encoded), which x86-64 uprobes step over wrongly: every process calling one would crash';

/** The byte at each file offset of `path` (-1 where it cannot be read): a function's first instruction begins there. */
function firstByteAt(path: string, offsets: readonly bigint[]): number[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return offsets.map(() => -1);
  }
  try {
    const byte = Buffer.alloc(1);
    return offsets.map((o) => (readSync(fd, byte, 0, 1, Number(o)) === 1 ? byte[0]! : -1));
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a first instruction is EVEX-encoded (0x62 begins one in 64-bit code). The kernel refuses
 * uprobes on VEX-encoded instructions but places them on EVEX ones and steps over them wrongly: one
 * on glibc's __memset_avx512_unaligned_erms crashed each process that called it. tracelet places
 * none there (x86-64 only).
 */
function isEvex(firstByte: number): boolean {
  return process.arch === 'x64' && firstByte === 0x62;
}

/** Whether a process still runs (a zombie counts as ended). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied'
    : code === 'EISDIR' ? 'Is a directory' : code ?? String(e);
}

/** A helper's name as bpftrace prints it in helper errors (`map_update_elem`). */
function helperName(id: number): string {
  const name = Object.entries(Helper).find(([, v]) => v === id)?.[0] ?? `helper_${id}`;
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
