// Signals the caller left ignored stay ignored, as with bpftrace (which handles only SIGINT,
// SIGTERM and SIGUSR1): `nohup tracelet ... &` outlives its terminal, and a script's background
// job is not ended by SIGQUIT. Node resets every disposition to the default when it starts, so
// the launcher (src/launcher/prepared.h, kKeptIgnored) names them in TRACELET_IGNORED_SIGNALS.
// The commands tracelet starts (-c, system()) inherit them ignored, as they would from bpftrace.
import { constants } from 'node:os';

const KEPT: ReadonlySet<string> = new Set(['SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM']);

/** The signals the caller left ignored, taken out of the environment; each now ignored here. */
export function keepIgnoredSignals(): NodeJS.Signals[] {
  const value = process.env.TRACELET_IGNORED_SIGNALS;
  // Out of the environment: what the commands tracelet starts inherit is the disposition itself.
  delete process.env.TRACELET_IGNORED_SIGNALS;
  const signals = (value ?? '').split(',').filter((s): s is NodeJS.Signals => KEPT.has(s));
  // A listener keeps Node from acting on the signal; doing nothing, it is ignored.
  for (const signal of signals) process.on(signal, ignore);
  return signals;
}

function ignore(): void {}

/** Their numbers, for the -c command (spawnHeld sets them ignored before its exec). */
export function signalNumbers(signals: readonly NodeJS.Signals[]): number[] {
  return signals.map((s) => constants.signals[s]);
}

/** A shell prefix that leaves them ignored in a system() command (empty when there are none). */
export function shellIgnorePrefix(signals: readonly NodeJS.Signals[]): string {
  return signals.length === 0 ? '' : `trap '' ${signals.map((s) => s.slice(3)).join(' ')}; `;
}
