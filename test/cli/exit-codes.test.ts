// Exit codes of the tracelet command, as scripts see them (bpftrace 0.17 is the reference).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, ExitCode, exitCodesHelp } from '../../src/cli/exit-codes.js';
import { runTracelet, startTracelet, waitForNoPrograms, type Running } from '../helpers/run.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The rows of README.md's "Exit codes" table, as code → meaning. */
function readmeExitCodes(): { code: number; meaning: string }[] {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('### Exit codes'));
  const table = section.slice(0, section.indexOf('\n###'));
  return [...table.matchAll(/^\| (\d+) \| (.*) \|$/gm)].map((m) => ({ code: Number(m[1]), meaning: m[2]! }));
}

describe('the exit-code table', () => {
  it('README.md documents exactly the codes the command uses', () => {
    expect(readmeExitCodes()).toEqual(EXIT_CODES.map((e) => ({ code: e.code, meaning: e.meaning })));
    expect(new Set(EXIT_CODES.map((e) => e.code))).toEqual(new Set(Object.values(ExitCode)));
  });

  it('--help ends with it', () => {
    const r = runTracelet(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith(`\n\n${exitCodesHelp()}\n`)).toBe(true);
  });
});

describe('exit(code) (0.2x)', () => {
  it('ends with the code (its low 8 bits), after END and the maps; the first exit() wins', async () => {
    const r = runTracelet(['-e', 'BEGIN { @a = 1; exit(3); } END { printf("end\\n"); }']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('Attaching 2 probes...\nend\n\n\n@a: 1\n');
    const computed = runTracelet(['-e', 'interval:ms:50 { @n++; if (@n == 2) { exit(@n + 255); } }']);
    expect(computed.code, computed.stderr).toBe(1); // 257 & 0xff
    expect(computed.stdout).toContain('@n: 2\n');
    const first = runTracelet(['-e', 'BEGIN { exit(7); exit(9); }']);
    expect(first.code, first.stderr).toBe(7);
    expect(runTracelet(['-e', 'BEGIN { exit(); }']).code).toBe(0);
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('refuses a code that is not an integer, with a hint', () => {
    const r = runTracelet(['-e', 'BEGIN { exit("x"); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdin:1:14: error: exit() code must be an integer, got string[2]\nBEGIN { exit("x"); }\n             ^~~\nhint: e.g. exit(1)\n');
  });
});

describe('a stop by a signal is a clean end (exit 0, as bpftrace)', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: the maps are printed and the exit code is 0`, async () => {
      const t = startTracelet(['-e', 'BEGIN { @started = 1; } tracepoint:sched:sched_switch { @switches = count(); }']);
      await t.attached;
      t.child.kill(signal);
      const r = await t.done;
      expect(r.signal).toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\n/);
      expect(r.stdout).toMatch(/\n@started: 1\n/);
      expect(r.stdout).toMatch(/\n@switches: \d+\n/);
      expect(await waitForNoPrograms()).toEqual([]);
    });
  }
});

describe('a stop signal before the run listens (during the compile and the load)', () => {
  /** Starts a run that compiles afresh; `atStart` runs once tracelet's own code runs (its first timing line). */
  function startCompiling(atStart: (child: Running['child']) => void) {
    const t = startTracelet(['--no-cache', '--timings', '-e', 'BEGIN { @b = 1; } END { printf("end\\n"); } interval:s:30 { exit(); }']);
    let sent = false;
    t.child.stderr!.on('data', (d: Buffer) => {
      if (!sent && d.toString().includes('timing: options')) {
        sent = true;
        atStart(t.child);
      }
    });
    return t;
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} is held: the run attaches, runs BEGIN and END, prints the maps and ends with 0`, async () => {
      const r = await startCompiling((child) => child.kill(signal)).done;
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('Attaching 3 probes...\nend\n\n\n@b: 1\n');
      expect(await waitForNoPrograms()).toEqual([]);
    });
  }

  it('a second one changes nothing: one clean stop', async () => {
    const r = await startCompiling((child) => {
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGTERM'), 20);
    }).done;
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Attaching 3 probes...\nend\n\n\n@b: 1\n');
    expect(await waitForNoPrograms()).toEqual([]);
  });
});

describe('failures are not 0', () => {
  it.each([
    ['a syntax error', ['-e', 'BEGIN { @x = ; }']],
    ['a type error', ['-e', 'BEGIN { @x = nosuchfunction(); }']],
    ['an unknown tracepoint', ['-e', 'tracepoint:sched:no_such_event { }']],
  ])('the program is wrong (%s): 1, nothing attached', (_, args) => {
    const r = runTracelet(args);
    expect(r.code, r.stderr).toBe(ExitCode.programError);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stdin:1:\d+: error: /);
  });

  it.each([
    ['an unknown option', ['--no-such-option', '-e', 'BEGIN { exit(); }']],
    ['a bad -f value', ['-f', 'xml', '-e', 'BEGIN { exit(); }']],
    ['no program', []],
    ['-p of no process', ['-p', 'abc', '-e', 'BEGIN { exit(); }']],
  ])('bad usage (%s): 1, as bpftrace', (_, args) => {
    const r = runTracelet(args);
    expect(r.code, r.stderr).toBe(ExitCode.usage);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('a program file that does not exist: 255, as bpftrace', () => {
    const r = runTracelet(['/nonexistent/prog.bt']);
    expect(r.code, r.stderr).toBe(ExitCode.runtimeError);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
  });

  it('a probe type this kernel cannot attach: 255, as bpftrace', () => {
    const r = runTracelet(['-e', 'kprobe:do_nanosleep { exit(); }']);
    expect(r.code, r.stderr).toBe(ExitCode.runtimeError);
    expect(r.stderr).toBe('tracelet: kprobes are not available: this kernel was built without CONFIG_KPROBES\n');
  });
});
