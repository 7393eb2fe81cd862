// The tools shipped with Debian's bpftrace package (/usr/sbin/*.bt; the test set-up installs it),
// for the front-end test (test/typecheck/tools.test.ts) and the run test (test/e2e/tools.test.ts).
import { existsSync, readdirSync } from 'node:fs';

export function programs(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bt')).sort().map((f) => `${dir}/${f}`) : [];
}

export const tools = programs('/usr/sbin');

/**
 * Tools that name something this machine does not have; bpftrace 0.17 fails on them here too.
 * The front end must reject them with exactly this error, pointing at the missing thing.
 */
export const MISSING_HERE: Record<string, string> = {
  // CONFIG_KALLSYMS_ALL is off: /proc/kallsyms has no data symbols.
  '/usr/sbin/loads.bt': 'E_SYMBOL',
  // Kernel 6.18 renamed cfs_rq.nr_running (to nr_queued).
  '/usr/sbin/runqlen.bt': 'E_UNKNOWN_FIELD',
};
