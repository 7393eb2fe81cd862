// test: and bench: probes with --test and --bench (bpftrace 0.25/0.26, issue 14) end to end on the
// real kernel: each runs with BPF_PROG_TEST_RUN between BEGIN and END, nothing else is attached,
// and the report is bpftrace's (gtest's words for tests, a table for benches).
import { describe, expect, it } from 'vitest';
import { runTracelet, waitForNoPrograms } from '../helpers/run.js';

const TESTS = 'BEGIN { printf("begin\\n"); @runs = 0; } '
  + 'test:passes { @runs++; printf("hidden: a passing test prints nothing\\n"); } '
  + 'test:fails { @runs++; printf("shown %d\\n", 42); return 1; } '
  + 'test:reads_maps { @runs++; if (@runs != 3) { return 1; } } '
  + 'tracepoint:syscalls:sys_enter_getpid { printf("never attached\\n"); } '
  + 'END { printf("end %d\\n", @runs); }';

/** The report with each test's time (a run's own, so it varies) as `(T)`. */
function withoutTimes(text: string): string {
  return text.replace(/ \(\d+ (ns|us|ms|s)\)\n/g, ' (T)\n');
}

describe('--test', () => {
  it('runs BEGIN, each test in order, then END, and reports as bpftrace (exit 1: a test failed)', async () => {
    const r = runTracelet(['--test', '-e', TESTS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    // No "Attaching" line, no maps at exit (as bpftrace); a failed test's output between RUN and FAILED.
    expect(withoutTimes(r.stdout)).toBe('begin\n'
      + '[==========] Running 3 tests.\n'
      + '[ RUN      ] passes\n[       OK ] passes (T)\n'
      + '[ RUN      ] fails\nshown 42\n[  FAILED  ] fails (T)\n'
      + '[ RUN      ] reads_maps\n[       OK ] reads_maps (T)\n'
      + '[==========] 3 tests ran.\n'
      + '[  PASSED  ] 2 tests.\n'
      + '[  FAILED  ] 1 test, listed below:\n'
      + '[  FAILED  ] fails\n'
      + 'end 3\n');
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('exits 0 when every test passes; a return from inside a map for loop fails its test', () => {
    const pass = runTracelet(['--test', '-e', 'test:one { $x = 1 + 1; if ($x != 2) { return 1; } }']);
    expect(pass.stderr).toBe('');
    expect(pass.code).toBe(0);
    expect(withoutTimes(pass.stdout)).toBe('[==========] Running 1 test.\n[ RUN      ] one\n[       OK ] one (T)\n'
      + '[==========] 1 test ran.\n[  PASSED  ] 1 test.\n');

    const loop = runTracelet(['--test', '-e', 'test:in_loop { @m[1] = 1; @m[2] = 2; for ($kv : @m) { if ($kv.0 == 2) { return 7; } } }']);
    expect(loop.code).toBe(1);
    expect(loop.stdout).toMatch(/\[ {2}FAILED {2}\] in_loop \(\d+ (ns|us|ms)\)\n/);
  });

  it('fails a test that meets a runtime error (-kk: a failed read; a cat() of a missing file)', () => {
    const read = runTracelet(['-kk', '--test', '-e', 'test:bad_read { $p = (uint64 *)8; printf("%d\\n", *$p); } test:fine { }']);
    expect(read.code).toBe(1);
    expect(withoutTimes(read.stdout)).toContain('[ RUN      ] bad_read\nstdin:1:50-53: WARNING: Failed to probe_read: Bad address (-14)\n');
    expect(withoutTimes(read.stdout)).toContain('\n0\n[  FAILED  ] bad_read (T)\n[ RUN      ] fine\n[       OK ] fine (T)\n');
    const cat = runTracelet(['--test', '-e', 'test:missing_file { cat("/nonexistent/tracelet"); }']);
    expect(cat.code).toBe(1);
    expect(cat.stderr).toBe("ERROR: failed to open file '/nonexistent/tracelet': No such file or directory\n");
    expect(cat.stdout).toContain('[  FAILED  ] missing_file');
  });

  it('prints one JSON record per test, with the failed output as text', () => {
    const r = runTracelet(['-f', 'json', '--test', '-e', 'test:a { printf("hi\\n"); return 2; } test:b { }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\{"type": "test_result", "data": \{"a": \{"duration": \d+, "passed": false, "output": "hi\\n"\}\}\}$/);
    expect(lines[1]).toMatch(/^\{"type": "test_result", "data": \{"b": \{"duration": \d+, "passed": true, "output": ""\}\}\}$/);
    expect(lines.slice(2)).toEqual(['']);
  });
});

describe('--bench', () => {
  it('prints a table of each bench: the average time of one run and the runs timed; returning non-zero skips one', async () => {
    const r = runTracelet(['--bench', '-e', 'BEGIN { printf("begin\\n"); } '
      + 'bench:count { @c = count(); } bench:skipped { return 1; } '
      + 'bench:loop { $a = 0; for ($i : 0..10) { $a++; } } '
      + 'bench:prints { printf("discarded %d\\n", 1); } '
      + 'END { printf("end\\n"); clear(@c); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('begin');
    expect(lines[1]).toBe(`${'Benchmark'.padEnd(41)}${'Time(ns)'.padEnd(15)}Iterations`);
    expect(lines[2]).toBe('-'.repeat(41 + 15 + 10));
    const rows = lines.slice(3, 6).map((l) => /^(\S+) +(\d+) +(\d+)$/.exec(l));
    expect(rows.map((m) => m?.[1])).toEqual(['count', 'loop', 'prints']);
    for (const m of rows) {
      // Columns at bpftrace's places; the runs grow until a batch takes 1 ms (no timing asserted).
      expect(m![0].indexOf(m![2]!, m![1]!.length)).toBe(41);
      expect(Number(m![3])).toBeGreaterThanOrEqual(1);
    }
    expect(lines.slice(6)).toEqual(['end', '']);
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('heads the table even when the first bench is skipped', () => {
    const r = runTracelet(['--bench', '-e', 'bench:skipped { return 1; } bench:runs { @n++; }']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Benchmark +Time\(ns\) +Iterations\n-{66}\nruns +\d+ +[1-9]\d*\n$/);
  });

  it('fails a bench that meets a runtime error: no row, exit 1', () => {
    const r = runTracelet(['--bench', '-e', 'bench:bad { cat("/nonexistent/tracelet"); } bench:good { @n++; }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ERROR: failed to open file '/nonexistent/tracelet': No such file or directory\n"
      + "ERROR: bench 'bad' failed: it met a runtime error\n");
    expect(r.stdout).toMatch(/^Benchmark +Time\(ns\) +Iterations\n-{66}\ngood +\d+ +[1-9]\d*\n$/);
  });

  it('prints one JSON record per bench', () => {
    const r = runTracelet(['-f', 'json', '--bench', '-e', 'bench:a { @a++; } bench:b { @b++; }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\{"type": "benchmark_result", "data": \{"a": \{"average": \d+, "iters": [1-9]\d*\}\}\}\n\{"type": "benchmark_result", "data": \{"b": \{"average": \d+, "iters": [1-9]\d*\}\}\}\n$/);
  });
});

describe('test: and bench: probes', () => {
  it('are ignored without their option; alone they are refused, as bpftrace', () => {
    const ignored = runTracelet(['-e', 'BEGIN { printf("b\\n"); exit(); } test:x { printf("never\\n"); } bench:y { }']);
    expect(ignored.stderr).toBe('');
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).toBe('Attaching 1 probe...\nb\n\n\n');
    const alone = runTracelet(['-e', 'test:x { }']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe('tracelet: no probes to attach: test: probes run only with --test (tracelet --test ...)\n');
    const none = runTracelet(['--bench', '-e', 'BEGIN { exit(); } test:x { }']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('tracelet: --bench: the program has no bench: probes to run\n');
    const both = runTracelet(['--test', '--bench', '-e', 'test:x { }']);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe('tracelet: --test and --bench cannot be used together\n');
  });

  it('need a name of their own, not a pattern', () => {
    const pattern = runTracelet(['--test', '-e', 'test:parse* { }']);
    expect(pattern.code).toBe(1);
    expect(pattern.stderr).toBe("stdin:1:6: error: invalid test name 'parse*'\ntest:parse* { }\n     ^~~~~~\n"
      + 'hint: a test probe is named, not matched: write e.g. test:parse_ipv4\n');
    const empty = runTracelet(['--bench', '-e', 'bench: { }']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe('stdin:1:6: error: empty field in bench attach point\nbench: { }\n     ^\nhint: expected bench:name\n');
    const twice = runTracelet(['--test', '-e', 'test:a { }\ntest:a { }']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe("stdin:2:1: error: 'a' names more than one test probe\ntest:a { }\n^~~~~~\n"
      + 'hint: the other is at line 1; give each test probe its own name\n');
    const typo = runTracelet(['-e', 'tset:a { }']);
    expect(typo.stderr).toContain("hint: did you mean 'test'?\n");
    const value = runTracelet(['--test', '-e', 'test:a { return "no"; }']);
    expect(value.code).toBe(1);
    expect(value.stderr).toContain("stdin:1:17: error: return takes an integer (the probe's return value)\n");
  });
});
