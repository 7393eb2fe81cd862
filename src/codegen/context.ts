// The shared context of code generation. A ModuleContext holds what every program of the module
// shares (the module and its maps, the typed program, the kernel, the options as data, the sites
// the runtime reports); a ProbeContext adds the function being written, its probe and targets,
// and the state of the body being compiled (variables, loops, the failures to count at its exit).
// The concerns (statements.ts, expressions.ts, aggregations.ts, events.ts, ...) are functions
// of a ProbeContext; the lower ones reach expressions.ts through `expr`, so no two files import
// each other.
import type { Expr } from '../model/ast.js';
import type { Span } from '../model/span.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { Type } from '../model/types.js';
import type { ProbeTarget, TypedProbe, TypedProgram } from '../model/program.js';
import { READ_SITES_MAX, type ReadSite, type SyscallEvent } from '../model/object-layout.js';
import type { FunctionBuilder, IrValue, Label, ModuleBuilder } from './ir/builder.js';
import type { ModuleMaps } from './maps.js';
import type { Val } from './values.js';
import type { SyscallDispatchMode } from './plan.js';

export interface CodegenOptions {
  /** Default `auto` (the CLI takes it from TRACELET_SYSCALL_DISPATCH). */
  readonly syscallDispatch?: SyscallDispatchMode;
  /** The script's name as diagnostics show it (`stdin` for -e), for debug line info. */
  readonly sourceName?: string;
  /** The script's text, embedded in the debug info (BTF line_info then carries its lines). */
  readonly sourceText?: string;
  /** -k: report failed helper calls (1), -kk: also failed probe_read* (2). */
  readonly helperErrors?: number;
}

/** The read sites of a module, numbered once each (a span read with one helper is one site). */
export class ReadSites {
  readonly sites: ReadSite[] = [];
  private readonly index = new Map<string, number>();

  /** The slot of the site in the read-failure map. */
  slot(span: Span, helper: ReadSite['helper']): number {
    const key = `${span.start}:${span.end}:${helper}`;
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.sites.length < READ_SITES_MAX ? this.sites.push({ span, helper }) - 1 : READ_SITES_MAX - 1;
      this.index.set(key, i);
    }
    return i;
  }
}

/** Byte offsets the syscall dispatch reads: pt_regs registers and the task's thread_info status. */
export interface SyscallLayout {
  /** di, si, dx, r10, r8, r9: the x86_64 syscall arguments in order. */
  readonly args: readonly number[];
  readonly origAx: number;
  /** task_struct → thread_info.status, which has TS_COMPAT during 32-bit syscalls. */
  readonly threadStatus: number;
}

/** A program on the raw `sys_enter` / `sys_exit` tracepoint that dispatches on the syscall number. */
interface SyscallDispatch {
  readonly event: SyscallEvent;
  readonly layout: SyscallLayout;
}

/** What failed: a read at a site (its slot in READ_FAILURES_MAP), or a counted update. */
export type Failure = { readonly read: number } | { readonly counter: number };

/** Where break/continue go: labels of a while loop, or the return of a for-loop callback. */
type LoopExit = { continueTo: Label; breakTo: Label } | 'callback';

/** What all programs of a module share. */
interface ModuleContext {
  readonly module: ModuleBuilder;
  readonly program: TypedProgram;
  readonly kernel: KernelInfo;
  readonly maps: ModuleMaps;
  readonly options: CodegenOptions;
  /** -k: the script position of each reported helper call, shared by all programs of the module. */
  readonly helperErrorSites: Span[];
  /** Where the module reads probed memory, shared by all its programs. */
  readonly readSites: ReadSites;
  /** Compiles an expression (expressions.ts): the concerns it uses call back through here. */
  readonly expr: (g: ProbeContext, e: Expr) => Val;
}

/** The function being written for a probe, and the state of the body being compiled. */
export class ProbeContext {
  readonly vars = new Map<string, { type: Type; slot: IrValue }>();
  readonly loops: LoopExit[] = [];
  /** In a for loop's callback: the context's flag a `return` sets, so the probe returns after the loop. */
  returnFlag?: IrValue;
  /** For-loop callbacks made from this function so far (they are named after it). */
  callbacks = 0;
  /**
   * What failed in this run of the body, noted without branching (a branch per read or update
   * multiplies the verifier's paths; a loop then soon exceeds its limits) and added to the counts
   * once, where the body returns. A bit (words of 64) per read site (the runs in which it failed)
   * and per map update that runs at most once a run (so its bit counts it exactly); a count on the
   * stack for each counter whose updates can repeat in a run (in a while loop or unroll).
   */
  failures?: { words: IrValue[]; bits: Failure[]; counts: Map<number, IrValue> };
  /** How many unroll bodies are being generated around the current statement. */
  unrolling = 0;
  /** Temporaries that str() and comm wrote whole and nothing else refers to: a map key may be one, in place. */
  readonly freshTemps = new Set<string>();
  /** Where the body's returns meet (to count its failures), with the value to return. */
  exit?: { label: Label; value: IrValue };
  /** The innermost statement or call being compiled: where a failed helper is reported. */
  site?: Span;
  /** In a syscall dispatch program: the syscall number and the struct pt_regs pointer (i64). */
  syscallNr?: IrValue;
  syscallRegs?: IrValue;

  constructor(
    readonly unit: ModuleContext,
    readonly fn: FunctionBuilder,
    readonly probe: TypedProbe,
    /** The attach points the code is for (in a syscall dispatch program: those of the current branch). */
    public targets: readonly ProbeTarget[],
    readonly syscall?: SyscallDispatch,
  ) {}

  get module(): ModuleBuilder {
    return this.unit.module;
  }
  get program(): TypedProgram {
    return this.unit.program;
  }
  get kernel(): KernelInfo {
    return this.unit.kernel;
  }
  get maps(): ModuleMaps {
    return this.unit.maps;
  }
  get options(): CodegenOptions {
    return this.unit.options;
  }
  get helperErrorSites(): Span[] {
    return this.unit.helperErrorSites;
  }
  get readSites(): ReadSites {
    return this.unit.readSites;
  }

  expr(e: Expr): Val {
    return this.unit.expr(this, e);
  }

  /** A context for another function of the same probe (a for-loop callback), with fresh state. */
  forFunction(fn: FunctionBuilder): ProbeContext {
    return new ProbeContext(this.unit, fn, this.probe, this.targets);
  }
}
