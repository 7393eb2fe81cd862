// Builds tracelet's V8 start-up snapshot (dist/bundle/tracelet.blob) from the CommonJS bundle
// scripts/bundle.mjs made (dist/bundle/snapshot.cjs). A snapshot loads only into the Node binary
// that made it, so an installed package makes it at install time (scripts/install.mjs).
import { execFileSync } from 'node:child_process';
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The warnings say that snapshots of node:child_process and node:module are not verified by
// Node; the test suite runs every end-to-end test through the snapshot.
// V8 refuses a snapshot run with other flags: this is the stack bin/tracelet gives Node (3/4 of the
// 256 MiB soft limit it sets, in KiB).
const stackFlag = `--stack-size=${(262144 * 3) / 4}`;
// A young generation of 1 MiB semi-spaces (Node's default grows them to 16 MiB): printing
// thousands of stacks makes short-lived strings quickly, and the large default let the heap grow
// by ~30 MiB of garbage (bench/RESULTS.md "Stacks", peak RSS). bin/tracelet gives the same flag.
const heapFlag = '--max-semi-space-size=1';
// V8 gives every hash table of a snapshot a fresh random seed as it loads it (rehashing all of
// them), a defence of servers against keys chosen to collide: ~6 ms of CPU a start here. The
// keys tracelet hashes are its program's and its maps' (bounded by max_map_keys), read once.
const rehashFlag = '--no-rehash-snapshot';
execFileSync(process.execPath, ['--no-warnings', stackFlag, heapFlag, rehashFlag, '--snapshot-blob', 'dist/bundle/tracelet.blob', '--build-snapshot', 'dist/bundle/snapshot.cjs'], {
  cwd: root,
  stdio: 'inherit',
});
// A snapshot loads only into the Node binary that made it, with the same flags: bin/tracelet
// compares this stamp of that binary (size and mtime, as `stat -c %s:%Y` prints them) and of the
// V8 flags with the node it finds and the flags it would give.
const node = statSync(realpathSync(process.execPath));
writeFileSync(`${root}/dist/bundle/tracelet.blob.node`, `${node.size}:${Math.floor(node.mtimeMs / 1000)} ${stackFlag} ${heapFlag} ${rehashFlag}\n`);
