// The probe types (providers): one record each, read by the parser (names, fields), the type
// checker (how the attach point is written), codegen (program type, section, name), the runtime
// (availability), `-l` and the docs. A stage with work of its own per provider keeps one table
// `satisfies Record<ProbeProvider, ...>` (expansion in src/typecheck/probes.ts, attaching in
// src/runtime/session.ts, listing in src/cli/list.ts), so a new record here is refused until
// every stage has its entry.
import type { ProbeProvider } from './ast.js';

export type { ProbeProvider };

/** The BPF program types tracelet loads (libbpf's names, as the addon takes them). */
export type ProgramType = 'raw_tracepoint' | 'tracepoint' | 'perf_event' | 'kprobe' | 'uprobe_multi' | 'xdp';

/** What the kernel may lack (KernelInfo.hasFeature). */
export type KernelFeature = 'kprobes' | 'kfunc' | 'hardware' | 'iter' | 'uprobes';

export interface ProviderRecord {
  /** Other spellings: `t` for tracepoint, `fentry` for kfunc. */
  readonly aliases: readonly string[];
  /** Spellings offered in "did you mean" hints besides the name (bpftrace's newer names). */
  readonly hintAliases?: readonly string[];
  /** Fewest and most colon-separated fields after the provider. */
  readonly fields: readonly [number, number];
  /** How it is written, as the parser's hint says it (`tracepoint:category:event`). */
  readonly syntax: string;
  /** How it is written, as the type checker's message says it (`tracepoint:CATEGORY:EVENT`). */
  readonly form: string;
  /** The program type of its code (several uprobes of one binary share an `uprobe_multi` one). */
  readonly programType: Exclude<ProgramType, 'uprobe_multi'>;
  /** The ELF section of a program for a target with these fields. */
  readonly section: (parts: readonly string[]) => string;
  /** In program names: `tl_TAG_N`. */
  readonly tag: string;
  /** `-l`: its probes come from the kernel, from a binary (`-l 'uprobe:BIN:*'`), or none. */
  readonly listing: 'kernel' | 'binary' | 'none';
  /** `-l` without a probe type lists it (when this kernel can attach it). */
  readonly listedByDefault?: boolean;
  /**
   * A kernel feature it needs, the sentence saying it is missing, and when that is known: before
   * type checking (`parse`), after it (`check`), or only when attaching fails (`attach`).
   */
  readonly requires?: {
    readonly feature: KernelFeature;
    readonly message: string;
    readonly when: 'parse' | 'check' | 'attach';
    /** Refused as a wrong program (exit 1: bpftrace 0.17's type checker refuses kfunc and iter), not as the system refusing (255). */
    readonly refusedAsProgram?: boolean;
  };
  /**
   * Programs tracelet runs itself (BPF_PROG_TEST_RUN), one per probe, instead of attaching them:
   * at the start or end of the run (`BEGIN`, `END`), on a signal (`self`), or only under
   * `--test`/`--bench` (`test`, `bench`). A stopped run still runs those of `start-or-end` and
   * `option`: they skip the stopped flag.
   */
  readonly runBy?: 'start-or-end' | 'signal' | 'option';
  /** Set when tracelet cannot load its programs yet: why. */
  readonly unsupported?: string;
  /** One line for the docs. */
  readonly doc: string;
}

const KPROBES = { feature: 'kprobes', message: 'kprobes are not available: this kernel was built without CONFIG_KPROBES', when: 'parse' } as const;
const KFUNC = { feature: 'kfunc', message: 'kfunc/fentry probes are not available: this kernel cannot load BPF tracing programs', when: 'check', refusedAsProgram: true } as const;
const TRACING_PROGRAMS = 'kfunc/fentry and iter probes cannot be loaded by tracelet yet (BPF tracing programs need attach_btf_id)';
const TIME_FORM = (p: string) => `${p}:UNIT:N (UNIT: hz, s, ms, us)`;

