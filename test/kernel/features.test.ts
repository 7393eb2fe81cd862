import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SystemKernel } from '../../src/kernel/index.js';

describe('features', () => {
  const kernel = new SystemKernel();
  it('reports this kernel: no kprobes, uprobes yes', () => {
    expect(kernel.hasFeature('kprobes')).toBe(existsSync('/sys/bus/event_source/devices/kprobe'));
    expect(kernel.hasFeature('kprobes')).toBe(false);
    expect(kernel.hasFeature('uprobes')).toBe(true);
  });

  it('reports hardware events only with a core PMU', () => {
    expect(kernel.hasFeature('hardware')).toBe(existsSync('/sys/bus/event_source/devices/cpu'));
  });

  it('reports no kfunc/iter here (BPF tracing programs are refused)', () => {
    expect(kernel.hasFeature('kfunc')).toBe(false);
    expect(kernel.hasFeature('iter')).toBe(false);
  });

  it('takes overrides', () => {
    const k = new SystemKernel({ features: { kfunc: true } });
    expect(k.hasFeature('kfunc')).toBe(true);
  });
});
