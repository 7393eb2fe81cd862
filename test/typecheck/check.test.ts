// The type checker on a fake kernel: every error kind has a stable code and an exact span.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { typeName } from '../../src/model/types.js';
import { FakeKernel, FakeKernelWithBinary } from '../helpers/fake-kernel.js';

function check(text: string, params: string[] = []) {
  const parsed = parse(text, { params });
  expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return typecheck(parsed.program, new FakeKernel(), { params });
}

/** The diagnostics as `code@line:col-endCol` (one line) for compact assertions. */
function codes(text: string): string[] {
  return check(text).diagnostics.map((d) =>
    `${d.code}@${d.span.line}:${d.span.column}-${d.span.endColumn}`);
}

describe('type checker', () => {
  it('refuses ++ and -- on an aggregation map or a non-integer (as bpftrace), and takes them on integers and pointers', () => {
    // Before, @x++ of a count() map reached LLVM as an invalid cast (an internal error).
    expect(codes('BEGIN { @x = count(); @x++; }')).toEqual(['E_TYPE@1:23-27']);
    expect(check('BEGIN { @x = count(); @x++; }').diagnostics[0]!.message).toBe('the ++ operator cannot be used on a count() map');
    expect(codes('BEGIN { @x[1] = sum(3); @x[1]--; }')).toEqual(['E_TYPE@1:25-32']);
    expect(codes('BEGIN { @h = hist(3); @h++; }')).toEqual(['E_TYPE@1:23-27']);
    expect(check('BEGIN { $s = "a"; $s++; }').diagnostics.map((d) => d.message)).toEqual(['the ++ operator needs an integer, got string[2]']);
    expect(codes('BEGIN { @n++; @m[1]--; $i = 1; $i++; $p = (int8 *)0; $p++; printf("%d %d\\n", $i, (int64)$p); }')).toEqual([]);
  });

  it('accepts a well-typed program and records map specs', () => {
    const r = check('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @bytes[pid, comm] = sum(args->flags); @last = args->dfd; }');
    expect(r.diagnostics).toEqual([]);
    const maps = r.program!.maps;
    expect([...maps.keys()]).toEqual(['@', '@bytes', '@last']);
    expect(maps.get('@')!.kind).toBe('count');
    expect(typeName(maps.get('@')!.keyType!)).toBe('string[16]');
    expect(typeName(maps.get('@bytes')!.keyType!)).toBe('(uint64, string[16])');
    expect(maps.get('@bytes')!.bpfType).toBe('percpu_hash');
    expect(typeName(maps.get('@last')!.valueType)).toBe('int64');
  });

  it('keeps a keyless hist/lhist as one per-CPU array entry of its buckets, and every other hist as a hash', () => {
    const r = check(`let @declared = percpuhash(10);
      tracepoint:syscalls:sys_enter_openat { @h = hist(pid); @l = lhist(pid, 0, 100, 10); @k[comm] = hist(pid);
        @declared = hist(pid); }`);
    expect(r.diagnostics).toEqual([]);
    const layout = (name: string) => {
      const m = r.program!.maps.get(name)!;
      return [m.bpfType, m.keySize, m.valueSize, m.maxEntries, m.bucketsInValue ?? false];
    };
    expect(layout('@h')).toEqual(['percpu_array', 4, 66 * 8, 1, true]);
    expect(layout('@l')).toEqual(['percpu_array', 4, 12 * 8, 1, true]);
    // With a key, or declared as a hash: a hash of (key, bucket) entries.
    expect(layout('@k')[0]).toBe('percpu_hash');
    expect(layout('@declared')).toEqual(['percpu_hash', 8, 8, 66, false]);
  });

  it('expands tracepoint wildcards', () => {
    const r = check('tracepoint:syscalls:sys_*_openat { @ = count(); }');
    expect(r.program!.probes[0]!.targets.map((t) => t.name)).toEqual([
      'tracepoint:syscalls:sys_enter_openat', 'tracepoint:syscalls:sys_exit_openat',
    ]);
  });

  it('reports unknown tracepoints with the closest name', () => {
    const r = check('tracepoint:syscalls:sys_enter_opnat { }');
    expect(r.diagnostics.map((d) => [d.code, d.hint])).toEqual([
      ['E_UNKNOWN_TRACEPOINT', 'did you mean tracepoint:syscalls:sys_enter_openat?'],
    ]);
  });

  it('reports a wildcard that matches nothing', () => {
    expect(codes('tracepoint:nope:* { }')).toEqual(['E_UNKNOWN_TRACEPOINT@1:1-18']);
  });

  it('reports map value type mismatches across probes', () => {
    // As bpftrace does, the map is underlined.
    expect(codes('BEGIN { @x = count(); } END { @x = 1; }')).toEqual(['E_TYPE_MISMATCH@1:31-33']);
    expect(codes('BEGIN { @x = 1; } END { @x = "s"; }')).toEqual(['E_TYPE_MISMATCH@1:25-27']);
  });

  it('reports map key mismatches', () => {
    expect(codes('BEGIN { @x[1] = 1; @x["a"] = 2; }')).toEqual(['E_MAP_KEY@1:20-27']);
    expect(codes('BEGIN { @x[1] = 1; @x = 2; }')).toEqual(['E_MAP_KEY@1:20-22']);
  });

  it('reports undefined variables and maps with hints', () => {
    const r = check('BEGIN { $count = 1; @c = $count; printf("%d\\n", $cuont); }');
    expect(r.diagnostics.map((d) => [d.code, d.hint])).toEqual([['E_UNDEFINED_VARIABLE', 'did you mean $count?']]);
    expect(codes('BEGIN { print(@nothing); }')).toEqual(['E_UNDEFINED_MAP@1:15-23']);
  });

  it('reports unknown functions, builtins and fields with hints', () => {
    const r = check('tracepoint:syscalls:sys_enter_openat { @ = cuont(); printf("%d\\n", args->flgs); }');
    expect(r.diagnostics.map((d) => [d.code, d.hint])).toEqual([
      ['E_UNKNOWN_FUNCTION', 'did you mean count?'],
      ['E_UNKNOWN_FIELD', 'did you mean flags?'],
    ]);
  });

  it('checks function arity and argument types', () => {
    expect(codes('BEGIN { @x = hist(); }')).toEqual(['E_ARITY@1:14-20']);
    expect(codes('BEGIN { @x = sum("s"); }')).toEqual(['E_ARG_TYPE@1:18-21']);
    expect(codes('BEGIN { @x = lhist(1, 10, 0, 1); }')).toEqual(['E_LHIST@1:14-32']);
    // As bpftrace 0.17: a step larger than the range, and a negative str() length.
    expect(codes('BEGIN { @x = lhist(5, 0, 10, 20); }')).toEqual(['E_LHIST@1:14-33']);
    expect(codes('BEGIN { @x = lhist(5, 0, 10, 10); }')).toEqual([]);
    expect(codes('BEGIN { @x = str(0, -1); }')).toEqual(['E_ARG_TYPE@1:21-23']);
  });

  it('checks printf arguments against the format', () => {
    const r = check('BEGIN { printf("%d %s\\n", 1); }');
    expect(r.diagnostics[0]!.code).toBe('E_PRINTF');
    expect(r.diagnostics[0]!.message).toBe('printf: Not enough arguments for format string (1 supplied, 2 expected)');
    expect(codes('BEGIN { printf("%s\\n", 5); }')).toEqual(['E_PRINTF@1:24-25']);
  });

  it('requires aggregations to be assigned to maps', () => {
    expect(codes('BEGIN { count(); }')).toEqual(['E_AGG_CONTEXT@1:9-16']);
  });

  it('rejects arithmetic on strings and reports bad operands at the operator', () => {
    expect(codes('BEGIN { @x = comm + 1; }')).toEqual(['E_TYPE@1:19-20']);
  });

  it('rejects break outside loops and out-of-range tuple indexes', () => {
    expect(codes('BEGIN { break; }')).toEqual(['E_JUMP@1:9-14']);
    expect(codes('BEGIN { $t = (1, 2); @x = $t.2; }')).toEqual(['E_TUPLE_INDEX@1:27-31']);
  });

  it('checks builtin availability per probe type', () => {
    expect(codes('BEGIN { @x = retval; }')).toEqual(['E_BUILTIN_CONTEXT@1:14-20']);
  });

  it('warns like bpftrace about signed division and mixed-sign comparisons', () => {
    const r = check('BEGIN { $a = -1; $b = $a % 3; if ($a < pid) { @x = $b; } }');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['W_SIGNED_DIV', 'W_SIGN_COMPARE']);
    expect(r.program).toBeDefined();
  });

  it('macaddr() takes 6 bytes exactly, as bpftrace 0.17 (a longer array is an error, not its first 6 bytes)', () => {
    expect(codes('struct m { unsigned char a[6]; char b[16]; }; BEGIN { $p = (struct m *)0; @x = macaddr($p->a); @y = macaddr($p->b); }'))
      .toEqual(['E_ARG_TYPE@1:109-114']);
  });

  it('an unknown field given to printf is one error, not also a format mismatch', () => {
    expect(codes('tracepoint:syscalls:sys_enter_openat { printf("%s\\n", args->nope); }'))
      .toEqual(['E_UNKNOWN_FIELD@1:61-65']);
    expect(codes('BEGIN { printf("%s\\n", 1); }')).toEqual(['E_PRINTF@1:24-25']);
  });

  it('warns as bpftrace 0.17 on mixed-sign arithmetic, and not on division of non-negative constants', () => {
    const warned = (expr: string) => check(`BEGIN { $d = 4; $u = (uint32)3; @x = ${expr}; }`)
      .diagnostics.filter((d) => d.code.startsWith('W_SIGN')).map((d) => d.code);
    expect(warned('1 / 2')).toEqual([]);
    expect(warned('1 / 0')).toEqual([]);
    expect(warned('$u / 2')).toEqual([]);
    expect(warned('$u + 1')).toEqual([]);
    expect(warned('$d / 2')).toEqual(['W_SIGNED_DIV']);
    expect(warned('4 / -2')).toEqual(['W_SIGNED_DIV']);
    expect(warned('$u / $d')).toEqual(['W_SIGN_ARITH', 'W_SIGNED_DIV']);
    expect(warned('$u * $d')).toEqual(['W_SIGN_ARITH']);
    expect(warned('$u + -1')).toEqual(['W_SIGN_ARITH']);
    expect(warned('$u & $d')).toEqual([]);
  });

  it('warns about variables that are assigned but never used', () => {
    const r = check('BEGIN { $unused = 1; $used = 2; @x = $used; }');
    expect(r.diagnostics.map((d) => `${d.code}@${d.span.column}`)).toEqual(['W_UNUSED_VARIABLE@9']);
  });

  it('widens strings of different sizes in one map', () => {
    const r = check('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @[str(args->filename)] = count(); }');
    expect(r.diagnostics).toEqual([]);
    expect(typeName(r.program!.maps.get('@')!.keyType!)).toBe('string[64]');
  });

  it('lays out events: ids in program order, fields after the 8-byte id', () => {
    const r = check('BEGIN { printf("%d %s\\n", 1, comm); time(); exit(); }');
    const events = r.program!.events;
    expect(events.map((e) => e.kind)).toEqual(['printf', 'time', 'exit']);
    expect(events[0]!.fields.map((f) => f.offset)).toEqual([8, 16]);
    expect(events[0]!.size).toBe(32);
  });
});

