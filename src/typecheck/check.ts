// The type checker: resolves probes, infers the type of every expression, checks map key/value
// consistency across probes, and lays out the events and maps → TypedProgram. This is its driver:
// the passes over the probes (checker.ts) that settle the maps' types, then the one that reports.
import { walk } from '../model/walk.js';
import type { AttachPoint, Builtin, Call, Probe, Program } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { checkMapDeclarations, declaredSpec } from './map-declarations.js';
import { checkTestNames, expandAttachPoint } from './probes.js';
import { scriptTypes } from './ctypes.js';
import type { EventSpec, MapSpec, ProbeTarget, TypedProbe, TypedProgram } from '../model/program.js';
import { inTracedProcess, providerRecord } from '../model/providers.js';
import { INT64, UINT64 } from '../model/types.js';
import type { CheckOptions } from './context.js';
import { Checker } from './checker.js';
import { changedMaps, keylessBuckets, mapSpec, type MapInfo } from './map-types.js';
import { hintFor, NamedConstants } from './names.js';
import { CONFIG_VARIABLES, configName, configValue, type MissingProbes, settingOf, type Settings } from '../model/config.js';

export interface CheckResult {
  readonly program?: TypedProgram;
  readonly diagnostics: Diagnostic[];
}

/** A probe and the targets of its attach points; `missing`: none, for want of functions or USDT probes in their files only. */
interface ExpandedProbe {
  readonly probe: Probe;
  readonly targets: readonly ProbeTarget[];
  readonly missing?: readonly Diagnostic[];
}

/**
 * The targets of a probe's attach points. Like bpftrace, a probe with several attach points
 * skips a function this binary or kernel lacks (tools list functions of several library
 * versions) — but says so in a warning; it is an error only when nothing is left to attach.
 */
function expandProbe(p: Probe, kernel: KernelInfo, diagnostics: Diagnostic[], options: CheckOptions): ExpandedProbe {
  const own: Diagnostic[] = [];
  const targets = p.attachPoints.flatMap((ap: AttachPoint) => expandAttachPoint(ap, kernel, own, options));
  const userProbes = p.attachPoints.every((ap) => inTracedProcess(ap.provider));
  if (targets.length === 0 && own.length > 0 && userProbes && own.every((d) => d.code === 'E_UNKNOWN_FUNCTION' || d.code === 'E_UNKNOWN_USDT')) {
    return { probe: p, targets, missing: own };
  }
  for (const d of own) {
    diagnostics.push(targets.length > 0 && d.code === 'E_UNKNOWN_FUNCTION'
      ? warning('W_UNKNOWN_FUNCTION', d.span, `${d.message}: this attach point is skipped`, d.hint)
      : d);
  }
  return { probe: p, targets };
}

/**
 * Probes whose functions or USDT probes are missing from their files: skipped with a warning
 * while others attach (bpftrace 0.17 skips them silently; scripts trace functions that only some
 * versions of a library have), an error when nothing else would run. A skipped probe is still
 * type-checked (the maps it writes keep their types) with a target per attach point, unresolved.
 */
function skipMissing(expanded: readonly ExpandedProbe[], mode: MissingProbes, diagnostics: Diagnostic[]): { probe: Probe; targets: readonly ProbeTarget[]; skipped?: true }[] {
  const others = expanded.some((e) => e.targets.length > 0);
  return expanded.map((e) => {
    if (!e.missing) return e;
    if (!others || mode === 'error') {
      diagnostics.push(...e.missing);
      return e;
    }
    if (mode === 'warn') {
      for (const d of e.missing) {
        diagnostics.push(warning('W_UNKNOWN_FUNCTION', d.span, `${d.message}: this probe is skipped`, d.hint ?? 'missing_probes = error refuses such a program'));
      }
    }
    const targets = e.probe.attachPoints.map((ap): ProbeTarget => ({ provider: ap.provider, name: ap.raw, parts: ap.parts, attachPoint: ap }));
    return { probe: e.probe, targets, skipped: true };
  });
}

/** max_probes (BPFTRACE_MAX_PROBES), when set: the probes `Attaching N probes...` would count. */
function checkProbeLimit(program: Program, targets: readonly ProbeTarget[], limit: number | undefined, diagnostics: Diagnostic[]): void {
  if (limit === undefined || program.probes.length === 0) return;
  const attached = targets.filter((t) => providerRecord(t.provider).runBy !== 'option').length;
  if (attached <= limit) return;
  diagnostics.push(error('E_TOO_MANY_PROBES', program.probes[0]!.span,
    `can't attach to ${attached} probes because it exceeds the current limit of ${limit} probes`,
    'raise max_probes (BPFTRACE_MAX_PROBES), with care: a very large number of probes slows the whole system'));
}

/** Whether the program reads has_cpid (bare or called): it may then name cpid in a run without -c. */
function asksHasCpid(program: Program): boolean {
  let asks = false;
  for (const p of program.probes) {
    walk(p.body, (node) => {
      if ((node.kind === 'Builtin' || node.kind === 'Call') && (node as Builtin | Call).name === 'has_cpid') asks = true;
    });
  }
  return asks;
}

/** The event a failed helper call sends with -k: the helper's id, its return value, the call site. */
function helperErrorEvent(id: number, span: Span): EventSpec {
  return {
    id,
    kind: 'helper_error',
    fields: [{ type: UINT64, offset: 8 }, { type: INT64, offset: 16 }, { type: UINT64, offset: 24 }],
    size: 32,
    span,
  };
}

/**
 * The script's config block (src/model/config.ts): its settings, and the options the check uses,
 * where those given (the environment's, the API's) win over the block's, as in bpftrace 0.26.
 */
