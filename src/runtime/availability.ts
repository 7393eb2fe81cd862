// Probe types this kernel cannot run, found before anything is loaded, each with one sentence
// that names the missing feature (the CLI exits with 3, "the system refused").
import type { ProbeProvider } from '../model/ast.js';
import type { KernelInfo } from '../kernel/kernel-info.js';

export const MESSAGES = {
  kprobes: 'kprobes are not available: this kernel was built without CONFIG_KPROBES',
  kfunc: 'kfunc/fentry probes are not available: this kernel cannot load BPF tracing programs',
  iter: 'iter probes are not available: this kernel cannot load BPF iterator programs',
  hardware: 'hardware counters are not available on this machine (no CPU PMU: perf_event_open gave ENOENT)',
} as const;

/**
 * The first probe type among `providers` that this kernel cannot attach, as a sentence, or
 * undefined. `early` limits it to what needs no type checking (kprobes, iter); kfunc probes are
 * type-checked against BTF first and refused before loading.
 */
export function unavailableProbe(providers: Iterable<ProbeProvider>, kernel: KernelInfo, early = false): string | undefined {
  const set = new Set(providers);
  if ((set.has('kprobe') || set.has('kretprobe')) && !kernel.hasFeature('kprobes')) return MESSAGES.kprobes;
  if (set.has('iter') && !kernel.hasFeature('iter')) return MESSAGES.iter;
  if (early) return undefined;
  if ((set.has('kfunc') || set.has('kretfunc')) && !kernel.hasFeature('kfunc')) return MESSAGES.kfunc;
  if (set.has('kfunc') || set.has('kretfunc') || set.has('iter')) {
    return 'kfunc/fentry and iter probes cannot be loaded by tracelet yet (BPF tracing programs need attach_btf_id)';
  }
  return undefined;
}
