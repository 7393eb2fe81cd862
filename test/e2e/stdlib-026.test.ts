// Functions of bpftrace 0.26's standard library (issue 14) end to end on the real kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

let dir: string;
/** A worker thread that blocks SIGUSR1 and calls getppid(); it and the main thread say what they got. */
let threadSignal: string;
/** Writes its global `watched` with 1 to 5, 200 ms apart; built without PIE, at `watchedAddress`. */
let watched: string;
let watchedAddress: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-stdlib-'));
  threadSignal = join(dir, 'thread-signal');
  execFileSync('gcc', ['-O0', '-pthread', '-o', threadSignal, fileURLToPath(new URL('../fixtures/workloads/thread-signal.c', import.meta.url))]);
  watched = join(dir, 'watched');
  execFileSync('gcc', ['-O0', '-no-pie', '-o', watched, fileURLToPath(new URL('../fixtures/workloads/watched.c', import.meta.url))]);
  watchedAddress = `0x${/^([0-9a-f]+) B watched$/m.exec(execFileSync('nm', [watched], { encoding: 'utf8' }))![1]!.replace(/^0+/, '')}`;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('type predicates', () => {
  it('is_str() and its kind print constants from the argument\'s type; a macro branches on them', () => {
    const r = runTracelet(['-e', 'macro show(x) { if (is_str(x)) { printf("str\\n"); } else { printf("other\\n"); } }\n'
      + 'BEGIN { $a = (int8[8])1; printf("%d %d %d %d %d %d %d %d\\n", is_str(comm), is_str(1), is_integer(pid), is_ptr(curtask), '
      + 'is_array($a), is_unsigned_integer(-1), is_literal(-5), is_literal($a)); show("x"); show(7); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 0 1 1 1 0 1 0\nstr\nother\n\n\n');
  });

  it('is_err() tells an ERR_PTR from a pointer', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d %d %d %d\\n", is_err(-1), is_err((int8 *)-4095), is_err(-4096), is_err(curtask)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 1 0 0\n\n\n');
  });
});

