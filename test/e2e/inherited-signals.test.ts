// Signals the caller left ignored stay ignored, as with bpftrace (which handles only SIGINT,
// SIGTERM and SIGUSR1): `nohup tracelet ... &` outlives its terminal's SIGHUP, and a script's
// background job is not ended by SIGQUIT. Node resets every disposition when it starts; the
// launcher names the ignored ones for it (src/cli/inherited-signals.ts). Both ways a run starts
// are tried: Node loading the program, and the launcher's prepared run of a command line's second run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';

const root = mkdtempSync(join(tmpdir(), 'tl-signals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const PROGRAM = ['--timings', '-e', 'BEGIN { @b = 1; } interval:ms:50 { @t = count(); }'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whether HUP and QUIT are ignored, from the mask of a `grep SigIgn /proc/self/status` line. */
const ignoredIn = (line: string) => {
  const mask = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(line)?.[1] ?? '0'}`);
  return { HUP: mask & 1n, QUIT: (mask >> 2n) & 1n };
};
const sigIgnLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('SigIgn'));
/** Whether the launcher attached the run before Node started (--timings' phases say so). */
const wasPrepared = (stderr: string) => /^tracelet: timing: launcher-attach /m.test(stderr);

describe.each([
  ['loaded by Node', false],
  ['prepared by the launcher', true],
])('signals the caller ignored, %s', (_name, prepared) => {
  /** A cache of its own; for a prepared run, the command line has run once before with it. */
  async function cacheFor(args: readonly string[]) {
    const env = { TRACELET_CACHE_DIR: join(root, `c${dirs++}`) };
    if (prepared) {
      const first = startTracelet(args, env);
      await first.attached;
      first.child.kill('SIGINT');
      expect((await first.done).code).toBe(0);
    }
    return env;
  }

  it('SIGHUP and SIGQUIT do nothing when the caller ignored them; SIGINT then prints the maps', async () => {
    const run = startTracelet(PROGRAM, await cacheFor(PROGRAM), ['HUP', 'QUIT']);
    await run.attached;
    run.child.kill('SIGHUP');
    run.child.kill('SIGQUIT');
    await sleep(300);
    expect(run.child.exitCode, run.output().stderr).toBeNull();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect([r.code, r.signal]).toEqual([0, null]);
    expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\n\n\n@b: 1\n@t: \d+\n$/);
    expect(wasPrepared(r.stderr)).toBe(prepared);
  });

  it('SIGHUP not ignored by the caller ends the run by that signal, as bpftrace, and nothing is left', async () => {
    const run = startTracelet(PROGRAM, await cacheFor(PROGRAM));
    await run.attached;
    run.child.kill('SIGHUP');
    const r = await run.done;
    expect([r.code, r.signal]).toEqual([null, 'SIGHUP']);
    expect(await waitForNoPrograms()).toEqual([]);
  });
});

it('the -c command and system() commands inherit the signals the caller ignored (a run with -c is never prepared)', async () => {
  const args = ['--unsafe', '-e', 'BEGIN { system("grep SigIgn /proc/self/status"); } interval:ms:300 { exit(); }', '-c', 'grep SigIgn /proc/self/status'];
  const r = await startTracelet(args, {}, ['HUP', 'QUIT']).done;
  expect(r.code, r.stderr).toBe(0);
  expect(sigIgnLines(r.stdout).map(ignoredIn)).toEqual([{ HUP: 1n, QUIT: 1n }, { HUP: 1n, QUIT: 1n }]);
  // Not ignored by the caller: not ignored by the commands either.
  const plain = runTracelet(args);
  expect(sigIgnLines(plain.stdout).map(ignoredIn)).toEqual([{ HUP: 0n, QUIT: 0n }, { HUP: 0n, QUIT: 0n }]);
});
