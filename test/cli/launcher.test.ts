// The command starts through a small native launcher (src/launcher/launcher.c, built into
// build/Release/tracelet): bin/tracelet execs it without running any other command, and both
// work through symlinks from anywhere (as npm links bin/tracelet). What the launcher hands to
// Node for --timings does not reach the commands tracelet starts.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  // Variables meant for the user's Node programs do not reach tracelet's own Node: NODE_OPTIONS
  // with a V8 flag made Node refuse the start-up snapshot (exit 14), NODE_EXTRA_CA_CERTS had it
  // parse every certificate as it started (~80 ms of CPU with Debian's bundle), NODE_DEBUG put
  // Node's debug lines on tracelet's stderr. The commands tracelet runs get them back. Both ways
  // to start are tried: the launcher, and bin/tracelet's own shell code where the launcher is not
  // built (a copy of the package without it).
  it.each([
    ['the launcher', () => BIN],
    ['bin/tracelet without the launcher', () => {
      const pkg = join(dir, 'no-launcher');
      mkdirSync(join(pkg, 'bin'), { recursive: true });
      copyFileSync(BIN, join(pkg, 'bin', 'tracelet'));
      symlinkSync(fileURLToPath(new URL('../../bin/tracelet.js', import.meta.url)), join(pkg, 'bin', 'tracelet.js'));
      symlinkSync(fileURLToPath(new URL('../../dist', import.meta.url)), join(pkg, 'dist'));
      mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
      for (const addon of ['tracelet_native.node', 'tracelet_llvm.node']) symlinkSync(join(LAUNCHER, '..', addon), join(pkg, 'build', 'Release', addon));
      return join(pkg, 'bin', 'tracelet');
    }],
  ])('starts Node without NODE_OPTIONS, NODE_EXTRA_CA_CERTS and NODE_DEBUG, and gives them back to the commands it runs: %s', (_how, command) => {
    const report = join(dir, 'report.sh');
    // -c's command is Node's child: /proc/$PPID/environ is the environment Node started with.
    writeFileSync(report, `for v in NODE_OPTIONS NODE_EXTRA_CA_CERTS NODE_DEBUG; do eval "echo child: $v=\\\${$v-unset}"; done
tr '\\0' '\\n' < /proc/$PPID/environ | grep -E '^NODE_(OPTIONS|EXTRA_CA_CERTS|DEBUG)=' | sed 's/^/node: /'
`);
    const caller = { NODE_OPTIONS: '--max-old-space-size=4096', NODE_EXTRA_CA_CERTS: join(dir, 'no-such-bundle.crt'), NODE_DEBUG: 'timer' };
    const r = spawnSync(command(), ['-q', '--unsafe', '-e', 'BEGIN { system("echo system: $NODE_OPTIONS $NODE_DEBUG"); }', '-c', `/bin/sh ${report}`], {
      encoding: 'utf8', env: { ...process.env, ...caller },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l).sort(), r.stderr).toEqual([
      ...Object.entries(caller).map(([k, v]) => `child: ${k}=${v}`).sort(), `system: ${caller.NODE_OPTIONS} ${caller.NODE_DEBUG}`,
    ]);
    // Started with them, Node would have refused the snapshot, warned about the certificates or written TIMER lines.
    expect(r.stderr).toBe('');
  });

  it('leaves TRACELET_START_NS out of the environment of the commands tracelet starts', () => {
    const r = runTracelet(['-q', '-e', 'BEGIN { }', '-c', '/usr/bin/env']);
    expect(r.stdout).toContain('PATH=');
    expect(r.stdout).not.toContain('TRACELET_START_NS');
  });
});
