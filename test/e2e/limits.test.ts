// Programs at the edges of what bpftrace accepts (long lines, deep nesting, long loops), end to
// end on the real kernel.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

/** `open` n times, then `inner`, then `close` n times. */
const nest = (n: number, open: string, inner: string, close: string) => open.repeat(n) + inner + close.repeat(n);

/** Runs `BEGIN { body exit(); }` and returns what it printed after the attach line. */
function runBegin(body: string): string {
  const r = runTracelet(['-e', `BEGIN { ${body} exit(); }`], { timeoutMs: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.replace(/^Attaching 1 probe\.\.\.\n/, '');
}

describe('limits', () => {
  it('runs a generated one-line script longer than 65,535 columns (LLVM debug columns are 16-bit)', () => {
    const program = `BEGIN { $x = 0;${' $x = $x + 1;'.repeat(6000)} printf("%d\\n", $x); exit(); }`;
    expect(program.length).toBeGreaterThan(70_000);
    const r = runTracelet(['-e', program]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('Attaching 1 probe...\n6000\n')).toBe(true);
  });

  it('refuses a probe past the 512-byte BPF stack as an error at the probe, with the string length as hint', () => {
    const r = runTracelet(['-e', 'config = { max_strlen = 1024 } BEGIN { printf("%s\\n", str(0)); exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stdin:1:32: error: this probe needs more than the 512 bytes of stack a BPF program has\n/);
    expect(r.stderr).toContain('hint: each string value takes max_strlen bytes');
    expect(r.stderr).not.toContain('LLVM');
  });

  it('keeps a string variable compared with a literal within the stack, also when it is used after the compare', () => {
    // The compare once read all 64 bytes of $s: LLVM split it into 64 values live across the
    // branch, and spilled them past the 512 bytes.
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { $s = str(args->filename); '
      + 'if ($s == "beta") { @b = count(); } else { @o[$s] = count(); } }', '-c', 'cat /etc/hostname']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('@o[/etc/hostname]: 1');
  });

  it('loads a while loop updating a map 20,000 times, as bpftrace 0.17 does (a full map is counted branch-free)', () => {
    const r = runTracelet(['-e', 'BEGIN { $i = 0; while ($i < 20000) { @m[$i & 3] = $i; $i++; } printf("%d\\n", $i); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 1 probe...\n20000\n\n\n@m[0]: 19996\n@m[1]: 19997\n@m[2]: 19998\n@m[3]: 19999\n');
  });

  it('loads a hist() of a value the verifier cannot know, inside a while loop inside unroll(), as bpftrace 0.17 does', () => {
    // Its bucket is computed without a branch: a path per comparison outgrew the verifier's budget.
    const r = runTracelet(['-e', 'BEGIN { $x = nsecs; unroll(3) { $i = (uint64)0; while ($i < 20) { @h = hist($x + $i); $i++; } } exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Attaching 1 probe\.\.\.\n\n\n@h: \n\[\S+, \S+\) +60 \|@{52}\|\n\n$/);
  });

  // bpftrace 0.17 takes these 2,000 deep (and crashes at ~6,000 nested calls or ifs); tracelet's
  // limit is MAX_NESTING = 10,000 levels, on the stack bin/tracelet gives Node.
  it('runs programs nested 2,000 levels deep: parentheses, ifs, blocks, calls, unroll, casts, ternaries', () => {
    expect(runBegin(`printf("%d\\n", ${nest(2000, '(', '7', ')')});`)).toBe('7\n\n\n');
    expect(runBegin(nest(2000, 'if (1) { ', 'printf("deep\\n");', ' }'))).toBe('deep\n\n\n');
    expect(runBegin(nest(2000, '{ ', 'printf("deep\\n");', ' }'))).toBe('deep\n\n\n');
    expect(runBegin(nest(2000, 'unroll(1) { ', 'printf("deep\\n");', ' }'))).toBe('deep\n\n\n');
    expect(runBegin(`printf("%x\\n", ${nest(2001, 'bswap(', '(uint32)0x12345678', ')')});`)).toBe('78563412\n\n\n');
    expect(runBegin(`printf("%d\\n", ${nest(2000, '(uint64)', '-1', '')} == 0xffffffffffffffff);`)).toBe('1\n\n\n');
    expect(runBegin(`printf("%d\\n", ${nest(2000, '1 ? ', '7', ' : 0')});`)).toBe('7\n\n\n');
  });

  it('runs 2,000-term chains of + and && (flat in the parser, 2,000 deep after it)', () => {
    expect(runBegin(`printf("%d\\n", ${Array(2000).fill('1').join(' + ')});`)).toBe('2000\n\n\n');
    expect(runBegin(`printf("%d\\n", ${Array(2000).fill('2').join(' && ')});`)).toBe('1\n\n\n');
  });

  it('runs a program nested just under the limit (9,990 parentheses)', () => {
    expect(runBegin(`printf("%d\\n", ${nest(9990, '(', '7', ')')});`)).toBe('7\n\n\n');
  });

  it('past 10,000 levels, reports E_TOO_DEEP at the place (parser and operator chains), exit 1', () => {
    const parens = runTracelet(['-e', `BEGIN { printf("%d\\n", ${nest(10_001, '(', '7', ')')}); }`]);
    expect(parens.code).toBe(1);
    expect(parens.stderr).toMatch(/^stdin:1:\d+: error: the program nests more than 10,000 levels deep here\n/);
    expect(parens.stderr).toContain('hint: parentheses, calls, operators and blocks each nest a level');
    const chain = runTracelet(['-e', `BEGIN { printf("%d\\n", ${Array(10_002).fill('1').join('+')}); }`]);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toMatch(/^stdin:1:24: error: the program nests more than 10,000 levels deep here\n/);
    expect(chain.stderr).not.toMatch(/internal|RangeError|    at /);
  });

  it('refuses nested unroll()s past 100,000 copies at once (they took minutes to generate; bpftrace hangs too)', () => {
    expect(runBegin('$i = 0; unroll(100) { unroll(100) { $i++; } } printf("%d\\n", $i);')).toBe('10000\n\n\n');
    const r = runTracelet(['-e', `BEGIN { ${nest(5, 'unroll(20) { ', '@x = 1;', ' }')} }`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1:55: error: nested unroll\(\)s repeat this code 160000 times; at most 100000 copies\n/);
  });
});
