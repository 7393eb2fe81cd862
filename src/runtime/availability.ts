// Probe types this kernel cannot run, found before anything is loaded, each with one sentence
// that names the missing feature (the CLI exits with 3, "the system refused"). The features and
// sentences are in the providers' records (src/model/providers.ts).
import { PROVIDER_LIST, providerRecord, type ProbeProvider } from '../model/providers.js';
import type { KernelInfo } from '../kernel/kernel-info.js';

/**
 * The first probe type among `providers` that this kernel cannot attach, as a sentence, or
 * undefined. `early` limits it to what needs no type checking (kprobes, iter); kfunc probes are
 * type-checked against BTF first and refused before loading.
 */
export function unavailableProbe(providers: Iterable<ProbeProvider>, kernel: KernelInfo, early = false): string | undefined {
  const used = new Set(providers);
  // In table order, so the sentence does not depend on the order of the probes.
  const records = PROVIDER_LIST.filter((p) => used.has(p)).map(providerRecord);
  for (const when of early ? ['parse'] : ['parse', 'check']) {
    const missing = records.find((r) => r.requires?.when === when && !kernel.hasFeature(r.requires.feature));
    if (missing) return missing.requires!.message;
  }
  if (early) return undefined;
  return records.find((r) => r.unsupported)?.unsupported;
}
