// Prepared runs: the second run of a command line has its probes attached by the launcher before
// Node has started (src/launcher/prepared.c, src/runtime/prepared.ts). It must print exactly what
// a run without it prints, see every event from its notice on, handle signals that come before
// Node can, leak nothing when killed, and never run an entry that is not this run's own.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ourPrograms, runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';

const TARGET_SOURCE = fileURLToPath(new URL('../fixtures/probes/target.c', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tl-prepared-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A cache directory of its own for each test: its first run is never prepared. */
const freshEnv = () => ({ TRACELET_CACHE_DIR: join(root, `c${dirs++}`) });

// Other test files run alongside: the probes count only the workloads' own calls.
const PROGRAM = 'BEGIN { printf("begin\\n"); @b["x"] = 1; } tracepoint:syscalls:sys_enter_getppid /comm == "tl-no-such"/ { @c = count(); } ' +
  'interval:ms:100 { @t = count(); if (@t == 2) { exit(); } } END { printf("end %d\\n", @t); }';
const PRINTED = 'Attaching 4 probes...\nbegin\nend 2\n\n\n@b[x]: 1\n@c: 0\n@t: 2\n';

const phases = (stderr: string) => [...stderr.matchAll(/^tracelet: timing: ([a-z-]+) /gm)].map((m) => m[1]);
/** The prepared runs in a cache directory. */
const entries = (env: { TRACELET_CACHE_DIR: string }) => readdirSync(join(env.TRACELET_CACHE_DIR, 'launch')).filter((n) => n.endsWith('.run'));

/** Makes n getppid calls in a process of its own. */
const getppid = (n: number) => spawnSync('perl', ['-e', `getppid() for 1..${n}`]);

describe('prepared runs', () => {
  it('the second run is attached by the launcher and prints what a fresh run prints', () => {
    const env = freshEnv();
    const first = runTracelet(['--timings', '-e', PROGRAM], { env });
    expect(first.code).toBe(0);
    expect(phases(first.stderr)).toContain('attach');
    expect(entries(env)).toHaveLength(1);
    const second = runTracelet(['--timings', '-e', PROGRAM], { env });
    expect(second.code).toBe(0);
    const took = phases(second.stderr);
    expect(took).toEqual(expect.arrayContaining(['launcher-load', 'launcher-attach', 'adopt']));
    expect(took).not.toContain('attach');
    const fresh = runTracelet(['--no-cache', '-e', PROGRAM], { env });
    expect([first.stdout, second.stdout, fresh.stdout]).toEqual([PRINTED, PRINTED, PRINTED]);
  });

  it('counts every event from its notice on, none of its own, and prints the maps on a SIGINT sent at once', async () => {
    const env = freshEnv();
    const program = ['-e', 'tracepoint:syscalls:sys_enter_getppid /comm == "perl"/ { @c = count(); }'];
    for (const round of [1, 2, 3]) {
      const run = startTracelet(program, env);
      await run.attached;
      getppid(7);
      run.child.kill('SIGINT');
      const r = await run.done;
      expect([r.code, r.stdout, r.stderr], `round ${round}`).toEqual([0, 'Attaching 1 probe...\n\n\n@c: 7\n', '']);
    }
    // A signal before Node has its handlers is held by the launcher, then delivered: the maps still print.
    const early = startTracelet(program, env);
    await early.attached;
    early.child.kill('SIGTERM');
    const r = await early.done;
    expect([r.code, r.stdout]).toEqual([0, 'Attaching 1 probe...\n\n\n@c: 0\n']);
  });

  it('keeps every event of a burst that starts at its notice, while Node is still starting', async () => {
    // The launcher attaches before Node starts: until Node's consumer runs, the ring holds what
    // the probes send (a 4 MiB ring lost a third of this burst). A getppid loop of its own (comm
    // tl-burst), as fast as it goes (~2M calls a second here).
    const burst = join(root, 'tl-burst');
    execFileSync('gcc', ['-O2', '-o', burst, fileURLToPath(new URL('../fixtures/workloads/burst.c', import.meta.url))]);
    const env = freshEnv();
    const program = ['--timings', '-e', 'tracepoint:syscalls:sys_enter_getppid /comm == "tl-burst"/ { printf("E %d\\n", tid); }'];
    const calls = 500_000;
    for (const round of ['first', 'prepared']) {
      const run = startTracelet(program, env);
      await run.attached;
      await new Promise((resolve) => spawn(burst, [String(calls)], { stdio: 'ignore' }).on('exit', resolve));
      // Stopped at once: a SIGINT prints what is left in the ring too.
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr, round).not.toMatch(/Lost \d+ events/);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('E ')).length, round).toBe(calls);
      if (round === 'prepared') expect(phases(r.stderr)).toContain('adopt');
    }
  });

  it('names kernel stacks as a fresh run does', async () => {
    const env = freshEnv();
    const program = ['--timings', '-e', 'tracepoint:syscalls:sys_enter_getppid /comm == "perl"/ { @[kstack(4)] = count(); }'];
    const runs: { stdout: string; phases: string[] }[] = [];
    for (const _ of [1, 2]) {
      const run = startTracelet(program, env);
      await run.attached;
      getppid(3);
      run.child.kill('SIGINT');
      const r = await run.done;
      runs.push({ stdout: r.stdout, phases: phases(r.stderr) });
    }
    expect(runs[0]!.stdout).toMatch(/^@\[\n\s+\w+/m);
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
    expect(runs.map((r) => r.phases.includes('adopt'))).toEqual([false, true]);
  });

  it('ends with the exit code of exit(), and its process name is tracelet from the start', () => {
    const env = freshEnv();
    const program = ['-e', 'BEGIN { exit(3); } END { printf("%s\\n", comm); }'];
    const runs = [1, 2].map(() => runTracelet(program, { env }));
    expect(runs.map((r) => [r.code, r.stdout])).toEqual([[3, 'Attaching 2 probes...\ntracelet\n\n\n'], [3, 'Attaching 2 probes...\ntracelet\n\n\n']]);
  });

  it('ends cleanly when nobody reads its output, as a run without it does', () => {
    const env = freshEnv();
    const script = `"$0" -e 'tracepoint:syscalls:sys_enter_getppid { @ = count(); } interval:ms:200 { exit(); }' | (exec 0<&-; sleep 0.01); echo \${PIPESTATUS[0]}`;
    const statuses = [1, 2, 3].map(() => spawnSync('bash', ['-c', script, BIN], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim());
    expect(statuses).toEqual(['0', '0', '0']);
  });

  it('leaves nothing in the kernel when killed just after attaching', async () => {
    const env = freshEnv();
    const program = ['-e', 'tracepoint:syscalls:sys_enter_getppid { @c = count(); } interval:s:1 { @t = count(); }'];
    const first = startTracelet(program, env);
    await first.attached;
    first.child.kill('SIGINT');
    await first.done;
    const run = startTracelet(program, env);
    await run.attached;
    expect(ourPrograms().length).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(await waitForNoPrograms()).toEqual([]);

    // Node killed under the launcher: the launcher detaches and ends as Node did.
    const again = startTracelet(program, env);
    await again.attached;
    const pid = again.child.pid!;
    const node = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
    expect(node).toBeGreaterThan(0);
    process.kill(node, 'SIGKILL');
    expect((await again.done).signal).toBe('SIGKILL');
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('runs a changed script file, or other parameters, afresh', () => {
    const env = freshEnv();
    const dir = mkdtempSync(join(root, 'script-'));
    const file = join(dir, 'x.bt');
    writeFileSync(file, 'BEGIN { printf("one %s\\n", str($1)); exit(); }\n');
    const run = (arg: string) => runTracelet([file, arg], { env });
    expect(run('a').stdout).toBe('Attaching 1 probe...\none a\n\n\n');
    expect(run('a').stdout).toBe('Attaching 1 probe...\none a\n\n\n');
    expect(run('b').stdout).toBe('Attaching 1 probe...\none b\n\n\n');
    // Rewritten with the same size, then given an older time: each time it is compiled again.
    writeFileSync(file, 'BEGIN { printf("two %s\\n", str($1)); exit(); }\n');
    expect(run('a').stdout).toBe('Attaching 1 probe...\ntwo a\n\n\n');
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    expect(run('a').stdout).toBe('Attaching 1 probe...\ntwo a\n\n\n');
  });

  it('does not adopt an entry that is not the one this run would write: it loads afresh and replaces it', () => {
    const env = freshEnv();
    const program = ['--timings', '-e', 'BEGIN { @b = 5; } interval:ms:50 { exit(); }'];
    const first = runTracelet(program, { env });
    const [name] = entries(env);
    const path = join(env.TRACELET_CACHE_DIR, 'launch', name!);
    const written = readFileSync(path);
    // The stopped flag's "stopped by exit()" value, 2, made 3: the launcher runs it all the same.
    const stopped = Buffer.from('.bss.tl_stopped\0\x02\0\0\0\0\0\0\0', 'latin1');
    const at = written.indexOf(stopped);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(written);
    tampered[at + 16] = 3;
    writeFileSync(path, tampered);
    const second = runTracelet(program, { env });
    expect([second.code, second.stdout]).toEqual([0, first.stdout]);
    expect(phases(second.stderr)).toContain('launcher-attach');
    expect(phases(second.stderr)).toContain('attach');
    expect(phases(second.stderr)).not.toContain('adopt');
    expect(readFileSync(path).equals(written)).toBe(true);
    const third = runTracelet(program, { env });
    expect(phases(third.stderr)).toContain('adopt');
    expect(third.stdout).toBe(first.stdout);
  });

  it('attaches uprobes, uretprobes and USDT probes (a semaphore too) as a fresh run does, and not to a rebuilt binary', async () => {
    const env = freshEnv();
    const dir = mkdtempSync(join(root, 'uprobes-'));
    const target = join(dir, 'target');
    const build = () => execFileSync('gcc', ['-O0', '-g0', '-no-pie', '-o', target, TARGET_SOURCE]);
    build();
    const program = ['--timings', '-e', `uprobe:${target}:tl_add { @a[arg0] = count(); } `
      + `uretprobe:${target}:tl_greet { @r = sum(retval); } usdt:${target}:tracelet:gated { @g[arg0] = count(); }`];
    const traced = async () => {
      const run = startTracelet(program, env);
      await run.attached;
      execFileSync(target, ['3']);
      run.child.kill('SIGINT');
      const r = await run.done;
      // Keys of equal counts print in the map's order, which differs from run to run.
      return { lines: r.stdout.split('\n').sort(), adopted: phases(r.stderr).includes('adopt') };
    };
    const first = await traced();
    expect(first.lines).toEqual(expect.arrayContaining(['@a[0]: 1', '@a[2]: 1', '@g[1]: 1', '@r: 24']));
    expect(await traced()).toEqual({ ...first, adopted: true });
    build(); // the same code, another file: the launcher's key no longer matches
    expect(await traced()).toEqual(first);
    expect(readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8')).not.toContain(target);
  });

  it('is not used with --no-cache, -c, or a program from standard input', () => {
    const env = freshEnv();
    for (const args of [['--no-cache', '-e', 'BEGIN { exit(); }'], ['-c', '/bin/true', '-e', 'BEGIN { exit(); }'], ['-']]) {
      for (const _ of [1, 2]) {
        const r = runTracelet(['--timings', ...args], { env, input: 'BEGIN { exit(); }' });
        expect(r.code).toBe(0);
        expect(phases(r.stderr)).not.toContain('adopt');
      }
    }
  });
});
