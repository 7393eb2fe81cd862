// Attach points → the concrete targets a program is attached to (wildcards expanded), with
// diagnostics for ones that do not exist.
import { wildcardRegExp } from '../model/wildcards.js';
import type { AttachPoint, Probe, ProbeProvider } from '../model/ast.js';
import { mayBeEmpty, providerRecord } from '../model/providers.js';
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/render.js';
import type { ElfSymbol, KernelInfo } from '../kernel/kernel-info.js';
import { PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, type ProbeTarget } from '../model/program.js';
import { parseDuration } from '../model/durations.js';

const TIME_UNITS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n, hz: 0n };

/** A software or hardware event as bpftrace 0.17 names it: alias, perf config, default period. */
export interface PerfEventInfo {
  readonly name: string;
  readonly alias: string;
  readonly config: number;
  readonly defaultPeriod: number;
}

export const SOFTWARE_EVENTS: readonly PerfEventInfo[] = [
  { name: 'alignment-faults', alias: '', config: 7, defaultPeriod: 1 },
  { name: 'bpf-output', alias: '', config: 10, defaultPeriod: 1 },
  { name: 'context-switches', alias: 'cs', config: 3, defaultPeriod: 1000 },
  { name: 'cpu-clock', alias: 'cpu', config: 0, defaultPeriod: 1000000 },
  { name: 'cpu-migrations', alias: '', config: 4, defaultPeriod: 1 },
  { name: 'dummy', alias: '', config: 9, defaultPeriod: 1 },
  { name: 'emulation-faults', alias: '', config: 8, defaultPeriod: 1 },
  { name: 'major-faults', alias: '', config: 6, defaultPeriod: 1 },
  { name: 'minor-faults', alias: '', config: 5, defaultPeriod: 100 },
  { name: 'page-faults', alias: 'faults', config: 2, defaultPeriod: 100 },
  { name: 'task-clock', alias: '', config: 1, defaultPeriod: 1000000 },
];

export const HARDWARE_EVENTS: readonly PerfEventInfo[] = [
  { name: 'backend-stalls', alias: '', config: 8, defaultPeriod: 1000000 },
  { name: 'branch-instructions', alias: 'branches', config: 4, defaultPeriod: 100000 },
  { name: 'branch-misses', alias: '', config: 5, defaultPeriod: 100000 },
  { name: 'bus-cycles', alias: '', config: 6, defaultPeriod: 100000 },
  { name: 'cache-misses', alias: '', config: 3, defaultPeriod: 1000000 },
  { name: 'cache-references', alias: '', config: 2, defaultPeriod: 1000000 },
  { name: 'cpu-cycles', alias: 'cycles', config: 0, defaultPeriod: 1000000 },
  { name: 'frontend-stalls', alias: '', config: 7, defaultPeriod: 1000000 },
  { name: 'instructions', alias: '', config: 1, defaultPeriod: 1000000 },
  { name: 'ref-cycles', alias: '', config: 9, defaultPeriod: 1000000 },
];

/** What probe expansion needs beyond the kernel: the -p/-c pid and a C++ demangler. */
export interface ExpandOptions {
  readonly pid?: number;
  readonly demangle?: (name: string) => string;
  /** --unsafe: a uprobe inside a function is attached unchecked (with a warning). */
  readonly unsafe?: boolean;
  /** false (BPFTRACE_NO_CPP_DEMANGLE=1, cpp_demangle): a C++ uprobe's `func` prints mangled. */
  readonly cppDemangle?: boolean;
  /** The file the -c command runs: with no file, or a wildcard (`usdt:*:python:line`), a probe is in it. */
  readonly childProgram?: string;
}

/** C++ names match with or without their parameter list (`ns::f` matches `ns::f(int)`). */
function demangledForms(name: string, demangle?: (n: string) => string): string[] {
  if (!demangle || !name.startsWith('_Z')) return [];
  const d = demangle(name);
  if (!d || d === name) return [];
  const paren = d.indexOf('(');
  return paren > 0 ? [d, d.slice(0, paren)] : [d];
}

export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

