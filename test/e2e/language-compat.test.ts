// Programs bpftrace 0.17 accepts, run on the real kernel; expected outputs are what bpftrace
// 0.17 printed for the same program (observed live).
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

describe('language compatibility with bpftrace 0.17', () => {
  it("a struct definition without ';' before the next probe", () => {
    const r = runTracelet(['-e', 'struct foo { int a; int b; } BEGIN { printf("%d\\n", sizeof(struct foo)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n8\n\n\n');
  });
});
