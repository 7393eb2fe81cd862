// A Session owns every kernel object of one run: maps, the ring buffer, the loaded object and
// its links. It loads, attaches, runs BEGIN, consumes events, and on stop detaches, runs END,
// prints the maps and frees everything — on every path.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { Helper } from '../codegen/helpers.js';
import type { Expr } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { walk } from '../model/walk.js';
import {
  generate, stackMapKeys, counterSlots, COUNTER_LOST_EVENTS, mapFullCounter, READ_FAILURE_BYTES, READ_SITES_MAX,
  SYSCALL_NAME_BYTES, type GeneratedProgram, type SyscallDispatchMode, type ReadSite, type SyscallEvent,
} from '../codegen/codegen.js';
import { warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { syscallTable } from '../kernel/syscalls.js';
import { Kallsyms } from '../kernel/kallsyms.js';
import { Resolver } from './symbols.js';
import { MESSAGES, unavailableProbe } from './availability.js';
import { bytesToString, stringBytes } from '../model/strings.js';
import {
  HIST_BUCKETS, PERF_TYPE_HARDWARE, lhistBucketCount, type EventSpec, type MapSpec, type TypedProgram,
} from '../model/program.js';
import {
  native, type NativeAddon, type NativeError, type NativeLink, type NativeObject, type RingBufferConsumer,
} from './native.js';
import { decodeMap, decodeValue, valueBytes } from './decode.js';
import type { Formatter, MapSnapshot } from './output/model.js';
import { formatPrintf } from './output/printf.js';
import { strftime } from './output/time.js';

/** Why a run ended; the CLI maps these to exit codes. */
export type StopReason = 'exit' | 'SIGINT' | 'SIGTERM' | 'error' | 'child-exit';

export interface SessionOptions {
  readonly formatter: Formatter;
  /** Where output goes (stdout, a file, a test buffer). Called once per batch of events. */
  readonly write: (text: string) => void;
  /**
   * Where the blank lines before the maps printed at exit go: bpftrace writes them to standard
   * output even with -o FILE. Defaults to `write`.
   */
  readonly writeExitSeparator?: (text: string) => void;
  /** Warnings for the user (e.g. full maps); the CLI prints them to stderr. */
  readonly warn?: (message: string) => void;
  /** Warnings about a place in the script (e.g. reads that failed there); the CLI renders them. */
  readonly diagnostic?: (d: Diagnostic) => void;
  /** Errors that do not stop the run (e.g. cat() of a missing file); the CLI prints them to stderr. */
  readonly error?: (message: string) => void;
  /** BPFTRACE_CAT_BYTES_MAX: the most bytes cat() prints of a file (default 10240). */
  readonly catBytesMax?: number;
  /** When syscall tracepoints share one raw tracepoint program (default `auto`). */
  readonly syscallDispatch?: SyscallDispatchMode;
  /** Put before each system() command (e.g. to give it the caller's resource limits back). */
  readonly shellPrefix?: string;
  /** The script's name as diagnostics show it (`stdin` for -e); verifier line info uses it. */
  readonly sourceName?: string;
  /** The script itself, for the source line under a -k helper error. */
  readonly sourceText?: string;
  /** -k: report failed helper calls (1); -kk: also failed probe_read* (2). */
  readonly helperErrors?: number;
  /** Ring buffer size in bytes (a power of two). */
  readonly ringBufferBytes?: number;
  /** How often the ring buffer is drained, in ms. */
  readonly drainIntervalMs?: number;
  /** Called once BEGIN has run and every probe records (e.g. to say the probes are attached). */
  readonly onRunning?: () => void;
  /** -p PID (or the -c child): uprobes, usdt probes and watchpoints attach to this process only. */
  readonly pid?: number;
  /** The -c child's pid, for `cpid`. */
  readonly cpid?: number;
  /** Stop with 'child-exit' when this process ends (-p PID, the -c child); checked at each drain tick. */
  readonly watchPid?: number;
  /** Called with the generated IR before it is compiled (--emit-llvm FILE keeps it even if loading fails). */
  readonly onIr?: (ir: string) => void;
  /** -v: keep each program's verifier log (see loadedPrograms). */
  readonly verifierLogs?: boolean;
}

/** A loaded program as -v describes it. */
export interface LoadedProgram {
  readonly program: GeneratedProgram;
  /** The kernel's program id (as bpftool prog lists it). */
  readonly id: number;
  readonly instructions: number;
  /** The verifier's log (with the verifierLogs option), else ''. */
  readonly verifierLog: string;
}

export class RuntimeError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** HW_BREAKPOINT_* bp_type bits by watchpoint mode. */
const BREAKPOINT_TYPES: Record<string, number> = { r: 1, w: 2, rw: 3, wr: 3, x: 4 };

export class Session {
  private readonly addon: NativeAddon;
  private readonly cpus: number;
  private readonly mapFds = new Map<string, number>();
  private ringbufFd = -1;
  private countersFd = -1;
  private readFailuresFd = -1;
  private stoppedFd = -1;
  private readonly syscallNameFds = new Map<SyscallEvent, number>();
  private object?: NativeObject;
  private programs: readonly GeneratedProgram[] = [];
  private links: NativeLink[] = [];
  /** Tracepoints attached through perf events: the link detaches fast, the perf event slowly. */
  private tracepointLinks: { linkFd: number; perfFd: number }[] = [];
  /** Perf events whose programs are detached, to be released in the background on close. */
  private detachedPerfFds: number[] = [];
  /** Multi-uprobe links: closing one detaches all its uprobes. */
  private multiLinkFds: number[] = [];
  /** -k: the script position of each helper_error site number. */
  private helperErrorSites: readonly Span[] = [];
  /** Where the program reads probed memory, by slot of the read-failure map. */
  private readSites: readonly ReadSite[] = [];
  /** The failures of each read site already reported. */
  private readonly reportedReadFailures = new Map<number, bigint>();
  /** The pid of the process finishing the teardown of perf events after close(), or 0. */
  reaperPid = 0;
  private ring?: RingBufferConsumer;
  private timer?: NodeJS.Timeout;
  private finished?: (reason: StopReason) => void;
  private stopping = false;
  private requestedStop?: StopReason;
  private closed = false;
  private reported = { lost: 0n, full: new Map<string, bigint>() };
  private countersCheckedAt = 0;
  private readonly stackFds = new Map<string, { fd: number; depth: number }>();
  private kallsyms?: Kallsyms | null;
  /** Symbolizes values as they are printed (ksym, usym, stacks, username, inet, strftime). */
  readonly resolver: Resolver;
  readonly ir: string = '';

  constructor(
    private readonly program: TypedProgram,
    private readonly kernel: KernelInfo,
    private readonly options: SessionOptions,
  ) {
    this.addon = native();
    this.cpus = this.addon.possibleCpus();
    this.resolver = new Resolver({
      kallsyms: () => this.kernelSymbols(),
      readStack: (kind, depth, id) => this.readStack(kind, depth, id),
      demangle: (name) => this.addon.demangle(name),
    });
  }

  private kernelSymbols(): Kallsyms | undefined {
    if (this.kallsyms === undefined) {
      const k = (this.kernel as { kallsyms?: () => Kallsyms | undefined }).kallsyms;
      try {
        this.kallsyms = k ? k.call(this.kernel) ?? null : Kallsyms.read();
      } catch {
        this.kallsyms = null;
      }
    }
    return this.kallsyms ?? undefined;
  }

  private readStack(kind: 'kstack' | 'ustack', depth: number, id: number): bigint[] {
    const map = this.stackFds.get(`${kind}:${depth}`);
    if (!map) return [];
    const key = Buffer.alloc(4);
    key.writeUInt32LE(id);
    const v = this.addon.mapLookup(map.fd, key, depth * 8);
    if (!v) return [];
    return Array.from({ length: depth }, (_, i) => v.readBigUInt64LE(i * 8));
  }

  /** The number of attach points, as `Attaching N probes...` counts them. */
  get probeCount(): number {
    return this.program.probes.reduce((n, p) => n + p.targets.length, 0);
  }

  programNamed(name: string): GeneratedProgram | undefined {
    return this.programs.find((p) => p.name === name);
  }

  /** What each map fd of the generated code stands for (--explain names map loads with it). */
  mapNamesByFd(): Map<number, string> {
    return new Map<number, string>([
      ...[...this.mapFds].map(([name, fd]): [number, string] => [fd, name]),
      ...[...this.stackFds].map(([key, s]): [number, string] => [s.fd, `stack map ${key}`]),
      ...[...this.syscallNameFds].map(([event, fd]): [number, string] => [fd, `tl_${event}`]),
      [this.ringbufFd, 'tl_events'], [this.countersFd, 'tl_counters'], [this.readFailuresFd, 'tl_readfail'], [this.stoppedFd, 'tl_stopped'],
    ]);
  }

  /** Creates the maps, generates and compiles the code, and loads it (nothing attached yet). */
  load(): void {
    const unavailable = unavailableProbe(this.program.probes.flatMap((p) => p.targets.map((t) => t.provider)), this.kernel);
    if (unavailable) throw new RuntimeError(unavailable);
    try {
      for (const spec of this.program.maps.values()) {
        this.mapFds.set(spec.name, this.addon.mapCreate(spec.bpfType, kernelMapName(spec.name), spec.keySize, spec.valueSize, spec.maxEntries, {
          preallocate: spec.preallocate,
        }));
      }
      this.ringbufFd = this.addon.mapCreate('ringbuf', 'tl_events', 0, 0, this.options.ringBufferBytes ?? ringBufferBytes(this.program));
      this.countersFd = this.addon.mapCreate('percpu_array', 'tl_counters', 4, 8, counterSlots(this.program.maps));
      this.readFailuresFd = this.addon.mapCreate('percpu_array', 'tl_readfail', 4, READ_FAILURE_BYTES, 1);
      this.stoppedFd = this.addon.mapCreate('array', 'tl_stopped', 4, 8, 1);
      // Closed until BEGIN has run, so no probe's output comes before BEGIN's (see attach()).
      this.setStopped(true);
      for (const s of stackMapKeys(this.program)) {
        const fd = this.addon.mapCreate('stack_trace', `tl_${s.kind}_${s.depth}`, 4, s.depth * 8, 4096);
        this.stackFds.set(s.key, { fd, depth: s.depth });
      }
      const stacks = new Map([...this.stackFds].map(([k, v]) => [k, v.fd]));
      const generated = generate(this.program, this.kernel, {
        maps: this.mapFds, ringbuf: this.ringbufFd, counters: this.countersFd, stacks, stopped: this.stoppedFd,
        readFailures: this.readFailuresFd,
        syscallNames: (event) => this.syscallNamesMap(event),
      }, {
        startNs: process.hrtime.bigint(), cpid: this.options.cpid,
        sourceName: this.options.sourceName, sourceText: this.options.sourceText, helperErrors: this.options.helperErrors,
        syscallDispatch: this.options.syscallDispatch,
      });
      (this as { ir: string }).ir = generated.ir;
      this.programs = generated.programs;
      this.helperErrorSites = generated.helperErrorSites;
      this.readSites = generated.readSites;
      this.options.onIr?.(generated.ir);
      const elf = this.addon.compileIR(generated.ir);
      const types: Record<string, string> = {};
      for (const p of this.programs) types[p.name] = p.type;
      this.object = this.addon.loadObject(elf, types, { verifierLogs: this.options.verifierLogs });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The programs load() loaded, in order, with their kernel ids and sizes. */
  loadedPrograms(): LoadedProgram[] {
    const obj = this.object;
    if (!obj) return [];
    return this.programs.map((program) => {
      const fdinfo = readFileSync(`/proc/self/fdinfo/${obj.programFd(program.name)}`, 'latin1');
      return {
        program,
        id: Number(/^prog_id:\s*(\d+)/m.exec(fdinfo)?.[1] ?? 0),
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
      this.runSpecial('BEGIN');
      this.setStopped(false);
      for (const p of this.programs) {
        if (p.rawTracepoint) {
          // Syscall dispatch: one attachment stands for every target of the program.
          this.links.push(this.addon.attachRawTracepoint(obj, p.name, p.rawTracepoint));
          continue;
        }
        if (p.type === 'uprobe_multi') {
          const first = p.targets[0]!;
          this.multiLinkFds.push(this.addon.attachUprobeMulti(
            obj.programFd(p.name), first.path!, p.targets.map((t) => t.address!), [],
            first.provider === 'uretprobe', this.options.pid ?? -1,
          ));
          continue;
        }
        for (const t of p.targets) {
          switch (t.provider) {
            case 'BEGIN': case 'END':
              break;
            case 'tracepoint': {
              const id = this.kernel.tracepointFormat(t.parts[0]!, t.parts[1]!)?.id ?? -1;
              if (id < 0) {
                this.links.push(this.addon.attachTracepoint(obj, p.name, t.parts[0]!, t.parts[1]!));
              } else {
                this.tracepointLinks.push(this.addon.attachTracepointPerf(obj.programFd(p.name), id));
              }
              break;
            }
            case 'interval':
            case 'profile':
            case 'software':
            case 'hardware': {
              const perf = t.perf!;
              const cpus = t.provider === 'interval' ? [this.addon.onlineCpus()[0] ?? 0] : this.addon.onlineCpus();
              for (const cpu of cpus) {
                try {
                  this.links.push(this.addon.attachPerfEvent(obj, p.name, perf.type, perf.config, perf.period, perf.frequency, cpu, -1));
                } catch (e) {
                  if (perf.type === PERF_TYPE_HARDWARE && (e as NativeError).code === 'ENOENT') throw new RuntimeError(MESSAGES.hardware);
                  throw e;
                }
              }
              break;
            }
            case 'rawtracepoint':
              this.links.push(this.addon.attachRawTracepoint(obj, p.name, t.parts.at(-1)!));
              break;
            case 'kprobe':
            case 'kretprobe':
              this.links.push(this.addon.attachKprobe(obj, p.name, t.func!, t.provider === 'kretprobe', Number(t.address ?? 0n)));
              break;
            case 'uprobe':
            case 'uretprobe':
            case 'usdt':
              this.links.push(this.addon.attachUprobe(
                obj, p.name, t.path!, Number(t.address!), t.provider === 'uretprobe', this.options.pid ?? -1,
                Number(t.usdt?.semaphoreOffset ?? 0n),
              ));
              break;
            case 'watchpoint':
            case 'asyncwatchpoint': {
              const address = BigInt.asIntN(64, t.address!);
              const type = BREAKPOINT_TYPES[t.watch!.mode]!;
              if (this.options.pid !== undefined) {
                this.links.push(this.addon.attachBreakpoint(obj, p.name, address, t.watch!.length, type, -1, this.options.pid));
              } else {
                for (const cpu of this.addon.onlineCpus()) {
                  this.links.push(this.addon.attachBreakpoint(obj, p.name, address, t.watch!.length, type, cpu, -1));
                }
              }
              break;
            }
            default:
              throw new RuntimeError(`${t.provider} probes cannot be attached yet`);
          }
        }
      }
    } catch (e) {
      this.close();
      throw e instanceof RuntimeError ? e : new RuntimeError(`could not attach probe: ${(e as Error).message}`);
    }
  }

  /**
   * Consumes events (BEGIN's first) until exit(), stop() or an error; then detaches, runs END,
   * prints the remaining maps and frees everything. Resolves with why it stopped.
   */
  run(): Promise<StopReason> {
    return new Promise<StopReason>((resolve) => {
      this.finished = resolve;
      this.ring = this.addon.ringBuffer(this.ringbufFd, () => this.drain());
      const watched = this.options.watchPid;
      this.timer = setInterval(() => {
        this.drain();
        if (watched !== undefined && !processAlive(watched)) this.stop('child-exit');
      }, this.options.drainIntervalMs ?? 10);
      this.options.onRunning?.();
      this.drain();
      if (this.requestedStop) this.stop(this.requestedStop);
    });
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
      if (this.timer) clearInterval(this.timer);
      this.detach();
      this.drain(true);
      this.runSpecial('END');
      this.drain(true);
      this.reportCounters();
      this.reportReadFailures(true);
      const separator = this.options.formatter.exitSeparator();
      let out = this.options.writeExitSeparator ? '' : separator;
      this.options.writeExitSeparator?.(separator);
      // Every map, in name order (TypedProgram.maps is sorted); empty ones print as bpftrace does.
      for (const spec of this.program.maps.values()) out += this.options.formatter.map(this.snapshot(spec));
      this.options.write(out);
    } finally {
      this.close();
      finished(reason);
    }
  }

  /** Frees every kernel object this session created. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.detach();
    // Tearing down tracepoint perf events takes ~72 ms each: a reaper process does it.
    if (this.detachedPerfFds.length > 0) this.reaperPid = this.addon.releaseInBackground(this.detachedPerfFds);
    this.detachedPerfFds = [];
    this.ring?.close();
    this.object?.close();
    for (const fd of this.mapFds.values()) this.addon.closeFd(fd);
    if (this.ringbufFd >= 0) this.addon.closeFd(this.ringbufFd);
    if (this.countersFd >= 0) this.addon.closeFd(this.countersFd);
    if (this.readFailuresFd >= 0) this.addon.closeFd(this.readFailuresFd);
    if (this.stoppedFd >= 0) this.addon.closeFd(this.stoppedFd);
    for (const fd of this.syscallNameFds.values()) this.addon.closeFd(fd);
    for (const s of this.stackFds.values()) this.addon.closeFd(s.fd);
  }

  /** The syscall number → tracepoint name map of a syscall dispatch program (made once). */
  private syscallNamesMap(event: SyscallEvent): number {
    const known = this.syscallNameFds.get(event);
    if (known !== undefined) return known;
    const table = syscallTable();
    const entries = Math.max(1, ...table.map(([nr]) => nr + 1));
    const fd = this.addon.mapCreate('array', `tl_${event}`, 4, SYSCALL_NAME_BYTES, entries);
    this.syscallNameFds.set(event, fd);
    const key = Buffer.alloc(4);
    for (const [nr, name] of table) {
      const value = Buffer.alloc(SYSCALL_NAME_BYTES);
      value.write(`tracepoint:syscalls:${event}_${name.slice(0, SYSCALL_NAME_BYTES)}`.slice(0, SYSCALL_NAME_BYTES - 1));
      key.writeUInt32LE(nr);
      this.addon.mapUpdate(fd, key, value);
    }
    return fd;
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
    for (const t of this.tracepointLinks) {
      if (this.stoppedFd >= 0) {
        this.detachedPerfFds.push(t.linkFd, t.perfFd);
      } else {
        this.addon.closeFd(t.linkFd);
        this.detachedPerfFds.push(t.perfFd);
      }
    }
    this.tracepointLinks = [];
  }

  /** Sets the flag every probe but BEGIN and END checks first: while set, they return at once. */
  private setStopped(stopped: boolean): void {
    if (this.stoppedFd < 0) return;
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(stopped ? 1n : 0n);
    this.addon.mapUpdate(this.stoppedFd, Buffer.alloc(4), value);
  }

  private runSpecial(provider: 'BEGIN' | 'END'): void {
    for (const p of this.programs) {
      if (p.targets[0]!.provider === provider) this.addon.runProgram(this.object!.programFd(p.name));
    }
  }

  snapshot(spec: MapSpec): MapSnapshot {
    const fd = this.mapFds.get(spec.name)!;
    const dump = this.addon.mapDump(fd, spec.keySize, valueBytes(spec, this.cpus));
    return { spec, entries: decodeMap(spec, dump.count, dump.keys, dump.values, this.cpus, this.resolver) };
  }

  /** Reads every available event and writes their output in one batch. */
  private drain(final = false): void {
    if (!this.ring || (this.stopping && !final)) return;
    // Lost events and full maps are reported while running (about once a second), not only at exit.
    if (!final && Date.now() - this.countersCheckedAt >= 1000) {
      this.countersCheckedAt = Date.now();
      this.reportCounters();
      this.reportReadFailures(false);
    }
    const records = this.ring.drain();
    if (records.length === 0) return;
    let out = '';
    let exit = false;
    for (let off = 0; off + 4 <= records.length;) {
      const len = records.readUInt32LE(off);
      const record = records.subarray(off + 4, off + 4 + len);
      off += Math.ceil((4 + len) / 8) * 8;
      if (exit) continue;
      const spec = this.program.events[Number(record.readBigUInt64LE(0))];
      if (!spec) continue;
      if (spec.kind === 'exit') {
        exit = true;
        continue;
      }
      out += this.handleEvent(spec, record);
    }
    if (out) this.options.write(out);
    if (exit && !final) setImmediate(() => this.stop('exit'));
  }

  private handleEvent(spec: EventSpec, record: Buffer): string {
    const f = this.options.formatter;
    const args = () => spec.fields.map((field) => ({ type: field.type, value: decodeValue(field.type, record, field.offset, this.resolver) }));
    switch (spec.kind) {
      case 'printf':
        return f.printf(formatPrintf(spec.format!, args()));
      case 'helper_error': {
        const site = this.helperErrorSites[Number(record.readBigUInt64LE(spec.fields[2]!.offset))];
        if (!site) return '';
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
      case 'time':
        return f.time(strftime(spec.format!, new Date()));
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
          const max = this.options.catBytesMax ?? 10240;
          return f.cat(bytesToString(readFileSync(stringBytes(path)).subarray(0, max)));
        } catch (e) {
          this.options.error?.(`failed to open file '${path}': ${errnoText(e)}`);
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
      default:
        return '';
    }
  }

  /** clear() deletes every entry; zero() keeps the keys with zeroed values. */
  private clearMap(spec: MapSpec, keepKeys: boolean): void {
    const fd = this.mapFds.get(spec.name)!;
    const bytes = valueBytes(spec, this.cpus);
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

  /** Events lost to a full ring buffer and updates lost to full maps are reported, never silent. */
  private reportCounters(): void {
    const key = Buffer.alloc(4);
    const read = (index: number) => {
      key.writeUInt32LE(index);
      const v = this.addon.mapLookup(this.countersFd, key, 8 * this.cpus);
      let total = 0n;
      for (let c = 0; v && c < this.cpus; c++) total += v.readBigUInt64LE(c * 8);
      return total;
    };
    const lost = read(COUNTER_LOST_EVENTS);
    if (lost > this.reported.lost) {
      this.options.write(this.options.formatter.lostEvents(Number(lost - this.reported.lost)));
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
   * Reads that failed are reported where they are in the script, with the number of probe runs in
   * which they failed: a value read there is 0 (or an empty string), and nobody should take such
   * zeros for data. While running, a site is reported the first time it fails; at the end (final)
   * every site whose count grew.
   * With -kk each failure was reported as it happened already.
   */
  private reportReadFailures(final: boolean): void {
    if (!this.options.diagnostic || (this.options.helperErrors ?? 0) >= 2) return;
    if (this.readSites.length === 0) return;
    const values = this.addon.mapLookup(this.readFailuresFd, Buffer.alloc(4), READ_FAILURE_BYTES * this.cpus);
    if (!values) return;
    for (let slot = 0; slot < this.readSites.length; slot++) {
      let failures = 0n;
      for (let c = 0; c < this.cpus; c++) failures += values.readBigUInt64LE(c * READ_FAILURE_BYTES + slot * 8);
      const reported = this.reportedReadFailures.get(slot);
      if (failures === 0n || failures === reported || (!final && reported !== undefined)) continue;
      const first = this.reportedReadFailures.size === 0;
      this.reportedReadFailures.set(slot, failures);
      const site = this.readSites[slot]!;
      const shared = slot === READ_SITES_MAX - 1 && this.readSites.length >= READ_SITES_MAX ? ' (and at later read sites)' : '';
      const runs = failures === 1n ? '1 run' : `${failures} runs`;
      this.options.diagnostic(warning('W_READ_FAILED', site.span,
        `${helperName(site.helper)} failed here in ${runs} of the probe${shared}; the values read were 0`,
        first ? '-kk reports each failed read as it happens, with its error' : undefined));
    }
  }
}

/** Which map is full and its real limit (only keyed maps fill; their limit is BPFTRACE_MAP_KEYS_MAX). */
function fullMap(spec: MapSpec): string {
  const buckets = spec.kind === 'hist' ? HIST_BUCKETS : spec.kind === 'lhist' && spec.lhist ? lhistBucketCount(spec.lhist) : 1;
  // hist/lhist maps hold (key, bucket) entries: BPFTRACE_MAP_KEYS_MAX keys of every bucket.
  const limit = buckets > 1 ? `BPFTRACE_MAP_KEYS_MAX ${spec.maxEntries / buckets} × ${buckets} buckets` : 'BPFTRACE_MAP_KEYS_MAX';
  return `map ${spec.name} is full (${spec.maxEntries} entries, ${limit})`;
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

/**
 * 16 MiB when probes that can fire at a high rate send events (printf on a hot tracepoint
 * delivers ~500k events/s without loss with it); 1 MiB when only BEGIN, END and interval probes
 * do (the ring is mapped, and resident, twice: 30 MiB of RSS saved).
 */
function ringBufferBytes(program: TypedProgram): number {
  const slow = new Set(['BEGIN', 'END', 'interval']);
  const sends = (root: unknown): boolean => {
    let found = false;
    walk(root, (node) => {
      const event = program.eventOf.get(node as Expr);
      if (event && event.kind !== 'exit') {
        found = true;
        return 'stop';
      }
    });
    return found;
  };
  const hot = program.probes.some((p) => p.targets.some((t) => !slow.has(t.provider)) && sends(p.probe.body));
  return hot ? 16 << 20 : 1 << 20;
}

/** Kernel map names are at most 15 characters; keep ours recognisable. */
function kernelMapName(name: string): string {
  return `tl_${name.replace(/[^A-Za-z0-9_]/g, '') || 'map'}`.slice(0, 15);
}