/** Glob match with `*` and `?`, as bpftrace matches attach points. */
export const globToRegExp = (glob: string): RegExp => wildcardRegExp(glob);

export function expandAttachPoint(
  ap: AttachPoint,
  kernel: KernelInfo,
  diagnostics: Diagnostic[],
  options: ExpandOptions = {},
): ProbeTarget[] {
  const target = (parts: readonly string[], name = [ap.provider, ...parts].join(':')): ProbeTarget => ({
    provider: ap.provider,
    name,
    parts,
    attachPoint: ap,
  });
  const fail = (code: string, message: string, hint?: string): ProbeTarget[] => {
    diagnostics.push(error(code, ap.span, message, hint));
    return [];
  };

  const { fields: [minParts, maxParts], form } = providerRecord(ap.provider);
  const empty = ap.parts.some((p, i) => p === '' && !mayBeEmpty(ap.provider, i, ap.parts.length));
  if (ap.parts.length < minParts || ap.parts.length > maxParts || empty) {
    return fail('E_ATTACH_POINT', `${ap.provider} must be written ${form}, got '${ap.raw}'`);
  }
  return EXPANDERS[ap.provider]({ ap, kernel, options, diagnostics, fail, target });
}

/** What expanding one attach point works with. */
interface Expansion {
  readonly ap: AttachPoint;
  readonly kernel: KernelInfo;
  readonly options: ExpandOptions;
  readonly diagnostics: Diagnostic[];
  /** Reports an error at the attach point and returns no targets. */
  readonly fail: Fail;
  /** A target of this attach point with these fields (named `provider:fields...` unless told). */
  readonly target: MakeTarget;
}

/** test: and bench: probes are reported by name: two of one kind may not share it (as bpftrace). */
export function checkTestNames(probes: readonly Probe[], diagnostics: Diagnostic[]): void {
  const seen = new Map<string, AttachPoint>();
  for (const ap of probes.flatMap((p) => p.attachPoints)) {
    if (providerRecord(ap.provider).runBy !== 'option') continue;
    const key = `${ap.provider}:${ap.parts[0]}`;
    const other = seen.get(key);
    if (!other) {
      seen.set(key, ap);
      continue;
    }
    diagnostics.push(error('E_ATTACH_POINT', ap.span, `'${ap.parts[0]}' names more than one ${ap.provider} probe`,
      `the other is at line ${other.span.line}; give each ${ap.provider} probe its own name`));
  }
}

/** Attach point → targets, per provider (its fields are already counted). */
const EXPANDERS = {
  BEGIN: ({ ap, target }) => [target([], ap.provider)],
  END: ({ ap, target }) => [target([], ap.provider)],
  self: ({ ap, fail, target }) => (ap.parts[0] === 'signal' && ap.parts[1] === 'SIGUSR1'
    ? [target(ap.parts)] : fail('E_ATTACH_POINT', `self must be written self:signal:SIGUSR1, got '${ap.raw}'`, 'SIGUSR1 is the only signal bpftrace 0.26 offers')),
  test: ({ ap, target }) => [target(ap.parts)],
  bench: ({ ap, target }) => [target(ap.parts)],
  tracepoint: expandTracepoint,
  rawtracepoint: expandRawTracepoint,
  kprobe: expandKprobe,
  kretprobe: expandKprobe,
  uprobe: (expansion) => expandUprobe(expansion).map((t) => withPrintedFunc(t, expansion.options)),
  uretprobe: (expansion) => expandUprobe(expansion).map((t) => withPrintedFunc(t, expansion.options)),
  usdt: ({ ap, kernel, options, fail, target }) => expandUsdt(ap, kernel, options, fail, target),
  profile: expandTimer,
  interval: expandTimer,
  software: expandPerfEvent,
  hardware: expandPerfEvent,
  kfunc: expandKfunc,
  kretfunc: expandKfunc,
  watchpoint: expandWatchpoint,
  asyncwatchpoint: expandWatchpoint,
  iter: ({ ap, target }) => [target(ap.parts)],
} satisfies Record<ProbeProvider, (x: Expansion) => ProbeTarget[]>;

