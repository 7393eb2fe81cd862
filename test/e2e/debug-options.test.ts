// bpftrace's debugging options, as workshops use them: --emit-llvm FILE, -d, -dd and -v, in the
// layout bpftrace 0.17 prints (compared with it by hand).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';
import { native } from '../../src/runtime/native.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-debug-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROGRAM = 'BEGIN { @x[1] = count(); exit(); }';

describe('debugging options', () => {
  it('--emit-llvm FILE writes FILE.original.ll and FILE.optimized.ll, both valid IR, and runs the program', () => {
    const base = join(dir, 'prog');
    const r = runTracelet(['--emit-llvm', base, '-e', PROGRAM]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('Attaching 1 probe...\n\n\n@x[1]: 1\n');
    const original = readFileSync(`${base}.original.ll`, 'utf8');
    const optimized = readFileSync(`${base}.optimized.ll`, 'utf8');
    expect(original).toContain('define i64 @tl_begin_0(');
    expect(optimized).toContain('define i64 @tl_begin_0(');
    expect(optimized).not.toBe(original);
    for (const ir of [original, optimized]) expect(native().compileIR(ir).readUInt32BE(0)).toBe(0x7f454c46);
    // As in bpftrace, `=FILE` works too; alone, the option still prints the IR and stops.
    expect(runTracelet([`--emit-llvm=${base}2`, '-e', PROGRAM]).code).toBe(0);
    expect(readFileSync(`${base}2.original.ll`, 'utf8')).toContain('define i64 @tl_begin_0(');
    const alone = runTracelet(['--emit-llvm', '-e', PROGRAM]);
    expect(alone.stdout).toMatch(/^; tracelet generated module\n/);
  });

  it('-d prints the AST after parsing and after type checking (with types), then the optimised IR, without running', () => {
    const r = runTracelet(['-d', '-e', PROGRAM]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const typedAt = r.stdout.indexOf('\n\nAST after: type check\n-------------------\n');
    expect(r.stdout.slice(0, typedAt + 1)).toBe(
      '\nAST after: parser\n-------------------\n'
      + 'Program\n'
      + ' Probe\n'
      + '  attachPoints: AttachPoint raw="BEGIN" provider="BEGIN"\n'
      + '  body: Block\n'
      + '   AssignStmt op="="\n'
      + '    target: MapRef name="x"\n'
      + '     IntLiteral value=1\n'
      + '    value: Call name="count"\n'
      + '   ExprStmt\n'
      + '    Call name="exit"\n\n');
    const typed = r.stdout.slice(typedAt);
    expect(typed).toContain('    target: MapRef name="x" :: count\n     IntLiteral value=1 :: int64\n');
    expect(typed).toContain('define i64 @tl_begin_0(i8* %ctx) local_unnamed_addr');
    expect(r.stdout).not.toContain('Attaching');
    expect(r.stdout).not.toContain('Before optimization');
  });

  it('-dd adds the IR before optimisation', () => {
    const r = runTracelet(['-dd', '-e', PROGRAM]);
    expect(r.code).toBe(0);
    const before = r.stdout.indexOf('\nBefore optimization\n-------------------\n\n; tracelet generated module\n');
    const after = r.stdout.indexOf('\nAfter optimization\n------------------\n\n; ModuleID');
    expect(r.stdout.indexOf('AST after: type check')).toBeLessThan(before);
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);
    expect(r.stdout.slice(before, after)).toContain('define i64 @tl_begin_0(i8* %ctx)');
    expect(r.stdout.slice(after)).toContain('local_unnamed_addr');
  });

  it('-v prints each program\'s id and verifier log as bpftrace 0.17 does, and its size and the compile cache\'s use on stderr', () => {
    const r = runTracelet(['-v', '-e', `${PROGRAM} tracepoint:syscalls:sys_enter_close { @c = count(); }`]);
    expect(r.code).toBe(0);
    const block = 'Program ID: \\d+\\n\\nThe verifier log: \\nprocessed \\d+ insns \\(limit 1000000\\)[^\\n]*\\n\\n';
    expect(r.stdout).toMatch(new RegExp(`^Attaching 2 probes\\.\\.\\.\\n\\n${block}\\n${block}\\n\\n@c: \\d+\\n@x\\[1\\]: 1\\n$`));
    expect(r.stderr).toMatch(/^INFO: node count: \d+\nINFO: object cache: [^\n]+\nAttaching BEGIN \(\d+ instructions\)\nAttaching tracepoint:syscalls:sys_enter_close \(\d+ instructions\)\n$/);
    const ids = [...r.stdout.matchAll(/Program ID: (\d+)/g)].map((m) => Number(m[1]));
    expect(ids[1]).toBeGreaterThan(ids[0]!);
  });

  it('-k reports delete() of a key that is not there, as bpftrace 0.17 (on stdout, as its other helper errors)', () => {
    const program = 'BEGIN { @x[1] = 1; delete(@x[2]); delete(@x[1]); @y = 1; delete(@y); delete(@y); exit(); }';
    const text = runTracelet(['-k', '-e', program]);
    const warning = (from: number, to: number) => `stdin:1:${from}-${to}: WARNING: Failed to map_delete_elem: No such file or directory (-2)\n`
      + `${program}\n${' '.repeat(from - 1)}${'~'.repeat(to - from)}\n`;
    expect(text.stderr).toBe('');
    expect(text.stdout).toBe(`Attaching 1 probe...\n${warning(20, 33)}${warning(70, 80)}\n\n\n\n`);
    const json = runTracelet(['-k', '-f', 'json', '-e', program]);
    expect(json.stdout).toBe('{"type": "attached_probes", "data": {"probes": 1}}\n'
      + '{"type": "helper_error", "helper": "map_delete_elem", "retcode": -2, "line": 1, "col": 20}\n'
      + '{"type": "helper_error", "helper": "map_delete_elem", "retcode": -2, "line": 1, "col": 70}\n\n\n');
    expect(runTracelet(['-e', program]).stderr).toBe('');
    // --no-warnings drops them in text (they are warnings), not in JSON (they are records), as bpftrace.
    expect(runTracelet(['-k', '--no-warnings', '-e', program]).stdout).toBe('Attaching 1 probe...\n\n\n\n\n');
    expect(runTracelet(['-k', '--no-warnings', '-f', 'json', '-e', program]).stdout).toBe(json.stdout);
  });

  it('-k reports a refused map update at the place bpftrace 0.17 gives (its lexer starts the `=` at the last blank)', () => {
    const program = 'BEGIN { @x[1]=1; @x[2]=2; @x[3] = 3; exit(); }';
    const env = { BPFTRACE_MAP_KEYS_MAX: '1' };
    const warning = (from: number, to: number) => `stdin:1:${from}-${to}: WARNING: Failed to map_update_elem: Argument list too long (-7)\n`
      + `${program}\n${' '.repeat(from - 1)}${'~'.repeat(to - from)}\n`;
    expect(runTracelet(['-k', '-e', program], { env }).stdout).toBe(`Attaching 1 probe...\n${warning(18, 24)}${warning(33, 34)}\n\n@x[1]: 1\n`);
    expect(runTracelet(['-k', '-f', 'json', '-e', program], { env }).stdout.match(/"col": \d+/g)).toEqual(['"col": 18', '"col": 33']);
  });

  it('--emit-llvm prints the code the run would load (-k and -kk included)', () => {
    const program = 'BEGIN { printf("%s\\n", str(8)); exit(); }';
    const events = (args: string[]) => (runTracelet([...args, '--emit-llvm', '-e', program]).stdout.match(/inttoptr \(i64 131 to/g) ?? []).length;
    // -kk adds the helper_error event of the failed str() read to printf's and exit's events.
    expect(events(['-kk'])).toBe(events([]) + 1);
  });
});
