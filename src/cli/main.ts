// The tracelet command: options → a run of the library API, output to stdout (or -o FILE),
// diagnostics to stderr, and a documented exit code. It only parses options and prints.
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { parse } from '../parser/index.js';
import type { Include, Program } from '../parser/ast.js';
import { renderDiagnostics, type SourceFile } from '../diagnostics/render.js';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { typecheck } from '../typecheck/check.js';
import { generate, stackMapKeys } from '../codegen/codegen.js';
import { SystemKernel } from '../kernel/index.js';
import { createFormatter } from '../runtime/output/index.js';
import { Session, type StopReason } from '../runtime/session.js';
import { describeLoadError } from '../runtime/errors.js';
import { ExitCode } from './exit-codes.js';
import { VERSION } from './version.js';
import { canLoadBpf } from './privileges.js';
import { listProbes } from './list.js';
import { unavailableProbe } from '../runtime/availability.js';
import { native } from '../runtime/native.js';
import { stringBytes } from '../typecheck/types.js';

interface Options {
  e?: string;
  format: 'text' | 'json';
  output?: string;
  emitLlvm?: boolean;
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
    .option('--emit-llvm', 'print the generated LLVM IR and exit')
    .option('--dry-run', 'compile and load the program, but do not attach it')
    .option('-l [pattern]', 'list probes (matching PATTERN, e.g. "tracepoint:sched:*")')
    .option('-v', 'verbose: with -l, show probe arguments')
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
    .version(`tracelet v${VERSION}`, '-V, --version', 'print the version (as bpftrace --version does)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => writeAll(1, s), writeErr: stderr })
    .allowExcessArguments(true);

  try {
    // bpftrace spells -l -v as -lv: split it so -l still takes the pattern after it.
    program.parse(argv.flatMap((a) => (a === '-lv' || a === '-vl' ? ['-v', '-l'] : [a])), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const opts = program.opts<Options>();
  const [file, ...rest] = program.args;

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

  if (opts.l !== undefined) {
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

  const kernel = new SystemKernel({ includeDirs: opts.I });
  // Probe types this kernel lacks are refused in one sentence before anything else (exit 3).
  const early = unavailableProbe(script.probes.flatMap((p) => p.attachPoints.map((a) => a.provider)), kernel, true);
  if (early && !opts.emitLlvm && !opts.emitElf) {
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

  if (opts.emitLlvm || opts.emitElf) {
    // Map fds are only known once maps exist; placeholders keep these usable without root.
    const fakeFds = new Map([...checked.program.maps.keys()].map((name, i) => [name, 100 + i]));
    const fakeStacks = new Map(stackMapKeys(checked.program).map((s, i) => [s.key, 200 + i]));
    const { ir } = generate(checked.program, kernel, { maps: fakeFds, ringbuf: 98, counters: 99, stacks: fakeStacks }, { params });
    if (opts.emitLlvm) writeAll(1, ir);
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

  if (!canLoadBpf()) {
    stderr('tracelet: loading BPF programs needs root (or the CAP_BPF and CAP_PERFMON capabilities); try: sudo tracelet ...\n');
    return ExitCode.runtimeError;
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
  if (opts.c !== undefined && !opts.dryRun) {
    try {
      child = spawnHeld(opts.c);
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
    error: (message) => stderr(`ERROR: ${message}\n`),
    catBytesMax: limits.catBytesMax,
    // The signal benchmarks and tests wait for (the same variable bpftrace honours), given once
    // BEGIN has run and the probes record, so whatever a test does next is seen.
    onRunning: () => {
      if (process.env.__BPFTRACE_NOTIFY_PROBES_ATTACHED) stderr('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n');
    },
    params,
    sourceName: source.name,
    sourceText: source.text,
    helperErrors: opts.k,
    pid: pid ?? child?.pid,
    cpid: child?.pid,
    watchPid: pid ?? child?.pid,
  });

  try {
    session.load();
  } catch (e) {
    child?.kill();
    if ((e as Error).name === 'RuntimeError') {
      stderr(`tracelet: ${(e as Error).message}\n`);
      return ExitCode.runtimeError;
    }
    stderr(describeLoadError(e as Error, session, source));
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
  try {
    session.attach();
  } catch (e) {
    child?.kill();
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  }

  let reason: StopReason;
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
    child?.kill();
    flush();
  }
  return reason === 'SIGINT' ? ExitCode.interrupted
    : reason === 'SIGTERM' ? ExitCode.terminated
    : reason === 'error' ? ExitCode.runtimeError
    : ExitCode.ok;
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
  /** Ends the child if it still runs, and reaps it. */
  kill(): void;
}

/**
 * Starts `command` (split on blanks; a name without `/` is looked up in PATH) held before its
 * exec, as bpftrace does: the pid (cpid) is known and probes can target it before the command
 * runs, and once released it makes one read and one close before its execve. Its stdin, stdout
 * and stderr are ours.
 */
function spawnHeld(command: string): HeldChild {
  const words = command.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) throw new Error('empty command');
  const { pid, gate } = native().spawnHeld(commandPath(words[0]!), words);
  let gateOpen = true;
  const closeGate = () => {
    if (gateOpen) closeSync(gate);
    gateOpen = false;
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
      if (native().childStatus(pid) !== undefined) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch { /* already gone */ }
      native().childStatus(pid);
    },
  };
}

/** The file `name` runs: itself if it has a `/`, else the first executable of that name in PATH. */
function commandPath(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = `${dir || '.'}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch { /* not here */ }
  }
  throw new Error('command not found');
}

function usesTracefs(program: Program): boolean {
  return program.probes.some((p) => p.attachPoints.some((a) => a.provider === 'tracepoint'));
}
