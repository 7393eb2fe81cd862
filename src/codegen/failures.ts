// Failed helper calls, never silent: a failed read of probed memory sets its site's bit (no
// branch each), a refused map update in a loop adds to its counter's count, and the body's one
// exit adds them to READ_FAILURES_MAP and the counters (`noteFailure`, `endExits`); a refused
// update outside loops is counted where it happens (one branch). With -k / -kk a failure also
// sends a helper_error event as it happens.
import { constInt, i64, type IrValue } from './ir/builder.js';
import { READ_FAILURES_MAP, READ_SITES_MAX } from '../model/object-layout.js';
import type { Failure, ProbeContext } from './context.js';
import { bumpCounter } from './counters.js';
import { sendHelperError } from './events.js';

/**
 * Notes, without a branch, that the helper whose result is `rc` failed (rc < 0, whose sign bit
 * is the 1 added): at a read site (its slot in READ_FAILURES_MAP) or for a counter.
 */
export function noteFailure(g: ProbeContext, rc: IrValue, failure: Failure): void {
  const { fn } = g;
  const failed = fn.binary('lshr', rc, constInt(i64, 63));
  if (!g.exit) {
    if ('counter' in failure) bumpCounter(g, failure.counter, failed);
    return;
  }
  const repeats = g.unrolling > 0 || g.loops.some((l) => l !== 'callback');
  if ('counter' in failure && !repeats) {
    // A map update outside loops runs once: counted where it fails (one branch), which leaves
    // the bit words to the read sites (a read site's bit stands for all its reads).
    const bump = fn.label('refused');
    const done = fn.label('counted');
    fn.condBr(fn.icmp('ne', failed, constInt(i64, 0)), bump, done);
    fn.place(bump);
    bumpCounter(g, failure.counter);
    fn.br(done);
    fn.place(done);
    return;
  }
  g.failures ??= { words: [], bits: [], counts: new Map() };
  const state = g.failures;
  if ('counter' in failure) {
    let count = state.counts.get(failure.counter);
    if (!count) state.counts.set(failure.counter, count = fn.zeroedAlloca(i64));
    fn.store(fn.binary('add', fn.load(count, 8), failed), count, 8);
    return;
  }
  // A read site's bit is shared by its reads; a map update has a bit of its own.
  let bit = 'read' in failure ? state.bits.findIndex((b) => 'read' in b && b.read === failure.read) : -1;
  if (bit < 0) bit = state.bits.push(failure) - 1;
  const word = state.words[bit >> 6] ??= fn.zeroedAlloca(i64);
  fn.store(fn.binary('or', fn.load(word, 8), fn.binary('shl', failed, constInt(i64, bit & 63))), word, 8);
}

/** Starts a body whose returns go through one exit, where its failures are counted. */
export function beginExits(g: ProbeContext): void {
  g.failures = undefined;
  g.exit = { label: g.fn.label('exit'), value: g.fn.alloca(i64) };
}

/** Returns `value` from the body (through its exit). */
export function returnValue(g: ProbeContext, value: number | IrValue): void {
  const ir = typeof value === 'number' ? constInt(i64, value) : value;
  if (!g.exit) {
    g.fn.ret(ir);
    return;
  }
  g.fn.store(ir, g.exit.value, 8);
  g.fn.br(g.exit.label);
}

/**
 * `return [value]`: ends the probe with that value; in a for loop's callback, stops the loop and
 * sets the flag to `value << 1 | 1` (set, and the value the probe returns after the loop).
 */
export function returnFromProbe(g: ProbeContext, value: IrValue): void {
  if (!g.returnFlag) {
    returnValue(g, value);
    return;
  }
  g.fn.store(g.fn.binary('or', g.fn.binary('shl', value, constInt(i64, 1)), constInt(i64, 1)), g.returnFlag, 8);
  returnValue(g, 1);
}

/**
 * The body's exit: adds each failure's bit to its count, then returns. One branch (did anything
 * fail?) and none per failure: the bits are loaded as opaque words, so LLVM cannot turn them
 * back into a comparison per helper call, which would multiply the verifier's paths.
 */
export function endExits(g: ProbeContext): void {
  const { fn } = g;
  const exit = g.exit!;
  if (!fn.isTerminated) returnValue(g, 0);
  fn.place(exit.label);
  const state = g.failures;
  if (state) {
    // Loaded as opaque values, so LLVM cannot turn them back into a comparison per helper call;
    // one helper call may have its comparison (LLVM then keeps the bit in a register).
    const load = state.bits.length + state.counts.size > 1 ? (p: IrValue) => fn.loadVolatile(p) : (p: IrValue) => fn.load(p, 8);
    const words = state.words.map(load);
    const counts = new Map([...state.counts].map(([counter, slot]) => [counter, load(slot)]));
    const any = [...words, ...counts.values()].reduce((a, b) => fn.binary('or', a, b));
    const record = fn.label('failed');
    const done = fn.label('counted');
    fn.condBr(fn.icmp('ne', any, constInt(i64, 0)), record, done);
    fn.place(record);
    const bitOf = (bit: number) => fn.binary('and', fn.binary('lshr', words[bit >> 6]!, constInt(i64, bit & 63)), constInt(i64, 1));
    const reads: { slot: number; bit: number }[] = [];
    state.bits.forEach((failure, bit) => {
      if ('read' in failure) reads.push({ slot: failure.read, bit });
      else {
        const before = counts.get(failure.counter);
        counts.set(failure.counter, before ? fn.binary('add', before, bitOf(bit)) : bitOf(bit));
      }
    });
    for (const { slot, bit } of reads) fn.atomicAdd(g.maps.word(READ_FAILURES_MAP, slot, READ_SITES_MAX), bitOf(bit));
    for (const [counter, value] of counts) bumpCounter(g, counter, value);
    fn.br(done);
    fn.place(done);
  }
  fn.ret(fn.load(exit.value, 8));
  g.exit = undefined;
}

/**
 * -k / -kk: if `rc` (a helper's return value) is negative, sends a helper_error event with the
 * helper, the code and the script position. probe_read* errors are reported only with -kk.
 */
export function reportHelperError(g: ProbeContext, helper: number, rc: IrValue, isRead = false, span = g.site): void {
  if ((g.options.helperErrors ?? 0) < (isRead ? 2 : 1)) return;
  const { fn } = g;
  const failed = fn.label('helperfail');
  const done = fn.label('helperok');
  fn.condBr(fn.icmp('slt', rc, constInt(i64, 0)), failed, done);
  fn.place(failed);
  sendHelperError(g, helper, rc, span);
  fn.br(done);
  fn.place(done);
}
