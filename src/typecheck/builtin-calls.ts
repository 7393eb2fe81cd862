// Builtins called with a mode (bpftrace 0.24+): nsecs(boot), pid(init), tid(curr_ns); and
// comm(pid) (0.26), which calls kernel functions (kfuncs) only some program types may call. (`pid()`
// without a mode is `pid`: the parser reads a builtin called with no arguments as the builtin.)
import type { Call, ProbeProvider } from '../model/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import { UINT64, str, typeName, type Type } from '../model/types.js';
import { PROVIDER_LIST, providerRecord } from '../model/providers.js';
import type { CheckContext } from './context.js';

/** The modes of each builtin that takes one, the first being what the builtin alone means. */
export const BUILTIN_MODES: Readonly<Record<string, readonly string[]>> = {
  // Bare `nsecs` keeps 0.17's clock (monotonic); 0.26's default is boot.
  nsecs: ['monotonic', 'boot', 'tai', 'sw_tai'],
  // Bare `pid`/`tid` keep 0.17's meaning (the initial namespace's ids); 0.26's default is curr_ns.
  pid: ['init', 'curr_ns'],
  tid: ['init', 'curr_ns'],
};

/** The type of a builtin called with an argument, or undefined when `call` is no such call. */
export function checkBuiltinCall(c: CheckContext, call: Call): Type | undefined {
  if (call.name === 'comm') {
    const t = c.expr(call.args[0]!);
    if (t.kind !== 'int') c.report(error('E_ARG_TYPE', call.args[0]!.span, `comm() expects a pid (an integer), got ${typeName(t)}`));
    return str(16);
  }
  const modes = BUILTIN_MODES[call.name];
  if (!modes) return undefined;
  const mode = call.args[0]!;
  if (mode.kind !== 'Identifier' || !modes.includes(mode.name)) {
    c.report(error('E_ARG_TYPE', mode.span, `${call.name}() takes one of ${modes.join(', ')}`, `e.g. ${call.name}(${modes[1]})`));
  }
  return UINT64;
}

/**
 * Reports a call of a function that calls kernel functions (its record's `kfuncs`) from a probe
 * whose program type this kernel does not let call them, naming the probe types that may.
 */
export function checkKfuncCalls(c: CheckContext, call: Call, kfuncs: readonly string[]): void {
  const allowed = (p: ProbeProvider): boolean | undefined => {
    const type = providerRecord(p).programType;
    return kfuncs.every((k) => c.kernel.kfuncAllowed?.(k, type) !== false);
  };
  const refused = c.targets.find((t) => !allowed(t.provider));
  if (!refused) return;
  const usable = PROVIDER_LIST.filter((p) => {
    const r = providerRecord(p);
    return !r.unsupported && !r.runBy && (!r.requires || c.kernel.hasFeature(r.requires.feature)) && allowed(p);
  });
  c.report(error('E_UNAVAILABLE', call.span, `${call.name}() with an argument cannot be used in ${refused.provider} probes on this kernel`,
    `it calls the kernel function ${kfuncs[0]}, which this kernel lets only ${usable.length ? usable.join(', ') : 'no'} probes call`));
}
