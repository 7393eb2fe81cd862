// The compile cache as a user sees it: the second run of a program skips LLVM (`-v` says so) and
// prints what a fresh compile prints, without even loading LLVM's addon; a changed uprobe target
// is compiled again; runs started together share the directory safely; --no-cache neither reads
// nor writes it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTracelet, startTracelet } from '../helpers/run.js';

const root = mkdtempSync(join(tmpdir(), 'tl-cache-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `c${dirs++}`);

const HIT = /^INFO: object cache: hit, LLVM skipped: /m;
const MISS = /^INFO: object cache: miss, compiled by LLVM: /m;
const PROGRAM = 'BEGIN { @a[1, "x"] = 2; @h = hist(10); @s = sum(7); printf("begin %d %s\\n", 5, "y"); exit(); } END { printf("end\\n"); }';
const PRINTED = 'begin 5 y\nend\n\n\n@a[1, x]: 2\n@h: \n[8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@s: 7\n';

/**
 * Entries in a cache directory, and anything else left there but the prepared runs
 * (test/e2e/prepared-runs.test.ts) and `evicted` (when eviction last looked, src/compile/cache.ts).
 */
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name !== 'launch' && name !== 'evicted') : []);

describe('the compile cache', () => {
  it('skips LLVM on the second run, which prints what a fresh compile prints', () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    const first = runTracelet(['-v', '-e', PROGRAM], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(MISS);
    const second = runTracelet(['-v', '-e', PROGRAM], { env });
    expect(second.stderr).toMatch(HIT);
    expect(entries(env.TRACELET_CACHE_DIR)).toHaveLength(1);

    const cached = runTracelet(['-q', '-e', PROGRAM], { env });
    const fresh = runTracelet(['-q', '--no-cache', '-e', PROGRAM], { env });
    expect([cached.code, cached.stdout, cached.stderr]).toEqual([0, PRINTED, '']);
    expect([fresh.code, fresh.stdout, fresh.stderr]).toEqual([0, PRINTED, '']);
    // Another option: another object.
    expect(runTracelet(['-v', '-k', '-e', PROGRAM], { env }).stderr).toMatch(MISS);
  });

  it('loads LLVM\'s addon only when LLVM runs', async () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    /**
     * The addons mapped into a run of an attached program (the launcher execs Node in place,
     * unless it attaches the program itself, which it does not with -v).
     */
    const addonsWhileAttached = async () => {
      const run = startTracelet(['-q', '-v', '-e', 'tracepoint:syscalls:sys_enter_kill { @ = count(); }'], env);
      await run.attached;
      const maps = readFileSync(`/proc/${run.child.pid}/maps`, 'utf8');
      run.child.kill('SIGINT');
      expect((await run.done).code).toBe(0);
      return [...new Set(maps.match(/tracelet_\w+\.node/g))].sort();
    };
    expect(await addonsWhileAttached()).toEqual(['tracelet_llvm.node', 'tracelet_native.node']);
    expect(await addonsWhileAttached()).toEqual(['tracelet_native.node']);
  });

  it('stores a new object once the run is over, not while its probes run', async () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    // The store's opens and writes would be events of the user's own syscall probes.
    const runUntilAttached = async () => {
      const run = startTracelet(['-v', '-e', 'tracepoint:syscalls:sys_enter_openat { @ = count(); }'], env);
      await run.attached;
      const whileAttached = entries(env.TRACELET_CACHE_DIR);
      run.child.kill('SIGINT');
      const { code, stderr } = await run.done;
      expect(code).toBe(0);
      return { whileAttached, stderr };
    };
    const first = await runUntilAttached();
    expect(first.stderr).toMatch(MISS);
    expect(first.whileAttached).toEqual([]);
    expect(entries(env.TRACELET_CACHE_DIR)).toHaveLength(1);
    expect((await runUntilAttached()).stderr).toMatch(HIT);
  });

  it('gives back the file pages of its start, compile and load once the probes run, cold or warm', async () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    const rssFile = (pid: number) => Number(/RssFile:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    for (const run of ['cold', 'warm']) {
      // -v: no prepared run, whose launcher would be the process started here.
      const running = startTracelet(['-v', '-e', 'tracepoint:syscalls:sys_enter_kill { @ = count(); }'], env);
      await running.attached;
      // Given back just after the first drain; ~35 MiB of Node's, LLVM's and libbpf's code
      // otherwise (~18 MiB when only LLVM's went, after the compile).
      let mib = rssFile(running.child.pid!);
      for (let tries = 0; tries < 50 && mib >= 12; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        mib = rssFile(running.child.pid!);
      }
      running.child.kill('SIGINT');
      expect((await running.done).code, run).toBe(0);
      expect(mib, run).toBeLessThan(12);
    }
  });

  it('--no-cache neither reads nor writes the cache', () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    const r = runTracelet(['-v', '--no-cache', '-e', PROGRAM], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^INFO: object cache: off \(--no-cache\): compiled by LLVM$/m);
    expect(entries(env.TRACELET_CACHE_DIR)).toEqual([]);
    runTracelet(['-e', PROGRAM], { env });
    expect(runTracelet(['-v', '--no-cache', '-e', PROGRAM], { env }).stderr).not.toMatch(HIT);
  });

  it('runs without a cache where none can be made (mkdir says ENOENT under /proc: Node\'s recursive mkdir looped forever there)', () => {
    const r = runTracelet(['-v', '-e', PROGRAM], { env: { TRACELET_CACHE_DIR: '', XDG_CACHE_HOME: '/proc' }, timeoutMs: 20_000 });
    expect(r.signal).toBe(null);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^INFO: object cache: not used \(\/proc\/tracelet: ENOENT\): compiled by LLVM$/m);
    const nested = join(freshDir(), 'a', 'b');
    expect(runTracelet(['-e', PROGRAM], { env: { TRACELET_CACHE_DIR: '', XDG_CACHE_HOME: nested } }).code).toBe(0);
    expect(readdirSync(join(nested, 'tracelet')).some((f) => f.endsWith('.o'))).toBe(true);
  });

  describe('with a uprobe target', () => {
    const SOURCE = fileURLToPath(new URL('../fixtures/probes/target.c', import.meta.url));
    let target: string;
    beforeAll(() => {
      target = join(root, 'target');
      execFileSync('gcc', ['-O0', '-o', target, SOURCE]);
    });

    it('compiles again once the target file changed', () => {
      const env = { TRACELET_CACHE_DIR: freshDir() };
      const args = ['-v', '-e', `uprobe:${target}:tl_add { @[arg0] = count(); } BEGIN { exit(); }`];
      expect(runTracelet(args, { env }).stderr).toMatch(MISS);
      expect(runTracelet(args, { env }).stderr).toMatch(HIT);
      execFileSync('gcc', ['-O0', '-o', target, SOURCE]); // the same code, a new file
      const again = runTracelet(args, { env });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(MISS);
    });
  });

  it('runs started together all succeed and leave one whole entry', async () => {
    const dir = freshDir();
    const runs = Array.from({ length: 4 }, () => startTracelet(['-q', '-e', PROGRAM], { TRACELET_CACHE_DIR: dir }));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect([r.code, r.stdout, r.stderr]).toEqual([0, PRINTED, '']);
    expect(entries(dir)).toHaveLength(1);
    expect(entries(dir)[0]).toMatch(/^[0-9a-f]{64}\.o$/);
    expect(runTracelet(['-v', '-e', PROGRAM], { env: { TRACELET_CACHE_DIR: dir } }).stderr).toMatch(HIT);
  });
});

