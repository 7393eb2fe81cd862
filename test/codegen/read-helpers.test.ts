// Each read of probed memory uses the helper for its address space, as bpftrace does: a syscall's
// pointer arguments and a uprobe's are user memory, other tracepoints' and BTF's are kernel
// memory, and a bare integer outside uprobes leaves it to bpf_probe_read. Every read is checked,
// so a failure is counted at its site. (Generated IR on the fake kernel; no root needed.)
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { typecheck } from '../../src/typecheck/check.js';
import { generate } from '../../src/codegen/codegen.js';
import { Helper } from '../../src/model/object-layout.js';
import { FakeKernelWithBinary } from '../helpers/fake-kernel.js';

function compile(text: string, helperErrors = 0) {
  const parsed = parse(text);
  const kernel = new FakeKernelWithBinary();
  const checked = typecheck(parsed.program, kernel, { helperErrors });
  expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return generate(checked.program!, kernel, { helperErrors });
}

/** The ids of the probe_read* helpers the IR calls, in order. */
function readHelpers(ir: string): number[] {
  const reads: Set<number> = new Set([Helper.probeRead, Helper.probeReadStr, Helper.probeReadUser,
    Helper.probeReadKernel, Helper.probeReadUserStr, Helper.probeReadKernelStr]);
  return [...ir.matchAll(/call i64 inttoptr \(i64 (\d+) to/g)].map((m) => Number(m[1])).filter((id) => reads.has(id));
}

describe('read helpers by address space', () => {
  it("reads a syscall's pointer arguments as user memory, through -> chains and copies", () => {
    const text = `struct ts { long sec; long nsec; }
      tracepoint:syscalls:sys_enter_openat {
        printf("%s %d\\n", str(args->filename), *args->filename);
        $p = (struct ts *)args->filename; $copy = *$p;
        printf("%d %d\\n", $p->nsec, $copy.sec);
      }`;
    const { ir, readSites } = compile(text);
    expect(readHelpers(ir)).toEqual([Helper.probeReadUserStr, Helper.probeReadUser, Helper.probeReadUser, Helper.probeReadUser]);
    // Each failure is counted where the read is written ($copy.sec reads the stack: no site).
    expect(readSites.map((s) => text.slice(s.span.start, s.span.end))).toEqual(['str(args->filename)', '*args->filename', '*$p', '$p->nsec']);
  });

  it('reads uprobe arguments as user memory and kernel tracepoints as kernel memory', () => {
    expect(readHelpers(compile('uprobe:/bin/demo:main { printf("%s %d\\n", str(arg0), *(int32 *)arg1); }').ir))
      .toEqual([Helper.probeReadUserStr, Helper.probeReadUser]);
    expect(readHelpers(compile('tracepoint:demo:widget_made { printf("%d %s\\n", *(int32 *)args->size, str(args->size)); }').ir))
      .toEqual([Helper.probeRead, Helper.probeReadStr]);
  });

  it('reads through a pointer made from an integer outside uprobes with bpf_probe_read, which finds the space by the address', () => {
    // bpftrace 0.17 keeps the space an integer came from: a user address in a kernel tracepoint's
    // integer field (raw_syscalls' args->args[1]) is then read as kernel memory, and fails.
    const text = `struct ts { long sec; long nsec; }
      tracepoint:syscalls:sys_enter_openat { printf("%d %d\\n", *(uint8 *)(uint64)args->filename, *(uint8 *)args->filename); }
      tracepoint:demo:widget_made { printf("%d %d\\n", *(uint8 *)args->size, ((struct ts *)args->size)->sec); }
      interval:s:1 { $p = (int32 *)8; printf("%d %d\\n", *$p, *8); }`;
    expect(readHelpers(compile(text).ir)).toEqual([Helper.probeRead, Helper.probeReadUser, Helper.probeRead, Helper.probeRead, Helper.probeRead, Helper.probeRead]);
    // A pointer keeps its space through a cast to another pointer type.
    expect(readHelpers(compile('tracepoint:syscalls:sys_enter_openat { printf("%d\\n", ((struct ts *)args->filename)->sec); } struct ts { long sec; }').ir))
      .toEqual([Helper.probeReadUser]);
  });

  it('counts failed reads without a branch per read, and sends each failure as an event only with -kk', () => {
    const text = 'tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }';
    const quiet = compile(text).ir;
    // The read sets its site's bit with arithmetic; the exit counts the sites whose bit is set.
    const read = quiet.slice(quiet.indexOf(`inttoptr (i64 ${Helper.probeReadUserStr} to`));
    expect(read.slice(0, read.indexOf('\n', read.indexOf('ashr i64')))).not.toMatch(/\bbr i1\b/);
    expect(quiet.slice(quiet.search(/^failed\d+:/m))).toMatch(/atomicrmw add i64\* getelementptr inbounds \(\[\d+ x i64\], \[\d+ x i64\]\* @tl_readfail, i64 0, i64 0\)/);
    /** The failure paths that send a helper_error event (-k: the map update; -kk: the read too). */
    const reported = (ir: string) => ir.match(/^helperfail\d+:/gm)?.length ?? 0;
    expect(reported(quiet)).toBe(0);
    expect(reported(compile(text, 1).ir)).toBe(1);
    expect(reported(compile(text, 2).ir)).toBe(2);
  });
});
