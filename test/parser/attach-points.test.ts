import { describe, expect, it } from 'vitest';
import { at, diags, ok } from './helpers.js';
import { parse } from '../../src/parser/index.js';
import type { AttachPoint } from '../../src/model/ast.js';

function ap(text: string, params?: readonly string[]): Pick<AttachPoint, 'provider' | 'parts'> {
  const a = ok(`${text} { }`, params).probes[0]!.attachPoints[0]!;
  expect(a.raw).toBe(text);
  return { provider: a.provider, parts: a.parts };
}

describe('attach points of every provider', () => {
  it.each([
    ['BEGIN', 'BEGIN', []],
    ['END', 'END', []],
    ['begin', 'BEGIN', []],
    ['end', 'END', []],
    ['tracepoint:syscalls:sys_enter_openat', 'tracepoint', ['syscalls', 'sys_enter_openat']],
    ['t:sched:sched_switch', 'tracepoint', ['sched', 'sched_switch']],
    ['tracepoint:syscalls:sys_enter_exec*', 'tracepoint', ['syscalls', 'sys_enter_exec*']],
    ['tracepoint:*:*', 'tracepoint', ['*', '*']],
    ['rawtracepoint:sched_switch', 'rawtracepoint', ['sched_switch']],
    ['rt:module:event', 'rawtracepoint', ['module', 'event']],
    ['kprobe:vfs_read', 'kprobe', ['vfs_read']],
    ['k:vfs_*', 'kprobe', ['vfs_*']],
    ['kprobe:lookup_fast.constprop.*', 'kprobe', ['lookup_fast.constprop.*']],
    ['kprobe:vfs_rea?', 'kprobe', ['vfs_rea?']],
    ['kprobe:do_sys_open+16', 'kprobe', ['do_sys_open+16']],
    ['kprobe:do_sys_open+0x10', 'kprobe', ['do_sys_open+0x10']],
    ['kprobe:nf_tables:nft_do_chain', 'kprobe', ['nf_tables', 'nft_do_chain']],
    ['kretprobe:d_lookup', 'kretprobe', ['d_lookup']],
    ['kr:inet_csk_accept', 'kretprobe', ['inet_csk_accept']],
    ['uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc', 'uprobe', ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'malloc']],
    ['u:libc:getaddrinfo', 'uprobe', ['libc', 'getaddrinfo']],
    ['uprobe:/bin/bash:readline+8', 'uprobe', ['/bin/bash', 'readline+8']],
    ['uprobe:/bin/x:0x1234', 'uprobe', ['/bin/x', '0x1234']],
    ['uprobe:./a.out:main', 'uprobe', ['./a.out', 'main']],
    ['uprobe:lib/x.so:f', 'uprobe', ['lib/x.so', 'f']],
    ['uprobe:malloc', 'uprobe', ['malloc']],
    ['uprobe:/bin/x:"ns::f"', 'uprobe', ['/bin/x', 'ns::f']],
    ['uprobe:/bin/x:cpp:"ns::f"', 'uprobe', ['/bin/x', 'cpp', 'ns::f']],
    ['uprobe:/bin/x:cpp:ns::cls::f', 'uprobe', ['/bin/x', 'cpp', 'ns::cls::f']],
    ['uprobe:/bin/x:ns::f', 'uprobe', ['/bin/x', 'ns::f']],
    ['uprobe:/bin/x:cpp:"ns::f(int)"', 'uprobe', ['/bin/x', 'cpp', 'ns::f(int)']],
    ['uretprobe:/bin/bash:readline', 'uretprobe', ['/bin/bash', 'readline']],
    ['ur:/bin/bash:readline', 'uretprobe', ['/bin/bash', 'readline']],
    ['usdt:/usr/lib/libpython3.so:python:function__entry', 'usdt', ['/usr/lib/libpython3.so', 'python', 'function__entry']],
    ['U:/bin/x:probe_name', 'usdt', ['/bin/x', 'probe_name']],
    ['usdt:/bin/x:prov:*', 'usdt', ['/bin/x', 'prov', '*']],
    ['profile:hz:99', 'profile', ['hz', '99']],
    ['p:ms:10', 'profile', ['ms', '10']],
    ['profile:99', 'profile', ['99']],
    ['interval:s:1', 'interval', ['s', '1']],
    ['i:ms:100', 'interval', ['ms', '100']],
    ['interval:1s', 'interval', ['1s']],
    ['software:cpu-clock:100000', 'software', ['cpu-clock', '100000']],
    ['s:page-faults', 'software', ['page-faults']],
    ['hardware:cache-misses:1000000', 'hardware', ['cache-misses', '1000000']],
    ['h:cpu-cycles', 'hardware', ['cpu-cycles']],
    ['kfunc:vfs_read', 'kfunc', ['vfs_read']],
    ['f:vfs_read', 'kfunc', ['vfs_read']],
    ['fentry:mod:func', 'kfunc', ['mod', 'func']],
    ['kretfunc:vfs_read', 'kretfunc', ['vfs_read']],
    ['fr:vfs_read', 'kretfunc', ['vfs_read']],
    ['fexit:vfs_read', 'kretfunc', ['vfs_read']],
    ['watchpoint:0x10000000:8:rw', 'watchpoint', ['0x10000000', '8', 'rw']],
    ['w:0x1000:4:w', 'watchpoint', ['0x1000', '4', 'w']],
    ['watchpoint:increment+arg0:4:w', 'watchpoint', ['increment+arg0', '4', 'w']],
    ['asyncwatchpoint:0x1000:8:rwx', 'asyncwatchpoint', ['0x1000', '8', 'rwx']],
    ['aw:0x1000:8:r', 'asyncwatchpoint', ['0x1000', '8', 'r']],
    ['iter:task', 'iter', ['task']],
    ['it:task_file', 'iter', ['task_file']],
    ['iter:task:/sys/fs/bpf/pin', 'iter', ['task', '/sys/fs/bpf/pin']],
  ])('%s', (text, provider, parts) => {
    expect(ap(text)).toEqual({ provider, parts });
  });

  it('comments right after an attach point', () => {
    const prog = ok('BEGIN// start\n{ }\nkprobe:f/* c */{ }\nkprobe:g// c\n/pid/ { }');
    expect(prog.probes.map((p) => p.attachPoints[0]!.raw)).toEqual(['BEGIN', 'kprobe:f', 'kprobe:g']);
    expect(prog.probes[2]!.predicate?.kind).toBe('Builtin');
  });

  it('quoted fields anywhere', () => {
    expect(ap('tracepoint:"syscalls":"sys_enter_openat"')).toEqual({ provider: 'tracepoint', parts: ['syscalls', 'sys_enter_openat'] });
  });
});

