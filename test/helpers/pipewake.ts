// The off-CPU workload (test/fixtures/workloads/pipewake.c): main → block_on_pipe → read blocks
// on a pipe for BLOCK_MS while a second thread sleeps, then poke_waiter wakes it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startTracelet, type RunResult } from './run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/pipewake.c', import.meta.url));
export const BLOCK_MS = 300;

/**
 * A temporary directory for the tests of a file, with pipewake built in it (with frame pointers:
 * BPF walks user stacks by them) before they run, and removed after.
 */
export function withPipewake(): { readonly dir: string; readonly pipewake: string } {
  const state = { dir: '', pipewake: '' };
  beforeAll(() => {
    state.dir = mkdtempSync(join(tmpdir(), 'tl-pipewake-'));
    state.pipewake = join(state.dir, 'pipewake');
    execFileSync('gcc', ['-O0', '-g', '-fno-omit-frame-pointer', '-pthread', '-o', state.pipewake, SOURCE]);
  });
  afterAll(() => {
    rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}

export interface WorkloadOptions {
  /**
   * true (default): tracelet is stopped (SIGINT) once pipewake has been woken but still lives
   * (it lingers), so its user stacks are read from a live process; false: with -p it ends when
   * pipewake exits, so pipewake is gone when the maps are printed.
   */
  readonly live?: boolean;
  /** How long pipewake blocks in read (default BLOCK_MS). */
  readonly blockMs?: number;
  /**
   * The blocked thread on CPU 0, its waker on CPU 1: the kernel then finishes the wakeup on the
   * idle CPU 0 from its wake list, where sched_wakeup fires in another task than the waker.
   */
  readonly splitCpus?: boolean;
}

/**
 * Runs tracelet with the arguments `args` makes of pipewake's pid (for the tools' PID filter)
 * while pipewake blocks once.
 */
export async function traceWorkload(
  pipewake: string, args: (pid: string) => readonly string[], options: WorkloadOptions = {},
): Promise<RunResult> {
  // The kernel skips a tracepoint's program when another BPF program runs on that CPU (other
  // tests' tracers, or a bpf() map call preempted there), and tracelet says so. Such a run is not
  // the one the test is about: it is tried again (at most twice more).
  for (let attempt = 1; ; attempt++) {
    const result = await traceOnce(pipewake, args, options);
    if (attempt === 3 || !result.stderr.includes('warning: the kernel skipped this probe')) return result;
  }
}

async function traceOnce(
  pipewake: string, args: (pid: string) => readonly string[],
  { live = true, blockMs = BLOCK_MS, splitCpus = false }: WorkloadOptions,
): Promise<RunResult> {
  const split = splitCpus && availableParallelism() > 1 ? ['split'] : [];
  const workload = spawn(pipewake, [String(blockMs), live ? '30000' : '0', ...split], { stdio: ['pipe', 'pipe', 'ignore'] });
  const pid = String(workload.pid);
  const tracer = startTracelet([...(live ? [] : ['-p', pid]), ...args(pid)]);
  const woken = new Promise<void>((resolve) => {
    let out = '';
    workload.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('woken')) resolve();
    });
  });
  try {
    await tracer.attached;
  } finally {
    workload.stdin!.end('\n');
  }
  await woken;
  if (live) tracer.child.kill('SIGINT');
  const result = await tracer.done;
  workload.kill();
  return result;
}