describe('config block', () => {
  it('sizes hist/lhist maps: one entry of every bucket without a key, keys × buckets allocated on use with one', () => {
    const maps = check('tracepoint:syscalls:sys_enter_openat { @h = hist(args->flags); @l = lhist(args->flags, 0, 100, 10); '
      + '@hk[comm] = hist(args->flags); @c[comm] = count(); }').program!.maps;
    expect([...maps.values()].map((m) => [m.name, m.maxEntries, m.preallocate])).toEqual([
      ['@c', 4096, true], ['@h', 1, true], ['@hk', 4096 * 66, false], ['@l', 1, true],
    ]);
  });

  it('sizes every other map without a key for its one entry, and keyed maps for BPFTRACE_MAP_KEYS_MAX keys', () => {
    const maps = check('tracepoint:syscalls:sys_enter_openat { @s = sum(pid); @a = avg(pid); @m = max(pid); @st = stats(pid); '
      + '@x = pid; @str = comm; @k[pid] = sum(pid); }').program!.maps;
    expect([...maps.values()].map((m) => [m.name, m.maxEntries])).toEqual([
      ['@a', 1], ['@k', 4096], ['@m', 1], ['@s', 1], ['@st', 1], ['@str', 1], ['@x', 1],
    ]);
  });

  it('sets map size and string length', () => {
    const r = check('config = { max_map_keys = 16; max_strlen = 32; } tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }');
    expect(r.diagnostics).toEqual([]);
    expect(r.program!.maps.get('@')!.maxEntries).toBe(16);
    expect(typeName(r.program!.maps.get('@')!.keyType!)).toBe('string[32]');
  });

  it('rejects unknown keys with a hint', () => {
    const r = check('config = { max_map_key = 16 } BEGIN { }');
    expect(r.diagnostics.map((d) => [d.code, d.hint])).toEqual([['E_CONFIG', 'did you mean max_map_keys?']]);
  });

  it("takes bpftrace 0.26's config variables by any of their names, with the run's own options winning", () => {
    const parsed = (text: string) => parse(text).program;
    const r = typecheck(parsed('config = { MAX_MAP_KEYS = 16; BPFTRACE_STACK_MODE = perf; max_cat_bytes = 100; print_maps_on_exit = false; '
      + 'cpp_demangle = 0; perf_rb_pages = 8 } profile:hz:99 { @[kstack, ustack(3)] = count(); }'), new FakeKernel());
    expect(r.diagnostics).toEqual([]);
    expect(r.program!.settings).toEqual({ mapKeysMax: 16, stackMode: 'perf', catBytesMax: 100, printMapsOnExit: false, cppDemangle: false, ringPages: 8 });
    const key = r.program!.maps.get('@')!;
    expect(key.maxEntries).toBe(16);
    expect(key.keyType).toMatchObject({ elements: [{ kind: 'kstack', mode: 'perf' }, { kind: 'ustack', depth: 3, mode: 'perf' }] });
    // The environment's (or the API's) value wins over the block's.
    const env = typecheck(parsed('config = { max_map_keys = 16; stack_mode = raw } BEGIN { @[kstack] = count(); }'), new FakeKernel(), { mapKeysMax: 8, stackMode: 'perf' });
    expect(env.program!.maps.get('@')!.maxEntries).toBe(8);
    expect(env.program!.maps.get('@')!.keyType).toMatchObject({ kind: 'kstack', mode: 'perf' });
    // build_id is a ustack mode: kstack keeps bpftrace's.
    const ids = typecheck(parsed('config = { stack_mode = build_id } BEGIN { @[kstack, ustack] = count(); }'), new FakeKernel());
    expect(ids.program!.maps.get('@')!.keyType).toMatchObject({ elements: [{ kind: 'kstack', mode: 'bpftrace' }, { kind: 'ustack', mode: 'build_id' }] });
  });

  it('reports bad values, and warns of the variables tracelet accepts without effect', () => {
    const r = typecheck(parse('config = { stack_mode = fancy; print_maps_on_exit = maybe; log_size = 100; license = "GPL" } BEGIN { }').program, new FakeKernel());
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['E_CONFIG', "config 'stack_mode' needs one of: bpftrace, perf, raw, build_id"],
      ['E_CONFIG', "config 'print_maps_on_exit' needs true or false"],
      ['W_CONFIG_UNUSED', "config 'log_size' has no effect in tracelet: the verifier log grows as a failed load needs (-v shows it)"],
      ['W_CONFIG_UNUSED', "config 'license' has no effect in tracelet: its programs are GPL"],
    ]);
  });
});

