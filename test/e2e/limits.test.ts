// Programs at the edges of what bpftrace accepts (long lines, deep nesting, long loops), end to
// end on the real kernel.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

describe('limits', () => {
  it('runs a generated one-line script longer than 65,535 columns (LLVM debug columns are 16-bit)', () => {
    const program = `BEGIN { $x = 0;${' $x = $x + 1;'.repeat(6000)} printf("%d\\n", $x); exit(); }`;
    expect(program.length).toBeGreaterThan(70_000);
    const r = runTracelet(['-e', program]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('Attaching 1 probe...\n6000\n')).toBe(true);
  });
});
