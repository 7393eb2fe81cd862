// The foundation, end to end on the real kernel: a one-liner runs and prints its maps, every exit
// path cleans up, and bad programs get clear errors.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { BIN, runTracelet, startTracelet, waitForNoPrograms } from '../helpers/run.js';

const BLOB = fileURLToPath(new URL('../../dist/bundle/tracelet.blob', import.meta.url));

describe('foundation', () => {
  it('prints from BEGIN and exits', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("hello %d\\n", 42); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nhello 42\n\n\n');
    expect(r.code).toBe(0);
  });

  it('starts from the start-up snapshot; bin/tracelet.js runs the same CLI without it', () => {
    // Node opens the blob it starts from (the process renames itself `tracelet` at once, so its
    // command line no longer shows the option).
    const dir = mkdtempSync(join(tmpdir(), 'tl-strace-'));
    try {
      const traced = spawnSync('strace', ['-f', '-e', 'trace=openat', '-o', join(dir, 'trace'), BIN, '-e', 'BEGIN { exit(); }'], { encoding: 'utf8' });
      expect(traced.status).toBe(0);
      expect(readFileSync(join(dir, 'trace'), 'utf8')).toContain(`"${BLOB}", O_RDONLY`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const plain = spawnSync(process.execPath, [`${BIN}.js`, '-e', 'BEGIN { printf("hello\\n"); exit(); }'], { encoding: 'utf8' });
    expect(plain.stdout).toBe('Attaching 1 probe...\nhello\n\n\n');
    expect(plain.status).toBe(0);
  });

  it('never starts from a snapshot another node binary made (falls back to bin/tracelet.js)', () => {
    // A copy of the launcher whose dist/ has an unloadable blob, stamped for another node.
    const root = mkdtempSync(join(tmpdir(), 'tl-launcher-'));
    try {
      const real = fileURLToPath(new URL('../..', import.meta.url));
      mkdirSync(join(root, 'bin'));
      mkdirSync(join(root, 'dist/bundle'), { recursive: true });
      mkdirSync(join(root, 'dist/cli'));
      for (const f of ['bin/tracelet', 'bin/tracelet.js']) copyFileSync(join(real, f), join(root, f));
      for (const f of ['dist/cli/main.js', 'dist/bundle/tracelet.mjs']) symlinkSync(join(real, f), join(root, f));
      const blob = join(root, 'dist/bundle/tracelet.blob');
      writeFileSync(blob, 'not a snapshot');
      const run = () => spawnSync(join(root, 'bin/tracelet'), ['-e', 'BEGIN { printf("fallback\\n"); exit(); }'], { encoding: 'utf8' });
      // First bin/tracelet's own shell code (no launcher built), then the launcher's.
      for (const launcher of [false, true]) {
        if (launcher) {
          mkdirSync(join(root, 'build/Release'), { recursive: true });
          copyFileSync(join(real, 'build/Release/tracelet'), join(root, 'build/Release/tracelet'));
        }
        writeFileSync(`${blob}.node`, '1:1\n');
        const r = run();
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('Attaching 1 probe...\nfallback\n\n\n');
        // The same blob stamped for this node is used, and Node refuses it: the stamp is what decided.
        // (The real stamp: this node's size and mtime, and the stack flag bin/tracelet gives.)
        copyFileSync(join(real, 'dist/bundle/tracelet.blob.node'), `${blob}.node`);
        expect(run().status).not.toBe(0);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('counts openat by comm, prints the maps on SIGINT and leaves nothing behind', async () => {
    const t = startTracelet(['-e', 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @total = count(); }']);
    await t.attached;
    const opens = 25;
    for (let i = 0; i < opens; i++) closeSync(openSync('/etc/hostname', 'r'));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.code).toBe(0);
    const comm = readFileSync('/proc/self/comm', 'utf8').trim();
    const line = r.stdout.split('\n').find((l) => l.startsWith(`@[${comm}]: `));
    expect(line, r.stdout).toBeDefined();
    expect(Number(line!.split(': ')[1])).toBeGreaterThanOrEqual(opens);
    expect(r.stdout).toMatch(/^Attaching 1 probe\.\.\.\n/);
    expect(r.stdout).toMatch(/\n@total: \d+\n$/);
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('stops on SIGTERM with exit code 0 (as bpftrace) and prints the maps', async () => {
    const t = startTracelet(['-e', 'BEGIN { @started = 1; } interval:ms:50 { @ticks = count(); }']);
    await t.attached;
    await new Promise((r) => setTimeout(r, 300));
    t.child.kill('SIGTERM');
    const r = await t.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/@started: 1\n/);
    expect(r.stdout).toMatch(/@ticks: \d+\n/);
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('interval probes fire and exit() ends the run', () => {
    const start = Date.now();
    const r = runTracelet(['-e', 'interval:ms:100 { @n = count(); if (@n == 3) { exit(); } }']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 1 probe...\n\n\n@n: 3\n');
    expect(Date.now() - start).toBeGreaterThanOrEqual(300);
  });

  it('an aggregation read in a probe is its total over every CPU, as it prints', () => {
    // profile fires on each CPU; END runs after every probe has stopped, so its reads and the
    // printed maps see the same values (a per-CPU read gave one CPU's share).
    const r = runTracelet(['-e', 'profile:hz:199 { @c = count(); @s = sum(3); @a = avg(cpu * 10 + 1); @mn = min(cpu); @mx = max(cpu); } '
      + 'interval:ms:400 { exit(); } END { printf("read %d %d %d %d %d\\n", @c, @s, @a, @mn, @mx); }']);
    expect(r.code).toBe(0);
    const read = /read (\S+) (\S+) (\S+) (\S+) (\S+)\n/.exec(r.stdout)!.slice(1);
    const printed = ['c', 's', 'a', 'mn', 'mx'].map((m) => new RegExp(`@${m}: (\\S+)\n`).exec(r.stdout)![1]);
    expect(read).toEqual(printed);
    expect(Number(read[0])).toBeGreaterThan(0);
  });

  it('filters with predicates, uses variables, builtins and arithmetic', () => {
    const r = runTracelet(['-e',
      'BEGIN { $a = 6; $b = $a * 7 - 2; @x = $b / 4; @y = $b % 4; @z = -$a; @me = pid > 0 ? 1 : 0; '
      + 'if ($b > 10) { @big = 1; } else { @big = 0; } printf("%s %u %x\\n", comm, uid, 255); exit(); }']);
    expect(r.stderr).toMatch(/^(stdin:1:.*warning.*\n.*\n.*\n)*$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\n@big: 1\n');
    expect(r.stdout).toContain('\n@me: 1\n');
    expect(r.stdout).toContain('\n@x: 10\n');
    expect(r.stdout).toContain('\n@y: 0\n');
    expect(r.stdout).toContain('\n@z: -6\n');
    expect(r.stdout).toMatch(/\ntracelet 0 ff\n/);
  });

  it('reads tracepoint arguments', async () => {
    const t = startTracelet(['-e',
      `tracepoint:syscalls:sys_enter_openat /pid == ${process.pid}/ { @flags[args->flags] = count(); }`]);
    await t.attached;
    closeSync(openSync('/etc/hostname', 'r'));
    t.child.kill('SIGINT');
    const r = await t.done;
    // O_RDONLY|O_CLOEXEC as Node opens files: 0x80000 = 524288
    expect(r.stdout).toMatch(/@flags\[524288\]: \d+/);
  });

  it('reads __data_loc string fields (sched_process_exec filename)', async () => {
    const t = startTracelet(['-e', 'tracepoint:sched:sched_process_exec /args->pid > 0/ { printf("exec %s\\n", str(args->filename)); }']);
    await t.attached;
    spawnSync('/bin/true');
    await new Promise((r) => setTimeout(r, 100));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.stdout).toContain('\nexec /bin/true\n');
  });

  it('ends cleanly when the reader of its output goes away (tracelet ... | head)', async () => {
    const child = spawn(BIN, ['-e', 'interval:ms:20 { printf("tick\\n"); }'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.once('data', () => child.stdout!.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(await waitForNoPrograms()).toEqual([]);
  });

  it('prints its version (package.json\'s) and usage errors exit 1, as bpftrace', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const v = runTracelet(['--version']);
    expect(v.stdout).toBe(`tracelet v${pkg.version}\n`);
    expect(v.code).toBe(0);
    const bad = runTracelet(['--no-such-option']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown option '--no-such-option'");
  });

  it("accepts bpftrace's other options: -q, --no-warnings, -I, --include, --emit-elf, -V, --usdt-file-activation", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-options-'));
    try {
      writeFileSync(join(dir, 'consts.h'), '#define MY_CONST 42\n#define OTHER (MY_CONST)\n');
      const quiet = runTracelet(['-q', '-I', dir, '--include', 'consts.h', '-e', 'BEGIN { printf("%d %d\\n", MY_CONST, OTHER); exit(); }']);
      expect(quiet.stdout).toBe('42 42\n\n\n');
      const json = runTracelet(['-q', '-f', 'json', '-e', 'BEGIN { @x = 1; exit(); }']);
      expect(json.stdout).not.toContain('attached_probes');
      const warned = runTracelet(['-e', 'BEGIN { $unused = 1; exit(); }']);
      expect(warned.stderr).toContain('warning');
      const silent = runTracelet(['--no-warnings', '--usdt-file-activation', '-e', 'BEGIN { $unused = 1; exit(); }']);
      expect(silent.stderr).toBe('');
      expect(silent.code).toBe(0);
      const elf = join(dir, 'prog.o');
      expect(runTracelet(['--emit-elf', elf, '-e', 'BEGIN { printf("x\\n"); }']).code).toBe(0);
      expect(readFileSync(elf).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(runTracelet(['-V']).stdout).toMatch(/^tracelet v\d+\.\d+\.\d+\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the program from standard input with "-", named stdin in messages', () => {
    const ok = spawnSync(BIN, ['-'], { input: 'BEGIN { printf("from stdin\\n"); exit(); }', encoding: 'utf8' });
    expect(ok.stdout).toBe('Attaching 1 probe...\nfrom stdin\n\n\n');
    const bad = spawnSync(BIN, ['-'], { input: 'BEGIN { @x = 1 +; }', encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^stdin:1:17: error: /);
  });

  it('reports a syntax error with position, source line and underline', () => {
    const r = runTracelet(['-e', 'BEGIN { @x = 1 +; }']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stdin:1:17: error: .+\nBEGIN \{ @x = 1 \+; \}\n {16}\^\n/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('reports an unknown tracepoint with the closest name', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_opnat { @ = count(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'stdin:1:1: error: unknown tracepoint syscalls:sys_enter_opnat\n'
      + 'tracepoint:syscalls:sys_enter_opnat { @ = count(); }\n'
      + '^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n'
      + 'hint: did you mean tracepoint:syscalls:sys_enter_openat?\n',
    );
  });

  it('says in one sentence that it needs root', () => {
    // Root without capabilities: what an unprivileged user has.
    const asNobody = spawnSync('setpriv', ['--inh-caps=-all', '--bounding-set=-all',
      BIN, '-e', 'BEGIN { exit(); }'], { encoding: 'utf8' });
    expect(asNobody.status).toBe(255);
    expect(asNobody.stderr.trim().split('\n')).toHaveLength(1);
    expect(asNobody.stderr).toMatch(/needs root/);
  });

  it('--dry-run loads without attaching, --emit-llvm prints IR', () => {
    const dry = runTracelet(['--dry-run', '-e', 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('');
    const ir = runTracelet(['--emit-llvm', '-e', 'BEGIN { @x = count(); }']);
    expect(ir.code).toBe(0);
    expect(ir.stdout).toContain('define i64 @tl_begin_0(i8* %ctx)');
  });
});
