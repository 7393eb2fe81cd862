// The built-in functions: one record each (as ply's `struct func`): name, argument counts, --unsafe,
// aggregation, probe types and docs. The checker reads the records (Checker.call: unknown names,
// arity, --unsafe) and keys each function's type rule by its name (FUNCTION_CHECKS in
// typecheck/functions-check.ts, `satisfies Record<FunctionName, ...>`), so a new record is refused
// until it has a rule; codegen keys each function's code by it the same way (FUNCTION_CODE in
// codegen/functions.ts). docs/reference.md is made from the records (scripts/reference.ts).
import type { ProbeProvider } from './ast.js';

export interface BuiltinFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  /** How it is called, for the docs: `lhist(int n, int min, int max, int step)`. */
  readonly signature: string;
  /** What it returns (its type rule, in words), for the docs. */
  readonly returns: string;
  /** One line for the docs. */
  readonly doc: string;
  /** Refused without --unsafe (as bpftrace). */
  readonly unsafe?: boolean;
  /** Valid only as the value of a map assignment (`@m = count()`). */
  readonly aggregation?: boolean;
  /** Probe types it can be used in; undefined: every one. */
  readonly providers?: readonly ProbeProvider[];
  /** How it differs from bpftrace 0.17, where it does. */
  readonly differs?: string;
  /**
   * Kernel functions (kfuncs) its code calls: only probes whose program type the kernel lets
   * call them may use it, and their syscall tracepoints are not dispatched (a raw tracepoint may not).
   */
  readonly kfuncs?: readonly string[];
}

const PT_REGS_PROVIDERS: readonly ProbeProvider[] = [
  'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'interval', 'software', 'hardware',
];
const SIGNAL_PROVIDERS: readonly ProbeProvider[] = [
  'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'profile', 'tracepoint', 'rawtracepoint', 'kfunc',
  'kretfunc', 'software', 'hardware',
];

const fn = (minArgs: number, maxArgs: number, signature: string, returns: string, doc: string,
  more: Partial<BuiltinFunction> = {}): BuiltinFunction => ({ minArgs, maxArgs, signature, returns, doc, ...more });

const aggregation = (args: number, signature: string, doc: string): BuiltinFunction =>
  fn(args, args, signature, 'an aggregation (only as `@map = ...`)', doc, { aggregation: true });

/** is_str(e) and its kind (0.26): a constant, decided from e's type when the program is compiled. */
const typePredicate = (name: string, what: string): BuiltinFunction => fn(1, 1, `${name}(expr)`, 'uint64 (1 or 0), a constant',
  `1 when expr is ${what}, else 0; decided from expr's type when the program is compiled (expr is not evaluated), so a macro can branch on what it was given: \`if comptime ${name}(x) { } else { }\` checks and compiles only the branch taken.`,
  { differs: 'Newer bpftrace\'s (0.26); it prints 1/0 where 0.26 prints true/false.' });

