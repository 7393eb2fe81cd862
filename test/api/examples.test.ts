// examples/api/*.ts: typechecked against the package's own declarations (`import ... from
// 'tracelet'` resolves to dist/api/index.d.ts through package.json's exports), and run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples/api');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function example(name: string, args: readonly string[]) {
  return spawnSync(TSX, [join(EXAMPLES, name), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('examples/api', () => {
  it('typecheck with tsc --noEmit (strict) against the published types', () => {
    expect(readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts')).sort()).toEqual(['json-exporter.ts', 'latency-dashboard.ts', 'lint.ts']);
    const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(EXAMPLES, 'tsconfig.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('lint.ts passes the example tools and reports a bad file as the CLI does', () => {
    // usdt.bt attaches to the binary given as $1: without it the program is incomplete.
    const tools = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.bt') && f !== 'usdt.bt').map((f) => join(ROOT, 'examples', f));
    const good = example('lint.ts', tools);
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'tracelet-lint-'));
    try {
      const bad = join(dir, 'bad.bt');
      writeFileSync(bad, 'BEGIN {\n  @x = nosuch;\n}\n');
      const r = example('lint.ts', [bad]);
      expect(r.stderr).toContain(`${bad}:2:8: error: unknown identifier 'nosuch'\n  @x = nosuch;\n       ^~~~~~\n`);
      expect(r.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('json-exporter.ts prints events and maps as JSON lines', () => {
    const r = example('json-exporter.ts', ['BEGIN { printf("hi %d\\n", 5); @n[comm] = count(); exit(); }']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map(({ time: _time, ...rest }) => rest)).toEqual([
      { kind: 'printf', text: 'hi 5\n', format: 'hi %d\n', args: ['5'] },
      { kind: 'exit' },
      {
        name: '@n', kind: 'map', aggregation: 'count', reason: 'exit', keys: [{ name: 'comm', type: 'string[16]' }],
        entries: [{ key: ['node'], value: { kind: 'count', value: '1' } }],
      },
    ]);
  });

  it('latency-dashboard.ts draws read() latency by process, and stops when its time is up', async () => {
    const child = spawn(TSX, [join(EXAMPLES, 'latency-dashboard.ts'), '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let running = true;
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => { running = false; resolve(code); }));
    // A workload for as long as it runs: head reads a file (and ld.so its libraries).
    while (running) {
      spawnSync('head', ['-c', '1', '/etc/hostname']);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await closed).toBe(0);
    expect(stderr).toBe('');
    const last = stdout.split('\x1b[2J\x1b[H').at(-1)!;
    expect(last).toMatch(/^COMM +READS +p50 us +p99 us\n/);
    expect(last).toMatch(/\nhead +\d+ +\d+ +\d+\n/);
  });
});
