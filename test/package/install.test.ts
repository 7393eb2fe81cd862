// tracelet as an npm package: `npm pack` of this checkout, installed into a temporary project and
// globally (under a temporary prefix, so the machine's own /usr is left alone), builds its addon
// at install time and gives a working `tracelet` command. Uses the built dist/ as it is (packing
// with --ignore-scripts: prepack would rebuild dist/ under the other tests' feet). The project
// imports the API and typechecks against its declarations.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_TIMEOUT = 300_000;

let dir: string;
let tarball: string;

function npm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracelet-package-'));
  const name = npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT).trim().split('\n').pop()!;
  tarball = join(dir, name);
}, INSTALL_TIMEOUT);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs an installed tracelet command to completion. */
function run(bin: string, args: readonly string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
}

describe('npm package', () => {
  it('installs into a project: the bin runs a one-liner, the API imports and runs, its types check', () => {
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-tracelet', version: '1.0.0', private: true, type: 'module' }));
    npm(['install', tarball], project);
    const pkg = join(project, 'node_modules/tracelet');
    // Built by the install step, not shipped.
    expect(existsSync(join(pkg, 'build/Release/tracelet_native.node'))).toBe(true);
    expect(existsSync(join(pkg, 'build/Release/tracelet_llvm.node'))).toBe(true);
    const r = run(join(project, 'node_modules/.bin/tracelet'), ['-e', 'BEGIN { printf("sum %d\\n", 40 + 2); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nsum 42\n\n\n');
    expect(r.status).toBe(0);

    // The API, as a project imports it (ESM, through package.json's exports), and its types.
    writeFileSync(join(project, 'use.mjs'), `import { compile, trace, TraceletError } from 'tracelet';
const bad = compile('BEGIN { @x = nosuch; }', { object: false });
console.log(bad.diagnostics[0].code, bad.diagnostics[0].line, bad.diagnostics[0].column);
const session = await trace('BEGIN { printf("api %d", 6 * 7); exit(); }');
for await (const e of session.events()) console.log(e.kind, e.kind === 'printf' ? e.args[0] : '');
console.log(typeof TraceletError);
`);
    const api = spawnSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    expect(api.stderr).toBe('');
    expect(api.stdout).toBe('E_UNKNOWN_IDENTIFIER 1 14\nprintf 42n\nexit \nfunction\n');
    writeFileSync(join(project, 'use.ts'), `import { trace, type TraceEvent } from 'tracelet';
export async function texts(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of (await trace('BEGIN { exit(); }')).events()) if (e.kind === 'printf') out.push(e.text);
  const last: TraceEvent = { kind: 'lost', count: 1 };
  return [...out, last.kind];
}
`);
    const tsc = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node', 'use.ts'], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
  }, INSTALL_TIMEOUT);

  it('installs globally: the command and its man page', () => {
    const prefix = join(dir, 'global');
    npm(['install', '-g', '--prefix', prefix, tarball], dir);
    expect(existsSync(join(prefix, 'share/man/man1/tracelet.1'))).toBe(true);
    const r = run(join(prefix, 'bin/tracelet'), ['-e', 'BEGIN { printf("%s\\n", "global"); exit(); }']);
    expect(r.stdout).toBe('Attaching 1 probe...\nglobal\n\n\n');
    expect(r.status).toBe(0);
  }, INSTALL_TIMEOUT);

  it('says in one sentence which Debian packages to install when the build tools are missing', () => {
    const project = join(dir, 'project');
    // The installed copy's install step, with an empty PATH: no compiler, make, python or LLVM.
    const r = spawnSync(process.execPath, [join(project, 'node_modules/tracelet/scripts/install.mjs')], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tracelet: building its native addon needs .*LLVM 14.*: install them with `apt-get install g\+\+ make binutils python3 llvm-14-dev`\.$/);
  });
});
