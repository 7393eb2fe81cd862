// `tracelet --info`: bpftrace 0.17's layout and labels (scripts that wrap bpftrace grep them), with
// values found on this kernel: checked against bpftool's own feature probes, an independent reader.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { systemInfo, type InfoSources } from '../../src/cli/info.js';
import { PROVIDER_LIST } from '../../src/model/providers.js';
import { runTracelet } from '../helpers/run.js';

/** `--info` as `label → value` by section. */
function parse(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const block of text.trimEnd().split('\n\n')) {
    const [title, ...lines] = block.split('\n');
    out.set(title!, new Map(lines.map((l) => {
      const m = /^ {2}(.+?): (.*)$/.exec(l);
      if (!m) throw new Error(`not a "  label: value" line: ${JSON.stringify(l)}`);
      return [m[1]!, m[2]!];
    })));
  }
  return out;
}

/** bpftrace 0.17's sections and labels, in its order (its `uprobe refcount` label names bcc: shortened). */
const BPFTRACE_LABELS: Record<string, string[]> = {
  System: ['OS', 'Arch'],
  Build: ['version', 'LLVM', 'unsafe uprobe', 'bfd', 'libdw (DWARF support)'],
  'Kernel helpers': ['probe_read', 'probe_read_str', 'probe_read_user', 'probe_read_user_str', 'probe_read_kernel',
    'probe_read_kernel_str', 'get_current_cgroup_id', 'send_signal', 'override_return', 'get_boot_ns', 'dpath', 'skboutput'],
  'Kernel features': ['Instruction limit', 'Loop support', 'btf', 'map batch', 'uprobe refcount'],
  'Map types': ['hash', 'percpu hash', 'array', 'percpu array', 'stack_trace', 'perf_event_array'],
  'Probe types': ['kprobe', 'tracepoint', 'perf_event', 'kfunc', 'iter:task', 'iter:task_file', 'kprobe_multi', 'raw_tp_special'],
};

