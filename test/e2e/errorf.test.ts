// errorf() and warnf() (bpftrace 0.24/0.25, issue 14) end to end on the real kernel: the message
// comes through the ring buffer as printf's does and is printed as bpftrace 0.26 logs it, at the
// call's place in the script. Each expected line is one of bpftrace's own runtime tests
// (tests/runtime/call) or its docs (docs/stdlib.md), byte for byte.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-errorf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errorf()', () => {
  it('prints the docs\' example on stderr, at the call: the run goes on and exits 0', () => {
    const r = runTracelet(['-e', 'BEGIN { errorf("Something bad with args: %d, %s", 10, "arg2"); exit(); }']);
    expect(r.stderr).toBe('stdin:1:9-62: ERROR: Something bad with args: 10, arg2\n');
    expect(r.stdout).toBe('Attaching 1 probe...\n\n\n');
    expect(r.code).toBe(0);
  });

  it('formats as printf does (length modifiers), its trailing newline dropped', () => {
    const r = runTracelet(['-q', '-e', 'begin { $x = 0x12345678abcdef; errorf("%hhx %hx %x %jx\\n", $x, $x, $x, $x); exit(); }']);
    expect(r.stderr).toBe('stdin:1:32-75: ERROR: ef cdef 78abcdef 12345678abcdef\n');
  });

  it('in a macro: the call, then the macro call it was expanded from with its source', () => {
    const r = runTracelet(['-q', '-e', 'macro bad() { errorf("Something bad"); } begin { bad(); exit(); }']);
    expect(r.stderr).toBe('stdin:1:15-38: ERROR: Something bad\n'
      + 'stdin:1:50-55: ERROR: expanded from\n'
      + 'macro bad() { errorf("Something bad"); } begin { bad(); exit(); }\n'
      + `${' '.repeat(49)}~~~~~\n`);
  });

  it('each time a probe runs, in order, with the values of that run', () => {
    const r = runTracelet(['-q', '-e', 'interval:ms:10 { @n++; errorf("tick %d of %s", @n, "interval"); if (@n == 3) { exit(); } }']);
    expect(r.stderr).toBe([1, 2, 3].map((n) => `stdin:1:24-63: ERROR: tick ${n} of interval\n`).join(''));
    expect(r.stdout).toBe('\n\n@n: 3\n');
    expect(r.code).toBe(0);
  });

  it('in a script file: named by its path; a call over several lines by its lines; never into -o FILE', () => {
    const script = join(dir, 'tool.bt');
    writeFileSync(script, 'BEGIN {\n  printf("out\\n");\n  errorf(\n    "over %s",\n    "lines");\n  exit();\n}\n');
    const out = join(dir, 'out.txt');
    const r = runTracelet([script, '-o', out]);
    expect(r.stderr).toBe(`${script}:3-5: ERROR: over lines\n`);
    expect(readFileSync(out, 'utf8')).toBe('Attaching 1 probe...\nout\n');
  });

  it('-f json: an errorf record in the output, its text as formatted, at the call\'s start', () => {
    const r = runTracelet(['-f', 'json', '-e', 'BEGIN { printf("p\\n"); errorf("bad %s\\n", "x\\ty"); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"type": "attached_probes", "data": {"probes": 1}}\n'
      + '{"type": "printf", "data": "p\\n"}\n'
      + '{"type": "errorf", "msg": "bad x\\ty\\n", "filename": "stdin", "line": 1, "col": 24}\n\n\n');
  });

  it('--test: fails the test that calls it, its message shown with the test\'s output', () => {
    const r = runTracelet(['--test', '-e', 'test:calls_errorf { errorf("broken %d", 1); } test:calls_warnf { warnf("just a warning"); }']);
    expect(r.code).toBe(1);
    const report = r.stdout.replace(/ \(\d+ (ns|us|ms|s)\)\n/g, ' (T)\n');
    expect(report).toContain('[ RUN      ] calls_errorf\nstdin:1:21-43: ERROR: broken 1\n[  FAILED  ] calls_errorf (T)\n');
    expect(report).toContain('[ RUN      ] calls_warnf\n[       OK ] calls_warnf (T)\n');
  });

  it('--bench: fails the bench that calls it', () => {
    const r = runTracelet(['--bench', '-e', 'bench:calls_errorf { errorf("broken"); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ERROR: bench 'calls_errorf' failed: it met a runtime error\n");
  });
});

describe('warnf()', () => {
  it('prints a warning at the call', () => {
    const r = runTracelet(['-q', '-e', 'begin { warnf("Something kinda bad with args: %d, %s", 10, "arg2"); exit(); }']);
    expect(r.stderr).toBe('stdin:1:9-67: WARNING: Something kinda bad with args: 10, arg2\n');
    expect(r.code).toBe(0);
  });

  it('is silenced by --no-warnings, in text and in JSON; errorf() is not', () => {
    const text = runTracelet(['-q', '--no-warnings', '-e', 'begin { warnf("no warn"); errorf("still"); exit(); }']);
    expect(text.stderr).toBe('stdin:1:27-42: ERROR: still\n');
    const json = runTracelet(['-q', '--no-warnings', '-f', 'json', '-e', 'begin { warnf("no warn"); exit(); }']);
    expect(json.stdout).not.toContain('no warn');
    expect(json.stderr).toBe('');
  });

  it('-f json: a warnf record', () => {
    const r = runTracelet(['-q', '-f', 'json', '-e', 'BEGIN {\n  warnf("%d percent", 50); exit(); }']);
    expect(r.stdout).toBe('{"type": "warnf", "msg": "50 percent", "filename": "stdin", "line": 2, "col": 3}\n\n\n');
  });
});
