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

  it('loads a while loop updating a map 20,000 times, as bpftrace 0.17 does (a full map is counted branch-free)', () => {
    const r = runTracelet(['-e', 'BEGIN { $i = 0; while ($i < 20000) { @m[$i & 3] = $i; $i++; } printf("%d\\n", $i); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 1 probe...\n20000\n\n\n@m[0]: 19996\n@m[1]: 19997\n@m[2]: 19998\n@m[3]: 19999\n');
  });
});
