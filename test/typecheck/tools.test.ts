// The front end accepts every tool shipped with Debian's bpftrace package and every example of
// ours: parsed and type-checked against this machine's kernel (BTF, tracefs, headers).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { MISSING_HERE, programs, tools } from '../helpers/tools.js';

const kernel = new SystemKernel();
kernel.ensureTracefs();

const examples = programs(fileURLToPath(new URL('../../examples', import.meta.url)));
// usdt.bt attaches to the program given as $1: a test program with its USDT probe.
const usdtDir = mkdtempSync(join(tmpdir(), 'tl-tools-'));
const usdtTarget = join(usdtDir, 'target');
afterAll(() => rmSync(usdtDir, { recursive: true, force: true }));
execFileSync('gcc', ['-O0', '-no-pie', '-o', usdtTarget, fileURLToPath(new URL('../fixtures/probes/target.c', import.meta.url))]);
const PARAMS: Record<string, string[]> = { 'usdt.bt': [usdtTarget] };

describe('front end accepts real programs', () => {
  it('finds the bpftrace tools (the test set-up installs bpftrace)', () => {
    expect(tools.length).toBeGreaterThan(30);
  });

  it.each([...tools, ...examples])('%s', (path) => {
    const text = readFileSync(path, 'utf8');
    const params = PARAMS[basename(path)] ?? [];
    const parsed = parse(text, { params });
    const checked = typecheck(parsed.program, kernel, { params });
    const errors = [...parsed.diagnostics, ...checked.diagnostics].filter((d) => d.severity === 'error');
    const missing = MISSING_HERE[path];
    if (missing) expect(errors.map((d) => d.code)).toEqual([missing]);
    else expect(renderDiagnostics(errors, { name: path, text })).toBe('');
  });
});
