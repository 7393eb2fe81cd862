// What the checks of functions and positional parameters need of the checker, as an interface:
// check.ts calls them with its Checker, and they need not import check.ts back.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { Call, Expr, MapRef, Variable } from '../model/ast.js';
import type { Span } from '../model/span.js';
import type { EventKind, LhistParams, MapKind, ProbeTarget, TseriesParams } from '../model/program.js';
import type { StackMode, Type } from '../model/types.js';
import type { MissingProbes } from '../model/config.js';

export interface CheckOptions {
  /** BPFTRACE_STRLEN: the size of strings read with str(). */
  readonly stringLength?: number;
  /** BPFTRACE_MAP_KEYS_MAX */
  readonly mapKeysMax?: number;
  /** stack_mode: the mode of kstack/ustack without one (bpftrace when absent). */
  readonly stackMode?: StackMode;
  readonly params?: readonly string[];
  /** -p PID / the -c child: uprobe and usdt targets are resolved in this process. */
  readonly pid?: number;
  /** C++ demangler (the native addon's), for uprobe names. */
  readonly demangle?: (name: string) => string;
  /** false (BPFTRACE_NO_CPP_DEMANGLE=1): a C++ uprobe's `func` prints mangled (the script's cpp_demangle otherwise decides). */
  readonly cppDemangle?: boolean;
  /** --unsafe: allow system(), signal() and override(). */
  readonly unsafe?: boolean;
  /** -k: failed helper calls are reported (1), -kk: also failed probe_read* (2). */
  readonly helperErrors?: number;
  /** max_probes: a program attaching more probes than this is an error. */
  readonly maxProbes?: number;
  /** false: the run has no -c command, so `cpid` is an error (unless the program asks has_cpid). */
  readonly childCommand?: boolean;
  /** The file the -c command runs (see ExpandOptions). */
  readonly childProgram?: string;
  /** BPFTRACE_MISSING_PROBES (the script's missing_probes otherwise decides). */
  readonly missingProbes?: MissingProbes;
}

/** What an event's record holds besides its kind (see EventSpec). */
export interface EventDetails {
  readonly format?: string;
  readonly map?: string;
  readonly top?: number;
  readonly div?: number;
  readonly separator?: string;
  readonly fieldTypes: readonly Type[];
}

/** The constant parameters of an aggregation: lhist()'s bounds, tseries()'s intervals. */
export interface AggregationParams {
  readonly lhist?: LhistParams;
  readonly tseries?: TseriesParams;
}

export interface CheckContext {
  readonly kernel: KernelInfo;
  readonly options: CheckOptions;
  /** The size of strings read with str(). */
  readonly stringLength: number;
  /** The mode of kstack/ustack without one (stack_mode). */
  readonly stackMode: StackMode;
  /** The expanded attach points of the probe being checked. */
  readonly targets: readonly ProbeTarget[];
  /** Values computed at compile time (see TypedProgram.constants). */
  readonly constants: Map<Expr, bigint | Uint8Array>;
  report(d: Diagnostic): void;
  /** Folds a constant integer expression, or undefined. */
  constant(e: Expr): bigint | undefined;
  /** Folds a condition: constant() and comparisons and logic over it (`$1 < 2`), or undefined. */
  conditionConstant(e: Expr): bigint | undefined;
  /** Checks an expression and records its type. */
  expr(e: Expr): Type;
  /** Lays out the event a call sends and records it as the call's. */
  addEvent(at: Expr, kind: EventKind, d: EventDetails): void;
  /** Whether the code being checked is in a branch a constant condition never takes (fail() there is not reached). */
  readonly unreachable: boolean;
  /** Whether the code being checked is a for loop's body (a callback, without the probe's context). */
  readonly inForLoop: boolean;
  /** A pass that learns map types and reports nothing. */
  readonly collecting: boolean;
  /** How many errors are reported so far. */
  errorCount(): number;
  /** Reports a call whose argument count is outside min..max; whether it is within. */
  checkArity(call: Call, min: number, max: number, hint?: string): boolean;
  /** Records an assignment of a value of `kind` to a map (its keys are checked against its other uses). */
  mapAssign(m: MapRef, kind: MapKind, valueType: Type, span: Span, params?: AggregationParams): void;
  /** `$v` given a value of type `t` other than by `=` (as find() gives it the map's value). */
  assignVariable(v: Variable, t: Type): void;
  /** Reads `@m[k]` (its keys unified with the map's); the map, if it is known. */
  readMap(m: MapRef): object | undefined;
  /** A map by name as reads see it, if it is known. */
  mapInfo(name: string): object | undefined;
  /** Reports a whole-map use (print(@m), clear(@m)) of a map this pass has not assigned; `hint`: with a near name. */
  requireAssigned(target: MapRef, hint?: boolean): void;
}
