// PhaseTimings' first two lines: `process` ends when tracelet's code began and `modules` when the
// command's main function did, each with the CPU time used by then (not when the timings were
// set up, after the options were read: that CPU belongs to `options`).
import { afterEach, describe, expect, it } from 'vitest';
import { PhaseTimings } from '../../src/runtime/timings.js';

const g = globalThis as { __traceletEntryNs?: bigint; __traceletEntryCpu?: NodeJS.CpuUsage };
afterEach(() => {
  delete g.__traceletEntryNs;
  delete g.__traceletEntryCpu;
});

describe('PhaseTimings', () => {
  it('gives process and modules the CPU time used by their ends, and the rest to the next phase', () => {
    const now = process.hrtime.bigint();
    g.__traceletEntryNs = now - 5_000_000n;
    g.__traceletEntryCpu = { user: 30_000, system: 10_000 };
    const lines: string[] = [];
    const t = new PhaseTimings((l) => lines.push(l), now - 2_000_000n, { user: 31_500, system: 11_000 });
    t.end('options', now, { user: 34_000, system: 11_000 });
    const cpu = lines.map((l) => /^tracelet: timing: (\S+) .*cpu (\d+\.\d\d) ms/.exec(l)!.slice(1));
    expect(cpu).toEqual([['process', '40.00'], ['modules', '2.50'], ['options', '2.50']]);
  });
});
