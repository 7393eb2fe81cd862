// A struct member's offset codegen needs (task_struct.self_exec_id, for a process's exec count)
// comes from BTF once, then from tracelet's cache: a run of a ustack program need not read BTF.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemKernel } from '../../src/kernel/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kernel facts', () => {
  it('gives a member offset as BTF has it, and keeps it in the cache', () => {
    if (!existsSync('/sys/kernel/btf/vmlinux')) return;
    const btf = new SystemKernel().kernelType('struct task_struct');
    const expected = btf?.kind === 'record' ? btf.fields.find((f) => f.name === 'self_exec_id')?.offset : undefined;
    expect(expected).toBeGreaterThan(0);
    expect(new SystemKernel({ cacheDirectory: dir }).structMemberOffset('struct task_struct', 'self_exec_id')).toBe(expected);
    const [file] = readdirSync(dir).filter((f) => f.startsWith('kernel-facts-'));
    expect(JSON.parse(readFileSync(join(dir, file!), 'utf8'))).toEqual({ 'struct task_struct.self_exec_id': expected });
    // A later run reads the cache (here, a value BTF would not give, to tell them apart).
    writeFileSync(join(dir, file!), JSON.stringify({ 'struct task_struct.self_exec_id': 12345 }), { mode: 0o600 });
    expect(new SystemKernel({ cacheDirectory: dir }).structMemberOffset('struct task_struct', 'self_exec_id')).toBe(12345);
    expect(new SystemKernel({ cacheDirectory: dir }).structMemberOffset('struct task_struct', 'no_such_member')).toBeUndefined();
  });
});
