// Kernel feature probes that only look at files (no BPF loads, no perf_event_open): cheap and
// free of side effects. A definitive answer for program types (kfunc, iter) needs a BPF_PROG_LOAD,
// which belongs to the runtime's native addon; SystemKernel accepts overrides from it.
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type Feature = 'kprobes' | 'kfunc' | 'hardware' | 'iter' | 'uprobes';

const PMU_DIR = '/sys/bus/event_source/devices';

export interface FeatureEnv {
  /** Where tracefs is mounted, if it is. */
  readonly tracefs?: string;
  /** Whether vmlinux BTF exists. */
  readonly btf: boolean;
  /** Whether BTF has a FUNC of this name (for iter targets such as `bpf_iter_task`). */
  readonly btfHasFunction?: (name: string) => boolean;
}

function readable(path: string): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}

let configCache: Map<string, string> | null | undefined;

/** CONFIG_* values from /proc/config.gz (or /boot/config-$(uname -r)), or null if unavailable. */
export function kernelConfig(): Map<string, string> | null {
  if (configCache !== undefined) return configCache;
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    try {
      const release = readFileSync('/proc/sys/kernel/osrelease', 'latin1').trim();
      text = readFileSync(`/boot/config-${release}`, 'latin1');
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) return (configCache = null);
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (line.startsWith('CONFIG_') && eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return (configCache = m);
}

/** Whether a perf PMU is registered (`kprobe`, `uprobe`, `cpu`, ...). */
export function hasPmu(name: string): boolean {
  return existsSync(`${PMU_DIR}/${name}/type`);
}

/**
 * kprobes: the kprobe PMU or tracefs kprobe_events. uprobes: likewise. hardware: a core PMU
 * (`cpu`, or `cpu_core`/`cpu_atom` on hybrid parts, `armv8_*` elsewhere) — without one,
 * PERF_TYPE_HARDWARE events fail with ENOENT. kfunc: BTF plus ftrace direct calls and readable
 * `available_filter_functions` (where the kernel refuses that file, as here, BPF tracing programs
 * are refused too — bpftool reports program type `tracing` NOT available); iter: kfunc plus a
 * `bpf_iter_*` target in BTF.
 */
export function probeFeature(feature: Feature, env: FeatureEnv): boolean {
  switch (feature) {
    case 'kprobes':
      return hasPmu('kprobe') || (env.tracefs !== undefined && existsSync(`${env.tracefs}/kprobe_events`));
    case 'uprobes':
      return hasPmu('uprobe') || (env.tracefs !== undefined && existsSync(`${env.tracefs}/uprobe_events`));
    case 'hardware': {
      if (hasPmu('cpu') || hasPmu('cpu_core') || hasPmu('cpu_atom')) return true;
      try {
        return readdirSync(PMU_DIR).some((d) => d.startsWith('armv8_') || d.startsWith('armv7_'));
      } catch {
        return false;
      }
    }
    case 'kfunc': {
      if (!env.btf) return false;
      const cfg = kernelConfig();
      if (cfg && cfg.get('CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS') !== 'y') return false;
      if (cfg && cfg.get('CONFIG_BPF_JIT') !== 'y') return false;
      if (env.tracefs === undefined) return cfg !== null;
      return readable(`${env.tracefs}/available_filter_functions`);
    }
    case 'iter':
      return probeFeature('kfunc', env) && (env.btfHasFunction?.('bpf_iter_task') ?? false);
  }
}
