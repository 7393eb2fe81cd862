// The tracelet command: options → compile() and a run (src/run), output to stdout (or -o FILE),
// diagnostics to stderr, and a documented exit code. It only parses options and prints.
import { existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { CommanderError } from 'commander';
import { parseCommandLine, takeCommandLine, type Options } from './command-line.js';
import { splitNamedParams } from '../parser/index.js';
import type { Expr, Program } from '../model/ast.js';
import { renderDiagnostic, renderDiagnostics, type SourceFile } from '../diagnostics/render.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { settingsFromEnv, type Settings } from '../model/config.js';
import { compile, loadable, probeFilterProblem, type CodegenResult, type SyscallDispatchMode } from '../compile/compile.js';
import { cacheDir, describeCacheUse, ObjectCache, storePreparedRun, traceletBuild, type CacheUse } from '../compile/cache.js';
import { SystemKernel } from '../kernel/index.js';
import { createFormatter } from '../runtime/output/index.js';
import { eventsRingBytes, type Session } from '../runtime/session.js';
import { checkParsed, Run, unavailableAfterCheck, type RunEnd } from '../run/run.js';
import { explain, explainStatement, type ExplainInput } from '../explain/explain.js';
import { explainIr } from '../explain/ir.js';
import { ExitCode } from './exit-codes.js';
import { resolveCommand, spawnHeld, type HeldChild, type ResolvedCommand } from '../runtime/command.js';
import { VERSION, versionLine } from './version.js';
import { completionScript, describeOptions } from './completion.js';
import { shellStackPrefix, takeCallerStackLimit } from './stack-limit.js';
import { restoreStartEnvironment } from './start-environment.js';
import { keepIgnoredSignals, shellIgnorePrefix, signalNumbers } from './inherited-signals.js';
import { handOverStopSignals, holdStopSignals, letStopSignalsKill } from './stop-signals.js';
import { canLoadBpf, NEEDS_ROOT } from '../runtime/privileges.js';
import { listProbes } from './list.js';
import { systemInfo } from './info.js';
import { optimizingCompilerOff, optimizingCompilerOn } from './optimizing-compiler.js';
import { flamegraphSink } from './flamegraph.js';
import { probeTypes, type Refusal } from '../runtime/availability.js';
import { kfuncProbe, native, releaseCleanPages, type PendingRing } from '../runtime/native.js';
import { EVENTS_MAP } from '../model/object-layout.js';
import { stringBytes } from '../model/strings.js';
import { typeName } from '../model/types.js';
import type { MapSpec, TypedProgram } from '../model/program.js';
import { printAst } from '../parser/print.js';
import { walk } from '../model/walk.js';
import { PhaseTimings, takeLauncherStart } from '../runtime/timings.js';
import { inProfile, startMetrics, writeProfile, type MetricsServer } from './export.js';
import { parseListenAddress } from '../export/server.js';
import { announcedText, awaitAttached, encodePreparedRun, fileIdentity, handedEntry, releaseHandover, signalReady, takeLaunch, type Launch } from '../runtime/prepared.js';

/** The stack limit the commands tracelet starts get back (see stack-limit.ts). */
let callerStackKib: number | undefined;
let callerIgnored: NodeJS.Signals[] = [];
/** What the launcher set up for a prepared run (src/runtime/prepared.ts). */
let launch: Launch | undefined;
/**
 * Writes the run's newly compiled object to the compile cache, once the run is over (main() sets
 * it when it makes the cache; -v says if the object could not be stored).
 */
let storeCompiled = (): void => {};

/** TRACELET_SYSCALL_DISPATCH=always|never forces how syscall tracepoints attach (README). */
function syscallDispatchFromEnv(): SyscallDispatchMode {
  const v = process.env.TRACELET_SYSCALL_DISPATCH;
  return v === 'always' || v === 'never' ? v : 'auto';
}

/** Long text (a big map printed at exit) is encoded and written this many characters at a time. */
const WRITE_PIECE = 1 << 16;
/** Where the pieces are encoded (UTF-8 takes at most 3 bytes per UTF-16 unit, and a piece may take one more unit). */
let writeScratch: Buffer | undefined;

/**
 * Writes all of `text` to `fd`, retrying when a non-blocking pipe is full. Returns false when
 * the reader has gone (EPIPE, e.g. `tracelet ... | head`): the output is dropped. Long text is
 * encoded and written a piece at a time into one buffer, so that its bytes are never all copied.
 */
function writeAll(fd: number, text: string): boolean {
  // Raw bytes of binary strings stay raw (see stringBytes).
  if (text.length <= WRITE_PIECE) return writeAllBytes(fd, stringBytes(text));
  writeScratch ??= Buffer.allocUnsafeSlow(3 * (WRITE_PIECE + 1));
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + WRITE_PIECE);
    // Never between the two halves of a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    const piece = text.slice(at, end);
    const bytes = RAW_BYTE.test(piece) ? stringBytes(piece) : writeScratch.subarray(0, writeScratch.write(piece, 'utf8'));
    if (!writeAllBytes(fd, bytes)) return false;
    at = end;
  }
  return true;
}

