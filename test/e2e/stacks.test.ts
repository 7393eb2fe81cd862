// Stacks as printed: frames of a process that exited before the map was printed are still named
// (bpftrace 0.17 prints their addresses), and a libc stack reads exactly as bpftrace prints it
// (aliases such as getdents64/__getdents64 chosen by bcc's rule).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runTracelet, startTracelet } from '../helpers/run.js';

const HAVE_BPFTRACE = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).status === 0;
let dir: string;
let exits: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-stacks-'));
  exits = join(dir, 'tl_exits');
  execFileSync('gcc', ['-O1', '-fno-omit-frame-pointer', '-o', exits, fileURLToPath(new URL('../fixtures/workloads/exits.c', import.meta.url))]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runToEnd(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', resolve));
}

describe('stacks', () => {
  it('keeps every distinct stack: 8192 stacks seen once each, none lost to a hash collision', () => {
    // A stack table keyed by the stack itself: bpftrace 0.17's stack map (buckets by hash, 128K
    // of them) loses ~230 of these stacks, which print as one empty stack, and tracelet's of 4096
    // lost thousands.
    const paths = join(dir, 'tl_paths');
    execFileSync('gcc', ['-O0', '-fno-omit-frame-pointer', '-o', paths, fileURLToPath(new URL('../fixtures/workloads/paths.c', import.meta.url))]);
    // ~32 frames (the short stacks' table), then ~110 (the whole depth's).
    for (const [bits, deeper] of [[13, 0], [10, 45]] as const) {
      const r = runTracelet(['-e', `uprobe:${paths}:leaf { @[ustack] = count(); @n = count(); }`, '-c', `${paths} ${bits} ${deeper}`], {
        env: { BPFTRACE_MAP_KEYS_MAX: '16384' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`\n@n: ${1 << bits}\n`);
      const entries = [...r.stdout.matchAll(/^@\[\n((?: {4}.*\n)*)\]: (\d+)$/gm)];
      expect(entries).toHaveLength(1 << bits);
      expect(entries.filter((e) => e[2] !== '1' || !/^ {4}leaf\+0\n {4}step\+\d+\n/.test(e[1]!))).toEqual([]);
      const frames = entries[0]![1]!.split('\n').length - 1;
      expect(frames).toBeGreaterThan(deeper === 0 ? 20 : 64);
    }
  });

  it('names the frames of a process that exited before the map was printed, 20 ms after its stack', async () => {
    // The program sends nothing else: the process's first stack itself wakes the tracer to read
    // its mappings, not the once-a-second timer.
    const run = startTracelet(['-e', `uprobe:${exits}:tl_known_leaf { @[ustack, pid] = count(); }`]);
    await run.attached;
    expect(await runToEnd(exits, ['20'])).toBe(0);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    // The leaf and, through the frame pointer, the caller's caller (main): by name, not address.
    expect(r.stdout).toMatch(/^ {4}tl_known_leaf\+0\n {4}main\+\d+\n/m);
  });

  it('names the stacks stored after a print read the stack table, at the next print', async () => {
    // Two runs of a PIE binary: the second one's stack has other addresses, a new id that only a
    // second read of the table finds (one that keeps only that stack's copy).
    const run = startTracelet(['-e', `uprobe:${exits}:tl_known_leaf { @[ustack, pid] = count(); } interval:ms:100 { print(@); }`]);
    await run.attached;
    expect(await runToEnd(exits, ['1'])).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(await runToEnd(exits, ['1'])).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    const atExit = r.stdout.slice(r.stdout.lastIndexOf('\n\n\n'));
    expect(atExit.match(/^ {4}tl_known_leaf\+0\n {4}main\+\d+\n/gm), r.stdout.slice(-2000)).toHaveLength(2);
  });

  it("names a process's frames with the mappings of the program that recorded them, when it recorded a stack before an exec", async () => {
    // The shell records a stack (at its execve), then becomes tl_exits and records another. The
    // second is named after the process has gone: it was looked up in what was read when the
    // shell announced itself. (The shell's own stack is not asserted: its mappings are read just
    // as it execs.)
    const script = join(dir, 'exec-exits.sh');
    writeFileSync(script, `#!/bin/sh\nexec ${exits} 20\n`, { mode: 0o755 });
    const run = startTracelet(['-e', `tracepoint:syscalls:sys_enter_execve /comm == "exec-exits.sh"/ { @pre[ustack(1)] = count(); }
      uprobe:${exits}:tl_known_leaf { @post[ustack] = count(); }`]);
    await run.attached;
    expect(await runToEnd(script, [])).toBe(0);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^@pre\[\n {4}\S+\n\]: 1$/m);
    expect(r.stdout).toMatch(/^@post\[\n {4}tl_known_leaf\+0\n {4}main\+\d+\n/m);
  });

  it('names JIT frames through /tmp/perf-PID.map (node --perf-basic-prof), also after the process exited', async () => {
    const script = join(dir, 'jit.js');
    writeFileSync(script, 'function tlHotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) | 0; return s; }\n'
      + 'const end = Date.now() + 2000; let x = 0; while (Date.now() < end) x += tlHotLoop(100000);\n');
    const run = startTracelet(['-e', 'profile:hz:199 /comm == "node" && pid != $1/ { @[ustack(2), pid] = count(); }', String(process.pid)]);
    await run.attached;
    // In the test's directory: node --perf-basic-prof also writes an isolate-*.log there.
    const node = spawn(process.execPath, ['--perf-basic-prof', script], { cwd: dir, stdio: 'ignore' });
    try {
      expect(await new Promise((resolve) => node.on('close', resolve))).toBe(0);
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`JS:[*~^]?tlHotLoop ${script}:1:\\d+\\+\\d+\\n(.*\\n)*?, ${node.pid}\\]`));
    } finally {
      rmSync(`/tmp/perf-${node.pid}.map`, { force: true });
    }
  });

  it.skipIf(!HAVE_BPFTRACE)('prints a libc stack exactly as bpftrace 0.17 does', async () => {
    // A process calling getdents64 through libc's readdir, alive while both tools print. Only the
    // leaf user frame: libc has no frame pointers, so the frames beyond it are whatever the stack holds.
    const lister = spawn('python3', ['-c', 'import os, time\nwhile True:\n    os.listdir("/")\n    time.sleep(0.01)'], { stdio: 'ignore' });
    try {
      const program = `tracepoint:syscalls:sys_enter_getdents64 /pid == ${lister.pid}/ { @[ustack(1), kstack(3)] = count(); } interval:ms:500 { exit(); }`;
      const keys = (cmd: string) => {
        const out = spawnSync(cmd, ['-e', program], { encoding: 'utf8', timeout: 60_000 }).stdout;
        return [...new Set(out.split(/^@/m).filter((k) => k.startsWith('[')).map((k) => k.replace(/\]: \d+\n*$/, ']')))].sort();
      };
      const ours = keys(BIN);
      const theirs = keys('bpftrace');
      expect(ours.length).toBeGreaterThan(0);
      expect(ours.join('\n')).toMatch(/__getdents64\+\d+/);
      expect(ours).toEqual(theirs);
    } finally {
      lister.kill('SIGKILL');
    }
  });
});