/** bpftool's answers: map types and program types available, helpers by program type. */
function bpftoolFeatures() {
  const r = spawnSync('bpftool', ['feature', 'probe', 'kernel'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const available = (kind: string) => new Map([...r.stdout.matchAll(new RegExp(`^eBPF ${kind} (\\w+) is (NOT )?available$`, 'gm'))]
    .map((m) => [m[1]!, !m[2]] as const));
  const helpers = new Map<string, Set<string>>();
  for (const m of r.stdout.matchAll(/^eBPF helpers supported for program type (\w+):\n((?:\t- \w+\n)*)/gm)) {
    helpers.set(m[1]!, new Set([...m[2]!.matchAll(/- (\w+)/g)].map((h) => h[1]!)));
  }
  return { maps: available('map_type'), programs: available('program_type'), helpers };
}

describe('tracelet --info (real kernel)', () => {
  const r = runTracelet(['--info']);
  const info = parse(r.stderr);

  it('writes bpftrace 0.17\'s sections and labels to stderr, as bpftrace does, and exits 0', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect([...info.keys()]).toEqual(Object.keys(BPFTRACE_LABELS));
    for (const [section, labels] of Object.entries(BPFTRACE_LABELS)) {
      for (const label of labels) expect(info.get(section)?.has(label), `${section}: ${label}`).toBe(true);
    }
    expect(info.get('System')!.get('OS')).toMatch(/^Linux \d+\.\d+/);
    expect(info.get('Build')!.get('LLVM')).toMatch(/^14\./);
  });

  it('agrees with bpftool on helpers, map types and program types', () => {
    const bpftool = bpftoolFeatures();
    const helpers = info.get('Kernel helpers')!;
    const kprobeHelpers = bpftool.helpers.get('kprobe') ?? new Set();
    for (const h of ['probe_read', 'probe_read_str', 'probe_read_user', 'probe_read_kernel', 'get_current_cgroup_id', 'send_signal', 'override_return']) {
      expect(helpers.get(h), h).toBe(kprobeHelpers.has(`bpf_${h}`) ? 'yes' : 'no');
    }
    expect(helpers.get('get_boot_ns')).toBe(kprobeHelpers.has('bpf_ktime_get_boot_ns') ? 'yes' : 'no');
    const maps = info.get('Map types')!;
    const mapNames: Record<string, string> = {
      hash: 'hash', 'percpu hash': 'percpu_hash', array: 'array', 'percpu array': 'percpu_array',
      stack_trace: 'stack_trace', perf_event_array: 'perf_event_array', 'lru hash': 'lru_hash', ringbuf: 'ringbuf',
    };
    for (const [label, name] of Object.entries(mapNames)) expect(maps.get(label), label).toBe(bpftool.maps.get(name) ? 'yes' : 'no');
    const probes = info.get('Probe types')!;
    expect(probes.get('tracepoint')).toBe(bpftool.programs.get('tracepoint') ? 'yes' : 'no');
    expect(probes.get('perf_event')).toBe(bpftool.programs.get('perf_event') ? 'yes' : 'no');
    expect(probes.get('rawtracepoint')).toBe(bpftool.programs.get('raw_tracepoint') ? 'yes' : 'no');
  });

  it('reports each probe type of the provider table as tracelet can run it here', () => {
    const probes = info.get('Probe types')!;
    for (const p of PROVIDER_LIST) expect(probes.has(p), p).toBe(true);
    // No kprobe PMU and no kprobe_events: no kprobes (bpftrace 0.17 says yes, then fails to attach).
    const kprobes = existsSync('/sys/bus/event_source/devices/kprobe/type') || existsSync('/sys/kernel/tracing/kprobe_events');
    expect(probes.get('kprobe')).toBe(kprobes ? 'yes' : 'no');
    // Tracing programs (kfunc, iter) are not loaded by tracelet yet, whatever the kernel.
    expect(probes.get('kfunc')).toBe('no');
    expect(probes.get('iter:task')).toBe('no');
    expect(info.get('Kernel features')!.get('btf')).toBe(existsSync('/sys/kernel/btf/vmlinux') ? 'yes' : 'no');
  });
});

describe('systemInfo', () => {
  const sources = (answers: { prog?: (t: number) => boolean; yes?: boolean; features?: Record<string, boolean> }): InfoSources => ({
    native: {
      probeKernel: ((what: string, type?: number) => (what === 'prog' && answers.prog ? answers.prog(type!) : answers.yes ?? false)) as InfoSources['native']['probeKernel'],
      llvmVersion: () => '14.0.6',
    },
    kernel: { hasFeature: (f) => answers.features?.[f] ?? false },
    btf: true,
    uprobeRefCount: false,
  });

  it('says no to everything a kernel refuses, in the same layout', () => {
    const info = parse(systemInfo(sources({ yes: false, prog: () => false })));
    expect([...info.get('Kernel helpers')!.values()].every((v) => v === 'no')).toBe(true);
    expect([...info.get('Map types')!.values()].every((v) => v === 'no')).toBe(true);
    expect([...info.get('Probe types')!.values()].every((v) => v === 'no')).toBe(true);
    expect(info.get('Kernel features')!.get('Instruction limit')).toBe('4096');
    expect(info.get('Kernel features')!.get('uprobe refcount')).toBe('no');
  });

  it('a probe type needs its kernel feature and its program type', () => {
    const noPerf = parse(systemInfo(sources({ yes: true, prog: (t) => t !== 7, features: { kprobes: true, uprobes: true } }))).get('Probe types')!;
    expect(noPerf.get('kprobe')).toBe('yes');
    expect(noPerf.get('uprobe')).toBe('yes');
    for (const p of ['profile', 'interval', 'software', 'perf_event']) expect(noPerf.get(p), p).toBe('no');
    const noUprobes = parse(systemInfo(sources({ yes: true, prog: () => true, features: { kprobes: false, uprobes: false } }))).get('Probe types')!;
    for (const p of ['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt']) expect(noUprobes.get(p), p).toBe('no');
    expect(noUprobes.get('tracepoint')).toBe('yes');
  });
});
