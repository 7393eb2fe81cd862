// BPF code size: each program of a set of representative one-liners and example scripts, loaded
// by tracelet and by bpftrace 0.17 and read while attached — its translated (xlated) instruction
// count from `bpftool prog show` (bytes_xlated / 8: what the verifier accepted, after the
// kernel's own rewrites and dead-code removal, so both tracers are counted the same way).
// Instruction counts do not vary between runs, so one run per tracer and program is enough.
//
//   node --import tsx bench/insns.ts [DUMP_DIR]   (root; prints the Markdown section for
//                                                 RESULTS.md; with DUMP_DIR, also each program's
//                                                 `bpftool prog dump xlated` listing there)
// Also `npm run bench -- --only insns --merge`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildHelpers, ensureBpftrace, ensureTracefs, loadAverage, progInfo, programIdsOf, ROOT, runTracer, TRACERS,
  type Helpers, type ProgInfo, type TracerName,
} from './lib.js';

export interface InsnsCase {
  readonly name: string;
  /** A one-liner (-e) … */
  readonly program?: string;
  /** … or a script of examples/. */
  readonly file?: string;
}

export const INSNS_CASES: readonly InsnsCase[] = [
  { name: 'count', program: 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }' },
  { name: 'count by comm', program: 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }' },
  { name: 'hist of args->ret', program: 'tracepoint:syscalls:sys_exit_read { @ = hist(args->ret); }' },
  { name: 'lhist', program: 'tracepoint:syscalls:sys_enter_write { @ = lhist(args->count, 0, 1000, 100); }' },
  { name: 'printf, 3 args', program: 'tracepoint:syscalls:sys_enter_kill { printf("%d %s %d\\n", pid, comm, args->sig); }' },
  { name: 'kstack count', program: 'profile:hz:99 { @[kstack] = count(); }' },
  {
    name: 'filter, str compare',
    program: 'tracepoint:syscalls:sys_enter_openat /comm == "bash"/ { @[str(args->filename)] = count(); }',
  },
  { name: 'examples/killsnoop.bt', file: 'examples/killsnoop.bt' },
  { name: 'examples/opensnoop.bt', file: 'examples/opensnoop.bt' },
  { name: 'examples/readsize.bt', file: 'examples/readsize.bt' },
  { name: 'examples/runqlat.bt', file: 'examples/runqlat.bt' },
  { name: 'examples/syscount.bt', file: 'examples/syscount.bt' },
];

export interface InsnsRow {
  readonly case: InsnsCase;
  /** Each program the tracer loaded (BEGIN/END ones included), by name. */
  readonly programs: Record<TracerName, ProgInfo[]>;
  readonly failures: string[];
}

