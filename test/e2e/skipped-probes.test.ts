// Probe runs the kernel skipped are reported, never silent: a tracing program does not run while
// another BPF program runs on its CPU, and the kernel counts each miss (recursion_misses).
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

// dd's one-byte reads keep its CPU inside the first probe's loop most of the time, so the timer
// interrupts that fire there find a BPF program running: the second probe is skipped.
const BUSY_AND_TIMERS = `tracepoint:syscalls:sys_enter_read /comm == "dd"/ { $i = 0; while ($i < 300) { @spin = $i; $i++; } }
  tracepoint:timer:hrtimer_expire_entry { @timers = count(); }`;
const DD = 'dd if=/dev/zero of=/dev/null bs=1 count=20000 status=none';

describe('probes the kernel skipped', () => {
  it('are reported at the probe with the kernel\'s count, and --no-warnings silences them', () => {
    const r = runTracelet(['-e', BUSY_AND_TIMERS, '-c', DD]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^@timers: \d+$/m);
    const report = /^stdin:2:3: warning: the kernel skipped this probe (once|(\d+) times): it fired while another BPF program was running on the same CPU\n  tracepoint:timer:hrtimer_expire_entry \{ @timers = count\(\); \}\n  \^~+\nhint: the kernel runs one tracing program at a time on a CPU; what the probe missed is not in its output\n/m;
    expect(r.stderr).toMatch(report);
    // The busy probe itself was never skipped: it is not named.
    expect(r.stderr).not.toContain('stdin:1:');
    const quiet = runTracelet(['--no-warnings', '-e', BUSY_AND_TIMERS, '-c', DD]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('are not reported when nothing was skipped', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_read /comm == "dd"/ { @reads = count(); }', '-c', DD]);
    expect(r.code).toBe(0);
    // 20,000 one-byte reads, and the dynamic loader's.
    expect(Number(/^@reads: (\d+)$/m.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(20_000);
    expect(r.stderr).toBe('');
  });
});
