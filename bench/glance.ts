// The first section of RESULTS.md: issue 17's table (tracelet ÷ bpftrace against each target, cold,
// warm and prepared shown apart), computed from the sections the same bench run measured. A row
// whose sections this run did not measure is left out; `--merge` then keeps that row as it was.
import { medianRatio, summarize, times } from './lib.js';
import type { CacheRow, CacheCase } from './cache.js';
import type { CompileResult } from './compile.js';
import { measuredInsnsRatios, type InsnsRow } from './insns.js';
import { dumpAloneMs, type MapDumpRow } from './map-dump.js';
import type { PerEventRow } from './per-event.js';
import type { StartupRow } from './startup.js';

export const GLANCE_TITLE = '## Issue 17 at a glance';

export interface GlanceSources {
  readonly cache?: readonly CacheRow[];
  readonly startup?: readonly StartupRow[];
  readonly compile?: CompileResult;
  readonly insns?: readonly InsnsRow[];
  readonly perEvent?: readonly PerEventRow[];
  readonly mapDump?: readonly MapDumpRow[];
}

type Build = 'cold' | 'warm' | 'prepared';
const BUILDS: readonly Build[] = ['cold', 'warm', 'prepared'];

/** A ratio per build of tracelet (undefined: not measured that way) and the rule it is held to. */
interface Row {
  readonly measure: string;
  readonly cells: Partial<Record<Build, string>>;
  /** Each build's worst ratio, for the verdict. */
  readonly worst: Partial<Record<Build, number>>;
  readonly target?: { readonly bound: number; readonly atLeast?: boolean };
}

const range = (rs: readonly number[]) => {
  const s = summarize(rs);
  return s.min.toFixed(2) === s.max.toFixed(2) ? times(s.min) : `${s.min.toFixed(2)}–${s.max.toFixed(2)}×`;
};

/** The cache bench's ratio for one case, measure and build, with the two medians. */
function cacheRatio(row: CacheRow, measure: 'attach' | 'cpu' | 'rss', build: Build): { ratio: number; cell: string } {
  const t = summarize(row.values[measure][build]), b = summarize(row.values[measure].bpftrace);
  const ratio = medianRatio(t, b);
  const digits = measure === 'rss' ? 1 : 0;
  const unit = measure === 'rss' ? ' MiB' : ' ms';
  return { ratio, cell: build === 'cold' ? `${times(ratio)} (${t.median.toFixed(digits)} / ${b.median.toFixed(digits)}${unit})` : times(ratio) };
}

function cacheRows(cache: readonly CacheRow[]): Row[] {
  const of = (key: CacheCase) => cache.find((r) => r.key === key);
  const rows: Row[] = [];
  const perBuild = (measure: string, cases: readonly CacheRow[], what: 'attach' | 'cpu' | 'rss', bound?: number): Row => {
    const cells: Partial<Record<Build, string>> = {}, worst: Partial<Record<Build, number>> = {};
    for (const build of BUILDS) {
      const each = cases.map((c) => cacheRatio(c, what, build));
      cells[build] = each.length === 1 ? each[0]!.cell : each.map((e) => times(e.ratio)).join(' / ');
      worst[build] = Math.max(...each.map((e) => e.ratio));
    }
    return { measure, cells, worst, ...(bound !== undefined ? { target: { bound } } : {}) };
  };
  const exit = of('exit'), printf = of('printf'), hist = of('hist'), script = of('script300');
  if (exit) rows.push(perBuild('start → attached: `BEGIN { exit(); }`', [exit], 'attach', 0.6));
  if (hist) rows.push(perBuild('start → attached: `args->ret` hist one-liner', [hist], 'attach', 0.6));
  if (printf) rows.push(perBuild('start → attached: `args->sig` printf one-liner', [printf], 'attach', 0.6));
  if (exit) rows.push(perBuild('CPU of a one-liner run: `BEGIN { exit(); }`, whole run', [exit], 'cpu', 0.7));
  if (printf && hist) rows.push(perBuild('CPU to attached: printf / hist one-liners', [printf, hist], 'cpu', 0.7));
  if (script) rows.push(perBuild('300-line script to attached', [script], 'attach'));
  const oneLiners = [exit, printf, hist].filter((r): r is CacheRow => r !== undefined);
  if (oneLiners.length) rows.push(perBuild('peak RSS of a one-liner (these three)', oneLiners, 'rss', 0.6));
  return rows;
}

/** Which run the table is of (the file's header may be an older run's when sections are merged). */
export interface GlanceRun {
  readonly date: string;
  readonly command: string;
  readonly load: string;
}

