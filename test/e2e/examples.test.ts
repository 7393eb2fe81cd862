// Every program in examples/ runs on the real kernel and reports what the test provoked.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTracelet } from '../helpers/run.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const TESTS = fileURLToPath(new URL('./', import.meta.url));

/** Runs an example until the workload is done, then stops it with Ctrl-C. */
async function run(example: string, workload: () => void | Promise<void>): Promise<string> {
  const t = startTracelet([`${EXAMPLES}${example}`]);
  await t.attached;
  await workload();
  await new Promise((r) => setTimeout(r, 50));
  t.child.kill('SIGINT');
  const r = await t.done;
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout;
}

const comm = readFileSync('/proc/self/comm', 'utf8').trim();

describe('examples', () => {
  it('has a test for every example (here, in another test/e2e/examples*.test.ts or in offcpu.test.ts)', () => {
    const tests = readdirSync(TESTS)
      .filter((f) => /^(examples.*|offcpu)\.test\.ts$/.test(f))
      .map((f) => readFileSync(`${TESTS}${f}`, 'utf8'))
      .join('\n');
    const untested = readdirSync(EXAMPLES).filter((f) => f.endsWith('.bt') && !tests.includes(`'${f}'`));
    expect(untested).toEqual([]);
  });

  it('type-checks in bpftrace 0.17 too (-d), so a workshop can run each with either tracer', (ctx) => {
    if (spawnSync('bpftrace', ['--version']).status !== 0) ctx.skip();
    // usdt.bt names its binary as an argument.
    const refused = readdirSync(EXAMPLES).filter((f) => f.endsWith('.bt') && f !== 'usdt.bt').flatMap((f) => {
      const r = spawnSync('bpftrace', ['-d', `${EXAMPLES}${f}`], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
      const errors = r.stderr.split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l));
      return errors.length > 0 ? [`${f}: ${errors[0]}`] : [];
    });
    expect(refused).toEqual([]);
  });

  it('lists every example in examples/README.md', () => {
    const readme = readFileSync(`${EXAMPLES}README.md`, 'utf8');
    const missing = readdirSync(EXAMPLES).filter((f) => f.endsWith('.bt') && !readme.includes(`[${f}](${f})`));
    expect(missing).toEqual([]);
  });

  it('opensnoop shows the file the test opened', async () => {
    const out = await run('opensnoop.bt', () => closeSync(openSync('/etc/hostname', 'r')));
    const header = `${'PID'.padEnd(6)} ${'COMM'.padEnd(16)} ${'FD'.padStart(4)} ERR PATH`;
    expect(out.startsWith(`Attaching 6 probes...\n${header}\n`)).toBe(true);
    expect(out, out).toMatch(new RegExp(`\\n${process.pid} +${comm} +\\d+ +0 /etc/hostname\\n`));
  });

  it('killsnoop shows a signal the test sent', async () => {
    const out = await run('killsnoop.bt', () => {
      process.kill(process.pid, 0);
    });
    expect(out).toMatch(new RegExp(`\\n${process.pid} +${comm} +${process.pid} +0 0\\n`));
  });

  it('readsize shows the reads of the test', async () => {
    const out = await run('readsize.bt', () => {
      readFileSync('/etc/services');
    });
    expect(out).toMatch(new RegExp(`\\n@bytes\\[${comm}\\]: \\n\\[`));
    expect(out).toMatch(new RegExp(`\\n@total\\[${comm}\\]: \\d+\\n`));
  });

  it('syscount prints the top syscalls and processes at the end', async () => {
    const out = await run('syscount.bt', () => closeSync(openSync('/etc/hostname', 'r')));
    expect(out).toMatch(/Counting syscalls\.\.\. Hit Ctrl-C to end\.\n/);
    expect(out).toMatch(/\nTop 10 syscalls:\n(@syscalls\[tracepoint:syscalls:sys_enter_\w+\]: \d+\n)+/);
    expect(out).toMatch(/\nTop 10 processes:\n(@process\[.+\]: \d+\n)+/);
  });

  it('runqlat prints a latency histogram', async () => {
    const out = await run('runqlat.bt', () => new Promise((r) => setTimeout(r, 300)));
    expect(out).toMatch(/\n@usecs: \n(\[.*\n)+/);
  });
});
