// The run of a compiled program, as the CLI and the Node API both drive it: the checks of the
// probe types before and after the type check, the held -c command, the Session with the pid,
// cpid and source it needs, load, attach, run and the command's end. Each edge renders what
// fails in its own words (the CLI's messages and exit codes, the API's TraceletError).
import type { Program } from '../model/ast.js';
import type { TypedProgram } from '../model/program.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { SourceFile } from '../diagnostics/render.js';
import { probeTypes, type Refusal, unavailableProbe } from '../runtime/availability.js';
import type { HeldChild } from '../runtime/command.js';
import { describeLoadError } from '../runtime/errors.js';
import { Session, type LoadableProgram, type SessionOptions, type StopReason } from '../runtime/session.js';

/**
 * Between parsing and the type check (compile()'s afterParse): a probe type this kernel lacks is
 * refused in one sentence (when `refuse`), else tracefs is mounted for tracepoints (its notice, if
 * it had to be mounted).
 */
export function checkParsed(ast: Program, kernel: KernelInfo, refuse = true): { refusal?: Refusal; notice?: string } {
  const types = probeTypes(ast);
  const refusal = refuse ? unavailableProbe(types, kernel, true) : undefined;
  if (refusal) return { refusal };
  return types.includes('tracepoint') ? { notice: kernel.ensureTracefs().notice } : {};
}

/** After the type check, before loading: a probe type this kernel lacks that is known only now (kfunc, checked against BTF first). */
export function unavailableAfterCheck(program: TypedProgram, kernel: KernelInfo): Refusal | undefined {
  return unavailableProbe(probeTypes(program), kernel);
}

/**
 * Why a run could not start: with `runtime`, the Session's one-line message (the CLI's exit 2);
 * else the object was refused (the verifier): describeLoadError()'s report, rendered, with its newline.
 */
export interface RunFailure {
  readonly runtime: boolean;
  readonly message: string;
}

/** How a run ended; `execErrno`: the -c command's exec failed with it. */
export interface RunEnd {
  readonly reason: StopReason;
  readonly execErrno?: number;
}

/** What a run's Session is given beyond the edge's own options. */
export interface RunTarget {
  readonly source: SourceFile;
  /** -p: the process whose uprobes are attached and whose end ends the run. */
  readonly pid?: number;
  /** -c: the command, held (spawnHeld()) so cpid is known before it runs; the run releases it once attached and ends it after. */
  readonly child?: HeldChild;
}

/** A run of a compiled program: its Session, wired to -p or -c and the source, driven step by step. */
export class Run {
  readonly session: Session;
  private readonly source: SourceFile;
  private readonly child?: HeldChild;

  constructor(
    compiled: LoadableProgram, kernel: KernelInfo, { source, pid, child }: RunTarget,
    options: Omit<SessionOptions, 'sourceName' | 'sourceText' | 'pid' | 'cpid' | 'watchPid'>,
  ) {
    this.source = source;
    this.child = child;
    this.session = new Session(compiled, kernel, {
      ...options,
      sourceName: source.name,
      sourceText: source.text,
      // -c's command is not a filter, as in bpftrace: its children run the uprobed code too
      // (`-c 'make'`); a program that wants the command alone says `/pid == cpid/`.
      pid,
      cpid: child?.pid,
      watchPid: pid ?? child?.pid,
    });
  }

  /** Loads the object into the kernel; on failure, ends the command and says why. */
  load(explainAt?: (program: string, line: number, column: number) => string): RunFailure | undefined {
    try {
      this.session.load();
      return undefined;
    } catch (e) {
      this.child?.kill();
      const err = e as Error;
      if (err.name === 'RuntimeError') return { runtime: true, message: err.message };
      return { runtime: false, message: describeLoadError(err, this.session, this.source, explainAt) };
    }
  }

  /** Runs BEGIN and attaches every probe; on failure (the Session has cleaned up), ends the command and says why. */
  attach(): RunFailure | undefined {
    try {
      this.child?.waitHeld();
      this.session.attach();
      return undefined;
    } catch (e) {
      this.child?.kill();
      return { runtime: true, message: (e as Error).message };
    }
  }

  /** Runs until the end (exit(), stop(), -p's or -c's process ending), the command released once running. */
  async run(): Promise<RunEnd> {
    let execErrno: number | undefined;
    let reason: StopReason;
    try {
      const running = this.session.run();
      // The child ends the trace; it runs only now that every probe is attached and BEGIN ran.
      this.child?.release();
      reason = await running;
    } finally {
      execErrno = this.child?.kill();
    }
    return { reason, execErrno };
  }

  stop(reason: StopReason): void {
    this.session.stop(reason);
  }
}
