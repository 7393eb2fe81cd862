// Which kernel this is, as one string: what a cache of compiled objects keys on beside the
// program (the object's code follows the kernel's tracepoint formats and types).
import { readFileSync, statSync } from 'node:fs';
import { release, version } from 'node:os';
import { sha256 } from './digest.js';

/**
 * The release and build string (`uname -r`, `uname -v`), the build id notes of the running image
 * (/sys/kernel/notes) and the size of its BTF. Each part that cannot be read is left out; a
 * reboot into the same kernel keeps the identity (nothing here is a boot time).
 */
export function kernelIdentity(): string {
  const parts = [release(), version()];
  try {
    parts.push(sha256(readFileSync('/sys/kernel/notes')).toString('hex'));
  } catch {
    parts.push('no-notes');
  }
  try {
    parts.push(`btf:${statSync('/sys/kernel/btf/vmlinux').size}`);
  } catch {
    parts.push('no-btf');
  }
  return parts.join('|');
}
