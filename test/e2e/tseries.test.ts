// tseries() (bpftrace 0.26) end to end on the real kernel: the probe buckets values by TAI-clock
// interval, the runtime reduces the per-CPU slots and prints the graph and JSON as 0.26 does.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

/** The JSON lines of a run, by their map's name. */
function jsonMaps(stdout: string): Record<string, unknown> {
  const maps: Record<string, unknown> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line) as { type: string; data: Record<string, unknown> };
    if (m.type === 'tseries' || m.type === 'map') Object.assign(maps, m.data);
  }
  return maps;
}

type Point = { interval_start: string; value: number };
const startMs = (p: Point) => Date.parse(p.interval_start.replace(' ', 'T').slice(0, 23) + 'Z');

describe('tseries()', () => {
  it('aggregates the values of one interval: last, sum, avg, min, max, per key', () => {
    const before = Date.now();
    const r = runTracelet(['-f', 'json', '-e', 'BEGIN { $i = 0; while ($i < 10) { @s = tseries($i, 1h, 3, "sum"); '
      + '@a = tseries($i, 1h, 3, "avg"); @mn = tseries($i - 3, 1h, 3, "min"); @mx = tseries($i, 1h, 3, "max"); '
      + '@l = tseries($i, 1h, 3); @k[(uint64)$i % 2] = tseries($i, 1h, 3, "sum"); $i++; } exit(); }']);
    expect(r.stderr).toBe('');
    const maps = jsonMaps(r.stdout);
    const only = (name: string) => {
      const points = maps[name] as Point[];
      expect(points).toHaveLength(1);
      return points[0]!;
    };
    expect([only('@l'), only('@s'), only('@a'), only('@mn'), only('@mx')].map((p) => p.value)).toEqual([9, 45, 4, -3, 9]);
    const keyed = maps['@k'] as Record<string, Point[]>;
    expect(Object.keys(keyed)).toEqual(['0', '1']);
    expect([keyed['0']![0]!.value, keyed['1']![0]!.value]).toEqual([20, 25]);
    // The interval's start: a whole hour of the TAI clock (UTC, as 0.26's JSON), this hour or,
    // with the kernel's TAI offset, the one before.
    const start = only('@s').interval_start;
    expect(start).toMatch(/^\d{4}-\d\d-\d\d \d\d:00:00\.000000000$/);
    expect(startMs(only('@s'))).toBeGreaterThan(before - 2 * 3600_000);
    expect(startMs(only('@s'))).toBeLessThanOrEqual(Date.now());
  });

  it('prints the graph as bpftrace 0.26: one point gets ns precision and room on each side', () => {
    const r = runTracelet(['-e', 'BEGIN { @ = tseries(7, 1s, 5); exit(); }']);
    expect(r.stderr).toBe('');
    const pad = ' '.repeat(19);
    expect(r.stdout).toMatch(new RegExp('^Attaching 1 probe...\\n\\n\\n@:\\n'
      + `${pad}6${' '.repeat(51)}8\\n`
      + `hh:mm:ss\\.ns {8}\\|_{51}\\|\\n`
      + `\\d\\d:\\d\\d:\\d\\d\\.000000000 \\| {25}\\* {25}\\| 7\\n`
      + `${pad}v_{51}v\\n${pad}6${' '.repeat(51)}8\\n\\n$`));
  });

  it('buckets by the interval on the kernel side: each interval keeps its last value', () => {
    // Every 30 ms a new value; the probe also notes the interval it saw (when the tseries() update
    // did not straddle an interval's end), to compare with what the runtime prints.
    const prog = 'interval:ms:30 { @n++; $a = nsecs(tai) / 50000000; @ts = tseries(@n, 50ms, 100); '
      + '$b = nsecs(tai) / 50000000; if ($a == $b) { @seen[$a] = @n; } else { @straddled = 1; } if (@n == 12) { exit(); } }';
    const r = runTracelet(['-f', 'json', '-e', prog]);
    expect(r.stderr).toBe('');
    const maps = jsonMaps(r.stdout);
    const points = maps['@ts'] as Point[];
    const seen = maps['@seen'] as Record<string, number>;
    expect(points.at(-1)!.value).toBe(12);
    // Interval starts are 50 ms apart, values grow with time.
    for (let i = 1; i < points.length; i++) {
      expect((startMs(points[i]!) - startMs(points[0]!)) % 50).toBe(0);
      expect(startMs(points[i]!)).toBeGreaterThan(startMs(points[i - 1]!));
      expect(points[i]!.value).toBeGreaterThan(points[i - 1]!.value);
    }
    if (maps['@straddled'] === undefined) {
      // Each interval the probe saw holds the last value the probe wrote in it.
      const byEpoch = Object.fromEntries(points.map((p) => [String(startMs(p) / 50), p.value]));
      expect(byEpoch).toEqual(seen);
    }
  });

  it('a text graph of many intervals: ms precision, 50 ms apart, missing intervals as -', () => {
    const r = runTracelet(['-e', 'interval:ms:120 { @n++; @ts = tseries(@n, 50ms, 100); if (@n == 4) { exit(); } }']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const graph = lines.indexOf('@ts:');
    expect(lines[graph + 2]).toBe(`hh:mm:ss.ms  |${'_'.repeat(51)}|`);
    const rows = lines.slice(graph + 3).filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
    // 4 values 120 ms apart over 50 ms intervals: 7 to 9 intervals, 1 first, 4 last, the rest `-`
    // (10 or 11 when a tick comes late on a loaded machine: CI once saw 10).
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(rows.length).toBeLessThanOrEqual(11);
    expect(rows[0]).toMatch(/^\d\d:\d\d:\d\d\.\d\d[05] \* {51}\| 1$/);
    expect(rows.at(-1)).toMatch(/^\d\d:\d\d:\d\d\.\d\d[05] \| {51}\* 4$/);
    expect(rows.map((row) => row.split(' ').at(-1))).toEqual(expect.arrayContaining(['1', '2', '3', '4', '-']));
  });

  it('clear() empties it, zero() leaves no data', () => {
    const cleared = runTracelet(['-e', 'BEGIN { @[1] = tseries(1, 1ms, 5); clear(@); exit(); }']);
    expect(cleared.stderr).toBe('');
    expect(cleared.stdout).toBe('Attaching 1 probe...\n\n\n');
    const zeroed = runTracelet(['-e', 'BEGIN { @a = tseries(1, 1ms, 5); zero(@a); exit(); }']);
    expect(zeroed.stdout).toBe('Attaching 1 probe...\n\n\n@a:\n<no data>\n\n');
    const json = runTracelet(['-f', 'json', '-e', 'BEGIN { @a = tseries(1, 1ms, 5); zero(@a); exit(); }']);
    expect(json.stdout).toContain('{"type": "tseries", "data": {"@a": []}}\n');
  });

  it('refuses misuse with coded diagnostics and hints', () => {
    const r = runTracelet(['-e', 'BEGIN { @a = tseries(1, 1s); @b = tseries(1, 0, 5); $n = 5; @c = tseries(1, 1s, $n, "median"); '
      + '@d = tseries(1, 1s, 5); @d = tseries(1, 2s, 5); $x = @d; }']);
    expect(r.code).toBe(1);
    const src = 'BEGIN { @a = tseries(1, 1s); @b = tseries(1, 0, 5); $n = 5; @c = tseries(1, 1s, $n, "median"); @d = tseries(1, 1s, 5); @d = tseries(1, 2s, 5); $x = @d; }';
    /** `stdin:1:COL: ` and the source line with a caret under `text` (its `nth` occurrence). */
    const at = (text: string, nth = 0): [string, string] => {
      let col = src.indexOf(text);
      for (let i = 0; i < nth; i++) col = src.indexOf(text, col + 1);
      return [`stdin:1:${col + 1}: `, `${src}\n${' '.repeat(col)}^${'~'.repeat(text.length - 1)}\n`];
    };
    const diag = (kind: string, message: string, [where, line]: [string, string], hint?: string) =>
      `${where}${kind}: ${message}\n${line}${hint ? `hint: ${hint}\n` : ''}`;
    expect(r.stderr).toBe(
      diag('error', 'tseries() takes 3 to 4 arguments, got 2', at('tseries(1, 1s)'),
        'tseries(value, interval, intervals [, "avg"|"max"|"min"|"sum"]), e.g. @x = tseries(n, 100ms, 20)')
      + diag('error', 'tseries() interval_ns must be a constant >= 1', at('0'), 'e.g. tseries(n, 100ms, 20)')
      + diag('error', 'tseries() num_intervals must be a constant from 1 to 1000000', at('$n', 1), 'e.g. tseries(n, 1s, 60)')
      + diag('error', 'tseries() aggregates with one of "avg", "max", "min", "sum"', at('"median"'),
        'leave it out to keep the last value of each interval')
      + diag('error', 'tseries() of @d is used with a different interval, count or aggregation', at('tseries(1, 2s, 5)'))
      + diag('note', '@d is first assigned here', at('@d'))
      + diag('error', 'the value of a tseries() map cannot be read in a probe', at('@d', 2))
      + diag('warning', 'variable $x is assigned but never used', at('$x')));
  });
});