function expandTracepoint({ ap, kernel, fail, target }: Expansion): ProbeTarget[] {
  if (ap.parts.length !== 2) {
    return fail('E_ATTACH_POINT', `tracepoint must be written tracepoint:CATEGORY:EVENT, got '${ap.raw}'`);
  }
  const [category, event] = ap.parts as [string, string];
  if (hasWildcard(category) || hasWildcard(event)) {
    const re = globToRegExp(`${category}:${event}`);
    const matches = kernel.listTracepoints().filter((tp) => re.test(tp));
    if (matches.length === 0) return fail('E_UNKNOWN_TRACEPOINT', `no tracepoint matches ${category}:${event}`);
    return matches.map((m) => target(m.split(':')));
  }
  if (!kernel.hasTracepoint(category, event)) {
    const suggestion = closest(`${category}:${event}`, kernel.listTracepoints());
    return fail(
      'E_UNKNOWN_TRACEPOINT',
      `unknown tracepoint ${category}:${event}`,
      suggestion ? `did you mean tracepoint:${suggestion}?` : 'list tracepoints with: tracelet -l "tracepoint:*"',
    );
  }
  return [target([category, event])];
}

/**
 * interval:s:1, profile:hz:99, and the short forms of bpftrace 0.24+: a duration
 * (interval:100ms, interval:1m) or nanoseconds (interval:1000000), at least 1us; 99hz.
 */
function expandTimer({ ap, fail, target }: Expansion): ProbeTarget[] {
  let unit = '';
  let value = '';
  if (ap.parts.length === 2) [unit, value] = ap.parts as [string, string];
  else if (ap.parts.length === 1) {
    const text = ap.parts[0]!;
    const plain = /^(\d+)(hz|s|ms|us|ns)$/.exec(text);
    const ns = /^\d[\d_]*$/.test(text) && !text.endsWith('_') ? BigInt(text.replace(/_/g, '')) : parseDuration(text);
    if (plain) [value, unit] = [plain[1]!, plain[2]!];
    else if (ns !== undefined && ns < 1000n) {
      return fail('E_ATTACH_POINT', `${ap.provider}:${text} is ${ns} nanoseconds; the shortest period is 1us`,
        /^\d+$/.test(text) ? `a bare number is nanoseconds (as in bpftrace 0.26); for ${text} times a second write ${ap.provider}:hz:${text}` : undefined);
    } else if (ns !== undefined) [value, unit] = ns % 1000n === 0n ? [String(ns / 1000n), 'us'] : [String(ns), 'ns'];
  }
  if (!(unit in TIME_UNITS) || !/^\d+$/.test(value) || BigInt(value) === 0n) {
    return fail(
      'E_ATTACH_POINT',
      `${ap.provider} must be written ${ap.provider}:UNIT:N with UNIT one of s, ms, us, hz and N > 0, got '${ap.raw}'`,
    );
  }
  const t = target([unit, value]);
  const period = unit === 'hz' ? Number(value) : Number(BigInt(value) * TIME_UNITS[unit]!);
  return [{ ...t, perf: { type: PERF_TYPE_SOFTWARE, config: 0, period, frequency: unit === 'hz' } }];
}

function expandPerfEvent({ ap, fail, target }: Expansion): ProbeTarget[] {
  const table = ap.provider === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
  const [event, count] = ap.parts as [string, string | undefined];
  const info = table.find((x) => x.name === event || (x.alias !== '' && x.alias === event));
  if (!info) {
    const names = table.flatMap((x) => (x.alias ? [x.name, x.alias] : [x.name]));
    const suggestion = closest(event ?? '', names);
    return fail('E_UNKNOWN_EVENT', `unknown ${ap.provider} event '${event}'`,
      suggestion ? `did you mean ${ap.provider}:${suggestion}?` : `events: ${table.map((x) => x.name).join(', ')}`);
  }
  const period = count !== undefined ? Number(count) : info.defaultPeriod;
  if (!(period > 0)) return fail('E_ATTACH_POINT', `${ap.provider} count must be greater than 0`);
  return [{
    ...target(ap.parts),
    perf: { type: ap.provider === 'software' ? PERF_TYPE_SOFTWARE : PERF_TYPE_HARDWARE, config: info.config, period, frequency: false },
  }];
}

