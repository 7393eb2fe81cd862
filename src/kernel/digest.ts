// SHA-256 for the caches' keys and checksums: the addon's once the runtime has provided it, else
// node:crypto's (the tests compare the two). node:crypto is loaded only then: loading it costs a
// run ~2 MiB of resident memory, for a few hashes of a few KiB.
import { createRequire } from 'node:module';
import { symbolNatives } from './natives.js';

export function sha256(...parts: (string | Uint8Array)[]): Buffer {
  const native = symbolNatives();
  if (native) return native.sha256(parts);
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
}
