// A stream of signals while the program loads: the kernel's verifier gives up (EAGAIN) whenever a
// signal is pending, and libbpf's five attempts all failed under `node --cpu-prof` (a SIGPROF
// every 30 µs), which read as "the verifier rejected the code". The load blocks signals instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../bin/tracelet.js', import.meta.url));

describe('signals while the program loads', () => {
  it('loads and runs under a profiler that signals every 30 µs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-prof-'));
    try {
      // Two stack tables, inserts and lookups: a verification long enough for a signal to come.
      const r = spawnSync(process.execPath, [
        '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=30', SCRIPT,
        '-e', 'profile:hz:99 { @[kstack, ustack] = count(); } interval:ms:300 { exit(); }',
      ], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).not.toMatch(/verifier/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
