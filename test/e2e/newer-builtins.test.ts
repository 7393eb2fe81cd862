// Builtins of bpftrace 0.2x (issue 14) end to end on the real kernel, each checked against what
// the kernel or the process itself knows.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runTracelet } from '../helpers/run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/naps.c', import.meta.url));
let dir: string;
/** Sleeps with nanosleep and clock_nanosleep, calls nap_inspect (a uprobe target) in between. */
let naps: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-builtins-'));
  naps = join(dir, 'naps');
  execFileSync('gcc', ['-O0', '-o', naps, SOURCE]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** CPUs this machine can have, from /sys/devices/system/cpu/possible (`0-3` → 4). */
function possibleCpus(): number {
  const ranges = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',');
  return Math.max(...ranges.map((r) => Number(r.split('-').at(-1)) + 1));
}

describe('newer builtin variables', () => {
  it('ncpus is the number of possible CPUs', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d\\n", ncpus); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Attaching 1 probe...\n${possibleCpus()}\n\n\n`);
  });

  it('jiffies is the kernel\'s jiffies_64, as /proc/timer_list shows it before and after', () => {
    const kernelJiffies = () => BigInt(/^jiffies: (\d+)$/m.exec(readFileSync('/proc/timer_list', 'utf8'))![1]!);
    const before = kernelJiffies();
    const r = runTracelet(['-e', 'BEGIN { print(jiffies); exit(); }']);
    const after = kernelJiffies();
    expect(r.stderr).toBe('');
    const value = BigInt(r.stdout.split('\n')[1]!);
    expect(value >= before && value <= after).toBe(true);
  });

  it('usermode is read from the interrupted registers: 1 in a uprobe, 0 at a context switch', () => {
    const r = runTracelet(['-e', `uprobe:${naps}:nap_inspect { @user[usermode] = count(); }
      software:context-switches:1 /pid == cpid/ { @switch[usermode] = count(); }
      END { printf("%d %d %d\\n", has_key(@user, 1), has_key(@switch, 0), has_key(@switch, 1)); clear(@user); clear(@switch); }`, '-c', naps]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\n1 1 0\n\n\n\n\n');
  });

  it('usermode is refused where the context has no registers', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_getpid { print(usermode); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stdin:1:46: error: 'usermode' is not available in tracepoint probes\n");
  });
});