const TABLE = {
  count: aggregation(0, 'count()', 'Counts the times it runs.'),
  sum: aggregation(1, 'sum(int n)', 'Sums n.'),
  avg: aggregation(1, 'avg(int n)', 'Averages n (printed as an integer).'),
  min: aggregation(1, 'min(int n)', 'Keeps the smallest n.'),
  max: aggregation(1, 'max(int n)', 'Keeps the largest n.'),
  stats: aggregation(1, 'stats(int n)', 'Count, average and total of n.'),
  hist: aggregation(1, 'hist(int n)', 'Power-of-two histogram of n.'),
  lhist: aggregation(4, 'lhist(int n, int min, int max, int step)',
    'Linear histogram of n from min to max in buckets of step (constants, at most 1000 buckets).'),
  tseries: fn(3, 4, 'tseries(int n, int interval_ns, int num_intervals [, "avg"|"sum"|"min"|"max"])',
    'an aggregation (only as `@map = ...`)',
    'Time series of n: the last num_intervals intervals of interval_ns (constants, e.g. 100ms) each, keeping the last n of each interval or their avg, sum, min or max; printed as a graph.',
    { aggregation: true, differs: 'Newer bpftrace\'s (0.26, unstable there).' }),
  printf: fn(1, Infinity, 'printf(fmt, ...)', 'nothing',
    'Prints its arguments formatted as C\'s printf (fmt a string literal; %r prints a buf()).'),
  debugf: fn(1, 4, 'debugf(fmt, ...)', 'nothing',
    'Prints to the kernel\'s trace pipe (/sys/kernel/tracing/trace_pipe, not tracelet\'s output) with bpf_trace_printk: at most 3 conversions of integers and strings (%d %u %x %s %c, with l or ll). For debugging a program; it warns so. As with bpftrace, the kernel turns its bpf_trace_printk trace event on for such a program and leaves it on (off: write 0 to /sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/enable).'),
  errorf: fn(1, Infinity, 'errorf(fmt, ...)', 'nothing',
    'Prints its arguments formatted as printf as an error at the call\'s place in the script (`stdin:1:9-24: ERROR: ...`, on stderr; `-f json`: an `errorf` record); the run goes on (a --test test fails).',
    { differs: 'Newer bpftrace\'s (0.24+).' }),
  warnf: fn(1, Infinity, 'warnf(fmt, ...)', 'nothing',
    'As errorf(), as a warning (`WARNING: ...`; `-f json`: a `warnf` record); --no-warnings silences it.',
    { differs: 'Newer bpftrace\'s (0.25+).' }),
  print: fn(1, 3, 'print(@map [, int top [, int div]]) or print(value)', 'nothing',
    'Prints a map (its top entries, values divided by div) or a single value.'),
  time: fn(0, 1, 'time([fmt])', 'nothing', 'Prints the current time with strftime format fmt (default "%H:%M:%S\\n").'),
  clear: fn(1, 1, 'clear(@map)', 'nothing', 'Deletes every entry of a map.'),
  zero: fn(1, 1, 'zero(@map)', 'nothing', 'Sets every value of a map to zero.'),
  delete: fn(1, 2, 'delete(@map[key]) or delete(@map, key)', 'nothing', 'Deletes one entry of a map.',
    { differs: '`delete(@map, key)` is newer bpftrace\'s spelling; 0.17 accepts only `delete(@map[key])`.' }),
  exit: fn(0, 1, 'exit([int code])', 'nothing', 'Stops tracing: the probe it is called in ends there, no other probe runs after it, END runs and the maps are printed; tracelet exits with code (default 0; its low 8 bits, as a process exit status).',
    { differs: '`exit(code)` is newer bpftrace\'s; 0.17 takes no argument.' }),
  str: fn(1, 2, 'str(char *s [, int n])', 'string',
    'Reads a NUL-terminated string (at most n characters, and BPFTRACE_STRLEN bytes).', {
      differs: 'str() of a string (a literal, `str($1)`) cuts it to n characters and `str(p, $N)` works; 0.17 rejects both.',
    }),
  buf: fn(1, 2, 'buf(void *p [, int length])', 'buffer',
    'Reads length bytes (the array\'s size when p is an array; a string is NUL-padded past its end), printed as hex escapes with %r.'),
  join: fn(1, 2, 'join(char **argv [, separator])', 'nothing',
    'Prints the strings of a NULL-terminated array (at most 16), separated by separator (" ").'),
  ksym: fn(1, 1, 'ksym(addr)', 'ksym (printed as the kernel symbol)', 'The kernel symbol at an address.'),
  usym: fn(1, 1, 'usym(addr)', 'usym (printed as the symbol)', 'The symbol at an address of the current process.'),
  kaddr: fn(1, 1, 'kaddr("name")', 'uint64', 'The address of a kernel symbol, resolved at compile time.'),
  uaddr: fn(1, 1, 'uaddr("name")', 'pointer to user memory',
    'The address of a data symbol of the traced binary, resolved at compile time.',
    { providers: ['uprobe', 'uretprobe', 'usdt'] }),
  reg: fn(1, 1, 'reg("name")', 'uint64', 'The value of a register of the probe\'s pt_regs (x86-64 names).',
    { providers: PT_REGS_PROVIDERS }),
  ntop: fn(1, 2, 'ntop([int af,] addr)', 'inet (printed as the address)',
    'Formats an IPv4 (integer or 4 bytes) or IPv6 (16 bytes) address.'),
  pton: fn(1, 1, 'pton("address")', 'uint8[4] or uint8[16]', 'The bytes of an IPv4 or IPv6 address literal.'),
  macaddr: fn(1, 1, 'macaddr(addr)', 'string', 'Formats the 6 bytes of a MAC address as "AA:BB:CC:DD:EE:FF".', {
    differs: 'In `-f json` it is a JSON string; 0.17 prints it bare (invalid JSON).',
  }),
  cgroupid: fn(1, 1, 'cgroupid("path")', 'uint64', 'The id of a cgroup v2 directory, resolved at compile time.'),
  cgroup_path: fn(1, 2, 'cgroup_path(int cgroupid [, "filter"])', 'cgroup_path (printed as the paths)',
    'The paths of a cgroup id in the mounted cgroup hierarchies whose name matches filter (wildcards; default `*`; cgroup2 is `unified`): `unified:/user.slice,memory:/`, found when the value is printed, so only for printing.',
    { differs: 'In `-f json` it is a JSON string (0.17 writes it bare, invalid JSON); as a map key it prints its paths (0.17 aborts).' }),
  path: fn(1, 1, 'path(struct path *p)', 'string', 'The full path of a struct path.', {
    providers: ['kfunc', 'kretfunc', 'iter'],
    differs: 'Needs BPF tracing programs, which this kernel lacks: refused at compile time.',
  }),
  system: fn(1, Infinity, 'system(fmt, ...)', 'nothing', 'Runs a shell command, formatted as printf.', { unsafe: true }),
  cat: fn(1, Infinity, 'cat(fmt, ...)', 'nothing', 'Prints the contents of a file, its name formatted as printf.'),
  signal: fn(1, 1, 'signal(sig)', 'nothing', 'Sends a signal (a name such as "SIGKILL" or a number) to the current task.',
    { unsafe: true, providers: SIGNAL_PROVIDERS }),
  signal_thread: fn(1, 1, 'signal_thread(sig)', 'nothing', 'Sends a signal (a name such as "SIGKILL" or a number) to the current thread only, not its whole process (bpf_send_signal_thread).',
    { unsafe: true, providers: SIGNAL_PROVIDERS, differs: 'Newer bpftrace\'s (0.26).' }),
  unwatch: fn(1, 1, 'unwatch(addr)', 'nothing', 'Removes the watchpoint at addr (a `watchpoint:ADDR:LEN:MODE` probe of the script) once the event reaches tracelet, so hits already under way may still run the probe.',
    { differs: 'Newer bpftrace\'s (0.26).' }),
  bswap: fn(1, 1, 'bswap(int n)', 'n\'s type', 'Reverses the bytes of an integer at its own width.'),
  uptr: fn(1, 1, 'uptr(p)', 'pointer to user memory', 'Marks a pointer (or address) as pointing into user memory.'),
  kptr: fn(1, 1, 'kptr(p)', 'pointer to kernel memory', 'Marks a pointer (or address) as pointing into kernel memory.'),
  strerror: fn(1, 1, 'strerror(int errno)', 'strerror (printed as the message)', 'The message of an errno value.'),
  syscall_name: fn(1, 1, 'syscall_name(int nr)', 'syscall_name (printed as the name)', 'The name of a syscall number on this architecture (`Unknown syscall` for a number it does not have), as bpftrace 0.26: `syscall_name(args->id)`. Printed and used as a key; not a string to compare.'),
  signal_name: fn(1, 1, 'signal_name(int sig)', 'signal_name (printed as the description)', 'The description of a signal, as the C library\'s strsignal() gives it (`Interrupt` for 2; `N/A` outside 1 to 64), as bpftrace 0.26. Printed and used as a key; not a string to compare.'),
  strncmp: fn(3, 3, 'strncmp(a, b, int n)', 'uint64', 'Compares two strings up to n characters: 0 when equal.'),
  strcontains: fn(2, 2, 'strcontains(haystack, needle)', 'uint64', '1 when needle occurs in haystack, else 0.'),
  strftime: fn(2, 2, 'strftime(fmt, int nsecs)', 'timestamp (printed formatted)',
    'Formats a time since boot (nsecs, as from `nsecs`) as a wall-clock time with a strftime format.'),
  kstack: fn(0, 2, 'kstack([mode,] [int depth])', 'kstack (printed as the frames)',
    'The kernel stack, at most depth frames (127), printed in mode bpftrace, perf or raw.',
    { differs: 'The raw mode is newer bpftrace\'s; 0.17 has bpftrace and perf.' }),
  ustack: fn(0, 2, 'ustack([mode,] [int depth])', 'ustack (printed as the frames)',
    'The user stack, at most depth frames (127), printed in mode bpftrace, perf, raw or build_id (each frame as its file\'s GNU build id and the file offset, or the address in hex without a build id).',
    { differs: 'The raw and build_id (0.26) modes are newer bpftrace\'s; 0.17 has bpftrace and perf.' }),
  find: fn(3, 3, 'find(@map, key, $value)', 'uint64 (1 or 0)', 'Whether `@map[key]` exists, and if it does, its value copied into the variable $value (which takes the map\'s value type), in one lookup; $value is left as it was when the key is missing. Not for maps without keys or of aggregations (count()...).',
    { differs: 'Newer bpftrace\'s (0.26); it prints 1/0 where 0.26 prints true/false.' }),
  has_key: fn(2, 2, 'has_key(@map, key)', 'uint64 (1 or 0)', 'Whether `@map[key]` exists (a tuple key as `(1, "a")`); not for maps without keys or hist()/lhist()/tseries() maps.',
    { differs: 'Newer bpftrace\'s (0.22+); it prints 1/0 where 0.26 prints true/false.' }),
  nsecs: fn(0, 1, 'nsecs([monotonic|boot|tai|sw_tai])', 'uint64', 'Nanoseconds of the clock named; bare `nsecs` is monotonic (as 0.17; 0.26 makes it boot); sw_tai reads the TAI clock here.',
    { differs: 'Newer bpftrace\'s (0.24+).' }),
  pid: fn(0, 1, 'pid([curr_ns|init])', 'uint64', 'The process id in tracelet\'s pid namespace (curr_ns; 0 for a task outside it) or the initial one (init, as bare `pid`).',
    { differs: 'Newer bpftrace\'s (0.24+); bare `pid` stays 0.17\'s (init) where 0.26 makes it curr_ns.' }),
  tid: fn(0, 1, 'tid([curr_ns|init])', 'uint64', 'The thread id in tracelet\'s pid namespace (curr_ns) or the initial one (init, as bare `tid`).',
    { differs: 'Newer bpftrace\'s (0.24+); bare `tid` stays 0.17\'s (init).' }),
  comm: fn(0, 1, 'comm([pid])', 'string', 'The name of the process (thread) with that pid, "N/A" when there is none (counted and reported at exit). It calls the bpf_task_from_pid kfunc, which this kernel lets tracepoint, profile, interval and software probes call, not uprobes, usdt, rawtracepoint, BEGIN or END (refused with a located error, as in bpftrace 0.26). Bare `comm` is the current task\'s.',
    { differs: 'Newer bpftrace\'s (0.26).', kfuncs: ['bpf_task_from_pid', 'bpf_task_release'] }),
  fail: fn(1, Infinity, 'fail(fmt, ...)', 'nothing',
    'Stops the compilation with an error at the call, its message formatted as printf (the arguments literals or constants, such as `$1`), when the call is reached: not in a branch a constant condition never takes (`if ($1 < 2) { fail("...") }`), nor in the branch an `if comptime` leaves out.',
    { differs: 'Newer bpftrace\'s (0.26).' }),
  static_assert: fn(2, 2, 'static_assert(cond, "message")', 'nothing',
    'Stops the compilation with the message as an error at the call when cond, a condition known at compile time (constants, `$1`, sizeof, the is_*() predicates), is false.',
    { differs: 'Newer bpftrace\'s (0.26).' }),
  len: fn(1, 1, 'len(@map) or len(ustack) or len(kstack)', 'int64',
    'The number of entries of a map with keys (counted by the kernel as it walks the map, bpf_for_each_map_elem), or the number of frames of the current user or kernel stack (`len(ustack)`, `len(kstack(5))`: at most its depth).',
    { differs: 'Newer bpftrace\'s (0.26). A stack is counted where it is taken: `len($s)` of a stack kept in a variable or map is refused (tracelet keeps a stack as an id in a stack table, keyed by the stack, which a program cannot look up by id).' }),
  memcmp: fn(3, 3, 'memcmp(left, right, int count)', 'int64',
    'Compares the first count bytes of two values as they are held in the program (strings, arrays, tuples, records; an integer or pointer at its width, little-endian): 0 when equal, else the difference of the first bytes that differ (unsigned, left minus right), as C\'s memcmp. count may be computed; a constant count must fit both values.',
    { differs: 'Newer bpftrace\'s (0.26).' }),
  kfunc_exist: fn(1, 1, 'kfunc_exist("name")', 'uint64 (1 or 0), a constant', 'Whether the kernel\'s BTF has the function `name` (a kernel function a BPF program may be allowed to call), when the program is compiled.',
    { differs: 'Newer bpftrace\'s (0.26); it prints 1/0 where 0.26 prints true/false.' }),
  kfunc_allowed: fn(1, 1, 'kfunc_allowed("name")', 'uint64 (1 or 0), a constant', 'Whether this probe\'s program type may call the kernel function `name` (this kernel is asked with a test load, as bpftrace 0.26): `if comptime kfunc_allowed("bpf_task_from_pid") { ... }`.',
    { differs: 'Newer bpftrace\'s (0.26); it prints 1/0 where 0.26 prints true/false.' }),
  is_array: typePredicate('is_array', 'an array (`(int32[2])x`, `pton("::1")`, an array field; char arrays are strings here)'),
  is_integer: typePredicate('is_integer', 'an integer (not a pointer, a bool or a string)'),
  is_unsigned_integer: typePredicate('is_unsigned_integer', 'an unsigned integer'),
  is_ptr: typePredicate('is_ptr', 'a pointer (`curtask`, `args.filename`, `(int8 *)$a`)'),
  is_str: typePredicate('is_str', 'a string (`comm`, `"a"`, `str(p)`)'),
  is_literal: typePredicate('is_literal', 'a literal: an integer (`-1` too), a string or `true`/`false`; useful in a macro, whose parameter is the expression given'),
  override: fn(1, 1, 'override(int rc)', 'nothing', 'Overrides the return value of the probed kernel function.', {
    unsafe: true,
    providers: ['kprobe'],
    differs: 'Needs kprobes, which this kernel lacks: refused at compile time.',
  }),
} satisfies Record<string, BuiltinFunction>;

export type FunctionName = keyof typeof TABLE;
export const BUILTIN_FUNCTIONS: Readonly<Record<FunctionName, BuiltinFunction>> = TABLE;

/** Every function's name, in table order. */
export const FUNCTION_NAMES = Object.keys(BUILTIN_FUNCTIONS) as readonly FunctionName[];

/** The record key of a function's name, or undefined for a name that is no function. */
export function functionNamed(name: string): FunctionName | undefined {
  return Object.hasOwn(BUILTIN_FUNCTIONS, name) ? name as FunctionName : undefined;
}

/** Whether `name` is an aggregation (count, hist...), valid only as `@map = name(...)`. */
export function isAggregation(name: string): boolean {
  const key = functionNamed(name);
  return key !== undefined && BUILTIN_FUNCTIONS[key].aggregation === true;
}
