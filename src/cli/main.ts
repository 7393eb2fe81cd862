// The tracelet command: options → a run of the library API, output to stdout (or -o FILE),
// diagnostics to stderr, and a documented exit code. It only parses options and prints.
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { parse } from '../parser/index.js';
import type { Expr, Include, Program } from '../model/ast.js';
import { renderDiagnostic, renderDiagnostics, type SourceFile } from '../diagnostics/render.js';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { typecheck } from '../typecheck/check.js';
import { generate, stackMapKeys, type CodegenOptions, type GeneratedProgram, type MapFds, type SyscallDispatchMode, type SyscallEvent } from '../codegen/codegen.js';
import { explain, explainStatement } from '../explain/explain.js';
import { explainIr } from '../explain/ir.js';
import { SystemKernel } from '../kernel/index.js';
import { createFormatter } from '../runtime/output/index.js';
import { Session, type StopReason } from '../runtime/session.js';
import { describeLoadError } from '../runtime/errors.js';
import { ExitCode, exitCodesHelp } from './exit-codes.js';
import { resolveCommand, type ResolvedCommand } from './command.js';
import { VERSION } from './version.js';
import { completionScript, describeOptions } from './completion.js';
import { shellStackPrefix, takeCallerStackLimit } from './stack-limit.js';
import { canLoadBpf, NEEDS_ROOT } from './privileges.js';
import { listProbes } from './list.js';
import { unavailableProbe } from '../runtime/availability.js';
import { native } from '../runtime/native.js';
import { stringBytes } from '../model/strings.js';
import { typeName } from '../model/types.js';
import type { TypedProgram } from '../model/program.js';
import { printAst } from '../parser/print.js';
import { walk } from '../model/walk.js';

/** The stack limit the commands tracelet starts get back (see stack-limit.ts). */
let callerStackKib: number | undefined;

interface Options {
  e?: string;
  format: 'text' | 'json';
  output?: string;
  emitLlvm?: boolean | string;
  d: number;
  dryRun?: boolean;
  l?: string | boolean;
  v?: boolean;
  p?: string;
  c?: string;
  unsafe?: boolean;
  k: number;
  B?: 'none' | 'line' | 'full';
  q?: boolean;
  warnings: boolean;
  I: string[];
  include: string[];
  emitElf?: string;
  completion?: 'bash' | 'zsh';
  explain?: 'bpf' | 'ir';
}

/** TRACELET_SYSCALL_DISPATCH=always|never forces how syscall tracepoints attach (README). */
function syscallDispatchFromEnv(): SyscallDispatchMode {
  const v = process.env.TRACELET_SYSCALL_DISPATCH;
  return v === 'always' || v === 'never' ? v : 'auto';
}

/** A positive integer from the environment (BPFTRACE_MAP_KEYS_MAX...), or undefined. */
function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CommanderError(2, 'tracelet.env', `Invalid value for ${name}: ${v}`);
  return n;
}

/**
 * Writes all of `text` to `fd`, retrying when a non-blocking pipe is full. Returns false when
 * the reader has gone (EPIPE, e.g. `tracelet ... | head`): the output is dropped.
 */
function writeAll(fd: number, text: string): boolean {
  let buf = stringBytes(text); // raw bytes of binary strings stay raw (see stringBytes)
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw e;
    }
  }
  return true;
}

const stderr = (text: string) => writeAll(2, text);

