// bpftrace's config variables, one record each: what `config = { name = value; }` and the
// environment (BPFTRACE_NAME, and bpftrace 0.17's older names) may set, and what tracelet does
// with each. As bpftrace 0.26 has it, a variable set in the environment wins over the script's
// config block; the block may name a variable as `stack_mode`, `STACK_MODE` or `BPFTRACE_STACK_MODE`.
import type { StackMode } from './types.js';

/** The settings config variables give tracelet, by the option each sets. */
export interface Settings {
  readonly mapKeysMax?: number;
  readonly stringLength?: number;
  readonly catBytesMax?: number;
  readonly ringPages?: number;
  readonly stackMode?: StackMode;
  readonly cppDemangle?: boolean;
  readonly printMapsOnExit?: boolean;
  readonly maxProbes?: number;
  /** false (bpftrace 0.17's BPFTRACE_NO_USER_SYMBOLS=1): user addresses are printed, not named. */
  readonly userSymbols?: boolean;
  /** A uprobe/usdt probe whose functions or USDT probes its file lacks, while others attach: refused, skipped with a warning (default), or skipped. */
  readonly missingProbes?: MissingProbes;
}

export type MissingProbes = 'error' | 'warn' | 'ignore';

type Value = number | boolean | string;

interface ConfigVariable {
  /** A positive integer, true/false (or 1/0), any text, or one of these words. */
  readonly kind: 'count' | 'boolean' | 'text' | readonly string[];
  /** The setting it gives; absent: accepted, and without effect in tracelet, because of `unused`. */
  readonly sets?: keyof Settings;
  /** What it does (docs/reference.md), for those that do something. */
  readonly doc?: string;
  readonly unused?: string;
  /** bpftrace 0.17's environment variable, where it had another name. */
  readonly legacyEnv?: string;
}

const UNSTABLE = ['enable', 'warn', 'error'];

