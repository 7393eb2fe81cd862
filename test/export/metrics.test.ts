// The exposition of --metrics without a kernel: programs checked on FakeKernel, map entries given
// by hand; promtool (Debian's prometheus) checks what comes out.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import type { MapSpec, TypedProgram } from '../../src/model/program.js';
import type { MapEntry } from '../../src/runtime/output/model.js';
import { Resolver } from '../../src/runtime/symbols.js';
import { labelNames, MetricsExporter, metricName } from '../../src/export/metrics.js';
import { parseListenAddress } from '../../src/export/server.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

function program(text: string): TypedProgram {
  const parsed = parse(text);
  const checked = typecheck(parsed.program, new FakeKernel(), {});
  if (!checked.program) throw new Error(JSON.stringify(checked.diagnostics));
  return checked.program;
}

/** A reader that returns the given entries for each map. */
function reader(entries: Record<string, MapEntry[]>) {
  return { resolver: new Resolver(), snapshot: (spec: MapSpec) => ({ entries: entries[spec.name] ?? [] }) };
}

function promtool(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return `${r.status} ${r.stdout}${r.stderr}`;
}

describe('metric and label names', () => {
  it('names metrics tracelet_<map> in snake case, @ as tracelet_map', () => {
    expect(metricName('@opens')).toBe('tracelet_opens');
    expect(metricName('@bytesByComm')).toBe('tracelet_bytes_by_comm');
    expect(metricName('@')).toBe('tracelet_map');
  });

  it('names labels from builtins, args fields and variables, else key<i>', () => {
    const p = program('BEGIN { $fd = 3; @a[comm, pid, $fd, 1 + 2, str("x")] = count(); @b[cpu, cpu, probe] = count(); }');
    expect(labelNames(p.maps.get('@a')!)).toEqual(['comm', 'pid', 'fd', 'key3', 'key4']);
    // A name taken twice falls back to key<i>.
    expect(labelNames(p.maps.get('@b')!)).toEqual(['cpu', 'key1', 'probe']);
  });

  it('parses [HOST:]PORT', () => {
    expect(parseListenAddress('9100')).toEqual({ port: 9100 });
    expect(parseListenAddress(':9100')).toEqual({ port: 9100 });
    expect(parseListenAddress('127.0.0.1:9100')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseListenAddress('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
    expect(parseListenAddress('host:99999')).toBeUndefined();
    expect(parseListenAddress('host')).toBeUndefined();
  });
});

describe('exposition', () => {
  it('escapes label values (backslash, quote, newline), and promtool accepts the result', () => {
    const p = program('BEGIN { @opens[str("x")] = count(); }');
    const text = new MetricsExporter(p, reader({
      '@opens': [{ key: ['a"b\\c\nd'], value: { kind: 'count', value: 2n } }],
    })).render(false);
    expect(text).toContain('tracelet_opens_total{key0="a\\"b\\\\c\\nd"} 2\n');
    expect(promtool(text)).toBe('0 ');
  });

  it('types maps: resettable counts and signed sums are gauges, stats a summary with an avg gauge', () => {
    const p = program('BEGIN { @c = count(); @z[pid] = count(); zero(@z); @neg = sum(-1); @u = sum((uint64)1); @st = stats(5); @v = 7; @str = "x"; }');
    const warnings: string[] = [];
    const text = new MetricsExporter(p, reader({
      '@c': [{ value: { kind: 'count', value: 1n } }],
      '@neg': [{ value: { kind: 'sum', value: -1n } }],
      '@u': [{ value: { kind: 'sum', value: 1n } }],
      '@st': [{ value: { kind: 'stats', count: 2n, total: 11n } }],
      '@v': [{ value: { kind: 'scalar', value: 7n } }],
    }), { warn: (m) => warnings.push(m) }).render(false);
    expect(text).toContain('# TYPE tracelet_c_total counter\ntracelet_c_total 1\n');
    expect(text).toContain('# TYPE tracelet_z gauge\n');
    expect(text).toContain('# TYPE tracelet_neg gauge\ntracelet_neg -1\n');
    expect(text).toContain('# TYPE tracelet_u_total counter\ntracelet_u_total 1\n');
    expect(text).toContain('# TYPE tracelet_st summary\ntracelet_st_count 2\ntracelet_st_sum 11\n# HELP tracelet_st_avg');
    expect(text).toContain('tracelet_st_avg 5\n');
    expect(text).toContain('# TYPE tracelet_v gauge\ntracelet_v 7\n');
    expect(warnings).toEqual(['@str: not exported (--metrics exports numbers; it holds string)']);
    expect(promtool(text)).toBe('0 ');
  });

  it('caps the keys of a map at the largest values, with one warning', () => {
    const p = program('BEGIN { @m[pid] = count(); }');
    const entries: MapEntry[] = Array.from({ length: 10 }, (_, i) => ({ key: [BigInt(i)], value: { kind: 'count', value: BigInt(i) } }));
    const warnings: string[] = [];
    const exporter = new MetricsExporter(p, reader({ '@m': entries }), { maxKeys: 3, warn: (m) => warnings.push(m) });
    exporter.render(false);
    const text = exporter.render(false);
    expect(text.split('\n').filter((l) => l.startsWith('tracelet_m_total'))).toEqual([
      'tracelet_m_total{pid="9"} 9', 'tracelet_m_total{pid="8"} 8', 'tracelet_m_total{pid="7"} 7',
    ]);
    expect(warnings).toEqual(['@m: 10 keys, more than --metrics exports (TRACELET_METRICS_MAX_KEYS=3): only the 3 largest are exported']);
  });

  it('folds a ustack(build_id) key as its printed frames, root first', () => {
    const p = program('BEGIN { @s[ustack(build_id)] = count(); }');
    // The key as the kernel holds it: the stack id, then the pid.
    const rawKey = Buffer.alloc(16);
    rawKey.writeBigInt64LE(7n);
    const resolver = new Resolver({ readBuildIdStack: () => [{ buildId: 'ab'.repeat(20), offset: 0x1139n }, { address: 0x401000n }] });
    const text = new MetricsExporter(p, {
      resolver,
      snapshot: () => ({ entries: [{ key: [[]], rawKey, value: { kind: 'count', value: 1n } }] }),
    }).render(false);
    expect(text).toContain(`tracelet_s_total{ustack="401000;${'ab'.repeat(20)} 0x1139"} 1\n`);
  });

  it('gives lhist buckets their integer upper bounds, the last one +Inf', () => {
    const p = program('BEGIN { @l = lhist(5, 0, 30, 10); }');
    const text = new MetricsExporter(p, reader({
      '@l': [{ value: { kind: 'lhist', buckets: [1n, 2n, 0n, 3n, 4n] } }],
    })).render(false);
    expect(text).toContain([
      'tracelet_l_bucket{le="-1"} 1', 'tracelet_l_bucket{le="9"} 3', 'tracelet_l_bucket{le="19"} 3',
      'tracelet_l_bucket{le="29"} 6', 'tracelet_l_bucket{le="+Inf"} 10', 'tracelet_l_count 10', '',
    ].join('\n'));
    expect(promtool(text)).toBe('0 ');
  });
});
