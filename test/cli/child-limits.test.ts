// bin/tracelet raises its own stack limit for deeply nested programs; the commands it starts
// (-c, system()) get the caller's limit and environment back, as if bpftrace had started them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/run.js';

/** Runs tracelet from a shell whose soft stack limit is 8 MiB. */
function fromShell(args: string): string {
  const r = spawnSync('/bin/sh', ['-c', `ulimit -S -s 8192; exec ${BIN} ${args}`], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return r.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'tl-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('commands tracelet starts', () => {
  it("get the caller's stack limit, not tracelet's", () => {
    const script = join(dir, 'limit.sh');
    writeFileSync(script, 'ulimit -s\n');
    expect(fromShell(`-q -e 'BEGIN { }' -c '/bin/sh ${script}'`)).toMatch(/^8192\n/);
    expect(fromShell(`-q --unsafe -e 'BEGIN { system("ulimit -s"); exit(); }'`)).toBe('8192\n\n\n');
  });

  it('do not see the variable that carries it', () => {
    expect(fromShell(`-q -e 'BEGIN { }' -c /usr/bin/env`)).not.toContain('TRACELET_CALLER_STACK_KIB');
  });
});