export const CONFIG_VARIABLES: Readonly<Record<string, ConfigVariable>> = {
  max_map_keys: { kind: 'count', sets: 'mapKeysMax', legacyEnv: 'BPFTRACE_MAP_KEYS_MAX', doc: 'The entries of each map with keys (default 4096); a hist/lhist with keys holds this many keys of every bucket. A map without a key is created for its one entry (a hist/lhist for its buckets), which it can never outgrow.' },
  max_strlen: { kind: 'count', sets: 'stringLength', legacyEnv: 'BPFTRACE_STRLEN', doc: 'The bytes of strings str() reads (default 64, as bpftrace 0.17; 0.26 has 1024). Strings are on the 512-byte BPF stack: past about 200 bytes a probe may need more than it has (E_BPF_STACK).' },
  max_cat_bytes: { kind: 'count', sets: 'catBytesMax', legacyEnv: 'BPFTRACE_CAT_BYTES_MAX', doc: 'The bytes of a file cat() prints (default 10240).' },
  perf_rb_pages: { kind: 'count', sets: 'ringPages', doc: "bpftrace's pages per CPU of its perf buffers: tracelet's one event ring gets as many pages in all (default: from the probes that send events)." },
  stack_mode: { kind: ['bpftrace', 'perf', 'raw', 'build_id'], sets: 'stackMode', doc: 'The mode of kstack and ustack written without one (default bpftrace); build_id is a ustack mode, kstack keeps bpftrace then.' },
  cpp_demangle: { kind: 'boolean', sets: 'cppDemangle', doc: "C++ names in user stacks and usym() demangled (default true; bpftrace 0.17's BPFTRACE_NO_CPP_DEMANGLE=1 turns it off too)." },
  max_probes: { kind: 'count', sets: 'maxProbes', doc: "A program attaching more probes than this is refused (no limit unless set: tracelet attaches thousands quickly; bpftrace 0.17's limit is 512, 0.26's 1024)." },
  print_maps_on_exit: { kind: 'boolean', sets: 'printMapsOnExit', doc: 'false: the maps are not printed at the end of the run (default true).' },
  // Every accepted license is GPL-compatible, as tracelet's programs are (GPL).
  license: { kind: ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'], unused: 'its programs are GPL' },
  log_size: { kind: 'count', unused: 'the verifier log grows as a failed load needs (-v shows it)' },
  max_bpf_progs: { kind: 'count', unused: 'a probe is one program whatever its targets' },
  missing_probes: { kind: ['error', 'warn', 'ignore'], sets: 'missingProbes', doc: 'A uprobe or usdt probe whose functions or USDT probes are not in its file, while other probes attach: `error` refuses the program, `warn` (default) skips it with a warning, `ignore` skips it (bpftrace 0.17 skips it silently). A program none of whose probes can attach is always refused.' },
  on_stack_limit: { kind: 'count', unused: 'it places values itself' },
  lazy_symbolication: { kind: 'boolean', unused: 'it names user frames when a map is printed' },
  cache_user_symbols: { kind: ['PER_PROGRAM', 'PER_PID', 'NONE'], unused: 'it keeps the symbols of each file once' },
  show_debug_info: { kind: 'boolean', unused: 'it does not read DWARF line information' },
  str_trunc_trailer: { kind: 'text', unused: 'it prints strings as bpftrace 0.17, without a trailer' },
  unstable_tseries: { kind: UNSTABLE, unused: 'tseries() is always available' },
  unstable_dw_ustack: { kind: UNSTABLE, unused: 'it unwinds user stacks by frame pointers' },
};

/** A config block's name for a variable (`stack_mode`, `STACK_MODE`, `BPFTRACE_STACK_MODE`), as its record's. */
export function configName(written: string): string | undefined {
  const name = written.toLowerCase().replace(/^bpftrace_/, '');
  if (CONFIG_VARIABLES[name]) return name;
  const legacy = Object.entries(CONFIG_VARIABLES).find(([, v]) => v.legacyEnv?.toLowerCase() === written.toLowerCase());
  return legacy?.[0];
}

/** The value of `raw` for the variable, or the reason it is not one. */
export function configValue(name: string, raw: string | bigint): { value: Value } | { problem: string } {
  const { kind } = CONFIG_VARIABLES[name]!;
  const text = String(raw);
  if (kind === 'count') {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    return n > 0 && n <= 1_000_000_000 ? { value: n } : { problem: 'needs a positive integer' };
  }
  if (kind === 'boolean') {
    if (text === 'true' || text === '1') return { value: true };
    if (text === 'false' || text === '0') return { value: false };
    return { problem: 'needs true or false' };
  }
  if (Array.isArray(kind)) {
    const match = kind.find((k) => k.toLowerCase() === text.toLowerCase());
    return match !== undefined ? { value: match } : { problem: `needs one of: ${kind.join(', ')}` };
  }
  return { value: text };
}

/** The setting a variable gives (undefined for the ones tracelet accepts without effect). */
export function settingOf(name: string, value: Value): Settings {
  const sets = CONFIG_VARIABLES[name]!.sets;
  return sets ? { [sets]: value } : {};
}

/**
 * The settings the environment gives: BPFTRACE_NAME for each variable, and bpftrace 0.17's name
 * where it differs (the newer name wins if both are set). Throws on a value that is not one.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const settings: Record<string, Value> = {};
  for (const [name, v] of Object.entries(CONFIG_VARIABLES)) {
    if (!v.sets) continue;
    const envName = [`BPFTRACE_${name.toUpperCase()}`, v.legacyEnv].find((e) => e && env[e] !== undefined && env[e] !== '');
    if (!envName) continue;
    const parsed = configValue(name, env[envName]!);
    if ('problem' in parsed) throw new Error(`Invalid value for ${envName}: ${env[envName]} (${parsed.problem})`);
    settings[v.sets] = parsed.value;
  }
  // bpftrace 0.17 turned demangling off with BPFTRACE_NO_CPP_DEMANGLE=1.
  if (settings.cppDemangle === undefined && env.BPFTRACE_NO_CPP_DEMANGLE === '1') settings.cppDemangle = false;
  // ... and user symbols off with BPFTRACE_NO_USER_SYMBOLS=1 (no config variable: 0.26 has none).
  if (env.BPFTRACE_NO_USER_SYMBOLS === '1') settings.userSymbols = false;
  return settings as Settings;
}
