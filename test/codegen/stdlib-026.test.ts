// The code of bpftrace 0.26's standard library functions (issue 14): generated IR on the fake
// kernel, no root needed.
import { describe, expect, it } from 'vitest';
import { Helper } from '../../src/model/object-layout.js';
import { calls, ir } from '../helpers/codegen.js';

describe('len()', () => {
  it('of a map walks it with bpf_for_each_map_elem and a callback that goes on, and counts what it visited', () => {
    const text = ir('BEGIN { @m[1] = 1; print(len(@m)); }');
    expect(calls(text, Helper.forEachMapElem).length).toBe(1);
    const callback = /define internal i64 @(\w+_len\d+)\(i8\* %map, i8\* %key, i8\* %value, i8\* %context\)[^{]*\{\nentry:\n\s*ret i64 0/.exec(text);
    expect(callback).not.toBeNull();
    expect(calls(text, Helper.forEachMapElem)[0]).toContain(`@${callback![1]}`);
  });

  it('of a stack takes it with bpf_get_stack into a ring buffer record it discards, and takes no stack id', () => {
    const text = ir('BEGIN { print(len(ustack(5))); }');
    expect(calls(text, Helper.getStack).length).toBe(1);
    expect(calls(text, Helper.getStack)[0]).toMatch(/i64 40, i64 256\)/);
    expect(calls(text, Helper.ringbufDiscard).length).toBe(1);
    expect(calls(text, Helper.getStackid)).toEqual([]);
  });
});

describe('is_str() and its kind', () => {
  it('are constants: the argument is not evaluated', () => {
    const text = ir('BEGIN { print(is_str(comm)); }');
    expect(calls(text, Helper.getCurrentComm)).toEqual([]);
  });
});
