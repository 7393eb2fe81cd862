// Resolver.frames(): the symbolized frames of a stack, leaf first, shared by every stack consumer.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ElfFile, Kallsyms } from '../../src/kernel/index.js';
import { buildIdFrameText, decodeBuildIdFrames, Resolver } from '../../src/runtime/symbols.js';

describe('Resolver.frames', () => {
  it('symbolizes kernel frames leaf first, with module names, and stops at the first 0', () => {
    const k = new Kallsyms(['ffffffff81000000 T a_fn', 'ffffffff81000100 T b_fn', 'ffffffffc0002000 t mod_fn\t[mymod]', ''].join('\n'));
    const r = new Resolver({
      kallsyms: () => k,
      readStack: () => [0xffffffffc0002010n, 0xffffffff81000105n, 0x10n, 0n, 0xffffffff81000000n],
    });
    expect(r.frames('kstack', 3n, 5, 0)).toEqual([
      { address: 0xffffffffc0002010n, symbol: 'mod_fn', offset: 16n, module: 'mymod', kind: 'kernel' },
      { address: 0xffffffff81000105n, symbol: 'b_fn', offset: 5n, module: '[kernel.kallsyms]', kind: 'kernel' },
      { address: 0x10n, offset: 0n, kind: 'kernel' },
    ]);
    expect(r.kstack(3n, 5, 'bpftrace')).toEqual(['mod_fn+16', 'b_fn+5', '0x10']);
    expect(r.frames('kstack', -1n, 5, 0)).toEqual([]);
  });

  it('symbolizes a user frame of this process with its file and build-id', () => {
    // An address inside libc's getpid, as this process maps it.
    const line = readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => / r-xp .*\/libc\.so\.6$/.test(l))!;
    const [range, , off, , , path] = line.split(/\s+/);
    const start = BigInt(`0x${range!.split('-')[0]}`);
    const elf = ElfFile.open(path!);
    const getpid = elf.findSymbol('getpid')[0]!;
    const address = start + getpid.fileOffset - BigInt(`0x${off}`) + 1n;
    const r = new Resolver({ readStack: () => [address, 0n] });
    expect(r.frames('ustack', 1n, 4, process.pid)).toEqual([
      { address, symbol: expect.stringMatching(/getpid$/), offset: 1n, module: path, buildId: elf.buildId(), kind: 'user' },
    ]);
    expect(r.frames('ustack', -1n, 4, process.pid)).toEqual([]);
    // ustack(perf) as bpftrace 0.17 prints it: a frame with no symbol is its address again, module unknown.
    const unmapped = new Resolver({ readStack: () => [address, 0x10n, 0n] });
    expect(unmapped.ustack(1n, process.pid, 4, 'perf')).toEqual([
      expect.stringMatching(new RegExp(`^${address.toString(16)} \\S*getpid\\+1 \\(${path}\\)$`)), '10 0x10 ([unknown])',
    ]);
  });
});

describe('ustack(build_id) frames', () => {
  /** struct bpf_stack_build_id: s32 status, u8 build_id[20], then the offset (or the ip) as a u64 at 24. */
  function entry(status: number, id: number, word: bigint): Buffer {
    const b = Buffer.alloc(32);
    b.writeInt32LE(status);
    b.fill(id, 4, 24);
    b.writeBigUInt64LE(word, 24);
    return b;
  }

  it('decodes build ids and offsets, the ip where the kernel had no build id, up to the first empty entry', () => {
    const value = Buffer.concat([entry(1, 0xab, 0x1139n), entry(2, 0, 0x7f0012345678n), entry(1, 0x01, 0x5n), entry(0, 0, 0n), entry(1, 0xcd, 0x99n)]);
    const frames = decodeBuildIdFrames(value);
    expect(frames).toEqual([
      { buildId: 'ab'.repeat(20), offset: 0x1139n },
      { address: 0x7f0012345678n },
      { buildId: '01'.repeat(20), offset: 0x5n },
    ]);
    // As bpftrace 0.26's format_build_id_stack: the offset with 2 digits at least, the ip without 0x.
    expect(frames.map(buildIdFrameText)).toEqual([`${'ab'.repeat(20)} 0x1139`, '7f0012345678', `${'01'.repeat(20)} 0x05`]);
  });

  it('prints a build_id stack through the resolver, nothing for a failed stack id', () => {
    const r = new Resolver({ readBuildIdStack: () => [{ buildId: 'ab'.repeat(20), offset: 0x10n }, { address: 0x401000n }] });
    expect(r.ustack(2n, 1, 8, 'build_id')).toEqual([`${'ab'.repeat(20)} 0x10`, '401000']);
    expect(r.buildIdFrames(-14n, 8)).toEqual([]);
  });
});