export const PROVIDERS = {
  BEGIN: {
    aliases: ['begin'], fields: [0, 0], syntax: 'BEGIN', form: 'BEGIN',
    runBy: 'start-or-end',
    programType: 'raw_tracepoint', section: () => 'raw_tracepoint/BEGIN', tag: 'begin', listing: 'none',
    doc: 'Runs once, before every other probe.',
  },
  END: {
    aliases: ['end'], fields: [0, 0], syntax: 'END', form: 'END',
    runBy: 'start-or-end',
    programType: 'raw_tracepoint', section: () => 'raw_tracepoint/END', tag: 'end', listing: 'none',
    doc: 'Runs once at the end (Ctrl-C, exit(), the end of -c\'s command), before the maps are printed.',
  },
  self: {
    aliases: [], fields: [2, 2], syntax: 'self:signal:SIGUSR1', form: 'self:signal:SIGUSR1',
    runBy: 'signal',
    programType: 'raw_tracepoint', section: () => 'raw_tracepoint/self', tag: 'self', listing: 'none',
    doc: 'Runs each time tracelet receives SIGUSR1 (`self:signal:SIGUSR1`, 0.25+).',
  },
  test: {
    aliases: [], fields: [1, 1], syntax: 'test:name', form: 'test:NAME',
    runBy: 'option',
    programType: 'raw_tracepoint', section: () => 'raw_tracepoint/test', tag: 'test', listing: 'none',
    doc: 'With --test (0.25+): run once each, in order; fails when it returns non-zero (`return 1`). Ignored without --test.',
  },
  bench: {
    // XDP: the program type BPF_PROG_TEST_RUN repeats and times in the kernel (as bpftrace).
    aliases: [], fields: [1, 1], syntax: 'bench:name', form: 'bench:NAME',
    runBy: 'option',
    programType: 'xdp', section: () => 'xdp', tag: 'bench', listing: 'none',
    doc: 'With --bench (0.25+): run many times each; prints the average time of one run. Returning non-zero skips it. Ignored without --bench.',
  },
  tracepoint: {
    aliases: ['t'], fields: [2, 2], syntax: 'tracepoint:category:event', form: 'tracepoint:CATEGORY:EVENT',
    programType: 'tracepoint', section: (parts) => `tracepoint/${parts[0]}/${parts[1]}`, tag: 'tp',
    listing: 'kernel', listedByDefault: true,
    doc: 'A kernel static tracepoint; its fields are `args->NAME`.',
  },
  rawtracepoint: {
    aliases: ['rt'], fields: [1, 2], syntax: 'rawtracepoint:event', form: 'rawtracepoint:EVENT',
    programType: 'raw_tracepoint', section: (parts) => `raw_tracepoint/${parts.at(-1)}`, tag: 'rtp',
    listing: 'kernel', listedByDefault: true,
    doc: 'A raw kernel tracepoint: its arguments as `argN`/`args`, typed from BTF.',
  },
  kprobe: {
    aliases: ['k'], fields: [1, 2], syntax: 'kprobe:function[+offset]', form: 'kprobe:FUNCTION[+OFFSET]',
    programType: 'kprobe', section: () => 'kprobe/kprobe', tag: 'kp', listing: 'kernel', listedByDefault: true,
    requires: KPROBES,
    doc: 'The start of a kernel function (or an offset into it).',
  },
  kretprobe: {
    aliases: ['kr'], fields: [1, 2], syntax: 'kretprobe:function', form: 'kretprobe:FUNCTION',
    programType: 'kprobe', section: () => 'kprobe/kretprobe', tag: 'kret', listing: 'kernel', requires: KPROBES,
    doc: 'The return of a kernel function; `retval` is its value.',
  },
  uprobe: {
    aliases: ['u'], fields: [1, 3], syntax: 'uprobe:binary:function[+offset]', form: 'uprobe:BINARY:FUNCTION[+OFFSET]',
    programType: 'kprobe', section: () => 'kprobe/uprobe', tag: 'up', listing: 'binary',
    doc: 'The start of a function (or an address) in a user-space binary or library.',
  },
  uretprobe: {
    aliases: ['ur'], fields: [1, 3], syntax: 'uretprobe:binary:function', form: 'uretprobe:BINARY:FUNCTION',
    programType: 'kprobe', section: () => 'kprobe/uretprobe', tag: 'uret', listing: 'binary',
    doc: 'The return of a user-space function; `retval` is its value.',
  },
  usdt: {
    aliases: ['U'], fields: [1, 3], syntax: 'usdt:binary:[provider:]name', form: 'usdt:BINARY:[PROVIDER:]NAME',
    programType: 'kprobe', section: () => 'kprobe/usdt', tag: 'usdt', listing: 'binary',
    doc: 'A USDT (static user-space) probe of a binary or library; its arguments are `argN`.',
  },
  profile: {
    aliases: ['p'], fields: [1, 2], syntax: 'profile:hz:rate or profile:unit:count', form: TIME_FORM('profile'),
    programType: 'perf_event', section: () => 'perf_event', tag: 'prof', listing: 'none',
    doc: 'A timer on every CPU (`profile:hz:99`, `profile:ms:10`).',
  },
  interval: {
    aliases: ['i'], fields: [1, 2], syntax: 'interval:unit:count, e.g. interval:s:1', form: TIME_FORM('interval'),
    programType: 'perf_event', section: () => 'perf_event', tag: 'intvl', listing: 'none',
    doc: 'A timer on one CPU (`interval:s:1`).',
  },
  software: {
    aliases: ['s'], fields: [1, 2], syntax: 'software:event[:count]', form: 'software:EVENT[:COUNT]',
    programType: 'perf_event', section: () => 'perf_event', tag: 'sw', listing: 'kernel', listedByDefault: true,
    doc: 'A software perf event (`software:page-faults:100`), every COUNT events.',
  },
  hardware: {
    aliases: ['h'], fields: [1, 2], syntax: 'hardware:event[:count]', form: 'hardware:EVENT[:COUNT]',
    programType: 'perf_event', section: () => 'perf_event', tag: 'hw', listing: 'kernel', listedByDefault: true,
    requires: {
      feature: 'hardware', when: 'attach',
      message: 'hardware counters are not available on this machine (no CPU PMU: perf_event_open gave ENOENT)',
    },
    doc: 'A hardware perf counter (`hardware:cache-misses:1000000`), every COUNT events.',
  },
  kfunc: {
    aliases: ['f', 'fentry'], hintAliases: ['fentry'], fields: [1, 2], syntax: 'kfunc:[module:]function',
    form: 'kfunc:FUNCTION', programType: 'kprobe', section: () => 'kprobe/kfunc', tag: 'kf',
    listing: 'kernel', listedByDefault: true, requires: KFUNC, unsupported: TRACING_PROGRAMS,
    doc: 'The start of a kernel function through BTF (fentry): typed `args`.',
  },
  kretfunc: {
    aliases: ['fr', 'fexit'], hintAliases: ['fexit'], fields: [1, 2], syntax: 'kretfunc:[module:]function',
    form: 'kretfunc:FUNCTION', programType: 'kprobe', section: () => 'kprobe/kretfunc', tag: 'kretf',
    listing: 'kernel', requires: KFUNC, unsupported: TRACING_PROGRAMS,
    doc: 'The return of a kernel function through BTF (fexit): typed `args` and `retval`.',
  },
  watchpoint: {
    aliases: ['w'], fields: [3, 3], syntax: 'watchpoint:address:length:mode', form: 'watchpoint:ADDRESS:LENGTH:MODE',
    programType: 'perf_event', section: () => 'perf_event', tag: 'wp', listing: 'none',
    doc: 'A hardware breakpoint on reads, writes or execution of an address.',
  },
  asyncwatchpoint: {
    aliases: ['aw'], fields: [3, 3], syntax: 'asyncwatchpoint:address:length:mode', form: 'asyncwatchpoint:ADDRESS:LENGTH:MODE',
    programType: 'perf_event', section: () => 'perf_event', tag: 'awp', listing: 'none',
    doc: 'A watchpoint that does not stop the traced task.',
  },
  iter: {
    aliases: ['it'], fields: [1, 2], syntax: 'iter:object[:pin]', form: 'iter:OBJECT',
    programType: 'kprobe', section: () => 'kprobe/iter', tag: 'it', listing: 'kernel', listedByDefault: true,
    requires: { feature: 'iter', message: 'iter probes are not available: this kernel cannot load BPF iterator programs', when: 'parse', refusedAsProgram: true },
    unsupported: TRACING_PROGRAMS,
    doc: 'A BPF iterator over kernel objects (`iter:task`).',
  },
} as const satisfies Record<ProbeProvider, ProviderRecord>;