describe('memcmp()', () => {
  it('compares the bytes of strings, tuples and integers: 0, or the difference of the first bytes that differ', () => {
    const r = runTracelet(['-e', 'BEGIN { $n = 3; $a = (uint8)1; $b = (uint8)2; printf("%d %d %d %d %d %d %d %d\\n", '
      + 'memcmp("abc", "abd", 3), memcmp("abc", "abd", 2), memcmp("abd", "abc", 3), memcmp(comm, comm, 16), '
      + 'memcmp((1, "x"), (1, "y"), 9), memcmp("abcdef", "abcxyz", $n), memcmp("abcdef", "abcxyz", $n + 1), memcmp($a, $b, 1)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n-1 0 1 0 -1 0 -20 -1\n\n\n');
  });

  it('compares what a tracepoint read: the comm of the task that opened a file with its own', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { $c = comm; '
      + 'if (memcmp($c, "true", 5) == 0) { printf("same\\n"); exit(); } }', '-c', '/bin/true']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nsame\n\n\n');
  });

  it('refuses a constant count beyond a value, at the count', () => {
    const r = runTracelet(['-e', 'BEGIN { print(memcmp("ab", "abcd", 4)); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdin:1:36: error: memcmp() count 4 is more than the 3 bytes of left\n'
      + 'BEGIN { print(memcmp("ab", "abcd", 4)); }\n'
      + '                                   ^\n'
      + 'hint: left has 3 bytes, right 5\n');
  });
});

describe('len()', () => {
  it('counts the entries of a map, after deletes too, and of an aggregation map', () => {
    const r = runTracelet(['-e', 'BEGIN { @m[1] = 1; @m[2] = 2; @c["a"] = count(); @c["b"] = count(); @c["c"] = count(); '
      + 'printf("%d %d\\n", len(@m), len(@c)); delete(@m, 1); printf("%d %d\\n", len(@m), len(@c)); clear(@m); clear(@c); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n2 3\n1 3\n\n\n\n\n');
  });

  it('counts the frames of a stack as print() shows them, at most its depth', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { '
      + 'printf("%d %d %d %d\\n", len(kstack), len(ustack), len(kstack(2)), len(ustack(1))); print(kstack(raw)); print(ustack(raw)); exit(); }',
    '-c', '/bin/true']);
    expect(r.stderr).toBe('');
    const [, counts, ...rest] = r.stdout.split('\n');
    const [kernel, user, kernelTwo, userOne] = counts!.split(' ').map(Number);
    // The two stacks, each a blank line then a frame a line.
    const stacks = rest.join('\n').split('\n\n').map((s) => s.split('\n').filter((l) => /^[0-9a-f]+$/.test(l.trim())).length);
    expect(stacks.slice(0, 2)).toEqual([kernel, user]);
    expect(kernel).toBeGreaterThan(2);
    expect(user).toBeGreaterThan(0);
    expect([kernelTwo, userOne]).toEqual([2, 1]);
  });

  it('refuses a map without keys and a stack kept in a variable', () => {
    const r = runTracelet(['-e', 'BEGIN { @s = 1; $k = kstack; print((len(@s), len($k))); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdin:1:41: error: len() counts the entries of a map with keys; @s has no key\n'
      + 'BEGIN { @s = 1; $k = kstack; print((len(@s), len($k))); }\n'
      + '                                        ^~\n'
      + 'hint: a map without keys holds one value\n'
      + 'stdin:1:50: error: len() counts the frames of a stack where it is taken: len(ustack), len(kstack(5))\n'
      + 'BEGIN { @s = 1; $k = kstack; print((len(@s), len($k))); }\n'
      + '                                                 ^~\n'
      + "hint: a stack kept in a variable or map is an id in a stack table, which a program cannot look up by id\n");
  });
});

describe('if comptime, fail() and static_assert()', () => {
  it('a macro takes a string or an integer, compiling only the branch for what it was given', () => {
    const r = runTracelet(['-e', 'macro show(x) { if comptime is_str(x) { printf("str %s\\n", x); } else { printf("int %d\\n", x + 1); } }\n'
      + 'BEGIN { show("a"); show(7); show(comm); static_assert(sizeof(int32) == 4, "int32"); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nstr a\nint 8\nstr tracelet\n\n\n');
  });

  it('a macro used as a value may end with an if comptime / else, each branch ending with its value', () => {
    const r = runTracelet(['-e', 'macro pick(x) { if comptime is_str(x) { let $l = strlen(x); $l * 10 } else if (x > 5) { x } else { 0 - x } }\n'
      + 'BEGIN { $a = if comptime (1 > 2) { "x" } else { 5 }; printf("%d %d %d %d\\n", $a, pick("abc"), pick(7), pick(2)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n5 30 7 -2\n\n\n');
  });

  it('fail() stops the compilation with its message where a positional parameter makes it reached (the docs\' example)', () => {
    const script = 'BEGIN { if ($1 < 2) { fail("Expected the first positional param to be greater than 1. Got %d", $1); } printf("ok %d\\n", $1); exit(); }';
    const refused = runTracelet(['-e', script, '1']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe('stdin:1:23: error: Expected the first positional param to be greater than 1. Got 1\n'
      + `${script}\n`
      + `${' '.repeat(22)}^${'~'.repeat(75)}\n`);
    const ran = runTracelet(['-e', script, '5']);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('Attaching 1 probe...\nok 5\n\n\n');
  });

  it('static_assert() refuses a false condition with its message, and one not known at compile time', () => {
    const r = runTracelet(['-e', 'BEGIN { static_assert(sizeof(int32) == 8, "int32 is not 8 bytes"); static_assert(pid, "x"); }']);
    expect(r.code).toBe(1);
    const line = 'BEGIN { static_assert(sizeof(int32) == 8, "int32 is not 8 bytes"); static_assert(pid, "x"); }\n';
    expect(r.stderr).toBe(`stdin:1:9: error: int32 is not 8 bytes\n${line}${' '.repeat(8)}^${'~'.repeat(56)}\n`
      + `stdin:1:82: error: static_assert() needs a condition known when the program is compiled\n${line}${' '.repeat(81)}^~~\n`
      + 'hint: constants, sizeof(), $1 and the is_*() predicates fold; assert(cond, "message") tests a value at run time\n');
  });
});

describe('printf %s of an enum value', () => {
  it('prints the enumerator of a script enum and of a kernel (BTF) enum, the number where none has the value', () => {
    const r = runTracelet(['-e', 'enum Color { RED, GREEN = 5, BLUE }; BEGIN { $c = (enum Color)6; '
      + 'printf("%s %s %d %s %s|%-8s|\\n", (enum Color)0, $c, $c, (enum Color)7, (enum dma_data_direction)1, (enum Color)5); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nRED BLUE 6 7 DMA_TO_DEVICE|GREEN   |\n\n\n');
  });

  it('prints an enum field of a tracepoint by name: the relative timer of a sleep', () => {
    const r = runTracelet(['-e', 'tracepoint:timer:hrtimer_start /pid == cpid && args.mode == 1/ { printf("%s %d\\n", args.mode, args.mode); exit(); }',
      '-c', '/bin/sleep 0.01']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nHRTIMER_MODE_REL 1\n\n\n');
  });
});

describe('signal_thread()', () => {
  it('signals the current thread only: it stays pending in the thread that blocks it, where signal() reaches the process', () => {
    const run = (f: string) => runTracelet(['--unsafe', '-e', `tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { ${f}("SIGUSR1"); }`, '-c', threadSignal]);
    const thread = run('signal_thread');
    expect(thread.stderr).toBe('');
    expect(thread.stdout).toBe('Attaching 1 probe...\nworker pending 1\nmain handled 0\n\n\n');
    const process = run('signal');
    expect(process.stderr).toBe('');
    expect(process.stdout).toBe('Attaching 1 probe...\nworker pending 0\nmain handled 1\n\n\n');
  });

  it('is refused without --unsafe and where no task is current', () => {
    const unsafe = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_getppid { signal_thread("SIGUSR1"); }']);
    expect(unsafe.code).toBe(1);
    expect(unsafe.stderr).toContain('signal_thread() is an unsafe function');
    const begin = runTracelet(['--unsafe', '-e', 'BEGIN { signal_thread(10); }']);
    expect(begin.code).toBe(1);
    expect(begin.stderr).toContain('stdin:1:9: error: signal_thread can not be used with "BEGIN" probes\n');
  });
});

describe('has_cpid', () => {
  it('is 1 with a -c command and 0 without, bare or called', () => {
    const without = runTracelet(['-e', 'BEGIN { printf("%d %d\\n", has_cpid, has_cpid()); exit(); }']);
    expect(without.stderr).toBe('');
    expect(without.stdout).toBe('Attaching 1 probe...\n0 0\n\n\n');
    const withChild = runTracelet(['-e', 'BEGIN { if (has_cpid) { printf("child %d\\n", cpid > 0); } exit(); }', '-c', '/bin/true']);
    expect(withChild.stderr).toBe('');
    expect(withChild.stdout).toBe('Attaching 1 probe...\nchild 1\n\n\n');
    // A program that asks has_cpid may name cpid without -c; one that does not is refused, as in 0.17.
    const guarded = runTracelet(['-e', 'BEGIN { if (has_cpid) { printf("child %d\\n", cpid); } exit(); }']);
    expect(guarded.stderr).toBe('');
    expect(guarded.code).toBe(0);
    expect(runTracelet(['-e', 'BEGIN { if (has_cpid()) { printf("child %d\\n", cpid); } exit(); }']).code).toBe(0);
    const bare = runTracelet(['-e', 'BEGIN { printf("%d\\n", cpid); exit(); }']);
    expect(bare.stderr).toContain('stdin:1:24: error: cpid cannot be used without a child command');
    expect(bare.code).toBe(1);
  });
});

describe('find()', () => {
  it('copies the value of an existing key into the variable and says whether it found one (the docs\' example)', () => {
    const r = runTracelet(['-e', 'BEGIN { @map[2] = (1, "hello"); @n["a"] = 5; let $val; if (find(@map, 2, $val)) { print($val); } '
      + '$x = 7; printf("%d %d %d\\n", find(@n, "a", $x), find(@n, "b", $x), $x); clear(@map); clear(@n); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n(1, hello)\n1 0 5\n\n\n\n\n');
  });

  it('refuses an aggregation map, pointing at it', () => {
    const r = runTracelet(['-e', 'BEGIN { @c[1] = count(); let $b; print(find(@c, 1, $b)); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:45: error: find() of a count() map is not supported\n'
      + 'BEGIN { @c[1] = count(); let $b; print(find(@c, 1, $b)); }\n'
      + '                                            ^~\n'
      + 'hint: read the value as @c[key]\n');
  });
});

describe('strcap(), default_str_length, assert_str()', () => {
  it('give a string\'s capacity, a char pointer\'s string length and what str() reads', () => {
    const r = runTracelet(['-e', 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { $s = "abc"; '
      + 'printf("%d %d %d %d %d\\n", strcap($s), strcap(comm), strcap(args.filename), strlen(args.filename), default_str_length); exit(); }',
    '-c', '/bin/true']);
    expect(r.stderr).toBe('');
    // The dynamic loader opens its cache first.
    expect(r.stdout).toBe('Attaching 1 probe...\n4 16 16 16 64\n\n\n');
  });

  it('assert_str() refuses an integer, with the macro calls it came through, and a pointer to something else than chars', () => {
    const r = runTracelet(['-e', 'BEGIN { print(strcap(1)); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stdlib.bt:28:5: error: string-like values must be either strings, arrays or pointers\n'
      + '    fail("string-like values must be either strings, arrays or pointers");\n'
      + `    ^${'~'.repeat(68)}\n`
      + 'stdlib.bt:35:3: note: in the macro expanded here\n'
      + '  assert_str(s);\n'
      + '  ^~~~~~~~~~~~~\n'
      + 'stdin:1:15: note: in the macro expanded here\n'
      + 'BEGIN { print(strcap(1)); }\n'
      + '              ^~~~~~~~~\n');
    const task = runTracelet(['-e', 'BEGIN { print(strcap(curtask)); }']);
    expect(task.code).toBe(1);
    expect(task.stderr).toContain('error: string-like pointers must point to a char-like type\n');
    expect(task.stderr).toContain('stdin:1:15: note: in the macro expanded here\n');
  });
});

describe('probetype', () => {
  it('names the type of the probe\'s first attach point as bpftrace 0.26: special for BEGIN and END', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%s %s\\n", probetype, probetype()); } interval:ms:10 { printf("%s\\n", probetype); exit(); } END { print(probetype); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\nspecial special\ninterval\nspecial\n\n\n');
  });
});

describe('kfunc_exist() and kfunc_allowed()', () => {
  it('answer from BTF and the kernel when the program is compiled: a macro calls comm(pid) only where it may', () => {
    const r = runTracelet(['-e', 'macro name_of(p) { let $n = "none"; if comptime kfunc_allowed("bpf_task_from_pid") { $n = comm(p); } $n }\n'
      + 'BEGIN { printf("%s %d %d\\n", name_of(1), kfunc_exist("bpf_task_from_pid"), kfunc_exist("no_such_function")); }\n'
      + 'tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { printf("%s\\n", name_of(pid)); exit(); }', '-c', '/bin/sleep 0.1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 2 probes...\nnone 1 0\nsleep\n\n\n');
  });

  it('take a string literal', () => {
    const r = runTracelet(['-e', 'BEGIN { print(kfunc_exist(1)); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:27: error: kfunc_exist() expects a string literal naming a kernel function\n');
  });
});

describe('cgroup_path() (bpftrace 0.17)', () => {
  /** The cgroup2 mount, if this machine has one. */
  const unified = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[0] === 'cgroup2')?.[1];

  it.runIf(unified)('names a cgroup by its path in the unified hierarchy, found when printed', () => {
    const parent = join(unified!, `tl-stdlib-${process.pid}`);
    const child = join(parent, 'inner');
    mkdirSync(child, { recursive: true });
    try {
      const id = statSync(child, { bigint: true }).ino;
      const r = runTracelet(['-e', `BEGIN { print(cgroup_path(${id}, "unified")); printf("[%s] [%s]\\n", cgroup_path(${id}, "uni*"), cgroup_path(${id}, "memory")); exit(); }`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`Attaching 1 probe...\nunified:/tl-stdlib-${process.pid}/inner\n[unified:/tl-stdlib-${process.pid}/inner] []\n\n\n`);
    } finally {
      rmdirSync(child);
      if (existsSync(parent)) rmdirSync(parent);
    }
  });

  it('lists every hierarchy of the root cgroup of each, unified first', () => {
    const names = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '))
      .filter((f) => f[0] === 'cgroup' || f[0] === 'cgroup2')
      .filter((f) => statSync(f[1]!, { bigint: true }).ino === 1n)
      .map((f) => (f[0] === 'cgroup2' ? 'unified' : f[1]!.slice(f[1]!.lastIndexOf('/') + 1)));
    const sorted = [...names.filter((n) => n === 'unified'), ...names.filter((n) => n !== 'unified').sort()];
    const r = runTracelet(['-e', 'BEGIN { printf("%s\\n", cgroup_path(1)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Attaching 1 probe...\n${sorted.map((n) => `${n}:/`).join(',')}\n\n\n`);
  });

  it('refuses an id that is no integer and a filter that is no literal', () => {
    const r = runTracelet(['-e', 'BEGIN { $f = "x"; print(cgroup_path("a")); print(cgroup_path(1, $f)); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:37: error: cgroup_path() expects an integer cgroup id, got string[2]\n');
    expect(r.stderr).toContain('stdin:1:65: error: cgroup_path() expects a string literal as its filter\n');
  });
});

describe('unwatch()', () => {
  // Only the program's own writes of 1 to 5: the watchpoint also sees the address written before
  // and while the command is exec'd.
  const probe = (body: string) => `watchpoint:${watchedAddress}:4:w / comm == "watched" && *(uint32 *)uptr(${watchedAddress}) >= 1 `
    + `&& *(uint32 *)uptr(${watchedAddress}) <= 5 / { printf("wrote %d\\n", *(uint32 *)uptr(${watchedAddress})); ${body} }`;

  it('removes the watchpoint: the writes after the first are not seen', () => {
    const all = runTracelet(['-e', probe(''), '-c', watched]);
    expect(all.stderr).toBe('');
    expect(all.stdout).toBe('Attaching 1 probe...\nwrote 1\nwrote 2\nwrote 3\nwrote 4\nwrote 5\n\n\n');
    const first = runTracelet(['-e', probe(`unwatch(${watchedAddress});`), '-c', watched]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('Attaching 1 probe...\nwrote 1\n\n\n');
  });

  it('takes an address', () => {
    const r = runTracelet(['-e', 'BEGIN { unwatch("x"); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:17: error: unwatch() expects a watched address, got string[2]\n');
  });
});