/** The characters that stand for raw bytes in binary strings (see stringBytes). */
const RAW_BYTE = /[\udc80-\udcff]/;

/**
 * The first error writing the output other than its reader going away (ENOSPC of a full disk,
 * EIO...): the run stops, says so and exits 255; bpftrace 0.17 goes on, printing nothing.
 */
let outputError: NodeJS.ErrnoException | undefined;

/** writeAll of bytes. */
function writeAllBytes(fd: number, bytes: Uint8Array): boolean {
  let buf = bytes;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code !== 'EPIPE' && fd !== 2) outputError ??= e as NodeJS.ErrnoException;
      return false;
    }
  }
  return true;
}

const stderr = (text: string) => writeAll(2, text);

/** How long after attaching a run gives back the clean pages it holds (see onRunning). */
const RELEASE_WHEN_RUNNING_MS = 50;

/** An events ring this big or bigger is made while the program compiles (a 16 MiB one costs ~3 ms). */
const PREMADE_RING_MIN_BYTES = 4 << 20;

/** Runs the command and exits with its code (bin/tracelet.js and the start-up snapshot call this). */
export function runCli(argv: readonly string[]): void {
  // Seen as `tracelet` (not `node`) in comm, ps and top: scripts can tell the tracer's own
  // events apart as they do with bpftrace's (`/comm != "tracelet"/`).
  process.title = 'tracelet';
  holdStopSignals();
  restoreStartEnvironment();
  callerStackKib = takeCallerStackLimit();
  callerIgnored = keepIgnoredSignals();
  takeLauncherStart();
  launch = takeLaunch();
  main(argv).then(
    (code) => {
      storeCompiled();
      if (outputError && code === ExitCode.ok) {
        stderr(`tracelet: cannot write the output: ${outputError.message.replace(/^\w+: /, '').replace(/, write$/, '')}\n`);
        process.exit(ExitCode.runtimeError);
      }
      process.exit(code);
    },
    (e: unknown) => {
      // A bug in tracelet, not in the user's program: say so plainly; details on request.
      const err = e as Error | undefined;
      if (err instanceof RangeError && /call stack/.test(err.message)) {
        // Only when Node was given less stack than bin/tracelet asks for (a low `ulimit -Hs`).
        stderr('tracelet: the program nests too deeply for the stack Node was given (see ulimit -s)\n');
        process.exit(ExitCode.programError);
      }
      const detail = process.env.TRACELET_DEBUG ? `\n${err?.stack}` : ' (set TRACELET_DEBUG=1 for details)';
      stderr(`tracelet: internal error: ${err?.message ?? String(e)}${detail}\n`);
      process.exit(ExitCode.internal);
    },
  );
}

/**
 * The command: resolves with its exit code. `compileOnly` returns at once: the start-up snapshot
 * calls it so, to have V8 compile this long function there rather than on every run's first call
 * (~1 ms).
 */
