// Every deterministic program captured from bpftrace 0.17 (test/fixtures/bpftrace-0.17, with
// extra/) runs through the tracelet CLI: stdout must match byte for byte in text (equal-valued map
// entries compared as sets) and value for value in JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';
import { normalizeJson, normalizeText } from './normalize.js';
import { withHistBeyond4G } from '../helpers/hist-beyond-4g.js';

const DIR = fileURLToPath(new URL('../fixtures/bpftrace-0.17/', import.meta.url));
const read = (name: string) => readFileSync(DIR + name, 'utf8');

/** Programs that need a trigger or a uprobe (11-14) are covered by the differential tests. */
const DETERMINISTIC = [
  ...readdirSync(DIR).filter((f) => /^(0[1-9]|1[0567])_.*\.bt$/.test(f)).map((f) => f.replace(/\.bt$/, '')),
  ...readdirSync(DIR + 'extra').filter((f) => f.endsWith('.bt')).map((f) => 'extra/' + f.replace(/\.bt$/, '')),
];

/** BEGIN runs in the tracer's own process: bpftrace's comm is "bpftrace", ours "tracelet". */
function adjust(name: string, expected: string, ourComm: string): string {
  return name === 'extra/p' ? expected.replace('[bpftrace]', `[${ourComm}]`) : expected;
}

const ourComm = (() => {
  const r = runTracelet(['-e', 'BEGIN { printf("%s", comm); exit(); }']);
  return r.stdout.split('\n')[1] ?? '';
})();

describe('bpftrace 0.17 captures', () => {
  it('finds the captures', () => {
    expect(DETERMINISTIC.length).toBeGreaterThanOrEqual(16);
  });

  for (const name of DETERMINISTIC) {
    const program = read(`${name}.bt`);
    for (const format of ['text', 'json'] as const) {
      it(`${name} (${format})`, () => {
        const r = runTracelet(['-f', format, '-e', program]);
        const expected = withHistBeyond4G(name, format, adjust(name, read(`${name}.${format}.stdout`), ourComm));
        if (name.startsWith('17_')) {
          // The error's wording and layout are tracelet's own; the outcome is bpftrace's.
          expect(r.code).toBe(Number(read(`${name}.${format}.rc`).trim()));
          expect(r.stdout).toBe(expected);
          expect(r.stderr).toMatch(/^stdin:5:\d+: error: type mismatch for @x/);
          return;
        }
        expect(r.code, r.stderr).toBe(0);
        if (name.startsWith('10_')) {
          // Wall-clock time: same lines with the time as a pattern.
          const pattern = (s: string) => s.replace(/\d{2}:\d{2}:\d{2}/g, 'HH:MM:SS').replace(/\d{4}-\d{2}-\d{2}/g, 'YYYY-MM-DD');
          expect(pattern(r.stdout)).toBe(pattern(expected));
          return;
        }
        if (format === 'text') expect(normalizeText(r.stdout)).toBe(normalizeText(expected));
        else expect(normalizeJson(r.stdout)).toEqual(normalizeJson(expected));
      });
    }
  }
});