describe('errorf() and warnf() (bpftrace 0.2x)', () => {
  it('send printf-like events, at the span of the call', () => {
    const r = check('BEGIN { errorf("bad %d, %s", 10, "arg2"); warnf("careful"); }');
    expect(r.diagnostics).toEqual([]);
    const [e, w] = r.program!.events;
    expect([e!.kind, e!.format, e!.fields.length, `${e!.span.line}:${e!.span.column}-${e!.span.endColumn}`])
      .toEqual(['errorf', 'bad %d, %s', 2, '1:9-41']);
    expect([w!.kind, w!.format, `${w!.span.column}-${w!.span.endColumn}`]).toEqual(['warnf', 'careful', '43-59']);
    expect(e!.expandedFrom).toBeUndefined();
  });

  it('check the format as printf does, in their own name', () => {
    const r = check('BEGIN { errorf("%d %s\\n", 1); warnf("%s\\n", 5); }');
    expect(r.diagnostics.map((d) => `${d.code}@${d.span.column}-${d.span.endColumn} ${d.message}`)).toEqual([
      'E_PRINTF@16-25 errorf: Not enough arguments for format string (1 supplied, 2 expected)',
      'E_PRINTF@45-46 warnf: %s specifier expects a value of type string (integer supplied)',
    ]);
  });

  it('refuse a format that is not a string literal, with a hint', () => {
    const r = check('BEGIN { $f = "x"; errorf($f); warnf(comm, 1); }');
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.span.column}-${d.span.endColumn}`))
      .toEqual(['E_ARG_TYPE@26-28', 'E_ARG_TYPE@37-41']);
    expect(r.diagnostics[0]!.message).toBe('errorf() needs a string literal as its format');
    expect(r.diagnostics[0]!.hint).toBe('the format is fixed when the program is compiled; the values go after it: errorf("%s: %d\\n", comm, pid)');
  });

  it('in a macro, remember the macro calls they were expanded from, innermost first', () => {
    const r = check('macro bad() { errorf("x"); }\nmacro worse() { bad(); }\nBEGIN { worse(); bad(); }');
    expect(r.diagnostics).toEqual([]);
    const at = (s: { line: number; column: number; endColumn: number }) => `${s.line}:${s.column}-${s.endColumn}`;
    const [viaWorse, direct] = r.program!.events;
    expect([at(viaWorse!.span), ...viaWorse!.expandedFrom!.map(at)]).toEqual(['1:15-26', '2:17-22', '3:9-16']);
    expect([at(direct!.span), ...direct!.expandedFrom!.map(at)]).toEqual(['1:15-26', '3:18-23']);
  });
});

describe('a uprobe/usdt probe whose function is not in its file (missing_probes)', () => {
  const run = (text: string, options: { missingProbes?: 'error' | 'warn' | 'ignore' } = {}) => {
    const r = typecheck(parse(text).program, new FakeKernelWithBinary(), options);
    return { codes: r.diagnostics.map((d) => d.code), probes: r.program?.probes.map((p) => p.targets.map((t) => t.name).join(',')) };
  };
  const program = 'uprobe:/bin/demo:absent { @x[tid] = nsecs; } uprobe:/bin/demo:main { printf("%d\\n", @x[tid]); }';

  it('is skipped with a warning while other probes attach, its maps still typed (bpftrace 0.17 skips it silently)', () => {
    expect(run(program)).toEqual({ codes: ['W_UNKNOWN_FUNCTION'], probes: ['uprobe:/bin/demo:main'] });
    expect(run(program, { missingProbes: 'ignore' })).toEqual({ codes: [], probes: ['uprobe:/bin/demo:main'] });
    expect(run(`config = { missing_probes = "ignore" } ${program}`)).toEqual({ codes: [], probes: ['uprobe:/bin/demo:main'] });
  });

  it('is an error with missing_probes = error, and when nothing else would attach', () => {
    expect(run(program, { missingProbes: 'error' }).codes).toEqual(['E_UNKNOWN_FUNCTION']);
    expect(run('uprobe:/bin/demo:absent { @x = 1; }').codes).toEqual(['E_UNKNOWN_FUNCTION']);
    // Not a uprobe: a tracepoint that does not exist is an error, as in bpftrace.
    expect(run('tracepoint:demo:absent { } uprobe:/bin/demo:main { }').codes).toContain('E_UNKNOWN_TRACEPOINT');
  });
});
