// Every probe type on the real kernel: uprobes, uretprobes and USDT probes on a small C target
// built here, -p and -c, profile/software/rawtracepoint, kernel types through BTF, probe listing
// against the installed bpftrace 0.17, and one clear sentence for each type this machine lacks.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet } from '../helpers/run.js';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { SystemKernel } from '../../src/kernel/index.js';
import { generate } from '../../src/codegen/codegen.js';

const SOURCE = fileURLToPath(new URL('../fixtures/probes/target.c', import.meta.url));
let dir: string;
let target: string;
/** Address of the target's `tl_watched` (built with -no-pie, so fixed). */
let watched: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-probes-'));
  target = join(dir, 'target');
  execFileSync('gcc', ['-O0', '-no-pie', '-o', target, SOURCE]);
  const nm = execFileSync('nm', [target], { encoding: 'utf8' });
  watched = `0x${/^([0-9a-f]+) B tl_watched$/m.exec(nm)![1]!.replace(/^0+/, '')}`;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Programs only this suite creates (uprobe, uretprobe, usdt, watchpoint): none may be left. */
function leftovers(): string[] {
  const r = spawnSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' });
  const progs = JSON.parse(r.stdout) as { name?: string }[];
  return progs.map((p) => p.name ?? '').filter((n) => /^tl_(up|uret|usdt|wp)_/.test(n));
}

function uprobeEvents(): string {
  try {
    return readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8');
  } catch {
    return '';
  }
}

/** BPF program ids held by a running process (from /proc/PID/fdinfo). */
function programIdsOf(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch { /* closed meanwhile */ }
  }
  return ids;
}

function loadedProgramIds(): Set<number> {
  const r = spawnSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' });
  return new Set((JSON.parse(r.stdout) as { id: number }[]).map((p) => p.id));
}

