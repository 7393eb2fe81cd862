// V8's optimizing compiler (TurboFan) for the tracelet command: off from the start, on once a run
// turns out busy (SessionOptions.onBusy: a stream of events, a big map to print). Most runs are
// short: there, compiling hot functions costs more CPU than it saves (the front end of a 300-line
// script takes ~40% less CPU without it) and its code and working memory add ~4 MiB of resident
// memory to a run that prints a few hundred stacks. A long stream of printf events still gets it
// within its first thousand or two records. For a short program (a one-liner, a small script)
// the baseline compiler (Sparkplug) is off as well: compiling the few functions it runs more than
// a few times cost more than it saved (a tracepoint one-liner ~3 ms of CPU less, a 4 KiB script
// ~9 ms more, bench/RESULTS.md "Start-up"). The command owns its process; the Node API leaves
// V8's flags to the program that embeds it.
import { setFlagsFromString } from 'node:v8';

let on = true;

/** The programs short enough to run in V8's interpreter alone until the run is busy. */
export const INTERPRETED_SOURCE_BYTES = 2048;

/**
 * Until optimizingCompilerOn(): functions run in V8's interpreter and baseline compiler only, in
 * the interpreter alone for a program source shorter than INTERPRETED_SOURCE_BYTES.
 */
export function optimizingCompilerOff(sourceBytes: number): void {
  setFlagsFromString(sourceBytes < INTERPRETED_SOURCE_BYTES ? '--no-turbofan --no-sparkplug' : '--no-turbofan');
  on = false;
}

/** Turns it on (again); returns whether it was off. */
export function optimizingCompilerOn(): boolean {
  if (on) return false;
  setFlagsFromString('--turbofan --sparkplug');
  on = true;
  return true;
}
