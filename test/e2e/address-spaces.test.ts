// Reads of probed memory on the real kernel: each address space with a known value (a syscall's
// user pointer, a uprobe's argument struct, a kernel struct from BTF), and failed reads never
// silent — counted and reported at their place in the script, or one by one with -kk.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/naps.c', import.meta.url));
let dir: string;
/** Sleeps 0.123 s with nanosleep, 0.2 s with clock_nanosleep, then calls nanosleep with pointer 8. */
let naps: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-naps-'));
  naps = join(dir, 'naps');
  execFileSync('gcc', ['-O0', '-o', naps, SOURCE]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SLEEPS = `tracepoint:syscalls:sys_enter_*nanosleep /pid == cpid/ {
  $copy = *args->rqtp;
  printf("%s %d %d %d\\n", probe, args->rqtp->tv_sec, args->rqtp->tv_nsec, $copy.tv_nsec);
}`;

describe('reads by address space', () => {
  for (const dispatch of ['never', 'always']) {
    it(`reads a syscall's user pointers, through -> and copies (syscall dispatch: ${dispatch})`, () => {
      const r = runTracelet(['-e', SLEEPS, '-c', naps], { env: { TRACELET_SYSCALL_DISPATCH: dispatch } });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('Attaching 2 probes...\n' +
        'tracepoint:syscalls:sys_enter_nanosleep 0 123000000 123000000\n' +
        'tracepoint:syscalls:sys_enter_clock_nanosleep 0 200000000 200000000\n' +
        'tracepoint:syscalls:sys_enter_nanosleep 0 0 0\n\n\n');
    });
  }

  it("reads a uprobe's argument struct and a kernel struct from BTF", () => {
    const r = runTracelet(['-e', `struct nap { long id; int count; char name[8]; };
      uprobe:${naps}:nap_inspect {
        $n = (struct nap *)arg0;
        printf("%d %d %s %s\\n", $n->id, $n->count, $n->name, str($n->name));
        printf("%d %s %d\\n", curtask->tgid == (int32)pid, curtask->comm, curtask->real_parent->tgid > 1);
      }`, '-c', naps]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n4242 7 dozy dozy\n1 naps 1\n\n\n');
  });

  it('reads where uptr() and kptr() say, whatever the probe implies (as bpftrace 0.17)', () => {
    const r = runTracelet(['--no-warnings', '-e', `tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ {
        $p = kptr(args->rqtp); printf("%d %d\\n", $p->tv_nsec, uptr($p)->tv_nsec); }
      uprobe:${naps}:nap_inspect { printf("%d %d\\n", *uptr(arg0), *kptr(arg0)); }`, '-c', naps]);
    expect(r.stdout).toBe('Attaching 2 probes...\n4242 0\n0 123000000\n0 0\n\n\n');
    expect(runTracelet(['-e', 'BEGIN { uptr("a"); }']).stderr).toContain("error: uptr() expects a pointer or an integer, got string");
  });

  it("runs Debian's naptime.bt with real values", () => {
    const r = runTracelet(['/usr/sbin/naptime.bt', '-c', naps]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d \d+\s+tracelet\s+\d+\s+naps\s+0\.123$/m);
  });
});

describe('failed reads', () => {
  it('are reported at their place in the script with their count, without -k', () => {
    const r = runTracelet(['-e', SLEEPS, '-c', naps]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tracepoint:syscalls:sys_enter_nanosleep 0 0 0\n');
    // One warning per failing read: `*args->rqtp`, `args->rqtp->tv_sec`, `args->rqtp->tv_nsec`.
    expect(r.stderr).toBe(
      'stdin:2:11: warning: probe_read_user failed here in 1 run of the probe; the values read were 0\n' +
      '  $copy = *args->rqtp;\n' +
      '          ^~~~~~~~~~~\n' +
      'hint: -kk reports each failed read as it happens, with its error\n' +
      'stdin:3:34: warning: probe_read_user failed here in 1 run of the probe; the values read were 0\n' +
      '  printf("%s %d %d %d\\n", probe, args->rqtp->tv_sec, args->rqtp->tv_nsec, $copy.tv_nsec);\n' +
      '                                 ^~~~~~~~~~~~~~~~~~\n' +
      'stdin:3:54: warning: probe_read_user failed here in 1 run of the probe; the values read were 0\n' +
      '  printf("%s %d %d %d\\n", probe, args->rqtp->tv_sec, args->rqtp->tv_nsec, $copy.tv_nsec);\n' +
      '                                                     ^~~~~~~~~~~~~~~~~~~\n');
  });

  it('count the probe runs in which a site failed, and --no-warnings silences them', () => {
    // Every syscall of the child reads pointer 8 once: the count printed is the number of runs.
    const text = 'tracepoint:raw_syscalls:sys_enter /pid == cpid/ { $i = 0; while ($i < 3) { @[str(8)] = count(); $i++; } @runs = count(); }';
    const r = runTracelet(['-e', text, '-c', naps]);
    const runs = /^@runs: (\d+)$/m.exec(r.stdout)![1];
    expect(Number(runs)).toBeGreaterThan(5);
    expect(r.stdout).toContain(`@[]: ${Number(runs) * 3}\n`);
    expect(r.stderr).toContain(`stdin:1:78: warning: probe_read_str failed here in ${runs} runs of the probe; the values read were 0\n`);
    expect(runTracelet(['--no-warnings', '-e', text, '-c', naps]).stderr).toBe('');
  });

  it('are reported one by one with -kk, where they happen', () => {
    const r = runTracelet(['-kk', '-e', 'tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ { printf("%d\\n", args->rqtp->tv_nsec); }', '-c', naps]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n123000000\n' +
      'stdin:1:72-91: WARNING: Failed to probe_read_user: Bad address (-14)\n' +
      'tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ { printf("%d\\n", args->rqtp->tv_nsec); }\n' +
      '                                                                       ~~~~~~~~~~~~~~~~~~~\n' +
      '0\n\n\n');
  });
});
