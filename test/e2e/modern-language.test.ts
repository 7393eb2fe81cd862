// bpftrace 0.2x syntax (issue 14) end to end on the real kernel: what the current bpftrace docs
// teach runs, and prints as bpftrace prints it.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

/** Runs a BEGIN-only program and returns its output after the "Attaching" line. */
function run(program: string, args: readonly string[] = []): string {
  const r = runTracelet(['-e', program, ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.startsWith('Attaching 1 probe...\n')).toBe(true);
  return r.stdout.slice('Attaching 1 probe...\n'.length);
}

describe('duration literals', () => {
  it('are nanoseconds in expressions', () => {
    expect(run('BEGIN { print(1m); printf("%lld %lld\\n", 100ms + 1, 1_000us); exit(); }')).toBe('60000000000\n100000001 1000000\n\n\n');
  });

  it('set the period of an interval probe', () => {
    const r = runTracelet(['-e', 'interval:100ms { @n++; if (@n == 2) { print(probe); exit(); } }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('interval:ms:100\n');
  });
});
