// Can this process load BPF programs? Checked up front so the user gets one clear sentence
// instead of an EPERM from deep inside the loader.
import { readFileSync } from 'node:fs';

/** What the user is told, for a program and for -l alike. */
export const NEEDS_ROOT = 'loading BPF programs needs root (or the CAP_BPF and CAP_PERFMON capabilities); try: sudo tracelet ...';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export function canLoadBpf(): boolean {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (!hex) return process.getuid?.() === 0;
    const caps = BigInt(`0x${hex}`);
    const has = (cap: bigint) => (caps >> cap) & 1n;
    return has(CAP_SYS_ADMIN) === 1n || (has(CAP_BPF) === 1n && has(CAP_PERFMON) === 1n);
  } catch {
    return process.getuid?.() === 0;
  }
}
