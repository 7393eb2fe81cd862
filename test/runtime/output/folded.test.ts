// -f folded: frame order, merging, escaping, values; and the SVG drawn from folded stacks.
import { describe, expect, it } from 'vitest';
import type { Type } from '../../../src/model/types.js';
import { INT64 } from '../../../src/model/types.js';
import {
  createFoldedFormatter, escapeFrame, foldMap, foldedFrameName, foldedText, hasStacks,
} from '../../../src/runtime/output/folded.js';
import { flameGraphSvg, formatAmount, frameKind } from '../../../src/runtime/output/flamegraph.js';
import type { Frame } from '../../../src/runtime/symbols.js';
import { STR64, count, entry, hist, max, min, scalar, snap, spec, stats, sum, tuple } from './helpers.js';

const KSTACK: Type = { kind: 'kstack', depth: 127, mode: 'bpftrace' };
const USTACK: Type = { kind: 'ustack', depth: 127, mode: 'bpftrace' };

const frame = (f: Partial<Frame>): Frame => ({ address: 0x1000n, offset: 0n, kind: 'user', ...f });

describe('folded frame names', () => {
  it('drop the offset and mark kernel and JIT frames as stackcollapse-perf --kernel --jit does', () => {
    expect(foldedFrameName(frame({ symbol: 'main', offset: 12n }))).toBe('main');
    expect(foldedFrameName(frame({ symbol: 'vfs_read', offset: 5n, kind: 'kernel', module: '[kernel.kallsyms]' }))).toBe('vfs_read_[k]');
    expect(foldedFrameName(frame({ symbol: 'LazyCompile:*fib /tmp/a.js:1', kind: 'jit' }))).toBe('LazyCompile:*fib /tmp/a.js:1_[j]');
  });

  it('name unknown frames by their module, else [unknown]', () => {
    expect(foldedFrameName(frame({ module: '/usr/lib/x86_64-linux-gnu/libc.so.6' }))).toBe('[libc.so.6]');
    expect(foldedFrameName(frame({}))).toBe('[unknown]');
    expect(foldedFrameName(frame({ kind: 'kernel' }))).toBe('[unknown]_[k]');
  });

  it('escape the separator and line breaks, keep spaces', () => {
    expect(escapeFrame('a;b')).toBe('a:b');
    expect(escapeFrame('two\nlines\tand\rmore')).toBe('two lines and more');
    expect(escapeFrame('std::vector<int, std::allocator<int> >::push_back(int const&)'))
      .toBe('std::vector<int, std::allocator<int> >::push_back(int const&)');
    expect(escapeFrame('')).toBe('[unknown]');
  });
});

describe('folding a map', () => {
  // Stacks as the runtime decodes them for -f folded: folded names, leaf first.
  const kstack = ['schedule_[k]', 'pipe_read_[k]', 'vfs_read_[k]'];
  const ustack = ['read', 'block_on_pipe', 'main'];

  it('puts other key parts at the root, then the user stack, then the kernel stack, root first', () => {
    const s = spec('@', 'sum', { key: tuple(KSTACK, USTACK, STR64) });
    expect(foldedText(foldMap(snap(s, [entry([kstack, ustack, 'waiter'], sum(1500))]))))
      .toBe('waiter;main;block_on_pipe;read;vfs_read_[k];pipe_read_[k];schedule_[k] 1500\n');
  });

  it('merges equal paths (frames that differ only by offset or pid) and sorts by path', () => {
    const s = spec('@', 'count', { key: tuple(STR64, USTACK) });
    const stacks = foldMap(snap(s, [
      entry(['b', ['f', 'main']], count(2)),
      entry(['a', ['g', 'main']], count(1)),
      entry(['b', ['f', 'main']], count(3)),
    ]));
    expect(foldedText(stacks)).toBe('a;main;g 1\nb;main;f 5\n');
  });

  it('combines min and max by their extreme, avg by re-averaging, hist and stats by the values recorded', () => {
    const key = tuple(USTACK);
    const two = (v1: ReturnType<typeof min>, v2: ReturnType<typeof min>) => [entry([['f']], v1), entry([['f']], v2)];
    expect(foldMap(snap(spec('@', 'min', { key }), two(min(7), min(3))))[0]!.value).toBe(3n);
    expect(foldMap(snap(spec('@', 'max', { key }), two(max(7), max(3))))[0]!.value).toBe(7n);
    expect(foldMap(snap(spec('@', 'avg', { key }), two(stats('avg', [10]), stats('avg', [20, 30]))))[0]!.value).toBe(20n);
    expect(foldMap(snap(spec('@', 'stats', { key }), two(stats('stats', [10]), stats('stats', [20, 30]))))[0]!.value).toBe(3n);
    expect(foldMap(snap(spec('@', 'hist', { key }), [entry([['f']], hist([1, 2, 4]))]))[0]!.value).toBe(3n);
  });

  it('draws a waker segment after `--` upside down, leaf to leaf (offwaketime)', () => {
    const s = spec('@', 'sum', { key: tuple(STR64, USTACK, KSTACK, STR64, KSTACK, USTACK, STR64) });
    const waker = { k: ['try_to_wake_up_[k]', 'pipe_write_[k]'], u: ['write', 'poke_waiter', 'start_thread'] };
    const [line] = foldMap(snap(s, [entry(['waiter', ustack, kstack, '--', waker.k, waker.u, 'poker'], sum(9))]));
    expect(line!.frames.join(';')).toBe(
      'waiter;main;block_on_pipe;read;vfs_read_[k];pipe_read_[k];schedule_[k];--;' +
      'try_to_wake_up_[k];pipe_write_[k];write;poke_waiter;start_thread;poker');
  });

  it('knows which maps fold: a stack in the key and a numeric value', () => {
    expect(hasStacks(spec('@', 'count', { key: tuple(STR64, KSTACK) }))).toBe(true);
    expect(hasStacks(spec('@', 'count', { key: USTACK }))).toBe(true);
    expect(hasStacks(spec('@', 'count', { key: STR64 }))).toBe(false);
    expect(hasStacks(spec('@', 'scalar', { key: KSTACK, value: STR64 }))).toBe(false);
    expect(hasStacks(spec('@', 'scalar', { key: KSTACK, value: INT64 }))).toBe(true);
  });
});

