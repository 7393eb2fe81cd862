// The type checker on bpftrace 0.2x syntax (issue 14), on the fake kernel.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { FakeKernel, FakeKernelWithBinary } from '../helpers/fake-kernel.js';

function check(text: string) {
  const parsed = parse(text, {});
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), {});
}

function codes(text: string): string[] {
  return check(text).diagnostics.map((d) => `${d.code}@${d.span.line}:${d.span.column}-${d.span.endColumn}`);
}

describe('interval and profile periods', () => {
  it('reads a duration or nanoseconds as the period', () => {
    const r = check('interval:1m { } interval:2500ns { } interval:100ms { } profile:99hz { }');
    expect(r.diagnostics).toEqual([]);
    expect(r.program!.probes.map((p) => p.targets[0]!.perf)).toEqual([
      { type: 1, config: 0, period: 60_000_000_000, frequency: false },
      { type: 1, config: 0, period: 2500, frequency: false },
      { type: 1, config: 0, period: 100_000_000, frequency: false },
      { type: 1, config: 0, period: 99, frequency: true },
    ]);
  });

  it('refuses a period under 1us, pointing at hz for a bare small number', () => {
    expect(codes('profile:99 { }')).toEqual(['E_ATTACH_POINT@1:1-11']);
    expect(check('profile:99 { }').diagnostics[0]!.hint).toContain('profile:hz:99');
  });
});

describe('let and range for', () => {
  it('types declarations: from the value, the declared type, or int64 when never assigned', () => {
    const r = check('BEGIN { let $a = "x"; let $b: uint16 = 1; let $c; let $s: string; $s = "abc"; print(($a, $b, $c, $s)); }');
    expect(r.diagnostics).toEqual([]);
    const vars = [...r.program!.variables.values()][0]!;
    expect([...vars.values()].map((v) => `${v.name} ${v.type.kind}${v.type.kind === 'int' ? v.type.bits : ''}`)).toEqual([
      'a string', 'b int16', 's string', 'c int64',
    ]);
  });

  it('keeps a declared integer type and refuses a literal that does not fit', () => {
    expect(codes('BEGIN { let $b: uint8 = 256; print($b); }')).toEqual(['E_TYPE_MISMATCH@1:25-28']);
    expect(codes('BEGIN { let $b: int8 = -128; $b = $b * 100; print($b); }')).toEqual([]);
    expect(codes('BEGIN { let $b: uint8; $b = "s"; print($b); }')).toEqual(['E_TYPE_MISMATCH@1:24-26']);
  });

  it('lets sibling blocks declare the same name with different types', () => {
    expect(codes('BEGIN { if (1) { let $v = 1; print($v); } else { let $v = "s"; print($v); } }')).toEqual([]);
  });

  it('says a let variable is gone after its block', () => {
    const r = check('BEGIN { if (1) { let $a = 1; print($a); } print($a); }');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E_UNDEFINED_VARIABLE']);
    expect(r.diagnostics[0]!.hint).toContain('declare it before the block');
  });

  it('types a range loop variable as int64 and refuses non-integer bounds', () => {
    expect(codes('BEGIN { for ($i : 0..10) { print($i); } for ($i : 0..2) { print($i); } }')).toEqual([]);
    expect(codes('BEGIN { for ($i : 0.."a") { print($i); } }')).toEqual(['E_TYPE@1:22-25']);
    expect(codes('BEGIN { for ($i : 0..2) { return; } }')).toEqual([]);
  });
});

describe('tuples and records', () => {
  it('types records by field names and refuses mixing different ones', () => {
    expect(codes('BEGIN { $a = (x = 1, y = "a"); $a = (x = 2, y = "bcd"); print($a.y); }')).toEqual([]);
    expect(codes('BEGIN { $a = (x = 1); $a = (y = 1); print($a); }').map((c) => c.split('@')[0])).toEqual(['E_TYPE_MISMATCH']);
    expect(codes('BEGIN { $a = (x = 1); $a = (1,); print($a); }').map((c) => c.split('@')[0])).toEqual(['E_TYPE_MISMATCH']);
  });

  it('indexes tuples with constants only, in range', () => {
    expect(codes('BEGIN { $t = (1, 2); print($t[1]); print($t[2]); }')).toEqual(['E_TUPLE_INDEX@1:42-47']);
    expect(codes('BEGIN { $t = (1, 2); $i = 0; print($t[$i]); }')).toEqual(['E_TUPLE_INDEX@1:39-41']);
  });
});

describe('comm(pid)', () => {
  it('is a string in probes whose programs may call the kfunc, refused elsewhere naming those probes', () => {
    expect(codes('tracepoint:demo:widget_made { printf("%s", comm(args->count)); } profile:hz:99 { @[comm(pid)] = count(); }')).toEqual([]);
    const parsed = parse('uprobe:/bin/demo:main { printf("%s", comm(1)); } BEGIN { printf("%s", comm(1)); }', {});
    const r = typecheck(parsed.program, new FakeKernelWithBinary(), {});
    expect(r.diagnostics.map((d) => `${d.code}@${d.span.line}:${d.span.column} ${d.message}`)).toEqual([
      'E_UNAVAILABLE@1:38 comm() with an argument cannot be used in uprobe probes on this kernel',
      'E_UNAVAILABLE@1:71 comm() with an argument cannot be used in BEGIN probes on this kernel',
    ]);
    expect(r.diagnostics[0]!.hint).toBe('it calls the kernel function bpf_task_from_pid, which this kernel lets only tracepoint, profile, interval, software, watchpoint, asyncwatchpoint probes call');
    expect(codes('tracepoint:demo:widget_made { printf("%s", comm("x")); }')).toEqual(['E_ARG_TYPE@1:49-52']);
  });
});

describe('block expressions', () => {
  it('have the type of their value, after checking their statements', () => {
    const r = check('BEGIN { $s = { let $a = 2; $a; "str" }; $n = { $t = (1, "x"); $t.0 + 1 }; print(($s, $n)); }');
    expect(r.diagnostics).toEqual([]);
    const vars = [...r.program!.variables.values()][0]!;
    const typeOf = (name: string) => [...vars.values()].find((v) => v.name === name)!.type.kind;
    expect([typeOf('s'), typeOf('n')]).toEqual(['string', 'int']);
  });

  it('report errors of their statements where they are, and scope their let variables to the block', () => {
    expect(codes('BEGIN { $v = { $x = "s"; $x = 1; 2 }; print($v); }')).toEqual(['E_TYPE_MISMATCH@1:26-28', 'W_UNUSED_VARIABLE@1:16-18']);
    expect(check('BEGIN { $v = { let $a = 1; $a }; print(($v, $a)); }').diagnostics.map((d) => d.code)).toEqual(['E_UNDEFINED_VARIABLE']);
  });
});
