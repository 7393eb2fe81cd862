// tracelet against bpftrace 0.17, side by side, as ratios (tracelet ÷ bpftrace of the medians).
//
//   npm run bench [-- --quick] [-- --only insns,startup,cache,per-event,throughput,printf-overhead,map-dump,compile,stacks] [-- --reps N]
//                 [-- --merge]
//
// Both tracers run in the same invocation, alternating (tracelet first in even repetitions,
// bpftrace first in odd ones), each case repeated; min / median / max are reported. The results
// go to stdout and to bench/RESULTS.md (--out FILE to write elsewhere, --no-write for neither;
// --merge replaces only the sections this run measured in the existing file).
// Needs root. Installs bpftrace with apt-get if it is missing; compiles two tiny C helpers (the
// getppid() workload and a wait4-rusage wrapper) into a temporary directory; rebuilds the CLI
// bundle first so that what is measured is the current source.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import {
  buildHelpers, bpftraceVersion, ensureBpftrace, ensureTracefs, fmt, fmtSummary, loadAverage, ratio, ROOT, summarize,
  type Summary,
} from './lib.js';
import { benchStartup, type StartupRow } from './startup.js';
import { benchPerEvent, type PerEventRow } from './per-event.js';
import { benchThroughput, lossStarts, maxLossless, type ThroughputResult } from './throughput.js';
import { benchMapDump, dumpAloneMs, type MapDumpRow } from './map-dump.js';
import { benchPrintfOverhead, printfOverheadSection, type OverheadResult } from './printf-overhead.js';
import { benchCompile, type CompileResult } from './compile.js';
import { benchStacks, stacksSection, stacksTargets, type StacksResult } from './stacks.js';
import { benchInsns, insnsSection, measuredInsnsRatios, type InsnsRow } from './insns.js';
import { benchCache, cacheSection, type CacheRow } from './cache.js';
import { GLANCE_TITLE, glanceSection } from './glance.js';

const CASES = ['insns', 'startup', 'cache', 'per-event', 'throughput', 'printf-overhead', 'map-dump', 'compile', 'stacks'] as const;
type Case = (typeof CASES)[number];

interface Args {
  quick: boolean;
  only: Set<Case>;
  reps?: number;
  out?: string;
  merge: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { quick: false, only: new Set(CASES), out: join(ROOT, 'bench/RESULTS.md'), merge: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') a.quick = true;
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      for (const n of names) if (!CASES.includes(n as Case)) throw new Error(`unknown case ${n}; cases: ${CASES.join(', ')}`);
      a.only = new Set(names as Case[]);
    } else if (arg === '--reps') a.reps = Number(argv[++i]);
    else if (arg === '--out') a.out = argv[++i];
    else if (arg === '--no-write') a.out = undefined;
    else if (arg === '--merge') a.merge = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 13).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmarks load BPF programs: run them as root');
  const reps = args.reps ?? (args.quick ? 3 : 5);
  const log = (s: string) => process.stdout.write(`${s}\n`);

  ensureBpftrace();
  ensureTracefs();
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('bundling the CLI failed');
  const helpers = buildHelpers();
  const started = new Date();
  const loadBefore = loadAverage();
  const t0 = performance.now();
  const results: Results = {};
  try {
    if (args.only.has('insns')) {
      log('BPF instructions (one run each):');
      results.insns = await benchInsns(helpers, log);
    }
    if (args.only.has('startup')) {
      log(`start-up (${reps} runs each):`);
      results.startup = await benchStartup(helpers, reps, log);
    }
    if (args.only.has('cache')) {
      log(`compile cache: cold, warm, prepared (${reps} runs each):`);
      results.cache = await benchCache(helpers, reps, log);
    }
    if (args.only.has('per-event')) {
      log(`per-event kernel cost (${args.quick ? 2 : 3} runs each):`);
      results.perEvent = await benchPerEvent(helpers, args.quick ? 2 : 3, args.quick, log);
    }
    if (args.only.has('throughput')) {
      log('printf throughput:');
      results.throughput = await benchThroughput(helpers, args.quick ? 1 : 2, args.quick, log);
    }
    if (args.only.has('printf-overhead')) {
      log('printf overhead run:');
      results.printfOverhead = await benchPrintfOverhead(helpers, args.quick ? 2 : 3, args.quick, log);
    }
    if (args.only.has('map-dump')) {
      log(`map dump (${args.quick ? 2 : 3} runs each):`);
      results.mapDump = await benchMapDump(helpers, args.quick ? 2 : 3, args.quick, log);
    }
    if (args.only.has('compile')) {
      log(`compile (${reps} runs each):`);
      results.compile = await benchCompile(helpers, reps, log);
    }
    if (args.only.has('stacks')) {
      log(`stacks (${reps} runs each):`);
      results.stacks = await benchStacks(helpers, reps, log);
    }
  } finally {
    helpers.cleanup();
  }
  const machine = {
    date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    kernel: release(),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    node: process.version,
    bpftrace: bpftraceVersion(),
    load: `${loadBefore} before, ${loadAverage()} after (1/5/15-min load averages)`,
    seconds: (performance.now() - t0) / 1000,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    reps,
  };
  const md = report(results, machine);
  log('');
  log(md);
  if (args.out) {
    writeFileSync(args.out, args.merge ? mergeSections(readFileSync(args.out, 'utf8'), md) : md);
    log(`written to ${args.out}`);
  }
}

