// TypedProgram → LLVM IR text: one BPF program per probe (or per attach point where the code
// depends on it, plan.ts), maps declared as BTF-defined maps that libbpf creates and relocates at
// load (./maps.ts), events written straight into the ring buffer. The code of each concern is in
// its own file (docs/ARCHITECTURE.md, "Codegen"); this file drives them and is codegen's face:
// the compile driver imports from here. The runtime reads the object by src/model/object-layout.ts.
import type { Span } from '../model/span.js';
import { providerRecord } from '../model/providers.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { TypedProgram } from '../model/program.js';
import { counterSlots, targetNamesMap, type GeneratedProgram, type ReadSite } from '../model/object-layout.js';
import { DebugInfo, FunctionBuilder, i8p, ModuleBuilder } from './ir/builder.js';
import { type MapDefinition, ModuleMaps } from './maps.js';
import { type CodegenOptions, ProbeContext, ReadSites } from './context.js';
import { planPrograms } from './plan.js';
import { syscallLayout } from './syscalls.js';
import { expr } from './expressions.js';
import { statements } from './statements.js';
import { generateProbe } from './probes.js';

export type { ProgramType } from '../model/providers.js';
export type { CodegenOptions } from './context.js';
export { SYSCALL_DISPATCH_MIN, programType, type SyscallDispatchMode } from './plan.js';

export interface CodegenResult {
  readonly ir: string;
  readonly programs: readonly GeneratedProgram[];
  /** With -k: where each reported helper call is, by the site number its helper_error carries. */
  readonly helperErrorSites: readonly Span[];
  /** The read sites, by their slot in READ_FAILURES_MAP (the last one stands for the rest too). */
  readonly readSites: readonly ReadSite[];
  /** The maps the object declares (libbpf creates them at load). */
  readonly maps: readonly MapDefinition[];
  /** The object's map symbol of each script map (`@x` → `tl_x`). */
  readonly mapSymbols: ReadonlyMap<string, string>;
}

export function generate(program: TypedProgram, kernel: KernelInfo, options: CodegenOptions = {}): CodegenResult {
  const module = new ModuleBuilder(new DebugInfo(options.sourceName ?? 'stdin', options.sourceText));
  // GPL-only helpers (probe_read_kernel, get_current_task...) need a GPL-compatible program.
  module.global('@_license = global [4 x i8] c"GPL\\00", section "license", align 1');
  const maps = new ModuleMaps(module, program, counterSlots(program.maps));
  module.declare('declare void @llvm.lifetime.start.p0i8(i64 immarg, i8* nocapture)');
  module.declare('declare void @llvm.lifetime.end.p0i8(i64 immarg, i8* nocapture)');
  module.declare('declare void @llvm.memset.p0i8.i64(i8* nocapture writeonly, i8, i64, i1 immarg)');
  module.declare('declare void @llvm.memcpy.p0i8.p0i8.i64(i8* noalias nocapture writeonly, i8* noalias nocapture readonly, i64, i1 immarg)');
  const helperErrorSites: Span[] = [];
  const readSites = new ReadSites();
  const programs: GeneratedProgram[] = [];
  const unit = { module, program, kernel, maps, options, helperErrorSites, readSites, expr, statements };
  const mode = options.syscallDispatch ?? 'auto';
  for (const [i, plan] of planPrograms(program, mode).entries()) {
    const first = plan.targets[0]!;
    const name = plan.syscall ? `tl_sys_${i}` : `tl_${providerRecord(first.provider).tag}_${i}`;
    const section = plan.syscall ? `raw_tracepoint/${plan.syscall}` : providerRecord(first.provider).section(first.parts);
    const fn = new FunctionBuilder(name, section, [{ type: i8p, name: 'ctx' }]);
    // Every context is 8-byte aligned: a tracepoint's record, pt_regs, a raw tracepoint's u64s.
    fn.assumeAligned(fn.param(0), 8);
    fn.attachDebug(module.debug!, plan.probe.probe.span.line);
    const syscall = plan.syscall ? { event: plan.syscall, layout: syscallLayout(kernel) } : undefined;
    generateProbe(new ProbeContext(unit, fn, plan.probe, plan.targets, syscall));
    module.addFunction(fn);
    programs.push({
      name, type: plan.type, probe: plan.probe, targets: plan.targets, rawTracepoint: plan.syscall,
      ...(maps.has(targetNamesMap(name)) ? { namesByCookie: true } : {}),
    });
  }
  maps.finish();
  return {
    ir: module.toString(), programs, helperErrorSites, readSites: readSites.sites, maps: maps.definitions, mapSymbols: maps.symbols,
  };
}
