// Maps are relocations, never fds: codegen declares each map as a BTF-defined map (a `.maps`
// global whose debug-info type libbpf reads), code takes the global's address, and the object
// LLVM makes has a `.maps` section and BTF that describes every map. (Fake kernel; no root.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { ElfFile } from '../../src/kernel/elf.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { STACKS_MAX } from '../../src/model/object-layout.js';

/** The fake kernel, plus sys_enter_openat2, so that one syscall dispatch program serves two syscalls. */
class KernelWithOpenat2 extends FakeKernel {
  override tracepointFormat(category: string, event: string) {
    const openat = super.tracepointFormat(category, event === 'sys_enter_openat2' ? 'sys_enter_openat' : event);
    return openat && { ...openat, event };
  }
}

const PROGRAM = `BEGIN { @start = nsecs; @ = 1; }
tracepoint:syscalls:sys_enter_openat,tracepoint:syscalls:sys_enter_openat2 { @files[str(args->filename)] = count(); @h[comm] = hist(pid); @k[kstack(3)] = count(); @p[probe] = count(); }
interval:s:1 { printf("%d\\n", elapsed); exit(); }`;

function compiled(text: string) {
  const result = compile({ source: text, syscallDispatch: 'always' }, new KernelWithOpenat2());
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(result.backendError).toBeUndefined();
  return { generated: result.generated!, object: result.object! };
}

