// Runs in its own process (so the first compile is cold, as in the CLI): parse → typecheck →
// codegen → LLVM (IR → BPF ELF in process) of one script, with map fds made up as --emit-llvm
// does (nothing is loaded). Then the front end alone (parse + typecheck) 100 times, JIT-warm, as a
// tool that compiles scripts repeatedly sees it. Prints one JSON line, in ms: the cold run, the
// warm repetitions and the front end's median.
import { readFileSync } from 'node:fs';
import { parse } from '../src/parser/index.js';
import { typecheck } from '../src/typecheck/check.js';
import { generate } from '../src/codegen/codegen.js';
import { SystemKernel } from '../src/kernel/index.js';
import { native } from '../src/runtime/native.js';

interface Stages { parse: number; typecheck: number; codegen: number; llvm: number; total: number; irBytes: number; elfBytes: number }

function once(text: string): Stages {
  const t0 = performance.now();
  const parsed = parse(text);
  if (parsed.diagnostics.some((d) => d.severity === 'error')) throw new Error(JSON.stringify(parsed.diagnostics[0]));
  const t1 = performance.now();
  const kernel = new SystemKernel(); // formats are read again, as each run of a tracer does
  const checked = typecheck(parsed.program, kernel, {});
  if (!checked.program) throw new Error(JSON.stringify(checked.diagnostics[0]));
  const t2 = performance.now();
  const { ir } = generate(checked.program, kernel);
  const t3 = performance.now();
  const elf = native().compileIR(ir);
  const t4 = performance.now();
  return { parse: t1 - t0, typecheck: t2 - t1, codegen: t3 - t2, llvm: t4 - t3, total: t4 - t0, irBytes: ir.length, elfBytes: elf.length };
}

const [file, repsArg] = process.argv.slice(2);
const text = readFileSync(file!, 'utf8');
native(); // the addon's load (dlopen of libLLVM) is start-up, not compilation
const cold = once(text);
const warm: Stages[] = [];
for (let i = 0; i < Number(repsArg ?? 5); i++) warm.push(once(text));
const frontEnd: number[] = [];
for (let i = 0; i < 100; i++) {
  const t0 = performance.now();
  const checked = typecheck(parse(text).program, new SystemKernel(), {});
  frontEnd.push(performance.now() - t0);
  if (!checked.program) throw new Error('the script no longer type-checks');
}
frontEnd.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ cold, warm, frontEnd: frontEnd[50] })}\n`);
