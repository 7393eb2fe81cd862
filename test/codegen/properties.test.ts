// Properties every generated module has, checked over a set of programs that use every concern of
// codegen (statements, expressions, aggregations, events, memory reads, syscall dispatch, loops):
// LLVM accepts the IR (the compile driver makes an object), maps are relocations and never fds,
// each probe is a program with a section of its provider's type, every read of probed memory is
// counted at its site, and every program but BEGIN/END first checks whether the run has stopped.
// Not whole-file goldens: the IR may change freely as long as these hold. (Fake kernel; no root.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type CompileOptions } from '../../src/compile/compile.js';
import type { CodegenResult } from '../../src/codegen/codegen.js';
import { Helper, READ_FAILURES_MAP, STOPPED_MAP, type GeneratedProgram } from '../../src/model/object-layout.js';
import { providerRecord } from '../../src/model/providers.js';
import { ElfFile } from '../../src/kernel/elf.js';
import { FakeKernelWithBinary } from '../helpers/fake-kernel.js';

/** Programs, by what they exercise; all type-check on the fake kernel. */
const PROGRAMS: Record<string, string> = {
  'maps and BEGIN/END': 'BEGIN { @start = nsecs; @pair[1, "a"] = 5; @s = "x"; } END { print(@start); clear(@pair); delete(@s); }',
  aggregations: `tracepoint:syscalls:sys_enter_openat {
    @c[comm] = count(); @s = sum(args->flags); @a = avg(args->flags); @lo = min(args->dfd); @hi = max(args->dfd);
    @st = stats(pid); @h = hist(args->flags); @l = lhist(args->flags, 0, 100, 10);
    if (@c[comm] > 10) { printf("%d %d\\n", @s, @hi); } }`,
  'reads of probed memory': `struct ts { long sec; long nsec; }
    tracepoint:syscalls:sys_enter_openat {
      printf("%s %d %r\\n", str(args->filename), *args->filename, buf(args->filename, 4));
      $p = (struct ts *)args->filename; $copy = *$p;
      printf("%d %d\\n", $p->nsec, $copy.sec); join((int8 **)args->filename); }`,
  'statements and loops': `BEGIN { @m[1] = 2; $s = 0; for ($kv : @m) { $s += $kv.1; if ($s > 5) { break; } }
    for ($i : 0..5) { $s += $i; } $j = 0; while ($j < 3) { $j++; if ($j == 1) { continue; } }
    unroll(3) { $s++; } let $t = (1, "a"); $q = $s ? "y" : "n"; printf("%d %s %d\\n", $s, $q, $t.0); exit(); }`,
  'expressions and value functions': `tracepoint:demo:widget_made /args->count > 0 && pid != 1/ {
    @[strncmp(args->name, "ab", 2), strcontains(args->name, "b"), args->size >> 2, -args->count, !pid] = count();
    printf("%s %s %s %d\\n", ntop(0x0100007f), macaddr(args->size), args->name == "x" ? "same" : "other", bswap((uint16)7));
    @k[ksym(args->size), kstack(2)] = count(); }`,
  'syscall dispatch': `tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_exit_openat {
    @[probe] = count(); }
    tracepoint:syscalls:sys_enter_openat { @f[str(args->filename)] = count(); }`,
  'user space': `uprobe:/bin/demo:main { printf("%s %d\\n", str(arg0), *(int32 *)arg1); @[ustack(3), usym(arg2)] = count(); }
    uretprobe:/bin/demo:main { @r = hist(retval); }`,
  'kernel functions': `tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_exit_openat { printf("%s\\n", comm(pid)); }
    profile:hz:99 { @[comm(tid)] = count(); }`,
  'timers and events': 'interval:s:1 { printf("%d %s\\n", elapsed, comm); time("%H:%M\\n"); exit(); } profile:hz:99 { @[kstack] = count(); }',
};

/** Option sets each program is compiled with: plain, -kk (a failure path per helper), dispatch always. */
const VARIANTS: Record<string, Partial<CompileOptions>> = {
  plain: {},
  '-kk': { helperErrors: 2 },
  'syscall dispatch always': { syscallDispatch: 'always' },
};

const HELPER_IDS = new Set<number>(Object.values(Helper));
const READ_HELPERS = new Set<number>([Helper.probeRead, Helper.probeReadStr, Helper.probeReadUser, Helper.probeReadKernel,
  Helper.probeReadUserStr, Helper.probeReadKernelStr]);

interface IrFunction {
  readonly name: string;
  /** The ELF section of a kernel program; none for a for-loop callback. */
  readonly section?: string;
  readonly body: string;
}

