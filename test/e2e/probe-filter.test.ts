// --probe-filter REGEX (bpftrace 0.26) end to end on the real kernel: only the probes whose full
// name matches are loaded and attached, BEGIN and END always run, wildcards are filtered after
// their expansion (also the targets of one shared syscall program), test: probes under --test;
// no match and a bad pattern are errors. The first cases are bpftrace's runtime tests
// (tests/runtime/probe, probe_filter_*).
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

describe('--probe-filter', () => {
  it('attaches only the probe it matches', () => {
    const r = runTracelet(['--probe-filter', ':200', '-e', 'interval:ms:100 { printf("bad\\n"); exit(); } interval:ms:200 { printf("hit\\n"); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nhit\n\n\n');
    expect(r.code).toBe(0);
  });

  it('keeps BEGIN and END', () => {
    const r = runTracelet(['--probe-filter', ':200', '-e', 'BEGIN { printf("begin\\n"); } interval:ms:200 { printf("hit\\n"); exit(); } END { printf("end\\n"); }']);
    expect(r.stdout).toBe('Attaching 3 probes...\nbegin\nhit\nend\n\n\n');
  });

  it('matches several probes with one regular expression', () => {
    const r = runTracelet(['--probe-filter', 'interval:ms:(200|300)', '-e',
      'interval:ms:100 { printf("bad\\n"); exit(); } interval:ms:200 { printf("a\\n"); } interval:ms:300 { printf("b\\n"); exit(); }']);
    // Both attached, the one at 100 ms not (which would have printed first and ended the run).
    expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\n(a\n)+b\n\n\n$/);
  });

  it('fails (exit 1, nothing loaded) when it matches none of the probes, naming them', () => {
    const r = runTracelet(['--probe-filter', 'nonexistent_probe_xyz_42', '-e', 'interval:ms:100 { exit(); } tracepoint:syscalls:sys_enter_getpid { }']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("stdin:1:1: error: --probe-filter 'nonexistent_probe_xyz_42' matches none of the program's probes\n"
      + 'interval:ms:100 { exit(); } tracepoint:syscalls:sys_enter_getpid { }\n^~~~~~~~~~~~~~~\n'
      + "hint: the regular expression is searched for in each probe's full name: interval:ms:100, tracepoint:syscalls:sys_enter_getpid\n");
  });

  it('refuses a pattern that is no regular expression (exit 1, as bpftrace), with a hint', () => {
    const bad = runTracelet(['--probe-filter', '[invalid', '-e', 'interval:ms:100 { exit(); }']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("tracelet: --probe-filter '[invalid': not a regular expression: Unterminated character class\n"
      + "hint: it is a regular expression searched for in each probe's full name, e.g. --probe-filter 'sys_enter_(open|close)'\n");
    const glob = runTracelet(['--probe-filter', '*sys_enter_open*', '-e', 'interval:ms:100 { exit(); }']);
    expect(glob.code).toBe(1);
    expect(glob.stderr).toBe("tracelet: --probe-filter '*sys_enter_open*': not a regular expression: Nothing to repeat\n"
      + "hint: it is a regular expression, not a glob: '.*' matches anything, e.g. --probe-filter '.*sys_enter_open.*'\n");
  });

  it('filters a wildcard after its expansion, also the targets that would share one syscall program', () => {
    // sys_enter_* is hundreds of targets on one raw tracepoint program; two are kept, each attached alone.
    // /bin/true opens (and closes) ld.so.cache and libc.
    const r = runTracelet(['--probe-filter', 'sys_enter_(openat|close)$', '-e',
      'tracepoint:syscalls:sys_enter_* /pid == cpid/ { @[probe] = count(); }', '-c', '/bin/true']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('@'));
    expect(r.stdout.startsWith('Attaching 2 probes...\n')).toBe(true);
    expect(lines.map((l) => l.replace(/: \d+$/, '')).sort()).toEqual([
      '@[tracepoint:syscalls:sys_enter_close]', '@[tracepoint:syscalls:sys_enter_openat]',
    ]);
  });

  it('chooses the test: probes --test runs', () => {
    const r = runTracelet(['--test', '--probe-filter', 'test:b$', '-e', 'test:a { return 1; } test:b { } test:bb { return 1; }']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/ \(\d+ (ns|us|ms|s)\)\n/g, ' (T)\n')).toBe('[==========] Running 1 test.\n[ RUN      ] b\n[       OK ] b (T)\n'
      + '[==========] 1 test ran.\n[  PASSED  ] 1 test.\n');
  });
});