/** Every provider, in table order. */
export const PROVIDER_LIST = Object.keys(PROVIDERS) as ProbeProvider[];

/**
 * Whether field `index` of `count` may be empty: only a usdt probe's file (`usdt::[provider:]name`),
 * which bpftrace 0.17 takes from -p's process or -c's command.
 */
export function mayBeEmpty(provider: ProbeProvider, index: number, count: number): boolean {
  return provider === 'usdt' && index === 0 && count > 1;
}

/** The record of a provider. */
export function providerRecord(p: ProbeProvider): ProviderRecord {
  return PROVIDERS[p];
}

/** Whether a probe runs in a traced process's code (its registers and memory are user space): the providers of a binary's probes. */
export function inTracedProcess(p: ProbeProvider): boolean {
  return PROVIDERS[p].listing === 'binary';
}

/** Every way a provider is written (`t`, `tracepoint`, `fentry`...) → the provider. */
const BY_NAME: ReadonlyMap<string, ProbeProvider> = new Map(
  PROVIDER_LIST.flatMap((p) => [[p, p] as const, ...providerRecord(p).aliases.map((a) => [a, p] as const)]),
);

/**
 * The provider a word names (`t` → tracepoint), or undefined. Any case names it, as in bpftrace
 * 0.2x (`Tracepoint`, `Begin`), but an exact name first: `U` stays 0.17's usdt (not `u`).
 */
