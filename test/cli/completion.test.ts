// Shell completion (`--completion bash|zsh`) and the man page: both name every option the command
// has (they are made from, or checked against, its option list), and each is valid for its reader.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runTracelet } from '../helpers/run.js';

const MAN = fileURLToPath(new URL('../../man/tracelet.1', import.meta.url));

/** Every option name `--help` shows (`-f`, `--format`, ...). */
function optionNames(): string[] {
  const help = runTracelet(['--help']).stdout;
  const options = help.slice(help.indexOf('Options:'), help.indexOf('Exit codes:'));
  return [...options.matchAll(/^ {2}(-[^ ,]+)(?:, (--[^ ]+))?/gm)].flatMap((m) => [m[1]!, m[2]].filter((n): n is string => !!n));
}

/** What bash's completion offers for the command line `line` (completing its last word). */
function bashComplete(line: string): string[] {
  const script = runTracelet(['--completion', 'bash']).stdout;
  const r = spawnSync('bash', ['-c', `${script}
    COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}
    read -ra COMP_WORDS <<< "$1"; [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _tracelet; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', line],
  { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(BIN)}:${process.env.PATH}` } });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('--completion', () => {
  it('bash: options, their values and probe types', () => {
    expect(bashComplete('tracelet --for')).toEqual(['--format']);
    expect(bashComplete('tracelet -f ')).toEqual(['text', 'json', 'folded', 'pprof']);
    expect(bashComplete('tracelet -B l')).toEqual(['line']);
    expect(bashComplete('tracelet -l tra')).toEqual(['tracepoint:']);
    // A regular expression: nothing to offer (not file names).
    expect(bashComplete('tracelet --probe-filter ')).toEqual([]);
    const offered = bashComplete('tracelet -');
    for (const name of optionNames()) expect(offered).toContain(name);
  });

  it('bash: probe names from tracelet -l once a provider is typed', () => {
    // bash splits words at ':', so the script gets `tracepoint : sched : sched_sw` and offers
    // what follows the last ':'.
    const script = runTracelet(['--completion', 'bash']).stdout;
    const r = spawnSync('bash', ['-c', `${script}
      COMP_LINE="tracelet -l tracepoint:sched:sched_sw"; COMP_POINT=\${#COMP_LINE}
      COMP_WORDS=(tracelet -l tracepoint : sched : sched_sw); COMP_CWORD=6; _tracelet; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(BIN)}:${process.env.PATH}` } });
    expect(r.stdout.split('\n')).toContain('sched_switch');
  });

  it('bash: --explain= offers its values; after a bare --explain comes the program file', () => {
    // bash splits `--explain=i` into the words --explain, =, i.
    const script = runTracelet(['--completion', 'bash']).stdout;
    const complete = (words: string) => spawnSync('bash', ['-c', `${script}
      COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _tracelet; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(complete('tracelet --explain =')).toEqual(['bpf', 'ir']);
    expect(complete('tracelet --explain = i')).toEqual(['ir']);
    expect(complete('tracelet --explain examples/exec')).toEqual(['examples/execsnoop.bt']);
  });

  it('zsh: a valid completion function naming every option', () => {
    const script = runTracelet(['--completion', 'zsh']).stdout;
    expect(script.startsWith('#compdef tracelet\n')).toBe(true);
    for (const name of optionNames()) expect(script).toContain(name);
    const r = spawnSync('zsh', ['-n'], { input: script, encoding: 'utf8' });
    expect(r.error, 'zsh is installed by scripts/setup.sh for the tests').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
  });

  it('refuses other shells', () => {
    expect(runTracelet(['--completion', 'fish']).code).toBe(1);
  });
});

describe('man page', () => {
  it('documents every option, and groff reads it without a warning', () => {
    const text = readFileSync(MAN, 'utf8').replace(/\\-/g, '-');
    for (const name of optionNames()) expect(text).toContain(name);
    const r = spawnSync('groff', ['-t', '-man', '-Tutf8', '-ww', '-z', MAN], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is installed by npm with the package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { man?: string[] };
    expect(pkg.man).toEqual(['./man/tracelet.1']);
  });
});

describe('the command line built ahead in the start-up snapshot (src/cli/command-line.ts)', () => {
  it('answers --help, --version and a usage error as the one bin/tracelet.js builds at run time', () => {
    const plain = (args: string[]) => spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/tracelet.js', import.meta.url)), ...args], { encoding: 'utf8' });
    for (const args of [['--help'], ['--version'], ['--no-such-option']]) {
      const fromSnapshot = runTracelet(args);
      const built = plain(args);
      expect(fromSnapshot.stdout, args[0]).toBe(built.stdout);
      expect(fromSnapshot.stderr, args[0]).toBe(built.stderr);
      expect(fromSnapshot.code, args[0]).toBe(built.status);
    }
    // The version line is the last option, as --help always listed it.
    expect(runTracelet(['--help']).stdout).toMatch(/--timings[^\n]*\n(?: {4,}[^\n]*\n)* {2}-V, --version/);
  });
});
