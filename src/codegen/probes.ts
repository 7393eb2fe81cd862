// A probe's program: its prologue (a stopped run returns at once), predicate and body, or the
// syscall dispatch that leads to the body of each syscall (syscalls.ts).
import { constInt, i64 } from './ir/builder.js';
import { STOPPED_MAP } from '../model/object-layout.js';
import { providerRecord } from '../model/providers.js';
import { truthy } from './values.js';
import type { ProbeContext } from './context.js';
import { beginExits, endExits, returnValue } from './failures.js';
import { generateSyscallDispatch } from './syscalls.js';
import { block } from './statements.js';

/** Writes the program of a probe: its body, or the syscall dispatch to its bodies. */
export function generateProbe(g: ProbeContext): void {
  if (g.syscall) generateSyscallDispatch(g, g.syscall.event, g.syscall.layout, () => emitBody(g));
  else emitBody(g);
}

/** The probe's code: the stop check (not in programs run at the start or end, or by an option), the predicate, the body, the one exit. */
function emitBody(g: ProbeContext): void {
  const { fn } = g;
  const body = g.probe.probe;
  fn.setLocation(body.span.line, body.span.column);
  const runBy = g.targets[0] && providerRecord(g.targets[0].provider).runBy;
  if (runBy !== 'start-or-end' && runBy !== 'option') returnIfStopped(g);
  beginExits(g);
  if (body.predicate) {
    fn.comment(`predicate at ${body.predicate.span.line}:${body.predicate.span.column}`);
    fn.setLocation(body.predicate.span.line, body.predicate.span.column);
    const pass = fn.label('body');
    const skip = fn.label('skip');
    fn.beginScope();
    const condition = truthy(fn, g.expr(body.predicate));
    fn.endScope();
    fn.condBr(condition, pass, skip);
    fn.place(skip);
    returnValue(g, 0);
    fn.place(pass);
  }
  block(g, body.body);
  // The failure counting every exit goes through belongs to the probe, not its last statement.
  fn.setLocation(body.span.line, body.span.column);
  endExits(g);
}

/** Returns from the program when the run has been stopped (see STOPPED_MAP). */
function returnIfStopped(g: ProbeContext): void {
  const { fn } = g;
  const stop = fn.label('stopped');
  const run = fn.label('running');
  fn.condBr(fn.icmp('ne', fn.load(g.maps.word(STOPPED_MAP, 0), 8), constInt(i64, 0)), stop, run);
  fn.place(stop);
  fn.ret(constInt(i64, 0));
  fn.place(run);
}
