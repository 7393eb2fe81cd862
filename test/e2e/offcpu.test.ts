// The off-CPU tools of examples/ on a known workload: pipewake blocks in main → block_on_pipe →
// read for BLOCK_MS while its other thread sleeps, then wakes it from poke_waiter. The folded
// output must show that chain with the time it blocked (±20%), and its waker.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTracelet } from '../helpers/run.js';
import { BLOCK_MS, traceWorkload, withPipewake } from '../helpers/pipewake.js';

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const fixture = withPipewake();

/** The folded lines of `stdout` (`path value`) whose path matches `re`, and their total. */
function matching(stdout: string, re: RegExp): { lines: string[]; total: number } {
  const lines = stdout.split('\n').filter((l) => / \d+$/.test(l) && re.test(l.slice(0, l.lastIndexOf(' '))));
  return { lines, total: lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0) };
}

const BLOCKED_CHAIN = /^pipewake;(.*;)?main;block_on_pipe;read;.*vfs_read_\[k\];.*schedule_\[k\]/;

/** `ns` is the blocked time within ±20%; a failure shows what the run printed (`shown`). */
const withinBlockedTime = (ns: number, shown = '') => {
  expect(ns, shown).toBeGreaterThanOrEqual(BLOCK_MS * 1e6 * 0.8);
  expect(ns, shown).toBeLessThanOrEqual(BLOCK_MS * 1e6 * 1.2);
};
const printed = (r: { stdout: string; stderr: string }) => `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe('offcputime.bt', () => {
  it('sums the time blocked in main → block_on_pipe → read, with its kernel stack', async () => {
    const r = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offcputime.bt'), pid]);
    expect(r.code).toBe(0);
    const { lines, total } = matching(r.stdout, BLOCKED_CHAIN);
    expect(lines).toHaveLength(1);
    withinBlockedTime(total);
    // Only folded lines on the output, all of pipewake (PID filter); the printf went to stderr.
    expect(r.stdout.split('\n').filter(Boolean).every((l) => /^pipewake;.* \d+$/.test(l))).toBe(true);
    expect(r.stderr).toContain('Tracing off-CPU time');
  });

  it('leaves out blocks shorter than MIN_US ($2) and longer than MAX_US ($3)', async () => {
    const long = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offcputime.bt'), pid, '100000']);
    const lines = long.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(Number(l.slice(l.lastIndexOf(' ') + 1))).toBeGreaterThanOrEqual(100_000_000);
    // At most 100 ms: the 300 ms block is left out, a 20 ms one is kept.
    const tooLong = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offcputime.bt'), pid, '0', '100000']);
    expect(tooLong.code).toBe(0);
    expect(matching(tooLong.stdout, BLOCKED_CHAIN).lines).toHaveLength(0);
    const short = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offcputime.bt'), pid, '0', '100000'], { blockMs: 20 });
    expect(matching(short.stdout, BLOCKED_CHAIN).lines).toHaveLength(1);
  });

  // User stacks of a process that has exited before the map is printed are named from the
  // mappings the runtime read when its first stack was seen (i16-symbols); without that the
  // user frames would be `[unknown]` and only the kernel part would match.
  it('names the chain also when the process has exited before the map is printed', async () => {
    // -p: the trace ends when pipewake exits, so it is gone when the map is printed.
    const r = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offcputime.bt'), pid], { live: false });
    expect(r.code).toBe(0);
    withinBlockedTime(matching(r.stdout, /^pipewake;.*vfs_read_\[k\];.*schedule_\[k\]/).total);
    withinBlockedTime(matching(r.stdout, BLOCKED_CHAIN).total);
  });
});

// The waker tools run with the blocked thread and its waker on different CPUs (splitCpus): the
// wakeup is then finished on the wakee's idle CPU, so a tool reading the waker's stacks at
// sched_wakeup would find the idle task's there instead.
describe('offwaketime.bt', () => {
  it('shows poke_waiter as the waker of the blocked read, above a `--`', async () => {
    const r = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('offwaketime.bt'), pid], { splitCpus: true });
    expect(r.code).toBe(0);
    const waker = new RegExp(`${BLOCKED_CHAIN.source}.*;--;(.*;)?try_to_wake_up_\\[k\\];.*;write;poke_waiter;poker;.*pipewake$`);
    const { lines, total } = matching(r.stdout, waker);
    expect(lines, printed(r)).toHaveLength(1);
    withinBlockedTime(total, printed(r));
  });
});

describe('wakeuptime.bt and chaingraph.bt', () => {
  it('wakeuptime: the blocked time under the waker stack of poke_waiter', async () => {
    const r = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('wakeuptime.bt'), pid], { splitCpus: true });
    expect(r.code).toBe(0);
    withinBlockedTime(matching(r.stdout, /^pipewake;pipewake;(.*;)?poker;poke_waiter;write;.*try_to_wake_up_\[k\]/).total, printed(r));
  });

  it('chaingraph: the blocked read, poke_waiter, then what woke the poker from its nanosleep', async () => {
    const r = await traceWorkload(fixture.pipewake, (pid) => ['-f', 'folded', example('chaingraph.bt'), pid], { splitCpus: true });
    expect(r.code).toBe(0);
    const chain = new RegExp(`${BLOCKED_CHAIN.source}.*;--;.*;poke_waiter;.*pipewake;--;.*try_to_wake_up_\\[k\\]`);
    expect(matching(r.stdout, chain).lines, r.stdout).toHaveLength(1);
  });
});

describe('profile.bt', () => {
  it('samples on-CPU stacks as folded lines', async () => {
    const tracer = startTracelet(['-f', 'folded', example('profile.bt')]);
    await tracer.attached;
    // A busy shell for ~0.5 s, then stop.
    execFileSync('sh', ['-c', 'end=$(($(date +%s%N) + 500000000)); while [ $(date +%s%N) -lt $end ]; do :; done']);
    tracer.child.kill('SIGINT');
    const r = await tracer.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(sh|date);.* \d+$/m);
  });

  it('names JIT frames through perf-PID.map (node --perf-basic-prof), marked _[j]', async () => {
    const burn = fileURLToPath(new URL('../fixtures/workloads/burn.js', import.meta.url));
    // In the fixture's directory: node --perf-basic-prof also writes an isolate-*.log there.
    const node = spawn(process.execPath, ['--perf-basic-prof', burn, '20000'], { cwd: fixture.dir, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => node.stdout!.once('data', resolve)); // "ready": the loop runs
      const tracer = startTracelet(['-f', 'folded', example('profile.bt'), String(node.pid)]);
      await tracer.attached;
      await new Promise((resolve) => setTimeout(resolve, 1000)); // ~99 samples
      tracer.child.kill('SIGINT');
      const r = await tracer.done;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^node;.*;[^;]*burnTraceletCpu [^;]*burn\.js[^;]*_\[j\](;.*)? \d+$/m);
    } finally {
      node.kill();
      rmSync(`/tmp/perf-${node.pid}.map`, { force: true }); // node leaves its perf map behind
    }
  });
});