const dir = mkdtempSync(join(tmpdir(), 'tl-maps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The object's sections, read back as a file (as libbpf would). */
function elfOf(object: Buffer, name: string): ElfFile {
  const path = join(dir, `${name}.o`);
  writeFileSync(path, object);
  return ElfFile.open(path);
}

const BTF_KIND_PTR = 2;
const BTF_KIND_ARRAY = 3;
const BTF_KIND_STRUCT = 4;
const BTF_KIND_VAR = 14;
const BTF_KIND_DATASEC = 15;

/** The maps a `.BTF` section describes: each VAR of the `.maps` DATASEC with its fields' values. */
function btfMaps(btf: Buffer): Map<string, Record<string, number>> {
  expect(btf.readUInt16LE(0)).toBe(0xeb9f);
  const hdrLen = btf.readUInt32LE(4);
  const typeStart = hdrLen + btf.readUInt32LE(8);
  const typeEnd = typeStart + btf.readUInt32LE(12);
  const strStart = hdrLen + btf.readUInt32LE(16);
  const str = (off: number) => btf.toString('latin1', strStart + off, btf.indexOf(0, strStart + off));
  const types: { name: string; kind: number; vlen: number; sizeOrType: number; at: number }[] = [{ name: '', kind: 0, vlen: 0, sizeOrType: 0, at: 0 }];
  // Bytes after each kind's 12-byte header (include/uapi/linux/btf.h).
  const extra = (kind: number, vlen: number) =>
    [0, 4, 0, 12, vlen * 12, vlen * 12, vlen * 8, 0, 0, 0, 0, 0, 0, vlen * 8, 4, vlen * 12, 0, 4, 0, vlen * 12][kind]!;
  for (let p = typeStart; p < typeEnd;) {
    const info = btf.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    types.push({ name: str(btf.readUInt32LE(p)), kind, vlen, sizeOrType: btf.readUInt32LE(p + 8), at: p + 12 });
    p += 12 + extra(kind, vlen);
  }
  const maps = new Map<string, Record<string, number>>();
  const section = types.find((t) => t.kind === BTF_KIND_DATASEC && t.name === '.maps');
  expect(section).toBeDefined();
  for (let i = 0; i < section!.vlen; i++) {
    const variable = types[btf.readUInt32LE(section!.at + i * 12)]!;
    expect(variable.kind).toBe(BTF_KIND_VAR);
    const struct = types[variable.sizeOrType]!;
    expect(struct.kind).toBe(BTF_KIND_STRUCT);
    const fields: Record<string, number> = {};
    for (let m = 0; m < struct.vlen; m++) {
      // int (*field)[VALUE]: a pointer to an array whose length is the value.
      const pointer = types[btf.readUInt32LE(struct.at + m * 12 + 4)]!;
      expect(pointer.kind).toBe(BTF_KIND_PTR);
      const array = types[pointer.sizeOrType]!;
      expect(array.kind).toBe(BTF_KIND_ARRAY);
      fields[str(btf.readUInt32LE(struct.at + m * 12))] = btf.readUInt32LE(array.at + 8);
    }
    maps.set(variable.name, fields);
  }
  return maps;
}

describe('maps as relocations', () => {
  it('declares every map as a .maps global and refers to maps by address, never by fd', () => {
    const { generated } = compiled(PROGRAM);
    const { ir } = generated;
    expect(ir).not.toContain('llvm.bpf.pseudo');
    const globals = [...ir.matchAll(/^@(\w+) = dso_local global \[\d+ x i64\] zeroinitializer, section "\.maps"/gm)].map((m) => m[1]);
    expect(globals.sort()).toEqual(generated.maps.map((m) => m.symbol).sort());
    expect(globals.sort()).toEqual(['tl_events', 'tl_kstack_3', 'tl_stack_buf', 'tl_start', 'tl_map', 'tl_files',
      'tl_h', 'tl_k', 'tl_p', 'tl_run', 'tl_sys_enter'].sort());
    // The counters, the stopped flag, the last stack id and the read failures are global variables, each in a .bss section of its own.
    const variables = [...ir.matchAll(/^@(\w+) = dso_local global \[(\d+) x i64\] zeroinitializer, section "\.bss\.(\w+)"/gm)];
    expect(variables.map((m) => [m[1], Number(m[2]), m[3]])).toEqual([
      ['tl_counters', 1 + 6, 'tl_counters'], ['tl_stopped', 1, 'tl_stopped'], ['tl_stack_ids', 1, 'tl_stack_ids'], ['tl_readfail', 512, 'tl_readfail'],
    ]);
    // Every map a helper is given is one of these globals.
    for (const m of ir.matchAll(/bitcast \(\[\d+ x i64\]\* @(\w+) to i8\*\)/g)) expect(globals).toContain(m[1]);
    expect(Object.fromEntries(generated.mapSymbols)).toEqual({
      '@': 'tl_map', '@files': 'tl_files', '@h': 'tl_h', '@k': 'tl_k', '@p': 'tl_p', '@start': 'tl_start',
    });
  });

  it('declares tl_readfail, tl_run and the syscall names only for programs that use them', () => {
    const { generated } = compiled('tracepoint:syscalls:sys_enter_openat { @ = count(); }');
    expect(generated.maps.map((m) => m.symbol).sort()).toEqual(['tl_events', 'tl_map']);
  });

  it('gives maps whose names would collide a symbol of their own', () => {
    const { generated } = compiled('BEGIN { @ = 1; @map = 2; @events = 3; @counters = 4; }');
    expect(Object.fromEntries(generated.mapSymbols)).toEqual({
      '@': 'tl_map', '@counters': 'tl_counters_1', '@events': 'tl_events_1', '@map': 'tl_map_1',
    });
    // The maps of a ustack's announcement: `@upids[ustack]` counted the pids there before.
    const announced = compiled('profile:hz:99 { @upids[ustack] = count(); @upids_ring = 1; }').generated;
    expect(Object.fromEntries(announced.mapSymbols)).toEqual({ '@upids': 'tl_upids_1', '@upids_ring': 'tl_upids_ring_1' });
    expect(announced.maps.map((m) => m.symbol)).toEqual(expect.arrayContaining(['tl_upids', 'tl_upids_ring']));
    // An LRU map: a long run that has met thousands of processes still announces new ones.
    expect(announced.maps.find((m) => m.symbol === 'tl_upids')?.type).toBe('lru_hash');
  });

  it('counts a refused map update where it happens, outside loops, and once a run through the exit inside them', () => {
    const once = compiled('tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }').generated.ir;
    // One branch at the update to the full-map counter; the read keeps its bit for the exit.
    expect(once).toMatch(/^refused\d+:\n(.*\n){0,3}.*atomicrmw add i64\* getelementptr inbounds \(\[\d+ x i64\], \[\d+ x i64\]\* @tl_counters/m);
    const looped = compiled('BEGIN { $i = 0; while ($i < 10) { @[$i] = 1; $i++; } }').generated.ir;
    expect(looped).not.toMatch(/^refused\d+:/m);
  });

  it('counts no refused update of a map without a key: sized for its entries, it cannot be full', () => {
    const refusals = (text: string) => compiled(text).generated.ir.match(/^refused\d+:/gm)?.length ?? 0;
    expect(refusals('tracepoint:syscalls:sys_enter_openat { @s = sum(pid); @a = avg(pid); @m = max(pid); @x = nsecs; @st = stats(pid); }')).toBe(0);
    expect(refusals('tracepoint:syscalls:sys_enter_openat { @s = sum(pid); @k[pid] = sum(pid); }')).toBe(1);
  });

  it('sizes the ring buffer from the probes that send events', () => {
    const ring = (text: string) => compiled(text).generated.maps.find((m) => m.symbol === 'tl_events')!.maxEntries;
    expect(ring('BEGIN { printf("hi\\n"); exit(); }')).toBe(256 << 10);
    expect(ring('interval:s:1 { printf("%d\\n", elapsed); }')).toBe(256 << 10);
    // A loop in a slow probe may send thousands of records in one run.
    expect(ring('END { $i = 0; while ($i < 1000) { printf("%d\\n", $i); $i++; } }')).toBe(1 << 20);
    expect(ring('BEGIN { for ($i : 0..100) { printf("%d\\n", $i); } }')).toBe(1 << 20);
    // A probe that can fire at a high rate: 0.25 s of a million records a second.
    expect(ring('tracepoint:syscalls:sys_enter_openat { printf("%d\\n", pid); }')).toBe(16 << 20);
  });

  it('makes an object whose .maps section and BTF describe every map as libbpf reads them', () => {
    const { generated, object } = compiled(PROGRAM);
    const elf = elfOf(object, 'maps');
    const maps = elf.section('.maps');
    expect(maps).toBeDefined();
    expect(Number(maps!.size)).toBe(sizeOfMaps(generated.ir));
    const described = btfMaps(elf.sectionData(elf.section('.BTF')!));
    expect([...described.keys()].sort()).toEqual(generated.maps.map((m) => m.symbol).sort());
    // BPF_MAP_TYPE_*: hash 1, array 2, percpu_hash 5, percpu_array 6, stack_trace 7, ringbuf 27.
    // 256 KiB: only BEGIN and interval probes send events, and they do not loop.
    expect(described.get('tl_events')).toEqual({ type: 27, max_entries: 256 << 10 });
    expect(described.get('tl_sys_enter')).toMatchObject({ type: 2, key_size: 4, value_size: 64 });
    // A stack table: the stack (3 frames) is the key, its id the value; entries allocated as stacks are seen.
    expect(described.get('tl_kstack_3')).toEqual({ type: 1, key_size: 24, value_size: 8, max_entries: STACKS_MAX, map_flags: 1 });
    // The buffer a stack is written into: an entry per program that records stacks.
    expect(described.get('tl_stack_buf')).toEqual({ type: 6, key_size: 4, value_size: 24, max_entries: 1 });
    const h = generated.maps.find((m) => m.symbol === 'tl_h')!;
    // A keyed hist map allocates its (key, bucket) entries on use: BPF_F_NO_PREALLOC.
    expect(described.get('tl_h')).toEqual({ type: 5, key_size: h.keySize, value_size: 8, max_entries: h.maxEntries, map_flags: 1 });
    // Without a key, a map holds its one entry.
    expect(described.get('tl_start')).toEqual({ type: 1, key_size: 8, value_size: 8, max_entries: 1 });
  });
});

describe('build_id stack tables', () => {
  it('gives ustack(build_id) a stack table of its own, keyed by 32-byte frames (BPF_F_USER_BUILD_ID)', () => {
    const { generated, object } = compiled('tracepoint:syscalls:sys_enter_openat { @b[ustack(build_id, 5)] = count(); @u[ustack(5)] = count(); }');
    const elf = elfOf(object, 'build-id');
    const described = btfMaps(elf.sectionData(elf.section('.BTF')!));
    // A frame is struct bpf_stack_build_id (32 bytes).
    expect(described.get('tl_ustack_build_id_5')).toEqual({ type: 1, key_size: 5 * 32, value_size: 8, max_entries: STACKS_MAX, map_flags: 1 });
    expect(described.get('tl_ustack_5')).toEqual({ type: 1, key_size: 5 * 8, value_size: 8, max_entries: STACKS_MAX, map_flags: 1 });
    // One buffer entry (the one program), as large as the larger stack.
    expect(described.get('tl_stack_buf')).toEqual({ type: 6, key_size: 4, value_size: 5 * 32, max_entries: 1 });
    expect(generated.ir).toMatch(/bitcast \(\[\d+ x i64\]\* @tl_ustack_build_id_5 to i8\*\)/);
    // bpf_get_stack (67) with BPF_F_USER_STACK | BPF_F_USER_BUILD_ID (1 << 8 | 1 << 11).
    expect(generated.ir).toMatch(/inttoptr \(i64 67 to .*\(i8\* %ctx, i8\* %\w+, i64 160, i64 2304\)/);
  });
});

/** Bytes of the .maps globals: 8 per field. */
function sizeOfMaps(ir: string): number {
  return [...ir.matchAll(/= dso_local global \[(\d+) x i64\] zeroinitializer, section "\.maps"/g)].reduce((n, m) => n + Number(m[1]) * 8, 0);
}
