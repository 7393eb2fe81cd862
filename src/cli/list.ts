// `tracelet -l [PATTERN]` and `-lv`: the probes this machine offers, as bpftrace 0.17 lists them
// (one `provider:...` per line, sorted bytewise), with tracepoint / rawtracepoint / kfunc
// arguments under each probe for -v.
//
// Differences from bpftrace 0.17, on purpose: software and hardware events are listed by name
// (`software:cpu-clock:`; 0.17 echoes the pattern there), raw tracepoints are listed
// (`rawtracepoint:NAME`; 0.17 has no such probe type), and types the kernel cannot attach
// (kprobes without CONFIG_KPROBES, kfunc without BPF tracing programs, iter) are left out of
// searches that do not name them; a pattern that names kprobes or kfuncs lists nothing and says
// why on stderr (0.17 lists nothing for kprobes here either, with a warning about
// available_filter_functions); `iter:*` lists the iterators, as 0.17 does.
import { realpathSync } from 'node:fs';
import type { ProbeProvider } from '../model/ast.js';
import { PROVIDER_LIST, providerNamed, providerRecord } from '../model/providers.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { isElfFile } from '../kernel/elf.js';
import { HARDWARE_EVENTS, SOFTWARE_EVENTS, globToRegExp, hasWildcard, usdtFiles } from '../typecheck/probes.js';

export interface ListOptions {
  readonly verbose?: boolean;
  readonly pid?: number;
  readonly demangle?: (name: string) => string;
}

/** The iterators bpftrace 0.17 knows, with the context fields -lv shows. */
const ITERATORS: Record<string, readonly string[]> = {
  task: ['struct task_struct * task'],
  task_file: ['struct task_struct * task', 'int fd', 'struct file * file'],
};

interface Listed {
  readonly name: string;
  readonly details?: () => readonly string[];
}

/** A listing: its text (each line ends in '\n'), or an error message; `notices`: why named probe types list nothing. */
export interface Listing {
  readonly text: string;
  readonly error?: string;
  readonly notices?: readonly string[];
}

export function listProbes(pattern: string | undefined, kernel: KernelInfo, options: ListOptions = {}): Listing {
  // Several patterns, as a probe lists its attach points: `a:b:c,d:e:f`, each listing in turn (as 0.17).
  const patterns = (pattern ?? '').split(',').filter((q) => q.length > 0);
  if (patterns.length > 1) {
    const lists = patterns.map((q) => listOne(q, kernel, options));
    const text = lists.map((l) => l.text).join('');
    const error = lists.find((l) => l.error)?.error;
    const notices = [...new Set(lists.flatMap((l) => l.notices ?? []))];
    return { text, ...(error ? { error } : {}), ...(notices.length > 0 ? { notices } : {}) };
  }
  return listOne(patterns[0], kernel, options);
}

