// --probe-filter (bpftrace 0.26) in the compile driver, on FakeKernel: only the targets whose
// expanded name the regular expression matches are generated (so never loaded), BEGIN/END/self
// always are, a filter that matches nothing is a located error, and a bad pattern is explained.
import { describe, expect, it } from 'vitest';
import { compile, probeFilterProblem } from '../../src/compile/compile.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

const PROGRAM = 'BEGIN { @s = 1; }\n'
  + 'tracepoint:syscalls:sys_*_openat { @[probe] = count(); }\n'
  + 'interval:ms:100, interval:ms:200 { @i = count(); }\n'
  + 'self:signal:SIGUSR1 { print(@s); }\n'
  + 'END { clear(@s); }';

function filtered(probeFilter: string, source = PROGRAM) {
  return compile({ source, probeFilter, object: false }, new FakeKernel());
}

/** The targets each generated program serves. */
function programTargets(r: ReturnType<typeof filtered>): string[][] {
  return r.generated!.programs.map((p) => p.targets.map((t) => t.name));
}

describe('--probe-filter in compile()', () => {
  it('keeps the targets whose full name it matches anywhere (after wildcards), and BEGIN, END and self:signal', () => {
    const r = filtered('sys_exit|ms:2');
    expect(r.diagnostics).toEqual([]);
    expect(programTargets(r)).toEqual([
      ['BEGIN'], ['tracepoint:syscalls:sys_exit_openat'], ['interval:ms:200'], ['self:signal:SIGUSR1'], ['END'],
    ]);
    expect(r.ir).toBeUndefined();
    // Nothing of the others is generated: the IR names no program for them.
    expect(r.generated!.ir).not.toMatch(/sys_enter_openat|interval_ms_100/);
    const all = compile({ source: PROGRAM, object: false }, new FakeKernel());
    expect(programTargets(all).flat()).toContain('tracepoint:syscalls:sys_enter_openat');
  });

  it('is a regular expression searched for, not a whole-name match (as bpftrace\'s std::regex_search)', () => {
    expect(programTargets(filtered('^tracepoint:.*enter')).flat()).toContain('tracepoint:syscalls:sys_enter_openat');
    expect(programTargets(filtered('openat$')).flat().filter((n) => n.startsWith('tracepoint'))).toHaveLength(2);
  });

  it('matching none of the probes is an error at the first of them, naming them', () => {
    const r = filtered('nosuch');
    expect(r.program).toBeUndefined();
    expect(r.generated).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === 'E_PROBE_FILTER')!;
    expect(`${d.span.line}:${d.span.column}-${d.span.endColumn}`).toBe('2:1-33');
    expect(d.message).toBe("--probe-filter 'nosuch' matches none of the program's probes");
    expect(d.hint).toBe("the regular expression is searched for in each probe's full name: tracepoint:syscalls:sys_enter_openat, "
      + 'tracepoint:syscalls:sys_exit_openat, interval:ms:100, interval:ms:200');
  });

  it('leaves a program of BEGIN and END alone', () => {
    const r = filtered('nosuch', 'BEGIN { exit(); } END { }');
    expect(r.diagnostics).toEqual([]);
    expect(programTargets(r)).toEqual([['BEGIN'], ['END']]);
  });
});

describe('probeFilterProblem()', () => {
  it('accepts a regular expression', () => {
    expect(probeFilterProblem('interval:ms:(200|300)')).toBeUndefined();
    expect(probeFilterProblem('')).toBeUndefined();
  });

  it('says why a pattern is no regular expression, with a hint; a glob gets its regular expression', () => {
    expect(probeFilterProblem('[invalid')).toEqual({
      message: 'not a regular expression: Unterminated character class',
      hint: "it is a regular expression searched for in each probe's full name, e.g. --probe-filter 'sys_enter_(open|close)'",
    });
    expect(probeFilterProblem('*open*')).toEqual({
      message: 'not a regular expression: Nothing to repeat',
      hint: "it is a regular expression, not a glob: '.*' matches anything, e.g. --probe-filter '.*open.*'",
    });
  });
});
