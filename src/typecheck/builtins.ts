// Builtin variables: their types and where they are available.
import type { ProbeProvider } from '../model/ast.js';
import { INT64, UINT64, str, type Type } from '../model/types.js';

export interface BuiltinSpec {
  readonly type: Type;
  /** Providers where the builtin has a meaning; undefined: everywhere. */
  readonly providers?: readonly ProbeProvider[];
}

const RETURN_PROBES: readonly ProbeProvider[] = ['kretprobe', 'uretprobe', 'kretfunc'];
const ARG_PROBES: readonly ProbeProvider[] = ['kprobe', 'uprobe', 'usdt', 'rawtracepoint'];

export const BUILTINS: ReadonlyMap<string, BuiltinSpec> = new Map<string, BuiltinSpec>([
  ['pid', { type: UINT64 }],
  ['tid', { type: UINT64 }],
  ['uid', { type: UINT64 }],
  ['gid', { type: UINT64 }],
  ['nsecs', { type: UINT64 }],
  ['elapsed', { type: UINT64 }],
  ['cpu', { type: UINT64 }],
  ['numaid', { type: UINT64 }],
  ['cgroup', { type: UINT64 }],
  ['rand', { type: UINT64 }],
  ['jiffies', { type: UINT64 }],
  ['comm', { type: str(16) }],
  ['username', { type: { kind: 'username' } }],
  ['kstack', { type: { kind: 'kstack', depth: 127, mode: 'bpftrace' } }],
  ['ustack', { type: { kind: 'ustack', depth: 127, mode: 'bpftrace' } }],
  ['curtask', { type: UINT64 }],
  ['retval', { type: UINT64, providers: RETURN_PROBES }],
  ['probe', { type: str(64) }],
  ['func', { type: str(64), providers: ['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'kfunc', 'kretfunc'] }],
  ['args', { type: UINT64, providers: ['tracepoint', 'rawtracepoint', 'kfunc', 'kretfunc', 'uprobe'] }],
  ['ctx', { type: UINT64 }],
  ['cpid', { type: UINT64 }],
  ['usermode', { type: UINT64 }],
  ...Array.from({ length: 10 }, (_, i): [string, BuiltinSpec] => [`arg${i}`, { type: UINT64, providers: ARG_PROBES }]),
  ...Array.from({ length: 10 }, (_, i): [string, BuiltinSpec] => [`sarg${i}`, { type: INT64, providers: ['kprobe', 'uprobe'] }]),
]);
