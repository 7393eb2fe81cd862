// tracelet as a library (`import { compile, trace } from 'tracelet'`): compile a program to data
// (diagnostics, IR, BPF object) without loading anything, or trace with it and read its events
// and maps as typed values. Built on the compile() driver and the Session the CLI runs.
import { compile as compileProgram, loadable, probeFilterProblem } from '../compile/compile.js';
import { hasErrors, type Diagnostic as DriverDiagnostic } from '../diagnostics/diagnostic.js';
import { renderDiagnostic } from '../diagnostics/render.js';
import { SystemKernel } from '../kernel/index.js';
import type { EventSpec, TypedProgram } from '../model/program.js';
import type { Span } from '../model/span.js';
import { resolveCommand, spawnHeld, type HeldChild } from '../runtime/command.js';
import { canLoadBpf } from '../runtime/privileges.js';
import { kfuncProbe, native } from '../runtime/native.js';
import { createFormatter } from '../runtime/output/index.js';
import { strftime } from '../runtime/output/time.js';
import { compileRecordPrintf } from '../runtime/printf-record.js';
import type { Session, StopReason } from '../runtime/session.js';
import { checkParsed, Run, unavailableAfterCheck } from '../run/run.js';
import { eventValue, readMaps, tracedMap, type Maps, type TracedMap, type TraceValue } from './values.js';

export type { Bucket, BuildIdFrame, Frame, MapEntry, MapValue, Maps, TracedMap, TraceValue } from './values.js';
export type { Span, StopReason };

/** A problem in a program, as data: what the CLI prints as `file:line:col: error: ...`. */
export interface Diagnostic {
  /** Stable identifier, e.g. `E_SYNTAX`, `E_UNKNOWN_TRACEPOINT`. */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** The program's name (`options.file`, default `stdin`). */
  readonly file: string;
  /** 1-based, where the span starts. */
  readonly line: number;
  readonly column: number;
  /** The whole range: offsets into the source (0-based, end exclusive), lines and columns (1-based). */
  readonly span: Span;
  readonly hint?: string;
  /** Other places involved, e.g. where a conflicting type was first given. */
  readonly notes?: readonly { readonly message: string; readonly span: Span }[];
  /** The diagnostic as the CLI prints it: the position, the source line, a caret, the hint. */
  readonly rendered: string;
}

/** Thrown by compile-and-run failures: the program's errors (if any) are in `diagnostics`. */
export class TraceletError extends Error {
  constructor(message: string, readonly diagnostics: readonly Diagnostic[] = []) {
    super(message);
    this.name = 'TraceletError';
  }
}

export interface CompileOptions {
  /** The program's name in diagnostics (default `stdin`, as for `tracelet -e`). */
  readonly file?: string;
  /** Positional parameters `$1`, `$2`, ... */
  readonly args?: readonly (string | number)[];
  /** Resolve uprobe and usdt targets in this process (`-p`). */
  readonly pid?: number;
  /** As if the program began with `#include <FILE>` for each (`--include`). */
  readonly includes?: readonly string[];
  /** Directories searched for `#include`d headers (`-I`). */
  readonly includeDirs?: readonly string[];
  /** `--unsafe`: allow system() and other side effects. */
  readonly unsafe?: boolean;
  /** Make the BPF object with LLVM (default true); false stops at the IR, for a quicker check. */
  readonly object?: boolean;
  /**
   * `--probe-filter`: only the probes whose full name (`tracepoint:syscalls:sys_enter_openat`) this
   * regular expression matches are compiled and run; BEGIN, END and self:signal always are. An
   * invalid one throws a TraceletError.
   */
  readonly probeFilter?: string;
}

export interface CompileResult {
  /** Errors and warnings of every stage that ran; no error means the program compiled. */
  readonly diagnostics: readonly Diagnostic[];
  /** The generated LLVM IR (absent after errors). */
  readonly ir?: string;
  /** The BPF ELF object a run loads (absent after errors, or with `object: false`). */
  readonly object?: Uint8Array;
}