describe('newer functions', () => {
  it('has_key(@m, k) says whether a key exists, for single and tuple keys', () => {
    const r = runTracelet(['-e', 'BEGIN { @m[1] = 1; @t[1, "a"] = count();\n'
      + 'printf("%d %d %d %d\\n", has_key(@m, 1), has_key(@m, 2), has_key(@t, (1, "a")), has_key(@t, (2, "a")));\n'
      + 'if (!has_key(@m, 3)) { printf("no 3\\n"); } clear(@m); clear(@t); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 0 1 0\nno 3\n\n\n\n\n');
  });

  it('has_key() refuses a map without keys, a key of another type and a hist() map', () => {
    const r = runTracelet(['-e', 'BEGIN { @s = 1; @h[1] = hist(1); has_key(@s, 1); has_key(@h, 1); has_key(@s[1], 1); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:42: error: @s is used without a key elsewhere, but with a key here\n');
    expect(r.stderr).toContain('stdin:1:58: error: has_key() of a hist() map is not supported\n');
    expect(r.stderr).toContain('stdin:1:74: error: has_key() takes a map and a key\n');
  });
});

describe('builtins with a mode', () => {
  it('nsecs(clock) reads the clock named; bare nsecs stays monotonic (0.17), pid() is pid', () => {
    const monotonicBefore = process.hrtime.bigint();
    const realBefore = BigInt(Date.now()) * 1_000_000n;
    const r = spawnSync(BIN, ['-e', 'BEGIN { print((nsecs, nsecs(monotonic), nsecs(boot), nsecs(tai), nsecs(sw_tai), nsecs(), pid(), pid == pid(init), tid(init) == tid)); exit(); }'], { encoding: 'utf8' });
    const monotonicAfter = process.hrtime.bigint();
    const realAfter = BigInt(Date.now() + 1) * 1_000_000n;
    expect(r.stderr).toBe('');
    const [bare, monotonic, boot, tai, swTai, call, pidCall, pidInit, tidInit] = r.stdout.split('\n')[1]!.slice(1, -1).split(', ').map(BigInt) as bigint[];
    for (const t of [bare!, monotonic!, call!]) expect(t >= monotonicBefore && t <= monotonicAfter).toBe(true);
    expect(boot! >= monotonic!).toBe(true);
    // TAI is UTC plus the kernel's TAI offset (0 until NTP sets it, 37 s today).
    for (const t of [tai!, swTai!]) expect(t >= realBefore && t <= realAfter + 37_000_000_000n).toBe(true);
    expect([pidCall, pidInit, tidInit]).toEqual([BigInt(r.pid), 1n, 1n]);
  });

  it('pid(curr_ns) and tid(curr_ns) are the ids in tracelet\'s pid namespace, pid(init) those of the initial one', () => {
    // tracelet in a pid namespace of its own, as in a container.
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', BIN, '-e',
      'tracepoint:syscalls:sys_exit_execve /comm == "grep"/ { printf("%d %d %d %d\\n", pid(curr_ns), tid(curr_ns), cpid, pid(init) == pid); }',
      '-c', '/usr/bin/grep NSpid /proc/self/status'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // grep's line and the printf may reach stdout in either order.
    const inner = /^NSpid:\t(\d+)$/m.exec(r.stdout)?.[1];
    expect(inner).toBeDefined();
    expect(r.stdout).toMatch(new RegExp(`^${inner} ${inner} ${inner} 1$`, 'm'));
  });

  it('refuses an unknown mode, and comm(pid) where the kernel lets no kfunc be called, with a hint', () => {
    const r = runTracelet(['-e', 'BEGIN { pid(foo); nsecs(1); comm(1); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdin:1:13: error: pid() takes one of init, curr_ns\nBEGIN { pid(foo); nsecs(1); comm(1); }\n            ^~~\nhint: e.g. pid(curr_ns)\n'
      + 'stdin:1:25: error: nsecs() takes one of monotonic, boot, tai, sw_tai\nBEGIN { pid(foo); nsecs(1); comm(1); }\n                        ^\nhint: e.g. nsecs(boot)\n'
      + 'stdin:1:29: error: comm() with an argument cannot be used in BEGIN probes on this kernel\nBEGIN { pid(foo); nsecs(1); comm(1); }\n                            ^~~~~~~\n'
      + 'hint: it calls the kernel function bpf_task_from_pid, which this kernel lets only tracepoint, profile, interval, software, watchpoint, asyncwatchpoint probes call\n');
  });
});

describe('comm(pid) (bpftrace 0.26)', () => {
  /** Runs `body` with the pid of a process whose comm is known: `sleep`, killed after. */
  function withSleeper(body: (pid: number) => void): void {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      // Its comm is `sleep` once it has exec'd: /proc says when.
      const deadline = Date.now() + 5000;
      while (readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() !== 'sleep' && Date.now() < deadline) execFileSync('sleep', ['0.01']);
      body(child.pid!);
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('names another process from a tracepoint and from a perf event, as /proc does', () => {
    withSleeper((pid) => {
      for (const probe of ['tracepoint:sched:sched_switch', 'profile:hz:99', 'interval:ms:10']) {
        const r = runTracelet(['-e', `${probe} { printf("%s\\n", comm($1)); exit(); }`, String(pid)]);
        expect(r.stderr).toBe('');
        // Both CPUs may fire before exit() stops the run.
        expect(r.stdout).toMatch(/^Attaching 1 probe\.\.\.\n(sleep\n)+\n\n$/);
      }
    });
  });

  it('gives "N/A" for a pid no process has, and reports the site at exit', () => {
    const r = runTracelet(['-e', 'interval:ms:10 { printf("[%s]\\n", comm(2147483647)); exit(); }']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 1 probe...\n[N/A]\n\n\n');
    expect(r.stderr).toBe('stdin:1:35: warning: no process had the pid asked for here in 1 run of the probe; comm() gave "N/A"\n'
      + 'interval:ms:10 { printf("[%s]\\n", comm(2147483647)); exit(); }\n                                  ^~~~~~~~~~~~~~~~\n');
  });

  it('keeps syscall tracepoints that call it out of the shared sys_enter program (a raw tracepoint may not call kfuncs)', () => {
    withSleeper((pid) => {
      // Someone must make one of these calls while the run waits: `id -ru` calls getuid.
      const caller = spawn('sh', ['-c', 'while :; do id -ru; done'], { stdio: 'ignore' });
      try {
        const syscalls = ['getppid', 'getpid', 'gettid', 'getuid', 'getgid'].map((s) => `tracepoint:syscalls:sys_enter_${s}`).join(',');
        const r = runTracelet(['-e', `${syscalls} { printf("%s\\n", comm(${pid})); exit(); }`], { env: { TRACELET_SYSCALL_DISPATCH: 'always' } });
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/^Attaching 5 probes\.\.\.\nsleep\n/);
      } finally {
        caller.kill('SIGKILL');
      }
    });
  });

  it('is refused in uprobes, whose programs may not call the kfunc, naming the probes that may', () => {
    const r = runTracelet(['-e', `uprobe:${naps}:nap_inspect { printf("%s\\n", comm(1)); }`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: comm() with an argument cannot be used in uprobe probes on this kernel\n');
    expect(r.stderr).toContain('hint: it calls the kernel function bpf_task_from_pid, which this kernel lets only tracepoint, profile');
  });
});

describe('print() of structs', () => {
  it('prints a struct read through a pointer field by field, as bpftrace', () => {
    const r = runTracelet(['-e', `struct nap { long id; int count; char name[8]; };
      uprobe:${naps}:nap_inspect { print(*(struct nap *)arg0); $n = *(struct nap *)arg0; print($n); @n = $n; }`, '-c', naps]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n{ .id = 4242, .count = 7, .name = dozy }\n{ .id = 4242, .count = 7, .name = dozy }\n\n\n'
      + '@n: { .id = 4242, .count = 7, .name = dozy }\n');
  });

  it("prints a tracepoint's args as a record, stores it and reads it back (bpftrace 0.26)", () => {
    const r = runTracelet(['-e', `tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ {
        print(args); @a = args; $r = args; printf("%d\\n", $r.which_clock); }
      tracepoint:sched:sched_process_exit /pid == cpid/ { print(args); }`, '-c', naps]);
    expect(r.stderr).toBe('');
    // clock_nanosleep(CLOCK_MONOTONIC, 0, &b, NULL); the common_* header is left out. Pointers
    // print as int64s, as bpftrace 0.17 prints a struct's (0.26 writes them in hex).
    const record = /\{ \.__syscall_nr = 230, \.which_clock = 1, \.flags = 0, \.rqtp = [1-9]\d+, \.rmtp = 0 \}/.source;
    expect(r.stdout).toMatch(new RegExp(`^Attaching 2 probes...\\n${record}\\n1\\n`
      + `\\{ \\.comm = naps, \\.pid = \\d+, \\.prio = 120, \\.group_dead = 1 \\}\\n\\n\\n@a: ${record}\\n$`));
  });

  it("prints a tracepoint's args in JSON, pointers as numbers", () => {
    const r = runTracelet(['-f', 'json', '-e', 'tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { print(args); }', '-c', naps]);
    expect(r.stderr).toBe('');
    const line = r.stdout.split('\n').find((l) => l.includes('"value"'))!;
    expect(line).toMatch(/^\{"type": "value", "data": \{ "__syscall_nr": 230, "which_clock": 1, "flags": 0, "rqtp": \d+, "rmtp": 0 \}\}$/);
    expect(JSON.parse(line).data.rqtp).toBeGreaterThan(0);
  });

  it("rebuilds the record in a syscall dispatch program", () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { print(args); } '
      + 'tracepoint:syscalls:sys_exit_clock_nanosleep /pid == cpid/ { print(args); }', '-c', naps],
      { env: { TRACELET_SYSCALL_DISPATCH: 'always' } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Attaching 2 probes...\n\{ \.__syscall_nr = 230, \.which_clock = 1, \.flags = 0, \.rqtp = [1-9]\d+, \.rmtp = 0 \}\n\{ \.__syscall_nr = 230, \.ret = 0 \}\n/);
  });

  it("refuses args as a whole across tracepoints of different layouts, with a hint", () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_read,tracepoint:syscalls:sys_enter_openat { print(args); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdin:1:81: error: \'args\' as a whole needs one record layout, but syscalls:sys_enter_read and syscalls:sys_enter_openat differ\n'
      + 'tracepoint:syscalls:sys_enter_read,tracepoint:syscalls:sys_enter_openat { print(args); }\n' + ' '.repeat(80) + '^~~~\n'
      + 'hint: use the fields they share, e.g. args.FIELD, or give each tracepoint its own probe\n');
  });
});

describe('syscall_name() and signal_name() (0.26)', () => {
  it('name syscall numbers as this architecture does and signals as strsignal() does, in text, keys and JSON', () => {
    const r = runTracelet(['-e', 'BEGIN { print(syscall_name(0)); print(syscall_name(100000)); printf("%s|%s|%s\\n", signal_name(2), signal_name(9), signal_name(0)); '
      + '@[syscall_name(59)] = count(); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nread\nUnknown syscall\nInterrupt|Killed|N/A\n\n\n@[execve]: 1\n');
    const json = runTracelet(['-f', 'json', '-e', 'BEGIN { @[signal_name(15)] = count(); exit(); }']);
    expect(json.stdout).toContain('{"type": "map", "data": {"@": {"Terminated": 1}}}');
  });

  it("counts a process's syscalls by name from raw_syscalls", () => {
    const r = runTracelet(['-c', 'cat /etc/hostname', '-e', 'tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @[syscall_name(args->id)] = count(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^@\[openat\]: \d+$/m);
    expect(r.stdout).toMatch(/^@\[read\]: \d+$/m);
    expect(r.stdout).not.toContain('Unknown syscall');
  });
});