describe('positional parameters in attach points', () => {
  it('are substituted from options.params', () => {
    expect(ap('uprobe:$1:foo', ['/bin/bash'])).toEqual({ provider: 'uprobe', parts: ['/bin/bash', 'foo'] });
    expect(ap('uprobe:/bin/$1:$2', ['bash', 'readline'])).toEqual({ provider: 'uprobe', parts: ['/bin/bash', 'readline'] });
    expect(ap('kprobe:$1', ['vfs_read'])).toEqual({ provider: 'kprobe', parts: ['vfs_read'] });
    expect(ap('interval:s:$1', ['5'])).toEqual({ provider: 'interval', parts: ['s', '5'] });
  });

  it('missing ones are reported at the $N', () => {
    expect(diags('uprobe:$1:foo { }')).toEqual([['E_POSITIONAL_MISSING', '1:8-1:10']]);
    expect(diags('uprobe:$1:$2 { }', ['/bin/x'])).toEqual([['E_POSITIONAL_MISSING', '1:11-1:13']]);
    const d = parse('uprobe:$1:$2 { }', { params: ['/bin/x'] }).diagnostics[0]!;
    expect(d.message).toContain('$2');
    expect(d.message).toContain('only 1 was given');
    // Once: the field is not also reported as a bad interval rate.
    expect(diags('interval:ms:$1 { }')).toEqual([['E_POSITIONAL_MISSING', '1:13-1:15']]);
    expect(diags('interval:ms:$0 { }', ['1'])).toEqual([['E_ATTACH_POINT', '1:13-1:15']]);
  });

  it('$0 is not a parameter', () => {
    expect(diags('kprobe:$0 { }', ['x'])).toEqual([['E_ATTACH_POINT', '1:8-1:10']]);
  });
});

