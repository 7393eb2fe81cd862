// The builtin variables: one record each, read by the parser (which names are builtins), the type
// checker (type, providers), codegen and the docs. A stage with work of its own per builtin keeps
// one table `satisfies Record<BuiltinName, ...>`, so a new record here is refused until every
// stage has its entry.
import type { ProbeProvider } from './ast.js';
import { INT64, UINT64, UINT8, str, type Type } from './types.js';

export interface BuiltinVariable {
  /** The names it is written as: one, or a family (arg0..arg9). */
  readonly names: readonly string[];
  /** Its type where no probe-specific rule refines it. */
  readonly type: Type;
  /** Providers where it has a meaning; undefined: everywhere. */
  readonly providers?: readonly ProbeProvider[];
  /** Refused inside a `for` loop over a map (it reads the probe's context). */
  readonly notInForLoop?: boolean;
  /** One line for the docs. */
  readonly doc: string;
}

const RETURN_PROBES: readonly ProbeProvider[] = ['kretprobe', 'uretprobe', 'kretfunc'];
const ARG_PROBES: readonly ProbeProvider[] = ['kprobe', 'uprobe', 'usdt', 'rawtracepoint'];
/** Probes whose context holds the interrupted registers (struct pt_regs). */
export const PT_REGS_PROBES: readonly ProbeProvider[] = [
  'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'interval', 'software', 'hardware', 'watchpoint', 'asyncwatchpoint',
];
const ARG_COUNT = 10;
const family = (prefix: string): string[] => Array.from({ length: ARG_COUNT }, (_, i) => `${prefix}${i}`);

const one = (name: string, type: Type, doc: string, more: Partial<BuiltinVariable> = {}): BuiltinVariable =>
  ({ names: [name], type, doc, ...more });

const TABLE = {
  pid: one('pid', UINT64, 'Process id (the kernel\'s thread group id).'),
  tid: one('tid', UINT64, 'Thread id.'),
  uid: one('uid', UINT64, 'User id.'),
  gid: one('gid', UINT64, 'Group id.'),
  nsecs: one('nsecs', UINT64, 'Nanoseconds since boot (bpf_ktime_get_ns).'),
  elapsed: one('elapsed', UINT64, 'Nanoseconds since tracelet started.'),
  cpu: one('cpu', UINT64, 'The CPU the probe runs on.'),
  ncpus: one('ncpus', UINT64, 'The number of CPUs this machine can have (possible CPUs, as bpftrace 0.26 counts them).'),
  numaid: one('numaid', UINT64, 'The NUMA node the probe runs on.'),
  cgroup: one('cgroup', UINT64, 'The cgroup v2 id of the current task.'),
  rand: one('rand', UINT64, 'A pseudo-random 32-bit number.'),
  jiffies: one('jiffies', UINT64, 'Jiffies since boot.'),
  comm: one('comm', str(16), 'Name of the current task (16 bytes).'),
  username: one('username', { kind: 'username' }, 'The user id, printed as a user name.'),
  kstack: one('kstack', { kind: 'kstack', depth: 127, mode: 'bpftrace' }, 'Kernel stack trace.'),
  ustack: one('ustack', { kind: 'ustack', depth: 127, mode: 'bpftrace' }, 'User stack trace.'),
  curtask: one('curtask', UINT64, 'Address of the current task_struct (typed from BTF when there is one).'),
  retval: one('retval', UINT64, 'Return value of the traced function.', { providers: RETURN_PROBES, notInForLoop: true }),
  probe: one('probe', str(64), 'Full name of the probe that fired.'),
  probetype: one('probetype', str(16), 'The type of the probe\'s first attach point as bpftrace 0.26 names it: `tracepoint`, `uprobe`, `interval`..., `special` for BEGIN and END, `fentry` for kfunc (0.26).'),
  func: one('func', str(64), 'Name of the traced function (a C++ function demangled, as bpftrace prints it, unless BPFTRACE_NO_CPP_DEMANGLE=1).',
    { providers: ['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'kfunc', 'kretfunc'] }),
  args: one('args', UINT64, 'The probe\'s arguments as a record: tracepoint fields, BTF arguments of kfunc/rawtracepoint, or a uprobe function\'s parameters from its DWARF (built with -g).',
    { providers: ['tracepoint', 'rawtracepoint', 'kfunc', 'kretfunc', 'uprobe'], notInForLoop: true }),
  ctx: one('ctx', UINT64, 'Address of the probe\'s context (pt_regs, tracepoint record...).', { notInForLoop: true }),
  cpid: one('cpid', UINT64, 'Process id of the -c command.'),
  has_cpid: one('has_cpid', UINT64, '1 when tracelet runs a -c command (so `cpid` is its pid), else 0 (bpftrace 0.26\'s; it prints 1/0 where 0.26 prints true/false).'),
  usermode: one('usermode', UINT8, '1 if the probe interrupted user mode (the saved CS register\'s privilege level is 3), else 0.',
    { providers: PT_REGS_PROBES }),
  argN: {
    names: family('arg'), type: UINT64, providers: ARG_PROBES, notInForLoop: true,
    doc: 'Arguments of the traced function, USDT probe or raw tracepoint.',
  },
  sargN: {
    names: family('sarg'), type: INT64, providers: ['kprobe', 'uprobe'], notInForLoop: true,
    doc: 'Arguments passed on the stack (signed 64-bit).',
  },
} satisfies Record<string, BuiltinVariable>;

/** The key of a builtin variable's record (`argN` for arg0..arg9). */
export type BuiltinName = keyof typeof TABLE;
export const BUILTIN_VARIABLES: Readonly<Record<BuiltinName, BuiltinVariable>> = TABLE;

const BY_NAME: ReadonlyMap<string, BuiltinName> = new Map(
  (Object.keys(BUILTIN_VARIABLES) as BuiltinName[]).flatMap((key) => BUILTIN_VARIABLES[key].names.map((n) => [n, key] as const)),
);

/** Every name a builtin variable is written as, in table order. */
export const BUILTIN_VARIABLE_NAMES: readonly string[] = [...BY_NAME.keys()];

/** The record key of a builtin variable's name (`arg3` → `argN`), or undefined. */
export function builtinNamed(name: string): BuiltinName | undefined {
  return BY_NAME.get(name);
}
