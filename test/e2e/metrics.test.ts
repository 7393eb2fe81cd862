// --metrics [HOST:]PORT: the maps of a known workload served to Prometheus, checked by the real
// thing (Debian's prometheus package, installed by scripts/setup.sh): `promtool check metrics` on
// a scrape, and a Prometheus server that scrapes tracelet and answers queries over its HTTP API.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet, waitForNoPrograms, type Running } from '../helpers/run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/stacks.c', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tracelet-metrics-'));
const workload = join(dir, 'stacks');

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs the workload once: 1000 calls of stack_leaf(i) for i = 0..999 and 1000 getppid(2). */
async function runWorkload(): Promise<ChildProcess> {
  const child = spawn(workload, ['1000', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('done') && resolve()));
  child.stdin!.write('go\n');
  await done;
  return child;
}

/** Polls until `get` gives a value (a server starting, a first scrape): a deadline, not a timed assertion. */
async function eventually<T>(get: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SCRIPT = (port: number) => [`--metrics`, `127.0.0.1:${port}`, '-e', `
  uprobe:${workload}:stack_leaf { @calls[comm] = count(); @arg = hist(arg0); @arg_sum = sum(arg0); @by[comm, arg0 % 2] = count(); }
  tracepoint:syscalls:sys_enter_getppid /comm == "stacks"/ { @getppid[pid] = count(); @gone[comm] = count(); delete(@gone[comm]); }`];

let tracer: Running;
let port: number;
let child: ChildProcess;

beforeAll(async () => {
  execFileSync('gcc', ['-O0', '-fno-omit-frame-pointer', '-o', workload, SOURCE]);
  port = await freePort();
  tracer = startTracelet(SCRIPT(port));
  await tracer.attached;
  child = await runWorkload();
}, 60_000);

afterAll(async () => {
  child?.stdin?.end();
  tracer?.child.kill('SIGINT');
  await tracer?.done;
  rmSync(dir, { recursive: true, force: true });
});

describe('--metrics', () => {
  it('serves the maps in the Prometheus text format, which promtool accepts', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(text).toContain('# TYPE tracelet_calls_total counter\ntracelet_calls_total{comm="stacks"} 1000\n');
    // Key parts without a name of their own are key<i>; a pid key names itself.
    expect(text).toMatch(/^tracelet_by_total\{comm="stacks",key1="1"\} 500$/m);
    expect(text).toContain(`tracelet_getppid_total{pid="${child.pid}"} 1000\n`);
    // delete() can take keys away: a gauge.
    expect(text).toContain('# TYPE tracelet_gone gauge\n');
    // hist(): cumulative buckets up to +Inf; its _sum comes from @arg_sum (0 + 1 + ... + 999).
    expect(text).toContain('# TYPE tracelet_arg histogram\ntracelet_arg_bucket{le="0"} 1\ntracelet_arg_bucket{le="1"} 2\ntracelet_arg_bucket{le="3"} 4\n');
    expect(text).toContain('tracelet_arg_bucket{le="511"} 512\ntracelet_arg_bucket{le="1023"} 1000\ntracelet_arg_bucket{le="+Inf"} 1000\ntracelet_arg_count 1000\ntracelet_arg_sum 499500\n');
    expect(text).not.toContain('tracelet_arg_sum_total');
  });

  it('serves OpenMetrics when the scraper asks for it', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE tracelet_calls counter\ntracelet_calls_total{comm="stacks"} 1000\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('is scraped by a Prometheus server, which answers a count and histogram_quantile', async () => {
    const promPort = await freePort();
    const data = join(dir, 'prometheus');
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: tracelet',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
      '',
    ].join('\n'));
    const prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ], { stdio: 'ignore' });
    try {
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = await res.json() as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return body.data.result[0];
      };
      const calls = await eventually(() => query('tracelet_calls_total'), 'a scrape of tracelet_calls_total');
      expect(calls.metric).toMatchObject({ comm: 'stacks', job: 'tracelet', instance: `127.0.0.1:${port}` });
      expect(calls.value[1]).toBe('1000');
      // 1000 values 0..999: the median is in the bucket (255, 511], at 255 + 256·(500 - 256)/256.
      const median = await query('histogram_quantile(0.5, tracelet_arg_bucket)');
      expect(median!.value[1]).toBe('499');
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus.once('exit', r));
    }
  }, 60_000);

  it('still prints the maps at Ctrl-C, and leaves nothing in the kernel', async () => {
    tracer.child.kill('SIGINT');
    const { stdout, code } = await tracer.done;
    expect(code).toBe(0);
    expect(stdout).toContain('@calls[stacks]: 1000\n');
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('refuses an address that is not [HOST:]PORT', () => {
    const r = runTracelet(['--metrics', 'localhost:http', '-e', 'BEGIN { exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tracelet: --metrics localhost:http: expected [HOST:]PORT, e.g. 9100 or 127.0.0.1:9100\n');
  });
});