export function providerNamed(word: string): ProbeProvider | undefined {
  return BY_NAME.get(word) ?? BY_NAME.get(word.toLowerCase());
}

/**
 * The spellings offered in hints: every name, with bpftrace's newer names after the run of
 * records they belong to (`kfunc, kretfunc, fentry, fexit`).
 */
export const PROVIDER_HINT_NAMES: readonly string[] = PROVIDER_LIST.flatMap((p, i) => {
  const run = (q: ProbeProvider | undefined) => (q === undefined ? undefined : providerRecord(q).hintAliases);
  if (!run(p) || run(PROVIDER_LIST[i + 1])) return [p];
  let first = i;
  while (run(PROVIDER_LIST[first - 1])) first--;
  return [p, ...PROVIDER_LIST.slice(first, i + 1).flatMap((q) => run(q)!)];
});

/** How bpftrace 0.26 names probe types where its name is not tracelet's (the `probetype` builtin). */
const PROBE_TYPE_NAMES: Partial<Record<ProbeProvider, string>> = {
  BEGIN: 'special', END: 'special', self: 'special', bench: 'benchmark', kfunc: 'fentry', kretfunc: 'fexit', asyncwatchpoint: 'watchpoint',
};

/** The name of a probe type as bpftrace 0.26's `probetype` gives it (`special` for BEGIN and END). */
export function probeTypeName(provider: ProbeProvider): string {
  return PROBE_TYPE_NAMES[provider] ?? provider;
}
