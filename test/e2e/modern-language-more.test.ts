// More of bpftrace 0.2x (issue 14) end to end on the real kernel: imports, map declarations,
// probe names, `return`, auto-dereference and builtins.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet } from '../helpers/run.js';

/** A private directory (mkdtemp makes it 0700: imports refuse world-writable ones) with these files. */
function files(tree: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-import-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(tree)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('import', () => {
  it('merges probes and macros of a file relative to the importing one, each file once', () => {
    const dir = files({
      'main.bt': 'import "lib/helpers.bt";\nimport "lib/helpers.bt";\nBEGIN { greet(42); exit(); }\n',
      // Importing the importer back adds nothing (bpftrace imports each path once).
      'lib/helpers.bt': 'import "../main.bt";\nimport "more.bt";\nmacro greet(x) { printf("hello %d\\n", x + more()); }\n',
      'lib/more.bt': 'macro more() { 1 }\nBEGIN { printf("more first\\n"); }\n',
    });
    const r = runTracelet([join(dir, 'main.bt')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 2 probes...\nmore first\nhello 43\n\n\n');
  });

  it('imports the .bt files of a directory', () => {
    const dir = files({ 'lib/a.bt': 'BEGIN { printf("a\\n"); }\n', 'lib/b.bt': 'BEGIN { printf("b\\n"); }\n', 'lib/notes.txt': 'not a script' });
    const r = runTracelet(['-e', 'import "lib"; BEGIN { exit(); }'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\na\nb\n\n\n');
  });

  it('points at the import of a missing file, and into an imported file for its errors', () => {
    const dir = files({
      'main.bt': 'import "nothere.bt";\nimport "lib/broken.bt";\nBEGIN { exit(); }\n',
      'lib/broken.bt': 'config = { max_map_keys = 2 }\nBEGIN { $x = ; }\n',
    });
    const r = runTracelet([join(dir, 'main.bt')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `${dir}/main.bt:1:8: error: cannot import 'nothere.bt': there is no ${dir}/nothere.bt\n`
      + 'import "nothere.bt";\n       ^~~~~~~~~~~~\n'
      + `hint: the path is relative to the importing script's directory (${dir})\n`
      + `${dir}/lib/broken.bt:1:12: error: an imported script cannot have a config block\n`
      + 'config = { max_map_keys = 2 }\n           ^~~~~~~~~~~~~~~~\n'
      + 'hint: only the script tracelet runs has one: move this setting there\n'
      + `${dir}/lib/broken.bt:2:14: error: expected an expression, found ';'\n`
      + 'BEGIN { $x = ; }\n             ^\n',
    );
  });

  it('refuses an import after a probe, and a file that is not a .bt script', () => {
    const dir = files({ 'x.h': 'struct s { int a; };\n' });
    const r = runTracelet(['-e', 'BEGIN { exit(); }\nimport "x.h";'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:2:1: error: an import must come before the probes, macros and map declarations\n');
    expect(r.stderr).toContain('hint: move it above line 1\n');
    expect(r.stderr).toContain("stdin:2:8: error: cannot import 'x.h': tracelet imports bpftrace scripts (.bt) only\n");
  });
});

describe('map declarations', () => {
  it('give a map its kernel type and max entries: an lruhash evicts, a hash fills and says so', () => {
    const r = runTracelet(['--unsafe', '-e', 'let @lru_evicts = lruhash(3); let @hash_fills = hash(3); let @pcpu_hists = percpulruhash(2);\n'
      + 'BEGIN { $i = 0; while ($i < 10) { @lru_evicts[$i] = $i; @hash_fills[$i] = $i; @pcpu_hists[$i & 1] = hist($i); $i++; }\n'
      + 'system("bpftool map show name tl_lru_evicts; bpftool map show name tl_hash_fills; bpftool map show name tl_pcpu_hists"); exit(); }']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+: lru_hash  name tl_lru_evicts  flags 0x0\n\tkey 8B  value 8B  max_entries 3  /m);
    expect(r.stdout).toMatch(/^\d+: hash  name tl_hash_fills  flags 0x0\n\tkey 8B  value 8B  max_entries 3  /m);
    // hist keeps one entry per (key, bucket): 2 keys × 66 buckets.
    expect(r.stdout).toMatch(/^\d+: lru_percpu_hash  name tl_pcpu_hists  flags 0x0\n\tkey 16B  value 8B  max_entries 132  /m);
    expect(r.stdout).toContain('@hash_fills[0]: 0\n@hash_fills[1]: 1\n@hash_fills[2]: 2\n');
    // LRU eviction is approximate: at most 3 entries, the last one written among them.
    const lru = r.stdout.match(/^@lru_evicts\[\d\]: \d$/gm) ?? [];
    expect(lru.length).toBeGreaterThan(0);
    expect(lru.length).toBeLessThanOrEqual(3);
    expect(lru).toContain('@lru_evicts[9]: 9');
    expect(r.stdout).toContain('@pcpu_hists[1]: \n[1]                    1 |');
    expect(r.stderr).toBe('WARNING: Failed to map_update_elem 7 times: map @hash_fills is full (3 entries, declared hash(3))\n');
  });

  it('reports a wrong type, a bad size, a type that does not fit the values and a second declaration', () => {
    const r = runTracelet(['-e', 'let @a = lrhash(3); let @b = hash(0); let @c = hash(4);\nlet @d = percpuhash(2); let @a = hash(1);\n'
      + 'BEGIN { @c = count(); @d[1] = 2; }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "stdin:1:10: error: unknown map type 'lrhash'\n"
      + 'let @a = lrhash(3); let @b = hash(0); let @c = hash(4);\n         ^~~~~~\n'
      + 'hint: did you mean lruhash? (the types are hash, lruhash, percpuhash, percpulruhash)\n'
      + 'stdin:1:34: error: max entries must be between 1 and 4294967295\n'
      + 'let @a = lrhash(3); let @b = hash(0); let @c = hash(4);\n                                 ^~~\n'
      + 'hint: e.g. let @b = hash(1024);\n'
      + 'stdin:2:29: error: map @a is declared twice\n'
      + 'let @d = percpuhash(2); let @a = hash(1);\n                            ^~\n'
      + 'stdin:1:1: note: first declared here\n'
      + 'let @a = lrhash(3); let @b = hash(0); let @c = hash(4);\n^~~~~~~~~~~~~~~~~~~\n'
      + 'stdin:1:48: error: @c holds count() values, kept per CPU: it cannot be a hash\n'
      + 'let @a = lrhash(3); let @b = hash(0); let @c = hash(4);\n                                               ^~~~\n'
      + 'hint: declare it as percpuhash or percpulruhash\n'
      + 'stdin:3:9: note: @c is given its value here\n'
      + 'BEGIN { @c = count(); @d[1] = 2; }\n        ^~\n'
      + 'stdin:2:10: error: @d holds plain values, not per CPU: it cannot be a percpuhash\n'
      + 'let @d = percpuhash(2); let @a = hash(1);\n         ^~~~~~~~~~\n'
      + 'hint: declare it as hash or lruhash\n'
      + 'stdin:3:23: note: @d is given its value here\n'
      + 'BEGIN { @c = count(); @d[1] = 2; }\n                      ^~~~~\n',
    );
  });
});

describe('probe names', () => {
  it('are read in any case (0.2x), an exact name first: U stays usdt', () => {
    const r = runTracelet(['-e', 'Begin { printf("%s\\n", probe); exit(); } TRACEPOINT:syscalls:sys_enter_getpid { } End { printf("%s\\n", probe); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\nBEGIN\nEND\n\n\n');
    const usdt = runTracelet(['-e', 'U:/bin/true:nothere { }']);
    expect(usdt.stderr).toContain('stdin:1:1: error: /bin/true has no USDT probes\n');
    expect(runTracelet(['-e', 'Begn { }']).stderr).toContain("stdin:1:1: error: unknown probe type 'Begn'\nBegn { }\n^~~~\nhint: did you mean 'BEGIN'?\n");
  });
});

describe('self:signal:SIGUSR1', () => {
  it('runs each time tracelet receives SIGUSR1', async () => {
    const t = startTracelet(['-e', 'self:signal:SIGUSR1 { @n++; printf("%s %d\\n", probe, @n); if (@n == 2) { exit(); } }']);
    await t.attached;
    t.child.kill('SIGUSR1');
    while (!t.output().stdout.includes(' 1\n')) await new Promise((r) => setTimeout(r, 20));
    t.child.kill('SIGUSR1');
    const r = await t.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\nself:signal:SIGUSR1 1\nself:signal:SIGUSR1 2\n\n\n@n: 2\n');
  });

  it('prints every map without such a probe, as bpftrace 0.17 does', async () => {
    const t = startTracelet(['-e', 'BEGIN { @a = 1; @b[2] = 3; } tracepoint:syscalls:sys_enter_getppid /@a == 2/ { exit(); }']);
    await t.attached;
    t.child.kill('SIGUSR1');
    while (!t.output().stdout.includes('@b[2]: 3\n')) await new Promise((r) => setTimeout(r, 20));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 2 probes...\n@a: 1\n@b[2]: 3\n\n\n@a: 1\n@b[2]: 3\n');
  });

  it('refuses other signals and events', () => {
    const r = runTracelet(['-e', 'self:signal:SIGUSR2 { }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("stdin:1:1: error: self must be written self:signal:SIGUSR1, got 'self:signal:SIGUSR2'\n"
      + 'self:signal:SIGUSR2 { }\n^~~~~~~~~~~~~~~~~~~\nhint: SIGUSR1 is the only signal bpftrace 0.26 offers\n');
  });
});

describe('return', () => {
  it('ends the probe from inside for loops, nested ones too; loops without return are unchanged', () => {
    const r = runTracelet(['-e', 'BEGIN { for ($i : 0..5) { if ($i == 2) { return; } printf("i %d\\n", $i); } printf("not here\\n"); }\n'
      + 'BEGIN { @m[1] = 1; for ($kv : @m) { $j = 0; while ($j < 3) { for ($k : 0..3) { if ($k == 1) { printf("ret %d %d\\n", $kv.0, $j); return; } } $j++; } } printf("not here\\n"); }\n'
      + 'BEGIN { for ($i : 0..2) { printf("no return %d\\n", $i); } clear(@m); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 3 probes...\ni 0\ni 1\nret 1 0\nno return 0\nno return 1\n\n\n\n');
  });
});

describe('. on a pointer', () => {
  it('dereferences it, as -> does (0.2x; 0.17 refused it)', () => {
    const r = runTracelet(['--no-warnings', '-e', 'BEGIN { $t = curtask; printf("%d %d %s %d\\n", $t.pid == tid, curtask.real_parent.tgid > 0, $t.comm, curtask.real_parent->pid == $t->real_parent.pid); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n1 1 tracelet 1\n\n\n');
  });
});

describe('integer <-> integer array casts', () => {
  it('cast to the same bytes both ways, [] taking the size of the value, indexable on the stack', () => {
    const r = runTracelet(['-e', 'BEGIN { $a = (int8[8])12345; $i = 1; printf("%x %x %d %d\\n", $a[0], $a[$i], $a[9], (int64)$a);\n'
      + '$b = (uint8[])(uint32)0x01020304; print($b); print((uint16[2])(uint32)0x01020304); $w = (int16[4])-2; printf("%d %d\\n", $w[0], $w[3]);\n'
      + '@m[$b] = (uint32)$b; exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n39 30 0 12345\n[4,3,2,1]\n[772,258]\n-2 -1\n\n\n@m[[4,3,2,1]]: 16909060\n');
  });

  it('refuses sides of different sizes and other types', () => {
    const r = runTracelet(['-e', 'BEGIN { $a = (uint8[4])1; $c = (uint8[8])"abc"; }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin:1:14: error: cannot cast int64 to uint8[4]\nBEGIN { $a = (uint8[4])1; $c = (uint8[8])"abc"; }\n             ^~~~~~~~~~~\n'
      + 'hint: both sides must have the same size: 8 and 4 bytes\n');
    expect(r.stderr).toContain('stdin:1:32: error: cannot cast string[4] to uint8[8]\n');
  });
});

describe('the build_id stack mode', () => {
  // ustack(build_id) itself: test/e2e/build-id-stacks.test.ts.
  it('is for ustack only, as in bpftrace 0.26; a mode that is not one lists those there are', () => {
    const kernel = runTracelet(['-e', 'BEGIN { print(kstack(build_id)); }']);
    expect(kernel.code).toBe(1);
    expect(kernel.stderr).toBe("stdin:1:22: error: 'build_id' stack mode can only be used for ustack\n"
      + 'BEGIN { print(kstack(build_id)); }\n                     ^~~~~~~~\nhint: raw prints the addresses\n');
    const unknown = runTracelet(['-e', 'BEGIN { print(ustack(build, 3)); }']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('stdin:1:22: error: build is not a stack mode (bpftrace, perf, raw or build_id)\n');
  });

  it('keeps build_id stacks apart from other ustacks: they are read from a map of their own', () => {
    const r = runTracelet(['-e', 'BEGIN { @s = ustack; @s = ustack(build_id); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: type mismatch for @s: assigning ustack(build_id) to a map that holds ustack\n');
  });
});

describe("bpftrace 0.26's standard library macros", () => {
  it('ppid, pcomm, leader_tid and leader_comm of the current task', () => {
    // BEGIN runs in tracelet's main thread, a child of this test's process.
    const r = runTracelet(['-e', 'BEGIN { printf("%d %s %d %d %s %s\\n", ppid, pcomm, leader_tid(), pid, leader_comm, comm); exit(); }']);
    expect(r.stderr).toBe('');
    const [ppid, pcomm, leader, pid, leaderComm, comm] = r.stdout.split('\n')[1]!.split(' ');
    expect(Number(ppid)).toBe(process.pid);
    expect(pcomm).toBe(readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim().slice(0, 15));
    expect(leader).toBe(pid);
    expect(leaderComm).toBe(comm);
  });

  it('strlen of a string, of comm and of the string a pointer points to', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d %d %d\\n", strlen("hello"), strlen(""), strlen(comm)); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[1]).toBe('5 0 8');
    const opened = runTracelet(['-c', 'cat /etc/hostname', '-e',
      'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%d %s\\n", strlen(args->filename), str(args->filename)); exit(); }']);
    expect(opened.stderr).toBe('');
    const [n, path] = opened.stdout.split('\n').find((l) => /^\d+ \//.test(l))!.split(' ');
    expect(Number(n)).toBe(path!.length);
  });

  it('strstr: the index of the first needle in the haystack, -1 when it is not there', () => {
    const r = runTracelet(['-e', 'BEGIN { printf("%d %d %d %d %d\\n", strstr("hello world", "world"), strstr("hello", "xyz"), '
      + 'strstr("abc", ""), strstr("aab", "ab"), strstr(comm, "let")); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[1]).toBe('6 -1 0 1 5');
  });

  it('assert ends the run with exit code 1 and the message', () => {
    const r = runTracelet(['-e', 'BEGIN { assert(1 + 1 == 2, "fine"); assert(1 + 1 == 3, "math is off"); printf("not here\\n"); exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('assert failed: math is off');
    expect(r.stderr).not.toContain('assert failed: fine');
    expect(r.stdout).not.toContain('not here');
  });
});
