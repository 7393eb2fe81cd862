// Syscall dispatch: one program on the raw sys_enter / sys_exit tracepoint for many syscall
// tracepoints (planned by plan.ts), and what `args->field` and `probe` read in such a program.
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { Type } from '../model/types.js';
import type { ProbeTarget } from '../model/program.js';
import { syscallNumbers, syscallTable } from '../kernel/syscalls.js';
import { constInt, i64, intType, type IrValue, type Label, ptr } from './ir/builder.js';
import { Helper, SYSCALL_NAME_BYTES, syscallNamesMap, type SyscallEvent } from '../model/object-layout.js';
import type { Val } from './values.js';
import type { ProbeContext, SyscallLayout } from './context.js';
import { argsFieldsUsed, readInLoop } from './plan.js';
import { readKernel } from './memory.js';
import { nameFromArrayMap } from './map-ops.js';

/** x86_64's TS_COMPAT (arch/x86/include/asm/thread_info.h). */
const TS_COMPAT = 0x0002;

/** From BTF when it has the types, else x86_64's layout (the same on every kernel since 4.x). */
export function syscallLayout(kernel: KernelInfo): SyscallLayout {
  const field = (type: string, name: string): number | undefined => {
    const t = kernel.kernelType(type);
    return t?.kind === 'record' ? t.fields.find((f) => f.name === name)?.offset : undefined;
  };
  const reg = (name: string, fallback: number) => field('struct pt_regs', name) ?? fallback;
  const threadInfo = field('struct task_struct', 'thread_info') ?? 0;
  return {
    args: [reg('di', 112), reg('si', 104), reg('dx', 96), reg('r10', 56), reg('r8', 72), reg('r9', 64)],
    origAx: reg('orig_ax', 120),
    threadStatus: threadInfo + (field('struct thread_info', 'status') ?? 16),
  };
}

/**
 * One program on the raw `sys_enter` / `sys_exit` tracepoint for many syscall tracepoints: it
 * finds the syscall number, branches (a binary search over number ranges) to the code of the
 * matching target, or returns. What a `syscalls:sys_*_NAME` perf tracepoint would see is
 * rebuilt: 32-bit (compat) syscalls are skipped as the perf tracepoints skip them, and
 * `args->field` reads the argument register (or the return value) the kernel copies into the
 * tracepoint's record. The code of the probe is emitted once when it does not depend on the
 * target, else once per target with `probe` and `args` of that target.
 */
export function generateSyscallDispatch(g: ProbeContext, event: SyscallEvent, layout: SyscallLayout, emitBody: () => void): void {
  const { fn } = g;
  const ctx = fn.param(0);
  // Raw tracepoint context: u64 args[]; [0] = struct pt_regs *, [1] = id (enter) or ret (exit).
  g.syscallRegs = fn.load(fn.bitcast(ctx, ptr(i64)), 8);
  g.syscallNr = event === 'sys_enter'
    ? fn.load(fn.byteOffset(ctx, 8, i64), 8)
    : readKernel(g, g.syscallRegs, layout.origAx, 8);
  const all = g.targets;
  const skip = fn.label('notours');
  const cases: { nr: number; label: Label }[] = [];
  const bodies: { label: Label; targets: readonly ProbeTarget[] }[] = [];
  // Targets share code when the `args` fields the probe reads sit at the same offsets (`probe`
  // is looked up by syscall number); the code is emitted once per distinct layout. A for loop's
  // callback has no syscall number to look `probe` up by: code that reads it there is per target.
  const used = readInLoop(g.probe.probe, ['probe']) ? undefined : argsFieldsUsed(g.probe.probe);
  const layouts = new Map<string, ProbeTarget[]>();
  for (const t of all) {
    let key = used ? '' : t.name;
    if (used && used.size > 0) {
      const format = g.kernel.tracepointFormat(t.parts[0]!, t.parts[1]!);
      key = [...used].map((f) => format?.fields.find((x) => x.name === f)?.offset ?? -1).join(',');
    }
    const same = layouts.get(key) ?? [];
    same.push(t);
    layouts.set(key, same);
  }
  for (const group of layouts.values()) {
    const label = fn.label('syscall');
    bodies.push({ label, targets: group });
    for (const t of group) {
      for (const nr of syscallNumbers(t.parts[1]!.replace(/^sys_(enter|exit)_/, '')) ?? []) cases.push({ nr, label });
    }
  }
  cases.sort((a, b) => a.nr - b.nr);
  // Consecutive numbers going to the same code make one range.
  const ranges: { lo: number; hi: number; label: Label }[] = [];
  for (const c of cases) {
    const last = ranges.at(-1);
    if (last && last.label === c.label && last.hi + 1 === c.nr) last.hi = c.nr;
    else ranges.push({ lo: c.nr, hi: c.nr, label: c.label });
  }
  dispatchTree(g, g.syscallNr, ranges, skip);
  fn.place(skip);
  fn.ret(constInt(i64, 0));
  for (const body of bodies) {
    fn.place(body.label);
    g.targets = body.targets;
    // A 32-bit syscall (int 0x80 from a 64-bit process) has ia32 numbers: not ours.
    const task = fn.callHelper(Helper.getCurrentTask, i64, []);
    const status = readKernel(g, task, layout.threadStatus, 4);
    const compat = fn.icmp('ne', fn.binary('and', status, constInt(i64, TS_COMPAT)), constInt(i64, 0));
    const native = fn.label('native');
    const compatExit = fn.label('compat');
    fn.condBr(compat, compatExit, native);
    fn.place(compatExit);
    fn.ret(constInt(i64, 0));
    fn.place(native);
    emitBody();
  }
  g.targets = all;
}

