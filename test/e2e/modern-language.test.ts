// bpftrace 0.2x syntax (issue 14) end to end on the real kernel: what the current bpftrace docs
// teach runs, and prints as bpftrace prints it.
import { fileURLToPath } from 'node:url';
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

describe('let and block scoping', () => {
  it('declares variables with a value, a type, or 0, each of its block', () => {
    expect(run('BEGIN { let $x = 5; let $y; let $z: uint8 = 250; $z += 10; '
      + 'if (1) { let $w = "inner"; print($w); } else { let $w = 7; print($w); } '
      + 'print(($x, $y, $z)); exit(); }')).toBe('inner\n(5, 0, 4)\n\n\n');
  });

  it('sets a declaration without a value to 0 on every run of it', () => {
    expect(run('BEGIN { $i = 0; while ($i < 3) { let $sum; $sum += $i; printf("%d ", $sum); $i++; } printf("\\n"); exit(); }')).toBe('0 1 2 \n\n\n');
  });

  it('refuses a variable used after the block that declared it', () => {
    const r = runTracelet(['-e', 'BEGIN { if (1) { let $a = 1; print($a); } print($a); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1:49: error: variable \$a is used before it is assigned\n.*\n.*\nhint: a \$a declared with 'let' is a variable of its block only/);
  });
});

describe('for over a range', () => {
  it('counts from start up to end, exclusive, with break and continue', () => {
    expect(run('BEGIN { $sum = 0; for ($i : 0..10) { if ($i == 2) { continue; } if ($i == 5) { break; } $sum += $i; printf("%d ", $i); } '
      + 'printf("sum=%d\\n", $sum); for ($i : 3..3) { printf("never\\n"); } for ($i : 5..-5) { printf("never\\n"); } exit(); }'))
      .toBe('0 1 3 4 sum=8\n\n\n');
  });

  it('reads its bounds once, at run time (the verifier accepts a bound it cannot know)', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_getpid /pid == cpid/ { $n = args->__syscall_nr; $a = 100; '
      + 'for ($i : 0..$n) { $a--; } printf("%d %d\\n", $n, $a); exit(); }', '-c', 'python3 -c "import os; os.getpid()"']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('39 61\n');
  });

  it('gives each loop its own variable', () => {
    expect(run('BEGIN { for ($i : 0..2) { printf("%d", $i); } for ($i : 7..9) { printf("%d", $i); } printf("\\n"); exit(); }')).toBe('0178\n\n\n');
  });
});

describe('?: with an empty middle, conditions without parentheses', () => {
  it('a ?: b is a when a is true, else b, with a evaluated once', () => {
    expect(run('BEGIN { $a = 0; $b = 7; $n = 3; printf("%d %d %d ", $a ?: 5, $b ?: 5, $n++ ?: 99); printf("%d\\n", $n); exit(); }'))
      .toBe('5 7 3 4\n\n\n');
  });

  it('runs if, while and unroll with a one-operand condition', () => {
    expect(run('BEGIN { $b = 7; $i = 2; if $b { printf("yes "); } if !$b { printf("no "); } else if $i { printf("elif "); } '
      + 'while $i { $i--; printf("w "); } unroll 2 { printf("u "); } printf("\\n"); exit(); }')).toBe('yes elif w w u u \n\n\n');
  });
});

describe('tuples and records', () => {
  it('makes one-element tuples and indexes tuples with a constant', () => {
    expect(run('BEGIN { $t = (1,); print($t); $u = (1, "hello"); print($u[1]); print($u[1 - 1]); exit(); }')).toBe('(1)\nhello\n1\n\n\n');
  });

  it('prints records as bpftrace 0.26 does and reads their fields by name', () => {
    expect(run('BEGIN { $a = (color = "green", size = 2); print($a); print($a.size); $a = (color = "blue", size = 10); '
      + 'print($a.color); @r[1] = (pid = 7, comm = "x"); exit(); }'))
      .toBe('{ .color = "green", .size = 2 }\n2\nblue\n\n\n@r[1]: { .pid = 7, .comm = "x" }\n');
  });

  it('takes the same fields in another order as the same record (0.26), by name', () => {
    expect(run('BEGIN { $a = (color = "green", size = 2); $a = (size = 10, color = "blue"); print($a); '
      + '@r = (x = 1, name = "ab"); @r = (name = "xyz", x = 7); exit(); }'))
      .toBe('{ .color = "blue", .size = 10 }\n\n\n@r: { .x = 7, .name = "xyz" }\n');
    // Other fields are still another type.
    const r = runTracelet(['-e', 'BEGIN { $a = (color = "green", size = 2); $a = (colour = "blue", size = 10); exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: type mismatch for \$a/);
  });

  it('takes an if with an else as a value (0.26)', () => {
    expect(run('BEGIN { $a = 2; $x = if ($a > 1) { 10 } else { 20 }; $s = if ($a == 1) { "one" } else if ($a == 2) { let $t = "tw"; $t } else { "many" }; '
      + 'printf("%d %s\\n", $x, $s); exit(); }')).toBe('10 tw\n\n\n');
  });

  it('writes records as JSON objects', () => {
    const r = runTracelet(['-f', 'json', '-e', 'BEGIN { print((a = 1, b = "s")); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('{"type": "value", "data": {"a": 1, "b": "s"}}\n');
  });

  it('refuses an unknown field with the closest name', () => {
    const r = runTracelet(['-e', 'BEGIN { $a = (size = 1); print($a.sise); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1:35: error: the record has no field 'sise'\n.*\n.*\nhint: did you mean size\?/);
  });
});

describe('getopt named parameters', () => {
  it('reads -- --name=value, with defaults, next to positional parameters', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d %s %d %d %s\\n", getopt("aa", 1), getopt("name", "def", "who"), getopt("bb"), getopt("neg", -5), str($1)); exit(); }',
      '--', '--aa=20', '--bb', 'p1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n20 def 1 -5 p1\n\n\n');
  });

  it('leaves --words positional in a program without getopt (0.17)', () => {
    expect(run('BEGIN { printf("%s\\n", str($1)); exit(); }', ['--', '--aa=x'])).toBe('--aa=x\n\n\n');
  });

  it('refuses a named parameter that no getopt() reads', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d\\n", getopt("aa", 1)); exit(); }', '--', '--ab=3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1:1: error: unknown named parameter --ab: the program reads no getopt\("ab"\)\n.*\n.*\nhint: it reads --aa\n/);
  });
});

describe('macros', () => {
  it("runs the examples of bpftrace's documentation, hygienically", () => {
    const r = runTracelet([fileURLToPath(new URL('../fixtures/macros.bt', import.meta.url))]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1\n1\n11\n3\n17\nhihihi3\n\n111 1\n\n\n@b: 6\n');
  });
});

describe('block expressions', () => {
  it('run their statements, then take their value; macros with statements before their value too', () => {
    expect(run('macro inc(x) { $y = x; $y + 1 } macro add_one(x) { let $x = x; $x + 1 } macro thrice(x) { x; x; x; } '
      + 'BEGIN { $v = { let $a = 2; $a * 3 }; $x = 5; printf("%d %d %d %s\\n", $v, inc(3), add_one(add_one($x)), { let $s = "str"; $s }); '
      + 'thrice({ printf("hi") }); _ = { printf("\\n"); 1 }; @n = { let $i = 0; while ($i < 4) { $i++; } $i }; exit(); }'))
      .toBe('6 4 7 str\nhihihi\n\n\n@n: 4\n');
  });
});

describe('string indexing', () => {
  it('reads a byte of a string with any integer index, 0 past its end (0.25)', () => {
    expect(run('BEGIN { $s = "hello"; $i = 4; printf("%c %c %d %d %c\\n", $s[1], $s[$i], $s[$i + 10], $s[-1], comm[2 - 1]); exit(); }'))
      .toBe('e o 0 0 r\n\n\n');
  });

  it('indexes in a loop, which the verifier accepts', () => {
    expect(run('BEGIN { $s = "abc"; $i = 0; while ($i < 3) { printf("%c", $s[$i] - 32); $i++; } printf("\\n"); exit(); }')).toBe('ABC\n\n\n');
  });
});
