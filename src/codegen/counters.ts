// The runtime's counters (COUNTERS_MAP): events lost to a full ring buffer, and per map the
// updates it refused because it was full. Never silent: the runtime reports them after a run.
// Their slots are the object's layout (src/model/object-layout.ts).
import { constInt, i64, type IrValue } from './ir/builder.js';
import { COUNTERS_MAP } from '../model/object-layout.js';
import type { ProbeContext } from './context.js';

/** Adds `by` (1 unless given) to one of the runtime's counters (lost events, full maps). */
export function bumpCounter(g: ProbeContext, index: number, by: IrValue = constInt(i64, 1)): void {
  g.fn.atomicAdd(g.maps.word(COUNTERS_MAP, index), by);
}
