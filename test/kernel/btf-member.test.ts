// The offset of one member of a kernel struct, as codegen reads task_struct.self_exec_id (a
// process's exec count): found in BTF a piece at a time, equal to what the whole-BTF index says.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { btfMemberOffset, VMLINUX_BTF } from '../../src/kernel/btf.js';
import { SystemKernel } from '../../src/kernel/index.js';

describe('btfMemberOffset', () => {
  it('gives a member offset as the BTF index does, and nothing for what is not there', (ctx) => {
    if (!existsSync(VMLINUX_BTF)) ctx.skip();
    const kernel = new SystemKernel();
    for (const [struct, member] of [['task_struct', 'self_exec_id'], ['task_struct', 'pid'], ['pt_regs', 'si'], ['file', 'f_inode']] as const) {
      const t = kernel.kernelType(`struct ${struct}`);
      const expected = t?.kind === 'record' ? t.fields.find((f) => f.name === member)?.offset : undefined;
      expect(expected, `${struct}.${member}`).toBeDefined();
      expect(btfMemberOffset(VMLINUX_BTF, struct, member)).toBe(expected);
      expect(kernel.structMemberOffset(`struct ${struct}`, member)).toBe(expected);
    }
    expect(btfMemberOffset(VMLINUX_BTF, 'task_struct', 'no_such_member')).toBeUndefined();
    expect(btfMemberOffset(VMLINUX_BTF, 'no_such_struct', 'pid')).toBeUndefined();
    expect(btfMemberOffset('/etc/hostname', 'task_struct', 'pid')).toBeUndefined();
  });
});
