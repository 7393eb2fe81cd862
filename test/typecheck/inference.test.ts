// Map types are inferred from the whole program, not in source order: a probe may read a map that
// a later probe assigns, as bpftrace 0.17 accepts (offwaketime's switch probe before its wakeup probe).
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { typeName } from '../../src/model/types.js';
import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function check(text: string) {
  const parsed = parse(text);
  expect(parsed.diagnostics).toEqual([]);
  return typecheck(parsed.program, new FakeKernel());
}

/** Each map as `@name[key]: value` once the program checks without diagnostics. */
function mapTypes(text: string): string[] {
  const r = check(text);
  expect(renderDiagnostics(r.diagnostics, { name: 'stdin', text })).toBe('');
  return [...r.program!.maps.values()].map((m) =>
    `${m.name}${m.keyType ? `[${typeName(m.keyType)}]` : ''}: ${m.kind === 'scalar' ? typeName(m.valueType) : m.kind}`);
}

describe('map types from the whole program', () => {
  it('a map read as a key before the probe that assigns it', () => {
    expect(mapTypes('interval:s:1 { @x[@s[1]] = count(); exit(); } BEGIN { @s[1] = comm; }'))
      .toEqual(['@s[int64]: string[16]', '@x[string[16]]: count']);
    expect(mapTypes('interval:s:1 { @x[@s] = count(); } BEGIN { @s = kstack; }'))
      .toEqual(['@s: kstack', '@x[kstack]: count']);
  });

  it('through a variable, a tuple, and a chain of maps written in reverse order', () => {
    expect(mapTypes('interval:s:1 { $k = @s[1]; @x[$k] = count(); } BEGIN { @s[1] = comm; }'))
      .toEqual(['@s[int64]: string[16]', '@x[string[16]]: count']);
    expect(mapTypes('interval:s:1 { @t = @s; @u[@s.1] = @s.0; } BEGIN { @s = (1, comm); }'))
      .toEqual(['@s: (int64, string[16])', '@t: (int64, string[16])', '@u[string[16]]: int64']);
    expect(mapTypes('interval:s:1 { @a = @b[1]; } interval:s:2 { @b[1] = @c; } interval:s:3 { @c = @d; } BEGIN { @d = ustack; }'))
      .toEqual(['@a: ustack', '@b[int64]: ustack', '@c: ustack', '@d: ustack']);
  });

  it('integer values are 64-bit, signed as the first assignment (in source order) is, as in bpftrace', () => {
    const sign = (text: string) => check(text).program!.maps.get('@a')!.valueType;
    expect(sign('BEGIN { @a = (int8)1; } END { @a = 1000; }')).toEqual({ kind: 'int', bits: 64, signed: true });
    expect(sign('BEGIN { @a = (uint8)1; } END { @a = -1; }')).toEqual({ kind: 'int', bits: 64, signed: false });
    expect(sign('END { @a = -1; } BEGIN { @a = (uint8)1; }')).toEqual({ kind: 'int', bits: 64, signed: true });
  });

  it('stacks of different depths are different types (their ids come from different stack tables)', () => {
    expect(mapTypes('BEGIN { @a = kstack(3); @b[ustack(build_id, 4)] = count(); @c = kstack(perf); @c = kstack; }'))
      .toEqual(['@a: kstack(3)', '@b[ustack(build_id, 4)]: count', '@c: kstack']);
    const text = 'profile:hz:99 { @x = kstack(3); @x = kstack(5); }';
    expect(renderDiagnostics(check(text).diagnostics, { name: 'stdin', text }))
      .toContain('stdin:1:33: error: type mismatch for @x: assigning kstack(5) to a map that holds kstack(3)\n');
  });

  it('a real conflict names both places', () => {
    const text = 'interval:s:1 { @x[@s[1]] = count(); }\nBEGIN { @s[1] = 5; @s[2] = comm; @x[1] = count(); }';
    expect(renderDiagnostics(check(text).diagnostics, { name: 'stdin', text })).toBe(
      'stdin:2:20: error: type mismatch for @s: assigning string[16] to a map that holds int64\n'
      + 'BEGIN { @s[1] = 5; @s[2] = comm; @x[1] = count(); }\n'
      + '                   ^~~~~\n'
      + 'stdin:2:9: note: @s is first assigned here, as int64\n'
      + 'BEGIN { @s[1] = 5; @s[2] = comm; @x[1] = count(); }\n'
      + '        ^~~~~\n');
    const keys = 'interval:s:1 { @x[comm] = count(); }\nBEGIN { @x[1] = count(); @y = 1; $z = @y[2]; }';
    expect(renderDiagnostics(check(keys).diagnostics, { name: 'stdin', text: keys })).toBe(
      'stdin:2:9: error: @x has key type string[16], but is used here with int64\n'
      + 'BEGIN { @x[1] = count(); @y = 1; $z = @y[2]; }\n'
      + '        ^~~~~\n'
      + 'stdin:1:16: note: @x is first assigned here, with key type string[16]\n'
      + 'interval:s:1 { @x[comm] = count(); }\n'
      + '               ^~~~~~~~\n'
      + 'stdin:2:39: error: @y is used without a key elsewhere, but with a key here\n'
      + 'BEGIN { @x[1] = count(); @y = 1; $z = @y[2]; }\n'
      + '                                      ^~~~~\n'
      + 'stdin:2:26: note: @y is first assigned here, without a key\n'
      + 'BEGIN { @x[1] = count(); @y = 1; $z = @y[2]; }\n'
      + '                         ^~\n'
      + 'stdin:2:34: warning: variable $z is assigned but never used\n'
      + 'BEGIN { @x[1] = count(); @y = 1; $z = @y[2]; }\n'
      + '                                 ^~\n');
  });

  it('a variable assigned two types names its first assignment', () => {
    const d = check('BEGIN { $x = 1; $x = "a"; print($x); }').diagnostics;
    expect(d.map((x) => [x.code, x.span.column, x.notes?.map((n) => [n.span.column, n.message])])).toEqual([
      ['E_TYPE_MISMATCH', 17, [[9, '$x is first assigned here']]],
    ]);
  });

  it('a value built from itself cannot be settled', () => {
    const r = check('BEGIN { @a = (@b, 1); @b = (@a, 1); }');
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['E_TYPE', 'the type of @a cannot be settled: its value is built from itself'],
    ]);
  });

  it('a map that is only read is still undefined', () => {
    expect(check('BEGIN { @x[@s[1]] = count(); }').diagnostics.map((d) => d.code)).toEqual(['E_UNDEFINED_MAP']);
  });
});
