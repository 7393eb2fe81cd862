// The generated IR of a program, for codegen tests: parsed, checked (no errors allowed) and
// generated on the fake kernel, no root needed.
import { expect } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { generate } from '../../src/codegen/codegen.js';
import { FakeKernel } from './fake-kernel.js';

export function ir(text: string): string {
  const kernel = new FakeKernel();
  const checked = typecheck(parse(text).program, kernel);
  expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return generate(checked.program!, kernel, {}).ir;
}

/** The IR lines of the helper calls to `id`. */
export const calls = (text: string, id: number): string[] => text.split('\n').filter((l) => l.includes(`inttoptr (i64 ${id} to`));