/** The table as a RESULTS.md section; empty when this run measured none of its sources. */
export function glanceSection(s: GlanceSources, run: GlanceRun): string[] {
  const rows: Row[] = s.cache ? cacheRows(s.cache) : [];
  if (s.startup?.length) {
    // The start-up bench repeats a command line that ran before: prepared runs where the program allows.
    const ratios = s.startup.map((r) => medianRatio(summarize(r.attach.tracelet), summarize(r.attach.bpftrace)));
    rows.push({
      measure: 'start → attached: the start-up one-liners (`## Start-up`, second runs)',
      cells: { prepared: `${range(ratios)} (${ratios.length} one-liners)` }, worst: { prepared: Math.max(...ratios) }, target: { bound: 0.6 },
    });
  }
  if (s.compile) {
    const net = s.compile.bpftraceNet;
    const cold = medianRatio(summarize(s.compile.traceletCold), net), warm = medianRatio(summarize(s.compile.traceletWarm), net);
    rows.push({
      measure: '300-line script to BPF object (`## Compile`; warm: compiled again in the same process)',
      cells: { cold: `${times(cold)} (${summarize(s.compile.traceletCold).median.toFixed(0)} / ${net.median.toFixed(0)} ms)`, warm: times(warm) },
      worst: { cold, warm }, target: { bound: 0.5 },
    });
  }
  if (s.insns?.length) {
    const ratios = measuredInsnsRatios(s.insns);
    const met = ratios.filter((r) => r <= 1).length;
    rows.push({
      measure: 'BPF instructions per case (`## BPF instructions`)',
      cells: { cold: `${range(ratios)} (${met} of ${ratios.length} cases ≤ 1.0×)` }, worst: { cold: Math.max(...ratios) }, target: { bound: 1 },
    });
  }
  if (s.perEvent?.length) {
    const ratios = s.perEvent.map((r) => medianRatio(summarize(r.nsPerEvent.tracelet), summarize(r.nsPerEvent.bpftrace)));
    rows.push({
      measure: 'ns/event (`## Per-event kernel cost`)',
      cells: { cold: `${range(ratios)} (${ratios.length} programs)` }, worst: { cold: Math.max(...ratios) }, target: { bound: 0.8 },
    });
  }
  const alone = s.mapDump && dumpAloneMs(s.mapDump);
  if (s.mapDump && alone) {
    const big = s.mapDump[1]!;
    const faster = alone.bpftrace / alone.tracelet;
    rows.push({
      measure: 'print a big map at exit (`## Map dump at exit`)',
      cells: { cold: `${faster.toFixed(1)}× faster (${big.keys.toLocaleString('en-US')} keys)` }, worst: { cold: faster }, target: { bound: 3, atLeast: true },
    });
  }
  if (rows.length === 0) return [];
  return [
    GLANCE_TITLE, '',
    `Issue 17's targets, from the sections below. Written by ${run.date}'s \`${run.command}\` (as root, load ${run.load}); `
      + 'a run of some sections (`--only … --merge`) replaces only their rows, so a row may be from an earlier run '
      + '(its section says when). Ratio = tracelet ÷ bpftrace of the medians.'
      + ' *Cold*: an empty compile cache, LLVM runs. *Warm*: the object cached, LLVM never loaded. '
      + '*Prepared*: a command line\'s second run, whose program the launcher loads and attaches before Node starts '
      + '(README, "Compile cache"). A row of one figure is in its runs\' column: the start-up one-liners\' '
      + 'second runs under prepared, the rows that do not depend on the cache under cold. '
      + '*met?* names the builds within the target.', '',
    '| measure | tracelet cold | tracelet warm | tracelet prepared | target | met? |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${BUILDS.map((b) => r.cells[b] ?? '').join(' | ')} | ${target(r)} | ${verdict(r)} |`),
    '',
  ];
}

function target(r: Row): string {
  if (!r.target) return '';
  return r.target.atLeast ? `≥ ${r.target.bound.toFixed(0)}× faster` : `≤ ${r.target.bound.toFixed(1)}×`;
}

function verdict(r: Row): string {
  if (!r.target) return '';
  const { bound, atLeast } = r.target;
  const measured = BUILDS.filter((b) => r.worst[b] !== undefined && Number.isFinite(r.worst[b]));
  const met = measured.filter((b) => (atLeast ? r.worst[b]! >= bound : r.worst[b]! <= bound));
  if (met.length === measured.length) return 'met';
  if (met.length === 0) return 'not met';
  return `met ${met.join(', ')}; not ${measured.filter((b) => !met.includes(b)).join(', ')}`;
}
