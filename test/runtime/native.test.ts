// The native addon on the real kernel: LLVM IR -> BPF object, maps, load, attach, test runs and
// the ring buffer. No mocks. Programs here are named tl_nt_* so the final "nothing left" check
// cannot be confused by other tracelet processes using the same kernel.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native, releaseCleanPages, type NativeAddon, type NativeLink, type NativeObject } from '../../src/runtime/native.js';
import { ElfFile } from '../../src/kernel/elf.js';
import { Kallsyms } from '../../src/kernel/kallsyms.js';
import { useSymbolNatives } from '../../src/kernel/natives.js';
import { findDebugFile } from '../../src/kernel/user-symbols.js';
import { stdSort } from '../../src/kernel/symtab.js';
import { LICENSE, PSEUDO, bumpIR, lookupSlot0 } from '../helpers/bpf-ir.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { COUNTERS_MAP, EVENTS_MAP, STOPPED_MAP, globalMapName } from '../../src/model/object-layout.js';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { generate } from '../../src/codegen/codegen.js';

const MARKER = 0x1122334455667788n;

/**
 * Two raw-tracepoint programs sharing one inlined body: count += 1 in an array map (atomic
 * fetch-add, cpu v3) and send {MARKER, new count} to the ring buffer; tl_nt_quiet sends it with
 * BPF_RB_NO_WAKEUP. The ring buffer call uses the varargs helper form codegen emits.
 */
function counterIR(countsFd: number, ringFd: number): string {
  return `${LICENSE}${PSEUDO}
define internal i64 @count_and_emit(i64 %flags) alwaysinline {
entry:
  %rec = alloca [2 x i64], align 8
${lookupSlot0(countsFd, 'found', 'out')}
found:
  %cnt = bitcast i8* %v to i64*
  %old = atomicrmw add i64* %cnt, i64 1 seq_cst
  %new = add i64 %old, 1
  %f0 = getelementptr [2 x i64], [2 x i64]* %rec, i64 0, i64 0
  store i64 ${MARKER}, i64* %f0
  %f1 = getelementptr [2 x i64], [2 x i64]* %rec, i64 0, i64 1
  store i64 %new, i64* %f1
  %ring = call i64 @llvm.bpf.pseudo(i64 1, i64 ${ringFd})
  %ringp = inttoptr i64 %ring to i8*
  %recp = bitcast [2 x i64]* %rec to i8*
  %res = call i64 (...) inttoptr (i64 130 to i64 (...)*)(i8* %ringp, i8* %recp, i64 16, i64 %flags)
  ret i64 %res
out:
  ret i64 -1
}

define i64 @tl_nt_begin(i8* %ctx) section "raw_tracepoint/BEGIN" {
  %r = call i64 @count_and_emit(i64 0)
  ret i64 %r
}

define i64 @tl_nt_quiet(i8* %ctx) section "raw_tracepoint/BEGIN" {
  %r = call i64 @count_and_emit(i64 1)
  ret i64 %r
}
`;
}

function emptyIR(name: string, section: string): string {
  return `${LICENSE}define i64 @${name}(i8* %ctx) section "${section}" {\n  ret i64 0\n}\n`;
}

/** Kernel names (15 chars at most) of loaded programs. */
function loadedProgramNames(): string[] {
  const out = execFileSync('bpftool', ['prog', 'list', '-j'], { encoding: 'utf8' });
  return (JSON.parse(out) as { name?: string }[]).map((p) => p.name ?? '');
}

function sumPerCpu(value: Buffer, cpus: number): bigint {
  let sum = 0n;
  for (let cpu = 0; cpu < cpus; cpu++) sum += value.readBigUInt64LE(cpu * 8);
  return sum;
}

/** Splits a drain() buffer into records. */
function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length;) {
    const len = buf.readUInt32LE(at);
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += (4 + len + 7) & ~7;
  }
  return out;
}

