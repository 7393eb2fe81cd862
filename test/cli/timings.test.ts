// --timings: every phase of a run is reported on stderr, in order, in the documented format, and
// the output is otherwise unchanged. (Durations are not asserted: only that they add up.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet } from '../helpers/run.js';

// A cache of its own: a run whose command line ran before would be a prepared run, whose phases
// differ (test/e2e/prepared-runs.test.ts).
const cache = mkdtempSync(join(tmpdir(), 'tl-timings-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
const env = { TRACELET_CACHE_DIR: cache };

const LINE = /^tracelet: timing: ([a-z-]+) (\d+\.\d\d) ms \(at (\d+\.\d\d) ms, cpu (\d+\.\d\d) ms, peak (\d+\.\d|\?) MiB\)$/;

/** The timing lines of stderr as [phase, duration, at]; every other line is returned apart. */
function timings(stderr: string): { phases: [string, number, number][]; rest: string[] } {
  const phases: [string, number, number][] = [];
  const rest: string[] = [];
  for (const line of stderr.split('\n').filter(Boolean)) {
    const m = LINE.exec(line);
    if (m) phases.push([m[1]!, Number(m[2]), Number(m[3])]);
    else rest.push(line);
  }
  return { phases, rest };
}

const RUN_PHASES = [
  'process', 'modules', 'options', 'addon', 'parse', 'typecheck', 'codegen', 'llvm', 'load', 'attach',
  'first-drain', 'run', 'detach', 'print', 'close',
];

/** The phases are contiguous: each ends where the next begins, so the durations add up. */
function expectContiguous(phases: [string, number, number][]): void {
  let at = 0;
  for (const [name, took, end] of phases) {
    expect(took, name).toBeGreaterThanOrEqual(0);
    expect(Math.abs(at + took - end), name).toBeLessThan(0.02);
    at = end;
  }
}

describe('--timings', () => {
  it('reports each phase of a run that ends by exit(), and nothing else changes', () => {
    const plain = runTracelet(['-e', 'BEGIN { printf("hi\\n"); @x = count(); exit(); }'], { env });
    const timed = runTracelet(['--timings', '-e', 'BEGIN { printf("hi\\n"); @x = count(); exit(); }'], { env });
    expect(timed.code).toBe(0);
    expect(timed.stdout).toBe(plain.stdout);
    const { phases, rest } = timings(timed.stderr);
    expect(rest).toEqual([]);
    expect(phases.map((p) => p[0])).toEqual(RUN_PHASES);
    expectContiguous(phases);
  });

  it('TRACELET_TIMINGS=1 does the same; a run stopped by SIGINT reports its phases too', async () => {
    const run = startTracelet(['-e', 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }'], { TRACELET_TIMINGS: '1', ...env });
    await run.attached;
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    const { phases } = timings(r.stderr);
    expect(phases.map((p) => p[0])).toEqual(RUN_PHASES);
    expectContiguous(phases);
  });

  it('a program that does not compile reports the phases up to its error', () => {
    const r = runTracelet(['--timings', '-e', 'BEGIN { @x = nosuch(); }'], { env });
    expect(r.code).toBe(1);
    const { phases, rest } = timings(r.stderr);
    expect(phases.map((p) => p[0])).toEqual(['process', 'modules', 'options', 'addon', 'parse', 'typecheck']);
    expect(rest.join('\n')).toContain('error:');
  });

  // The command runs V8's optimizing compiler only once a run is busy (src/cli/optimizing-compiler.ts):
  // the moment is a line of its own, the phases stay contiguous around it.
  it('says when a run turned busy: 64 KiB of events, or a map of 2,000 entries decoded; a short run never is', () => {
    const note = /^tracelet: timing: optimizing compiler on at (\d+\.\d\d) ms$/;
    const events = runTracelet(['--timings', '-e', 'BEGIN { $i = 0; while ($i < 3000) { printf("%s %d\\n", comm, $i); $i++; } exit(); }'], { env });
    const mapped = runTracelet(['--timings', '-e', 'BEGIN { $i = 0; while ($i < 2500) { @m[$i, "k"] = $i; $i++; } exit(); }'], { env });
    for (const r of [events, mapped]) {
      expect(r.code, r.stderr).toBe(0);
      const { phases, rest } = timings(r.stderr);
      expect(rest.filter((l) => note.test(l))).toHaveLength(1);
      expect(rest.filter((l) => !note.test(l))).toEqual([]);
      expect(phases.map((p) => p[0])).toEqual(RUN_PHASES);
      expectContiguous(phases);
    }
    expect(events.stdout.split('\n').filter((l) => /^tracelet \d+$/.test(l))).toHaveLength(3000);
    // A thousand entries, or 2,500 counts (printed from the raw dump, without JavaScript per entry).
    for (const program of ['BEGIN { $i = 0; while ($i < 1000) { @m[$i, "k"] = $i; $i++; } exit(); }',
      'BEGIN { $i = 0; while ($i < 2500) { @c[$i] = count(); $i++; } exit(); }']) {
      const r = runTracelet(['--timings', '-e', program], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(timings(r.stderr).rest).toEqual([]);
    }
  });
});
