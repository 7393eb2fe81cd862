// The runtime's counters (COUNTERS_MAP): events lost to a full ring buffer, and per map the
// updates it refused because it was full. Never silent: the runtime reports them after a run.
import type { MapSpec } from '../model/program.js';
import { constInt, i64, type IrValue } from './ir/builder.js';
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
  g.fn.atomicAdd(g.maps.word(COUNTERS_MAP, index), by);
}
