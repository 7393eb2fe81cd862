// `if comptime (c)` (bpftrace 0.26): the parser marks the if; `comptime` stays a name elsewhere.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import type { IfStmt } from '../../src/model/ast.js';

function firstIf(text: string): IfStmt {
  const r = parse(text, {});
  expect(r.diagnostics).toEqual([]);
  return r.program.probes[0]!.body.statements[0] as IfStmt;
}

describe('if comptime', () => {
  it('marks an if whose condition follows `comptime`, with or without parentheses, and in an else if', () => {
    expect(firstIf('BEGIN { if comptime (1 == 1) { } }').comptime).toBe(true);
    expect(firstIf('BEGIN { if comptime is_str("a") { } }').comptime).toBe(true);
    const chain = firstIf('BEGIN { if (pid) { } else if comptime (0) { } }');
    expect(chain.comptime).toBeUndefined();
    expect((chain.otherwise as IfStmt).comptime).toBe(true);
  });

  it('reads `comptime` followed by a block as the condition of a plain if', () => {
    const s = firstIf('BEGIN { if comptime { } }');
    expect(s.comptime).toBeUndefined();
    expect(s.condition).toMatchObject({ kind: 'Identifier', name: 'comptime' });
  });
});

describe('if comptime as a value', () => {
  it('marks the conditional expression', () => {
    const r = parse('BEGIN { $a = if comptime (1) { 2 } else { 3 }; $b = if (1) { 2 } else { 3 }; }', {});
    expect(r.diagnostics).toEqual([]);
    const [a, b] = r.program.probes[0]!.body.statements as { value: { kind: string; comptime?: true } }[];
    expect(a!.value).toMatchObject({ kind: 'Ternary', comptime: true });
    expect(b!.value.comptime).toBeUndefined();
  });
});