function functionsOf(ir: string): IrFunction[] {
  return [...ir.matchAll(/^define (?:internal )?i64 @(\w+)\([^)]*\)(?: section "([^"]+)")?[^\n]*\{\n([\s\S]*?)^\}$/gm)]
    .map((m) => ({ name: m[1]!, section: m[2], body: m[3]! }));
}

/** The helper calls of a function, in order: the helper id and the value the call defines. */
function helperCalls(body: string): { id: number; result?: string }[] {
  return [...body.matchAll(/^ {2}(?:(%\w+) = )?call \w+\*? inttoptr \(i64 (\d+) to/gm)].map((m) => ({ id: Number(m[2]), result: m[1] }));
}

const dir = mkdtempSync(join(tmpdir(), 'tl-props-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compiled(source: string, options: Partial<CompileOptions>) {
  const result = compile({ source, ...options }, new FakeKernelWithBinary());
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(result.backendError).toBeUndefined();
  return { generated: result.generated!, object: result.object! };
}

/** The section a program's code belongs in, by its provider (or the raw tracepoint it dispatches from). */
function expectedSection(p: GeneratedProgram): string {
  if (p.rawTracepoint) return `raw_tracepoint/${p.rawTracepoint}`;
  const t = p.targets[0]!;
  return providerRecord(t.provider).section(t.parts);
}

function checkProperties(name: string, generated: CodegenResult, object: Buffer): void {
  const { ir, programs } = generated;
  const functions = functionsOf(ir);
  const kernelPrograms = functions.filter((f) => f.section !== undefined);
  const callbacks = functions.filter((f) => f.section === undefined);

  // Each program is one function in a section of its provider's type, and the object has the section.
  expect(kernelPrograms.map((f) => f.name)).toEqual(programs.map((p) => p.name));
  const path = join(dir, `${name.replace(/\W+/g, '-')}.o`);
  writeFileSync(path, object);
  const elf = ElfFile.open(path);
  for (const [i, p] of programs.entries()) {
    expect(kernelPrograms[i]!.section, p.name).toBe(expectedSection(p));
    expect(elf.section(expectedSection(p)), p.name).toBeDefined();
    const provider = p.targets[0]!.provider;
    const type = p.rawTracepoint ? 'raw_tracepoint' : p.targets.length > 1 && provider.startsWith('u') && provider.endsWith('probe')
      ? 'uprobe_multi' : providerRecord(provider).programType;
    expect(p.type, p.name).toBe(type);
  }
  // A for-loop callback is no program of its own: a program hands it to bpf_loop / bpf_for_each_map_elem.
  for (const c of callbacks) {
    expect(c.name).toMatch(/^tl_\w+_for\d+$/);
    expect(ir).toMatch(new RegExp(`inttoptr \\(i64 (${Helper.loop}|${Helper.forEachMapElem}) to [^\\n]*@${c.name} to i8\\*\\)`));
  }

  // Maps are relocations: a `.maps` global per map (or a global variable in a `.bss.` section of
  // its own, which libbpf makes a map too), taken by address; no fd, no pseudo call, and every
  // constant turned into a function pointer is a helper id.
  expect(ir).not.toContain('llvm.bpf.pseudo');
  const maps = [...ir.matchAll(/^@(\w+) = dso_local global \[\d+ x i64\] zeroinitializer, section "\.maps"/gm)].map((m) => m[1]);
  expect(maps.sort()).toEqual(generated.maps.map((m) => m.symbol).sort());
  const globals = [...maps, ...[...ir.matchAll(/^@(\w+) = dso_local global [^\n]*, section "\.bss\.\w+"/gm)].map((m) => m[1])];
  for (const m of ir.matchAll(/@(tl_\w+)\b/g)) {
    if (!functions.some((f) => f.name === m[1])) expect(globals).toContain(m[1]);
  }
  for (const symbol of generated.mapSymbols.values()) expect(maps).toContain(symbol);
  for (const m of ir.matchAll(/inttoptr \(i64 (\d+) to/g)) expect(HELPER_IDS).toContain(Number(m[1]));
  expect(elf.section('.maps')).toBeDefined();
  // Programs that use maps (all but a BEGIN/END that touches none) have relocations against them.
  for (const f of kernelPrograms) {
    if (globals.some((g) => f.body.includes(`@${g} `) || f.body.includes(`@${g},`))) {
      expect(elf.section(`.rel${f.section}`), f.name).toBeDefined();
    }
  }

  // Every read of probed memory is noted at its site (the sign bit of its result), and the sites
  // are counted in the read-failure map: one slot per site, all of them.
  for (const f of functions) {
    const calls = helperCalls(f.body);
    for (const [i, call] of calls.entries()) {
      if (!READ_HELPERS.has(call.id)) continue;
      const noted = call.result !== undefined && f.body.includes(`= lshr i64 ${call.result}, 63`);
      // The dispatch's own reads (syscall number, registers, compat flag) are not the script's.
      const dispatchRead = f.name.startsWith('tl_sys_') && call.id === Helper.probeReadKernel && !noted;
      expect(noted || dispatchRead, `${f.name}: read helper call ${i} (${call.id}) is not counted`).toBe(true);
    }
  }
  const { readSites } = generated;
  expect(ir.includes(`@${READ_FAILURES_MAP}`)).toBe(readSites.length > 0);
  // The slot of each site: a word of the global (`@tl_readfail, i64 0, i64 SLOT`), or 8 bytes of
  // the per-CPU map's value (the offsets after its lookup at the exit).
  const slots = new Set<number>();
  for (const m of ir.matchAll(new RegExp(`@${READ_FAILURES_MAP}, i64 0, i64 (\\d+)\\)`, 'g'))) slots.add(Number(m[1]));
  for (const m of ir.matchAll(/^readcount\d+:\n([\s\S]*?)^readcounted\d+:/gm)) {
    for (const o of m[1]!.matchAll(/getelementptr inbounds i8, i8\* %\w+, i64 (\d+)/g)) slots.add(Number(o[1]) / 8);
  }
  expect([...slots].sort((a, b) => a - b)).toEqual(readSites.map((_, i) => i));

  // Every program but BEGIN and END returns at once when the run has stopped: before any other
  // helper call, it reads STOPPED_MAP (in a dispatch program: at the start of each syscall's code).
  // (exit() writes the flag: a store is no check.)
  const stopped = `@${STOPPED_MAP}`;
  const reads = (line: string) => line.includes(stopped) && !line.trimStart().startsWith('store ');
  const checksFirst = (code: string) => {
    const first = code.split('\n').find((line) => reads(line) || /call \w+\*? inttoptr/.test(line));
    return first !== undefined && reads(first) && code.slice(0, code.indexOf('\n  br ')).includes(stopped);
  };
  for (const [i, p] of programs.entries()) {
    const body = kernelPrograms[i]!.body;
    const provider = p.targets[0]!.provider;
    if (provider === 'BEGIN' || provider === 'END') {
      expect(body.split('\n').filter(reads), p.name).toEqual([]);
    } else if (p.rawTracepoint) {
      const bodies = body.split(/^native\d+:$/m).slice(1);
      expect(bodies.length, p.name).toBeGreaterThan(0);
      for (const b of bodies) expect(checksFirst(b), p.name).toBe(true);
    } else {
      expect(checksFirst(body), p.name).toBe(true);
    }
  }
}

describe('properties of generated code', () => {
  for (const [variant, options] of Object.entries(VARIANTS)) {
    for (const [name, source] of Object.entries(PROGRAMS)) {
      it(`${name} (${variant})`, () => {
        const { generated, object } = compiled(source, options);
        checkProperties(`${name}-${variant}`, generated, object);
      });
    }
  }

  it('compiles to the same IR every time: nothing of a run (fd, pid, time) is in the object', () => {
    for (const source of Object.values(PROGRAMS)) {
      expect(compile({ source, object: false }, new FakeKernelWithBinary()).generated!.ir)
        .toBe(compile({ source, object: false }, new FakeKernelWithBinary()).generated!.ir);
    }
  });

  it('declares the kfuncs comm(pid) calls for libbpf (.ksyms), and keeps the probe off the syscall dispatch', () => {
    const { generated, object } = compiled(PROGRAMS['kernel functions']!, { syscallDispatch: 'always' });
    expect(generated.ir).toMatch(/^declare !dbg !\d+ i8\* @bpf_task_from_pid\(i32\) section "\.ksyms"$/m);
    expect(generated.ir).toMatch(/^declare !dbg !\d+ void @bpf_task_release\(i8\*\) section "\.ksyms"$/m);
    expect(generated.programs.map((p) => [p.type, p.rawTracepoint])).toEqual([['tracepoint', undefined], ['perf_event', undefined]]);
    // The no-such-process site is counted with the reads.
    expect(generated.readSites.map((s) => s.helper)).toContain('process');
    const path = join(dir, 'kfuncs.o');
    writeFileSync(path, object);
    expect(ElfFile.open(path).section('.BTF')).toBeDefined();
  });

  it('gives a probe whose code depends on the attach point a program per target, else one', () => {
    const shared = compiled('tracepoint:syscalls:sys_enter_openat, tracepoint:demo:widget_made { @ = count(); }', {}).generated;
    expect(shared.programs.map((p) => p.targets.length)).toEqual([2]);
    const apart = compiled('tracepoint:syscalls:sys_enter_openat, tracepoint:demo:widget_made { @[probe] = count(); }', {}).generated;
    expect(apart.programs.map((p) => p.targets.length)).toEqual([1, 1]);
  });
});
