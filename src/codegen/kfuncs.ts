// Code that calls kernel functions (kfuncs): each one's signature once, and comm(pid), the one
// function that calls them. Which probes may call them is the checker's (functions.ts `kfuncs`).
import type { Call } from '../model/ast.js';
import type { Type } from '../model/types.js';
import { stringBytes } from '../model/strings.js';
import { constInt, i32, i64, i8p, type IrValue, type KfuncType } from './ir/builder.js';
import { temp, toI64, type Val } from './values.js';
import type { ProbeContext } from './context.js';
import { probeRead } from './memory.js';
import { noteFailure } from './failures.js';

const TASK: KfuncType = { pointerTo: 'task_struct' };

/** The kfuncs tracelet calls, as the kernel declares them. */
const KFUNCS = {
  /** A counted reference to the task with that pid (in tracelet's pid namespace), or NULL. */
  bpf_task_from_pid: { returns: TASK, params: [{ int: 32, signed: true }] },
  bpf_task_release: { returns: 'void', params: [TASK] },
} satisfies Record<string, { returns: KfuncType; params: readonly KfuncType[] }>;

function callKfunc(g: ProbeContext, name: keyof typeof KFUNCS, args: readonly IrValue[]): IrValue | undefined {
  const { returns, params } = KFUNCS[name];
  g.module.declareKfunc(name, returns, params);
  return g.fn.call(returns === 'void' ? 'void' : 'int' in returns ? `i${returns.int}` : i8p, name, args);
}

/** What comm(pid) gives when no process has that pid (as bpftrace 0.26). */
const NO_PROCESS = 'N/A';

/**
 * comm(pid): the task's name, read from its task_struct while holding a reference to it; "N/A"
 * when there is no such task, counted at the call's site (a ReadSite of kind 'process').
 */
export function commOfPid(g: ProbeContext, c: Call, type: Type): Val {
  const { fn } = g;
  const out = temp(fn, type);
  const pid = fn.intCast(toI64(fn, g.expr(c.args[0]!)), i32, false);
  const task = callKfunc(g, 'bpf_task_from_pid', [pid])!;
  const found = fn.label('task_found');
  const missing = fn.label('task_missing');
  const done = fn.label('task_done');
  fn.condBr(fn.icmp('ne', task, { type: i8p, ref: 'null' }), found, missing);

  fn.place(found);
  const comm = g.kernel.kernelType('struct task_struct');
  const offset = comm?.kind === 'record' ? comm.fields.find((f) => f.name === 'comm')?.offset ?? 0 : 0;
  probeRead(g, out, 16, fn.binary('add', fn.ptrToInt(task), constInt(i64, offset)), 'kernel', { span: c.span });
  callKfunc(g, 'bpf_task_release', [task]);
  fn.br(done);

  fn.place(missing);
  const text = Buffer.alloc(16);
  stringBytes(NO_PROCESS).copy(text);
  fn.store(constInt(i64, text.readBigInt64LE(0)), fn.byteOffset(out, 0, i64));
  fn.store(constInt(i64, text.readBigInt64LE(8)), fn.byteOffset(out, 8, i64));
  noteFailure(g, constInt(i64, -1), { read: g.readSites.slot(c.span, 'process') });
  fn.br(done);

  fn.place(done);
  return { type, ir: out };
}
