// The command starts through a small native launcher (src/launcher/launcher.c, built into
// build/Release/tracelet): bin/tracelet execs it without running any other command, and both
// work through symlinks from anywhere (as npm links bin/tracelet). What the launcher hands to
// Node for --timings does not reach the commands tracelet starts.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { BIN, runTracelet } from '../helpers/run.js';

const LAUNCHER = fileURLToPath(new URL('../../build/Release/tracelet', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tl-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the launcher', () => {
  it('runs tracelet, directly and through symlinks to it or to bin/tracelet', () => {
    symlinkSync(LAUNCHER, join(dir, 'launcher'));
    symlinkSync(BIN, join(dir, 'tracelet'));
    for (const cmd of [LAUNCHER, join(dir, 'launcher'), join(dir, 'tracelet')]) {
      const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', cwd: '/' });
      expect(r.stdout, cmd).toBe(`tracelet v${VERSION}\n`);
    }
  });

  it('installed as bpftrace (a drop-in link), --version answers as the bpftrace it follows, for scripts that check it', () => {
    symlinkSync(BIN, join(dir, 'bpftrace'));
    const r = spawnSync(join(dir, 'bpftrace'), ['--version'], { encoding: 'utf8', cwd: '/' });
    expect(r.stdout).toBe(`bpftrace v0.17.0 (tracelet v${VERSION})\n`);
    // The marker does not reach the commands it starts.
    expect(spawnSync(join(dir, 'bpftrace'), ['-q', '-e', 'BEGIN { }', '-c', '/usr/bin/env'], { encoding: 'utf8' }).stdout).not.toContain('TRACELET_AS_BPFTRACE');
  });

  it('bin/tracelet starts no command of its own before the launcher', () => {
    // strace would see every execve; with the launcher in place there are exactly three:
    // the script (sh), the launcher, node.
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', join(dir, 'trace'), BIN, '--version'], { encoding: 'utf8' });
    expect(r.error, 'strace is installed by scripts/setup.sh for the tests').toBeUndefined();
    const trace = spawnSync('cat', [join(dir, 'trace')], { encoding: 'utf8' }).stdout;
    const execs = trace.split('\n').filter((l) => /execve\(".*", .*\) = 0/.test(l)).map((l) => /execve\("([^"]*)"/.exec(l)![1]!);
    expect(execs).toEqual([BIN, expect.stringMatching(/\/build\/Release\/tracelet$/), expect.stringMatching(/\/node$/)]);
  });

  it('leaves TRACELET_START_NS out of the environment of the commands tracelet starts', () => {
    const r = runTracelet(['-q', '-e', 'BEGIN { }', '-c', '/usr/bin/env']);
    expect(r.stdout).toContain('PATH=');
    expect(r.stdout).not.toContain('TRACELET_START_NS');
  });
});