function listOne(pattern: string | undefined, kernel: KernelInfo, options: ListOptions): Listing {
  const p = pattern && pattern.length > 0 ? pattern : '*';
  const colon = p.indexOf(':');
  const word = colon < 0 ? undefined : p.slice(0, colon);
  const provider = word !== undefined ? providerNamed(word) : undefined;
  let items: Listed[];
  let re: RegExp;
  if (provider) {
    // A field may be quoted, as in a program (`uprobe:bin:"ns::f(int)"`, `usdt:bin:"prov":"name"`).
    const rest = p.slice(colon + 1).replace(/"/g, '');
    if (providerRecord(provider).listing === 'binary') return listBinary(provider, rest, kernel, options);
    // A tracepoint is category:event; a wildcard may stand for both (`tracepoint:sched*`), as in 0.17.
    if (provider === 'tracepoint' && !rest.includes(':') && !hasWildcard(rest)) {
      return { text: '', error: `'${p}': a tracepoint is named by its category and event, e.g. tracepoint:${rest || 'sched'}:*` };
    }
    const needs = providerRecord(provider).requires;
    // iter's names are bpftrace's own short list, which 0.17 prints whatever the kernel can do.
    if (needs && needs.when !== 'attach' && !kernel.hasFeature(needs.feature) && provider !== 'iter') return { text: '', notices: [needs.message] };
    items = provider === 'iter' ? LISTERS.iter() : candidates(provider, kernel);
    // A software/hardware event is listed as `software:NAME:`; a pattern may give its count or not.
    re = provider === 'software' || provider === 'hardware'
      ? globToRegExp(`${provider}:${rest.split(':')[0]}:`)
      : globToRegExp(`${provider}:${rest}`);
  } else {
    items = PROVIDER_LIST.filter((pr) => providerRecord(pr).listedByDefault).flatMap((pr) => candidates(pr, kernel));
    re = globToRegExp(p);
  }
  const out = items.filter((i) => re.test(i.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { text: render(out, options.verbose) };
}

function render(items: readonly Listed[], verbose?: boolean): string {
  let text = '';
  for (const i of items) {
    text += `${i.name}\n`;
    if (verbose && i.details) for (const d of i.details()) text += `    ${d}\n`;
  }
  return text;
}

/** Every probe of one type (none of a type this kernel cannot attach; hardware counters fail only when attached). */
function candidates(provider: ProbeProvider, kernel: KernelInfo): Listed[] {
  const needs = providerRecord(provider).requires;
  if (needs && needs.when !== 'attach' && !kernel.hasFeature(needs.feature)) return [];
  return LISTERS[provider](provider, kernel);
}

const none = (): Listed[] => [];

/** The probes of each type that the kernel lists (those of binaries: listBinary()). */
const LISTERS = {
  BEGIN: none,
  self: none,
  END: none,
  tracepoint: (_p, kernel) => kernel.listTracepoints().map((tp) => ({
    name: `tracepoint:${tp}`,
    details: () => {
      const [category, event] = tp.split(':') as [string, string];
      return kernel.tracepointFormat(category, event)?.fields.map((f) => f.declaration) ?? [];
    },
  })),
  rawtracepoint: (_p, kernel) => kernel.listRawTracepoints().map((name) => ({
    name: `rawtracepoint:${name}`,
    details: () => (kernel.rawTracepointArgs?.(name) ?? []).map((a) => `${a.typeName} ${a.name}`),
  })),
  test: none,
  bench: none,
  kprobe: kernelSymbols,
  kretprobe: kernelSymbols,
  uprobe: none,
  uretprobe: none,
  usdt: none,
  profile: none,
  interval: none,
  software: () => SOFTWARE_EVENTS.map((e) => ({ name: `software:${e.name}:` })),
  hardware: () => HARDWARE_EVENTS.map((e) => ({ name: `hardware:${e.name}:` })),
  kfunc: btfFunctions,
  kretfunc: btfFunctions,
  watchpoint: none,
  asyncwatchpoint: none,
  iter: () => Object.entries(ITERATORS).map(([n, args]) => ({ name: `iter:${n}`, details: () => args })),
} satisfies Record<ProbeProvider, (provider: ProbeProvider, kernel: KernelInfo) => Listed[]>;

function kernelSymbols(provider: ProbeProvider, kernel: KernelInfo): Listed[] {
  return [...new Set(kernel.kernelSymbols().map((s) => s.name))].map((n) => ({ name: `${provider}:${n}` }));
}

function btfFunctions(provider: ProbeProvider, kernel: KernelInfo): Listed[] {
  return (kernel.listKernelFunctions?.() ?? []).map((n) => ({
    name: `${provider}:${n}`,
    details: () => {
      const f = kernel.kernelFunction?.(n);
      if (!f) return [];
      const lines = f.params.map((a) => `${a.typeName} ${a.name}`);
      if (f.returnType.kind !== 'none') lines.push(`${f.returnTypeName} retval`);
      return lines;
    },
  }));
}

/**
 * A file of process `pid` through the process's root, by its real path there
 * (`/proc/PID/root/usr/bin/python3.11`); a wildcard or no file is the process's program.
 */
function inProcess(written: string, kernel: KernelInfo, pid: number): string | undefined {
  const root = `/proc/${pid}/root`;
  try {
    const path = kernel.resolveBinary(written, pid);
    if (!path) return undefined;
    const real = realpathSync(path);
    const rootReal = realpathSync(root);
    const inside = path.startsWith(`${root}/`) && rootReal !== '/' && real.startsWith(`${rootReal}/`) ? real.slice(rootReal.length) : real;
    return `${root}${inside}`;
  } catch {
    return undefined;
  }
}

/** `uprobe:BINARY:FUNC_PATTERN` and `usdt:BINARY:[PROVIDER:]NAME_PATTERN`. */
function listBinary(provider: ProbeProvider, rest: string, kernel: KernelInfo, options: ListOptions): { text: string; error?: string } {
  const colon = rest.indexOf(':');
  const written = colon < 0 ? rest : rest.slice(0, colon);
  const pattern = colon < 0 ? '*' : rest.slice(colon + 1) || '*';
  // With -p, bpftrace 0.17 names USDT files, and the program a wildcard stands for, through the process's root.
  const path = options.pid !== undefined && (provider === 'usdt' || !written || hasWildcard(written)) ? inProcess(written, kernel, options.pid)
    : hasWildcard(written) ? undefined : kernel.resolveBinary(written, options.pid);
  if (!path) return { text: '', error: `cannot find binary or library '${written}'` };
  // As bpftrace 0.17 (and a run): a file that is not an ELF file is an error, not "no probes".
  if (!isElfFile(path)) return { text: '', error: `${path} is not an ELF file (a program or library)` };
  if (provider === 'usdt') {
    const re = globToRegExp(pattern.includes(':') ? pattern : `*:${pattern}`);
    const listed = usdtFiles(kernel, written, path, options.pid).flatMap((file) => kernel.usdtProbes(file)
      .filter((u) => re.test(`${u.provider}:${u.name}`)).map((u) => `usdt:${file}:${u.provider}:${u.name}`));
    return { text: render([...new Set(listed)].sort().map((name) => ({ name })), options.verbose) };
  }
  const re = globToRegExp(pattern);
  // GCC's outlined pieces (`f.part.0`) are not functions of their own; bpftrace skips them too.
  const symbols = kernel.elfSymbols(path).filter((s) => s.type === 'func' && !s.name.includes('.part.'));
  const names = symbols.flatMap((s) => {
    if (re.test(s.name)) return [s.name];
    const d = options.demangle && s.name.startsWith('_Z') ? options.demangle(s.name) : undefined;
    // Matched by its demangled name, listed by its own, as bpftrace 0.17 (it is what attaches).
    return d && d !== s.name && (re.test(d) || re.test(d.replace(/\(.*$/, ''))) ? [s.name] : [];
  });
  const unique = [...new Set(names)].map((n) => ({ n, name: `${provider}:${path}:${n}` })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // -lv: a uprobe's parameters from DWARF, as bpftrace 0.17 (built with libdw) lists them: the
  // function at the symbol's address, as `args` finds it (an alias such as libc's malloc shows
  // __libc_malloc's `bytes`, which args->bytes reads).
  const offsets = new Map(symbols.map((s) => [s.name, s.fileOffset]));
  const params = (n: string) => (kernel.userFunction?.(path, n, offsets.get(n))?.params ?? []).map((p) => `${p.typeName} ${p.name}`);
  return { text: render(unique.map(({ n, name }) => ({ name, details: () => params(n) })), options.verbose) };
}
