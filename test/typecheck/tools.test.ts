// The front end accepts every tool shipped with Debian's bpftrace package and every example of
// ours: parsed and type-checked against this machine's kernel (BTF, tracefs, headers).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { renderDiagnostics } from '../../src/diagnostics/render.js';

const kernel = new SystemKernel();
kernel.ensureTracefs();

function programs(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bt')).sort().map((f) => `${dir}/${f}`) : [];
}

const tools = programs('/usr/sbin');

/**
 * Tools that name something this machine does not have; bpftrace 0.17 fails on them here too.
 * The front end must reject them with exactly this error, pointing at the missing thing.
 */
const MISSING_HERE: Record<string, string> = {
  // CONFIG_KALLSYMS_ALL is off: /proc/kallsyms has no data symbols.
  '/usr/sbin/loads.bt': 'E_SYMBOL',
  // Kernel 6.18 renamed cfs_rq.nr_running (to nr_queued).
  '/usr/sbin/runqlen.bt': 'E_UNKNOWN_FIELD',
  // glibc 2.36: pthread_create lives in libc; libpthread.so.0 is an empty stub.
  '/usr/sbin/threadsnoop.bt': 'E_UNKNOWN_FUNCTION',
};
const examples = programs(fileURLToPath(new URL('../../examples', import.meta.url)));

describe('front end accepts real programs', () => {
  it('finds the bpftrace tools (the test set-up installs bpftrace)', () => {
    expect(tools.length).toBeGreaterThan(30);
  });

  it.each([...tools, ...examples])('%s', (path) => {
    const text = readFileSync(path, 'utf8');
    const parsed = parse(text);
    const checked = typecheck(parsed.program, kernel);
    const errors = [...parsed.diagnostics, ...checked.diagnostics].filter((d) => d.severity === 'error');
    const missing = MISSING_HERE[path];
    if (missing) expect(errors.map((d) => d.code)).toEqual([missing]);
    else expect(renderDiagnostics(errors, { name: path, text })).toBe('');
  });
});
