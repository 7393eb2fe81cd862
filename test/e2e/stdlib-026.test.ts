// Functions of bpftrace 0.26's standard library (issue 14) end to end on the real kernel.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

describe('type predicates', () => {
  it('is_str() and its kind print constants from the argument\'s type; a macro branches on them', () => {
    const r = runTracelet(['-e', 'macro show(x) { if (is_str(x)) { printf("str\\n"); } else { printf("other\\n"); } }\n'
      + 'BEGIN { $a = (int8[8])1; printf("%d %d %d %d %d %d %d %d\\n", is_str(comm), is_str(1), is_integer(pid), is_ptr(curtask), '
      + 'is_array($a), is_unsigned_integer(-1), is_literal(-5), is_literal($a)); show("x"); show(7); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 0 1 1 1 0 1 0\nstr\nother\n\n\n');
  });

  it('is_err() tells an ERR_PTR from a pointer', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d %d %d %d\\n", is_err(-1), is_err((int8 *)-4095), is_err(-4096), is_err(curtask)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 1 0 0\n\n\n');
  });
});
