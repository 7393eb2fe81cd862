// bpftrace 0.26's config variables (src/model/config.ts) on the real kernel: set in a script's
// config block or in the environment (BPFTRACE_NAME, or bpftrace 0.17's older name), the
// environment winning.
import { describe, expect, it } from 'vitest';
import { runTracelet } from '../helpers/run.js';

function run(program: string, env: NodeJS.ProcessEnv = {}) {
  return runTracelet(['-e', program], { env });
}

describe('config variables', () => {
  it('max_strlen and max_cat_bytes, from the block, the environment (0.26 and 0.17 names), the environment winning', () => {
    // cat's first open is of /etc/ld.so.cache: str() reads max_strlen - 1 characters of it.
    const opened = 'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%s|\\n", str(args->filename)); exit(); }';
    const first = (program: string, env: NodeJS.ProcessEnv = {}) => {
      const r = runTracelet(['-c', 'cat /etc/hostname', '-e', program], { env });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').find((l) => l.endsWith('|'));
    };
    expect(first(`config = { max_strlen = 5 } ${opened}`)).toBe('/etc|');
    expect(first(opened, { BPFTRACE_MAX_STRLEN: '4' })).toBe('/et|');
    expect(first(opened, { BPFTRACE_STRLEN: '3' })).toBe('/e|');
    expect(first(`config = { max_strlen = 5 } ${opened}`, { BPFTRACE_MAX_STRLEN: '7' })).toBe('/etc/l|');
    const cat = 'BEGIN { cat("/proc/self/cmdline"); printf("|\\n"); exit(); }';
    expect(run(`config = { MAX_CAT_BYTES = 3 } ${cat}`).stdout.split('\n')[1]).toMatch(/^.{3}\|$/);
    expect(run(cat, { BPFTRACE_MAX_CAT_BYTES: '2' }).stdout.split('\n')[1]).toMatch(/^.{2}\|$/);
  });

  it('BPFTRACE_NO_USER_SYMBOLS=1 (bpftrace 0.17): user addresses are printed, not named', () => {
    const program = 'uprobe:libc:malloc /pid == cpid/ { printf("%s\\n", usym(reg("ip"))); @[ustack(perf, 1)] = count(); exit(); }';
    // A command that lives past the print: the names do not depend on how soon it exits.
    const named = runTracelet(['-c', 'sleep 0.2', '-e', program]);
    expect(named.stdout).toMatch(/^\w*malloc$/m);
    expect(named.stdout).toMatch(/^\t[0-9a-f]+ \w*malloc\+0 \(\/.*libc\.so\.6\)$/m);
    const unnamed = runTracelet(['-c', 'sleep 0.2', '-e', program], { env: { BPFTRACE_NO_USER_SYMBOLS: '1' } });
    expect(unnamed.stderr).toBe('');
    expect(unnamed.stdout).toMatch(/^0x[0-9a-f]+$/m);
    expect(unnamed.stdout).not.toMatch(/malloc/);
    expect(unnamed.stdout).toMatch(/^\t([0-9a-f]+) 0x\1 \(\[unknown\]\)$/m);
  });

  it('max_probes (BPFTRACE_MAX_PROBES): a program attaching more probes is refused; no limit unless set', () => {
    const program = 'tracepoint:syscalls:sys_enter_open*,tracepoint:syscalls:sys_exit_open* { @ = count(); } BEGIN { exit(); }';
    const limited = run(program, { BPFTRACE_MAX_PROBES: '2' });
    expect(limited.stderr).toMatch(/error: can't attach to \d+ probes because it exceeds the current limit of 2 probes/);
    expect(limited.code).toBe(1);
    expect(run(`config = { max_probes = 3 } ${program}`).code).toBe(1);
    const free = run(program);
    expect(free.stderr).toBe('');
    expect(free.stdout).toMatch(/^Attaching \d+ probes\.\.\./);
  });

  it('print_maps_on_exit = false: the maps are not printed at the end', () => {
    const r = run('config = { print_maps_on_exit = false } BEGIN { @a = 1; @b[1] = count(); print(@a); exit(); }');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Attaching 1 probe...\n@a: 1\n\n\n');
    expect(run('BEGIN { @a = 1; exit(); }', { BPFTRACE_PRINT_MAPS_ON_EXIT: 'false' }).stdout).toBe('Attaching 1 probe...\n\n\n');
  });

  it('stack_mode: the mode of kstack and ustack without one', () => {
    // BEGIN runs in the kernel (a test run): its stack is never empty, as an interval probe's is
    // when the timer interrupts user code (both CPUs busy with other tests).
    const r = run('config = { stack_mode = raw } BEGIN { @[kstack(2)] = count(); exit(); }');
    expect(r.stderr).toBe('');
    // raw: addresses only, one a line.
    expect(r.stdout).toMatch(/^@\[\n[0-9a-f]{16}\n[0-9a-f]{16}\n\]: 1\n$/m);
  });

  it('reports a bad value of an environment variable as a usage error', () => {
    const r = run('BEGIN { exit(); }', { BPFTRACE_STACK_MODE: 'fancy' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tracelet: Invalid value for BPFTRACE_STACK_MODE: fancy (needs one of: bpftrace, perf, raw, build_id)\n');
  });
});
