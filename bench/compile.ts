// Compile: parse + typecheck + codegen + LLVM of a 300-line script.
// tracelet: in process through its library functions (bench/compile-child.ts, bundled by esbuild
// as the CLI is: run through tsx, the parser is ~3× slower), cold (the first compile in a fresh
// process) and warm; the addon's dlopen is excluded.
// bpftrace 0.17 has no in-process API; `--emit-elf FILE` ("dry run") parses, checks, generates and
// compiles to an ELF without loading anything, so we time that process on the 300-line script and
// on `BEGIN {}` and take the difference as its compile time (its start-up is the 1-line run).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { join } from 'node:path';
import { alternate, fmtSummary, ratio, ROOT, summarize, type Helpers, type Summary } from './lib.js';
import { script300 } from './script300.js';

export interface CompileResult {
  readonly lines: number;
  readonly traceletCold: number[];
  readonly traceletWarm: number[];
  readonly traceletStages: Record<'parse' | 'typecheck' | 'codegen' | 'llvm', number[]>;
  /** Median parse + typecheck of 100 JIT-warm repetitions, one per process. */
  readonly traceletFrontEnd: number[];
  readonly bpftrace300: number[];
  readonly bpftrace1: number[];
  readonly bpftraceNet: Summary;
  readonly failures: string[];
}

export async function benchCompile(helpers: Helpers, reps: number, log: (s: string) => void): Promise<CompileResult> {
  const text = script300();
  const big = join(helpers.dir, 'script300.bt');
  const small = join(helpers.dir, 'script1.bt');
  writeFileSync(big, text);
  writeFileSync(small, 'BEGIN { }\n');
  const elf = join(helpers.dir, 'out.o');
  // Two levels below the root, as the CLI's bundle, so that it finds the native addon the same way.
  const child = join(ROOT, 'bench/out/compile-child.mjs');
  await build({
    absWorkingDir: ROOT, entryPoints: ['bench/compile-child.ts'], outfile: child, bundle: true, platform: 'node',
    format: 'esm', target: 'node20', logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const res: CompileResult = {
    lines: text.split('\n').length - 1, traceletCold: [], traceletWarm: [],
    traceletStages: { parse: [], typecheck: [], codegen: [], llvm: [] }, traceletFrontEnd: [],
    bpftrace300: [], bpftrace1: [], bpftraceNet: summarize([]), failures: [],
  };
  const bpftrace = (file: string) => {
    const t0 = performance.now();
    const r = spawnSync('bpftrace', ['--emit-elf', elf, file], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) res.failures.push(`bpftrace --emit-elf: exit ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    return ms;
  };
  for (let rep = 0; rep < reps; rep++) {
    for (const tracer of alternate(rep)) {
      if (tracer === 'bpftrace') {
        res.bpftrace1.push(bpftrace(small));
        res.bpftrace300.push(bpftrace(big));
        continue;
      }
      const r = spawnSync(process.execPath, [child, big, '3'], {
        encoding: 'utf8', cwd: ROOT,
      });
      if (r.status !== 0) {
        res.failures.push(`tracelet: exit ${r.status}: ${r.stderr.trim().split('\n').slice(0, 2).join(' | ')}`);
        continue;
      }
      const out = JSON.parse(r.stdout) as { cold: Record<string, number>; warm: Record<string, number>[]; frontEnd: number };
      res.traceletCold.push(out.cold.total!);
      res.traceletFrontEnd.push(out.frontEnd);
      for (const w of out.warm) {
        res.traceletWarm.push(w.total!);
        for (const k of ['parse', 'typecheck', 'codegen', 'llvm'] as const) res.traceletStages[k].push(w[k]!);
      }
    }
  }
  const net = res.bpftrace300.map((v, i) => v - (res.bpftrace1[i] ?? NaN));
  (res as { bpftraceNet: Summary }).bpftraceNet = summarize(net);
  const cold = summarize(res.traceletCold);
  const warm = summarize(res.traceletWarm);
  log(`  ${res.lines} lines: tracelet cold ${fmtSummary(cold)} ms, warm ${fmtSummary(warm)} ms; bpftrace --emit-elf net `
    + `${fmtSummary(res.bpftraceNet)} ms (process ${fmtSummary(summarize(res.bpftrace300))}, BEGIN{} ${fmtSummary(summarize(res.bpftrace1))});`
    + ` ratio cold ${ratio(cold, res.bpftraceNet)}` + (res.failures.length ? `  (${res.failures.length} failed: ${res.failures[0]})` : ''));
  return res;
}
