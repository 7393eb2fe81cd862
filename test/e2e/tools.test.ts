// Every tool shipped with Debian's bpftrace runs unchanged on the real kernel: it attaches, runs,
// prints on Ctrl-C like bpftrace and leaves nothing behind; a tool that needs kprobes gets this
// kernel's one sentence (exit 255). The three tools that cannot work on this machine are asserted
// by test/typecheck/tools.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';
import { MISSING_HERE, tools } from '../helpers/tools.js';

const runnable = tools.filter((t) => !MISSING_HERE[t]);
const needsKprobes = (path: string) => /^\s*(kprobe|kretprobe|k|kr):/m.test(readFileSync(path, 'utf8'));

describe('the Debian bpftrace tools run unchanged', () => {
  it.each(runnable)('%s', async (path) => {
    if (needsKprobes(path)) {
      const r = runTracelet([path]);
      expect(r.code).toBe(255);
      expect(r.stderr).toBe('tracelet: kprobes are not available: this kernel was built without CONFIG_KPROBES\n');
      return;
    }
    const t = startTracelet([path]);
    await t.attached;
    await new Promise((r) => setTimeout(r, 300));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toMatch(/^Attaching \d+ probes?\.\.\.\n/);
    expect(await waitForNoPrograms()).toEqual([]);
    expect(readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8')).toBe('');
  });
});
