// The one driver: source text → parse → type check → generate → LLVM → a BPF object. The CLI
// (runs, -d, --emit-llvm, --emit-elf) and the runtime all go through it, and the object it makes
// is the one that runs: maps are declared in it (BTF `.maps`), not created beforehand, so it
// needs no kernel objects, and the same options give the same object. It asks the machine only
// through KernelInfo (attach points, types) and uses the native addon only for LLVM.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Include, Program } from '../model/ast.js';
import type { ProbeTarget, TypedProgram } from '../model/program.js';
import type { StackMode } from '../model/types.js';
import type { MissingProbes } from '../model/config.js';
import { providerRecord } from '../model/providers.js';
import { error, hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { parse } from '../parser/index.js';
import { typecheck } from '../typecheck/check.js';
import { generate, type CodegenResult, type SyscallDispatchMode } from '../codegen/codegen.js';
import { native } from '../runtime/native.js';
import type { LoadableProgram } from '../runtime/session.js';
import type { CacheUse, ObjectCache } from './cache.js';

// Codegen's types in compile()'s options and result: no folder but this one imports src/codegen.
export type { CodegenResult, SyscallDispatchMode } from '../codegen/codegen.js';

/** What to compile, as plain data (the key of a compiled object, with the kernel it is for). */
export interface CompileOptions {
  readonly source: string;
  /** The script's name in diagnostics and debug line info (`stdin` for -e, the default). */
  readonly sourceName?: string;
  /** Positional parameters $1, $2, ... */
  readonly params?: readonly string[];
  /** Named parameters (`-- --name=value`, `--flag`) read by getopt(); pairs, so options stay plain data. */
  readonly namedParams?: readonly (readonly [string, string | true])[];
  /** --include FILE: as if the program began with `#include <FILE>`. */
  readonly includes?: readonly string[];
  /** --unsafe */
  readonly unsafe?: boolean;
  /** -k (1), -kk (2) */
  readonly helperErrors?: number;
  /** When syscall tracepoints share one raw tracepoint program (default `auto`). */
  readonly syscallDispatch?: SyscallDispatchMode;
  /** -p PID: uprobe and usdt targets are resolved in this process. */
  readonly pid?: number;
  /** BPFTRACE_MAP_KEYS_MAX */
  readonly mapKeysMax?: number;
  /** BPFTRACE_STRLEN */
  readonly stringLength?: number;
  /** BPFTRACE_STACK_MODE: the mode of kstack/ustack without one. */
  readonly stackMode?: StackMode;
  /** BPFTRACE_NO_CPP_DEMANGLE=1 (false): a C++ uprobe's `func` prints mangled. */
  readonly cppDemangle?: boolean;
  /** BPFTRACE_MISSING_PROBES: what a uprobe/usdt probe missing from its file does. */
  readonly missingProbes?: MissingProbes;
  /**
   * --probe-filter REGEX (bpftrace 0.26): only the probes whose full name it matches are compiled
   * (see selectProbes()). A valid regular expression: the edges check it with probeFilterProblem().
   */
  readonly probeFilter?: string;
  /** Run LLVM to make the object (default); false stops at the IR (-d, --emit-llvm). */
  readonly object?: boolean;
  /** max_probes from the environment (the script's config block may set it too). */
  readonly maxProbes?: number;
  /** Whether the run has a -c command (false: `cpid` is an error); unknown when absent. */
  readonly childCommand?: boolean;
  /** The file the -c command runs: a uprobe/usdt without a file, or with a wildcard, is in it. */
  readonly childProgram?: string;
}

/** Points where a caller may look at a stage's output, and stop. */
export interface CompileHooks {
  /** The parsed program (with --include lines); returning false stops before the type check. */
  readonly afterParse?: (program: Program) => boolean;
  /** Called as each stage ends (parse, typecheck, codegen, llvm), for --timings. */
  readonly phase?: (name: string) => void;
  /** Where LLVM's objects are kept between runs (src/compile/cache.ts); without it LLVM always runs. */
  readonly cache?: ObjectCache;
  /** Called just before LLVM runs (not when the object comes from the cache). */
  readonly beforeLlvm?: () => void;
  /** Called once the IR is made, before LLVM runs or the cache is read: what may be started meanwhile. */
  readonly afterCodegen?: (generated: CodegenResult, program: TypedProgram) => void;
}

/**
 * A compile's output. The object depends only on the IR, so the compile cache (cache.ts) keeps it
 * and nothing else: beside it a Session needs the TypedProgram and from `generated` the programs
 * (name, type, targets), the read and helper-error sites and the map symbols (see loadable()),
 * which hold AST references and are made afresh on every compile (codegen is cheap beside LLVM).
 */
export interface CompileResult {
  /** Every diagnostic of every stage that ran, warnings included, in order. */
  readonly diagnostics: readonly Diagnostic[];
  /** The parsed program (absent after syntax errors). */
  readonly ast?: Program;
  /** The type-checked program (absent after errors). */
  readonly program?: TypedProgram;
  /** The IR and what the runtime needs to know of its programs and maps. */
  readonly generated?: CodegenResult;
  /** The BPF ELF object, as written by --emit-elf and loaded by a Session. */
  readonly object?: Buffer;
  /** LLVM's message when it could not compile the IR (e.g. more than 512 bytes of stack). */
  readonly backendError?: string;
  /** What the cache did: the object came from it (LLVM did not run), or was stored in it. */
  readonly cache?: CacheUse;
}

export function compile(options: CompileOptions, kernel: KernelInfo, hooks: CompileHooks = {}): CompileResult {
  const parsed = parse(options.source, {
    params: options.params, ...(options.namedParams ? { named: new Map(options.namedParams) } : {}),
    // A script's imports are relative to its directory; -e's to the current one.
    ...(options.sourceName && options.sourceName !== 'stdin' ? { path: options.sourceName } : {}),
  });
  hooks.phase?.('parse');
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  if (hasErrors(diagnostics)) return { diagnostics };
  const ast = withIncludes(parsed.program, options.includes ?? []);
  if (hooks.afterParse && !hooks.afterParse(ast)) return { diagnostics, ast };
  const checked = typecheck(ast, kernel, {
    params: options.params, pid: options.pid, demangle, unsafe: options.unsafe, helperErrors: options.helperErrors, childCommand: options.childCommand, childProgram: options.childProgram,
    maxProbes: options.maxProbes,
    mapKeysMax: options.mapKeysMax, stringLength: options.stringLength, stackMode: options.stackMode, cppDemangle: options.cppDemangle, missingProbes: options.missingProbes,
  });
  hooks.phase?.('typecheck');
  diagnostics.push(...checked.diagnostics);
  const program = checked.program && options.probeFilter !== undefined
    ? selectProbes(checked.program, options.probeFilter, diagnostics) : checked.program;
  if (!program) return { diagnostics, ast };
  const generated = generate(program, kernel, {
    sourceName: options.sourceName ?? 'stdin', sourceText: options.source, helperErrors: options.helperErrors, syscallDispatch: options.syscallDispatch,
  });
  hooks.phase?.('codegen');
  if (options.object === false) return { diagnostics, ast, program, generated };
  hooks.afterCodegen?.(generated, program);
  const llvm = () => {
    hooks.beforeLlvm?.();
    return native().compileIR(generated.ir);
  };
  try {
    if (!hooks.cache) {
      const object = llvm();
      hooks.phase?.('llvm');
      return { diagnostics, ast, program, generated, object };
    }
    const targets = program.probes.flatMap((p) => p.targets.flatMap((t) => (t.path ? [t.path] : [])));
    const { object, use } = hooks.cache.object({ ir: generated.ir, options, kernel: kernel.identity?.() ?? 'unknown', targets }, llvm);
    hooks.phase?.('llvm');
    return { diagnostics, ast, program, generated, object, cache: use };
  } catch (e) {
    const backendError = (e as Error).message;
    const stack = stackLimitDiagnostic(backendError, generated);
    return { diagnostics: stack ? [...diagnostics, stack] : diagnostics, ast, program, generated, backendError };
  }
}

/**
 * LLVM's refusal of a probe that needs more than BPF's 512 bytes of stack, as an error at the probe
 * (the usual cause: strings raised past bpftrace 0.17's limit of 200 bytes, each on the stack).
 */
function stackLimitDiagnostic(message: string, generated: CodegenResult): Diagnostic | undefined {
  if (!message.includes('BPF stack limit of 512 bytes is exceeded')) return undefined;
  const name = /in function (\w+)/.exec(message)?.[1];
  const probe = generated.programs.find((p) => p.name === name)?.probe.probe ?? generated.programs[0]?.probe.probe;
  if (!probe) return undefined;
  return error('E_BPF_STACK', probe.span, 'this probe needs more than the 512 bytes of stack a BPF program has',
    'each string value takes max_strlen bytes of it (64 unless BPFTRACE_STRLEN or config = { max_strlen = N } raise it; '
    + 'bpftrace 0.17 allows at most 200), and a struct kept in a $variable its size: lower max_strlen, keep fewer strings '
    + 'in this probe at once, or keep the struct in a map (@s = *p) or the fields you need');
}

/** Probes that --probe-filter leaves alone, as bpftrace does: BEGIN, END and self:signal. */
function unfiltered(t: ProbeTarget): boolean {
  const runBy = providerRecord(t.provider).runBy;
  return runBy === 'start-or-end' || runBy === 'signal';
}

/**
 * --probe-filter, as bpftrace 0.26: the program with only the targets whose full name (as `probe`
 * prints it, after wildcards are expanded: `tracepoint:syscalls:sys_enter_openat`) the regular
 * expression matches somewhere in; the others are never generated, so never loaded. BEGIN, END and
 * self:signal stay. A filter that matches none of the program's other probes is an error
 * (E_PROBE_FILTER, undefined returned), not a run of BEGIN and END alone.
 */
function selectProbes(program: TypedProgram, pattern: string, diagnostics: Diagnostic[]): TypedProgram | undefined {
  const filter = new RegExp(pattern);
  const filterable = program.probes.flatMap((p) => p.targets.filter((t) => !unfiltered(t)));
  if (filterable.length > 0 && !filterable.some((t) => filter.test(t.name))) {
    const names = filterable.slice(0, 5).map((t) => t.name).join(', ') + (filterable.length > 5 ? `, and ${filterable.length - 5} more` : '');
    diagnostics.push(error('E_PROBE_FILTER', filterable[0]!.attachPoint.span, `--probe-filter '${pattern}' matches none of the program's probes`,
      `the regular expression is searched for in each probe's full name: ${names}`));
    return undefined;
  }
  const probes = program.probes.flatMap((p) => {
    const targets = p.targets.filter((t) => unfiltered(t) || filter.test(t.name));
    if (targets.length === p.targets.length) return [p];
    return targets.length > 0 ? [{ ...p, targets }] : [];
  });
  return { ...program, probes };
}

/**
 * What is wrong with a --probe-filter pattern (a JavaScript regular expression, as bpftrace's
 * std::regex is ECMAScript's), in the edge's words to come: undefined when it is valid.
 */
export function probeFilterProblem(pattern: string): { readonly message: string; readonly hint: string } | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    // `Invalid regular expression: /[a/: Unterminated character class`: the reason is the last part.
    const reason = (e as Error).message.replace(/^.*: /s, '');
    // A glob (`*open*`, `tracepoint:syscalls:*`) is the likely mistake: `*` repeats what is before it.
    const asRegex = pattern.replace(/(^|[^.\\])\*/g, '$1.*');
    const fixed = asRegex !== pattern && probeFilterProblem(asRegex) === undefined;
    return {
      message: `not a regular expression: ${reason}`,
      hint: fixed
        ? `it is a regular expression, not a glob: '.*' matches anything, e.g. --probe-filter '${asRegex}'`
        : "it is a regular expression searched for in each probe's full name, e.g. --probe-filter 'sys_enter_(open|close)'",
    };
  }
}

/** What a Session loads, from a compile that made an object. */
export function loadable(result: CompileResult): LoadableProgram | undefined {
  const { program, generated, object } = result;
  if (!program || !generated || !object) return undefined;
  return {
    program, object, programs: generated.programs, helperErrorSites: generated.helperErrorSites,
    readSites: generated.readSites, mapSymbols: generated.mapSymbols,
  };
}

/**
 * --include FILE: an #include line before the program (for the header macros it brings); a FILE
 * in the current directory first, as clang's -include.
 */
function withIncludes(program: Program, includes: readonly string[]): Program {
  if (includes.length === 0) return program;
  const start = program.span;
  const implicit = includes.map((path): Include => ({ kind: 'Include', span: { ...start, end: start.start }, path: existsSync(path) ? resolve(path) : path }));
  return { ...program, includes: [...implicit, ...program.includes] };
}

/** C++ names of uprobe targets, with the addon's demangler (unchanged if it cannot). */
function demangle(name: string): string {
  try {
    return native().demangle(name);
  } catch {
    return name;
  }
}
