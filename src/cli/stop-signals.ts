// SIGINT and SIGTERM before the run listens for them. bpftrace catches them from its start, so a
// Ctrl-C (or a wrapper's `timeout`) during its compile still ends in a clean stop: BEGIN and END
// run, the maps print, exit 0. Node would die of them (exit 130) until the run's listeners are
// in place, after the compile and the load; so they are held from the CLI's first line instead,
// and handed to the run once it listens. Node's own start (~0.1 s) stays a window in which they
// kill: it sets its own mask and handlers then, so a launcher cannot hold them across its exec.

export type StopSignal = 'SIGINT' | 'SIGTERM';
const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

let held: StopSignal | undefined;

/**
 * The first stop signal is kept for the run. (Node calls this only when its event loop turns: the
 * compile and the load run without a turn, so it is mostly called after the hand-over, through
 * the run's own listeners. What matters is that a listener exists meanwhile: without one, Node's
 * default handler ends the process.)
 */
function hold(signal: StopSignal): void {
  held ??= signal;
}

function stopHolding(): StopSignal | undefined {
  for (const s of STOP_SIGNALS) process.off(s, hold);
  const signal = held;
  held = undefined;
  return signal;
}

/** From the first line of the CLI: stop signals are held until the run takes them (or not). */
export function holdStopSignals(): void {
  for (const s of STOP_SIGNALS) process.on(s, hold);
}

/** For what attaches nothing (a listing, a compile to look at): stop signals kill again (Node's default), one held already now. */
export function letStopSignalsKill(): void {
  const signal = stopHolding();
  if (signal) process.kill(process.pid, signal);
}

/** The run listens now: a signal held so far is delivered to it (from the event loop, as one caught then would be). */
export function handOverStopSignals(deliver: (signal: StopSignal) => void): void {
  const signal = stopHolding();
  if (signal) setImmediate(() => deliver(signal));
}
