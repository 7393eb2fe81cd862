// Builtins called with a mode (bpftrace 0.24+): nsecs(boot), pid(init), tid(curr_ns); and
// comm(pid), which no probe this kernel can run may use. (`pid()` without a mode is `pid`: the
// parser reads a builtin called with no arguments as the builtin.)
import type { Call } from '../model/ast.js';
import { error } from '../diagnostics/diagnostic.js';
import { UINT64, str, type Type } from '../model/types.js';
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
    c.report(error('E_UNAVAILABLE', call.span, 'comm(pid) is not supported on this kernel',
      'it needs fentry probes (the bpf_task_from_pid kfunc), as in bpftrace 0.26; record comm by pid where that process runs: @comm[pid] = comm'));
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
