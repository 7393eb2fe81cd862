// -f pprof -o FILE: the stack-keyed maps of a known workload, read back by a reader this project
// did not write (`go tool pprof`, Debian's golang-go, installed by scripts/setup.sh).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/stacks.c', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tracelet-pprof-'));
const workload = join(dir, 'stacks');
const profile = join(dir, 'out.pb.gz');

/** Runs the workload (1000 calls of stack_leaf and getppid, then 300 ms of spinning) under tracing. */
async function profileWorkload(script: string): Promise<{ stdout: string; stderr: string }> {
  const tracer = startTracelet(['-f', 'pprof', '-o', profile, '-e', script]);
  await tracer.attached;
  const child = spawn(workload, ['1000', '300'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('done') && resolve()));
  child.stdin!.write('go\n');
  await done;
  // The workload is still alive: its stacks are symbolized from its own mappings.
  tracer.child.kill('SIGINT');
  const result = await tracer.done;
  child.stdin!.end();
  expect(result.code).toBe(0);
  return result;
}

const pprof = (...args: string[]) => execFileSync('go', ['tool', 'pprof', ...args, profile], { encoding: 'utf8', env: { ...process.env, GOFLAGS: '' } });

/** `go tool pprof -top` rows: function → [flat, cum]. */
function top(sampleIndex: string): Map<string, [number, number]> {
  const rows = new Map<string, [number, number]>();
  for (const line of pprof(`-sample_index=${sampleIndex}`, '-top').split('\n')) {
    const m = /^\s*(\d+)\s+\S+%\s+\S+%\s+(\d+)\s+\S+%\s+(\S+)/.exec(line);
    if (m) rows.set(m[3]!, [Number(m[1]), Number(m[2])]);
  }
  return rows;
}

beforeAll(() => {
  execFileSync('gcc', ['-O0', '-fno-omit-frame-pointer', '-o', workload, SOURCE]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('-f pprof', () => {
  it('writes the stack-keyed maps as a profile go tool pprof reads: functions, values, labels, build-ids', async () => {
    const { stdout } = await profileWorkload(`
      uprobe:${workload}:stack_leaf { @calls[ustack] = count(); @plain = count(); }
      tracepoint:syscalls:sys_enter_getppid /comm == "stacks"/ { @sys[kstack, comm] = count(); }
      profile:hz:997 /comm == "stacks"/ { @cpu[ustack] = count(); }`);
    // Maps without a stack are printed as usual; the stack-keyed ones went to the profile.
    expect(stdout).toContain('@plain: 1000');
    expect(stdout).not.toContain('@calls');

    const calls = top('calls');
    expect(calls.get('stack_leaf')).toEqual([1000, 1000]);
    expect(calls.get('stack_middle')).toEqual([0, 1000]);
    expect(calls.get('main')).toEqual([0, 1000]);

    // Sampled: most CPU samples are in spin_leaf, seen called from spin_middle (some samples land
    // where frame pointers do not unwind, e.g. in the vDSO's clock_gettime).
    const cpu = top('cpu');
    const [flat] = cpu.get('spin_leaf')!;
    expect(flat).toBe(Math.max(...[...cpu.values()].map(([f]) => f)));
    expect(cpu.get('spin_middle')![1]).toBeGreaterThan(0);

    const raw = pprof('-sample_index=sys', '-raw');
    // The getppid calls: one sample of 1000 with the comm as a label, kernel frames up to the syscall entry.
    expect(raw).toMatch(/^\s+0\s+0\s+1000: [\d ]+\n\s+comm:\[stacks\]/m);
    expect(raw).toMatch(/ M=\d+ do_syscall_64 /);
    // The workload's mapping carries its GNU build-id.
    const buildId = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', workload], { encoding: 'utf8' }))![1]!;
    expect(raw).toMatch(new RegExp(`^\\d+: \\S+ ${workload.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${buildId} `, 'm'));
    expect(await waitForNoPrograms()).toEqual([]);
  }, 60_000);

  it('needs -o FILE', () => {
    const r = runTracelet(['-f', 'pprof', '-e', 'BEGIN { exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tracelet: -f pprof writes a binary profile: give its file with -o FILE\n');
  });
});