describe('the -f folded formatter', () => {
  it('writes folded lines to the output and everything else, as text, to the side channel', () => {
    const side: string[] = [];
    const f = createFoldedFormatter((t) => side.push(t));
    expect(f.attachedProbes(2)).toBe('');
    expect(f.printf('hello\n')).toBe('');
    expect(f.map(snap(spec('@n', 'count'), [entry(undefined, count(4))]))).toBe('');
    expect(f.exitSeparator()).toBe('');
    expect(f.map(snap(spec('@s', 'count', { key: USTACK }), [entry([['f', 'main']], count(4))]))).toBe('main;f 4\n');
    expect(side.join('')).toBe('Attaching 2 probes...\nhello\n@n: 4\n');
    expect(f.frameName).toBe(foldedFrameName);
  });

  it('applies print()\'s top and div', () => {
    const f = createFoldedFormatter(() => {});
    const s = snap(spec('@s', 'count', { key: USTACK }), [
      entry([['a']], count(10)), entry([['b']], count(30)), entry([['c']], count(20)),
    ]);
    expect(f.map(s, { top: 2, div: 10 })).toBe('b 3\nc 2\n');
  });

  it('folds scalar integer maps keyed by stacks too', () => {
    const f = createFoldedFormatter(() => {});
    expect(f.map(snap(spec('@s', 'scalar', { key: KSTACK }), [entry([['x_[k]']], scalar(5n))]))).toBe('x_[k] 5\n');
  });
});

describe('the SVG flame graph', () => {
  const stacks = [
    { frames: ['waiter', 'main', 'block_on_pipe', 'read', 'vfs_read_[k]'], value: 600n },
    { frames: ['waiter', 'main', 'other'], value: 400n },
    { frames: ['waiter', 'jitted_[j]'], value: 0n },
  ];
  const svg = flameGraphSvg(stacks, { title: 'Off-CPU <time>', units: 'ns' });

  it('has one frame per node, sized by value, with a tooltip in the unit and the share', () => {
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles).toContain('block_on_pipe (600 ns, 60.00%)');
    expect(titles).toContain('vfs_read (600 ns, 60.00%, kernel)');
    expect(titles).toContain('all (1.00 µs, 100.00%)');
    expect(titles.some((t) => t!.startsWith('jitted'))).toBe(false); // zero values take no room
    expect(svg).toContain('Off-CPU &lt;time&gt;');
  });

  it('formats units: samples, durations, other words', () => {
    expect(formatAmount(1234, 'samples')).toBe('1,234 samples');
    expect(formatAmount(1_500_000_000, 'ns')).toBe('1.50 s');
    expect(formatAmount(12_345, 'us')).toBe('12.3 ms');
    expect(formatAmount(42, 'bytes')).toBe('42 bytes');
    expect(formatAmount(42, '')).toBe('42');
  });

  it('tells the kind of a frame by its folded suffix', () => {
    expect(frameKind('vfs_read_[k]')).toEqual({ label: 'vfs_read', kind: 'kernel' });
    expect(frameKind('fib_[j]')).toEqual({ label: 'fib', kind: 'jit' });
    expect(frameKind('main')).toEqual({ label: 'main', kind: 'user' });
  });
});