function expandRawTracepoint({ ap, kernel, fail, target }: Expansion): ProbeTarget[] {
  const event = ap.parts.at(-1)!;
  const all = kernel.listRawTracepoints();
  if (hasWildcard(event)) {
    const re = globToRegExp(event);
    const matches = all.filter((n) => re.test(n));
    if (matches.length === 0) return fail('E_UNKNOWN_TRACEPOINT', `no raw tracepoint matches ${event}`);
    return matches.map((m) => target([m]));
  }
  if (!all.includes(event)) {
    const suggestion = closest(event, all);
    return fail('E_UNKNOWN_TRACEPOINT', `unknown raw tracepoint ${event}`,
      suggestion ? `did you mean rawtracepoint:${suggestion}?` : 'list raw tracepoints with: tracelet -l "rawtracepoint:*"');
  }
  return [target([event])];
}

function expandKprobe({ ap, kernel, fail, target }: Expansion): ProbeTarget[] {
  const spec = ap.parts.at(-1)!;
  const plus = spec.lastIndexOf('+');
  const func = plus > 0 ? spec.slice(0, plus) : spec;
  const offsetText = plus > 0 ? spec.slice(plus + 1) : '0';
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(offsetText)) {
    return fail('E_ATTACH_POINT', `the offset in ${ap.provider}:${spec} must be a number, got '${offsetText}'`);
  }
  const offset = BigInt(offsetText);
  if (hasWildcard(func)) {
    const re = globToRegExp(func);
    const names = [...new Set(kernel.kernelSymbols().map((s) => s.name))].filter((n) => re.test(n)).sort();
    if (names.length === 0) return fail('E_UNKNOWN_FUNCTION', `no kernel function matches ${func}`);
    return names.map((n) => ({ ...target([n], `${ap.provider}:${n}`), func: n }));
  }
  return [{ ...target([spec], `${ap.provider}:${spec}`), func, address: offset }];
}

function expandKfunc({ ap, kernel, fail, target }: Expansion): ProbeTarget[] {
  const func = ap.parts.at(-1)!;
  if (hasWildcard(func)) {
    const list = kernel.listKernelFunctions?.() ?? [];
    const re = globToRegExp(func);
    const names = list.filter((n) => re.test(n));
    if (names.length === 0) return fail('E_UNKNOWN_FUNCTION', `no kernel function matches ${func}`);
    return names.map((n) => ({ ...target([n], `${ap.provider}:${n}`), func: n }));
  }
  if (!kernel.kernelFunction?.(func)) {
    return fail('E_UNKNOWN_FUNCTION', `kernel function ${func} is not in BTF`, 'list them with: tracelet -l "kfunc:*"');
  }
  return [{ ...target([func], `${ap.provider}:${func}`), func }];
}

function expandWatchpoint({ ap, fail, target }: Expansion): ProbeTarget[] {
  const [addr, len, mode] = ap.parts as [string, string, string];
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(addr)) {
    return fail('E_UNSUPPORTED_PROBE', `watchpoints on function arguments (${addr}) are not supported; give an address`);
  }
  const length = Number(len);
  if (![1, 2, 4, 8].includes(length)) return fail('E_ATTACH_POINT', `watchpoint length must be 1, 2, 4 or 8, got ${len}`);
  if (!['r', 'w', 'rw', 'wr', 'x'].includes(mode)) {
    return fail('E_ATTACH_POINT', `watchpoint mode must be r, w, rw or x, got '${mode}'`);
  }
  if (mode === 'x' && length !== 8) return fail('E_ATTACH_POINT', 'an execute (x) watchpoint must have length 8');
  const address = BigInt(addr);
  return [{ ...target([`0x${address.toString(16)}`, len, mode]), address, watch: { length, mode } }];
}

type Fail = (code: string, message: string, hint?: string) => ProbeTarget[];
type MakeTarget = (parts: readonly string[], name?: string) => ProbeTarget;

