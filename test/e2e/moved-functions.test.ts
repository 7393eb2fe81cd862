// A function a library no longer defines but loads from another one (glibc 2.34 moved
// pthread_create from libpthread.so.0 into libc.so.6): the uprobe attaches where the dynamic
// loader would find it, with a warning. Debian's threadsnoop.bt, run unchanged, sees threads.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { libraryDependencies } from '../../src/kernel/resolve.js';

const THREADS = fileURLToPath(new URL('../fixtures/probes/threads.c', import.meta.url));
const LIBPTHREAD = '/lib/x86_64-linux-gnu/libpthread.so.0';
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
let dir: string;
let threads: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-moved-'));
  threads = join(dir, 'threads');
  execFileSync('gcc', ['-O0', '-pthread', '-o', threads, THREADS]);
  // libtl_stub.so defines nothing of its own but loads libtl_dep.so, found next to it ($ORIGIN):
  // a library the ld.so cache does not know.
  writeFileSync(join(dir, 'dep.c'), 'int tl_dep_fn(int x) { return x + 1; }\n');
  writeFileSync(join(dir, 'stub.c'), 'int tl_stub_placeholder(void) { return 0; }\n');
  execFileSync('gcc', ['-shared', '-fPIC', '-o', join(dir, 'libtl_dep.so'), join(dir, 'dep.c')]);
  execFileSync('gcc', ['-shared', '-fPIC', '-o', join(dir, 'libtl_stub.so'), join(dir, 'stub.c'),
    `-L${dir}`, '-Wl,--no-as-needed', '-ltl_dep', '-Wl,-rpath,$ORIGIN']);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function targetsOf(program: string) {
  const checked = typecheck(parse(program).program, new SystemKernel());
  return { targets: checked.program?.probes.flatMap((p) => p.targets.map((t) => t.name)) ?? [], diagnostics: checked.diagnostics };
}

describe('functions a library loads from another', () => {
  it('follows DT_NEEDED as the dynamic loader does ($ORIGIN run paths, ld.so.cache)', () => {
    expect(libraryDependencies(join(dir, 'libtl_stub.so'))).toContain(join(dir, 'libtl_dep.so'));
    expect(libraryDependencies(LIBPTHREAD)).toContain(LIBC);
    const { targets, diagnostics } = targetsOf(`uprobe:${dir}/libtl_stub.so:tl_dep_fn {}`);
    expect(targets).toEqual([`uprobe:${dir}/libtl_dep.so:tl_dep_fn`]);
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['W_FUNCTION_IN_DEPENDENCY', 'warning']]);
  });

  it('attaches libpthread:pthread_create in libc, and says so in a warning --no-warnings silences', () => {
    const program = 'uprobe:libpthread:pthread_create { }';
    const r = runTracelet(['--dry-run', '-e', program]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `stdin:1:1: warning: ${LIBPTHREAD} has no function pthread_create: attaching to it in ${LIBC}, a library it loads\n`
      + `${program}\n^${'~'.repeat('uprobe:libpthread:pthread_create'.length - 1)}\n`
      + `hint: write uprobe:${LIBC}:pthread_create to attach there without this warning\n`);
    const quiet = runTracelet(['--dry-run', '--no-warnings', '-e', program]);
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
  });

  it('expands a wildcard in the library that has matches', () => {
    const { targets, diagnostics } = targetsOf('uprobe:libpthread:pthread_mutex_*lock {}');
    expect(targets).toContain(`uprobe:${LIBC}:pthread_mutex_lock`);
    expect(targets).toContain(`uprobe:${LIBC}:pthread_mutex_unlock`);
    expect(targets.every((t) => t.startsWith(`uprobe:${LIBC}:pthread_mutex_`))).toBe(true);
    expect(diagnostics[0]!.message).toBe(
      `${LIBPTHREAD} has no function matching pthread_mutex_*lock: attaching to the ${targets.length} in ${LIBC}, a library it loads`);
  });

  it('does not move an executable\'s probe into a library (that would trace every process), but says where it is', () => {
    const { targets, diagnostics } = targetsOf(`uprobe:${threads}:pthread_create {}`);
    expect(targets).toEqual([]);
    expect(diagnostics.map((d) => [d.code, d.message, d.hint])).toEqual([['E_UNKNOWN_FUNCTION',
      `no function pthread_create in ${threads}`,
      `it is in ${LIBC}, which this binary loads: attach there with uprobe:${LIBC}:pthread_create`]]);
  });

  it('-l lists what the library itself has, as bpftrace does', () => {
    const r = runTracelet(['-l', 'uprobe:libpthread:*']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`uprobe:${LIBPTHREAD}:__libpthread_version_placeholder\n`);
    expect(r.stdout).not.toContain('pthread_create');
  });

  it('threadsnoop.bt, unchanged, prints the threads a program creates', async () => {
    const t = startTracelet(['/usr/sbin/threadsnoop.bt']);
    await t.attached;
    // The program waits on its standard input once its threads are made, so usym() can still
    // read its symbols when the events are printed.
    const child = spawn(threads, ['3'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const ours = () => t.output().stdout.split('\n').filter((l) => l.split(/\s+/)[1] === String(child.pid));
    while (ours().length < 3) await new Promise((r) => setTimeout(r, 50));
    child.stdin!.end();
    await new Promise((r) => child.on('close', r));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\nTIME\(ms\) +PID +COMM +FUNC\n/);
    expect(ours().map((l) => l.split(/\s+/).slice(2))).toEqual(Array(3).fill(['threads', 'tl_thread_worker']));
    expect(r.stderr).toContain(`warning: ${LIBPTHREAD} has no function pthread_create: attaching to it in ${LIBC}`);
    expect(await waitForNoPrograms()).toEqual([]);
    expect(readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8')).toBe('');
  });
});
