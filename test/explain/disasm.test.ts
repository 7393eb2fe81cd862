// The --explain disassembler: known encodings, and agreement with llvm-objdump on real objects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/explain/disasm.js';
import { readObject } from '../../src/explain/object.js';
import { BIN } from '../helpers/run.js';

/** One instruction: opcode, dst, src, offset, immediate (little-endian, as the kernel reads it). */
function insn(op: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = op;
  b[1] = (src << 4) | dst;
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

const text = (...insns: Buffer[]): string[] => disassemble(Buffer.concat(insns)).map((i) => i.text);

describe('disassemble', () => {
  it('decodes each instruction class', () => {
    expect(text(
      insn(0xbf, 6, 1, 0, 0), // mov64 r6 = r1
      insn(0xb4, 1, 0, 0, 76), // mov32 w1 = 76
      insn(0x07, 2, 0, 0, -24), // add64 r2 += -24
      insn(0x77, 0, 0, 0, 32), // rsh64 r0 >>= 32
      insn(0xc7, 1, 0, 0, 3), // arsh64
      insn(0x87, 0, 0, 0, 0), // neg64
      insn(0x71, 1, 0, 3, 0), // ldx u8
      insn(0x79, 1, 10, -8, 0), // ldx u64, negative offset
      insn(0x7b, 10, 6, -32, 0), // stx u64
      insn(0x62, 10, 0, -8, 0), // st u32 imm
      insn(0xdb, 1, 2, 0, 0), // atomic add u64
      insn(0x15, 0, 0, 44, 0), // jeq imm
      insn(0x5d, 9, 8, -15, 0), // jne reg
      insn(0x6d, 1, 2, 3, 0), // jsgt reg
      insn(0x16, 1, 0, 2, 0), // jeq32
      insn(0x05, 0, 0, 11, 0), // ja
      insn(0x85, 0, 0, 0, 131), // call helper
      insn(0xdc, 1, 0, 0, 16), // be16
      insn(0x95, 0, 0, 0, 0), // exit
    )).toEqual([
      'r6 = r1', 'w1 = 76', 'r2 += -24', 'r0 >>= 32', 'r1 s>>= 3', 'r0 = -r0',
      'r1 = *(u8 *)(r0 + 3)', 'r1 = *(u64 *)(r10 - 8)', '*(u64 *)(r10 - 32) = r6', '*(u32 *)(r10 - 8) = 0',
      'lock *(u64 *)(r1 + 0) += r2', 'if r0 == 0 goto +44', 'if r9 != r8 goto -15', 'if r1 s> r2 goto +3',
      'if w1 == 0 goto +2', 'goto +11', 'call bpf_ringbuf_reserve#131', 'r1 = be16 r1', 'exit',
    ]);
  });

  it('decodes 64-bit immediates and map loads over two slots', () => {
    const wide = [insn(0x18, 1, 0, 0, 0), insn(0, 0, 0, 0, 2)];
    // In an object file a map's address is 0 plus a relocation to the map's symbol.
    const map = [insn(0x18, 1, 0, 0, 0), insn(0, 0, 0, 0, 0)];
    const loaded = [insn(0x18, 2, 1, 0, 98), insn(0, 0, 0, 0, 0)];
    const out = disassemble(Buffer.concat([...wide, ...map, ...loaded, insn(0x95, 0, 0, 0, 0)]), new Map([[2, 'tl_events']]));
    expect(out.map((i) => [i.index, i.text])).toEqual([
      [0, 'r1 = 8589934592 ll'], [2, 'r1 = map[tl_events]'], [4, 'r2 = map[fd 98]'], [6, 'exit'],
    ]);
    expect(out[1]!.map).toBe('tl_events');
  });

  it('shows an unknown encoding as its bytes', () => {
    expect(text(insn(0xff, 0, 0, 0, 0))).toEqual(['.insn ff00000000000000']);
  });

  it('agrees with llvm-objdump on the objects of every example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-disasm-'));
    const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
    try {
      let compared = 0;
      for (const f of readdirSync(examples).filter((n) => n.endsWith('.bt') && n !== 'usdt.bt')) {
        const elf = join(dir, `${f}.o`);
        execFileSync(BIN, ['--emit-elf', elf, join(examples, f)]);
        const dump = execFileSync('llvm-objdump-14', ['-d', '--no-show-raw-insn', '--no-leading-addr', elf], { encoding: 'utf8' });
        // llvm's lines, but for what it spells differently: helper calls, map loads, jump labels.
        const theirs = dump.split('\n').filter((l) => l.startsWith('\t')).map((l) => l.trim().replace(/ <[\w.]+>$/, ''));
        const ours = readObject(readFileSync(elf)).flatMap((p) => disassemble(p.code).map((i) => i.text));
        const normal = (l: string): string => l.replace(/^call (\w+)#(\d+)$/, 'call $2').replace(/^r(\d+) = map\[fd (\d+)\]$/, 'ld_pseudo\tr$1, 1, $2');
        expect(ours.map(normal), f).toEqual(theirs);
        compared += ours.length;
      }
      expect(compared).toBeGreaterThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