function applyConfig(program: Program, options: CheckOptions, diagnostics: Diagnostic[]): { options: CheckOptions; settings: Settings } {
  let settings: Settings = {};
  for (const c of program.config) {
    const name = configName(c.key);
    if (!name) {
      const names = Object.keys(CONFIG_VARIABLES);
      diagnostics.push(error('E_CONFIG', c.span, `unknown config key '${c.key}'`, hintFor(c.key, names) ?? `config variables: ${names.join(', ')}`));
      continue;
    }
    const parsed = configValue(name, c.value);
    if ('problem' in parsed) {
      diagnostics.push(error('E_CONFIG', c.span, `config '${c.key}' ${parsed.problem}`));
      continue;
    }
    const unused = CONFIG_VARIABLES[name]!.unused;
    if (unused) diagnostics.push(warning('W_CONFIG_UNUSED', c.span, `config '${c.key}' has no effect in tracelet: ${unused}`));
    settings = { ...settings, ...settingOf(name, parsed.value) };
  }
  return {
    settings,
    options: {
      ...options,
      mapKeysMax: options.mapKeysMax ?? settings.mapKeysMax,
      stringLength: options.stringLength ?? settings.stringLength,
      stackMode: options.stackMode ?? settings.stackMode,
      maxProbes: options.maxProbes ?? settings.maxProbes,
      cppDemangle: options.cppDemangle ?? settings.cppDemangle,
      missingProbes: options.missingProbes ?? settings.missingProbes,
    },
  };
}

/**
 * A script's own header (`#include "file"`) must be found, as bpftrace (clang) requires. A
 * `<file>` that is not found is left alone: the kernel's types come from BTF, and its headers
 * are often not installed (the Debian tools include <net/sock.h>).
 */
function checkIncludes(program: Program, kernel: KernelInfo, diagnostics: Diagnostic[]): void {
  if (!kernel.headerPath) return;
  for (const include of program.includes) {
    if (!include.quoted || kernel.headerPath(include.path)) continue;
    diagnostics.push(error('E_INCLUDE_NOT_FOUND', include.span, `cannot find the header "${include.path}"`,
      'a "file" is looked for beside the script (the current directory for -e), then in the -I directories and /usr/include'));
  }
}

export function typecheck(program: Program, kernel: KernelInfo, cliOptions: CheckOptions = {}): CheckResult {
  const diagnostics: Diagnostic[] = [];
  const { options: configured, settings } = applyConfig(program, cliOptions, diagnostics);
  // A program that asks has_cpid reads cpid only when there is a child: no error without -c.
  const options = configured.childCommand === false && asksHasCpid(program) ? { ...configured, childCommand: undefined } : configured;
  const expanded = skipMissing(program.probes.map((p) => expandProbe(p, kernel, diagnostics, options)), options.missingProbes ?? 'warn', diagnostics);
  checkProbeLimit(program, expanded.flatMap((e) => (e.skipped ? [] : e.targets)), options.maxProbes, diagnostics);
  checkTestNames(program.probes, diagnostics);
  checkIncludes(program, kernel, diagnostics);
  const cTypes = scriptTypes(program.cDefinitions, kernel, diagnostics);
  const names = new NamedConstants(program, kernel, cTypes.enumerators);
  // Map types come from the whole program, not from source order: a probe may read a map that a
  // later probe assigns (offwaketime's layout), and the map's type may feed another map's key.
  // Collecting passes learn every map's key and value types, each reading the types the previous
  // pass settled, until they no longer change; a last pass checks against them and reports.
  let mapInfos = new Map<string, MapInfo>();
  const signs = new Map<string, boolean>();
  for (let pass = 1; ; pass++) {
    const assigned = new Map<string, MapInfo>();
    const collect = new Checker(kernel, names, assigned, mapInfos, true, options, cTypes.types, signs);
    for (const { probe, targets } of expanded) collect.checkProbe(probe, targets);
    const changed = changedMaps(assigned, mapInfos);
    mapInfos = assigned;
    if (changed.length === 0) break;
    // Each pass settles at least one more map of a chain (`@a = @b` before `@b = @c`); types
    // still changing after that are built from themselves (`@a = (@b, 1); @b = (@a, 1);`).
    if (pass > mapInfos.size + 1) {
      for (const name of changed) {
        diagnostics.push(error('E_TYPE', mapInfos.get(name)!.span, `the type of ${name} cannot be settled: its value is built from itself`));
      }
      return { diagnostics };
    }
  }
  const check = new Checker(kernel, names, mapInfos, mapInfos, false, options, cTypes.types, signs);
  for (const { probe, targets } of expanded) check.checkProbe(probe, targets);
  diagnostics.push(...check.diagnostics);

  const maxEntries = options.mapKeysMax ?? 4096;
  const declared = checkMapDeclarations(program.mapDeclarations ?? [], new Set(mapInfos.keys()), diagnostics);
  const maps = new Map<string, MapSpec>();
  for (const [name, info] of [...mapInfos].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const spec = mapSpec(name, info, maxEntries);
    const declaration = declared.get(name);
    maps.set(name, declaration ? declaredSpec(spec, declaration, diagnostics) : keylessBuckets(spec));
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const probes: TypedProbe[] = expanded.flatMap(({ probe, targets, skipped }, index) => (skipped ? [] : [{ probe, targets, index }]));
  return {
    diagnostics,
    program: {
      probes,
      maps,
      events: options.helperErrors ? [...check.events, helperErrorEvent(check.events.length, program.span)] : check.events,
      types: check.types,
      constants: check.constants,
      eventOf: check.eventOf,
      variables: check.variables,
      settings,
    },
  };
}
