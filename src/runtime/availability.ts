// Probe types this kernel cannot run, found before anything is loaded, each with one sentence
// that names the missing feature. The CLI exits as bpftrace 0.17 does: 1 for kfunc and iter
// (its type checker refuses them), 255 for the others ("the system refused"). The features and
// sentences are in the providers' records (src/model/providers.ts).
import { PROVIDER_LIST, providerRecord, type ProbeProvider } from '../model/providers.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { Program } from '../model/ast.js';
import type { TypedProgram } from '../model/program.js';

/** The probe types a parsed program names (`early` checks), or that its targets expanded to. */
export function probeTypes(program: Program | TypedProgram): ProbeProvider[] {
  return 'types' in program
    ? program.probes.flatMap((p) => p.targets.map((t) => t.provider))
    : program.probes.flatMap((p) => p.attachPoints.map((a) => a.provider));
}

/** Why a probe type cannot run here; `program`: refused as a wrong program (exit 1), else as the system refusing (255). */
export interface Refusal {
  readonly message: string;
  readonly program: boolean;
}

/**
 * The first probe type among `providers` that this kernel cannot attach, or undefined. `early`
 * limits it to what needs no type checking (kprobes, iter); kfunc probes are type-checked
 * against BTF first and refused before loading.
 */
export function unavailableProbe(providers: Iterable<ProbeProvider>, kernel: KernelInfo, early = false): Refusal | undefined {
  const used = new Set(providers);
  // In table order, so the sentence does not depend on the order of the probes.
  const records = PROVIDER_LIST.filter((p) => used.has(p)).map(providerRecord);
  for (const when of early ? ['parse'] : ['parse', 'check']) {
    const missing = records.find((r) => r.requires?.when === when && !kernel.hasFeature(r.requires.feature));
    if (missing) return { message: missing.requires!.message, program: missing.requires!.refusedAsProgram ?? false };
  }
  if (early) return undefined;
  const unsupported = records.find((r) => r.unsupported)?.unsupported;
  return unsupported ? { message: unsupported, program: false } : undefined;
}
