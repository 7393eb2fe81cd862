// Fuzzing the whole front end (parse, type check, codegen, LLVM compile to a BPF object; nothing
// is loaded) with mutations of real scripts: examples/*.bt and the bpftrace tools in /usr/sbin.
// Whatever the input, each stage either succeeds or reports coded diagnostics: no exception, no
// E_INTERNAL, no LLVM error. A fixed seed and a few hundred runs in CI (well under 30 s);
// TRACELET_FUZZ_RUNS=N (and TRACELET_FUZZ_SEED) for a longer run on demand.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { generate } from '../../src/codegen/codegen.js';
import { DiagnosticError, hasErrors, type Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { native } from '../../src/runtime/native.js';
import { programs, tools } from '../helpers/tools.js';

const kernel = new SystemKernel();
const seeds = [...programs('examples'), ...tools].map((path) => readFileSync(path, 'utf8'));
const runs = Number(process.env.TRACELET_FUZZ_RUNS) || 150;
const seed = Number(process.env.TRACELET_FUZZ_SEED) || 15;

/** Pieces of the language that mutations insert: tokens, and fragments that nest or chain. */
const fragment = fc.constantFrom(
  '{', '}', '(', ')', '[', ']', ';', ',', '/', '"', '$x', '@m', '@m[1]', '+', '&&', '?', ':', '->', '.', '!', '-',
  'if (1) {', 'else', 'while (1) {', 'unroll(3) {', 'str(', 'printf("%d\\n", ', 'count()', 'exit();', 'return;',
  '(uint8)', 'sizeof(', 'args', 'args->', 'retval', 'comm', 'pid', '0xffffffffffffffff', '-1', '1 << 70',
  '#define X 1\n', '\n', ' ', '$x = ', '@m = hist(', '"%s %d\\n"', 'kstack', 'ustack(3)', 'nsecs',
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fragment, fc.string({ maxLength: 3 })) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }), times: fc.integer({ min: 2, max: 60 }) }),
  fc.record({ kind: fc.constant('copy' as const), at: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
);
type Mutation = { kind: 'delete' | 'insert' | 'repeat' | 'copy'; at: number; len?: number; text?: string; times?: number; from?: number };

function mutate(text: string, ms: readonly Mutation[]): string {
  let t = text;
  for (const m of ms) {
    const i = m.at % (t.length + 1);
    const len = m.len ?? 1;
    if (m.kind === 'delete') t = t.slice(0, i) + t.slice(i + len);
    else if (m.kind === 'insert') t = t.slice(0, i) + (m.text ?? '') + t.slice(i);
    else if (m.kind === 'repeat') t = t.slice(0, i) + t.slice(i, i + len).repeat(m.times ?? 2) + t.slice(i + len);
    else {
      const from = (m.from ?? 0) % (t.length + 1);
      t = t.slice(0, i) + t.slice(from, from + len) + t.slice(i);
    }
  }
  return t;
}

function clean(text: string, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    expect(d.code, `${d.code}: ${d.message}`).not.toBe('E_INTERNAL');
    expect(d.span.start).toBeGreaterThanOrEqual(0);
    expect(d.span.end).toBeLessThanOrEqual(text.length);
  }
}

/** The front end as `tracelet --emit-elf` runs it: the contract holds at every stage. */
function frontEnd(text: string): void {
  const parsed = parse(text);
  clean(text, parsed.diagnostics);
  if (hasErrors(parsed.diagnostics)) return;
  const checked = typecheck(parsed.program, kernel, {});
  clean(text, checked.diagnostics);
  if (!checked.program) return;
  let ir: string;
  try {
    ir = generate(checked.program, kernel).ir;
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    clean(text, e.diagnostics);
    return;
  }
  expect(native().compileIR(ir).length).toBeGreaterThan(0);
}

describe('fuzz: the front end on mutated real scripts', () => {
  it('has seeds that all compile unmutated (or fail cleanly where this machine lacks something)', () => {
    expect(seeds.length).toBeGreaterThan(5);
    for (const s of seeds) frontEnd(s);
  });

  it('never throws, never reports E_INTERNAL, never fails in LLVM, whatever the mutation', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, ms) => {
        frontEnd(mutate(text, ms));
      }),
      { seed, numRuns: runs },
    );
  }, 60_000 + runs * 200); // the time bound: ~30 ms a run, so a run stuck for seconds fails it
});
