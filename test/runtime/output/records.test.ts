// Kernel structs as bpftrace 0.17 prints them (outputs captured from it): a value as
// `{ .f = v, ... }` with pointers as int64s, a map key compact with pointers in hex, and JSON
// objects with a space inside the braces.
import { describe, expect, it } from 'vitest';
import { int, type Type, UINT64 } from '../../../src/model/types.js';
import { valueToJson, valueToText } from '../../../src/runtime/output/values.js';

const pointer: Type = { kind: 'pointer', target: { kind: 'none' } };
// struct path { struct vfsmount *mnt; struct dentry *dentry; }
const path: Type = {
  kind: 'record', name: 'path', size: 16,
  fields: [{ name: 'mnt', type: pointer, offset: 0 }, { name: 'dentry', type: pointer, offset: 8 }],
};
const mask: Type = {
  kind: 'record', name: 'cpumask', size: 32,
  fields: [{ name: 'bits', type: { kind: 'array', element: UINT64, length: 4 }, offset: 0 }],
};
const rlimit: Type = {
  kind: 'record', name: 'rlimit', size: 16,
  fields: [{ name: 'rlim_cur', type: UINT64, offset: 0 }, { name: 'rlim_max', type: int(32, true), offset: 8 }],
};
const root = [0xffff88810086b820n, 0xffff8881004a8e40n];

describe('structs as 0.17 prints them', () => {
  it('as values: pointers as int64s, a null pointer 0', () => {
    expect(valueToText(path, root)).toBe('{ .mnt = -131387335722976, .dentry = -131387339665856 }');
    expect(valueToText(path, [0n, 0x55f0n])).toBe('{ .mnt = 0, .dentry = 22000 }');
    expect(valueToText(rlimit, [18446744073709551615n, -1n])).toBe('{ .rlim_cur = 18446744073709551615, .rlim_max = -1 }');
  });

  it('as map keys: compact, pointers in hex', () => {
    expect(valueToText(path, root, 'key')).toBe('{.mnt=0xffff88810086b820,.dentry=0xffff8881004a8e40}');
    expect(valueToText(mask, [[3n, 0n, 0n, 0n]], 'key')).toBe('{.bits=[3,0,0,0]}');
  });

  it('in JSON: a space inside the braces, pointers as int64s', () => {
    expect(valueToJson(path, root)).toBe('{ "mnt": -131387335722976, "dentry": -131387339665856 }');
    expect(valueToJson(mask, [[3n, 0n, 0n, 0n]])).toBe('{ "bits": [3,0,0,0] }');
  });
});