/** The binary of a uprobe/usdt: as written, resolved like bpftrace (PATH, ld.so.cache, the pid's maps). */
function binaryOf(ap: AttachPoint, written: string | undefined, kernel: KernelInfo, options: ExpandOptions, fail: Fail): string | ProbeTarget[] {
  // With -c, no file or a wildcard (`usdt:*:python:line`) is the command's program, as in bpftrace.
  if (options.childProgram !== undefined && options.pid === undefined && (!written || hasWildcard(written))) {
    return options.childProgram;
  }
  if (!written && options.pid === undefined) {
    return fail('E_ATTACH_POINT', `${ap.provider} needs a binary or library, e.g. ${ap.provider}:/bin/bash:readline (or -p PID or -c)`);
  }
  // With -p, no file or a wildcard is the process's program, as in bpftrace.
  const path = kernel.resolveBinary(written ?? '', options.pid);
  if (!path) return fail('E_UNKNOWN_BINARY', `cannot find binary or library '${written}'`, 'give a path, or a library name like libc');
  return path;
}

function expandUprobe({ ap, kernel, options, fail, target, diagnostics }: Expansion): ProbeTarget[] {
  const parts = ap.parts;
  const written = parts.length >= 2 ? parts[0] : undefined;
  const lang = parts.length === 3 ? parts[1] : undefined;
  const spec = parts.at(-1)!;
  const path = binaryOf(ap, written, kernel, options, fail);
  if (typeof path !== 'string') return path;
  const symbols = kernel.elfSymbols(path);
  // A raw address: a virtual address in the file, converted to a file offset.
  if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(spec)) {
    const addr = BigInt(spec);
    const within = symbols.find((s) => s.type === 'func' && addr >= s.address && addr < s.address + (s.size || 1n));
    if (!within) {
      if (!options.unsafe) {
        return fail('E_ATTACH_POINT', `no function of ${path} holds address ${spec}`,
          'a uprobe in the middle of an instruction corrupts the traced process: --unsafe attaches it unchecked');
      }
      diagnostics.push(warning('W_UNCHECKED_UPROBE', ap.span, `${path}:${spec} is in no function: attached unchecked`,
        'a uprobe in the middle of an instruction corrupts the traced process'));
      return [uprobeTarget(ap, target, path, lang, spec, addr)];
    }
    const refused = insideFunction(ap, `${path}:${within.name}+${addr - within.address}`, addr - within.address, options, diagnostics, fail);
    if (refused) return refused;
    // `func` is the function, as in bpftrace; its `probe` keeps the address, in decimal as 0.17
    // writes it (`uprobe:/bin/app:4198758` for 0x401166).
    return [{ ...uprobeTarget(ap, target, path, lang, addr.toString(), within.fileOffset + (addr - within.address)), func: within.name }];
  }
  if (symbols.length === 0) return fail('E_UNKNOWN_BINARY', `'${path}' has no symbols (or is not an ELF file)`);
  const own = uprobeFunctions(ap, target, path, symbols, options, fail, diagnostics);
  if (own) return own;

  // Not defined here, but maybe in a library this file loads (glibc 2.34 moved libpthread's
  // functions into libc, leaving libpthread.so.0 a stub): a library's callers reach it there.
  const wild = hasWildcard(spec);
  let hint: string | undefined;
  for (const dep of kernel.libraryDependencies?.(path) ?? []) {
    const there = uprobeFunctions(ap, target, dep, kernel.elfSymbols(dep), options, fail, diagnostics);
    if (!there) continue;
    const where = `uprobe:${dep}:${spec}`;
    // An executable's own calls are not the library's: attaching there would trace every process.
    if (!isSharedLibrary(path)) {
      hint = `it is in ${dep}, which this binary loads: attach there with ${where}`;
      break;
    }
    diagnostics.push(warning('W_FUNCTION_IN_DEPENDENCY', ap.span,
      wild ? `${path} has no function matching ${spec}: attaching to the ${there.length} in ${dep}, a library it loads`
        : `${path} has no function ${spec}: attaching to it in ${dep}, a library it loads`,
      `write ${where} to attach there without this warning`));
    return there;
  }
  if (wild) return fail('E_UNKNOWN_FUNCTION', `no function in ${path} matches ${spec}`, hint);
  const plus = spec.lastIndexOf('+');
  const name = plus > 0 ? spec.slice(0, plus) : spec;
  const suggestion = closest(name, symbols.filter((f) => f.type === 'func').map((f) => f.name));
  return fail('E_UNKNOWN_FUNCTION', `no function ${name} in ${path}`, hint ?? (suggestion ? `did you mean ${suggestion}?` : undefined));
}

