// Signatures of the functions a script can call (argument counts; argument types are checked
// where each call is typed in check.ts).

export interface FunctionSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
}

const spec = (minArgs: number, maxArgs = minArgs): FunctionSpec => ({ minArgs, maxArgs });

export const AGGREGATIONS: ReadonlySet<string> = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist',
]);

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map([
  ['count', spec(0)],
  ['sum', spec(1)],
  ['avg', spec(1)],
  ['min', spec(1)],
  ['max', spec(1)],
  ['stats', spec(1)],
  ['hist', spec(1)],
  ['lhist', spec(4)],
  ['printf', spec(1, Infinity)],
  ['print', spec(1, 3)],
  ['time', spec(0, 1)],
  ['clear', spec(1)],
  ['zero', spec(1)],
  ['delete', spec(1, 2)],
  ['has_key', spec(2)],
  ['exit', spec(0)],
  ['str', spec(1, 2)],
  ['buf', spec(1, 2)],
  ['join', spec(1, 2)],
  ['ksym', spec(1)],
  ['usym', spec(1)],
  ['kaddr', spec(1)],
  ['uaddr', spec(1)],
  ['reg', spec(1)],
  ['ntop', spec(1, 2)],
  ['pton', spec(1)],
  ['macaddr', spec(1)],
  ['cgroupid', spec(1)],
  ['path', spec(1)],
  ['system', spec(1, Infinity)],
  ['cat', spec(1, Infinity)],
  ['signal', spec(1)],
  ['bswap', spec(1)],
  ['uptr', spec(1)],
  ['kptr', spec(1)],
  ['strerror', spec(1)],
  ['strncmp', spec(3)],
  ['strcontains', spec(2)],
  ['strftime', spec(2)],
  ['kstack', spec(0, 2)],
  ['ustack', spec(0, 2)],
  ['override', spec(1)],
  // Builtins with a mode (builtin-calls.ts); without one they are builtin variables.
  ['nsecs', spec(1)],
  ['pid', spec(1)],
  ['tid', spec(1)],
  ['comm', spec(1)],
]);

/** Functions bpftrace refuses without --unsafe. */
export const UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set(['system', 'signal', 'override']);
