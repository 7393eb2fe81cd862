// A KernelInfo with a few made-up tracepoints, for type-checker tests that must not depend on
// what this machine's kernel offers (the one place a kernel is faked).
import type { KernelInfo, TracepointFormat } from '../../src/kernel/kernel-info.js';
import { INT32, INT64, UINT64, str } from '../../src/model/types.js';

const FORMATS: TracepointFormat[] = [
  {
    category: 'syscalls', event: 'sys_enter_openat', id: 1,
    fields: [
      { name: 'dfd', declaration: 'int dfd', type: INT64, offset: 16, size: 8, signed: true },
      { name: 'filename', declaration: 'const char * filename', type: { kind: 'pointer', target: { kind: 'int', bits: 8, signed: true } }, offset: 24, size: 8, signed: false },
      { name: 'flags', declaration: 'int flags', type: INT64, offset: 32, size: 8, signed: true },
    ],
  },
  {
    category: 'syscalls', event: 'sys_exit_openat', id: 2,
    fields: [{ name: 'ret', declaration: 'long ret', type: INT64, offset: 16, size: 8, signed: true }],
  },
  {
    category: 'demo', event: 'widget_made', id: 3,
    fields: [
      { name: 'name', declaration: 'char name[16]', type: str(16), offset: 8, size: 16, signed: false },
      { name: 'count', declaration: 'int count', type: INT32, offset: 24, size: 4, signed: true },
      { name: 'size', declaration: 'u64 size', type: UINT64, offset: 32, size: 8, signed: false },
    ],
  },
];

export class FakeKernel implements KernelInfo {
  ensureTracefs() {
    return { mounted: true };
  }
  listTracepoints() {
    return FORMATS.map((f) => `${f.category}:${f.event}`).sort();
  }
  hasTracepoint(category: string, event: string) {
    return this.tracepointFormat(category, event) !== undefined;
  }
  tracepointId(category: string, event: string) {
    return this.tracepointFormat(category, event)?.id;
  }

  tracepointFormat(category: string, event: string) {
    return FORMATS.find((f) => f.category === category && f.event === event);
  }
  listRawTracepoints() {
    return ['sched_switch'];
  }
  kernelType() {
    return undefined;
  }
  kernelSymbols() {
    return [];
  }
  elfSymbols() {
    return [];
  }
  usdtProbes() {
    return [];
  }
  resolveBinary() {
    return undefined;
  }
  hasFeature() {
    return false;
  }
  /** As Linux 6.18: tracepoint and perf-event programs may call bpf_task_from_pid, the others not. */
  kfuncAllowed(_name: string, programType: string) {
    return programType === 'tracepoint' || programType === 'perf_event';
  }
  possibleCpus() {
    return 2;
  }
}

/** The fake kernel, plus one binary, /bin/demo, with a function `main` for uprobes. */
export class FakeKernelWithBinary extends FakeKernel {
  override resolveBinary(name: string) {
    return name === '/bin/demo' ? name : undefined;
  }
  override elfSymbols() {
    return [{ name: 'main', address: 0x1000n, fileOffset: 0x1000n, size: 16n, type: 'func' as const }];
  }
}
