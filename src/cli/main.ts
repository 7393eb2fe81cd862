// The tracelet command: options → a run of the library API, output to stdout (or -o FILE),
// diagnostics to stderr, and a documented exit code. It only parses options and prints.
import { readFileSync, openSync, writeSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { parse } from '../parser/index.js';
import type { Program } from '../parser/ast.js';
import { renderDiagnostics, type SourceFile } from '../diagnostics/render.js';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { typecheck } from '../typecheck/check.js';
import { generate } from '../codegen/codegen.js';
import { SystemKernel } from '../kernel/index.js';
import { createFormatter } from '../runtime/output/index.js';
import { Session, type StopReason } from '../runtime/session.js';
import { describeLoadError } from '../runtime/errors.js';
import { ExitCode } from './exit-codes.js';
import { canLoadBpf } from './privileges.js';

interface Options {
  e?: string;
  format: 'text' | 'json';
  output?: string;
  emitLlvm?: boolean;
  dryRun?: boolean;
}

/** Writes all of `text` to `fd`, retrying when a non-blocking pipe is full. */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

const stderr = (text: string) => writeAll(2, text);

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
    .exitOverride()
    .configureOutput({ writeOut: (s) => writeAll(1, s), writeErr: stderr })
    .allowExcessArguments(true);

  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const opts = program.opts<Options>();
  const [file, ...rest] = program.args;

  let source: SourceFile;
  let params: string[];
  if (opts.e !== undefined) {
    source = { name: 'stdin', text: opts.e };
    params = program.args;
  } else if (file !== undefined) {
    try {
      source = { name: file, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
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

  const kernel = new SystemKernel();
  if (usesTracefs(parsed.program)) {
    const { notice } = kernel.ensureTracefs();
    if (notice) stderr(`${notice}\n`);
  }
  const checked = typecheck(parsed.program, kernel, { params });
  const diagnostics: Diagnostic[] = [...parsed.diagnostics, ...checked.diagnostics];
  if (diagnostics.length > 0) stderr(renderDiagnostics(diagnostics, source));
  if (!checked.program) return ExitCode.programError;

  if (opts.emitLlvm) {
    // Map fds are only known once maps exist; placeholders keep --emit-llvm usable without root.
    const fakeFds = new Map([...checked.program.maps.keys()].map((name, i) => [name, 100 + i]));
    writeAll(1, generate(checked.program, kernel, { maps: fakeFds, ringbuf: 98, counters: 99 }, { params }).ir);
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
  const formatter = createFormatter(opts.format);
  const session = new Session(checked.program, kernel, {
    formatter,
    write: (text) => writeAll(outFd, text),
    warn: (message) => stderr(`WARNING: ${message}\n`),
    // The signal benchmarks and tests wait for (the same variable bpftrace honours), given once
    // BEGIN has run and the probes record, so whatever a test does next is seen.
    onRunning: () => {
      if (process.env.__BPFTRACE_NOTIFY_PROBES_ATTACHED) stderr('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n');
    },
    params,
    sourceName: source.name,
  });

  try {
    session.load();
  } catch (e) {
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
  writeAll(outFd, formatter.attachedProbes(session.probeCount));
  try {
    session.attach();
  } catch (e) {
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  }

  let reason: StopReason;
  try {
    reason = await session.run();
  } catch (e) {
    session.close();
    stderr(`tracelet: ${(e as Error).message}\n`);
    return ExitCode.runtimeError;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  return reason === 'SIGINT' ? ExitCode.interrupted
    : reason === 'SIGTERM' ? ExitCode.terminated
    : reason === 'error' ? ExitCode.runtimeError
    : ExitCode.ok;
}

function usesTracefs(program: Program): boolean {
  return program.probes.some((p) => p.attachPoints.some((a) => a.provider === 'tracepoint'));
}