function expectClean(): void {
  // The kernel frees a program a grace period after its last fd closes (multi-uprobe links
  // wait for SRCU): one still listed just after tracelet exited is freed soon; give it 3 s.
  for (let i = 0; i < 30 && leftovers().length > 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  expect(leftovers()).toEqual([]);
  expect(uprobeEvents()).toBe('');
}

describe('uprobe, uretprobe and usdt on a C target (-c)', () => {
  it('reads int arguments, the return value, func, and USDT register/stack/constant arguments', () => {
    const r = runTracelet(['-e',
      `uprobe:${target}:tl_add { printf("add %d %d %s\\n", arg0, arg1, func); }
       uretprobe:${target}:tl_add { printf("ret %d\\n", retval); }
       uprobe:${target}:tl_greet { printf("greet %s\\n", str(arg0)); }
       uretprobe:${target}:tl_greet { printf("len %d\\n", retval); }
       usdt:${target}:tracelet:tick { printf("tick %d %d %d\\n", arg0, arg1, arg2); }`,
      '-c', `${target} 2`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout.split('\n').filter((l) => /^(add|ret|greet|len|tick) /.test(l));
    expect(events).toEqual([
      'add 0 100 tl_add', 'ret 100', 'greet tracelet', 'len 8', 'tick 0 0 -7',
      'add 1 100 tl_add', 'ret 101', 'greet tracelet', 'len 8', 'tick 1 10 -7',
    ]);
    // The child's own output passes through.
    expect(r.stdout).toContain('target done 219\n');
    expect(r.stdout.startsWith('Attaching 5 probes...\n')).toBe(true);
    expectClean();
  });

  it('runs blocks on one site in program order, as bpftrace: a later block reads what an earlier one stored', () => {
    const r = runTracelet(['-e',
      `uprobe:${target}:tl_add { @x[tid] = arg0 + 100; printf("first\\n"); }
       uprobe:${target}:tl_add { printf("second %d\\n", @x[tid]); }
       uprobe:${target}:tl_a* { printf("third (a wildcard)\\n"); }
       uretprobe:${target}:tl_add { printf("ret1\\n"); }
       uretprobe:${target}:tl_add { printf("ret2\\n"); }
       usdt:${target}:tracelet:tick { printf("tick A %d\\n", arg0); }
       usdt:${target}:tracelet:tick { printf("tick B %d\\n", arg0); }`,
      '-c', `${target} 2`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const events = r.stdout.split('\n').filter((l) => /^(first|second|third|ret|tick)/.test(l));
    expect(events).toEqual([
      'first', 'second 100', 'third (a wildcard)', 'ret1', 'ret2', 'tick A 0', 'tick B 0',
      'first', 'second 101', 'third (a wildcard)', 'ret1', 'ret2', 'tick A 1', 'tick B 1',
    ]);
    expectClean();
  });

  it('keeps probe and func whole past 63 bytes (long paths, C++ names), in one program and in a wildcard\'s', () => {
    const deep = join(dir, 'a_directory_name_long_enough_to_push_every_probe_name_past_sixty_four_bytes');
    mkdirSync(deep, { recursive: true });
    const copy = join(deep, 'target');
    copyFileSync(target, copy);
    const r = runTracelet(['-e',
      `uprobe:${copy}:tl_add { printf("%s\\n", probe); @one[probe] = count(); }
       uprobe:${copy}:tl_* { @many[probe, func] = count(); }`, '-c', `${copy} 2`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`\nuprobe:${copy}:tl_add\n`);
    expect(r.stdout).toContain(`@one[uprobe:${copy}:tl_add]: 2\n`);
    expect(r.stdout).toContain(`@many[uprobe:${copy}:tl_add, tl_add]: 2\n`);
    expect(r.stdout).toContain(`@many[uprobe:${copy}:tl_greet, tl_greet]: 2\n`);
    expectClean();
  });

  it('uaddr() points to a signed integer of the symbol\'s size, as bpftrace 0.17: a whole int read, + moves by elements', () => {
    // table is long[4] (an 8-byte element is read), tl_watched a long set to i + 1 after the tick.
    const r = runTracelet(['-e', `uprobe:${target}:tl_add { printf("%d %d %d %d\\n", *uaddr("table"), *(uaddr("table") + 2), `
      + `*uaddr("tl_watched"), (uint64)(uaddr("table") + 1) - (uint64)uaddr("table")); }`, '-c', `${target} 2`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter((l) => /^\d/.test(l) && !l.startsWith('target'))).toEqual(['11 33 0 8', '11 33 1 8']);
    expectClean();
  });

  it('names a uprobe\'s arguments from DWARF: args->name, and fields of structs behind pointers', () => {
    // The target again, with -g (bpftrace 0.17 with libdw aborts on this struct's anonymous members).
    const withDwarf = join(dir, 'target-g');
    execFileSync('gcc', ['-O0', '-g', '-no-pie', '-o', withDwarf, SOURCE]);
    const r = runTracelet(['-e',
      `uprobe:${withDwarf}:tl_add { printf("add %d %d\\n", args->a, args->b); }
       uprobe:${withDwarf}:tl_greet { printf("greet %s\\n", str(args->name)); }
       uprobe:${withDwarf}:inspect_record { printf("rec %c %d %d %d %s %d %d\\n", args->r->tag, args->r->as_int, args->r->points[1].y,
         args->r->range.lo, str(args->r->names[1]), args->r->next->grid[1][2], args->r->state); }`,
      '-c', `${withDwarf} 1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^(add|greet|rec) /.test(l))).toEqual(['add 0 100', 'greet tracelet', 'rec T 16909060 -4 -5 beta 6 5']);
    // -lv lists them as bpftrace 0.17 (built with libdw) does.
    expect(runTracelet(['-lv', `uprobe:${withDwarf}:tl_*`]).stdout).toBe(
      `uprobe:${withDwarf}:tl_add\n    int a\n    int b\nuprobe:${withDwarf}:tl_greet\n    const char* name\n`);
    expect(runTracelet(['-lv', `uprobe:${withDwarf}:inspect_record`]).stdout).toBe(`uprobe:${withDwarf}:inspect_record\n    const struct tl_record* r\n`);
    // An alias lists the parameters of the function at its address, the ones args-> reads.
    expect(runTracelet(['-lv', `uprobe:${withDwarf}:aliased_sum`]).stdout).toBe(`uprobe:${withDwarf}:aliased_sum\n    int left\n    int right\n`);
    // Without DWARF: the names alone.
    expect(runTracelet(['-lv', `uprobe:${target}:tl_add`]).stdout).toBe(`uprobe:${target}:tl_add\n`);
    // A cast to a struct of the file's DWARF, as bpftrace 0.17 casts (`unknown type` before).
    const cast = runTracelet(['-e', `uprobe:${withDwarf}:inspect_record { $r = (struct tl_record *)arg0;
      printf("cast %c %d %d %s %d %d\\n", $r->tag, $r->points[1].y, ((struct tl_record *)arg0)->range.lo, str($r->names[1]),
        $r->next->grid[1][2], sizeof(struct tl_record)); }`, '-c', `${withDwarf} 1`]);
    expect(cast.code, cast.stderr).toBe(0);
    expect(cast.stdout.split('\n').filter((l) => l.startsWith('cast '))).toEqual(['cast T -4 -5 beta 6 160']);
    // Not in a kernel probe: a uprobe file's types are its own.
    const kernelSide = runTracelet(['-e', 'BEGIN { $r = (struct tl_record *)0; }']);
    expect(kernelSide.stderr).toContain("unknown type 'struct tl_record'");
  });

  it('says when a uprobe\'s target has no DWARF for args, and points to arg0..', () => {
    const r = runTracelet(['-e', `uprobe:${target}:tl_add { @[args->a] = count(); }`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1:\d+: error: no DWARF debug info for tl_add in \S+: its arguments have no names here\n/);
    expect(r.stderr).toContain('hint: build it with -g (or install its debug symbols), or use arg0, arg1, ...');
  });

  it('reads USDT arguments at base + index * scale + offset (gcc -O2\'s array elements); refuses what it cannot read, never a silent 0', () => {
    const r = runTracelet(['-e', `usdt:${target}:tracelet:indexed { printf("elements %d %d\\n", arg0, arg1); }`, '-c', `${target} 3`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('elements'))).toEqual(['elements 11 22', 'elements 22 33', 'elements 33 44']);
    const unreadable = join(dir, 'unreadable');
    execFileSync('gcc', ['-O0', '-no-pie', '-DTL_UNREADABLE_USDT', '-o', unreadable, SOURCE]);
    const float = runTracelet(['-e', `usdt:${unreadable}:tracelet:unreadable { print(arg0); }`, '-c', `${unreadable} 1`]);
    expect(float.code).toBe(1);
    expect(float.stderr).toMatch(/error: arg0 of usdt:.*:tracelet:unreadable cannot be read: its spec `4f@%\w+` is a floating-point value/);
    const rip = runTracelet(['-e', `usdt:${unreadable}:tracelet:unreadable { print(arg1); }`, '-c', `${unreadable} 1`]);
    expect(rip.code).toBe(1);
    expect(rip.stderr).toMatch(/cannot be read: its spec `-8@tl_watched\(%rip\)` is an address relative to %rip/);
    expectClean();
  });

  it('a USDT probe behind a semaphore fires once attached (ref_ctr_offset)', () => {
    const r = runTracelet(['-e', `usdt:${target}:gated { @g[arg0] = count(); }`, '-c', `${target} 3`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('@g[0]: 1\n');
    expect(r.stdout).toContain('@g[2]: 1\n');
    expectClean();
  });

  it("reads a C struct through the script's own definitions exactly as gcc laid it out", () => {
    // The definitions come verbatim from target.c: typedefs, an anonymous union, a nested struct,
    // bit-fields (`: 0`, units of 32 and 64 bits), function pointers, 2-D arrays, a self pointer,
    // a packed struct and an aligned(16) member.
    const text = readFileSync(SOURCE, 'utf8');
    const definitions = text.slice(text.indexOf('// BEGIN C definitions'), text.indexOf('// END C definitions'));
    const r = runTracelet(['-e', `${definitions}
      uprobe:${target}:inspect_record {
        $r = (struct tl_record *)arg0;
        printf("%c %x %d %d %d %d %d\\n", $r->tag, $r->as_int, $r->as_bytes[0], $r->range.lo, $r->range.hi,
          $r->points[1].x, $r->points[1].y);
        printf("%d %d %lx %x\\n", $r->small, $r->mid, $r->wide, $r->low);
        printf("%d %d %d %s %s %d\\n", $r->handler != 0, $r->ops[1] == 0, $r->state == TL_BUSY,
          str($r->names[0]), str($r->names[1]), $r->grid[1][2]);
        printf("%d %d %c %d\\n", $r->size, sizeof(struct tl_record), $r->next->last, $r->next == $r);
        printf("%d %d %x %x %d\\n", $r->wire.version, $r->wire.flags, $r->wire.length, $r->wire.addr, $r->aligned);
        exit();
      }`, '-c', `${target} 1`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('T 1020304 4 -5 7 3 -4\n5 1234 123456789a 2abcdef1\n1 1 1 alpha beta 6\n160 160 Z 1\n4 9 1234 deadbeef -3\n');
    expectClean();
  });

  it('expands wildcards, raw addresses and C++ names', () => {
    const nm = execFileSync('nm', [target], { encoding: 'utf8' });
    const addAddr = /^([0-9a-f]+) T tl_add$/m.exec(nm)![1]!;
    const r = runTracelet(['-e',
      `uprobe:${target}:tl_* { @f[func] = count(); }
       uprobe:${target}:cpp:tl::hello::wave { @w[probe] = sum(arg0); }
       uprobe:${target}:"tl::hello::wave" { @w2[probe] = count(); }
       uprobe:${target}:0x${addAddr} { @raw[func, probe] = count(); }`,
      '-c', `${target} 3`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('@f[tl_add]: 3\n');
    expect(r.stdout).toContain('@f[tl_greet]: 3\n');
    expect(r.stdout).toContain(`@w[uprobe:${target}:tl::hello::wave(int)]: 3\n`);
    // As bpftrace 0.17: a C++ function written demangled is named by its symbol; an address in decimal.
    expect(r.stdout).toContain(`@w2[uprobe:${target}:_ZN2tl5hello4waveEi]: 3\n`);
    // An address's `func` is the function it starts, as in bpftrace.
    expect(r.stdout).toContain(`@raw[tl_add, uprobe:${target}:${BigInt(`0x${addAddr}`)}]: 3\n`);
    expectClean();
  });

  it("prints a C++ function's func demangled, as bpftrace (its probe keeps the name written); mangled with BPFTRACE_NO_CPP_DEMANGLE=1", () => {
    const program = `uprobe:${target}:_ZN2tl5hello4waveEi { @one[func, probe] = count(); }
       uprobe:${target}:_ZN2tl5hello4waveEi, uprobe:${target}:tl_add { @many[func] = count(); }`;
    const r = runTracelet(['-e', program, '-c', `${target} 2`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`@one[tl::hello::wave(int), uprobe:${target}:_ZN2tl5hello4waveEi]: 2\n`);
    expect(r.stdout).toContain('@many[tl::hello::wave(int)]: 2\n');
    expect(r.stdout).toContain('@many[tl_add]: 2\n');
    const mangled = runTracelet(['-e', program, '-c', `${target} 2`], { env: { BPFTRACE_NO_CPP_DEMANGLE: '1' } });
    expect(mangled.stdout).toContain(`@one[_ZN2tl5hello4waveEi, uprobe:${target}:_ZN2tl5hello4waveEi]: 2\n`);
    expect(mangled.stdout).toContain('@many[_ZN2tl5hello4waveEi]: 2\n');
    expectClean();
  });

  it('refuses a uprobe inside a function, which it cannot check is at an instruction, unless --unsafe', () => {
    // A breakpoint in the middle of an instruction made the traced process die of SIGSEGV.
    const nm = execFileSync('nm', [target], { encoding: 'utf8' });
    const inside = (BigInt(`0x${/^([0-9a-f]+) T tl_add$/m.exec(nm)![1]!}`) + 4n).toString(16);
    for (const spec of ['tl_add+4', `0x${inside}`]) {
      const refused = runTracelet(['-e', `uprobe:${target}:${spec} { @off = count(); }`, '-c', `${target} 3`]);
      expect(refused.stderr).toContain(`error: cannot check that ${target}:tl_add+4 is at the start of an instruction`);
      expect(refused.stderr).toContain('--unsafe attaches it unchecked');
      expect(refused.code).toBe(1);
    }
    const unsafe = runTracelet(['--unsafe', '-e', `uprobe:${target}:tl_add+4 { @off = count(); }`, '-c', `${target} 3`]);
    expect(unsafe.stderr).toContain(`warning: ${target}:tl_add+4 is attached unchecked`);
    expect(unsafe.code).toBe(0);
    expect(unsafe.stdout).toContain('@off: 3\n');
    const returning = runTracelet(['--unsafe', '-e', `uretprobe:${target}:tl_add+4 { @off = count(); }`, '-c', `${target} 3`]);
    expect(returning.stderr).toContain('a uretprobe cannot be attached inside a function');
    expect(returning.code).toBe(1);
    expectClean();
  });

  it('attaches the uprobes of a wildcard through one multi-uprobe link, and counts every call', () => {
    const program = `uprobe:${target}:tl_* { @calls = count(); } uretprobe:${target}:tl_* { @returns = count(); }`;
    const checked = typecheck(parse(program).program, new SystemKernel());
    const plans = generate(checked.program!, new SystemKernel());
    expect(plans.programs.map((p) => [p.type, p.targets.length])).toEqual([['uprobe_multi', 2], ['uprobe_multi', 2]]);
    const r = runTracelet(['-e', program, '-c', `${target} 3`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('@calls: 6\n');
    expect(r.stdout).toContain('@returns: 6\n');
    expectClean();
  });

  it('names func and probe of a wildcard\'s uprobes from one multi-uprobe program (by attach cookie)', () => {
    const program = `uprobe:${target}:tl_* { @f[func, probe] = count(); } uretprobe:${target}:tl_* { @r[func] = count(); }`;
    const checked = typecheck(parse(program).program, new SystemKernel());
    const plans = generate(checked.program!, new SystemKernel());
    // One program for the two functions of each probe, not one each.
    expect(plans.programs.map((p) => [p.type, p.targets.length])).toEqual([['uprobe_multi', 2], ['uprobe_multi', 2]]);
    const r = runTracelet(['-e', program, '-c', `${target} 3`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`@f[tl_add, uprobe:${target}:tl_add]: 3\n`);
    expect(r.stdout).toContain(`@f[tl_greet, uprobe:${target}:tl_greet]: 3\n`);
    expect(r.stdout).toContain('@r[tl_add]: 3\n');
    expect(r.stdout).toContain('@r[tl_greet]: 3\n');
    expectClean();
  });

  it('leaves out functions whose first instruction uprobes cannot step over, and says which', () => {
    // glibc's AVX-512 memset begins with an EVEX-encoded instruction: a uprobe there crashed every
    // process that called it. Named alone, it is refused; in a wildcard, left out with a warning.
    const libc = '/lib/x86_64-linux-gnu/libc.so.6';
    const alone = runTracelet(['-e', `uprobe:${libc}:__memset_avx512_unaligned_erms { @ = count(); }`]);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/cannot attach uprobe:.*__memset_avx512_unaligned_erms: their first instruction is AVX-512 \(EVEX-encoded\)/);
    const wildcard = runTracelet(['-e', `uprobe:${libc}:__memset_* { @[func] = count(); } uprobe:${target}:tl_add { @add = count(); }`, '-c', `${target} 2`]);
    expect(wildcard.code).toBe(0);
    expect(wildcard.stderr).toMatch(/^WARNING: \d+ of \d+ uprobes in .*libc\.so\.6 were left out: their first instruction is AVX-512 \(EVEX-encoded\).*__memset_avx512_unaligned_erms/m);
    expect(wildcard.stdout).toContain('@add: 2\n');
    expectClean();
  });

  it('resolves library names like bpftrace (uprobe:libc:...)', () => {
    const r = runTracelet(['-e', 'uprobe:libc:nanosleep /pid == cpid/ { @sleeps = count(); }', '-c', `${target} 3 10`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('@sleeps: 3\n');
    expectClean();
  });

  it('-c: a usdt probe fires in the command\'s process only, a uprobe in every process, as bpftrace 0.17', async () => {
    const other = spawn(target, ['600', '20'], { stdio: 'ignore' });
    try {
      const r = runTracelet(['-e', `usdt:${target}:tracelet:tick { @usdt[pid == cpid] = count(); } uprobe:${target}:tl_add { @uprobe[pid == cpid] = count(); }`,
        '-c', `${target} 3 200`]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('@usdt[1]: 3\n');
      expect(r.stdout).not.toContain('@usdt[0]');
      expect(r.stdout).toContain('@uprobe[1]: 3\n');
      expect(r.stdout).toMatch(/^@uprobe\[0\]: [1-9]\d*$/m);
    } finally {
      other.kill();
    }
    expectClean();
  });

  it('-c holds the child until attached; cpid is its pid; uprobes target only it', async () => {
    const r = runTracelet(['-e', `BEGIN { printf("cpid %d\\n", cpid > 0); } uprobe:${target}:tl_add /pid == cpid/ { @mine = count(); } uprobe:${target}:tl_add /pid != cpid/ { @other = count(); }`,
      '-c', `${target} 4`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cpid 1\n');
    // Held until attach: every call is seen, from the first.
    expect(r.stdout).toContain('@mine: 4\n');
    // Never incremented: a keyless count() prints 0, as in bpftrace.
    expect(r.stdout).toContain('@other: 0\n');
    expectClean();
  });

  it('watchpoint probes attach as perf breakpoints and detach', () => {
    const r = runTracelet(['-e', `watchpoint:${watched}:8:w { @writes = count(); }`, '-c', `${target} 3`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Attaching 1 probe\.\.\.\n/);
    expectClean();
  });
});

describe('-p PID', () => {
  it('attaches uprobes to that process only and ends with exit 0 when it exits', async () => {
    const victim = spawn(target, ['30', '150'], { stdio: 'ignore' });
    const other = spawn(target, ['60', '150'], { stdio: 'ignore' });
    const t = startTracelet(['-e', `uprobe:${target}:tl_add { @calls[pid] = count(); }`, '-p', String(victim.pid)]);
    await t.attached;
    const ids = programIdsOf(t.child.pid!);
    expect(ids.length).toBeGreaterThan(0);
    const r = await t.done;
    other.kill();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`@calls\\[${victim.pid}\\]: \\d+\\n`));
    expect(r.stdout).not.toContain(`@calls[${other.pid}]`);
    const loaded = loadedProgramIds();
    expect(ids.filter((id) => loaded.has(id))).toEqual([]);
    expectClean();
  });

  it('rejects a pid that does not exist', () => {
    const r = runTracelet(['-e', 'BEGIN { exit(); }', '-p', '999999999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no such process');
  });
});

describe('perf-event and raw tracepoint probes', () => {
  it('profile and software events fire on every CPU', () => {
    const r = runTracelet(['-e',
      'profile:hz:199 { @p = count(); } software:cpu-clock:1000000 { @clock = count(); } software:cs:1 { @cs = count(); } software:faults:1 { @pf = count(); } interval:ms:400 { exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const m of ['@p', '@clock', '@cs', '@pf']) expect(r.stdout).toMatch(new RegExp(`${m}: [1-9]\\d*\\n`));
  });

  it('rejects unknown software events with a hint', () => {
    const r = runTracelet(['-e', 'software:cpu-clocks { @ = count(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown software event 'cpu-clocks'");
    expect(r.stderr).toContain('did you mean software:cpu-clock?');
  });

  it('rawtracepoint reads BTF-typed arguments, through pointers', () => {
    const r = runTracelet(['-e',
      'rawtracepoint:sched_switch { @[args->next->pid == args->next->pid + (int64)(arg2 - arg2)] = count(); @n = count(); if (@n >= 10) { exit(); } } '
      + 'rawtracepoint:sched_process_exec { @exec = count(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/@\[1\]: \d+\n/);
    expect(r.stdout).toMatch(/@n: [1-9]\d+\n/);
  });
});

describe('kernel types', () => {
  it('reads struct fields, pointer chains, char arrays, nested structs, sizeof and offsetof', () => {
    const r = runTracelet(['-e',
      'struct Foo { int a; char b[3]; long c; }; '
      + 'BEGIN { printf("%d %d %s %d %d %d %d\\n", (uint64)curtask->pid == pid, ((struct task_struct *)curtask)->real_parent->pid > 0, '
      + 'curtask->comm, sizeof(struct Foo), offsetof(struct Foo, c), sizeof(curtask->comm), curtask->se.load.weight > 0); '
      + '$p = (struct task_struct *)curtask; printf("%s %d %d\\n", $p->group_leader->comm, (*$p).pid == $p->pid, $p->comm[0] == 116); exit(); }']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Attaching 1 probe...\n1 1 tracelet 16 8 16 1\ntracelet 1 1\n\n\n');
  });

  const kernel = new SystemKernel();
  const diagnose = (src: string) => {
    const parsed = parse(src, {});
    return typecheck(parsed.program, kernel, {}).diagnostics.filter((d) => d.severity === 'error');
  };

  it('reports unknown structs and fields with stable codes, spans and hints', () => {
    const [a] = diagnose('BEGIN { @ = curtask->commm; }');
    expect(a!.code).toBe('E_UNKNOWN_FIELD');
    expect(a!.hint).toBe('did you mean comm?');
    expect(a!.span.column).toBe(22);
    const [b] = diagnose('BEGIN { @ = ((struct task_strukt *)0)->pid; }');
    expect(b!.code).toBe('E_UNKNOWN_STRUCT');
    expect(b!.span.column).toBe(15);
    const [c] = diagnose('struct X { int a; }; BEGIN { @ = offsetof(struct X, b); }');
    expect(c!.code).toBe('E_UNKNOWN_FIELD');
    const [d] = diagnose('BEGIN { @ = *comm; }');
    expect(d!.code).toBe('E_TYPE');
    const [e] = diagnose('kfunc:vfs_read { @ = args->cnt; }');
    expect(e!.code).toBe('E_UNKNOWN_FIELD');
    expect(e!.hint).toBe('did you mean count?');
  });
});

describe('probe types this machine lacks: one sentence, the exit code bpftrace 0.17 gives', () => {
  // 0.17's type checker refuses kfunc and iter (exit 1); kprobes and hardware fail to attach (255).
  const cases: [string, string, number][] = [
    ['kprobe:vfs_read { @ = count(); }', 'kprobes are not available: this kernel was built without CONFIG_KPROBES', 255],
    ['kretprobe:vfs_read { @ = count(); }', 'kprobes are not available: this kernel was built without CONFIG_KPROBES', 255],
    ['kfunc:vfs_read { @[args->count] = count(); }', 'kfunc/fentry probes are not available: this kernel cannot load BPF tracing programs', 1],
    ['fexit:vfs_read { @ = retval; }', 'kfunc/fentry probes are not available: this kernel cannot load BPF tracing programs', 1],
    ['hardware:cycles:100000 { @ = count(); }', 'hardware counters are not available on this machine (no CPU PMU: perf_event_open gave ENOENT)', 255],
    ['iter:task { @ = count(); }', 'iter probes are not available: this kernel cannot load BPF iterator programs', 1],
  ];
  for (const [program, message, code] of cases) {
    it(program.split(' ')[0]!, () => {
      const r = runTracelet(['-e', program]);
      expect(r.code).toBe(code);
      expect(r.stderr).toBe(`tracelet: ${message}\n`);
      expectClean();
    });
  }
});

describe('-l listing, compared with bpftrace 0.17', () => {
  const bpftrace = (args: string[]) => spawnSync('bpftrace', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
  for (const pattern of [
    'tracepoint:sched:*', 't:syscalls:sys_enter_open*', 'uprobe:/bin/bash:read*', 'uprobe:libc:*', 'usdt:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0:*',
    // Several patterns; an exact software or hardware event, with its count or without.
    'tracepoint:sched:sched_switch,tracepoint:sched:sched_s*', 'software:cpu-clock', 'software:cpu-clock:1000', 'hardware:cache-misses',
  ]) {
    it(`-l '${pattern}'`, () => {
      const r = runTracelet(['-l', pattern]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(bpftrace(['-l', pattern]));
    });
  }

  it('-l of a pattern that matches C++ functions by their demangled names lists their own names, as bpftrace', () => {
    const pattern = `uprobe:${target}:tl*`;
    const r = runTracelet(['-l', pattern]);
    expect(r.stdout).toContain(`uprobe:${target}:_ZN2tl5hello4waveEi\n`);
    expect(r.stdout).toBe(bpftrace(['-l', pattern]));
  });

  it('finds a stripped file\'s functions in its debug file through .gnu_debuglink (beside it or in .debug/), as bpftrace', () => {
    for (const where of ['beside', '.debug']) {
      const sub = join(dir, `linked-${where}`);
      mkdirSync(join(sub, '.debug'), { recursive: true });
      const bin = join(sub, 'target');
      execFileSync('gcc', ['-O0', '-g', '-no-pie', '-o', bin, SOURCE]);
      const debug = join(where === 'beside' ? sub : join(sub, '.debug'), 'target.debug');
      execFileSync('objcopy', ['--only-keep-debug', bin, debug]);
      execFileSync('strip', ['--strip-all', bin]);
      execFileSync('objcopy', [`--add-gnu-debuglink=${debug}`, bin]);
      const listed = runTracelet(['-l', `uprobe:${bin}:tl_*`]);
      expect(listed.stdout, where).toBe(`uprobe:${bin}:tl_add\nuprobe:${bin}:tl_greet\n`);
      expect(listed.stdout, where).toBe(bpftrace(['-l', `uprobe:${bin}:tl_*`]));
      const r = runTracelet(['-e', `uprobe:${bin}:tl_add { @calls = count(); }`, '-c', `${bin} 3`]);
      expect([r.code, r.stderr], where).toEqual([0, '']);
      expect(r.stdout, where).toContain('@calls: 3\n');
    }
  });

  it('-l of a file that is not an ELF file is an error (exit 1), as in bpftrace and as a run', () => {
    const script = join(dir, 'not-elf.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    for (const provider of ['uprobe', 'usdt']) {
      const r = runTracelet(['-l', `${provider}:${script}:*`]);
      expect([r.code, r.stdout], provider).toEqual([1, '']);
      expect(r.stderr, provider).toBe(`tracelet: ${script} is not an ELF file (a program or library)\n`);
    }
  });

  it('-l takes quoted fields, as a program does', () => {
    for (const pattern of [`uprobe:${target}:"tl_add"`, `uprobe:"${target}":tl_add`, `usdt:${target}:"tracelet":"tick"`,
      `uprobe:${target}:"tl::hello::wave*"`, 'tracepoint:syscalls:"sys_enter_openat"']) {
      const r = runTracelet(['-l', pattern]);
      expect([r.code, r.stderr], pattern).toEqual([0, '']);
      expect(r.stdout, pattern).not.toBe('');
      expect(r.stdout, pattern).toBe(bpftrace(['-l', pattern]));
    }
  });

  it('-l takes one pattern: a second is a usage error (exit 1), as in bpftrace', () => {
    const r = runTracelet(['-l', 'tracepoint:sched:sched_switch', 'tracepoint:irq:*']);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain("-l takes one pattern, not 'tracepoint:irq:*' too");
    // A tracepoint without its event is an error too (a wildcard may stand for both).
    const half = runTracelet(['-l', 'tracepoint:sched']);
    expect([half.code, half.stdout]).toEqual([1, '']);
    expect(runTracelet(['-l', 'tracepoint:sched*']).stdout).toBe(bpftrace(['-l', 'tracepoint:sched*']));
  });

  it("-lv 'tracepoint:syscalls:sys_enter_open*' shows arguments as bpftrace does", () => {
    const r = runTracelet(['-lv', 'tracepoint:syscalls:sys_enter_open*']);
    expect(r.stdout).toBe(bpftrace(['-lv', 'tracepoint:syscalls:sys_enter_open*']));
  });

  it('lists the target program, raw tracepoints, software events and kfuncs', () => {
    expect(runTracelet(['-l', `uprobe:${target}:*`]).stdout).toBe(bpftrace(['-l', `uprobe:${target}:*`]));
    expect(runTracelet(['-l', `usdt:${target}:*`]).stdout).toBe(`usdt:${target}:tracelet:gated\nusdt:${target}:tracelet:indexed\nusdt:${target}:tracelet:tick\n`);
    expect(runTracelet(['-l', '*sched_switch*']).stdout).toBe('rawtracepoint:sched_switch\ntracepoint:sched:sched_switch\n');
    expect(runTracelet(['-l', 'software:*']).stdout).toContain('software:cpu-clock:\nsoftware:cpu-migrations:\n');
    expect(runTracelet(['-lv', 'rawtracepoint:sched_switch']).stdout)
      .toBe('rawtracepoint:sched_switch\n    bool preempt\n    struct task_struct * prev\n    struct task_struct * next\n    unsigned int prev_state\n');
  });

  it('-p PID -l lists the probes of the process\'s program as bpftrace 0.17 names them (through /proc/PID/root)', () => {
    // Alive for the whole test (it is killed at the end), however slowly eight listings run.
    const victim = spawn(target, ['600', '100'], { stdio: 'ignore' });
    try {
      const root = `/proc/${victim.pid}/root${target}`;
      for (const pattern of ['usdt:*', 'usdt:*:tracelet:tick', `usdt:${target}:*`, `uprobe:${target}:tl_*`]) {
        const r = runTracelet(['-p', String(victim.pid), '-l', pattern]);
        expect([r.code, r.stderr]).toEqual([0, '']);
        expect(r.stdout).toBe(bpftrace(['-p', String(victim.pid), '-l', pattern]));
        // USDT files are named through the process's root; a uprobe's file as written.
        expect(r.stdout.includes(root)).toBe(pattern.startsWith('usdt'));
      }
    } finally {
      victim.kill();
    }
  });

  it('-p PID: usdt:* is every file the process runs, its libraries too; a file is named through the process\'s root, as bpftrace 0.17', () => {
    // The target's code in a library (its main renamed) that a small program calls.
    const lib = join(dir, 'libtltarget.so');
    execFileSync('gcc', ['-O0', '-shared', '-fPIC', '-Dmain=tl_lib_main', '-o', lib, SOURCE]);
    const hostSource = join(dir, 'host.c');
    writeFileSync(hostSource, 'int tl_lib_main(int, char **);\nint main(int c, char **v) { return tl_lib_main(c, v); }\n');
    const host = join(dir, 'host');
    execFileSync('gcc', ['-o', host, hostSource, `-L${dir}`, '-ltltarget', `-Wl,-rpath,${dir}`]);
    const victim = spawn(host, ['600', '50'], { stdio: 'ignore' });
    try {
      const inRoot = `/proc/${victim.pid}/root${lib}`;
      const listed = runTracelet(['-p', String(victim.pid), '-l', 'usdt:*']);
      expect([listed.code, listed.stderr]).toEqual([0, '']);
      expect(listed.stdout).toBe(`usdt:${inRoot}:tracelet:gated\nusdt:${inRoot}:tracelet:indexed\nusdt:${inRoot}:tracelet:tick\n`);
      expect(listed.stdout).toBe(bpftrace(['-p', String(victim.pid), '-l', 'usdt:*']));
      const r = runTracelet(['-p', String(victim.pid), '-e',
        `usdt:*:tracelet:tick { @any[probe] = count(); } usdt:${lib}:tracelet:tick { @named[probe] = count(); } `
        + 'usdt::tracelet:tick { @none[probe] = count(); } interval:ms:400 { exit(); }']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      // `usdt::` (no file, as 0.17 takes it with -p) is the process's files, as `usdt:*:` is.
      expect(r.stdout).toMatch(new RegExp(`^@none\\[usdt:${inRoot}:tracelet:tick\\]: [1-9]\\d*$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^@any\\[usdt:${inRoot}:tracelet:tick\\]: [1-9]\\d*$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^@named\\[usdt:${inRoot}:tracelet:tick\\]: [1-9]\\d*$`, 'm'));
    } finally {
      victim.kill();
    }
  });

  it('-p PID and -c: a uprobe or usdt probe whose file is a wildcard is in the traced program, as in bpftrace', () => {
    const victim = spawn(target, ['40', '100'], { stdio: 'ignore' });
    try {
      const r = runTracelet(['-p', String(victim.pid), '-e', 'usdt:*:tracelet:tick { @u[probe] = count(); } uprobe:*:tl_add { @a = count(); } interval:ms:450 { exit(); }']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(new RegExp(`^@u\\[usdt:/proc/${victim.pid}/root${target}:tracelet:tick\\]: [1-9]\\d*$`, 'm'));
      expect(r.stdout).toMatch(/^@a: [1-9]\d*$/m);
    } finally {
      victim.kill();
    }
    const child = runTracelet(['-c', `${target} 3`, '-e', 'usdt:*:tracelet:tick { @u[probe] = count(); } uprobe:*:tl_add { @a = count(); }']);
    expect([child.code, child.stderr]).toEqual([0, '']);
    expect(child.stdout).toContain(`@u[usdt:${target}:tracelet:tick]: 3\n`);
    expect(child.stdout).toContain('@a: 3\n');
  });

  it("-c: uprobes fire in the command's children too, as in bpftrace (the command is no filter: /pid == cpid/ is)", () => {
    const script = join(mkdtempSync(join(tmpdir(), 'tl-wrap-')), 'wrap.sh');
    writeFileSync(script, `#!/bin/sh\n${target} 2\n${target} 1\n`, { mode: 0o755 });
    const r = runTracelet(['-c', script, '-e', `uprobe:${target}:tl_add { @all = count(); } uprobe:${target}:tl_add /pid == cpid/ { @own = count(); }`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('@all: 3\n@own: 0\n');
    rmSync(dirname(script), { recursive: true, force: true });
  });

  it('lists no probe of a type this kernel cannot attach, and says why on stderr (exit 0)', () => {
    const kernel = new SystemKernel();
    for (const [pattern, feature, why] of [['kprobe:*', 'kprobes', 'kprobes are not available'], ['kretprobe:vfs_read', 'kprobes', 'kprobes are not available'],
      ['kfunc:vfs_read', 'kfunc', 'kfunc/fentry probes are not available']] as const) {
      const r = runTracelet(['-lv', pattern]);
      expect(r.code).toBe(0);
      if (kernel.hasFeature(feature)) {
        expect(r.stdout).toContain(pattern.replace('*', ''));
        continue;
      }
      expect(r.stdout).toBe('');
      expect(r.stderr.startsWith(`tracelet: ${why}`) && r.stderr.endsWith('; none listed\n'), r.stderr).toBe(true);
    }
  });
});
