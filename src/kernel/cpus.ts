// The CPUs this machine can have, as libbpf counts them (a per-CPU map has a value for each).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

let possibleCpuCount: number | undefined;

/**
 * From /sys/devices/system/cpu/possible (e.g. `0-3`); read when first needed, not while the
 * start-up snapshot is built.
 */
export function possibleCpus(): number {
  if (possibleCpuCount === undefined) {
    try {
      const ranges = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',');
      possibleCpuCount = Math.max(...ranges.map((r) => Number(r.split('-').at(-1)) + 1));
    } catch {
      possibleCpuCount = availableParallelism();
    }
  }
  return possibleCpuCount;
}