export async function benchInsns(helpers: Helpers, log: (s: string) => void, dumpDir?: string): Promise<InsnsRow[]> {
  const rows: InsnsRow[] = [];
  for (const [i, c] of INSNS_CASES.entries()) {
    const row: InsnsRow = { case: c, programs: { tracelet: [], bpftrace: [] }, failures: [] };
    const args = c.file ? [join(ROOT, c.file)] : ['-e', c.program!];
    for (const tracer of TRACERS) {
      const r = await runTracer(helpers, tracer, args, {
        stop: true,
        timeoutMs: 120_000,
        whileAttached: (pid) => {
          const progs = progInfo(programIdsOf(pid)).sort((a, b) => a.name.localeCompare(b.name));
          row.programs[tracer].push(...progs);
          if (dumpDir) {
            for (const p of progs) {
              const dump = spawnSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(p.id)], { encoding: 'utf8' }).stdout;
              writeFileSync(join(dumpDir, `${i}-${tracer}-${p.name}.txt`), `# ${c.program ?? c.file}\n${dump}`);
            }
          }
        },
      });
      if (row.programs[tracer].length === 0) row.failures.push(`${tracer}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    }
    log(`  ${c.name.padEnd(22)} tracelet ${describe(row.programs.tracelet)}  bpftrace ${describe(row.programs.bpftrace)}`
      + (row.failures.length ? `  (${row.failures.join('; ')})` : ''));
    rows.push(row);
  }
  return rows;
}

function describe(progs: readonly ProgInfo[]): string {
  if (progs.length > 6) {
    const sizes = progs.map((p) => p.xlatedInsns);
    return `${progs.length} programs of ${Math.min(...sizes)}–${Math.max(...sizes)}`;
  }
  return progs.map((p) => `${p.name} ${p.xlatedInsns}`).join(', ') || 'n/a';
}

/** BEGIN and END run once; bpftrace 0.17 no longer holds them once attached, so neither side counts them. */
const runsOnce = (p: ProgInfo) => /^(BEGIN|END)$|^tl_(begin|end)_/.test(p.name);

/** The instructions of the programs that run per event. */
const total = (progs: readonly ProgInfo[]) => progs.filter((p) => !runsOnce(p)).reduce((n, p) => n + p.xlatedInsns, 0);

/** tracelet ÷ bpftrace of each case's total (NaN where a tracer loaded nothing). */
export function insnsRatios(rows: readonly InsnsRow[]): number[] {
  return rows.map((row) => total(row.programs.tracelet) / total(row.programs.bpftrace));
}

/** insnsRatios of the cases both tracers loaded. */
export function measuredInsnsRatios(rows: readonly InsnsRow[]): number[] {
  return insnsRatios(rows).filter((r) => Number.isFinite(r) && r > 0);
}

/** The RESULTS.md section: each tracer's programs and their totals, the ratio against the target. */
export function insnsSection(rows: readonly InsnsRow[]): string[] {
  const L = ['## BPF instructions (issue 17)', ''];
  L.push('Translated (xlated) instructions of every program each tracer loads for the case, BEGIN and END '
    + 'included (`bpftool prog show`: bytes_xlated / 8, after the verifier\'s rewrites and dead-code removal), '
    + 'read while attached; `node --import tsx bench/insns.ts DIR` also writes each `bpftool prog dump xlated`. '
    + 'Counts are exact and do not vary between runs. The totals and the ratio count the programs that run per '
    + 'event: BEGIN and END run once, and bpftrace 0.17 no longer holds them once attached (tracelet\'s '
    + '`tl_begin_*`/`tl_end_*` are listed, not counted). Target: tracelet ≤ 1.0× bpftrace per case.', '');
  L.push('| case | tracelet | bpftrace | tracelet programs | bpftrace programs | ratio | target | met? |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const [i, row] of rows.entries()) {
    const t = total(row.programs.tracelet), b = total(row.programs.bpftrace);
    const what = row.case.program ? `\`${row.case.program}\`` : row.case.file!;
    const r = insnsRatios(rows)[i]!;
    L.push(`| ${what} | ${t || 'n/a'} | ${b || 'n/a'} | ${describe(row.programs.tracelet)} | ${describe(row.programs.bpftrace)} | `
      + `${Number.isFinite(r) && r > 0 ? `${r.toFixed(2)}×` : 'n/a'} | ≤ 1.0× | ${Number.isFinite(r) && r > 0 ? (r <= 1 ? 'met' : 'not met') : 'n/a'} |`);
  }
  const fails = rows.flatMap((row) => row.failures.map((f) => `${row.case.name}: ${f}`));
  if (fails.length) L.push('', 'Failed runs:', '', ...fails.map((f) => `- ${f}`));
  L.push('');
  return L;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureBpftrace();
  ensureTracefs();
  const dumpDir = process.argv[2];
  if (dumpDir) mkdirSync(dumpDir, { recursive: true });
  const helpers = buildHelpers();
  try {
    console.log(`load average before: ${loadAverage()}`);
    const rows = await benchInsns(helpers, console.log, dumpDir);
    console.log(`load average after: ${loadAverage()}\n\n${insnsSection(rows).join('\n')}`);
  } finally {
    helpers.cleanup();
  }
}
