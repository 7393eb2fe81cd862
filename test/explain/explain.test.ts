// --explain: each statement with the code it compiles to, the helpers and the maps; the same
// source lines in what the kernel holds (bpftool's linum view); every example explained.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mapName, type MapRef, type Stmt } from '../../src/model/ast.js';
import { walk } from '../../src/model/walk.js';
import { parse } from '../../src/parser/index.js';
import { runTracelet, startTracelet } from '../helpers/run.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tl-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run of instruction lines: `      12: r1 = map[@calls]`. */
const INSNS = '( +\\d+: .+\\n)+';

/** The maps a script names; the lines holding a statement of a probe, and those of `$x = ...`. */
function scriptParts(text: string): { maps: Set<string>; lines: Set<number>; scratch: Set<number> } {
  const maps = new Set<string>();
  const lines = new Set<number>();
  const scratch = new Set<number>();
  for (const probe of parse(text, { params: ['/bin/true'] }).program.probes) {
    walk(probe.body, (node) => {
      if (node.kind === 'MapRef') maps.add(mapName(node as MapRef));
      const s = node as Stmt;
      if (s.kind === 'AssignStmt' && s.target.kind === 'Variable') scratch.add(s.span.line);
      else if (s.kind.endsWith('Stmt') && s.kind !== 'BlockStmt') lines.add(s.span.line);
    });
  }
  return { maps, lines, scratch };
}

