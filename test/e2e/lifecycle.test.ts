// Probe lifecycle at scale, on the real kernel: syscall tracepoints sharing one raw tracepoint
// count exactly what one perf-event tracepoint per syscall counts, with the same `probe` and
// `args`, and every exit path (exit(), SIGINT, SIGTERM, SIGKILL) leaves nothing of ours behind.
// Timings are not asserted here: bench/lifecycle.ts measures them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, type Running, type RunResult } from '../helpers/run.js';

const WORKLOAD_SOURCE = fileURLToPath(new URL('../fixtures/workloads/syscalls.c', import.meta.url));
const haveCc = spawnSync('cc', ['--version']).status === 0;
const onX64 = process.arch === 'x64';
let workDir = '';
let workload = '';
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

beforeAll(() => {
  if (!haveCc) return;
  // The binary's name is its comm, which the programs filter on.
  workDir = mkdtempSync(join(tmpdir(), 'tracelet-lifecycle-'));
  workload = join(workDir, 'tlwork');
  const cc = spawnSync('cc', ['-O1', '-o', workload, WORKLOAD_SOURCE], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot build the workload: ${cc.stderr}`);
});

/** Starts tracelet, runs the workload once its probes are attached, then stops it with SIGINT. */
async function traceWorkload(program: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const t = startTracelet(['-e', program], env);
  await t.attached;
  const w = spawnSync(workload, { encoding: 'utf8' });
  expect(w.status).toBe(0);
  // Let the last syscalls' records settle (map updates are synchronous; this is margin).
  await new Promise((r) => setTimeout(r, 100));
  t.child.kill('SIGINT');
  const r = await t.done;
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** `@name[key]: value` lines of one map, as key → value. */
function mapEntries(stdout: string, name: string): Map<string, string> {
  const out = new Map<string, string>();
  const prefix = `@${name}[`;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const end = line.lastIndexOf(']: ');
    out.set(line.slice(prefix.length, end), line.slice(end + 3));
  }
  return out;
}

const syscallTracepoints = new Set(
  readFileSync('/sys/kernel/tracing/available_events', 'latin1').split('\n').filter((l) => l.startsWith('syscalls:')),
);

describe.skipIf(!haveCc || !onX64)('syscall tracepoints through one raw tracepoint', () => {
  it('uses the raw sys_enter / sys_exit tracepoints for wildcards', () => {
    const r = runTracelet(['--emit-llvm', '-e', 'tracepoint:syscalls:sys_enter_* { @ = count(); } tracepoint:syscalls:sys_exit_* { @x = count(); }']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('section "raw_tracepoint/sys_enter"');
    expect(r.stdout).toContain('section "raw_tracepoint/sys_exit"');
    expect(r.stdout).not.toContain('section "tracepoint/syscalls/');
  });

  it('counts what one perf tracepoint per syscall counts, keyed by the exact tracepoint names', async () => {
    const singles = ['getppid', 'getpid', 'openat', 'close', 'semget', 'newfstatat', 'mmap'];
    const program = [
      'tracepoint:syscalls:sys_enter_* /comm == "tlwork"/ { @wild[probe] = count(); }',
      'tracepoint:syscalls:sys_exit_* /comm == "tlwork"/ { @wildx[probe] = count(); }',
      ...singles.map((s) => `tracepoint:syscalls:sys_enter_${s} /comm == "tlwork"/ { @one[probe] = count(); }`),
      ...singles.map((s) => `tracepoint:syscalls:sys_exit_${s} /comm == "tlwork"/ { @onex[probe] = count(); }`),
    ].join('\n');
    const r = await traceWorkload(program);
    const wild = mapEntries(r.stdout, 'wild');
    const wildx = mapEntries(r.stdout, 'wildx');
    const one = mapEntries(r.stdout, 'one');
    const onex = mapEntries(r.stdout, 'onex');
    for (const s of singles) {
      expect(wild.get(`tracepoint:syscalls:sys_enter_${s}`), s).toBe(one.get(`tracepoint:syscalls:sys_enter_${s}`));
      expect(wildx.get(`tracepoint:syscalls:sys_exit_${s}`), s).toBe(onex.get(`tracepoint:syscalls:sys_exit_${s}`));
    }
    expect(wild.get('tracepoint:syscalls:sys_enter_getppid')).toBe('7');
    expect(wild.get('tracepoint:syscalls:sys_enter_getpid')).toBe('3');
    expect(Number(wild.get('tracepoint:syscalls:sys_enter_openat'))).toBeGreaterThanOrEqual(5);
    // 32-bit syscalls (ia32 getppid = 64 = x86_64 semget) are not syscalls:sys_enter_* events.
    expect(wild.has('tracepoint:syscalls:sys_enter_semget')).toBe(false);
    for (const key of [...wild.keys(), ...wildx.keys()]) {
      expect(syscallTracepoints.has(key.replace(/^tracepoint:/, '')), key).toBe(true);
    }
    expect(wildx.get('tracepoint:syscalls:sys_exit_getppid')).toBe('7');
  });

  it('gives args fields, ret, __syscall_nr and probe exactly as the perf tracepoints do', async () => {
    const program = [
      'tracepoint:syscalls:sys_enter_openat /comm == "tlwork"/ {',
      '  @open[probe, args->dfd, str(args->filename), args->flags, args->mode, args->__syscall_nr] = count(); }',
      'tracepoint:syscalls:sys_enter_close /comm == "tlwork"/ { @close[args->fd] = count(); }',
      'tracepoint:syscalls:sys_enter_openat,tracepoint:syscalls:sys_enter_open,tracepoint:syscalls:sys_enter_open_tree,',
      'tracepoint:syscalls:sys_enter_openat2 /comm == "tlwork"/ { @names[probe, str(args->filename)] = count(); }',
      'tracepoint:syscalls:sys_exit_openat,tracepoint:syscalls:sys_exit_close,tracepoint:syscalls:sys_exit_getpid',
      ' /comm == "tlwork"/ { @ret[probe, args->__syscall_nr, args->ret < 0 ? args->ret : (args->ret > 100 ? 100 : args->ret)] = count();',
      // `probe` in a for loop's callback, which cannot look the name up by syscall number.
      '  for ($i : 0..1) { @inloop[probe] = count(); } }',
    ].join('\n');
    const perf = await traceWorkload(program, { TRACELET_SYSCALL_DISPATCH: 'never' });
    const raw = await traceWorkload(program, { TRACELET_SYSCALL_DISPATCH: 'always' });
    const sorted = (s: string) => s.split('\n').filter((l) => l.startsWith('@')).sort();
    expect(sorted(raw.stdout)).toEqual(sorted(perf.stdout));
    expect(raw.stdout).toContain('@close[12345]: 1');
    // AT_FDCWD as the kernel records it (an int in a u64 slot), O_RDONLY|O_CLOEXEC, no mode
    // without O_CREAT, syscall 257. (The first read of the name may fault: both forms say so.)
    expect(raw.stdout).toMatch(/@open\[tracepoint:syscalls:sys_enter_openat, 4294967196, \/dev\/null, 524288, 0, 257\]: \d/);
    expect(raw.stdout).toContain('@ret[tracepoint:syscalls:sys_exit_close, 3, -9]: 1');
    expect(raw.stdout).toContain('@inloop[tracepoint:syscalls:sys_exit_close]: ');
  });
});

// ---- nothing left behind ----

interface BpftoolMap { id: number; name?: string }
interface BpftoolProg { id: number; name?: string; map_ids?: number[] }
interface BpftoolLink { id: number; prog_id?: number }
interface BpftoolPerf { pid: number; prog_id: number }

function bpftool<T>(...args: string[]): T[] {
  const r = spawnSync('bpftool', [...args, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as T[];
}

/** Reapers still at work: one that has exited holds nothing, though it stays a zombie until PID 1 reaps it. */
function reapers(): number[] {
  const r = spawnSync('pgrep', ['-x', 'tracelet-reaper'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false; // gone
    }
  });
}

/**
 * Kernel objects of one run: its maps are named after a tag no other run uses, its programs use
 * those maps, its links run those programs, its perf events are held by its pid or a reaper.
 */
function leftovers(tag: string, pid: number): string[] {
  const maps = bpftool<BpftoolMap>('map', 'list').filter((m) => m.name === `tl_${tag}`);
  const mapIds = new Set(maps.map((m) => m.id));
  const progs = bpftool<BpftoolProg>('prog', 'list').filter((p) => p.map_ids?.some((id) => mapIds.has(id)));
  const progIds = new Set(progs.map((p) => p.id));
  const links = bpftool<BpftoolLink>('link', 'list').filter((l) => progIds.has(l.prog_id ?? -1));
  const reaperPids = new Set(reapers());
  const perf = bpftool<BpftoolPerf>('perf', 'list').filter((p) => p.pid === pid || reaperPids.has(p.pid) || progIds.has(p.prog_id));
  return [
    ...maps.map((m) => `map ${m.id} ${m.name}`),
    ...progs.map((p) => `prog ${p.id} ${p.name}`),
    ...links.map((l) => `link ${l.id}`),
    ...perf.map((p) => `perf event of pid ${p.pid} (prog ${p.prog_id})`),
    ...[...reaperPids].map((p) => `reaper ${p}`),
  ];
}

async function waitForNoLeftovers(tag: string, pid: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = leftovers(tag, pid);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = leftovers(tag, pid);
  }
  return left;
}

let tags = 0;
function lifecycleProgram(withExit: boolean): { tag: string; program: string } {
  const tag = `lc${process.pid % 10000}x${tags++}`;
  const program = [
    `tracepoint:syscalls:sys_enter_*,tracepoint:syscalls:sys_exit_* { @${tag}[probe] = count(); }`,
    `tracepoint:sched:sched_switch,tracepoint:sched:sched_wakeup,tracepoint:sched:sched_process_exec { @${tag}[probe] = count(); }`,
    withExit ? 'interval:ms:300 { exit(); }' : 'interval:s:100 { @never = 1; }',
  ].join('\n');
  return { tag, program };
}

async function started(program: string): Promise<Running> {
  const t = startTracelet(['-e', program]);
  await t.attached;
  await new Promise((r) => setTimeout(r, 200));
  return t;
}

describe('every exit path leaves nothing behind', () => {
  it('exit()', async () => {
    const { tag, program } = lifecycleProgram(true);
    const t = startTracelet(['-e', program]);
    const r = await t.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`@${tag}\\[tracepoint:syscalls:sys_enter_\\w+\\]: \\d+`));
    expect(r.stdout).toMatch(new RegExp(`@${tag}\\[tracepoint:sched:sched_switch\\]: \\d+`));
    expect(await waitForNoLeftovers(tag, t.child.pid!)).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}`, async () => {
      const { tag, program } = lifecycleProgram(false);
      const t = await started(program);
      t.child.kill(signal);
      const r = await t.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`@${tag}\\[tracepoint:sched:sched_switch\\]: \\d+`));
      expect(await waitForNoLeftovers(tag, t.child.pid!)).toEqual([]);
    });
  }

  it('SIGKILL', async () => {
    const { tag, program } = lifecycleProgram(false);
    const t = await started(program);
    expect(leftovers(tag, t.child.pid!).length).toBeGreaterThan(0);
    t.child.kill('SIGKILL');
    const r = await t.done;
    expect(r.signal).toBe('SIGKILL');
    // The kernel releases everything as the process exits (perf events before it is reaped;
    // maps and programs a moment later, after an RCU grace period).
    expect(await waitForNoLeftovers(tag, t.child.pid!, 5000)).toEqual([]);
  });

  it('SIGINT with a -c command: the command is ended and reaped, not left a zombie', async () => {
    const t = startTracelet(['-e', 'BEGIN { printf("child %d\\n", cpid); }', '-c', 'sleep 30']);
    await t.attached;
    await new Promise((r) => setTimeout(r, 300));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.code, r.stderr).toBe(0);
    const child = Number(/^child (\d+)$/m.exec(r.stdout)![1]);
    // Gone, not a zombie handed to init (which does not reap on every machine).
    expect(existsSync(`/proc/${child}`)).toBe(false);
  });
});