/** Branches to the label of the range holding `value`, or to `miss`: a balanced binary search. */
function dispatchTree(g: ProbeContext, value: IrValue, ranges: readonly { lo: number; hi: number; label: Label }[], miss: Label): void {
  const { fn } = g;
  if (ranges.length === 0) {
    fn.br(miss);
    return;
  }
  if (ranges.length === 1) {
    const { lo, hi, label } = ranges[0]!;
    // value - lo <= hi - lo, unsigned: one compare for the whole range.
    const inside = fn.icmp('ule', fn.binary('sub', value, constInt(i64, lo)), constInt(i64, hi - lo));
    fn.condBr(inside, label, miss);
    return;
  }
  const mid = ranges.length >> 1;
  const left = fn.label('below');
  const right = fn.label('above');
  fn.condBr(fn.icmp('ult', value, constInt(i64, ranges[mid]!.lo)), left, right);
  fn.place(left);
  dispatchTree(g, value, ranges.slice(0, mid), miss);
  fn.place(right);
  dispatchTree(g, value, ranges.slice(mid), miss);
}

/** `probe` in a syscall dispatch program: the tracepoint's name, by syscall number. */
export function syscallProbeName(g: ProbeContext, size: number): IrValue {
  const names = {
    symbol: syscallNamesMap(g.syscall!.event), type: 'array', keySize: 4, valueSize: SYSCALL_NAME_BYTES,
    maxEntries: Math.max(1, ...syscallTable().map(([nr]) => nr + 1)),
  } as const;
  return nameFromArrayMap(g, names, g.syscallNr!, 0, SYSCALL_NAME_BYTES, size);
}

/** `args->field` in a syscall dispatch program: what the perf tracepoint's record would hold. */
export function syscallField(g: ProbeContext, field: string, type: Type): Val {
  const { fn } = g;
  const target = g.targets[0]!;
  const format = g.kernel.tracepointFormat(target.parts[0]!, target.parts[1]!);
  const f = format?.fields.find((x) => x.name === field);
  let v: IrValue;
  if (!f) {
    v = constInt(i64, 0);
  } else if (field === '__syscall_nr') {
    v = g.syscallNr!;
  } else if (g.syscall!.event === 'sys_exit') {
    v = fn.load(fn.byteOffset(fn.param(0), 8, i64), 8); // ret: the raw tracepoint's args[1]
  } else {
    const register = g.syscall!.layout.args[(f.offset - 16) / 8];
    v = register === undefined ? constInt(i64, 0) : readKernel(g, g.syscallRegs!, register, 8);
  }
  // Every syscall field is 8 bytes wide, so this only narrows fields of other sizes.
  if (type.kind === 'int' && type.bits < 64) v = fn.intCast(fn.intCast(v, intType(type.bits), false), i64, type.signed);
  return { type, ir: v };
}
