// Each function's record (src/model/functions.ts) is what the checker enforces: its argument
// counts, --unsafe, its probe types, and that an aggregation is only the value of a map assignment.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { BUILTIN_FUNCTIONS, FUNCTION_NAMES, type FunctionName } from '../../src/model/functions.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

/** The codes of the errors the checker reports for a program. */
function errorCodes(program: string, unsafe = false): string[] {
  const parsed = parse(program, {});
  expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), { unsafe }).diagnostics
    .filter((d) => d.severity === 'error').map((d) => d.code);
}

/** Arguments a function accepts where a plain integer will not do. */
const VALID_ARGUMENT: Partial<Record<FunctionName, string>> = { uaddr: '"x"', reg: '"ip"' };

/** A call of `name` with n arguments. */
function call(name: FunctionName, n: number): string {
  return `${name}(${Array.from({ length: n }, () => VALID_ARGUMENT[name] ?? '1').join(', ')})`;
}

/** A call of `name` with n arguments, as a statement where the function may be used. */
function use(name: FunctionName, n: number): string {
  return BUILTIN_FUNCTIONS[name].aggregation ? `@m = ${call(name, n)};` : `${call(name, n)};`;
}

describe.each(FUNCTION_NAMES)('%s()', (name) => {
  const f = BUILTIN_FUNCTIONS[name];

  it('takes the argument counts of its record', () => {
    expect(errorCodes(`BEGIN { ${use(name, f.minArgs)} }`, true)).not.toContain('E_ARITY');
    if (f.minArgs > 0) expect(errorCodes(`BEGIN { ${use(name, f.minArgs - 1)} }`, true)).toContain('E_ARITY');
    if (f.maxArgs !== Infinity) expect(errorCodes(`BEGIN { ${use(name, f.maxArgs + 1)} }`, true)).toContain('E_ARITY');
  });

  it(f.unsafe ? 'is refused without --unsafe' : 'needs no --unsafe', () => {
    const program = `BEGIN { ${use(name, f.minArgs)} }`;
    expect(errorCodes(program).includes('E_UNSAFE')).toBe(f.unsafe === true);
    expect(errorCodes(program, true)).not.toContain('E_UNSAFE');
  });

  it(f.aggregation ? 'is only the value of a map assignment' : 'is a statement of its own', () => {
    expect(errorCodes(`BEGIN { ${call(name, f.minArgs)}; }`, true).includes('E_AGG_CONTEXT')).toBe(f.aggregation === true);
  });

  it.runIf(f.providers)('is refused in probe types its record does not list', () => {
    expect(f.providers).not.toContain('BEGIN');
    expect(errorCodes(`BEGIN { ${use(name, f.minArgs)} }`, true)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^E_(BUILTIN_CONTEXT|UNAVAILABLE)$/)]));
  });
});
