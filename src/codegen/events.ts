// Events: records written into the ring buffer (printf, print, exit, helper_error, ...) for the
// runtime to decode by their EventSpec. A record that finds the buffer full is counted as lost.
import type { Call, Expr } from '../model/ast.js';
import type { EventSpec } from '../model/program.js';
import { constInt, i64, i8p, type IrValue, ptr } from './ir/builder.js';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_WAKE_IF_CAUGHT_UP } from './helpers.js';
import { COUNTER_LOST_EVENTS, EVENTS_MAP, Helper } from '../model/object-layout.js';
import { COMM_BYTES, storeInto, writeComm } from './values.js';
import { sizeOf } from '../model/types.js';
import type { ProbeContext } from './context.js';
import { bumpCounter } from './counters.js';

/**
 * Writes one record into the ring buffer: reserved, given the event's id, filled by `write`,
 * submitted (waking the reader if it had caught up, or always with `wake`). A full buffer counts
 * a lost event.
 */
export function emitEvent(g: ProbeContext, spec: EventSpec, write: (record: IrValue) => void, wake: boolean): void {
  const { fn } = g;
  const rb = g.maps.address(EVENTS_MAP);
  const record = fn.callHelper(Helper.ringbufReserve, i8p, [rb, constInt(i64, spec.size), constInt(i64, 0)]);
  fn.assumeAligned(record, 8); // ring buffer records start 8-byte aligned
  const ok = fn.icmp('ne', record, { type: i8p, ref: 'null' });
  const fill = fn.label('event');
  const lost = fn.label('lost');
  const done = fn.label('sent');
  fn.condBr(ok, fill, lost);
  fn.place(fill);
  fn.store(constInt(i64, spec.id), fn.bitcast(record, ptr(i64)), 8);
  write(record);
  fn.callHelper(Helper.ringbufSubmit, i64, [record, constInt(i64, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_WAKE_IF_CAUGHT_UP)]);
  fn.br(done);
  fn.place(lost);
  bumpCounter(g, COUNTER_LOST_EVENTS);
  fn.br(done);
  fn.place(done);
}

/** Sends the call's event with `args` as its fields (printf's, cat's, system's arguments, print's value). */
export function eventWithArgs(g: ProbeContext, call: Call, args: readonly Expr[], wake = false): void {
  const spec = g.program.eventOf.get(call)!;
  // `comm` is written by its helper straight into the record, not copied there from the stack:
  // it has no side effects, so reading it after the other arguments changes nothing.
  const direct = (a: Expr, i: number) => a.kind === 'Builtin' && a.name === 'comm' && sizeOf(spec.fields[i]!.type) === COMM_BYTES;
  const values = args.map((a, i) => (direct(a, i) ? undefined : g.expr(a)));
  emitEvent(g, spec, (record) => {
    spec.fields.forEach((f, i) => {
      const at = g.fn.byteOffset(record, f.offset);
      const value = values[i];
      if (value) storeInto(g.fn, at, f.type, value);
      else writeComm(g.fn, at);
    });
  }, wake);
}


/** Sends a helper_error event for `span` (with -k; the caller is on the failure path). */
export function sendHelperError(g: ProbeContext, helper: number, rc: IrValue, span = g.site): void {
  const spec = g.program.events.find((e) => e.kind === 'helper_error');
  if (!spec || !span) return;
  const { fn } = g;
  const siteId = g.helperErrorSites.push(span) - 1;
  emitEvent(g, spec, (record) => {
    fn.store(constInt(i64, helper), fn.byteOffset(record, spec.fields[0]!.offset, i64), 8);
    fn.store(rc, fn.byteOffset(record, spec.fields[1]!.offset, i64), 8);
    fn.store(constInt(i64, siteId), fn.byteOffset(record, spec.fields[2]!.offset, i64), 8);
  }, false);
}