describe('the symbol caches', () => {
  const STACKS = 'profile:hz:99 { @[kstack(4)] = count(); } interval:ms:300 { exit(); }';
  const FROM_CACHE = /^INFO: kernel symbols: the core kernel's from the cache/m;
  /** Kernel frames as printed: named (`name+offset`), never a bare address. */
  const frames = (stdout: string) => stdout.split('\n').filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim());

  it('names kernel frames from the cache after the first run of a boot, as /proc/kallsyms does', () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    const first = runTracelet(['-v', '-e', STACKS], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^INFO: kernel symbols: \/proc\/kallsyms, the core kernel's stored in .*kallsyms-[0-9a-f-]+\.bin$/m);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    expect(entries(env.TRACELET_CACHE_DIR)).toContain(`kallsyms-${boot}.bin`);
    const second = runTracelet(['-v', '-e', STACKS], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(FROM_CACHE);
    const named = frames(second.stdout);
    expect(named.length).toBeGreaterThan(0);
    for (const f of named) expect(f).toMatch(/^[A-Za-z_.$][\w.$]*(\+\d+)?$/);
    // Idle CPUs were sampled in both runs: the same frames are named the same.
    const idle = (out: string) => frames(out).filter((f) => /^(default_idle|do_idle|cpu_startup_entry)\+/.test(f)).sort();
    expect(idle(second.stdout).filter((f) => idle(first.stdout).includes(f)).length).toBeGreaterThan(0);
  });

  it('keeps a large binary\'s symbol table sorted, and names its frames from it as from the file', () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    // BEGIN runs in tracelet's own process: its user stack is Node's (the node binary's 181k
    // symbols). `-B full` keeps the launcher from running it (a prepared run: its own stack).
    const own = 'BEGIN { @[ustack(8)] = count(); exit(); }';
    const first = runTracelet(['-q', '-B', 'full', '-e', own], { env });
    expect(first.code).toBe(0);
    const stored = readdirSync(join(env.TRACELET_CACHE_DIR, 'symbols'));
    expect(stored.filter((n) => /^[0-9a-f]{32}\.bin$/.test(n)).length).toBeGreaterThan(0);
    const second = runTracelet(['-q', '-B', 'full', '-e', own], { env });
    expect(second.code).toBe(0);
    expect(frames(second.stdout)).toEqual(frames(first.stdout));
    expect(frames(second.stdout).some((f) => f.startsWith('v8::') || f.startsWith('Builtins_'))).toBe(true);
  });

  it('--no-cache reads /proc/kallsyms and stores nothing', () => {
    const env = { TRACELET_CACHE_DIR: freshDir() };
    const run = runTracelet(['-v', '--no-cache', '-e', STACKS.replace('kstack(4)', 'kstack(4), ustack(4)')], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^INFO: kernel symbols: \/proc\/kallsyms \(no cache\)$/m);
    expect(entries(env.TRACELET_CACHE_DIR)).toEqual([]);
  });
});
