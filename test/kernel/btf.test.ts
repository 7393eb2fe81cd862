import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Btf, SystemKernel } from '../../src/kernel/index.js';
import { scanTypes } from '../../src/kernel/btf.js';
import { useSymbolNatives } from '../../src/kernel/natives.js';
import { native as addon } from '../../src/runtime/native.js';
import type { Type } from '../../src/model/types.js';

const kernel = new SystemKernel();

function field(t: Type | undefined, name: string) {
  if (t?.kind !== 'record') throw new Error(`not a record: ${JSON.stringify(t)}`);
  return t.fields.find((f) => f.name === name);
}

describe('BTF', () => {
  it('reads and indexes vmlinux BTF', () => {
    const t0 = performance.now();
    const btf = Btf.fromFile();
    const t1 = performance.now();
    expect(btf.lookup('struct task_struct')).toBeGreaterThan(0);
    const t2 = performance.now();
    console.log(`BTF: ${btf.typeCount} types; read+offsets ${(t1 - t0).toFixed(1)} ms, first lookup ${(t2 - t1).toFixed(1)} ms`);
    expect(btf.typeCount).toBeGreaterThan(100_000);
  });

  it('finds its types natively as in JavaScript, from the file mapped', () => {
    const blob = readFileSync('/sys/kernel/btf/vmlinux');
    const words = new Uint32Array(blob.buffer, blob.byteOffset, blob.byteLength >>> 2);
    const typeStart = words[1]! + words[2]!; // header length + type section offset
    const typeEnd = typeStart + words[3]!;
    const native = addon().btfTypeOffsets(words, typeStart, typeEnd);
    const js = scanTypes(words, typeStart, typeEnd);
    expect(native.offsets.length).toBeGreaterThan(100_000);
    expect(Buffer.from(native.offsets.buffer).equals(Buffer.from(js.offsets.buffer, js.offsets.byteOffset, js.offsets.byteLength))).toBe(true);
    expect(Buffer.from(native.nameOffs.buffer).equals(Buffer.from(js.nameOffs.buffer, js.nameOffs.byteOffset, js.nameOffs.byteLength))).toBe(true);
    // And a Btf made either way answers alike.
    useSymbolNatives(addon());
    try {
      const withNatives = Btf.fromFile();
      // Mapped read-only, not copied onto the heap.
      expect(readFileSync('/proc/self/maps', 'latin1')).toMatch(/ r--p .* \/sys\/kernel\/btf\/vmlinux\n/);
      useSymbolNatives(undefined);
      const without = Btf.fromFile();
      for (const name of ['struct task_struct', 'struct stat', 'pid_t', 'enum bpf_map_type', 'func do_sys_openat2']) {
        expect(withNatives.lookup(name), name).toBe(without.lookup(name));
      }
      expect(withNatives.typeCount).toBe(without.typeCount);
    } finally {
      useSymbolNatives(undefined);
    }
  });

  it('has task_struct.pid at 1264 and comm (char[16]) at 1752', () => {
    const ts = kernel.kernelType('struct task_struct');
    expect(ts).toMatchObject({ kind: 'record', name: 'struct task_struct' });
    expect(field(ts, 'pid')).toEqual({ name: 'pid', type: { kind: 'int', bits: 32, signed: true }, offset: 1264 });
    expect(field(ts, 'comm')).toEqual({ name: 'comm', type: { kind: 'string', size: 16 }, offset: 1752 });
  });

  it('returns records behind pointers opaque, by name', () => {
    const rp = field(kernel.kernelType('struct task_struct'), 'real_parent')!;
    expect(rp.type).toEqual({ kind: 'pointer', target: { kind: 'record', name: 'struct task_struct', size: expect.any(Number), fields: [] } });
    expect(kernel.kernelType('struct task_struct *')).toMatchObject({ kind: 'pointer', target: { kind: 'record', fields: [] } });
  });

  it('converts embedded structs fully and records bitfields', () => {
    const ts = kernel.kernelType('struct task_struct');
    const se = field(ts, 'se')!;
    expect(se.type).toMatchObject({ kind: 'record', name: 'struct sched_entity' });
    expect((se.type as { fields: unknown[] }).fields.length).toBeGreaterThan(3);
    const bits = (ts as { fields: { bitWidth?: number; bitOffset?: number }[] }).fields.filter((f) => f.bitWidth);
    expect(bits.length).toBeGreaterThan(0);
    for (const b of bits) expect(b.bitOffset).toBeLessThan(8);
  });

  it('resolves typedefs, ints and enums', () => {
    expect(kernel.kernelType('u64')).toEqual({ kind: 'int', bits: 64, signed: false });
    expect(kernel.kernelType('pid_t')).toEqual({ kind: 'int', bits: 32, signed: true });
    expect(kernel.kernelType('unsigned int')).toEqual({ kind: 'int', bits: 32, signed: false });
    // Since 6.2 the kernel is built with -funsigned-char: BTF's `char` has no SIGNED bit.
    expect(kernel.kernelType('const char *')).toMatchObject({ kind: 'pointer', target: { kind: 'int', bits: 8 } });
    expect(kernel.kernelType('enum pid_type')).toMatchObject({ kind: 'int', bits: 32 });
    expect(kernel.kernelType('atomic_t')).toMatchObject({ kind: 'record', name: 'atomic_t', size: 4 });
    expect(kernel.enumValue('PIDTYPE_TGID')).toBe(1n);
    expect(kernel.btf()!.enumValues('pid_type')?.get('PIDTYPE_MAX')).toBe(4n);
    expect(kernel.kernelType('struct no_such_struct_here')).toBeUndefined();
  });

  it('lists raw tracepoints and gives sched_switch its arguments', () => {
    const raw = kernel.listRawTracepoints();
    expect(raw).toContain('sched_switch');
    expect(raw).toContain('sys_enter');
    const args = kernel.rawTracepointArgs('sched_switch')!;
    expect(args.map((a) => a.name)).toEqual(['preempt', 'prev', 'next', 'prev_state']);
    expect(args[1]).toMatchObject({ typeName: 'struct task_struct *', type: { kind: 'pointer', target: { kind: 'record', name: 'struct task_struct' } } });
    expect(kernel.rawTracepointArgs('no_such_tp')).toBeUndefined();
  });

  it('gives kernel function prototypes', () => {
    const f = kernel.kernelFunction('vfs_read')!;
    expect(f.params.map((p) => p.name)).toEqual(['file', 'buf', 'count', 'pos']);
    expect(f.params[0]!.typeName).toBe('struct file *');
    expect(f.returnType).toEqual({ kind: 'int', bits: 64, signed: true });
    expect(kernel.kernelFunction('no_such_function_xyz')).toBeUndefined();
  });
});
