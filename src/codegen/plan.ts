// Program planning: which attach points of a probe share one BPF program. A probe whose code
// does not depend on the attach point that fired gets one program per program type (uprobes of
// one binary: one multi-uprobe link); enough syscall tracepoints share the raw sys_enter/sys_exit
// tracepoint and dispatch on the syscall number (syscalls.ts), unless the probe calls kfuncs.
import type { Call, Probe } from '../model/ast.js';
import { BUILTIN_FUNCTIONS, functionNamed } from '../model/functions.js';
import { type ProbeProvider, type ProgramType, providerRecord } from '../model/providers.js';
import { walk } from '../model/walk.js';
import type { ProbeTarget, TypedProbe, TypedProgram } from '../model/program.js';
import type { SyscallEvent } from '../model/object-layout.js';
import { syscallNumbers } from '../kernel/syscalls.js';

/**
 * When syscall tracepoints share one raw tracepoint: `auto` when a probe has at least
 * SYSCALL_DISPATCH_MIN of them, `always`, or `never` (one perf-event tracepoint each).
 */
export type SyscallDispatchMode = 'auto' | 'always' | 'never';
export const SYSCALL_DISPATCH_MIN = 4;

export function programType(provider: ProbeProvider): ProgramType {
  return providerRecord(provider).programType;
}

/**
 * Does the probe's code depend on which attach point fired (so it needs a program per target)?
 * Uprobes' `func` and `probe` do not: a multi-uprobe program reads them by its attach cookie
 * (targetNamesMap), except in a for loop's body (a callback without the program's context).
 */
function usesTargetSpecifics(probe: TypedProbe): boolean {
  const namesByCookie = probe.targets.every((t) => t.provider === 'uprobe' || t.provider === 'uretprobe')
    && !readInLoop(probe.probe, ['func', 'probe']);
  let found = false;
  walk([probe.probe.predicate, probe.probe.body], (node) => {
    const n = node as { kind: string; name?: string };
    if (n.kind === 'Builtin' && (n.name === 'args' || (!namesByCookie && (n.name === 'probe' || n.name === 'func')))) {
      found = true;
      return 'stop';
    }
  });
  return found;
}

/** Whether the probe calls a function that calls kfuncs (which a raw tracepoint may not call). */
function callsKfuncs(probe: Probe): boolean {
  let found = false;
  walk([probe.predicate, probe.body], (node) => {
    if (node.kind !== 'Call') return undefined;
    const name = functionNamed((node as Call).name);
    found = name !== undefined && BUILTIN_FUNCTIONS[name].kfuncs !== undefined;
    return found ? 'stop' : undefined;
  });
  return found;
}

interface Plan {
  probe: TypedProbe;
  targets: ProbeTarget[];
  type: ProgramType;
  syscall?: SyscallEvent;
}

/**
 * The syscall tracepoints of a probe that can share the raw `sys_enter` / `sys_exit` tracepoint
 * (x86_64, syscall number known), or none when the probe has too few of them for it to pay.
 */
function syscallDispatchGroups(targets: readonly ProbeTarget[], mode: SyscallDispatchMode): Map<SyscallEvent, ProbeTarget[]> {
  const groups = new Map<SyscallEvent, ProbeTarget[]>();
  if (mode === 'never') return groups;
  let count = 0;
  for (const t of targets) {
    const m = t.provider === 'tracepoint' && t.parts[0] === 'syscalls' ? /^sys_(enter|exit)_(\w+)$/.exec(t.parts[1]!) : null;
    if (!m || !syscallNumbers(m[2]!)) continue;
    const event: SyscallEvent = m[1] === 'enter' ? 'sys_enter' : 'sys_exit';
    const g = groups.get(event) ?? [];
    g.push(t);
    groups.set(event, g);
    count++;
  }
  if (count < (mode === 'always' ? 1 : SYSCALL_DISPATCH_MIN)) groups.clear();
  return groups;
}

/**
 * How `args` is used by a probe: the fields it reads, or undefined when `args` appears other
 * than as `args->field` (then the code depends on the whole record).
 */
export function argsFieldsUsed(probe: Probe): Set<string> | undefined {
  const fields = new Set<string>();
  let whole = false;
  walk([probe.predicate, probe.body], (node) => {
    const n = node as { kind: string; name?: string; object?: { kind?: string; name?: string }; field?: string };
    if (n.kind === 'FieldAccess' && n.object?.kind === 'Builtin' && n.object.name === 'args') {
      fields.add(n.field!);
      return false;
    }
    if (n.kind === 'Builtin' && n.name === 'args') {
      whole = true;
      return 'stop';
    }
  });
  return whole ? undefined : fields;
}

/** Whether one of the builtins `names` is read in the body of a for loop (a callback of its own). */
export function readInLoop(probe: Probe, names: readonly string[]): boolean {
  let found = false;
  walk([probe.predicate, probe.body], (node) => {
    if (node.kind !== 'ForStmt' && node.kind !== 'ForRangeStmt') return undefined;
    walk((node as { body?: unknown }).body, (n) => {
      if (n.kind === 'Builtin' && names.includes((n as { name?: string }).name ?? '')) found = true;
      return found ? 'stop' : undefined;
    });
    return found ? 'stop' : false;
  });
  return found;
}

/** Splits each probe's targets into the programs to generate. */
export function planPrograms(program: TypedProgram, mode: SyscallDispatchMode): Plan[] {
  const plans: Plan[] = [];
  for (const probe of program.probes) {
    const perTarget = usesTargetSpecifics(probe);
    const groups = new Map<string, ProbeTarget[]>();
    const dispatched = syscallDispatchGroups(probe.targets, callsKfuncs(probe.probe) ? 'never' : mode);
    for (const [event, targets] of dispatched) plans.push({ probe, targets, type: 'raw_tracepoint', syscall: event });
    const shared = new Set([...dispatched.values()].flat());
    for (const t of probe.targets) {
      if (shared.has(t)) continue;
      // BEGIN, END and each test/bench run at different times, so each gets its own program; a
      // USDT site's arguments live in its own registers and stack slots, so each site gets one too.
      const key = perTarget || providerRecord(t.provider).runBy !== undefined || t.provider === 'usdt'
        ? `${t.name}@${t.address ?? ''}`
        : t.provider === 'uprobe' || t.provider === 'uretprobe' ? `${t.provider}:${t.path}` : programType(t.provider);
      const g = groups.get(key) ?? [];
      g.push(t);
      groups.set(key, g);
    }
    for (const targets of groups.values()) {
      // Several uprobes of one binary share one multi-uprobe link: one attach and one detach
      // (50 uprobes: 29 ms instead of 3.3 s to detach here).
      const provider = targets[0]!.provider;
      const multi = targets.length > 1 && (provider === 'uprobe' || provider === 'uretprobe');
      plans.push({ probe, targets, type: multi ? 'uprobe_multi' : programType(provider) });
    }
  }
  return plans;
}
