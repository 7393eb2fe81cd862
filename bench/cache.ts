// The compile cache: time from process start to "probes attached" with an empty cache (cold: LLVM
// runs and the object is stored) and with the object cached (warm: LLVM skipped), beside bpftrace
// 0.17 (which has no cache), for `BEGIN { exit(); }`, an `args->ret` hist one-liner and the
// 300-line script of bench/script300.ts. Runs alternate (cold, warm, bpftrace, rotated each
// repetition); min / median / max are reported, ratios of the medians.
//
//   node --import tsx bench/cache.ts [REPS]     (root; prints a Markdown table for RESULTS.md)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildHelpers, ensureBpftrace, ensureTracefs, fmtSummary, loadAverage, ratio, runTracer, summarize, type Helpers,
  type TracerName,
} from './lib.js';
import { script300 } from './script300.js';

type Mode = 'cold' | 'warm' | 'bpftrace';
const MODES: readonly Mode[] = ['cold', 'warm', 'bpftrace'];

interface Case {
  readonly name: string;
  /** Arguments after the tracer's name. */
  readonly args: readonly string[];
  /** Ends by itself; otherwise stopped with SIGINT once attached. */
  readonly exits: boolean;
}

export interface CacheRow {
  readonly name: string;
  readonly attach: Record<Mode, number[]>;
  readonly failures: string[];
}

export async function benchCache(helpers: Helpers, reps: number, log: (s: string) => void): Promise<CacheRow[]> {
  const big = join(helpers.dir, 'script300.bt');
  writeFileSync(big, script300());
  const cases: Case[] = [
    { name: '`BEGIN { exit(); }`', args: ['-e', 'BEGIN { exit(); }'], exits: true },
    { name: '`tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }`', args: ['-e', 'tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }'], exits: false },
    { name: 'bench/script300 (300 lines, 25 probes)', args: ['-q', big], exits: false },
  ];
  const rows: CacheRow[] = [];
  for (const c of cases) {
    const row: CacheRow = { name: c.name, attach: { cold: [], warm: [], bpftrace: [] }, failures: [] };
    const warmDir = mkdtempSync(join(helpers.dir, 'cache-warm-'));
    // Fills the warm cache once (not measured).
    await runTracer(helpers, 'tracelet', ['-q', ...c.args], { stop: !c.exits, env: { TRACELET_CACHE_DIR: warmDir } });
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of rotate(MODES, rep)) {
        const coldDir = mkdtempSync(join(helpers.dir, 'cache-cold-'));
        const tracer: TracerName = mode === 'bpftrace' ? 'bpftrace' : 'tracelet';
        const env = { TRACELET_CACHE_DIR: mode === 'warm' ? warmDir : coldDir };
        const r = await runTracer(helpers, tracer, c.args, { stop: !c.exits, env, timeoutMs: 120_000 });
        rmSync(coldDir, { recursive: true, force: true });
        if (r.code !== 0 || Number.isNaN(r.attachMs)) {
          row.failures.push(`${mode}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          continue;
        }
        row.attach[mode].push(r.attachMs);
      }
    }
    rmSync(warmDir, { recursive: true, force: true });
    const s = summaries(row);
    log(`  ${c.name.slice(0, 40).padEnd(40)} cold ${fmtSummary(s.cold)}  warm ${fmtSummary(s.warm)}  bpftrace ${fmtSummary(s.bpftrace)}`
      + (row.failures.length ? `  (${row.failures.length} failed: ${row.failures[0]})` : ''));
    rows.push(row);
  }
  return rows;
}

/** The Markdown table of the rows. */
export function cacheTable(rows: readonly CacheRow[]): string {
  const lines = [
    '| program | tracelet cold (ms) | tracelet warm (ms) | bpftrace (ms) | cold ÷ bpftrace | warm ÷ bpftrace | warm ÷ cold |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const s = summaries(row);
    lines.push(`| ${row.name} | ${fmtSummary(s.cold)} | ${fmtSummary(s.warm)} | ${fmtSummary(s.bpftrace)} | ${ratio(s.cold, s.bpftrace)} | ${ratio(s.warm, s.bpftrace)} | ${ratio(s.warm, s.cold)} |`);
  }
  return lines.join('\n');
}

function summaries(row: CacheRow) {
  return { cold: summarize(row.attach.cold), warm: summarize(row.attach.warm), bpftrace: summarize(row.attach.bpftrace) };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureBpftrace();
  ensureTracefs();
  const reps = Number(process.argv[2] ?? 7);
  const helpers = buildHelpers();
  try {
    console.log(`load average before: ${loadAverage()}`);
    const rows = await benchCache(helpers, reps, console.log);
    console.log(`load average after: ${loadAverage()}\n\n${cacheTable(rows)}`);
  } finally {
    helpers.cleanup();
  }
}