export async function main(argv: readonly string[], compileOnly = false): Promise<number> {
  if (compileOnly) return ExitCode.ok;
  const mainNs = process.hrtime.bigint();
  const mainCpu = process.cpuUsage();
  // Node opens its debugger on SIGUSR1 unless the signal has a listener: ignored until the run handles it.
  process.on('SIGUSR1', () => {});
  const version = versionLine();
  // Not passed on to -c commands and system().
  delete process.env.TRACELET_AS_BPFTRACE;
  const program = takeCommandLine(version, { writeOut: (s) => writeAll(1, s), writeErr: stderr });

  try {
    parseCommandLine(program, argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const opts = program.opts<Options>();
  const [file, ...rest] = program.args;
  const timings = opts.timings || process.env.TRACELET_TIMINGS === '1' ? new PhaseTimings(stderr, mainNs, mainCpu) : undefined;
  const phase = timings && ((name: string) => timings.end(name));
  phase?.('options');
  // What attaches nothing (a listing, a compile to look at, tests and benches of the program) is
  // no run to stop cleanly: Ctrl-C ends it at once.
  const attachesProbes = opts.l === undefined && !opts.completion && !opts.info && !opts.d && opts.emitLlvm === undefined
    && !opts.emitElf && !opts.explain && !opts.dryRun && !opts.test && !opts.bench;
  if (!attachesProbes) letStopSignalsKill();
  if (phase) {
    // Loaded here when timed, so its cost is a phase of its own rather than part of the type check.
    native();
    phase('addon');
  }
  if (opts.completion) {
    writeAll(1, completionScript(opts.completion, describeOptions(program.options)));
    return ExitCode.ok;
  }

  let pid: number | undefined;
  if (opts.p !== undefined) {
    if (!/^\d+$/.test(opts.p) || !existsSync(`/proc/${opts.p}`)) {
      stderr(`tracelet: -p ${opts.p}: no such process\n`);
      return ExitCode.usage;
    }
    pid = Number(opts.p);
  }
  if (opts.test && opts.bench) {
    stderr('tracelet: --test and --bench cannot be used together\n');
    return ExitCode.usage;
  }
  if (opts.p !== undefined && opts.c !== undefined) {
    stderr('tracelet: -p and -c cannot be used together\n');
    return ExitCode.usage;
  }
  const filterProblem = opts.probeFilter === undefined ? undefined : probeFilterProblem(opts.probeFilter);
  if (filterProblem) {
    stderr(`tracelet: --probe-filter '${opts.probeFilter}': ${filterProblem.message}\nhint: ${filterProblem.hint}\n`);
    return ExitCode.usage;
  }
  // A -c command that cannot run is refused before anything is compiled or run (as bpftrace).
  let command: ResolvedCommand | undefined;
  if (opts.c !== undefined) {
    const resolved = resolveCommand(opts.c, (errno) => native().strerror(errno));
    if ('error' in resolved) {
      stderr(`tracelet: ${resolved.error}\n`);
      return ExitCode.runtimeError;
    }
    command = resolved;
  }

  if (opts.info) {
    if (!canLoadBpf()) return needsRoot();
    stderr(systemInfo({ native: native(), kernel: new SystemKernel() }));
    return ExitCode.ok;
  }

  if (opts.l !== undefined) {
    if (!canLoadBpf()) return needsRoot();
    const pattern = typeof opts.l === 'string' ? opts.l : file;
    // One pattern, as bpftrace takes it (several are one pattern, separated by commas).
    const extra = typeof opts.l === 'string' ? program.args : rest;
    if (extra.length > 0) {
      stderr(`tracelet: -l takes one pattern, not '${extra.join(' ')}' too\nhint: list several at once separated by commas: -l 'a:b:c,d:e:f'\n`);
      return ExitCode.usage;
    }
    const kernel = new SystemKernel();
    if (!pattern || /^(\*|t|tracepoint)(:|$)/.test(pattern) || !pattern.includes(':')) {
      const { notice } = kernel.ensureTracefs();
      if (notice) stderr(`${notice}\n`);
    }
    const listed = listProbes(pattern, kernel, { verbose: opts.v, pid, demangle: (n) => native().demangle(n) });
    if (listed.error) {
      stderr(`tracelet: ${listed.error}\n`);
      return ExitCode.usage;
    }
    for (const notice of listed.notices ?? []) stderr(`tracelet: ${notice}; none listed\n`);
    writeAll(1, listed.text);
    return ExitCode.ok;
  }

  let source: SourceFile;
  let params: string[];
  /** The program's file and its identity as read (for a prepared run). */
  let sourceFile: { path: string; identity: string } | undefined;
  if (opts.e !== undefined) {
    source = { name: 'stdin', text: opts.e };
    params = program.args;
  } else if (file !== undefined) {
    try {
      if (file !== '-') sourceFile = { path: file, identity: fileIdentity(file) };
      // A program read from standard input is named `stdin` in messages, as with -e and bpftrace.
      source = { name: file === '-' ? 'stdin' : file, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
    } catch (e) {
      stderr(`tracelet: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return ExitCode.runtimeError;
    }
    params = rest;
  } else {
    stderr('tracelet: no program given: use -e \'PROGRAM\' or a file (see tracelet --help)\n');
    return ExitCode.usage;
  }

  // From here on a program is compiled and run: TurboFan only once the run is busy (see there).
  optimizingCompilerOff(Buffer.byteLength(source.text));

  // Named parameters (`-- --name=value`) exist for a program that reads them with getopt();
  // otherwise such words stay positional, as in bpftrace 0.17.
  const named = source.text.includes('getopt') ? splitNamedParams(params) : undefined;
  if (named) params = named.positional;
  // Config variables from the environment (BPFTRACE_MAX_MAP_KEYS, 0.17's BPFTRACE_MAP_KEYS_MAX...):
  // they win over the script's config block.
  let env: Settings;
  try {
    env = settingsFromEnv(process.env);
  } catch (e) {
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.usage;
  }
  // Read lazily: nothing asks the machine before the parsed program has passed the checks below.
  const kernel = new SystemKernel({ includeDirs: opts.I, kfuncProbe });
  let stopped: number | undefined;
  let premadeRing: PendingRing | undefined;
  // The caches hash with the addon's SHA-256 (Node's own costs a run ~1.3 MiB): loaded first.
  if (opts.cache) native();
  // cpid without -c is an error in a run, as in bpftrace; a program only shown (-d, --explain,
  // --emit-llvm/--emit-elf) may name it.
  const shownOnly = Boolean(opts.d || opts.explain || opts.emitLlvm || opts.emitElf);
  // A compiled object is stored once the run is over (storeCompiled()), not before it attaches.
  const objectCache = opts.cache ? new ObjectCache(cacheDir(), traceletBuild(VERSION), undefined, undefined, true) : undefined;
  storeCompiled = () => {
    const failed = objectCache?.storePending();
    if (failed && opts.v) stderr(`INFO: object cache: ${failed}\n`);
  };
  const result = compile({
    source: source.text, sourceName: source.name, params, namedParams: named && [...named.named], includes: opts.include, unsafe: opts.unsafe, helperErrors: opts.k,
    syscallDispatch: syscallDispatchFromEnv(), pid, childCommand: opts.c !== undefined ? true : shownOnly ? undefined : false, childProgram: command?.path, maxProbes: env.maxProbes, mapKeysMax: env.mapKeysMax, stringLength: env.stringLength, stackMode: env.stackMode, cppDemangle: env.cppDemangle, missingProbes: env.missingProbes, probeFilter: opts.probeFilter,
    // -d and --emit-llvm alone show the IR only.
    object: !opts.d && (opts.emitLlvm !== true || opts.emitElf !== undefined),
  }, kernel, {
    phase,
    // LLVM's code and heap then come on top of what parsing and codegen use, not of Node's start.
    beforeLlvm: releaseCleanPages,
    afterCodegen: (generated, program) => {
      // A big events ring (a printf on a tracepoint: 16 MiB) is made on a thread of its own, of the
      // size the Session loads, while LLVM runs or the cache is read (not when the launcher
      // attached already).
      const ring = generated.maps.find((m) => m.symbol === EVENTS_MAP);
      if (!attachesProbes || launch?.handover || !ring) return;
      const bytes = eventsRingBytes(env.ringPages ?? program.settings.ringPages, native().possibleCpus()) ?? ring.maxEntries;
      if (bytes >= PREMADE_RING_MIN_BYTES) premadeRing = native().ringBufferInBackground(EVENTS_MAP, bytes);
    },
    cache: objectCache,
    afterParse: (script) => {
      if (opts.d) writeAll(1, debugSection('AST after: parser', printAst(script)));
      stopped = beforeCheck(script, kernel, opts);
      return stopped === undefined;
    },
  });
  if (stopped !== undefined) return stopped;
  if (!result.ast) {
    stderr(renderDiagnostics(result.diagnostics, source));
    return ExitCode.programError;
  }
  const script = result.ast;
  const diagnostics = result.diagnostics.filter((d) => opts.warnings || d.severity === 'error');
  if (diagnostics.length > 0) stderr(renderDiagnostics(diagnostics, source));
  if (!result.program || !result.generated) return ExitCode.programError;
  const typed = result.program;
  const { ir } = result.generated;

  if (opts.d) {
    // As bpftrace -d/-dd: a dry run that shows each stage (-d: the IR after optimisation only).
    const { types } = result.program;
    writeAll(1, debugSection('AST after: type check', printAst(script, (node) => {
      const t = types.get(node as Expr);
      return t && typeName(t);
    })));
    if (opts.d > 1) writeAll(1, `\nBefore optimization\n-------------------\n\n${ir}\nAfter optimization\n------------------\n\n`);
    writeAll(1, native().optimizeIR(ir));
    return ExitCode.ok;
  }

  if (opts.explain) {
    if (!result.object) {
      stderr(`tracelet: --explain: ${result.backendError}\n`);
      return ExitCode.programError;
    }
    const input = explainInput(result.object, result.generated, typed, source);
    writeAll(1, opts.explain === 'ir' ? explainIr(native().optimizeIR(ir), input) : explain(input));
    return ExitCode.ok;
  }

  if (opts.emitLlvm === true || opts.emitElf) {
    if (opts.emitLlvm === true) writeAll(1, ir);
    if (opts.emitElf) {
      try {
        if (!result.object) throw new Error(result.backendError);
        writeFileSync(opts.emitElf, result.object);
      } catch (e) {
        stderr(`tracelet: --emit-elf ${opts.emitElf}: ${(e as Error).message}\n`);
        return ExitCode.runtimeError;
      }
    }
    return ExitCode.ok;
  }
  // --emit-llvm FILE keeps the IR even if LLVM or the kernel refuses it.
  if (typeof opts.emitLlvm === 'string') writeIrFiles(opts.emitLlvm, ir);
  const compiled = loadable(result);
  if (!compiled) {
    // Unless it was said above, as an error at the probe (E_BPF_STACK).
    if (!hasErrors(result.diagnostics)) stderr(`tracelet: could not load the program: ${result.backendError}\n`);
    return ExitCode.programError;
  }
  // LLVM's code (~16 MiB) is given back at once, else the load and the run stack on top of it:
  // a cold run of the profile one-liner peaks at ~57 MiB, not ~62.
  if (result.cache?.hit !== true) releaseCleanPages();

  // -f pprof: the profile goes to -o FILE, the rest of the output (as text) to standard output.
  const pprofFile = opts.format === 'pprof' ? opts.output : undefined;
  if (opts.format === 'pprof' && !pprofFile) {
    stderr('tracelet: -f pprof writes a binary profile: give its file with -o FILE\n');
    return ExitCode.usage;
  }
  if (opts.metrics !== undefined && !parseListenAddress(opts.metrics)) {
    stderr(`tracelet: --metrics ${opts.metrics}: expected [HOST:]PORT, e.g. 9100 or 127.0.0.1:9100\n`);
    return ExitCode.usage;
  }
  if (pprofFile && ![...result.program.maps.values()].some(inProfile)) {
    stderr('tracelet: -f pprof: the program has no map keyed by kstack or ustack, so the profile will be empty\n');
  }
  let outFd = 1;
  if (opts.output && !pprofFile) {
    try {
      outFd = openSync(opts.output, 'w');
    } catch (e) {
      stderr(`tracelet: cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code}\n`);
      return ExitCode.usage;
    }
  }
  const unrun = testsWithoutMode(typed, opts);
  if (unrun) {
    stderr(`tracelet: ${unrun}\n`);
    return ExitCode.programError;
  }
  const late = unavailableAfterCheck(result.program, kernel);
  if (late) {
    return refused(late);
  }

  // -c: the child is created now (the run writes its pid for cpid) but held until every probe is attached.
  let child: HeldChild | undefined;
  if (command && !opts.dryRun && !opts.test && !opts.bench) {
    try {
      child = spawnHeld(command, callerStackKib, signalNumbers(callerIgnored));
    } catch (e) {
      stderr(`tracelet: cannot run '${opts.c}': ${(e as Error).message}\n`);
      return ExitCode.runtimeError;
    }
  }
  const formatter = createFormatter(opts.format === 'pprof' ? 'text' : opts.format, stderr);
  const flamegraph = opts.flamegraph === undefined ? undefined : flamegraphSink(
    { file: opts.flamegraph, map: opts.flamegraphMap, title: opts.flamegraphTitle, units: opts.flamegraphUnits },
    result.program, script, source.name, { say: (text) => { if (!opts.q) stderr(text); }, fail: stderr },
  );
  if (flamegraph && 'error' in flamegraph) {
    child?.kill();
    stderr(`tracelet: ${flamegraph.error}\n`);
    return ExitCode.usage;
  }
  let metrics: MetricsServer | undefined;
  const startNanos = BigInt(Date.now()) * 1_000_000n;
  // -B full: block-buffered output (written in 64 KiB blocks and at the end); none/line: as it comes.
  let pending = '';
  // Nobody reads the output any more (`| head`): end the run cleanly, as after exit().
  // Text goes through writeAll (long text is encoded a piece at a time), bytes as they are.
  const stopUnread = (written: boolean) => {
    if (!written) setImmediate(() => run.stop('exit'));
  };
  const output = (text: string) => stopUnread(writeAll(outFd, text));
  const outputBytes = (bytes: Uint8Array) => stopUnread(writeAllBytes(outFd, bytes));
  const write = opts.B === 'full'
    ? (text: string) => {
      pending += text;
      if (pending.length >= 65536) { output(pending); pending = ''; }
    }
    : output;
  const flush = () => {
    if (pending) output(pending);
    pending = '';
  };
  // Loaded and attached by the launcher (a prepared run), not by this run.
  let adopted = false;
  const run: Run = new Run(compiled, kernel, { source, pid, child }, {
    formatter,
    write,
    writeBytes: (bytes) => {
      flush();
      outputBytes(bytes);
    },
    ...(flamegraph ? { exitMapSink: flamegraph } : {}),
    ...(outFd !== 1 ? { writeExitSeparator: (text: string) => writeAll(1, text) } : {}),
    warn: (message) => {
      if (opts.warnings) stderr(`WARNING: ${message}\n`);
    },
    warnings: opts.warnings,
    diagnostic: (d) => {
      if (opts.warnings) stderr(renderDiagnostic(d, source));
    },
    error: (message) => stderr(`ERROR: ${message}\n`),
    catBytesMax: env.catBytesMax,
    ringPages: env.ringPages,
    cppDemangle: env.cppDemangle,
    userSymbols: env.userSymbols,
    printMapsOnExit: env.printMapsOnExit,
    shellPrefix: shellStackPrefix(callerStackKib) + shellIgnorePrefix(callerIgnored),
    ...(premadeRing ? { premadeRing } : {}),
    // The signal benchmarks and tests wait for (the same variable bpftrace honours), given once
    // BEGIN has run and the probes record, so whatever a test does next is seen.
    onRunning: () => {
      if (process.env.__BPFTRACE_NOTIFY_PROBES_ATTACHED && announced === undefined) stderr('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n');
      // What Node's start, the compile, the load and the attach left resident (~33 MiB after a
      // cached compile, ~13 after LLVM's pages went) would stay for the whole run: given back
      // (~2 ms) once the run has gone on for a moment, not on the way to attached, and not by a
      // run that ends at once (exit() in BEGIN).
      setTimeout(releaseCleanPages, RELEASE_WHEN_RUNNING_MS).unref();
    },
    helperErrors: opts.k,
    verifierLogs: opts.v,
    ...(opts.cache ? { symbolCacheDir: cacheDir() } : {}),
    ...(pprofFile ? { printAtExit: (spec: MapSpec) => !inProfile(spec) } : {}),
    onBusy: () => {
      if (optimizingCompilerOn()) timings?.note('optimizing compiler on');
    },
    beforeClose: () => {
      metrics?.close();
      const failed = pprofFile && writeProfile(pprofFile, typed, session, startNanos);
      if (failed) stderr(`tracelet: -f pprof: ${failed}\n`);
    },
    phase,
  });

  const { session } = run;
  const { generated } = result;
  const explainAt = (name: string, line: number, column: number): string =>
    explainStatement(explainInput(compiled.object, generated, typed, source), name, line, column);
  // A prepared run: what this run would leave for the launcher, and whether it already did.
  const attachedText = opts.q ? '' : formatter.attachedProbes(session.probeCount);
  const canPrepare = launch !== undefined && preparable(opts, source, sourceFile, diagnostics.length > 0);
  // Encoded (~1.7 ms) when it is needed: now only to compare with what a launcher attached, else
  // once the run is over, to store.
  let prepared: { entry?: Buffer } | undefined;
  const preparedEntry = (): Buffer | undefined =>
    (prepared ??= { entry: canPrepare ? preparedBytes(launch!, session, compiled.object, sourceFile, attachedText) : undefined }).entry;
  const handover = launch?.handover;
  /** What the launcher printed once it had attached, if it did. */
  let announced: string | undefined;
  if (handover) {
    let attachedNs: bigint | undefined;
    let handed: Buffer;
    try {
      handed = handedEntry(handover);
      attachedNs = awaitAttached(handover);
    } catch {
      // Killed before it could make this process die with it (prepared.c): the run is over.
      stderr('tracelet: the launcher has gone: the run ends\n');
      return ExitCode.runtimeError;
    }
    if (attachedNs !== undefined) {
      announced = announcedText(handed);
      timings?.launcher(handover.loadedNs, attachedNs);
    }
    const entry = attachedNs !== undefined ? preparedEntry() : undefined;
    adopted = entry !== undefined && handed.equals(entry);
    if (adopted) {
      session.adopt(handover);
      phase?.('adopt');
    } else {
      // Not this run's prepared run (stale: something the launcher's key does not cover changed):
      // the launcher detaches, and the run loads and attaches afresh.
      releaseHandover(handover);
    }
  }
  const loadFailure = adopted ? undefined : run.load(explainAt);
  if (loadFailure) {
    stderr(loadFailure.runtime ? `tracelet: ${loadFailure.message}\n` : loadFailure.message);
    return loadFailure.runtime ? ExitCode.runtimeError : ExitCode.programError;
  }
  if (opts.dryRun) {
    session.close();
    return ExitCode.ok;
  }
  if (opts.test || opts.bench) {
    try {
      const passed = session.runTests(opts.test ? 'test' : 'bench', opts.format === 'text' && isatty(outFd));
      return passed ? ExitCode.ok : ExitCode.programError;
    } catch (e) {
      stderr(`tracelet: ${(e as Error).message}\n`);
      return ExitCode.runtimeError;
    } finally {
      flush();
    }
  }

  // Signals are caught from here on, so a Ctrl-C during attach still cleans up and prints.
  const onInt = () => run.stop('SIGINT');
  const onTerm = () => run.stop('SIGTERM');
  const onUsr1 = () => session.signalled();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGUSR1', onUsr1);
  handOverStopSignals((signal) => (signal === 'SIGINT' ? onInt() : onTerm()));
  if (!signalReady(handover)) {
    session.close();
    stderr('tracelet: the launcher has gone: the run ends\n');
    return ExitCode.runtimeError;
  }
  // A run the launcher attached has said so already (it printed what this run printed last time).
  if (!adopted) {
    if (attachedText && attachedText !== announced) write(attachedText);
    if (opts.v) describePrograms(session, script, write, result.cache);
    const attachFailure = run.attach();
    if (attachFailure) {
      stderr(`tracelet: ${attachFailure.message}\n`);
      return ExitCode.runtimeError;
    }
    const symbols = opts.v ? session.kernelSymbolSource() : undefined;
    if (symbols) stderr(`INFO: ${symbols}\n`);
  }
  if (opts.metrics !== undefined) {
    const started = await startMetrics(opts.metrics, typed, session, {
      sourceName: source.name,
      warn: (message) => opts.warnings && stderr(`WARNING: ${message}\n`),
    });
    if (typeof started === 'string') {
      child?.kill();
      session.close();
      stderr(`tracelet: ${started}\n`);
      return ExitCode.runtimeError;
    }
    metrics = started;
    stderr(`Serving metrics on port ${started.port} (/metrics)\n`);
  }

  let end: RunEnd;
  try {
    end = await run.run();
  } catch (e) {
    session.close();
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGUSR1', onUsr1);
    flush();
  }
  const { reason, execErrno } = end;
  // Stored for the next run once this one is over: written while it ran, its files' opens and
  // writes were events of the user's own syscall probes.
  const entry = !adopted && reason !== 'error' ? preparedEntry() : undefined;
  if (entry) storePreparedRun(launch!.entry, entry);
  // Found and executable when checked, yet execve refused it (e.g. ENOEXEC): the run failed.
  if (execErrno !== undefined && command) {
    stderr(`tracelet: cannot run '${command.path}': ${native().strerror(execErrno)}\n`);
    return ExitCode.runtimeError;
  }
  // exit(code): its low 8 bits, as a process's exit status.
  if (reason === 'exit' && session.exitCode !== undefined) return Number(BigInt.asUintN(8, session.exitCode));
  // A stop by SIGINT or SIGTERM is a clean end, as with bpftrace: `timeout -s INT 10 tracelet ...`.
  return reason === 'error' ? ExitCode.runtimeError : ExitCode.ok;
}

/**
 * Whether the launcher could carry out this run next time (with Session.preparedSteps()): a run
 * of a program from -e or a file of its own (no imports or includes), with the compile cache,
 * whose output before attaching is `Attaching N probes...` on standard output alone, and with
 * none of the options whose work happens before attaching (-c, -p, -v, --metrics, -o, pprof, ...).
 */
function preparable(opts: Options, source: SourceFile, file: { path: string } | undefined, diagnosed: boolean): boolean {
  const fromFile = opts.e === undefined;
  return opts.cache && (!fromFile || file !== undefined) && !diagnosed && !opts.dryRun && !opts.test && !opts.bench
    && !opts.v && opts.c === undefined && opts.p === undefined && opts.metrics === undefined && opts.flamegraph === undefined
    && opts.output === undefined && opts.format !== 'pprof' && opts.B !== 'full' && opts.I.length === 0 && opts.include.length === 0
    && opts.probeFilter === undefined && !/^\s*(#\s*include|import)\b/m.test(source.text);
}

/** The bytes of this run's prepared run, or undefined if its probes are not all ones the launcher attaches. */
function preparedBytes(launch: Launch, session: Session, object: Buffer, file: { path: string; identity: string } | undefined, attachedText: string): Buffer | undefined {
  const steps = session.preparedSteps();
  return steps && encodePreparedRun({ key: launch.key, files: file ? [file] : [], object, steps, attachedText });
}

/** What --explain reads: the object a run loads, with its script maps named back from their symbols. */
function explainInput(object: Buffer, generated: CodegenResult, program: TypedProgram, source: SourceFile): ExplainInput {
  const mapNames = new Map([...generated.mapSymbols].map(([name, symbol]) => [symbol, name]));
  return { elf: object, source, program, programs: generated.programs, mapNames };
}

function needsRoot(): number {
  stderr(`tracelet: ${NEEDS_ROOT}\n`);
  return ExitCode.runtimeError;
}

/**
 * The checks between parsing and the type check (undefined: go on; else the exit code): root,
 * probe types this kernel lacks, tracefs mounted. Before them nothing asks the kernel anything:
 * else a missing permission shows up as an unknown tracepoint.
 */
/** A probe type this kernel cannot run, said in one sentence: exit 1 as a wrong program, else 255 (as bpftrace). */
function refused(refusal: Refusal): number {
  stderr(`tracelet: ${refusal.message}\n`);
  return refusal.program ? ExitCode.programError : ExitCode.runtimeError;
}

function beforeCheck(script: Program, kernel: SystemKernel, opts: Options): number | undefined {
  // --emit-llvm, --emit-elf and --explain work without root.
  if (!opts.emitLlvm && !opts.emitElf && !opts.explain && !canLoadBpf()) return needsRoot();
  // Probe types this kernel lacks are refused in one sentence before anything else (exit 1 or 255, as bpftrace).
  const { refusal, notice } = checkParsed(script, kernel, opts.emitLlvm !== true && !opts.emitElf && !opts.explain && !opts.d);
  if (refusal) return refused(refusal);
  if (notice) stderr(`${notice}\n`);
  return undefined;
}

/**
 * What is wrong with running these probes in this mode, if anything: test: and bench: probes run
 * only with --test/--bench (and are ignored otherwise, as bpftrace); those modes need some.
 */
function testsWithoutMode(program: TypedProgram, opts: Options): string | undefined {
  const providers = new Set(probeTypes(program));
  for (const kind of ['test', 'bench'] as const) {
    if (opts[kind] && !providers.has(kind)) return `--${kind}: the program has no ${kind}: probes to run`;
  }
  if (opts.test || opts.bench || [...providers].some((p) => p !== 'test' && p !== 'bench')) return undefined;
  const kind = providers.has('test') ? 'test' : 'bench';
  return `no probes to attach: ${kind}: probes run only with --${kind} (tracelet --${kind} ...)`;
}

/** A -d section as bpftrace prints one: a blank line, the title, a rule, the text and a blank line. */
function debugSection(title: string, text: string): string {
  return `\n${title}\n-------------------\n${text}\n`;
}

/** --emit-llvm FILE: FILE.original.ll and FILE.optimized.ll, as bpftrace 0.17 writes them. */
function writeIrFiles(base: string, ir: string): void {
  try {
    writeFileSync(`${base}.original.ll`, ir);
    writeFileSync(`${base}.optimized.ll`, native().optimizeIR(ir));
  } catch (e) {
    stderr(`tracelet: --emit-llvm ${base}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  }
}

/**
 * -v, as bpftrace 0.17 prints it: the AST's node count and what each program attaches to on
 * stderr (with its size, which bpftrace leaves out, and whether LLVM ran or the object came from
 * the compile cache), each program's id and verifier log on the output.
 */
function describePrograms(session: Session, script: Program, write: (text: string) => void, cache?: CacheUse): void {
  let nodes = 0;
  walk(script, () => void nodes++);
  stderr(`INFO: node count: ${nodes}\n`);
  stderr(`INFO: ${describeCacheUse(cache)}\n`);
  for (const { program, id, instructions, verifierLog } of session.loadedPrograms()) {
    stderr(`Attaching ${program.probe.probe.attachPoints.map((a) => a.raw).join(',')} (${instructions} instructions)\n`);
    write(`\nProgram ID: ${id}\n\nThe verifier log: \n${verifierLog}\n`);
  }
}

