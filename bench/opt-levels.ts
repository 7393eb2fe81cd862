// Which LLVM pipeline (tracelet's own, the default, or LLVM's -O1/-O2/-O3) makes the fewest BPF
// instructions, and at what compile time: each bench/insns.ts case compiled with each pipeline,
// loaded (not attached), its programs' xlated counts read with bpftool; then the LLVM time of
// bench/script300.   node --import tsx bench/opt-levels.ts   (root)
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../src/compile/compile.js';
import { SystemKernel } from '../src/kernel/index.js';
import { native, type LlvmPipeline } from '../src/runtime/native.js';
import { INSNS_CASES } from './insns.js';
import { script300 } from './script300.js';
import { progInfo, ROOT } from './lib.js';

/** The ids of the programs whose fds this process holds. */
function ownProgramIds(): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
      const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch { /* closed meanwhile */ }
  }
  return ids;
}

const PIPELINES: readonly LlvmPipeline[] = ['tracelet', 'O1', 'O2', 'O3'];
const kernel = new SystemKernel();
const addon = native();
console.log(`| case | ${PIPELINES.join(' | ')} | compile ms ${PIPELINES.join(' / ')} |\n|${'---|'.repeat(PIPELINES.length + 2)}`);
for (const c of INSNS_CASES) {
  const source = c.file ? readFileSync(join(ROOT, c.file), 'utf8') : c.program!;
  const r = compile({ source }, kernel);
  if (!r.generated) throw new Error(`${c.name}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const types = Object.fromEntries(r.generated.programs.map((p) => [p.name, p.type]));
  const perEvent = r.generated.programs.filter((p) => !/^tl_(begin|end)_/.test(p.name)).map((p) => p.name);
  const cells: string[] = [];
  const times: string[] = [];
  for (const pipeline of PIPELINES) {
    addon.compileIR(r.generated.ir, { pipeline }); // warm the pipeline
    const t0 = performance.now();
    const object = addon.compileIR(r.generated.ir, { pipeline });
    times.push((performance.now() - t0).toFixed(1));
    const before = ownProgramIds();
    const obj = addon.loadObject(object, types);
    try {
      const fds = new Set(perEvent.map((n) => obj.programFd(n)));
      const ids = [...ownProgramIds()].filter((id) => !before.has(id));
      const byId = progInfo(ids).filter((p) => perEvent.some((n) => n.startsWith(p.name)));
      cells.push(String(byId.reduce((n, p) => n + p.xlatedInsns, 0)) + (fds.size ? '' : '?'));
    } catch (e) {
      cells.push(`rejected (${(e as Error).message.split('\n')[0]})`);
    } finally {
      obj.close();
    }
  }
  console.log(`| ${c.name} | ${cells.join(' | ')} | ${times.join(' / ')} |`);
}

// Compile time on the 300-line script (no load): the median of 5 per pipeline.
const big = compile({ source: script300() }, kernel).generated!.ir;
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const ms = PIPELINES.map((pipeline) => {
  addon.compileIR(big, { pipeline });
  return median(Array.from({ length: 5 }, () => {
    const t0 = performance.now();
    addon.compileIR(big, { pipeline });
    return performance.now() - t0;
  })).toFixed(0);
});
console.log(`\nbench/script300 (300 lines), LLVM ms with ${PIPELINES.join(' / ')}: ${ms.join(' / ')}`);
