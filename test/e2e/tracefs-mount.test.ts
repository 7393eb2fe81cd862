// A fresh machine may boot without tracefs mounted: tracelet mounts it for the probes that need it,
// says so once on stderr, and leaves it mounted (as mount(8) would; other tools expect it there).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ensureTracefs, TRACEFS } from '../../src/kernel/tracefs.js';
import { runTracelet } from '../helpers/run.js';

const mounted = () => readFileSync('/proc/mounts', 'latin1').split('\n').some((l) => l.split(' ')[1] === TRACEFS);

describe('tracefs on a machine that has not mounted it', () => {
  it('is mounted by a tracepoint program, with one notice on stderr', (ctx) => {
    onTestFinished(() => void ensureTracefs());
    try {
      execFileSync('umount', [TRACEFS], { stdio: 'pipe' });
    } catch {
      ctx.skip(); // busy: something else on this machine holds it
    }
    expect(mounted()).toBe(false);
    const r = runTracelet(['-e', 'tracepoint:sched:sched_switch { @ = count(); } interval:ms:100 { exit(); }', '-f', 'json']);
    expect(r.stderr).toBe(`tracelet: mounted tracefs at ${TRACEFS}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\{"type": "map", "data": \{"@": [1-9]\d*\}\}$/m);
    expect(mounted()).toBe(true);
    // Once mounted, no notice.
    const again = runTracelet(['-e', 'tracepoint:sched:sched_switch { exit(); }']);
    expect([again.code, again.stderr]).toEqual([0, '']);
  });
});