function errorOf(fn: () => unknown): Error & { code?: string; errno?: number; log?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

let addon: NativeAddon;
const fds: number[] = [];
const objects: NativeObject[] = [];
const links: NativeLink[] = [];

function map(...args: Parameters<NativeAddon['mapCreate']>): number {
  const fd = addon.mapCreate(...args);
  fds.push(fd);
  return fd;
}

function load(ir: string, types: Record<string, string>): NativeObject {
  const obj = addon.loadObject(addon.compileIR(ir), types);
  objects.push(obj);
  return obj;
}

beforeAll(() => {
  setFlagsFromString('--expose-gc'); // for the finalizer test (the gc of a new context)
  addon = native();
  if (!existsSync('/sys/kernel/tracing/events')) {
    spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  }
});

afterAll(() => {
  for (const l of links) l.destroy();
  for (const o of objects) o.close();
  for (const fd of fds) addon.closeFd(fd);
});

describe('compileIR', () => {
  it('compiles a small program to a BPF ELF, deterministically', () => {
    const ir = counterIR(100, 101);
    const first = addon.compileIR(ir);
    expect(first.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(first.readUInt16LE(18)).toBe(247); // e_machine: EM_BPF
    // The same IR compiles to the same object every time (compile time is measured in bench/).
    for (let i = 0; i < 3; i++) expect(addon.compileIR(ir).equals(first)).toBe(true);
  });

  it('emits BPF assembly with the inlined helper calls and no unwind tables', () => {
    const asm = addon.compileIRToAsm(counterIR(100, 101));
    expect(asm).toContain('tl_nt_begin:');
    expect(asm).toContain('call 130');
    expect(asm).toContain('atomic_fetch_add');
    expect(asm).not.toContain('count_and_emit:');
    expect(asm).not.toContain('cfi_startproc');
  });

  it('gives back the clean file pages a compile faulted in, and compiles the same object after', () => {
    const rssFile = () => Number(/RssFile:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const ir = counterIR(100, 101);
    const before = addon.compileIR(ir);
    const resident = rssFile();
    expect(releaseCleanPages()).toBeGreaterThan(1 << 20);
    expect(rssFile()).toBeLessThan(resident);
    expect(addon.compileIR(ir).equals(before)).toBe(true);
  });

  it('leaves mappings that hold written pages (relocations, breakpoints) alone', () => {
    // Private read-only file mappings with anonymous pages (RELRO: relocated, then protected) and
    // those pages' count: dropping them would lose what was written (the file lacks it).
    const written = () => new Map(readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
      .filter((m) => /^\S+ r-[-x]p \S+ \S+ \S+ +\//.test(m))
      .map((m) => [m.split(' ')[0]!, Number(/\nAnonymous: +(\d+) kB/.exec(m)![1])] as const)
      .filter(([, kb]) => kb > 0));
    const before = written();
    expect(before.size).toBeGreaterThan(0);
    releaseCleanPages();
    const after = written();
    for (const [range, kb] of before) expect(after.get(range), range).toBe(kb);
  });

  it('compiles with each named pipeline, and refuses others', () => {
    for (const pipeline of ['tracelet', 'O0', 'O1', 'O2', 'O3'] as const) {
      expect(addon.compileIR(emptyIR('tl_nt_x', 's'), { pipeline }).length).toBeGreaterThan(0);
    }
    expect(() => addon.compileIR(emptyIR('tl_nt_x', 's'), { pipeline: 'O4' as 'O3' })).toThrow(/pipeline must be/);
  });

  it('reports parse errors with line, column and LLVM text', () => {
    const e = errorOf(() => addon.compileIR('define i64 @f() {\n  %x = add i64 1, %y\n  ret i64 %x\n}\n'));
    expect(e.message).toMatch(/parse error: .*:2:\d+: error: use of undefined value '%y'/);
  });

  it('reports backend diagnostics instead of exiting', () => {
    const ir = `define i64 @f() section "s" {
  %b = alloca [1000 x i8]
  %p = bitcast [1000 x i8]* %b to i8*
  call void inttoptr (i64 6 to void (i8*)*)(i8* %p)
  ret i64 0
}
`;
    expect(errorOf(() => addon.compileIR(ir)).message).toMatch(/BPF stack limit of 512 bytes/);
  });

  it('compiles a big module in parts on threads, linked into one object that loads the same programs and maps', () => {
    // Probes of all kinds the parts split: helpers a for loop calls (local functions, copied into
    // each part that calls them), maps shared across parts, printf's ring, the counters' globals.
    const probe = (i: number) => `tracepoint:syscalls:sys_enter_openat { @s${i}[comm] = count(); @h${i} = hist(nsecs & 1023); `
      + `printf("%s %d\\n", comm, pid); @n${i}[pid] = nsecs; @l${i}[cpu] = lhist(tid & 127, 0, 128, 16); @all[${i}] = sum(1); }\n`;
    const text = 'BEGIN { @start = nsecs; }\n' + [0, 1, 2, 3, 4].map(probe).join('')
      + 'interval:s:1 { for ($kv : @n0) { @t = sum($kv.1); } }\nEND { clear(@s0); }\n';
    const kernel = new FakeKernel();
    const checked = typecheck(parse(text).program, kernel);
    expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const generated = generate(checked.program!, kernel, {});
    // Named tl_nt_* for the "nothing left" check at the end: the functions and their debug info,
    // whose names the linker matches (BTF).
    const source = generated.ir.replace(/(?<=[@"])(tl_[a-z]+_\d+)(?=[("])/g, 'tl_nt_$1');
    const types = Object.fromEntries(generated.programs.map((p) => [`tl_nt_${p.name}`, p.type]));
    const whole = addon.compileIR(source, { threads: 1 });
    const parts = [2, 3].map((threads) => addon.compileIR(source, { threads }));
    for (const linked of parts) expect(linked.equals(whole)).toBe(false);
    // On a machine of two CPUs or more a module this big is compiled in parts unasked.
    if (availableParallelism() >= 2) expect(addon.compileIR(source).equals(parts[0]!)).toBe(true);
    const [one, ...linked] = [whole, ...parts].map((elf) => {
      const obj = addon.loadObject(elf, types);
      objects.push(obj);
      return obj;
    });
    expect(one!.programs).toEqual(Object.keys(types));
    for (const obj of linked) {
      expect(obj.programs).toEqual(one!.programs);
      for (const name of one!.programs) expect(obj.programInstructions(name), name).toBe(one!.programInstructions(name));
      for (const symbol of [...generated.mapSymbols.values(), EVENTS_MAP, globalMapName(COUNTERS_MAP), globalMapName(STOPPED_MAP)]) {
        expect(obj.mapFd(symbol), symbol).toBeGreaterThanOrEqual(0);
      }
    }
    // A global is defined once in the linked object, not once per part: the counters' map holds one value.
    // kfuncs (externs in .ksyms) are more than libbpf 1.1's linker can join: such a module is
    // compiled whole, unasked; asked for parts, the link fails and it is compiled whole after.
    const kfuncs = generate(typecheck(parse(text.replace(/@s(\d)\[comm\]/g, '@s$1[comm(pid)]')).program, kernel).program!, kernel, {}).ir;
    expect(kfuncs).toContain('section ".ksyms"');
    const kfuncsWhole = addon.compileIR(kfuncs, { threads: 1 });
    for (const threads of [undefined, 2]) expect(addon.compileIR(kfuncs, { threads }).equals(kfuncsWhole)).toBe(true);
    const counters = (obj: NativeObject) => /value_size:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${obj.mapFd(globalMapName(COUNTERS_MAP))}`, 'utf8'))![1];
    for (const obj of linked) expect(counters(obj)).toBe(counters(one!));
  });

  it('turns LLVM stopping the process into one line and exit 70 (the internal-error code), not an abort', () => {
    const fixture = fileURLToPath(new URL('../fixtures/llvm/broken-after-check.ll', import.meta.url));
    const native = fileURLToPath(new URL('../../src/runtime/native.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e',
      `import('${native}').then(({ native }) => native().compileIR(require('node:fs').readFileSync('${fixture}', 'utf8')))`,
    ], { encoding: 'utf8' });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(70);
    expect(r.stderr).toMatch(/\ntracelet: internal error: LLVM stopped on the generated code \(Broken module found, compilation aborted!\)\n$/);
  });
});

describe('maps', () => {
  it('creates, updates, looks up and deletes', () => {
    const fd = map('hash', 'tl_nt_hash', 8, 8, 16);
    const k = Buffer.alloc(8);
    k.writeBigUInt64LE(7n);
    expect(addon.mapLookup(fd, k, 8)).toBeNull();
    addon.mapUpdate(fd, k, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...addon.mapLookup(fd, k, 8)!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(addon.mapDelete(fd, k)).toBe(true);
    expect(addon.mapDelete(fd, k)).toBe(false);
    addon.mapUpdate(fd, k, Buffer.alloc(8), 1 /* BPF_NOEXIST */);
    expect(errorOf(() => addon.mapUpdate(fd, k, Buffer.alloc(8), 1)).code).toBe('EEXIST');
  });

  it('updates many entries in one batch, as one update each would', () => {
    const fd = map('array', 'tl_nt_batch', 4, 128, 5000);
    const keys = Buffer.alloc(4 * 5000);
    const values = Buffer.alloc(128 * 5000);
    for (let i = 0; i < 5000; i++) {
      keys.writeUInt32LE(i, 4 * i);
      values.write(`name ${i}`, 128 * i);
    }
    addon.mapUpdateBatch(fd, keys, values);
    for (const i of [0, 1, 2499, 4999]) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(i);
      expect(addon.mapLookup(fd, key, 128)!.toString('latin1').replace(/\0+$/, '')).toBe(`name ${i}`);
    }
    expect(() => addon.mapUpdateBatch(fd, keys.subarray(0, 6), values)).toThrow(/whole keys/);
    expect(() => addon.mapUpdateBatch(fd, keys, values.subarray(0, 128))).toThrow(/one value per key/);
  });

  it('checks key and value sizes against the map instead of corrupting memory', () => {
    const fd = map('percpu_array', 'tl_nt_pca', 4, 4, 4);
    const bytes = 8 * addon.possibleCpus();
    expect(addon.mapLookup(fd, Buffer.alloc(4), bytes)!.length).toBe(bytes);
    expect(() => addon.mapLookup(fd, Buffer.alloc(4), 4)).toThrow(/per-CPU/);
    expect(() => addon.mapLookup(fd, Buffer.alloc(8), bytes)).toThrow(/key is 8 bytes/);
  });

  it('creates hash maps allocated on use (BPF_F_NO_PREALLOC) when asked', () => {
    const flagsOf = (fd: number) => Number(/^map_flags:\s+(0x[0-9a-f]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]);
    expect(flagsOf(map('percpu_hash', 'tl_nt_sparse', 16, 8, 270336, { preallocate: false }))).toBe(1);
    expect(flagsOf(map('percpu_hash', 'tl_nt_dense', 16, 8, 64))).toBe(0);
    expect(() => addon.mapCreate('array', 'tl_nt_arr', 4, 8, 4, { preallocate: false })).toThrow(/only hash maps/);
  });

  it('throws errno text for kernel refusals', () => {
    const big = errorOf(() => addon.mapCreate('hash', 'tl_nt_big', 8, 1 << 30, 1 << 20));
    expect(big.code).toBe('E2BIG');
    expect(big.message).toMatch(/Argument list too long/);
    expect(errorOf(() => addon.mapCreate('hash', 'tl_nt_zero', 8, 8, 0)).code).toBe('EINVAL');
    expect(() => addon.mapCreate('ringbuf', 'tl_nt_rb', 0, 0, 1000)).toThrow(/power of 2/);
    const full = map('hash', 'tl_nt_full', 4, 4, 1);
    addon.mapUpdate(full, Buffer.alloc(4), Buffer.alloc(4));
    expect(errorOf(() => addon.mapUpdate(full, Buffer.from([1, 0, 0, 0]), Buffer.alloc(4))).code).toBe('E2BIG');
  });

  for (const mode of ['batch', 'walk'] as const) {
    it(`dumps and clears hash maps (${mode})`, () => {
      process.env.TRACELET_NO_MAP_BATCH = mode === 'walk' ? '1' : '0';
      try {
        const cpus = addon.possibleCpus();
        for (const type of ['hash', 'percpu_hash', 'lru_hash'] as const) {
          const vb = type === 'percpu_hash' ? 8 * cpus : 8;
          const fd = map(type, 'tl_nt_dump', 8, 8, 2000);
          const k = Buffer.alloc(8), v = Buffer.alloc(vb);
          for (let i = 0; i < 1000; i++) {
            k.writeBigUInt64LE(BigInt(i));
            v.writeBigUInt64LE(BigInt(i * 3));
            addon.mapUpdate(fd, k, v);
          }
          const d = addon.mapDump(fd, 8, vb);
          expect(d.count).toBe(1000);
          expect(d.keys.length).toBe(8000);
          expect(d.values.length).toBe(1000 * vb);
          const seen = new Set<bigint>();
          for (let i = 0; i < d.count; i++) {
            const key = d.keys.readBigUInt64LE(i * 8);
            expect(d.values.readBigUInt64LE(i * vb)).toBe(key * 3n);
            seen.add(key);
          }
          expect(seen.size).toBe(1000);
          addon.mapClear(fd, 8, vb, false);
          expect(addon.mapDump(fd, 8, vb).count).toBe(0);
        }
      } finally {
        delete process.env.TRACELET_NO_MAP_BATCH;
      }
    });
  }

  // A big hash map is walked key by key up to maxEntries / 256 entries, then batched (SparseWalkEntries).
  it('dumps a big sparse hash map whole, below and above the entries it walks first', () => {
    const fd = map('hash', 'tl_nt_sparse', 16, 8, 65536, { preallocate: false });
    const k = Buffer.alloc(16), v = Buffer.alloc(8);
    for (const n of [0, 10, 256, 257, 600]) {
      addon.mapClear(fd, 16, 8, false);
      for (let i = 0; i < n; i++) {
        k.writeUInt32LE(i * 7919, 0);
        v.writeBigUInt64LE(BigInt(i));
        addon.mapUpdate(fd, k, v);
      }
      const d = addon.mapDump(fd, 16, 8);
      expect(d.count).toBe(n);
      const ids = new Set<number>();
      for (let i = 0; i < d.count; i++) {
        const id = Number(d.values.readBigUInt64LE(i * 8));
        expect(d.keys.readUInt32LE(i * 16)).toBe(id * 7919);
        ids.add(id);
      }
      expect(ids.size).toBe(n);
    }
  });

  it('packs a stack table dump: each stack cut after its last frame', () => {
    // Three stacks of depth 4: two frames, none, a full one; then a build id table (32-byte frames).
    const keys = Buffer.alloc(3 * 32);
    [[0x10n, 0x20n], [], [1n, 2n, 3n, 4n]].forEach((frames, s) => frames.forEach((a, f) => keys.writeBigUInt64LE(a, s * 32 + f * 8)));
    const ids = Buffer.alloc(3 * 8);
    [5n, 9n, 2n ** 40n].forEach((id, s) => ids.writeBigUInt64LE(id, s * 8));
    const p = addon.packStacks(keys, ids, 3, 32, 8);
    expect([...p.ids]).toEqual([5, 9, 2 ** 40]);
    expect([...p.ends]).toEqual([16, 16, 48]);
    expect([...new BigUint64Array(p.frames.buffer, p.frames.byteOffset, 6)]).toEqual([0x10n, 0x20n, 1n, 2n, 3n, 4n]);
    const buildId = Buffer.alloc(2 * 64);
    buildId.writeInt32LE(1, 0); // one valid frame, then an empty one
    buildId.fill(0xab, 4, 24);
    expect([...addon.packStacks(buildId, Buffer.alloc(16), 2, 64, 32).ends]).toEqual([32, 32]);
    expect(() => addon.packStacks(keys, ids, 4, 32, 8)).toThrow(/fewer bytes/);
    expect(() => addon.packStacks(keys, ids, 3, 32, 12)).toThrow(/multiple/);
  });

  // Its speed is measured in bench/ (map-dump), not asserted here.
  it('dumps 100k keys', () => {
    const n = 100_000;
    const fd = map('hash', 'tl_nt_100k', 8, 8, n);
    const k = Buffer.alloc(8);
    for (let i = 0; i < n; i++) {
      k.writeBigUInt64LE(BigInt(i));
      addon.mapUpdate(fd, k, k);
    }
    const d = addon.mapDump(fd, 8, 8);
    expect(d.count).toBe(n);
    expect(d.keys.equals(d.values)).toBe(true);
  });

  it('renders a dump as rows in value order (std::sort) and checks the rows against the dump', () => {
    const keys = Buffer.alloc(3 * 4);
    const values = Buffer.alloc(3 * 16);
    [[7, 5n, 1n], [-2, -1n, 0n], [3, 2n, 2n]].forEach(([k, a, b], e) => {
      keys.writeInt32LE(Number(k), e * 4);
      values.writeBigInt64LE(BigInt(a!), e * 16);
      values.writeBigInt64LE(BigInt(b!), e * 16 + 8);
    });
    const lit = (s: string) => ({ kind: 'literal' as const, bytes: Buffer.from(s) });
    const rows = {
      keySize: 4, valueBytes: 16, slots: 2, signed: true, separator: Buffer.from(';'),
      fields: [lit('k='), { kind: 'int' as const, offset: 0, size: 4, signed: true }, lit(' v='), { kind: 'value' as const }],
    };
    const render = (r: typeof rows, count = 3) => {
      let out = '';
      addon.renderDump(keys, values, count, r, (bytes) => (out += Buffer.from(bytes).toString()));
      return out;
    };
    expect(render(rows)).toBe('k=-2 v=-1;k=3 v=4;k=7 v=6');
    // Unsigned, -1 is the largest value.
    expect(render({ ...rows, signed: false })).toBe('k=3 v=4;k=7 v=6;k=-2 v=18446744073709551615');
    expect(render(rows, 0)).toBe('');
    expect(() => render(rows, 4)).toThrow(/fewer than/);
    expect(() => render({ ...rows, slots: 3 })).toThrow(/slots/);
    expect(() => render({ ...rows, fields: [{ kind: 'int', offset: 2, size: 4, signed: true }] })).toThrow(/does not fit/);
    expect(() => render({ ...rows, fields: [{ kind: 'int', offset: 0, size: 3, signed: true }] })).toThrow(/1, 2, 4 or 8/);
  });

  it('dumps and clears arrays (every element, zeroed by clear)', () => {
    const cpus = addon.possibleCpus();
    const fd = map('percpu_array', 'tl_nt_arr', 4, 8, 10);
    const v = Buffer.alloc(8 * cpus, 0);
    v.writeBigUInt64LE(5n, 0);
    addon.mapUpdate(fd, Buffer.from([3, 0, 0, 0]), v);
    const d = addon.mapDump(fd, 4, 8 * cpus);
    expect(d.count).toBe(10);
    expect(d.keys.readUInt32LE(3 * 4)).toBe(3);
    expect(d.values.readBigUInt64LE(3 * 8 * cpus)).toBe(5n);
    addon.mapClear(fd, 4, 8 * cpus, true);
    expect(sumPerCpu(addon.mapLookup(fd, Buffer.from([3, 0, 0, 0]), 8 * cpus)!, cpus)).toBe(0n);
  });
});

describe('programs', () => {
  it('runs a raw-tracepoint program that counts and writes ring buffer records', async () => {
    const counts = map('array', 'tl_nt_counts', 4, 8, 1);
    const ring = map('ringbuf', 'tl_nt_ring', 0, 0, 1 << 16);
    const obj = load(counterIR(counts, ring), { tl_nt_begin: 'raw_tracepoint', tl_nt_quiet: 'raw_tracepoint' });
    expect(obj.programs).toEqual(['tl_nt_begin', 'tl_nt_quiet']);
    expect(loadedProgramNames()).toEqual(expect.arrayContaining(['tl_nt_begin', 'tl_nt_quiet']));

    let readable = 0;
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => { wake = resolve; });
    const consumer = addon.ringBuffer(ring, () => { readable++; wake(); });
    try {
      const fd = obj.programFd('tl_nt_begin');
      for (let i = 0; i < 3; i++) expect(addon.runProgram(fd)).toBe(0);
      expect(addon.mapLookup(counts, Buffer.alloc(4), 8)!.readBigUInt64LE(0)).toBe(3n);

      // A record sent without BPF_RB_NO_WAKEUP wakes the poll handle.
      await Promise.race([woken, new Promise((_, reject) => setTimeout(() => reject(new Error('no wake-up')), 1000))]);
      expect(readable).toBeGreaterThan(0);
      const got = records(consumer.drain());
      expect(got.length).toBe(3);
      got.forEach((r, i) => {
        expect(r.length).toBe(16);
        expect(r.readBigUInt64LE(0)).toBe(MARKER);
        expect(r.readBigUInt64LE(8)).toBe(BigInt(i + 1));
      });
      expect(consumer.drain().length).toBe(0);

      // With BPF_RB_NO_WAKEUP the kernel wakes nobody, but the collector tells us it has records.
      await new Promise((r) => setTimeout(r, 10)); // let a late wake-up of the first records land
      const before = readable;
      expect(addon.runProgram(obj.programFd('tl_nt_quiet'))).toBe(0);
      for (let i = 0; i < 50 && readable === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(readable).toBeGreaterThan(before);
      const quiet = records(consumer.drain());
      expect(quiet.length).toBe(1);
      expect(quiet[0]!.readBigUInt64LE(8)).toBe(4n);
    } finally {
      consumer.close();
      consumer.close(); // idempotent
    }
    expect(() => consumer.drain()).toThrow(/closed/);
  });

  it('reads records that wrap around the end of the ring whole and in order', () => {
    const counts = map('array', 'tl_nt_counts3', 4, 8, 1);
    // One page: 24 bytes a record (8 of header) do not divide it, so records wrap at every turn.
    const ring = map('ringbuf', 'tl_nt_ring3', 0, 0, 4096);
    const obj = load(counterIR(counts, ring), { tl_nt_begin: 'raw_tracepoint', tl_nt_quiet: 'raw_tracepoint' });
    const consumer = addon.ringBuffer(ring, () => {});
    try {
      const fd = obj.programFd('tl_nt_begin');
      const got: bigint[] = [];
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 50; i++) expect(addon.runProgram(fd)).toBe(0);
        for (const r of records(consumer.drain())) {
          expect(r.length).toBe(16);
          expect(r.readBigUInt64LE(0)).toBe(MARKER);
          got.push(r.readBigUInt64LE(8));
        }
      }
      expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)));
    } finally {
      consumer.close();
    }
  });

  it('hands out a backlog about 1 MiB a drain, every record whole and in order', () => {
    const counts = map('array', 'tl_nt_counts5', 4, 8, 1);
    const ring = map('ringbuf', 'tl_nt_ring5', 0, 0, 1 << 22);
    const obj = load(counterIR(counts, ring), { tl_nt_begin: 'raw_tracepoint', tl_nt_quiet: 'raw_tracepoint' });
    const consumer = addon.ringBuffer(ring, () => {});
    try {
      // 100,000 records of 24 bytes (2.4 MB): more than two drains' worth.
      const fd = obj.programFd('tl_nt_quiet');
      for (let i = 0; i < 100_000; i++) addon.runProgram(fd);
      const sizes: number[] = [];
      const got: bigint[] = [];
      for (let batch = consumer.drain(); batch.length > 0; batch = consumer.drain()) {
        sizes.push(batch.length);
        for (const r of records(batch)) got.push(r.readBigUInt64LE(8));
      }
      expect(sizes.length).toBeGreaterThanOrEqual(3);
      for (const size of sizes) expect(size).toBeLessThanOrEqual(1 << 20);
      expect(got).toEqual(Array.from({ length: 100_000 }, (_, i) => BigInt(i + 1)));
    } finally {
      consumer.close();
    }
  });

  /**
   * A feedback loop, like a probe on the tracer's own syscalls: every onReadable call runs
   * `each`, whose record is the next one to read. After ~50 ms: the calls, the time they took, and
   * the counts of the records the ring then holds.
   */
  async function feedbackLoop(maps: string, each: 'tl_nt_begin' | 'tl_nt_quiet'): Promise<{ calls: number; elapsed: number; left: bigint[] }> {
    const counts = map('array', `tl_nt_counts${maps}`, 4, 8, 1);
    const ring = map('ringbuf', `tl_nt_ring${maps}`, 0, 0, 1 << 20);
    const obj = load(counterIR(counts, ring), { tl_nt_begin: 'raw_tracepoint', tl_nt_quiet: 'raw_tracepoint' });
    let calls = 0;
    const consumer = addon.ringBuffer(ring, () => { calls++; addon.runProgram(obj.programFd(each)); });
    try {
      const start = performance.now();
      addon.runProgram(obj.programFd('tl_nt_begin'));
      for (let i = 0; i < 10 && calls === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
      const elapsed = performance.now() - start;
      return { calls, elapsed, left: records(consumer.drain()).map((r) => r.readBigUInt64LE(8)) };
    } finally {
      consumer.close();
    }
  }

  it('calls onReadable for waiting records at most every 10 ms (a feedback loop is bounded, not a spin)', async () => {
    // Records sent with BPF_RB_NO_WAKEUP: only the collector's polls find them.
    const { calls, elapsed, left } = await feedbackLoop('2', 'tl_nt_quiet');
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(elapsed / 10 + 2);
    // The first record, then one per call (each call's record is never drained here).
    expect(left.length).toBeGreaterThanOrEqual(calls + 1);
    expect(left.slice(0, 2)).toEqual([1n, 2n]);
  });

  it('takes at most one wake-up a millisecond (records that wake the reader feeding themselves are paced, not a spin)', async () => {
    // Records that wake the reader (it has read everything before them), as probes send them.
    const { calls, elapsed } = await feedbackLoop('4', 'tl_nt_begin');
    expect(calls).toBeGreaterThanOrEqual(2);
    // One a millisecond at most (and the polls' every 10 ms); unpaced it would be one per round
    // trip through the loop, tens of microseconds.
    expect(calls).toBeLessThanOrEqual(elapsed * 1.1 + 2);
  });

  it('detaches a link whose JS object was collected', async () => {
    const gc = runInNewContext('gc', undefined) as (() => void) | undefined;
    if (typeof gc !== 'function') return;
    const counts = map('percpu_array', 'tl_nt_gc', 4, 8, 1);
    const obj = load(bumpIR('tl_nt_gc', 'raw_tracepoint/sys_enter', counts), { tl_nt_gc: 'raw_tracepoint' });
    const progId = () => (JSON.parse(execFileSync('bpftool', ['prog', 'list', '-j'], { encoding: 'utf8' })) as
      { id: number; name?: string }[]).find((p) => p.name === 'tl_nt_gc')!.id;
    const linked = () => (JSON.parse(execFileSync('bpftool', ['link', 'list', '-j'], { encoding: 'utf8' })) as
      { prog_id: number }[]).filter((l) => l.prog_id === progId()).length;
    (() => { addon.attachRawTracepoint(obj, 'tl_nt_gc', 'sys_enter'); })();
    expect(linked()).toBe(1);
    for (let i = 0; i < 10 && linked() > 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20)); // finalizers run after the collection
    }
    expect(linked()).toBe(0);
  });

  it('counts a tracepoint into a per-CPU array', () => {
    const cpus = addon.possibleCpus();
    const counts = map('percpu_array', 'tl_nt_tp', 4, 8, 1);
    const obj = load(bumpIR('tl_nt_getppid', 'tracepoint/syscalls/sys_enter_getppid', counts),
      { tl_nt_getppid: 'tracepoint' });
    const link = addon.attachTracepoint(obj, 'tl_nt_getppid', 'syscalls', 'sys_enter_getppid');
    links.push(link);
    for (let i = 0; i < 50; i++) void process.ppid; // each read is a getppid() syscall
    link.destroy();
    link.destroy(); // idempotent
    const n = sumPerCpu(addon.mapLookup(counts, Buffer.alloc(4), 8 * cpus)!, cpus);
    expect(n).toBeGreaterThanOrEqual(50n);
    const after = n;
    for (let i = 0; i < 10; i++) void process.ppid;
    // Detached: our calls no longer count (others' could, but not 10 of them in this instant).
    expect(sumPerCpu(addon.mapLookup(counts, Buffer.alloc(4), 8 * cpus)!, cpus) - after).toBeLessThan(10n);
  });

  it('attaches raw tracepoints, perf events and uprobes', async () => {
    const cpus = addon.possibleCpus();
    const read = (fd: number) => sumPerCpu(addon.mapLookup(fd, Buffer.alloc(4), 8 * cpus)!, cpus);

    const raw = map('percpu_array', 'tl_nt_raw', 4, 8, 1);
    const rawObj = load(bumpIR('tl_nt_raw', 'raw_tracepoint/sys_enter', raw), { tl_nt_raw: 'raw_tracepoint' });
    const rawLink = addon.attachRawTracepoint(rawObj, 'tl_nt_raw', 'sys_enter');
    for (let i = 0; i < 5; i++) void process.ppid;
    rawLink.destroy();
    expect(read(raw)).toBeGreaterThanOrEqual(5n);

    // Software cpu-clock every 1 ms on every online CPU while we spin.
    const perf = map('percpu_array', 'tl_nt_perf', 4, 8, 1);
    const perfObj = load(bumpIR('tl_nt_perf', 'perf_event', perf), { tl_nt_perf: 'perf_event' });
    const perfFd = perfObj.programFd('tl_nt_perf');
    const perfLinks = addon.onlineCpus().map((cpu) => addon.attachPerfEventLink(perfFd, 1, 0, 1_000_000, false, cpu));
    const until = Date.now() + 60;
    while (Date.now() < until) { /* spin */ }
    for (const l of perfLinks) {
      addon.closeFd(l.linkFd);
      addon.closeFd(l.perfFd);
    }
    expect(read(perf)).toBeGreaterThan(0n);
    expect(errorOf(() => addon.attachPerfEventLink(perfFd, 0, 0, 1000, false, 0)).message)
      .toMatch(/perf_event_open: /);

    // A uprobe on libc's getppid, for this process only.
    const libc = '/lib/x86_64-linux-gnu/libc.so.6';
    const sym = execFileSync('nm', ['-D', '--defined-only', libc], { encoding: 'utf8' })
      .split('\n').find((l) => / getppid(@@.*)?$/.test(l));
    if (!sym) return;
    const vaddr = parseInt(sym.split(' ')[0]!, 16);
    const seg = execFileSync('readelf', ['-lW', libc], { encoding: 'utf8' }).split('\n')
      .filter((l) => l.trim().startsWith('LOAD') && l.includes(' R E '))
      .map((l) => l.trim().split(/\s+/))[0]!;
    const offset = vaddr - parseInt(seg[2]!, 16) + parseInt(seg[1]!, 16);
    const up = map('percpu_array', 'tl_nt_up', 4, 8, 1);
    const upObj = load(bumpIR('tl_nt_up', 'uprobe', up), { tl_nt_up: 'uprobe' });
    const upLink = addon.attachUprobe(upObj, 'tl_nt_up', libc, offset, false, process.pid, 0);
    for (let i = 0; i < 7; i++) void process.ppid;
    spawnSync('/bin/true'); // another process: filtered out by pid
    upLink.destroy();
    expect(read(up)).toBe(7n);
    expect(errorOf(() => addon.attachUprobe(upObj, 'tl_nt_up', '/nonexistent', 0, false, -1, 0)).code).toBe('ENOENT');
  });

  it('kprobe attach fails with a readable error on this kernel (no kprobes)', () => {
    if (existsSync('/sys/bus/event_source/devices/kprobe')) return; // kernel with kprobes
    const obj = load(emptyIR('tl_nt_kp', 'kprobe/vfs_read'), { tl_nt_kp: 'kprobe' });
    const e = errorOf(() => addon.attachKprobe(obj, 'tl_nt_kp', 'vfs_read', false, 0));
    expect(e.message).toMatch(/cannot attach tl_nt_kp to kprobe vfs_read: \S/);
    expect(e.code).toMatch(/^E[A-Z]+$/);
  });

  it('rejects unknown programs and types before loading', () => {
    const elf = addon.compileIR(emptyIR('tl_nt_t', 'raw_tracepoint/x'));
    expect(() => addon.loadObject(elf, {})).toThrow(/no type for program 'tl_nt_t'/);
    expect(() => addon.loadObject(elf, { tl_nt_t: 'socket' })).toThrow(/unknown program type/);
    expect(() => addon.loadObject(elf, { tl_nt_t: 'raw_tracepoint', tl_nt_missing: 'kprobe' })).toThrow(/no program 'tl_nt_missing'/);
    expect(() => addon.attachRawTracepoint({ programs: [] } as unknown as NativeObject, 'x', 'y')).toThrow(TypeError);
  });

  it('puts the verifier log into the error', () => {
    const fd = map('array', 'tl_nt_v', 4, 8, 1);
    const ir = `${LICENSE}${PSEUDO}
define i64 @tl_nt_oob(i8* %ctx) section "raw_tracepoint/BEGIN" {
${lookupSlot0(fd, 'ok', 'out')}
ok:
  %p = getelementptr i8, i8* %v, i64 64
  %q = bitcast i8* %p to i64*
  %x = load volatile i64, i64* %q
  ret i64 %x
out:
  ret i64 0
}
`;
    const e = errorOf(() => addon.loadObject(addon.compileIR(ir), { tl_nt_oob: 'raw_tracepoint' }));
    expect(e.code).toBe('EACCES');
    expect(e.message).toMatch(/cannot load the BPF object: Permission denied/);
    expect(e.message).toMatch(/invalid access to map value, value_size=8 off=64/);
    expect(e.log).toMatch(/invalid access to map value/);
    expect(e.log).toMatch(/processed \d+ insns/);
  });

  it('closing an object destroys its links; nothing of ours stays loaded', async () => {
    const counts = map('percpu_array', 'tl_nt_close', 4, 8, 1);
    const obj = addon.loadObject(addon.compileIR(bumpIR('tl_nt_close', 'raw_tracepoint/sys_enter', counts)),
      { tl_nt_close: 'raw_tracepoint' });
    const link = addon.attachRawTracepoint(obj, 'tl_nt_close', 'sys_enter');
    obj.close();
    link.destroy(); // already destroyed by close(): a no-op
    obj.close();
    expect(() => obj.programFd('tl_nt_close')).toThrow(/closed/);

    for (const l of links) l.destroy();
    for (const o of objects) o.close();
    // The kernel frees a program once its last link is gone, and links are freed from a work
    // queue: allow it a moment.
    const ours = () => loadedProgramNames().filter((n) => n.startsWith('tl_nt'));
    for (let i = 0; i < 20 && ours().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ours()).toEqual([]);
  });
});

describe('misc', () => {
  it('reports CPUs', () => {
    const online = addon.onlineCpus();
    expect(addon.possibleCpus()).toBeGreaterThanOrEqual(online.length);
    expect(online.length).toBeGreaterThan(0);
    expect(online).toEqual([...online].sort((a, b) => a - b));
    const sysCpus = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length;
    expect(online.length).toBeLessThanOrEqual(sysCpus);
  });

  it('hashes as node:crypto\'s SHA-256 does, over parts of every length (block edges, UTF-8, 1 MiB)', () => {
    const cases: (string | Uint8Array)[][] = [[], [''], ['abc'], ['h\u00e9llo \u2603', '\0', Buffer.from([0, 1, 255])], [Buffer.alloc(1 << 20, 7)]];
    for (let n = 50; n <= 130; n++) cases.push(['x'.repeat(n)], [Buffer.alloc(n, n), 'y'.repeat(n % 7)]);
    for (const parts of cases) {
      const hash = createHash('sha256');
      for (const p of parts) hash.update(p);
      expect(addon.sha256(parts).toString('hex'), JSON.stringify(parts.map((p) => p.length))).toBe(hash.digest('hex'));
    }
    // A view into a larger buffer: only its bytes.
    const big = Buffer.from('0123456789');
    expect(addon.sha256([big.subarray(2, 5)]).toString('hex')).toBe(createHash('sha256').update('234').digest('hex'));
    expect(() => addon.sha256([5 as unknown as string])).toThrow(/string or a Uint8Array/);
  });

  it('demangles C++ names and leaves others alone', () => {
    expect(addon.demangle('_ZN3foo3barEi')).toBe('foo::bar(int)');
    expect(addon.demangle('_ZNSt6vectorIiSaIiEE9push_backERKi'))
      .toBe('std::vector<int, std::allocator<int> >::push_back(int const&)');
    expect(addon.demangle('main')).toBe('main');
    expect(addon.demangle('_Z')).toBe('_Z');
  });

  it('sorts symbols as stdSort does: the same permutation of equal addresses (aliases)', () => {
    // A fixed pseudo-random sequence: sizes around the insertion-sort threshold (16) and large,
    // few distinct keys (many aliases) and many, sorted and unsorted input.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const n = [0, 1, 2, 15, 16, 17, 33, 100, 1000, 20000][trial % 10]! + (trial % 7);
      const range = [2, 10, 1000, 2 ** 40][trial % 4]!;
      const keys = Float64Array.from({ length: n }, () => next() % range);
      if (trial % 5 === 0) keys.sort();
      const [jsKeys, nativeKeys] = [keys.slice(), keys.slice()];
      const jsOrder = Int32Array.from({ length: n }, (_, i) => i);
      stdSort(jsOrder, jsKeys);
      expect(addon.sortSymbols(nativeKeys)).toEqual(jsOrder);
      expect(nativeKeys).toEqual(jsKeys);
      // The same keys as 32-bit starts (all below 2^31 here): the same permutation, in both.
      const u32 = Uint32Array.from(keys);
      const u32Js = u32.slice();
      const u32Order = Int32Array.from({ length: n }, (_, i) => i);
      stdSort(u32Order, u32Js);
      expect(u32Order).toEqual(jsOrder);
      expect(addon.sortSymbols(u32)).toEqual(jsOrder);
      expect([...u32]).toEqual([...jsKeys]);
    }
    expect(() => addon.sortSymbols(new Int32Array(2) as unknown as Float64Array)).toThrow(/Float64Array/);
  });

  it('reads kallsyms as the JavaScript reader does: a copy of the real one and one with every kind of line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-kallsyms-'));
    try {
      const lines: string[] = [];
      for (let i = 0; i < 60_000; i++) {
        const address = (0xffffffff81000000n + BigInt((i * 7919) % 60_000) * 0x40n).toString(16);
        const type = 'TtDdBbRrWwAaUu'[i % 14]!;
        lines.push(`${address} ${type} fn_${i}_${'x'.repeat(i % 40)}${i % 11 === 0 ? `\t[mod_${i % 3}]` : ''}`);
      }
      // Aliases, addresses outside the kernel's half, all ones, zeros (no privilege), a bad line.
      lines.push('ffffffff81000000 T alias_a', 'ffffffff81000000 T alias_b', '00007f0000000000 T user_sym',
        'ffffffffffffffff T all_ones', '0000000000000000 T zero', 'not a line', 'ffffffff81000040 t');
      // A CALL_PADDING kernel's `__pfx_` symbols: before their function (stored once), before
      // another name or another module's, one after a data symbol, two in a row, one last.
      lines.push('ffffffff82000000 t __pfx_padded', 'ffffffff82000010 t padded',
        'ffffffff82000100 T __pfx_in_mod\t[m1]', 'ffffffff82000110 T in_mod\t[m1]',
        'ffffffff82000200 t __pfx_other', 'ffffffff82000210 t not_other',
        'ffffffff82000300 t __pfx_mod_differs\t[m1]', 'ffffffff82000310 t mod_differs\t[m2]',
        'ffffffff82000400 t __pfx_a', 'ffffffff82000408 d data_between', 'ffffffff82000410 t a',
        'ffffffff82000500 t __pfx_x', 'ffffffff82000508 t __pfx_y', 'ffffffff82000510 t y',
        'ffffffff82000600 t __pfx_', 'ffffffff82000610 t __pfx_last');
      const file = join(dir, 'kallsyms');
      writeFileSync(file, lines.join('\n')); // the last line without its newline
      // The same with an address below the top 4 GiB halfway (32-bit starts become doubles).
      const low = join(dir, 'low');
      writeFileSync(low, [...lines.slice(0, 30_000), 'ffff888000001000 t direct_map_sym', ...lines.slice(30_000)].join('\n'));
      // The real one, copied: other tests' BPF programs come and go in it.
      const real = join(dir, 'real');
      writeFileSync(real, readFileSync('/proc/kallsyms'));
      for (const path of [file, low, real]) {
        useSymbolNatives(undefined);
        let js;
        try {
          js = Kallsyms.read(path);
        } finally {
          useSymbolNatives(addon);
        }
        const fast = Kallsyms.read(path);
        expect(fast.symbols, path).toEqual(js.symbols);
        if (path === low) {
          expect(fast.lookup(0xffff888000001004n)).toEqual({ name: 'direct_map_sym', offset: 4n });
          expect(fast.addressOf('direct_map_sym')).toBe(0xffff888000001000n);
        }
        if (path === file) {
          // The `__pfx_` names, whether stored or not.
          const at = (a: bigint) => fast.lookup(a + 3n);
          expect(at(0xffffffff82000000n)).toEqual({ name: '__pfx_padded', offset: 3n });
          expect(at(0xffffffff82000010n)).toEqual({ name: 'padded', offset: 3n });
          expect(at(0xffffffff82000100n)).toEqual({ name: '__pfx_in_mod', offset: 3n, module: 'm1' });
          expect(at(0xffffffff82000200n)).toEqual({ name: '__pfx_other', offset: 3n });
          expect(at(0xffffffff82000300n)).toEqual({ name: '__pfx_mod_differs', offset: 3n, module: 'm1' });
          expect(at(0xffffffff82000310n)).toEqual({ name: 'mod_differs', offset: 3n, module: 'm2' });
          expect(at(0xffffffff82000400n)).toEqual({ name: '__pfx_a', offset: 3n });
          expect(at(0xffffffff82000500n)).toEqual({ name: '__pfx_x', offset: 3n });
          expect(at(0xffffffff82000508n)).toEqual({ name: '__pfx_y', offset: 3n });
          expect(at(0xffffffff82000600n)).toEqual({ name: '__pfx_', offset: 3n });
          expect(at(0xffffffff82000610n)).toEqual({ name: '__pfx_last', offset: 3n });
          expect(fast.addressOf('__pfx_padded')).toBe(0xffffffff82000000n);
          expect(fast.addressOf('__pfx_in_mod')).toBe(0xffffffff82000100n);
          expect(fast.addressOf('padded')).toBe(0xffffffff82000010n);
        }
        for (const s of js.symbols.filter((x, i) => i % 97 === 0 || (path === file && x.address >= 0xffffffff82000000n))) {
          expect(fast.lookup(s.address + 3n), path).toEqual(js.lookup(s.address + 3n));
          expect(fast.addressOf(s.name), path).toBe(js.addressOf(s.name));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads an ELF file's symbol entries as the JavaScript reader does", () => {
    const libc = execFileSync('sh', ['-c', 'ldd /bin/sh | sed -n "s/.*libc.so.6 => \\([^ ]*\\).*/\\1/p"'], { encoding: 'utf8' }).trim();
    // With libc's separate debug file when installed (its .symtab is the large one).
    const files = ['/usr/bin/node', '/bin/sh', libc, findDebugFile(ElfFile.open(libc), libc) ?? '', process.execPath].filter((f) => f && existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    // An object whose values need more than 32 bits after some that do not (starts become doubles).
    const dir = mkdtempSync(join(tmpdir(), 'tl-elf-'));
    const big = join(dir, 'big.o');
    writeFileSync(join(dir, 'big.s'), '.globl low\n.set low, 0x1000\n.globl high\n.set high, 0x123456789\n.globl mid\n.set mid, 0x2000\n');
    execFileSync('gcc', ['-c', '-o', big, join(dir, 'big.s')]);
    files.push(big);
    for (const file of files) {
      const elf = ElfFile.open(file);
      useSymbolNatives(undefined);
      let js;
      try {
        js = elf.symbolEntries();
      } finally {
        useSymbolNatives(addon);
      }
      const fast = elf.symbolEntries();
      expect(fast.starts.length, file).toBe(js.starts.length);
      expect(Buffer.from(fast.starts.buffer, fast.starts.byteOffset, fast.starts.byteLength)
        .equals(Buffer.from(js.starts.buffer, js.starts.byteOffset, js.starts.byteLength)), file).toBe(true);
      expect([...fast.sizes], file).toEqual([...js.sizes]);
      for (let i = 0; i < js.starts.length; i += Math.max(1, Math.floor(js.starts.length / 500))) {
        expect(fast.name(i), file).toBe(js.name(i));
      }
      // 32-bit starts unless a value needs more.
      expect(fast.starts instanceof Uint32Array, file).toBe(file !== big);
      if (file === big) {
        const named = new Map([...fast.starts].map((v, i) => [fast.name(i), v]));
        expect(named).toEqual(new Map([['low', 0x1000], ['high', 0x123456789], ['mid', 0x2000]]));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