/**
 * A uprobe `offset` bytes into a function: tracelet cannot tell whether that is the start of an
 * instruction (it has no disassembler; neither has Debian's bpftrace 0.17, which refuses such
 * probes too), and a breakpoint in the middle of one corrupts the traced process (a SIGSEGV, or
 * no event at all). Refused unless --unsafe, then attached with a warning; a uretprobe never.
 * Undefined when the probe may be attached.
 */
function insideFunction(
  ap: AttachPoint, where: string, offset: bigint, options: ExpandOptions, diagnostics: Diagnostic[], fail: Fail,
): ProbeTarget[] | undefined {
  if (offset === 0n) return undefined;
  if (ap.provider === 'uretprobe') return fail('E_ATTACH_POINT', `a uretprobe cannot be attached inside a function (${where})`);
  if (!options.unsafe) {
    return fail('E_UNCHECKED_UPROBE', `cannot check that ${where} is at the start of an instruction`,
      'a uprobe in the middle of an instruction corrupts the traced process: --unsafe attaches it unchecked');
  }
  diagnostics.push(warning('W_UNCHECKED_UPROBE', ap.span, `${where} is attached unchecked: it may be in the middle of an instruction`,
    'a uprobe in the middle of an instruction corrupts the traced process'));
  return undefined;
}

/** A C++ function's `func` prints demangled, as bpftrace prints it (a symbol of the probe's address). */
function withPrintedFunc(t: ProbeTarget, options: ExpandOptions): ProbeTarget {
  if (!t.func?.startsWith('_Z') || !options.demangle || options.cppDemangle === false) return t;
  const printed = options.demangle(t.func);
  return printed && printed !== t.func ? { ...t, funcPrinted: printed } : t;
}

function uprobeTarget(ap: AttachPoint, target: MakeTarget, path: string, lang: string | undefined, shown: string, address: bigint): ProbeTarget {
  return { ...target(lang ? [path, lang, shown] : [path, shown], `${ap.provider}:${path}:${shown}`), path, address, func: shown };
}

/** `lib….so…` files: a library, not a program. */
function isSharedLibrary(path: string): boolean {
  return /\.so(\.|$)/.test(path.slice(path.lastIndexOf('/') + 1));
}

/**
 * The targets `FUNC`, `FUNC+OFFSET` or a wildcard names in one file, or undefined when no
 * function there has that name.
 */
