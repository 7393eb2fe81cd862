// The type checker on bpftrace 0.2x syntax (issue 14), on the fake kernel.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function check(text: string) {
  const parsed = parse(text, {});
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), {});
}

function codes(text: string): string[] {
  return check(text).diagnostics.map((d) => `${d.code}@${d.span.line}:${d.span.column}-${d.span.endColumn}`);
}

describe('interval and profile periods', () => {
  it('reads a duration or nanoseconds as the period', () => {
    const r = check('interval:1m { } interval:2500ns { } interval:100ms { } profile:99hz { }');
    expect(r.diagnostics).toEqual([]);
    expect(r.program!.probes.map((p) => p.targets[0]!.perf)).toEqual([
      { type: 1, config: 0, period: 60_000_000_000, frequency: false },
      { type: 1, config: 0, period: 2500, frequency: false },
      { type: 1, config: 0, period: 100_000_000, frequency: false },
      { type: 1, config: 0, period: 99, frequency: true },
    ]);
  });

  it('refuses a period under 1us, pointing at hz for a bare small number', () => {
    expect(codes('profile:99 { }')).toEqual(['E_ATTACH_POINT@1:1-11']);
    expect(check('profile:99 { }').diagnostics[0]!.hint).toContain('profile:hz:99');
  });
});
