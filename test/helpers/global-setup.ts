// Before any test file: tracefs mounted, as on a machine where tracelet has run once. tracelet
// mounts it itself (and says so on stderr, which many tests expect empty); the one test of that
// unmounts it first (test/e2e/tracefs-mount.test.ts).
import { ensureTracefs } from '../../src/kernel/tracefs.js';

export default function setup(): void {
  const r = ensureTracefs();
  if (!r.mounted) throw new Error(r.notice ?? 'tracefs is not mounted');
}