describe('attach point diagnostics', () => {
  it('unknown provider, with a did-you-mean hint', () => {
    const r = parse('kprob:vfs_read { }');
    expect(r.diagnostics.map((d) => [d.code, at(d.span)])).toEqual([['E_UNKNOWN_PROVIDER', '1:1-1:6']]);
    expect(r.diagnostics[0]!.hint).toBe("did you mean 'kprobe'?");
    expect(parse('tracepiont:a:b { }').diagnostics[0]!.hint).toBe("did you mean 'tracepoint'?");
    expect(parse('BEGN { }').diagnostics[0]!.hint).toBe("did you mean 'BEGIN'?");
    expect(parse('begn { }').diagnostics[0]!.hint).toBe("did you mean 'BEGIN'?");
    // No plausible suggestion: the hint lists the probe types.
    expect(parse('zzzzzzzz:x { }').diagnostics[0]!.hint).toMatch(/^probe types: /);
  });

  it('wrong number of fields', () => {
    expect(diags('tracepoint:syscalls { }')).toEqual([['E_ATTACH_POINT', '1:1-1:20']]);
    expect(diags('tracepoint:a:b:c { }')).toEqual([['E_ATTACH_POINT', '1:15-1:17']]);
    expect(diags('kprobe { }')).toEqual([['E_ATTACH_POINT', '1:1-1:7']]);
    expect(diags('watchpoint:0x1000:8 { }')).toEqual([['E_ATTACH_POINT', '1:1-1:20']]);
    expect(diags('BEGIN:x { }')).toEqual([['E_ATTACH_POINT', '1:6-1:8']]);
  });

  it('empty fields', () => {
    expect(diags('kprobe: { }')).toEqual([['E_ATTACH_POINT', '1:7-1:8']]);
    expect(diags('tracepoint::x { }')).toEqual([['E_ATTACH_POINT', '1:11-1:12']]);
  });

  it('bad values', () => {
    expect(diags('interval:x:1 { }')).toEqual([['E_ATTACH_POINT', '1:10-1:11']]);
    expect(diags('interval:s:often { }')).toEqual([['E_ATTACH_POINT', '1:12-1:17']]);
    expect(diags('profile:often { }')).toEqual([['E_ATTACH_POINT', '1:9-1:14']]);
    expect(diags('kprobe:f+x { }')).toEqual([['E_ATTACH_POINT', '1:8-1:11']]);
    expect(diags('watchpoint:0x1000:8:q { }')).toEqual([['E_ATTACH_POINT', '1:21-1:22']]);
    expect(diags('watchpoint:zz:8:w { }')).toEqual([['E_ATTACH_POINT', '1:12-1:14']]);
    expect(diags('software:cpu-clock:x { }')).toEqual([['E_ATTACH_POINT', '1:20-1:21']]);
  });

  it('unterminated quote', () => {
    expect(diags('uprobe:/bin/x:"ns::f { }')).toEqual([['E_ATTACH_POINT', '1:15-1:21']]);
  });

  it('one bad attach point in a list keeps the others', () => {
    const r = parse('kprobe:f, kprob:g, kretprobe:h { }');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E_UNKNOWN_PROVIDER']);
    expect(r.program.probes[0]!.attachPoints.map((a) => a.raw)).toEqual(['kprobe:f', 'kretprobe:h']);
  });
});
