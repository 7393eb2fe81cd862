// Bad input, tried as a new user would: each is refused in one clear message with a non-zero exit
// code, before anything is attached or run (bpftrace 0.17 refuses each of them too).
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { NEEDS_ROOT } from '../../src/runtime/privileges.js';
import { BIN, runTracelet } from '../helpers/run.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracelet-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` (bytes as given) to a file in the test directory; returns its path. */
function file(name: string, text: string | Buffer, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** Runs tracelet on a program it must refuse (exit 1, nothing printed on stdout); returns stderr. */
function programRefused(args: readonly string[]): string {
  const r = runTracelet(args);
  expect(r.code, r.stderr).toBe(ExitCode.programError);
  expect(r.stdout).toBe('');
  return r.stderr;
}

const NO_PROBES_HINT = 'hint: a program is one or more probes, e.g. BEGIN { printf("hello\\n"); }\n';

describe('a program without probes is refused (exit 1), not run forever', () => {
  it('-e \'\'', () => {
    expect(programRefused(['-e', ''])).toBe(`stdin:1:1: error: the program has no probes\n\n^\n${NO_PROBES_HINT}`);
  });

  it('only whitespace', () => {
    expect(programRefused(['-e', '  \n\t\n'])).toMatch(/^stdin:1:1: error: the program has no probes\n/);
  });

  it('a file with only a comment', () => {
    const path = file('comment.bt', '// nothing to trace yet\n');
    expect(programRefused([path])).toBe(
      `${path}:1:24: error: the program has no probes\n// nothing to trace yet\n${' '.repeat(23)}^\n${NO_PROBES_HINT}`,
    );
  });
});

describe('-c with a command that cannot run fails before anything runs', () => {
  // BEGIN would print: it must not, nor "Attaching...".
  const program = 'BEGIN { printf("BEGIN ran\\n"); }';
  const refused = (command: string, env: NodeJS.ProcessEnv = {}) => {
    const r = runTracelet(['-c', command, '-e', program], { env });
    expect(r.code).toBe(ExitCode.runtimeError);
    expect(r.stdout).toBe('');
    return r.stderr;
  };

  it('a path that does not exist', () => {
    expect(refused('/nonexistent/cmd')).toBe("tracelet: cannot run '/nonexistent/cmd': No such file or directory\n");
  });

  it('a file that is not executable, and a directory', () => {
    const plain = file('plain', 'echo hi\n', 0o644);
    expect(refused(`${plain} arg`)).toBe(`tracelet: cannot run '${plain}': Permission denied\n`);
    expect(refused(dir)).toBe(`tracelet: cannot run '${dir}': Permission denied\n`);
  });

  it('a name not in PATH (looked up as execvp looks it up)', () => {
    expect(refused('tracelet-no-such-command')).toBe("tracelet: cannot run 'tracelet-no-such-command': command not found in PATH\n");
    // Only an unrunnable file of that name in PATH: as execvp, EACCES.
    const bin = join(dir, 'bin-noexec');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tlcmd'), 'echo hi\n');
    expect(refused('tlcmd', { PATH: `${bin}:${process.env.PATH}` })).toBe("tracelet: cannot run 'tlcmd': Permission denied\n");
  });

  it('a name not in PATH but an ELF program in the current directory runs it, as bpftrace 0.17 (not a script)', () => {
    const here = join(dir, 'cwd-prog');
    mkdirSync(here);
    copyFileSync('/bin/true', join(here, 'tltrue'));
    writeFileSync(join(here, 'tlscript'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const r = runTracelet(['-c', 'tltrue', '-e', program], { cwd: here });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('BEGIN ran\n');
    const script = runTracelet(['-c', 'tlscript', '-e', program], { cwd: here });
    expect(script.stderr).toBe("tracelet: cannot run 'tlscript': command not found in PATH\n");
  });

  it('an empty command', () => {
    expect(refused('  ')).toBe('tracelet: -c: the command is empty\n');
  });

  it('a command found in PATH runs once the probes are attached', () => {
    const bin = join(dir, 'bin-ok');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tlhello'), '#!/bin/sh\necho "hello from $1"\n', { mode: 0o755 });
    const r = runTracelet(['-c', 'tlhello world', '-e', program], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toBe('Attaching 1 probe...\nBEGIN ran\nhello from world\n\n\n');
  });

  it('an executable file execve still refuses: the path and errno are reported, exit 255', () => {
    const bad = file('garbage', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 4]), 0o755);
    const r = runTracelet(['-c', bad, '-e', `${program} END { printf("END ran\\n"); }`]);
    expect(r.code).toBe(ExitCode.runtimeError);
    expect(r.stderr).toBe(`tracelet: cannot run '${bad}': Exec format error\n`);
    expect(r.stdout).toBe('Attaching 2 probes...\nBEGIN ran\nEND ran\n\n\n');
  });

  it('a command that itself exits 127 is not mistaken for one that could not run', () => {
    const r = runTracelet(['-c', file('exit127', '#!/bin/sh\nexit 127\n', 0o755), '-e', program]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stderr).toBe('');
  });
});

describe('as a user without the permission to trace', () => {
  /** tracelet as `nobody` (uid 65534, no capabilities). */
  // User nobody where it can reach this checkout (a clone in a 0700 temporary directory is out of
  // its reach); otherwise root without any capability, which is the same to tracelet's check.
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
  const reachable = spawnSync('setpriv', [...nobody, 'test', '-x', BIN]).status === 0;
  const unprivileged = reachable ? nobody : ['--inh-caps=-all', '--bounding-set=-all'];
  const asNobody = (args: readonly string[]) => {
    const r = spawnSync('setpriv', [...unprivileged, BIN, ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const refusal = { code: ExitCode.runtimeError, stdout: '', stderr: `tracelet: ${NEEDS_ROOT}\n` };

  it.each([
    ['BEGIN', 'BEGIN { exit(); }'],
    ['a tracepoint (before tracefs is touched)', 'tracepoint:sched:sched_switch { @ = count(); }'],
    ['a uprobe', 'uprobe:/bin/sh:main { exit(); }'],
    ['an interval', 'interval:s:1 { exit(); }'],
  ])('%s gets the one permission sentence', (_, program) => {
    expect(asNobody(['-e', program])).toEqual(refusal);
  });

  it.each([[[]], [['tracepoint:sched:*']], [['uprobe:/bin/sh:*']]])('-l %j gets it too', (pattern) => {
    expect(asNobody(['-l', ...pattern])).toEqual(refusal);
  });

  it('--emit-llvm still works without root', () => {
    const r = asNobody(['--emit-llvm', '-e', 'BEGIN { exit(); }']);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toContain('define i64 @tl_begin_0(i8* %ctx)');
  });

  it('--explain works without root too', () => {
    const r = asNobody(['--explain', '-e', 'BEGIN { @x = 1; exit(); }']);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toMatch(/^tl_begin_0: BEGIN .*\n(.*\n)*? {4}1 \| @x = 1\n/);
  });
});

describe('a NUL byte in a string literal', () => {
  it('written raw, is refused at the literal', () => {
    const path = file('nul.bt', 'BEGIN { printf("a\0b\\n"); exit(); }\n');
    expect(programRefused([path])).toBe(
      `${path}:1:16: error: a NUL byte inside a string literal\nBEGIN { printf("a\0b\\n"); exit(); }\n`
      + `${' '.repeat(15)}^~~~~~~\nhint: write it as \\0 if it is meant\n`,
    );
  });

  it('written as \\0 or \\x00, is a NUL byte, as in bpftrace 0.17', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("a\\0b\\x00c\\n"); exit(); }']);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stdout).toBe('Attaching 1 probe...\na\0b\0c\n\n\n');
  });
});

describe('output that cannot be written', () => {
  it('stops the run, says why and exits 255 (a full disk: ENOSPC); a reader going away (EPIPE) is a clean end', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [['-e', 'BEGIN { printf("x\\n"); exit(); }'], ['-e', 'BEGIN { printf("x\\n"); }'], ['-l', 'tracepoint:sched:*']]) {
        const r = spawnSync(BIN, args, { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 30_000 });
        expect([r.status, r.stderr]).toEqual([ExitCode.runtimeError, 'tracelet: cannot write the output: no space left on device\n']);
      }
    } finally {
      closeSync(full);
    }
    const piped = spawnSync('sh', ['-c', `${BIN} -e 'BEGIN { printf("x\\n"); }' | true; echo "$?"`], { encoding: 'utf8', timeout: 30_000 });
    expect(piped.stdout).toBe('0\n');
  });
});
