// The runtime's counters (COUNTERS_MAP): events lost to a full ring buffer, and per map the
// updates it refused because it was full. Never silent: the runtime reports them after a run.
import type { MapSpec } from '../model/program.js';
import { constInt, i32, i64, i8p, type IrValue, ptr } from './ir/builder.js';
import { Helper } from './helpers.js';
import { COUNTERS_MAP } from './maps.js';
import type { ProbeContext } from './context.js';

/** Slots of the counters array: [0] events lost to a full ring buffer, then one per map. */
export const COUNTER_LOST_EVENTS = 0;

/** The counter of updates a map refused because it was full (maps in the program's order). */
export function mapFullCounter(maps: ReadonlyMap<string, MapSpec>, name: string): number {
  const index = [...maps.keys()].indexOf(name);
  if (index < 0) throw new Error(`no map ${name} to count full updates of`);
  return 1 + index;
}

export function counterSlots(maps: ReadonlyMap<string, MapSpec>): number {
  return 1 + maps.size;
}

/** Adds `by` (1 unless given) to one of the runtime's counters (lost events, full maps). */
export function bumpCounter(g: ProbeContext, index: number, by: IrValue = constInt(i64, 1)): void {
  const { fn } = g;
  // An 8-byte-aligned key slot: the verifier then knows the key, so the lookup cannot fail and
  // the null check below is not a branch it has to explore (no state kept per counted event).
  const key = fn.scratch(i32, 8);
  fn.store(constInt(i32, index), key, 4);
  const p = fn.callHelper(Helper.mapLookupElem, i8p, [g.maps.address(COUNTERS_MAP), fn.bitcast(key, i8p)]);
  const have = fn.icmp('ne', p, { type: i8p, ref: 'null' });
  const inc = fn.label('count');
  const done = fn.label('counted');
  fn.condBr(have, inc, done);
  fn.place(inc);
  const slot = fn.bitcast(p, ptr(i64));
  fn.store(fn.binary('add', fn.load(slot, 8), by), slot, 8);
  fn.br(done);
  fn.place(done);
}