describe('--explain', () => {
  it('lists each statement of a probe, then the instructions it became, the helpers and the maps', () => {
    const r = runTracelet(['--explain', '-e', 'tracepoint:syscalls:sys_enter_openat /pid > 1/ { @calls[comm] = count(); @flags = hist(args->flags); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tl_tp_0: tracepoint:syscalls:sys_enter_openat {2}\[section tracepoint\/syscalls\/sys_enter_openat, \d+ instructions\]\n/);
    // Statements in source order, each followed by its own instructions.
    expect(r.stdout).toMatch(new RegExp(`\\n {4}1 \\| /pid > 1/\\n${INSNS} {4}1 \\| @calls\\[comm\\] = count\\(\\)\\n${INSNS}`));
    expect(r.stdout).toMatch(/\n {4}1 \| @calls\[comm\] = count\(\)\n( +\d+: .+\n)*? +\d+: call bpf_get_current_comm#16\n/);
    expect(r.stdout).toMatch(/ +\d+: r1 = map\[@calls\]\n/);
    expect(r.stdout).toMatch(/\n {2}helpers called: .*bpf_get_current_pid_tgid \(1x\), bpf_get_current_comm \(1x\)/);
    expect(r.stdout).toContain([
      'maps:',
      '  @calls: count(), BPF_MAP_TYPE_PERCPU_HASH, 4096 entries',
      '      key:   string[16] (16 bytes)',
      '      value: count (8 bytes) per CPU',
      '  @flags: hist(), BPF_MAP_TYPE_PERCPU_ARRAY, 1 entry',
      '      key:   u32 zero (4 bytes)',
      '      value: hist, 66 buckets of u64 counts (528 bytes) per CPU',
    ].join('\n'));
    expect(r.stdout).toContain('\n  tl_stopped: global u64 (.bss.tl_stopped)');
  });

  it('says what a multi-uprobe program\'s names map is for', () => {
    const r = runTracelet(['--explain', '-e', 'uprobe:/lib/x86_64-linux-gnu/libc.so.6:strto* { @[func] = count(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n {2}tl_up_0_names: BPF_MAP_TYPE_ARRAY: attach cookie -> the uprobe's func and probe/);
  });

  it('names the lines of a file, and a map keyed by a tuple shows the offsets of its parts', () => {
    const file = join(dir, 'two.bt');
    writeFileSync(file, 'BEGIN\n{\n  @start[pid, comm] = nsecs;\n  printf("hi\\n");\n  exit();\n}\n');
    const r = runTracelet(['--explain', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\n {4}3 \\| @start\\[pid, comm\\] = nsecs\\n${INSNS}(.*\\n)* {4}4 \\| printf\\("hi\\\\n"\\)\\n${INSNS}(.*\\n)* {4}5 \\| exit\\(\\)\\n`));
    expect(r.stdout).toContain('      key:   (uint64, string[16]) = { uint64 at 0, string[16] at 8 } (24 bytes)');
  });

  it('lists the statements whose code is folded into the code that uses them', () => {
    const r = runTracelet(['--explain', '-e', 'BEGIN { $a = 1; @x = $a; }']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('\n  no instructions of their own (folded into the code that uses them):\n    1 | $a = 1\n');
    expect(r.stdout).toMatch(/\n {4}1 \| @x = \$a\n +\d+: /);
  });

  it('--explain=ir shows the LLVM IR of each statement', () => {
    const r = runTracelet(['--explain=ir', '-e', 'BEGIN { @x = 1; printf("%d\\n", @x); }']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tl_begin_0:\n/);
    expect(r.stdout).toMatch(/\n {4}1 \| @x = 1\n( {8}.+\n)*? {8}%t\d+ = call i64 inttoptr \(i64 2 to /);
    expect(r.stdout).toMatch(/@tl_x .*; map @x\n/);
    expect(r.stdout).toMatch(/\n {4}1 \| printf\("%d\\n", @x\)\n( {8}.+\n)*? {8}%t\d+ = call i8\* inttoptr \(i64 131 to /);
  });

  describe('every example', () => {
    // Arguments that keep every statement's code (with offcputime's defaults, 0 µs..unbounded, its
    // duration test is constant and LLVM folds it away).
    const ARGS: Record<string, (target: string) => string[]> = {
      'usdt.bt': (target) => [target],
      'offcputime.bt': () => ['0', '10', '1000000'],
    };
    const target = join(dir, 'target');
    execFileSync('gcc', ['-O0', '-no-pie', '-o', target, join(FIXTURES, 'probes/target.c')]);
    const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.bt'));

    it.each(examples)('%s', (example) => {
      const text = readFileSync(join(EXAMPLES, example), 'utf8');
      const r = runTracelet(['--explain', join(EXAMPLES, example), ...(ARGS[example]?.(target) ?? [])]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^tl_\\w+: .+\\n {3,}\\d+ \\| .+\\n${INSNS}`));
      // Every map the script names is described; every line with a statement is shown with its
      // instructions (a scratch variable's may be folded into the code that uses it).
      const { maps, lines, scratch } = scriptParts(text);
      for (const map of maps) expect(r.stdout, map).toContain(`\n  ${map}: `);
      const withCode = new Set([...r.stdout.matchAll(/^ +(\d+) \| .*\n +\d+: /gm)].map((m) => Number(m[1])));
      const listed = new Set([...r.stdout.matchAll(/^ +(\d+) \| /gm)].map((m) => Number(m[1])));
      const missing = [...lines].filter((line) => !withCode.has(line)).concat([...scratch].filter((line) => !listed.has(line)));
      expect(missing).toEqual([]);
    });
  });
});

describe('bpftool prog dump xlated linum', () => {
  it('shows the script lines (file:line) in the program the kernel holds', async () => {
    // A file of its own: its path tells this run's program apart from anyone else's.
    const file = join(dir, 'linum.bt');
    writeFileSync(file, 'tracepoint:syscalls:sys_enter_getppid\n{\n  @calls[comm] = count();\n}\n');
    const t = startTracelet([file]);
    try {
      await t.attached;
      const listed = JSON.parse(execFileSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' })) as { id: number; name?: string }[];
      const dumps = listed.filter((p) => p.name === 'tl_tp_0')
        .map((p) => spawnSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(p.id), 'linum'], { encoding: 'utf8' }).stdout ?? '');
      const ours = dumps.find((d) => d.includes(`[file:${file} `));
      expect(ours).toBeDefined();
      expect(ours).toContain(`; @calls[comm] = count(); [file:${file} line_num:3 line_col:3]\n`);
      expect(ours).toContain(`; tracepoint:syscalls:sys_enter_getppid [file:${file} line_num:1 `);
    } finally {
      t.child.kill('SIGINT');
      await t.done;
    }
  });
});
