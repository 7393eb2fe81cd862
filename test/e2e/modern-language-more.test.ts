// More of bpftrace 0.2x (issue 14) end to end on the real kernel: imports, map declarations,
// probe names, `return`, auto-dereference and builtins.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

/** A private directory (mkdtemp makes it 0700: imports refuse world-writable ones) with these files. */
function files(tree: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-import-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(tree)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('import', () => {
  it('merges probes and macros of a file relative to the importing one, each file once', () => {
    const dir = files({
      'main.bt': 'import "lib/helpers.bt";\nimport "lib/helpers.bt";\nBEGIN { greet(42); exit(); }\n',
      // Importing the importer back adds nothing (bpftrace imports each path once).
      'lib/helpers.bt': 'import "../main.bt";\nimport "more.bt";\nmacro greet(x) { printf("hello %d\\n", x + more()); }\n',
      'lib/more.bt': 'macro more() { 1 }\nBEGIN { printf("more first\\n"); }\n',
    });
    const r = runTracelet([join(dir, 'main.bt')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 2 probes...\nmore first\nhello 43\n\n\n');
  });

  it('imports the .bt files of a directory', () => {
    const dir = files({ 'lib/a.bt': 'BEGIN { printf("a\\n"); }\n', 'lib/b.bt': 'BEGIN { printf("b\\n"); }\n', 'lib/notes.txt': 'not a script' });
    const r = runTracelet(['-e', 'import "lib"; BEGIN { exit(); }'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\na\nb\n\n\n');
  });

  it('points at the import of a missing file, and into an imported file for its errors', () => {
    const dir = files({
      'main.bt': 'import "nothere.bt";\nimport "lib/broken.bt";\nBEGIN { exit(); }\n',
      'lib/broken.bt': 'config = { max_map_keys = 2 }\nBEGIN { $x = ; }\n',
    });
    const r = runTracelet([join(dir, 'main.bt')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `${dir}/main.bt:1:8: error: cannot import 'nothere.bt': there is no ${dir}/nothere.bt\n`
      + 'import "nothere.bt";\n       ^~~~~~~~~~~~\n'
      + `hint: the path is relative to the importing script's directory (${dir})\n`
      + `${dir}/lib/broken.bt:1:12: error: an imported script cannot have a config block\n`
      + 'config = { max_map_keys = 2 }\n           ^~~~~~~~~~~~~~~~\n'
      + 'hint: only the script tracelet runs has one: move this setting there\n'
      + `${dir}/lib/broken.bt:2:14: error: expected an expression, found ';'\n`
      + 'BEGIN { $x = ; }\n             ^\n',
    );
  });

  it('refuses an import after a probe, and a file that is not a .bt script', () => {
    const dir = files({ 'x.h': 'struct s { int a; };\n' });
    const r = runTracelet(['-e', 'BEGIN { exit(); }\nimport "x.h";'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:2:1: error: an import must come before the probes, macros and map declarations\n');
    expect(r.stderr).toContain('hint: move it above line 1\n');
    expect(r.stderr).toContain("stdin:2:8: error: cannot import 'x.h': tracelet imports bpftrace scripts (.bt) only\n");
  });
});
