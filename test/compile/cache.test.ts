// The compile cache (src/compile/cache.ts): the key changes with each input that can change the
// object, a cached compile gives what a fresh one gives, and damaged, foreign or excess entries
// are never loaded. On FakeKernel: LLVM runs in-process, nothing is loaded into the kernel.
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDir, ObjectCache, type CacheKeyInputs } from '../../src/compile/cache.js';
import { compile, loadable, type CompileOptions } from '../../src/compile/compile.js';
import { FakeKernel } from '../helpers/fake-kernel.js';

const root = mkdtempSync(join(tmpdir(), 'tl-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `c${dirs++}`);

class IdentifiedKernel extends FakeKernel {
  constructor(private readonly id: string) {
    super();
  }
  identity() {
    return this.id;
  }
}

const PROGRAM = 'tracepoint:syscalls:sys_enter_openat /pid > 1/ { @[comm] = count(); printf("%d\\n", args->flags); }';
const OPTIONS: CompileOptions = { source: PROGRAM };

describe('the cache key', () => {
  const target = join(root, 'binary');
  writeFileSync(target, 'one');
  const base: CacheKeyInputs = { ir: 'define i64 @f() { ret i64 0 }', options: OPTIONS, kernel: 'k1', targets: [target] };
  const cache = new ObjectCache(freshDir(), 'tracelet 0.1.0|addon 1');

  it('is the same for the same inputs, whatever the order of the options', () => {
    expect(cache.key(base)).toBe(cache.key({ ...base, options: { ...OPTIONS } }));
    expect(cache.key({ ...base, options: { unsafe: true, source: PROGRAM } }))
      .toBe(cache.key({ ...base, options: { source: PROGRAM, unsafe: true } }));
    expect(cache.key({ ...base, options: { ...OPTIONS, pid: undefined } })).toBe(cache.key(base));
    // Whether LLVM runs at all is not an input of the object.
    expect(cache.key({ ...base, options: { ...OPTIONS, object: true } })).toBe(cache.key(base));
  });

  it('changes with each input', () => {
    const variants: CacheKeyInputs[] = [
      { ...base, ir: `${base.ir}\n` },
      { ...base, options: { ...OPTIONS, source: `${PROGRAM} ` } },
      { ...base, options: { ...OPTIONS, sourceName: 'tool.bt' } },
      { ...base, options: { ...OPTIONS, params: ['1'] } },
      { ...base, options: { ...OPTIONS, includes: ['linux/sched.h'] } },
      { ...base, options: { ...OPTIONS, unsafe: true } },
      { ...base, options: { ...OPTIONS, helperErrors: 1 } },
      { ...base, options: { ...OPTIONS, helperErrors: 2 } },
      { ...base, options: { ...OPTIONS, syscallDispatch: 'always' } },
      { ...base, options: { ...OPTIONS, syscallDispatch: 'never' } },
      { ...base, options: { ...OPTIONS, pid: 1 } },
      { ...base, options: { ...OPTIONS, mapKeysMax: 10 } },
      { ...base, options: { ...OPTIONS, stringLength: 32 } },
      { ...base, kernel: 'k2' },
      { ...base, targets: [] },
      { ...base, targets: [join(root, 'another')] },
    ];
    const keys = new Set([cache.key(base), ...variants.map((v) => cache.key(v))]);
    expect(keys.size).toBe(variants.length + 1);
    // tracelet's build (version, addon).
    expect(new ObjectCache(cache.dir, 'tracelet 0.1.1|addon 1').key(base)).not.toBe(cache.key(base));
    expect(new ObjectCache(cache.dir, 'tracelet 0.1.0|addon 2').key(base)).not.toBe(cache.key(base));
  });

  it('changes when a uprobe target file changes', () => {
    const before = cache.key(base);
    writeFileSync(target, 'two');
    utimesSync(target, new Date(2000, 1, 1), new Date(2000, 1, 1));
    expect(cache.key(base)).not.toBe(before);
  });

  it('every compile option is in it, even one added later', () => {
    // compile() hands the whole options object to the key: an option it does not know is an input.
    const withNew = { ...OPTIONS, somethingNew: 1 } as CompileOptions;
    expect(cache.key({ ...base, options: withNew })).not.toBe(cache.key(base));
  });
});

describe('compile() with a cache', () => {
  it('skips LLVM on the second compile and gives what a fresh compile gives', () => {
    const cache = new ObjectCache(freshDir(), 'build');
    const kernel = new IdentifiedKernel('k1');
    const fresh = compile(OPTIONS, kernel);
    const first = compile(OPTIONS, kernel, { cache });
    expect(first.cache).toMatchObject({ hit: false });
    expect(first.cache!.note).toBeUndefined();
    const second = compile(OPTIONS, kernel, { cache });
    expect(second.cache).toEqual({ hit: true, file: first.cache!.file });
    expect(second.object!.equals(fresh.object!)).toBe(true);
    expect(first.object!.equals(fresh.object!)).toBe(true);
    // What the Session gets beside the object is made afresh, the same.
    const { program: _p, object: _o, ...meta } = loadable(second)!;
    const { program: _q, object: _r, ...freshMeta } = loadable(fresh)!;
    expect(meta).toEqual(freshMeta);
  });

  it('with storeLater, writes a new object only when told to', () => {
    const cache = new ObjectCache(freshDir(), 'build', undefined, 0, true);
    const kernel = new IdentifiedKernel('k1');
    const first = compile(OPTIONS, kernel, { cache });
    expect(first.cache).toMatchObject({ hit: false });
    expect(existsSync(first.cache!.file!)).toBe(false);
    expect(compile(OPTIONS, kernel, { cache }).cache!.hit).toBe(false);
    expect(cache.storePending()).toBeUndefined();
    expect(readdirSync(cache.dir).filter((n) => n.endsWith('.o'))).toHaveLength(1);
    const again = compile(OPTIONS, kernel, { cache });
    expect(again.cache).toEqual({ hit: true, file: first.cache!.file });
    expect(again.object!.equals(first.object!)).toBe(true);
    expect(cache.storePending()).toBeUndefined();
  });

  it('compiles again for another kernel, other options or other code', () => {
    const cache = new ObjectCache(freshDir(), 'build');
    compile(OPTIONS, new IdentifiedKernel('k1'), { cache });
    expect(compile(OPTIONS, new IdentifiedKernel('k2'), { cache }).cache!.hit).toBe(false);
    expect(compile({ ...OPTIONS, helperErrors: 1 }, new IdentifiedKernel('k1'), { cache }).cache!.hit).toBe(false);
    expect(compile({ ...OPTIONS, source: `${PROGRAM}\n` }, new IdentifiedKernel('k1'), { cache }).cache!.hit).toBe(false);
    expect(compile(OPTIONS, new IdentifiedKernel('k1'), { cache }).cache!.hit).toBe(true);
    expect(readdirSync(cache.dir).filter((n) => n.endsWith('.o'))).toHaveLength(4);
  });

  it('a damaged entry is not loaded: compiled again and replaced', () => {
    const dir = freshDir();
    const kernel = new IdentifiedKernel('k1');
    const file = compile(OPTIONS, kernel, { cache: new ObjectCache(dir, 'build') }).cache!.file!;
    const good = readFileSync(file);
    const damages: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 1)],
      ['empty', Buffer.alloc(0)],
      ['a flipped byte', Buffer.from(good.map((b, i) => (i === good.length - 10 ? b ^ 1 : b)))],
      ['another format', Buffer.from(good.map((b, i) => (i === 8 ? b + 1 : b)))],
      ['a longer body', Buffer.concat([good, Buffer.from([0])])],
    ];
    for (const [what, bytes] of damages) {
      writeFileSync(file, bytes);
      const again = compile(OPTIONS, kernel, { cache: new ObjectCache(dir, 'build') });
      expect(again.cache, what).toMatchObject({ hit: false, file, note: `${file} was damaged: replaced` });
      expect(readFileSync(file).equals(good), what).toBe(true);
    }
    // Another key's entry under this key's name.
    const other = compile({ ...OPTIONS, unsafe: true }, kernel, { cache: new ObjectCache(dir, 'build') }).cache!.file!;
    writeFileSync(file, readFileSync(other));
    expect(compile(OPTIONS, kernel, { cache: new ObjectCache(dir, 'build') }).cache!.hit).toBe(false);
    expect(readFileSync(file).equals(good)).toBe(true);
  });

  it('is not used in a directory others can write into, or that belongs to another user', () => {
    const kernel = new IdentifiedKernel('k1');
    const open = freshDir();
    compile(OPTIONS, kernel, { cache: new ObjectCache(open, 'build') });
    chmodSync(open, 0o777);
    const r = compile(OPTIONS, kernel, { cache: new ObjectCache(open, 'build') });
    expect(r.cache).toEqual({ hit: false, note: `${open} is writable by others` });
    expect(r.object).toBeDefined();

    const foreign = freshDir();
    compile(OPTIONS, kernel, { cache: new ObjectCache(foreign, 'build') });
    chownSync(foreign, 65534, 65534);
    expect(compile(OPTIONS, kernel, { cache: new ObjectCache(foreign, 'build') }).cache)
      .toEqual({ hit: false, note: `${foreign} belongs to another user` });

    // An entry that is not ours, in our directory: not loaded.
    const dir = freshDir();
    const file = compile(OPTIONS, kernel, { cache: new ObjectCache(dir, 'build') }).cache!.file!;
    chownSync(file, 65534, 65534);
    expect(compile(OPTIONS, kernel, { cache: new ObjectCache(dir, 'build') }).cache)
      .toMatchObject({ hit: false, note: `${file} is not a file of ours: replaced` });
    expect(statSync(file).uid).toBe(process.geteuid!());
  });

  it('keeps the directory under its size bound, least recently used first, and removes stale temporary files', () => {
    const dir = freshDir();
    const kernel = new IdentifiedKernel('k1');
    const entry = (n: number) => compile({ source: `BEGIN { @x = ${n}; exit(); }` }, kernel, { cache: new ObjectCache(dir, 'build', 12_000, 0) });
    const first = entry(1).cache!.file!;
    const second = entry(2).cache!.file!;
    const size = statSync(first).size;
    expect(size * 2).toBeLessThan(12_000);
    // The first is used again (a hit), so the second is now the least recently used.
    utimesSync(second, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    expect(entry(1).cache!.hit).toBe(true);
    const stale = join(dir, '.tmp-1-dead');
    writeFileSync(stale, 'x');
    utimesSync(stale, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    const third = entry(3).cache!.file!;
    expect(size * 3).toBeGreaterThan(12_000);
    expect(readdirSync(dir).sort()).toEqual([first, third].map((f) => f.slice(dir.length + 1)).sort());
  });
});

describe('eviction, at most once a minute', () => {
  it('scans the directory on a store only if no run did in the last interval (the `evicted` file\'s time)', () => {
    const dir = freshDir();
    const kernel = new IdentifiedKernel('k1');
    const entry = (n: number) => compile({ source: `BEGIN { @x = ${n}; exit(); }` }, kernel, { cache: new ObjectCache(dir, 'build', 12_000, 60_000) });
    const objects = () => readdirSync(dir).filter((n) => n.endsWith('.o'));
    entry(1);
    const marker = join(dir, 'evicted');
    const scanned = statSync(marker).mtimeMs;
    entry(2);
    entry(3);
    // Past the bound (three entries), but the last scan was just now: none removed yet.
    expect(objects()).toHaveLength(3);
    expect(statSync(marker).mtimeMs).toBe(scanned);
    // A minute later, the next store scans: back under the bound, the least recently used gone.
    const aMinuteAgo = new Date(Date.now() - 61_000);
    utimesSync(marker, aMinuteAgo, aMinuteAgo);
    const fourth = entry(4).cache!.file!;
    expect(objects()).toHaveLength(2);
    expect(objects()).toContain(fourth.slice(dir.length + 1));
    expect(statSync(marker).mtimeMs).toBeGreaterThan(aMinuteAgo.getTime());
  });
});

describe('cacheDir', () => {
  it('is TRACELET_CACHE_DIR, else $XDG_CACHE_HOME/tracelet (if absolute), else ~/.cache/tracelet', () => {
    expect(cacheDir({ TRACELET_CACHE_DIR: '/x', XDG_CACHE_HOME: '/y' })).toBe('/x');
    expect(cacheDir({ XDG_CACHE_HOME: '/y' })).toBe('/y/tracelet');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toMatch(/\/\.cache\/tracelet$/);
    expect(cacheDir({})).toMatch(/\/\.cache\/tracelet$/);
  });
});
