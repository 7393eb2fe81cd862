// --timings (or TRACELET_TIMINGS=1): where the time of a run goes. Each phase is reported on
// stderr as it ends, one line each, in a fixed format scripts can grep:
//
//   tracelet: timing: <phase> <ms the phase took> ms (at <ms since the process started> ms, cpu <ms> ms, peak <MiB> MiB)
//
// cpu is the CPU time (user + system, every thread) the process used during the phase: on a busy
// machine it says what the phase costs when the wall time says mostly how long it waited.
// Phases are contiguous: each one runs from the end of the previous one, so their durations add
// up to the time since the process started. The first, `process`, runs from the process's
// creation (its start time in /proc/self/stat, 10 ms resolution; exact when the native launcher
// hands over its own clock reading) until tracelet's first line of JavaScript runs. In a prepared
// run (the launcher attached the probes itself) two more lines say when, within `process`, the
// launcher had loaded and attached, and the phase `adopt` replaces `load` and `attach`.
import { readFileSync } from 'node:fs';

const NS_PER_MS = 1_000_000n;

/** The monotonic clock (ns) when tracelet's JavaScript began: bin/tracelet.js or the snapshot sets it. */
export function markEntry(): void {
  const g = globalThis as Entry;
  g.__traceletEntryNs ??= process.hrtime.bigint();
  g.__traceletEntryCpu ??= process.cpuUsage();
}

/** What bin/tracelet.js or the snapshot's main function noted as tracelet's code began. */
interface Entry {
  __traceletEntryNs?: bigint;
  __traceletEntryCpu?: NodeJS.CpuUsage;
}

let launcherStartNs: bigint | undefined;

/**
 * Takes the launcher's clock reading (TRACELET_START_NS) out of the environment, so that the
 * commands tracelet starts do not see it. Called once, first thing.
 */
export function takeLauncherStart(): void {
  const handed = process.env.TRACELET_START_NS;
  delete process.env.TRACELET_START_NS;
  if (handed && /^\d+$/.test(handed)) launcherStartNs = BigInt(handed);
}

/**
 * When this process was created, on the monotonic clock (ns). The native launcher passes its own
 * reading (TRACELET_START_NS); otherwise the kernel's start time of the process (clock ticks since
 * boot; CLOCK_BOOTTIME, which is CLOCK_MONOTONIC unless the machine was suspended since).
 */
function processStartNs(): bigint | undefined {
  if (launcherStartNs !== undefined) return launcherStartNs;
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    // USER_HZ is 100 on every Linux architecture that tracelet runs on.
    return ticks ? BigInt(ticks) * 10n * NS_PER_MS : undefined;
  } catch {
    return undefined;
  }
}

/** The process's peak resident set so far (VmHWM), in MiB: what each phase brought it to. */
function peakRssMib(): string {
  try {
    const kb = /VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1];
    return kb ? (Number(kb) / 1024).toFixed(1) : '?';
  } catch {
    return '?';
  }
}

/** Nanoseconds as milliseconds with two decimals, as every timing line shows them. */
const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(2);

export class PhaseTimings {
  private readonly start: bigint;
  private last: bigint;
  private lastCpu: NodeJS.CpuUsage;

  /** `mainNs` and `mainCpu`: when the command's main function began (the end of module loading), and the CPU time used by then. */
  constructor(private readonly write: (line: string) => void, mainNs: bigint, mainCpu: NodeJS.CpuUsage) {
    const g = globalThis as Entry;
    const entry = g.__traceletEntryNs ?? mainNs;
    const created = processStartNs();
    this.start = created !== undefined && created <= entry ? created : entry;
    this.last = this.start;
    this.lastCpu = { user: 0, system: 0 };
    this.end('process', entry, g.__traceletEntryCpu);
    this.end('modules', mainNs, mainCpu);
  }

  /**
   * A prepared run (src/runtime/prepared.ts): the launcher loaded the object and attached the
   * probes before Node started, within `process`. Two lines apart from the phases, in the same
   * shape without cpu and peak: launcher-load and launcher-attach, at their ends.
   */
  launcher(loadedNs: bigint, attachedNs: bigint): void {
    if (loadedNs < this.start || attachedNs < loadedNs) return;
    this.write(`tracelet: timing: launcher-load ${ms(loadedNs - this.start)} ms (at ${ms(loadedNs - this.start)} ms)\n`);
    this.write(`tracelet: timing: launcher-attach ${ms(attachedNs - loadedNs)} ms (at ${ms(attachedNs - this.start)} ms)\n`);
  }

  /** A moment within a phase, not a phase: `tracelet: timing: WHAT at MS ms`. */
  note(what: string): void {
    this.write(`tracelet: timing: ${what} at ${ms(process.hrtime.bigint() - this.start)} ms\n`);
  }

  /** Ends the phase `name` now (or at `at`, on the monotonic clock, with the CPU time used by then). */
  end(name: string, at = process.hrtime.bigint(), cpuAt = process.cpuUsage()): void {
    const cpu = { user: cpuAt.user - this.lastCpu.user, system: cpuAt.system - this.lastCpu.system };
    this.lastCpu = cpuAt;
    const cpuMs = ((cpu.user + cpu.system) / 1000).toFixed(2);
    this.write(`tracelet: timing: ${name} ${ms(at - this.last)} ms (at ${ms(at - this.start)} ms, cpu ${cpuMs} ms, peak ${peakRssMib()} MiB)\n`);
    this.last = at;
  }
}