/** Checks and compiles a program without loading anything into the kernel. Never throws for bad programs (a bad `probeFilter` throws a TraceletError). */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const { result, diagnostics } = compileWith(source, options, new SystemKernel({ includeDirs: [...(options.includeDirs ?? [])], kfuncProbe }));
  return {
    diagnostics,
    ...(result.generated ? { ir: result.generated.ir } : {}),
    ...(result.object ? { object: result.object } : {}),
  };
}

function compileWith(source: string, options: CompileOptions, kernel: SystemKernel, hooks: Parameters<typeof compileProgram>[2] = {}) {
  const file = options.file ?? 'stdin';
  const filterProblem = options.probeFilter === undefined ? undefined : probeFilterProblem(options.probeFilter);
  if (filterProblem) throw new TraceletError(`probeFilter '${options.probeFilter}': ${filterProblem.message} (${filterProblem.hint})`);
  const result = compileProgram({
    source, sourceName: file, params: options.args?.map(String), includes: options.includes, unsafe: options.unsafe,
    pid: options.pid, object: options.object ?? true, probeFilter: options.probeFilter,
  }, kernel, hooks);
  const diagnostics = result.diagnostics.map((d) => diagnostic(d, file, source));
  // LLVM refusing the IR (e.g. more than 512 bytes of stack) is an error of the program too.
  if (result.backendError && !hasErrors(result.diagnostics)) diagnostics.push(backendDiagnostic(result.backendError, file, source));
  return { result, diagnostics };
}

function diagnostic(d: DriverDiagnostic, file: string, text: string): Diagnostic {
  return {
    code: d.code, severity: d.severity, message: d.message, file, line: d.span.line, column: d.span.column, span: d.span,
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.notes ? { notes: d.notes.map((n) => ({ message: n.message, span: n.span })) } : {}),
    rendered: renderDiagnostic(d, { name: file, text }),
  };
}

