// V8's optimizing compiler (TurboFan) for the tracelet command: off from the start, on once a run
// turns out busy (SessionOptions.onBusy: a stream of events, a big map to print). Most runs are
// short: there, compiling hot functions costs more CPU than it saves (the front end of a 300-line
// script takes ~40% less CPU without it) and its code and working memory add ~4 MiB of resident
// memory to a run that prints a few hundred stacks. A long stream of printf events still gets it
// within its first thousand or two records. The command owns its process; the Node API leaves
// V8's flags to the program that embeds it.
import { setFlagsFromString } from 'node:v8';

let on = true;

/** Until optimizingCompilerOn(): functions run in V8's interpreter and baseline compiler only. */
export function optimizingCompilerOff(): void {
  setFlagsFromString('--no-turbofan');
  on = false;
}

/** Turns it on (again); returns whether it was off. */
export function optimizingCompilerOn(): boolean {
  if (on) return false;
  setFlagsFromString('--turbofan');
  on = true;
  return true;
}
