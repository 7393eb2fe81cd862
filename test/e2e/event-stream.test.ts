// A stream of events is formatted and written in pieces: the addon hands out about 1 MiB of
// records a drain and the session writes ~64 KiB of text at a time, so a fast stream never holds
// tens of MiB of records or text at once (an unpaced printf stream had the process at 2-2.8x
// bpftrace's resident memory). Nothing is lost or reordered by the pieces.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { runTracelet, startTracelet } from '../helpers/run.js';
import { compile } from '../../src/compile/compile.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { Session } from '../../src/runtime/session.js';
import { createFormatter } from '../../src/runtime/output/index.js';

/** Runs `source` in a Session while this process makes `calls` getppid() calls; returns each piece of text it wrote. */
async function writes(source: string, calls: number): Promise<string[]> {
  const kernel = new SystemKernel();
  const compiled = compile({ source }, kernel);
  expect(compiled.diagnostics).toEqual([]);
  const pieces: string[] = [];
  const session = new Session({
    program: compiled.program!, object: compiled.object!, programs: compiled.generated!.programs,
    helperErrorSites: compiled.generated!.helperErrorSites, readSites: compiled.generated!.readSites,
    mapSymbols: compiled.generated!.mapSymbols,
  }, kernel, { formatter: createFormatter('text'), write: (text) => { pieces.push(text); } });
  session.load();
  session.attach();
  const running = session.run();
  for (let i = 0; i < calls; i++) process.ppid; // each read is a getppid(2) by this process
  expect(await running).toBe('exit');
  return pieces;
}

describe('a stream of events', () => {
  it('is written ~64 KiB at a time, every line once and in order, END after the events', async () => {
    const n = 12_000;
    const pieces = await writes(`tracepoint:syscalls:sys_enter_getppid /pid == ${process.pid}/ {
  @n++; printf("line %d of the stream\\n", @n); if (@n == ${n}) { exit(); } }
END { printf("end\\n"); }`, n);
    const text = pieces.join('');
    const lines = text.split('\n').filter((l) => l.startsWith('line '));
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => `line ${i + 1} of the stream`));
    expect(text.indexOf('end\n')).toBeGreaterThan(text.lastIndexOf('line '));
    // 12,000 lines of ~22 characters: several pieces, none much over 64 KiB.
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual((1 << 16) + 64);
  });

  it('prints a map of thousands of stacks at exit in pieces of ~64 KiB, every entry once', async () => {
    const n = 4000;
    const pieces = await writes(`tracepoint:syscalls:sys_enter_getppid /pid == ${process.pid}/ {
  @n++; @[ustack(3), @n] = count(); if (@n == ${n}) { exit(); } }`, n);
    const text = pieces.join('');
    // Each key is printed as `@[` + its frames + `, N]: 1`.
    expect(text.match(/, \d+\]: 1\n/g)).toHaveLength(n);
    expect(text.length).toBeGreaterThan(5 * (1 << 16));
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual((1 << 16) + 4096);
  });

  it('maps a window of its 16 MiB event ring, not the ring: the records read right across its end', async () => {
    const run = startTracelet(['--no-cache', '-e', 'tracepoint:syscalls:sys_enter_kill /pid == 1/ { printf("never\\n"); }']);
    try {
      await run.attached;
      // The tracer's mappings of BPF maps: the ring's two position pages and its data window.
      const sizes = readFileSync(`/proc/${run.child.pid}/maps`, 'utf8').split('\n').filter((l) => l.endsWith('anon_inode:bpf-map'))
        .map((l) => { const [from, to] = l.split(' ')[0]!.split('-'); return parseInt(to!, 16) - parseInt(from!, 16); });
      expect(sizes.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1 << 20);
    } finally {
      run.child.kill('SIGINT');
      expect((await run.done).code).toBe(0);
    }
    // 40 MB of records go round the 16 MiB ring twice, the window moving along: all in order.
    const n = 1_000_000;
    const pieces = await writes(`tracepoint:syscalls:sys_enter_getppid /pid == ${process.pid}/ {
  @n++; if (@n & 1) { printf("record %d,\\n", @n); } else { printf("record %d, of another size: %s\\n", @n, comm); }
  if (@n == ${n}) { exit(); } }`, n);
    const lines = pieces.join('').split('\n').filter((l) => l.startsWith('record '));
    expect(lines).toHaveLength(n);
    expect(lines.every((l, i) => l.startsWith(`record ${i + 1},`))).toBe(true);
  }, 60_000);

  it('costs no polling while none comes: the collector thread sleeps until a record wakes it', async () => {
    const run = startTracelet(['--no-cache', '-e', 'tracepoint:syscalls:sys_enter_kill /pid == 1/ { printf("never\\n"); }']);
    try {
      await run.attached;
      const pid = run.child.pid!;
      // The addon's collector: the thread named like the process, other than the main thread.
      const switches = () => {
        const tasks = readdirSync(`/proc/${pid}/task`).filter((t) => t !== String(pid)
          && readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'tracelet');
        expect(tasks).toHaveLength(1);
        return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tasks[0]}/status`, 'utf8'))![1]);
      };
      const before = switches();
      await new Promise((r) => setTimeout(r, 1000));
      // Polling every 5 ms, as it did, is ~200 sleeps a second; now a wait of 250 ms at most.
      expect(switches() - before).toBeLessThan(20);
    } finally {
      run.child.kill('SIGINT');
      expect((await run.done).code).toBe(0);
    }
  });

  it("makes no syscalls of its own that a user's probes see while it waits: no open every second to read its programs' counters", () => {
    // Its own opens while it runs (after the first second: attaching opens tracefs files). It is
    // this process's child (bin/tracelet execs the launcher, which execs Node).
    const r = runTracelet(['-e', `tracepoint:syscalls:sys_enter_openat /curtask->real_parent->tgid == ${process.pid} && elapsed > 1000000000/ `
      + '{ @[str(args->filename)] = count(); } interval:ms:3500 { exit(); }']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).not.toContain('@[');
    // Nor while it watches a process for -p (it read /proc/PID/stat every 10 ms): the run ends with it.
    const sleeper = spawn('sleep', ['3.5'], { stdio: 'ignore' });
    const watching = runTracelet(['-p', String(sleeper.pid), '-e', `tracepoint:syscalls:sys_enter_openat /curtask->real_parent->tgid == ${process.pid} && elapsed > 1000000000/ `
      + '{ @[str(args->filename)] = count(); } interval:s:20 { exit(); }']);
    expect([watching.code, watching.stderr]).toEqual([0, '']);
    expect(watching.stdout).not.toContain('@[');
  });
});
