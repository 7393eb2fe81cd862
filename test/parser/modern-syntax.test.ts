// Syntax of bpftrace 0.2x that tracelet accepts on top of 0.17 (issue 14): the parser's view.
import { describe, expect, it } from 'vitest';
import { diags, diagnosticsOf, expr } from './helpers.js';

describe('duration literals', () => {
  it.each([
    ['1ns', '1'],
    ['1us', '1000'],
    ['100ms', '100000000'],
    ['2s', '2000000000'],
    ['1m', '60000000000'],
    ['1h', '3600000000000'],
    ['1d', '86400000000000'],
    ['1_500ms', '1500000000'],
    ['1e3us', '1000000'],
  ])('%s is %s nanoseconds, a plain (signed) literal', (src, want) => {
    expect(expr(src)).toBe(want);
  });

  it('keeps digit separators and C suffixes as they were', () => {
    expect(expr('1_000')).toBe('1000');
    expect(expr('10us + 10u')).toBe('(+ 10000 10u)');
  });

  it('reports an unknown suffix with the duration units in the hint', () => {
    expect(diags('BEGIN { $x = 5sec; }')).toEqual([['E_INVALID_INTEGER', '1:14-1:18']]);
    expect(diagnosticsOf('BEGIN { $x = 5sec; }')[0]!.hint).toContain('ns, us, ms, s, m, h, d');
  });

  it('reports a duration that does not fit in 64 bits', () => {
    expect(diags('BEGIN { $x = 300000d; }')).toEqual([['E_INTEGER_TOO_LARGE', '1:14-1:21']]);
  });

  it('accepts durations and nanoseconds as the one field of interval and profile', () => {
    for (const ap of ['interval:1s', 'interval:100ms', 'interval:1m', 'interval:1000000', 'interval:1_000us', 'profile:hz:99', 'profile:10ms']) {
      expect(diags(`${ap} { exit(); }`)).toEqual([]);
    }
    expect(diags('interval:1x { }')).toEqual([['E_ATTACH_POINT', '1:10-1:12']]);
  });
});