interface Results {
  insns?: InsnsRow[];
  cache?: CacheRow[];
  startup?: StartupRow[];
  perEvent?: PerEventRow[];
  throughput?: ThroughputResult;
  printfOverhead?: OverheadResult;
  mapDump?: MapDumpRow[];
  compile?: CompileResult;
  stacks?: StacksResult;
}

/**
 * `old` with each `## ` section of `fresh` (but its header) replaced or added before the targets,
 * the targets' and the issue's table's rows updated (see mergeRows), the issue's table kept first.
 */
function mergeSections(old: string, fresh: string): string {
  const split = (text: string) => text.split(/^(?=## )/m);
  const title = (sec: string) => sec.split('\n', 1)[0]!;
  const parts = split(old);
  for (const sec of split(fresh).slice(1)) {
    if (title(sec) === GLANCE_TITLE) {
      // Its rows come from several sections: those this run did not measure keep their old row.
      const at = parts.findIndex((p) => title(p) === GLANCE_TITLE);
      if (at >= 0) parts[at] = mergeRows(sec, parts[at]!, false);
      else parts.splice(1, 0, sec);
      continue;
    }
    if (title(sec).startsWith('## Targets')) {
      const at = parts.findIndex((p) => title(p).startsWith('## Targets'));
      if (at >= 0) parts[at] = mergeRows(parts[at]!, sec);
      else parts.push(sec);
      continue;
    }
    const at = parts.findIndex((p) => title(p) === title(sec));
    if (at >= 0) parts[at] = sec;
    else {
      const targets = parts.findIndex((p) => title(p).startsWith('## Targets'));
      parts.splice(targets >= 0 ? targets : parts.length, 0, sec);
    }
  }
  return parts.join('');
}

/**
 * The table of `into` with the rows of `from` added: a row whose first cell `into` has replaces it
 * (unless `replace` is false: then `into`'s stays); a new one goes after the last row, unless
 * `into` has a row of it annotated by hand (the same first cell followed by ` (`), kept as it is.
 * The targets: `into` is the file's section, `from` the fresh one. The issue's table: `into` is
 * the fresh section (its text is the new run's), `from` the file's, whose other rows stay.
 */
function mergeRows(into: string, from: string, replace = true): string {
  const header = (l: string) => l.startsWith('| target |') || l.startsWith('| measure |');
  const rows = (text: string) => text.split('\n').filter((l) => l.startsWith('| ') && !header(l));
  const first = (row: string) => row.split(' | ', 1)[0]!.slice(2);
  const lines = into.replace(/\n+$/, '').split('\n');
  for (const row of rows(from)) {
    const name = first(row);
    const at = lines.findIndex((l) => l.startsWith('| ') && first(l) === name);
    if (at >= 0) {
      if (replace) lines[at] = row;
    } else if (!lines.some((l) => l.startsWith('| ') && first(l).startsWith(`${name} (`))) {
      const last = lines.map((l) => l.startsWith('|')).lastIndexOf(true);
      lines.splice(last + 1, 0, row);
    }
  }
  return `${lines.join('\n')}\n${into.endsWith('\n\n') ? '\n' : ''}`;
}

interface Machine {
  date: string;
  kernel: string;
  cpus: string;
  node: string;
  bpftrace: string;
  load: string;
  seconds: number;
  command: string;
  reps: number;
}

const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;

function verdict(r: number, target: number, lowerIsBetter = true): string {
  if (!Number.isFinite(r)) return 'n/a';
  return (lowerIsBetter ? r <= target : r >= target) ? 'met' : 'not met';
}

function med(s: Summary): number {
  return s.median;
}

function report(r: Results, m: Machine): string {
  const L: string[] = [];
  L.push('# tracelet vs bpftrace 0.17: benchmark results', '');
  L.push(`- Date: ${m.date}`);
  L.push(`- Machine: Linux ${m.kernel}, ${m.cpus}, Node ${m.node}, ${m.bpftrace}`);
  L.push(`- Load: ${m.load}. Other engineers' builds and tests shared the 2 CPUs, so absolute numbers are noisy; `
    + 'the tools alternate run by run so both see the same conditions.');
  L.push(`- Command: ${code(m.command)} (as root), ${m.seconds.toFixed(0)} s in all`);
  L.push('- Cells are min / median / max; ratio = tracelet ÷ bpftrace of the medians (< 1 means tracelet is lower).', '');

  L.push(...glanceSection(r, m));
  const targets: string[] = [];

  if (r.insns) {
    L.push(...insnsSection(r.insns));
    const ratios = measuredInsnsRatios(r.insns);
    const met = ratios.filter((x) => x <= 1).length;
    const g = summarize(ratios);
    targets.push(`| BPF instructions ≤ 1.0× bpftrace | ${g.min.toFixed(2)}–${g.max.toFixed(2)}× (met for ${met} of ${ratios.length} cases) | ${verdict(g.max, 1)} |`);
  }

  if (r.startup) {
    L.push('## Start-up', '');
    L.push(`${m.reps} runs per tool and program. *Attach*: from spawn until \`__BPFTRACE_NOTIFY_PROBES_ATTACHED\` `
      + 'appears on stderr. *Total*: from spawn to exit (programs ending with `exit()` in BEGIN; the others are '
      + 'stopped with SIGINT once attached, *stop* is SIGINT → exit, which includes detaching and printing the maps). '
      + '*Peak RSS*: `ru_maxrss` from wait4 (a small C wrapper). tracelet\'s runs repeat a command line that ran '
      + 'once before (not measured), as a user\'s second run does: the object comes from the compile cache and, '
      + 'where the program allows, the launcher attaches it before Node starts (prepared runs, README). '
      + 'First runs (cold cache) are in `## Compile cache`.', '');
    L.push('| program | attach ms tracelet | attach ms bpftrace | ratio | total or stop ms tracelet | bpftrace | ratio | peak RSS MiB tracelet | bpftrace | ratio |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    const attachRatios: number[] = [];
    const rssRatios: number[] = [];
    for (const row of r.startup) {
      const at = summarize(row.attach.tracelet), ab = summarize(row.attach.bpftrace);
      const exits = row.stop.tracelet.length === 0 && row.stop.bpftrace.length === 0;
      const tt = summarize(exits ? row.total.tracelet : row.stop.tracelet);
      const tb = summarize(exits ? row.total.bpftrace : row.stop.bpftrace);
      const rt = summarize(row.rss.tracelet), rb = summarize(row.rss.bpftrace);
      attachRatios.push(med(at) / med(ab));
      rssRatios.push(med(rt) / med(rb));
      L.push(`| ${code(row.program)} | ${fmtSummary(at)} | ${fmtSummary(ab)} | ${ratio(at, ab)} | ${exits ? 'total ' : 'stop '}${fmtSummary(tt)} | `
        + `${fmtSummary(tb)} | ${ratio(tt, tb)} | ${fmtSummary(rt, 1)} | ${fmtSummary(rb, 1)} | ${ratio(rt, rb)} |`);
    }
    const fails = r.startup.flatMap((row) => row.failures.map((f) => `${row.name}: ${f}`));
    if (fails.length) L.push('', 'Failed runs (left out of the table):', '', ...fails.map((f) => `- ${f}`));
    const ga = summarize(attachRatios), gr = summarize(rssRatios);
    targets.push(`| time to attach ≤ 0.5× bpftrace | ${ga.median.toFixed(2)}× (median over programs; ${ga.min.toFixed(2)}–${ga.max.toFixed(2)}×) | ${verdict(ga.median, 0.5)} |`);
    targets.push(`| peak RSS ≤ bpftrace | ${gr.median.toFixed(2)}× (${gr.min.toFixed(2)}–${gr.max.toFixed(2)}×) | ${verdict(gr.max, 1)} |`);
    L.push('');
  }

  if (r.cache) L.push(...cacheSection(r.cache, m.reps));

  if (r.perEvent) {
    L.push('## Per-event kernel cost', '');
    L.push('`kernel.bpf_stats_enabled=1` (restored afterwards); `run_time_ns / run_cnt` of the program attached to '
      + '`tracepoint:syscalls:sys_enter_getppid`, read with `bpftool prog show` while the tracer still runs, after a '
      + 'workload of N `syscall(SYS_getppid)` calls (the only caller, so no filter is needed and neither tracer '
      + 'sees its own syscalls). *insns*: translated (xlated) instructions of that program. *workload ns/call*: '
      + 'what the traced process feels (untraced in the last column).', '');
    L.push('| program | N | ns/event tracelet | ns/event bpftrace | ratio | insns tracelet | insns bpftrace | workload ns/call tracelet | bpftrace | untraced |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    const ratios: number[] = [];
    for (const row of r.perEvent) {
      const t = summarize(row.nsPerEvent.tracelet), b = summarize(row.nsPerEvent.bpftrace);
      ratios.push(med(t) / med(b));
      L.push(`| ${code(row.program)} | ${fmt(row.calls)} | ${fmtSummary(t, 1)} | ${fmtSummary(b, 1)} | ${ratio(t, b)} | `
        + `${fmt(med(summarize(row.insns.tracelet)))} | ${fmt(med(summarize(row.insns.bpftrace)))} | `
        + `${fmtSummary(summarize(row.workloadNs.tracelet))} | ${fmtSummary(summarize(row.workloadNs.bpftrace))} | `
        + `${fmtSummary(summarize(row.workloadNs.none))} |`);
    }
    const fails = r.perEvent.flatMap((row) => row.failures.map((f) => `${row.name}: ${f}`));
    if (fails.length) L.push('', 'Failed runs:', '', ...fails.map((f) => `- ${f}`));
    const g = summarize(ratios);
    targets.push(`| per-event ns ≤ 1.0× | ${g.min.toFixed(2)}–${g.max.toFixed(2)}× over the ${ratios.length} programs | ${verdict(g.max, 1)} |`);
    L.push('');
  }

  if (r.throughput) {
    const tp = r.throughput;
    L.push('## printf throughput', '');
    L.push(`${code(tp.program)}, the workload paced at an offered rate for about a second (unpaced: as fast as it goes `
      + 'while traced). *delivered*: event lines that reached the tracer\'s stdout (a pipe read by the harness); '
      + '*lost*: the sum of `Lost N events` messages; *peak RSS* (MiB) and *CPU* (ms): the tracer\'s whole run, from wait4.', '');
    L.push('| offered calls/s | tracelet achieved/s | delivered / N | lost | peak RSS | CPU | bpftrace achieved/s | delivered / N | lost | peak RSS | CPU |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|');
    const offers = [...new Set(tp.points.tracelet.concat(tp.points.bpftrace).map((p) => p.offered))];
    for (const o of offers) {
      const t = tp.points.tracelet.filter((p) => p.offered === o);
      const b = tp.points.bpftrace.filter((p) => p.offered === o);
      const cell = (ps: typeof t) => ps.length === 0 ? 'n/a | n/a | n/a | n/a | n/a'
        : `${ps.map((p) => fmt(p.achieved)).join(', ')} | ${ps.map((p) => `${fmt(p.delivered)}/${fmt(p.calls)}`).join(', ')} | ${ps.map((p) => fmt(p.lost)).join(', ')}`
          + ` | ${ps.map((p) => p.rssMib.toFixed(1)).join(', ')} | ${ps.map((p) => fmt(Math.round(p.cpuMs))).join(', ')}`;
      L.push(`| ${o ? fmt(o) : 'unpaced'} | ${cell(t)} | ${cell(b)} |`);
    }
    const mt = maxLossless(tp.points.tracelet), mb = maxLossless(tp.points.bpftrace);
    const lt = lossStarts(tp.points.tracelet), lb = lossStarts(tp.points.bpftrace);
    L.push('');
    L.push(`Highest rate delivered with no loss: tracelet ${fmt(mt)}/s, bpftrace ${fmt(mb)}/s `
      + `(${mb > 0 ? `${(mt / mb).toFixed(1)}×` : 'n/a'}). Loss starts: tracelet ${lt ? `at ${fmt(lt.achieved)}/s` : 'not within the rates tried'}, `
      + `bpftrace ${lb ? `at ${fmt(lb.achieved)}/s` : 'not within the rates tried'}.`);
    if (tp.failures.length) L.push('', 'Failed runs:', '', ...tp.failures.map((f) => `- ${f}`));
    L.push('');
  }

  if (r.printfOverhead) L.push(...printfOverheadSection(r.printfOverhead));

  if (r.mapDump) {
    L.push('## Map dump at exit', '');
    L.push('`tracepoint:syscalls:sys_enter_getppid { @[nsecs] = count(); }` filled by the workload (one key per call), '
      + '`BPFTRACE_MAP_KEYS_MAX=200000` for both; time from SIGINT to exit (detach, read, sort and print). '
      + 'The 1-key row is the fixed cost of stopping; the difference is the dump.', '');
    L.push('| keys | SIGINT→exit ms tracelet | bpftrace | ratio | keys printed tracelet | bpftrace |');
    L.push('|---|---|---|---|---|---|');
    for (const row of r.mapDump) {
      const t = summarize(row.stopMs.tracelet), b = summarize(row.stopMs.bpftrace);
      L.push(`| ${fmt(row.keys)} | ${fmtSummary(t)} | ${fmtSummary(b)} | ${ratio(t, b)} | `
        + `${fmt(med(summarize(row.printed.tracelet)))} | ${fmt(med(summarize(row.printed.bpftrace)))} |`);
    }
    const alone = dumpAloneMs(r.mapDump);
    if (alone) {
      const big = r.mapDump[1]!;
      const nt = alone.tracelet, nb = alone.bpftrace;
      L.push('', `Dump alone (median difference of the rows): tracelet ${fmt(nt)} ms, bpftrace ${fmt(nb)} ms: `
        + `tracelet is ${(nb / nt).toFixed(1)}× faster.`);
      targets.push(`| map dump ≥ 2× faster | ${(nb / nt).toFixed(1)}× faster (dump alone); ${(med(summarize(big.stopMs.bpftrace)) / med(summarize(big.stopMs.tracelet))).toFixed(1)}× SIGINT→exit | ${verdict(nb / nt, 2, false)} |`);
    }
    const fails = r.mapDump.flatMap((row) => row.failures.map((f) => `${row.keys} keys: ${f}`));
    if (fails.length) L.push('', 'Failed runs:', '', ...fails.map((f) => `- ${f}`));
    L.push('');
  }

  if (r.compile) {
    const c = r.compile;
    L.push('## Compile (300-line script)', '');
    L.push(`A generated ${c.lines}-line script (bench/script300.ts: 25 tracepoint probes, each with a filter, a variable, `
      + 'if/else, count/sum/avg/hist/lhist maps and a printf). tracelet: parse + typecheck + codegen + LLVM '
      + '(IR → BPF ELF) in process through its library functions, the first compile in a fresh process (cold) and '
      + 'three more (warm); the addon\'s dlopen is not included. bpftrace 0.17 has no library API; '
      + '`bpftrace --emit-elf FILE script` parses, checks, generates and compiles without loading; its compile time '
      + 'is that process on the 300-line script minus the same on `BEGIN { }`.', '');
    L.push('| | ms (min / median / max) |', '|---|---|');
    L.push(`| tracelet cold | ${fmtSummary(summarize(c.traceletCold))} |`);
    L.push(`| tracelet warm | ${fmtSummary(summarize(c.traceletWarm))} |`);
    for (const k of ['parse', 'typecheck', 'codegen', 'llvm'] as const) L.push(`| — warm ${k} | ${fmtSummary(summarize(c.traceletStages[k]))} |`);
    L.push(`| — parse + typecheck, JIT-warm (median of 100 per process) | ${fmtSummary(summarize(c.traceletFrontEnd), 2)} |`);
    L.push(`| bpftrace --emit-elf, 300 lines (process) | ${fmtSummary(summarize(c.bpftrace300))} |`);
    L.push(`| bpftrace --emit-elf, \`BEGIN { }\` (process) | ${fmtSummary(summarize(c.bpftrace1))} |`);
    L.push(`| bpftrace compile (difference) | ${fmtSummary(c.bpftraceNet)} |`);
    L.push('', `Ratio tracelet cold ÷ bpftrace: ${ratio(summarize(c.traceletCold), c.bpftraceNet)}; warm: ${ratio(summarize(c.traceletWarm), c.bpftraceNet)}.`);
    const frontEnd = summarize(c.traceletFrontEnd);
    if (frontEnd.n) targets.push(`| parse + typecheck of 300 lines < 5 ms | ${fmt(frontEnd.median, 2)} ms (JIT-warm median) | ${verdict(frontEnd.median, 5)} |`);
    if (c.failures.length) L.push('', 'Failed runs:', '', ...c.failures.map((f) => `- ${f}`));
    L.push('');
  }

  if (r.stacks) {
    L.push(...stacksSection(r.stacks, m.command));
    targets.push(...stacksTargets(r.stacks));
  }

  if (targets.length) {
    L.push('## Targets (reported, not asserted)', '', '| target | measured | |', '|---|---|---|', ...targets, '');
  }
  return L.join('\n');
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
