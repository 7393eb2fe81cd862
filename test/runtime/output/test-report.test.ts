// --test's report and --bench's table as the formatters write them (the e2e tests run them on the
// kernel, where times vary): colours, time units, and a table headed even when a bench is skipped.
import { describe, expect, it } from 'vitest';
import { jsonFormatter, textFormatter } from '../../../src/runtime/output/index.js';
import type { TestOutcome } from '../../../src/runtime/output/model.js';

const NAMES = ['fast', 'slow'];
const RESULTS: TestOutcome[] = [
  { name: 'fast', passed: true, durationNs: 999, output: 'hidden\n' },
  { name: 'slow', passed: false, durationNs: 2_500_000, output: 'one\n\ntwo\n' },
];

describe('the --test report', () => {
  it('opens with the first test, closes with a summary after the last, in the largest whole unit', () => {
    expect(textFormatter.testResult(NAMES, RESULTS.slice(0, 1), false)).toBe('[==========] Running 2 tests.\n[ RUN      ] fast\n[       OK ] fast (999 ns)\n');
    expect(textFormatter.testResult(NAMES, RESULTS, false)).toBe('[ RUN      ] slow\none\ntwo\n[  FAILED  ] slow (2 ms)\n'
      + '[==========] 2 tests ran.\n[  PASSED  ] 1 test.\n[  FAILED  ] 1 test, listed below:\n[  FAILED  ] slow\n');
  });

  it('is coloured as bpftrace colours it, on a terminal', () => {
    expect(textFormatter.testResult(['t'], [{ name: 't', passed: true, durationNs: 1_000, output: '' }], true))
      .toBe('\x1b[32m[==========]\x1b[0m Running 1 test.\n\x1b[32m[ RUN      ]\x1b[0m t\n\x1b[32m[       OK ]\x1b[0m t (1 us)\n'
        + '\x1b[32m[==========]\x1b[0m 1 test ran.\n\x1b[32m[  PASSED  ]\x1b[0m 1 test.\n');
  });

  it('is one record per test in JSON', () => {
    expect(jsonFormatter.testResult(NAMES, RESULTS, false))
      .toBe('{"type": "test_result", "data": {"slow": {"duration": 2500000, "passed": false, "output": "one\\n\\ntwo\\n"}}}\n');
  });
});

describe('the --bench table', () => {
  it('pads names to 40 columns (or the longest name) and heads the first row printed', () => {
    const long = 'x'.repeat(45);
    expect(textFormatter.benchResult(['a', long], { name: long, averageNs: 12, iterations: 80_000 }, true)).toBe(
      `${'Benchmark'.padEnd(46)}${'Time(ns)'.padEnd(15)}Iterations\n${'-'.repeat(71)}\n${long} 12             80000\n`);
    expect(textFormatter.benchResult(['a'], { name: 'a', averageNs: 5, iterations: 1 }, false)).toBe(`${'a'.padEnd(41)}5              1\n`);
  });
});
