// bench/ runs by hand (as root, beside bpftrace), not in the suite: these keep it from rotting as
// the source changes, and check the verdicts of the table it writes first in RESULTS.md.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CacheRow } from '../../bench/cache.js';
import { glanceSection } from '../../bench/glance.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN = { date: '2026-12-08T06:45:23Z', command: 'npm run bench', load: '1.00 1.00 1.00' };

/** A case of the compile-cache bench whose medians are these (ms to attached; CPU and RSS alike). */
function cacheRow(key: CacheRow['key'], ms: { cold: number; warm: number; prepared: number; bpftrace: number }): CacheRow {
  const values = Object.fromEntries(Object.entries(ms).map(([mode, v]) => [mode, [v]])) as unknown as CacheRow['values']['attach'];
  return { key, name: key, values: { attach: values, cpu: values, rss: values }, failures: [] };
}

describe('bench/', () => {
  it('type-checks against the source', () => {
    const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'bench/tsconfig.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("writes the issue's table with a verdict for each build of tracelet", () => {
    const lines = glanceSection({
      cache: [
        cacheRow('exit', { cold: 60, warm: 50, prepared: 5, bpftrace: 40 }),
        cacheRow('hist', { cold: 70, warm: 50, prepared: 5, bpftrace: 125 }),
      ],
    }, RUN);
    expect(lines[0]).toBe('## Issue 17 at a glance');
    expect(lines.join('\n')).toContain("Written by 2026-12-08T06:45:23Z's `npm run bench`");
    const row = (start: string) => lines.find((l) => l.startsWith(`| ${start}`));
    expect(row('start → attached: `BEGIN { exit(); }`')).toBe(
      '| start → attached: `BEGIN { exit(); }` | 1.50× (60 / 40 ms) | 1.25× | 0.13× | ≤ 0.6× | met prepared; not cold, warm |');
    expect(row('start → attached: `args->ret` hist')).toMatch(/\| 0\.56× \(70 \/ 125 ms\) \| 0\.40× \| 0\.04× \| ≤ 0\.6× \| met \|$/);
    // The worst one-liner decides a build's verdict.
    expect(row('peak RSS of a one-liner')).toMatch(/\| 1\.50× \/ 0\.56× \| 1\.25× \/ 0\.40× \| 0\.13× \/ 0\.04× \| ≤ 0\.6× \| met prepared; not cold, warm \|$/);
    // Sections this run did not measure have no row (--merge keeps the file's).
    expect(row('CPU to attached')).toBeUndefined();
    expect(row('BPF instructions')).toBeUndefined();
  });

  it('writes nothing when the run measured none of its sections', () => {
    expect(glanceSection({}, RUN)).toEqual([]);
  });
});