function backendDiagnostic(message: string, file: string, text: string): Diagnostic {
  const span: Span = { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
  return diagnostic({ code: 'E_BACKEND', severity: 'error', span, message: `LLVM could not compile the program: ${message}` }, file, text);
}

export interface TraceOptions extends CompileOptions {
  /** Run this command (`-c`): it starts once every probe is attached, and its end ends the run. */
  readonly command?: string;
  /** Aborting it stops the run as stop() does. */
  readonly signal?: AbortSignal;
  /**
   * Events kept for a consumer that has not read them yet (default 100000). Beyond that, newer
   * events are dropped and counted, and a `{ kind: 'lost' }` event says how many; the kernel side
   * never waits for the consumer.
   */
  readonly maxQueuedEvents?: number;
}

/** What a run's `events()` yields. */
export type TraceEvent =
  /** printf(): the text bpftrace would print, and its arguments typed. */
  | { readonly kind: 'printf'; readonly text: string; readonly format: string; readonly args: readonly TraceValue[] }
  /**
   * errorf() (an error) or warnf() (a warning), bpftrace 0.2x: the text as printf makes it, its
   * arguments typed, and where the call is (`span`; in a macro's body: `expandedFrom`, the macro
   * calls it came from, innermost first). The run goes on.
   */
  | {
    readonly kind: 'errorf' | 'warnf'; readonly text: string; readonly format: string; readonly args: readonly TraceValue[];
    readonly file: string; readonly line: number; readonly column: number; readonly span: Span; readonly expandedFrom?: readonly Span[];
  }
  /** print() of a value. */
  | { readonly kind: 'print'; readonly value: TraceValue }
  /** print(@map[, top, div]): the whole map now (top and div as given, for the consumer to apply). */
  | { readonly kind: 'print'; readonly map: TracedMap; readonly top?: number; readonly div?: number }
  /** time(): the formatted time. */
  | { readonly kind: 'time'; readonly text: string }
  /** Other output as bpftrace's text: join(), cat(), system(), helper errors with `-k`. */
  | { readonly kind: 'output'; readonly text: string }
  /** Events that the kernel's ring buffer had no room for, or that a slow consumer left behind. */
  | { readonly kind: 'lost'; readonly count: number }
  /**
   * What the numbers do not show, found while running (as the CLI warns on stderr): reads that
   * failed at a place in the program (`W_READ_FAILED`: the values read were 0), probe runs the
   * kernel skipped (`W_PROBE_SKIPPED`), both with `diagnostic` locating them; a full map, by
   * `message` alone.
   */
  | { readonly kind: 'warning'; readonly message: string; readonly diagnostic?: Diagnostic }
  /** The program called exit(): the last event; `code` when it was exit(code). */
  | { readonly kind: 'exit'; readonly code?: bigint };

/** How a run ended, with its maps as they were then. */
export interface TraceResult {
  readonly reason: StopReason;
  readonly maps: Maps;
}

/**
 * Compiles, loads and attaches a program; resolves once its probes are attached and BEGIN ran.
 * Throws a TraceletError when the program has errors or the kernel refuses it (needs root).
 */
export async function trace(source: string, options: TraceOptions = {}): Promise<TraceSession> {
  options.signal?.throwIfAborted();
  if (!canLoadBpf()) throw new TraceletError('loading BPF programs needs root (or the CAP_BPF and CAP_PERFMON capabilities)');
  const kernel = new SystemKernel({ includeDirs: [...(options.includeDirs ?? [])], kfuncProbe });
  let refusal: string | undefined;
  const { result, diagnostics } = compileWith(source, options, kernel, {
    // As the CLI: probe types this kernel lacks are refused before the type check.
    afterParse: (ast) => (refusal = checkParsed(ast, kernel).refusal?.message) === undefined,
  });
  if (refusal) throw new TraceletError(refusal);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new TraceletError(errors.map((d) => d.rendered).join(''), diagnostics);
  const compiled = loadable(result);
  if (!compiled) throw new TraceletError('the program could not be compiled', diagnostics);
  const late = unavailableAfterCheck(compiled.program, kernel);
  if (late) throw new TraceletError(late.message);
  let child: HeldChild | undefined;
  if (options.command !== undefined) {
    const command = resolveCommand(options.command, (errno) => native().strerror(errno));
    if ('error' in command) throw new TraceletError(command.error);
    child = spawnHeld(command);
  }
  const file = options.file ?? 'stdin';
  const target = { source: { name: file, text: source }, pid: options.pid, child };
  return new TraceSession(options, compiled.program, diagnostics, child?.pid, (sink) => {
    const run: Run = new Run(compiled, kernel, target, {
      formatter: createFormatter('text'),
      write: (text) => text && sink.push({ kind: 'output', text }),
      // Never silently wrong: what the CLI warns of on stderr comes as events.
      diagnostic: (d) => sink.push({ kind: 'warning', message: d.message, diagnostic: diagnostic(d, file, source) }),
      warn: (message) => sink.push({ kind: 'warning', message }),
      writeExitSeparator: () => {},
      records: sink,
      printAtExit: () => false,
      beforeClose: () => sink.final(readMaps(run.session, compiled.program.maps.values())),
    });
    return run;
  });
}

/** What the Session hands the API's queue (see TraceSession). */
interface EventSink {
  push(event: TraceEvent): void;
  event(spec: EventSpec, record: Buffer): void;
  lost(count: number): void;
  final(maps: Maps): void;
}

/** A running program: its events, its maps, and how to stop it. */
export class TraceSession {
  /** The compiler's warnings (errors are thrown by trace()). */
  readonly diagnostics: readonly Diagnostic[];
  /** The pid of `options.command`, while it runs. */
  readonly commandPid?: number;
  /** Resolves when the run has ended (exit(), stop(), abort, the command's end) and everything is detached. */
  readonly done: Promise<TraceResult>;
  private readonly session: Session;
  private readonly queue: TraceEvent[] = [];
  private readonly maxQueued: number;
  /** The program's name, where errorf()/warnf() say they are. */
  private readonly file: string;
  private dropped = 0;
  private ended = false;
  private finalMaps: Maps = {};
  private wake: (() => void) | undefined;
  private readonly printers = new Map<EventSpec, (r: { buf: Buffer; base: number }) => string>();

  /** @internal Use trace(). */
  constructor(
    options: TraceOptions, private readonly program: TypedProgram, diagnostics: readonly Diagnostic[],
    commandPid: number | undefined, start: (sink: EventSink) => Run,
  ) {
    this.diagnostics = diagnostics;
    this.file = options.file ?? 'stdin';
    this.maxQueued = options.maxQueuedEvents ?? 100_000;
    const sink: EventSink = {
      push: (e) => this.push(e),
      event: (spec, record) => this.push(this.decode(spec, record)),
      lost: (count) => this.push({ kind: 'lost', count }),
      final: (maps) => (this.finalMaps = maps),
    };
    const run = start(sink);
    this.session = run.session;
    if (commandPid !== undefined) this.commandPid = commandPid;
    const failed = run.load() ?? run.attach();
    if (failed !== undefined) {
      this.session.close();
      throw new TraceletError(failed.runtime ? failed.message : failed.message.trimEnd());
    }
    const onAbort = () => run.stop('stop');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.done = run.run().then(({ reason }) => {
      options.signal?.removeEventListener('abort', onAbort);
      // Whatever the consumer missed, then exit(): these are never dropped.
      this.flushDropped();
      const code = this.session.exitCode;
      if (reason === 'exit') this.queue.push(code === undefined ? { kind: 'exit' } : { kind: 'exit', code });
      this.ended = true;
      this.wake?.();
      return { reason, maps: this.finalMaps };
    });
  }

  /** The run's events in order, until it ends. Meant for one consumer; events wait for it (see maxQueuedEvents). */
  async *events(): AsyncGenerator<TraceEvent, void, undefined> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      this.flushDropped();
      if (this.queue.length > 0) continue;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** The maps now (after the run: as they were when it ended). */
  async maps(): Promise<Maps> {
    return this.ended ? this.finalMaps : readMaps(this.session, this.program.maps.values());
  }

  /** One map now, by name (`@opens`), or undefined. */
  async map(name: string): Promise<TracedMap | undefined> {
    if (this.ended) return this.finalMaps[name];
    const spec = this.program.maps.get(name);
    return spec && tracedMap(this.session, spec);
  }

  /** Detaches everything (END runs, as at Ctrl-C) and resolves with the final maps. */
  async stop(): Promise<Maps> {
    this.session.stop('stop');
    return (await this.done).maps;
  }

  private push(event: TraceEvent): void {
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.flushDropped();
    this.queue.push(event);
    this.wake?.();
  }

  /** Once the consumer has room again: how many events it missed, in their place. */
  private flushDropped(): void {
    if (this.dropped === 0) return;
    this.queue.push({ kind: 'lost', count: this.dropped });
    this.dropped = 0;
  }

  private decode(spec: EventSpec, record: Buffer): TraceEvent {
    const resolver = this.session.resolver;
    const args = () => spec.fields.map((f) => eventValue(f.type, record, f.offset, resolver));
    const text = () => {
      let printf = this.printers.get(spec);
      if (!printf) this.printers.set(spec, (printf = compileRecordPrintf(spec, resolver)));
      return printf({ buf: record, base: 0 });
    };
    switch (spec.kind) {
      case 'printf':
        return { kind: 'printf', text: text(), format: spec.format ?? '', args: args() };
      case 'errorf':
      case 'warnf': {
        const { span, expandedFrom } = spec;
        return {
          kind: spec.kind, text: text(), format: spec.format ?? '', args: args(),
          file: span.file?.name ?? this.file, line: span.line, column: span.column, span, ...(expandedFrom ? { expandedFrom } : {}),
        };
      }
      case 'print_value':
        return { kind: 'print', value: args()[0]! };
      case 'print_map': {
        const map = tracedMap(this.session, this.program.maps.get(spec.map!)!);
        return { kind: 'print', map, ...(spec.top ? { top: spec.top } : {}), ...(spec.div ? { div: spec.div } : {}) };
      }
      default:
        return { kind: 'time', text: strftime(spec.format!, new Date()) };
    }
  }
}
