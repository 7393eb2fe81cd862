import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTracepointFormat, SystemKernel } from '../../src/kernel/index.js';

const kernel = new SystemKernel();

describe('tracefs', () => {
  it('is mounted after ensureTracefs', () => {
    const r = kernel.ensureTracefs();
    expect(r.mounted).toBe(true);
    expect(existsSync('/sys/kernel/tracing/events/syscalls')).toBe(true);
    expect(readFileSync('/proc/mounts', 'latin1')).toMatch(/ \/sys\/kernel\/tracing tracefs /);
  });

  it('lists tracepoints, sorted, including sched:sched_switch', () => {
    const list = kernel.listTracepoints();
    expect(list).toContain('sched:sched_switch');
    expect(list).toContain('syscalls:sys_enter_openat');
    expect(list.length).toBeGreaterThan(1000);
    expect([...list].sort()).toEqual(list);
    expect(kernel.listTracepoints()).toBe(list); // cached
  });

  it('hasTracepoint agrees with the list (the ftrace category\'s format-only events are in neither)', () => {
    const list = kernel.listTracepoints();
    for (const tp of list) expect(kernel.hasTracepoint(...(tp.split(':') as [string, string]))).toBe(true);
    const events = readdirSync('/sys/kernel/tracing/events/ftrace');
    expect(events).toContain('function');
    for (const ev of events) expect(kernel.hasTracepoint('ftrace', ev)).toBe(list.includes(`ftrace:${ev}`));
    expect(kernel.hasTracepoint('sched', 'no_such_event')).toBe(false);
    expect(kernel.hasTracepoint('.', 'sched')).toBe(false);
    expect(kernel.hasTracepoint('sched/..', 'sched')).toBe(false);
    expect(kernel.hasTracepoint('..', 'events')).toBe(false);
  });

  it('parses syscalls:sys_enter_openat as bpftrace -lv shows it', () => {
    const f = kernel.tracepointFormat('syscalls', 'sys_enter_openat')!;
    expect(f.id).toBeGreaterThan(0);
    expect(f.fields.map((x) => x.name)).toEqual(['__syscall_nr', 'dfd', 'filename', 'flags', 'mode']);
    const by = Object.fromEntries(f.fields.map((x) => [x.name, x]));
    // The syscall fields are 8 bytes each; bpftrace reads `int` of size 8 as s64.
    expect(by.__syscall_nr).toMatchObject({ offset: 8, size: 4, type: { kind: 'int', bits: 32, signed: true } });
    expect(by.dfd).toMatchObject({ offset: 16, size: 8, declaration: 'int dfd', type: { kind: 'int', bits: 64, signed: true } });
    expect(by.filename).toMatchObject({
      offset: 24, size: 8, declaration: 'const char * filename',
      type: { kind: 'pointer', target: { kind: 'int', bits: 8, signed: true } },
    });
    expect(by.flags).toMatchObject({ offset: 32, size: 8, type: { kind: 'int', bits: 64 } });
    expect(by.mode).toMatchObject({ offset: 40, size: 8, type: { kind: 'int', bits: 64, signed: false } });
  });

  it('maps char arrays to strings and keeps widths from size:', () => {
    const f = kernel.tracepointFormat('sched', 'sched_switch')!;
    const by = Object.fromEntries(f.fields.map((x) => [x.name, x]));
    expect(by.prev_comm).toMatchObject({ offset: 8, type: { kind: 'string', size: 16 } });
    expect(by.prev_pid).toMatchObject({ offset: 24, type: { kind: 'int', bits: 32, signed: true } });
    expect(by.prev_state).toMatchObject({ offset: 32, type: { kind: 'int', bits: 64, signed: true } });
    expect(by.next_comm).toMatchObject({ offset: 40, type: { kind: 'string', size: 16 } });
  });

  it('marks __data_loc fields', () => {
    const f = kernel.tracepointFormat('sched', 'sched_process_exec')!;
    const fn = f.fields.find((x) => x.name === 'filename')!;
    expect(fn.type).toEqual({ kind: 'int', bits: 32, signed: false });
    expect(fn.size).toBe(4);
    expect(fn.dataLoc).toEqual({ element: { kind: 'int', bits: 8, signed: true }, relative: false });
  });

  it('gives a tracepoint\'s id without its format\'s types, so without loading BTF (as attaching one does)', () => {
    // sys_enter_newfstat's format has `struct stat * statbuf`: its type would come from BTF.
    const fresh = new SystemKernel({ btfPath: '/nonexistent/btf' });
    const id = fresh.tracepointId('syscalls', 'sys_enter_newfstat');
    expect(id).toBe(Number(readFileSync('/sys/kernel/tracing/events/syscalls/sys_enter_newfstat/id', 'latin1')));
    expect((fresh as unknown as { btfState?: unknown }).btfState).toBeUndefined();
    expect(fresh.tracepointId('sched', 'sched_switch')).toBe(kernel.tracepointFormat('sched', 'sched_switch')!.id);
    expect(fresh.tracepointId('sched', 'no_such_event')).toBeUndefined();
    expect(fresh.tracepointId('../..', 'x')).toBeUndefined();
  });

  it('returns undefined for a tracepoint that does not exist', () => {
    expect(kernel.tracepointFormat('sched', 'no_such_event')).toBeUndefined();
    expect(kernel.tracepointFormat('../..', 'x')).toBeUndefined();
  });

  it('parses arrays of ints, pointers to structs and __data_loc arrays of u64 from text', () => {
    const text = [
      'name: t', 'ID: 7', 'format:',
      '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
      '\tfield:__u8 saddr[4];\toffset:8;\tsize:4;\tsigned:0;',
      '\tfield:u32 ids[4];\toffset:12;\tsize:16;\tsigned:0;',
      '\tfield:struct sk_buff * skb;\toffset:32;\tsize:8;\tsigned:0;',
      '\tfield:__data_loc u64[] addrs;\toffset:40;\tsize:4;\tsigned:0;',
      '\tfield:void * p;\toffset:48;\tsize:8;\tsigned:0;',
      '\tfield:bool b;\toffset:56;\tsize:1;\tsigned:0;',
      '', 'print fmt: ""',
    ].join('\n');
    const f = parseTracepointFormat(text, 'c', 't');
    expect(f.id).toBe(7);
    const by = Object.fromEntries(f.fields.map((x) => [x.name, x]));
    expect(by.saddr!.type).toEqual({ kind: 'array', element: { kind: 'int', bits: 8, signed: false }, length: 4 });
    expect(by.ids!.type).toEqual({ kind: 'array', element: { kind: 'int', bits: 32, signed: false }, length: 4 });
    expect(by.skb!.type).toEqual({ kind: 'pointer', target: { kind: 'record', name: 'struct sk_buff', size: 0, fields: [] } });
    expect(by.addrs!.dataLoc).toEqual({ element: { kind: 'int', bits: 64, signed: false }, relative: false });
    expect(by.p!.type).toEqual({ kind: 'pointer', target: { kind: 'none' } });
    expect(by.b!.type).toEqual({ kind: 'int', bits: 8, signed: false });
  });

  it('parses every format on this machine without dropping a field', () => {
    let fields = 0;
    for (const name of kernel.listTracepoints().filter((n) => n.startsWith('sched:') || n.startsWith('syscalls:sys_enter_'))) {
      const [c, e] = name.split(':') as [string, string];
      const text = readFileSync(`/sys/kernel/tracing/events/${c}/${e}/format`, 'latin1');
      const declared = text.split('\n').filter((l) => l.includes('field:') && !l.includes('common_')).length;
      const f = parseTracepointFormat(text, c, e);
      expect(f.fields.length, name).toBe(declared);
      fields += declared;
    }
    expect(fields).toBeGreaterThan(500);
  });
});