function uprobeFunctions(
  ap: AttachPoint, target: MakeTarget, path: string, symbols: readonly ElfSymbol[], options: ExpandOptions, fail: Fail,
  diagnostics: Diagnostic[],
): ProbeTarget[] | undefined {
  const lang = ap.parts.length === 3 ? ap.parts[1] : undefined;
  const spec = ap.parts.at(-1)!;
  const make = (func: string, address: bigint, shown = func) => uprobeTarget(ap, target, path, lang, shown, address);
  const plus = spec.lastIndexOf('+');
  if (plus > 0 && /^(0[xX][0-9a-fA-F]+|\d+)$/.test(spec.slice(plus + 1))) {
    const name = spec.slice(0, plus);
    const off = BigInt(spec.slice(plus + 1));
    const sym = symbols.find((s) => s.name === name && s.type === 'func');
    if (!sym) return undefined;
    if (sym.size > 0n && off >= sym.size) {
      return fail('E_ATTACH_POINT', `offset ${off} is beyond the end of ${name} (${sym.size} bytes)`);
    }
    return insideFunction(ap, `${path}:${spec}`, off, options, diagnostics, fail) ?? [make(spec, sym.fileOffset + off)];
  }
  const cpp = lang === 'cpp' || spec.includes('::');
  const matches: ProbeTarget[] = [];
  const seen = new Set<string>();
  const re = hasWildcard(spec) ? globToRegExp(spec) : undefined;
  const test = (n: string) => (re ? re.test(n) : n === spec);
  for (const s of symbols) {
    if (s.type !== 'func') continue;
    if (re && s.name.includes('.part.')) continue; // GCC's outlined pieces, as bpftrace skips them
    let shown: string | undefined;
    if (!cpp && test(s.name)) shown = s.name;
    else {
      const forms = demangledForms(s.name, options.demangle);
      // Matched by its demangled name: bpftrace 0.17 names the probe by the symbol
      // (`uprobe:/bin/app:_ZN2ns4waveEi`); the newer `cpp:` form by the name written.
      if (forms.some(test)) shown = lang === 'cpp' ? forms[0] : s.name;
      else if (cpp && test(s.name)) shown = s.name;
    }
    if (shown === undefined || seen.has(s.name)) continue;
    seen.add(s.name);
    matches.push(make(s.name, s.fileOffset, shown));
  }
  if (matches.length === 0) return undefined;
  return matches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The files a usdt probe's file field stands for, as bpftrace 0.17 names them (a run and -l
 * alike): `path` itself, except with -p, where no file or a wildcard is every file the process
 * runs (its program and its libraries, where libjvm's or libstdc++'s probes are), and a file is
 * named through the process's root (`usdt:/proc/PID/root/usr/bin/app:...`).
 */
export function usdtFiles(kernel: KernelInfo, written: string | undefined, path: string, pid: number | undefined): readonly string[] {
  if (pid === undefined) return [path];
  if (!written || hasWildcard(written)) return kernel.processFiles?.(pid) ?? [path];
  return [path.startsWith(`/proc/${pid}/`) || !path.startsWith('/') ? path : `/proc/${pid}/root${path}`];
}

function expandUsdt(ap: AttachPoint, kernel: KernelInfo, options: ExpandOptions, fail: Fail, target: MakeTarget): ProbeTarget[] {
  const parts = ap.parts;
  const written = parts.length >= 2 ? parts[0] : undefined;
  const providerPattern = parts.length === 3 ? parts[1]! : '*';
  const namePattern = parts.at(-1)!;
  const path = binaryOf(ap, written, kernel, options, fail);
  if (typeof path !== 'string') return path;
  const pid = options.pid;
  const files = usdtFiles(kernel, written, path, pid);
  const probes = files.flatMap((file) => kernel.usdtProbes(file).map((p) => ({ file, p })));
  const where = files.length === 1 ? files[0] : `process ${pid}`;
  if (probes.length === 0) return fail('E_UNKNOWN_USDT', `${where} has no USDT probes`);
  const pre = globToRegExp(providerPattern);
  const nre = globToRegExp(namePattern);
  const matches = probes.filter(({ p }) => pre.test(p.provider) && nre.test(p.name));
  if (matches.length === 0) {
    return fail('E_UNKNOWN_USDT', `no USDT probe ${parts.length === 3 ? `${providerPattern}:` : ''}${namePattern} in ${where}`,
      `probes: ${[...new Set(probes.map(({ p }) => `${p.provider}:${p.name}`))].slice(0, 8).join(', ')}`);
  }
  return matches.map(({ file, p }) => ({
    ...target([file, p.provider, p.name], `usdt:${file}:${p.provider}:${p.name}`),
    path: file,
    address: p.fileOffset,
    usdt: { provider: p.provider, name: p.name, args: p.args, semaphoreOffset: p.semaphoreOffset },
  }));
}

/** The period of an interval/profile target in nanoseconds, or the frequency for `hz`. */
export function timerPeriod(t: ProbeTarget): { frequency?: number; periodNs?: bigint } {
  const [unit, value] = t.parts as [string, string];
  if (unit === 'hz') return { frequency: Number(value) };
  return { periodNs: BigInt(value) * TIME_UNITS[unit]! };
}