/** Runs the command and exits with its code (bin/tracelet.js and the start-up snapshot call this). */
export function runCli(argv: readonly string[]): void {
  // Seen as `tracelet` (not `node`) in comm, ps and top: scripts can tell the tracer's own
  // events apart as they do with bpftrace's (`/comm != "tracelet"/`).
  process.title = 'tracelet';
  callerStackKib = takeCallerStackLimit();
  main(argv).then(
    (code) => process.exit(code),
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

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('tracelet')
    .description('A bpftrace-compatible tracer: compiles a tracing program to BPF and runs it')
    .argument('[file]', 'program file (.bt); "-" reads standard input')
    .argument('[args...]', 'positional parameters $1, $2, ...')
    .option('-e <program>', 'the program to run, given on the command line')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write output to FILE instead of standard output')
    .option('--emit-llvm [file]', 'write the LLVM IR to FILE.original.ll and FILE.optimized.ll (without FILE: print it and exit)')
    .option('-d', 'debug info, without running: the AST after each stage and the IR (-dd: also before optimisation)',
      (_: string, level: number) => level + 1, 0)
    .option('--dry-run', 'compile and load the program, but do not attach it')
    .option('-l [pattern]', 'list probes (matching PATTERN, e.g. "tracepoint:sched:*")')
    .option('-v', 'verbose: program ids, sizes and verifier logs (with -l: probe arguments)')
    .option('-p <pid>', 'attach uprobes and usdt probes to this process only; end when it exits')
    .option('-c <command>', 'run COMMAND once every probe is attached (cpid is its pid); end when it exits')
    .option('--unsafe', 'allow unsafe functions: system(), signal()')
    .option('-k', 'report failed helper calls (-kk: also failed probe_read*)', (_: string, level: number) => level + 1, 0)
    .addOption(new Option('-B <mode>', 'output buffering mode').choices(['none', 'line', 'full']))
    .option('-q', 'quiet: no "Attaching N probes..." message')
    .option('--no-warnings', 'do not print warnings')
    .option('-I <dir>', 'search DIR for #included headers (repeatable)', (d: string, all: string[]) => [...all, d], [])
    .option('--include <file>', 'as if the program began with #include <FILE> (repeatable)', (f: string, all: string[]) => [...all, f], [])
    .option('--usdt-file-activation', 'accepted for bpftrace compatibility: USDT semaphores are always activated by file')
    .option('--emit-elf <file>', 'write the compiled BPF object to FILE and exit')
    .addOption(new Option('--explain [what]', 'print each statement with the BPF instructions (or, with =ir, the LLVM IR) it compiles to, the helpers and the maps, and exit').choices(['bpf', 'ir']))
    .addOption(new Option('--completion <shell>', 'print a completion script for SHELL and exit').choices(['bash', 'zsh']))
    .version(`tracelet v${VERSION}`, '-V, --version', 'print the version (as bpftrace --version does)')
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => writeAll(1, s), writeErr: stderr })
    .allowExcessArguments(true);

  try {
    // bpftrace spells -l -v as -lv: split it so -l still takes the pattern after it.
    // A bare --explain takes no value: the program file after it stays the program file.
    program.parse(argv.flatMap((a) => (a === '-lv' || a === '-vl' ? ['-v', '-l'] : a === '--explain' ? ['--explain=bpf'] : [a])), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const opts = program.opts<Options>();
  const [file, ...rest] = program.args;
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
  if (opts.p !== undefined && opts.c !== undefined) {
    stderr('tracelet: -p and -c cannot be used together\n');
    return ExitCode.usage;
  }
  // A -c command that cannot run is refused before anything is compiled or run (as bpftrace).
  let command: ResolvedCommand | undefined;
  if (opts.c !== undefined) {
    const resolved = resolveCommand(opts.c, (errno) => native().strerror(errno));
    if ('error' in resolved) {
      stderr(`tracelet: ${resolved.error}\n`);
      return ExitCode.usage;
    }
    command = resolved;
  }

  if (opts.l !== undefined) {
    if (!canLoadBpf()) return needsRoot();
    const pattern = typeof opts.l === 'string' ? opts.l : file;
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
    writeAll(1, listed.text);
    return ExitCode.ok;
  }

  let source: SourceFile;
  let params: string[];
  if (opts.e !== undefined) {
    source = { name: 'stdin', text: opts.e };
    params = program.args;
  } else if (file !== undefined) {
    try {
      // A program read from standard input is named `stdin` in messages, as with -e and bpftrace.
      source = { name: file === '-' ? 'stdin' : file, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
    } catch (e) {
      stderr(`tracelet: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return ExitCode.usage;
    }
    params = rest;
  } else {
    stderr('tracelet: no program given: use -e \'PROGRAM\' or a file (see tracelet --help)\n');
    return ExitCode.usage;
  }

  const parsed = parse(source.text, { params });
  if (hasErrors(parsed.diagnostics)) {
    stderr(renderDiagnostics(parsed.diagnostics, source));
    return ExitCode.programError;
  }
  // --include FILE: as an #include line before the program (for the header macros it brings).
  const start = parsed.program.span;
  const implicit = opts.include.map((path): Include => ({ kind: 'Include', span: { ...start, end: start.start }, path }));
  const script: Program = implicit.length ? { ...parsed.program, includes: [...implicit, ...parsed.program.includes] } : parsed.program;
  if (opts.d) writeAll(1, debugSection('AST after: parser', printAst(script)));

  // Before tracefs or the kernel is asked anything: else a missing permission shows up as an
  // unknown tracepoint. --emit-llvm, --emit-elf and --explain work without root.
  const offline = Boolean(opts.emitLlvm || opts.emitElf || opts.explain);
  if (!offline && !canLoadBpf()) return needsRoot();
  const kernel = new SystemKernel({ includeDirs: opts.I });
  // Probe types this kernel lacks are refused in one sentence before anything else (exit 3).
  const early = unavailableProbe(script.probes.flatMap((p) => p.attachPoints.map((a) => a.provider)), kernel, true);
  if (early && opts.emitLlvm !== true && !opts.emitElf && !opts.explain && !opts.d) {
    stderr(`tracelet: ${early}\n`);
    return ExitCode.runtimeError;
  }
  if (usesTracefs(script)) {
    const { notice } = kernel.ensureTracefs();
    if (notice) stderr(`${notice}\n`);
  }
  let limits: { mapKeysMax?: number; stringLength?: number; catBytesMax?: number };
  try {
    limits = {
      mapKeysMax: envInt('BPFTRACE_MAP_KEYS_MAX'),
      stringLength: envInt('BPFTRACE_STRLEN'),
      catBytesMax: envInt('BPFTRACE_CAT_BYTES_MAX'),
    };
  } catch (e) {
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.usage;
  }
  const checked = typecheck(script, kernel, {
    params, pid, demangle: demangler(), unsafe: opts.unsafe, helperErrors: opts.k, mapKeysMax: limits.mapKeysMax, stringLength: limits.stringLength,
  });
  const diagnostics: Diagnostic[] = [...parsed.diagnostics, ...checked.diagnostics]
    .filter((d) => opts.warnings || d.severity === 'error');
  if (diagnostics.length > 0) stderr(renderDiagnostics(diagnostics, source));
  if (!checked.program) return ExitCode.programError;

  const codegenOptions: CodegenOptions = {
    sourceName: source.name, sourceText: source.text, helperErrors: opts.k, syscallDispatch: syscallDispatchFromEnv(),
  };
  if (opts.d) {
    // As bpftrace -d/-dd: a dry run that shows each stage (-d: the IR after optimisation only).
    const { types } = checked.program;
    writeAll(1, debugSection('AST after: type check', printAst(script, (node) => {
      const t = types.get(node as Expr);
      return t && typeName(t);
    })));
    const ir = placeholderIr(checked.program, kernel, codegenOptions);
    if (opts.d > 1) writeAll(1, `\nBefore optimization\n-------------------\n\n${ir}\nAfter optimization\n------------------\n\n`);
    writeAll(1, native().optimizeIR(ir));
    return ExitCode.ok;
  }

  if (opts.explain) {
    const object = objectToExplain(checked.program, kernel, codegenOptions);
    const input = { ...object, source, program: checked.program };
    writeAll(1, opts.explain === 'ir' ? explainIr(native().optimizeIR(object.ir), input) : explain(input));
    return ExitCode.ok;
  }

  if (opts.emitLlvm === true || opts.emitElf) {
    const ir = placeholderIr(checked.program, kernel, codegenOptions);
    if (opts.emitLlvm === true) writeAll(1, ir);
    if (opts.emitElf) {
      try {
        writeFileSync(opts.emitElf, native().compileIR(ir));
      } catch (e) {
        stderr(`tracelet: --emit-elf ${opts.emitElf}: ${(e as Error).message}\n`);
        return ExitCode.runtimeError;
      }
    }
    return ExitCode.ok;
  }

  let outFd = 1;
  if (opts.output) {
    try {
      outFd = openSync(opts.output, 'w');
    } catch (e) {
      stderr(`tracelet: cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code}\n`);
      return ExitCode.usage;
    }
  }
  const late = unavailableProbe(checked.program.probes.flatMap((p) => p.targets.map((t) => t.provider)), kernel);
  if (late) {
    stderr(`tracelet: ${late}\n`);
    return ExitCode.runtimeError;
  }

  // -c: the child is created now (cpid is compiled in) but held until every probe is attached.
  let child: HeldChild | undefined;
  if (command && !opts.dryRun) {
    try {
      child = spawnHeld(command);
    } catch (e) {
      stderr(`tracelet: cannot run '${opts.c}': ${(e as Error).message}\n`);
      return ExitCode.usage;
    }
  }
  const formatter = createFormatter(opts.format);
  // -B full: block-buffered output (written in 64 KiB blocks and at the end); none/line: as it comes.
  let pending = '';
  // Nobody reads the output any more (`| head`): end the run cleanly, as after exit().
  const output = (text: string) => {
    if (!writeAll(outFd, text)) setImmediate(() => session.stop('exit'));
  };
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
  const session = new Session(checked.program, kernel, {
    formatter,
    write,
    ...(outFd !== 1 ? { writeExitSeparator: (text: string) => writeAll(1, text) } : {}),
    warn: (message) => {
      if (opts.warnings) stderr(`WARNING: ${message}\n`);
    },
    diagnostic: (d) => {
      if (opts.warnings) stderr(renderDiagnostic(d, source));
    },
    error: (message) => stderr(`ERROR: ${message}\n`),
    catBytesMax: limits.catBytesMax,
    shellPrefix: shellStackPrefix(callerStackKib),
    syscallDispatch: codegenOptions.syscallDispatch,
    // The signal benchmarks and tests wait for (the same variable bpftrace honours), given once
    // BEGIN has run and the probes record, so whatever a test does next is seen.
    onRunning: () => {
      if (process.env.__BPFTRACE_NOTIFY_PROBES_ATTACHED) stderr('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n');
    },
    sourceName: source.name,
    sourceText: source.text,
    helperErrors: opts.k,
    pid: pid ?? child?.pid,
    cpid: child?.pid,
    watchPid: pid ?? child?.pid,
    verifierLogs: opts.v,
    ...(typeof opts.emitLlvm === 'string' ? { onIr: (ir: string) => writeIrFiles(opts.emitLlvm as string, ir) } : {}),
  });

  try {
    session.load();
  } catch (e) {
    child?.kill();
    if ((e as Error).name === 'RuntimeError') {
      stderr(`tracelet: ${(e as Error).message}\n`);
      return ExitCode.runtimeError;
    }
    // The object that failed, compiled again from the IR the session generated (real map fds).
    const typed = checked.program;
    const explainAt = (name: string, line: number, column: number): string => explainStatement({
      elf: native().compileIR(session.ir), source, program: typed, programs: [session.programNamed(name)!], mapNames: session.mapNamesByFd(),
    }, name, line, column);
    stderr(describeLoadError(e as Error, session, source, explainAt));
    return ExitCode.programError;
  }
  if (opts.dryRun) {
    session.close();
    return ExitCode.ok;
  }

  // Signals are caught from here on, so a Ctrl-C during attach still cleans up and prints.
  const onInt = () => session.stop('SIGINT');
  const onTerm = () => session.stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (!opts.q) write(formatter.attachedProbes(session.probeCount));
  if (opts.v) describePrograms(session, script, write);
  try {
    session.attach();
  } catch (e) {
    child?.kill();
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  }

  let reason: StopReason;
  let execErrno: number | undefined;
  try {
    const running = session.run();
    if (child) {
      // The child ends the trace; it runs only now that every probe is attached and BEGIN ran.
      child.release();
    }
    reason = await running;
  } catch (e) {
    session.close();
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    execErrno = child?.kill();
    flush();
  }
  // Found and executable when checked, yet execve refused it (e.g. ENOEXEC): the run failed.
  if (execErrno !== undefined && command) {
    stderr(`tracelet: cannot run '${command.path}': ${native().strerror(execErrno)}\n`);
    return ExitCode.runtimeError;
  }
  // A stop by SIGINT or SIGTERM is a clean end, as with bpftrace: `timeout -s INT 10 tracelet ...`.
  return reason === 'error' ? ExitCode.runtimeError : ExitCode.ok;
}

function needsRoot(): number {
  stderr(`tracelet: ${NEEDS_ROOT}\n`);
  return ExitCode.runtimeError;
}

/**
 * IR with placeholder map fds (real ones exist only once maps are created): usable without root.
 * The options are those the run would use, so the code is the same but for the fds.
 */
function placeholderIr(program: TypedProgram, kernel: SystemKernel, options: CodegenOptions): string {
  return generate(program, kernel, placeholderFds(program).fds, options).ir;
}

/** Map fds that stand for maps not created yet, and the name of the map each stands for. */
function placeholderFds(program: TypedProgram): { fds: MapFds; names: Map<number, string> } {
  const fakeFds = new Map([...program.maps.keys()].map((name, i) => [name, 100 + i]));
  const fakeStacks = new Map(stackMapKeys(program).map((s, i) => [s.key, 200 + i]));
  const names = new Map<number, string>([
    ...[...fakeFds].map(([name, fd]): [number, string] => [fd, name]),
    ...[...fakeStacks].map(([key, fd]): [number, string] => [fd, `stack map ${key}`]),
    [98, 'tl_events'], [99, 'tl_counters'], [97, 'tl_readfail'], [96, 'tl_stopped'],
    [95, 'tl_sys_enter'], [94, 'tl_sys_exit'],
  ]);
  const syscallNames = (event: SyscallEvent): number => (event === 'sys_enter' ? 95 : 94);
  return { fds: { maps: fakeFds, ringbuf: 98, counters: 99, readFailures: 97, stopped: 96, stacks: fakeStacks, syscallNames }, names };
}

/**
 * The object --explain reads: today the --emit-elf path's (placeholder fds, named back), which is
 * what runs but for the fds. (Issue 12: take it from the single compile() driver instead.)
 */
function objectToExplain(program: TypedProgram, kernel: SystemKernel, options: CodegenOptions): { elf: Buffer; ir: string; programs: GeneratedProgram[]; mapNames: Map<number, string> } {
  const { fds, names } = placeholderFds(program);
  const generated = generate(program, kernel, fds, options);
  return { elf: native().compileIR(generated.ir), ir: generated.ir, programs: [...generated.programs], mapNames: names };
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
 * stderr (with its size, which bpftrace leaves out), each program's id and verifier log on the output.
 */
function describePrograms(session: Session, script: Program, write: (text: string) => void): void {
  let nodes = 0;
  walk(script, () => void nodes++);
  stderr(`INFO: node count: ${nodes}\n`);
  for (const { program, id, instructions, verifierLog } of session.loadedPrograms()) {
    stderr(`Attaching ${program.probe.probe.attachPoints.map((a) => a.raw).join(',')} (${instructions} instructions)\n`);
    write(`\nProgram ID: ${id}\n\nThe verifier log: \n${verifierLog}\n`);
  }
}

function demangler(): ((name: string) => string) | undefined {
  return (name) => {
    try {
      return native().demangle(name);
    } catch {
      return name;
    }
  };
}

interface HeldChild {
  readonly pid: number;
  /** Lets the child exec the command (its end is seen by the session, as with -p). */
  release(): void;
  /** Ends the child if it still runs and reaps it; returns the errno of its exec if that failed. */
  kill(): number | undefined;
}

/**
 * Starts `command` held before its exec, as bpftrace does: the pid (cpid) is known and probes can
 * target it before the command runs, and once released it makes one read and one close before
 * its execve. Its stdin, stdout and stderr are ours.
 */
function spawnHeld(command: ResolvedCommand): HeldChild {
  const { pid, gate, report } = native().spawnHeld(command.path, command.argv, callerStackKib);
  let gateOpen = true;
  const closeGate = () => {
    if (gateOpen) closeSync(gate);
    gateOpen = false;
  };
  let reportOpen = true;
  // Read once the child has ended: then it holds a failed exec's errno, or nothing (EOF).
  const execErrno = (): number | undefined => {
    if (!reportOpen) return undefined;
    reportOpen = false;
    const errno = Buffer.alloc(4);
    try {
      return readSync(report, errno) === errno.length ? errno.readInt32LE(0) : undefined;
    } finally {
      closeSync(report);
    }
  };
  return {
    pid,
    release: () => {
      writeSync(gate, '\n');
      closeGate();
    },
    kill: () => {
      closeGate(); // a child still held sees EOF and exits
      // It is this process's own child, not one Node spawned: reap it here (a zombie until then).
      if (native().childStatus(pid) === undefined) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch { /* already gone */ }
        native().childStatus(pid);
      }
      return execErrno();
    },
  };
}

function usesTracefs(program: Program): boolean {
  return program.probes.some((p) => p.attachPoints.some((a) => a.provider === 'tracepoint'));
}
