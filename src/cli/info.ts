// `tracelet --info`: the system, the build, and what this kernel's BPF accepts, in bpftrace 0.17's
// layout and with its labels (scripts that wrap bpftrace grep them, e.g. `btf: yes`), each value
// found by trying it here, never assumed. Probe types are every provider of the table in
// src/model/providers.ts that tracelet can run on this kernel, then bpftrace's own labels.
import { existsSync } from 'node:fs';
import { machine, release, type, version as osVersion } from 'node:os';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { Helper, MAP_TYPE_IDS } from '../model/object-layout.js';
import { PROVIDER_LIST, providerRecord, type ProgramType, type ProbeProvider } from '../model/providers.js';
import type { NativeAddon } from '../runtime/native.js';
import { VERSION } from './version.js';

/** BPF_PROG_TYPE_* of the program types tracelet loads (uprobe_multi programs are kprobe ones). */
const PROG_TYPE: Readonly<Record<Exclude<ProgramType, 'uprobe_multi'>, number>> = {
  kprobe: 2, tracepoint: 5, xdp: 6, perf_event: 7, raw_tracepoint: 17,
};
const BPF_PROG_TYPE_TRACING = 26;

/** bpftrace 0.17's helper labels: BPF_FUNC_* ids, tried in kprobe programs (uprobes are those), tracing for d_path and skb_output. */
const HELPERS: readonly { label: string; id: number; prog?: number }[] = [
  { label: 'probe_read', id: Helper.probeRead },
  { label: 'probe_read_str', id: Helper.probeReadStr },
  { label: 'probe_read_user', id: Helper.probeReadUser },
  { label: 'probe_read_user_str', id: Helper.probeReadUserStr },
  { label: 'probe_read_kernel', id: Helper.probeReadKernel },
  { label: 'probe_read_kernel_str', id: Helper.probeReadKernelStr },
  { label: 'get_current_cgroup_id', id: Helper.getCurrentCgroupId },
  { label: 'send_signal', id: Helper.sendSignal },
  { label: 'override_return', id: 58 },
  { label: 'get_boot_ns', id: Helper.ktimeGetBootNs },
  { label: 'dpath', id: 147, prog: BPF_PROG_TYPE_TRACING },
  { label: 'skboutput', id: 111, prog: BPF_PROG_TYPE_TRACING },
];

/** BPF_MAP_TYPE_* ids: bpftrace 0.17's labels, then those tracelet also uses. */
const MAP_TYPES: readonly { label: string; id: number }[] = [
  { label: 'hash', id: MAP_TYPE_IDS.hash },
  { label: 'percpu hash', id: MAP_TYPE_IDS.percpu_hash },
  { label: 'array', id: MAP_TYPE_IDS.array },
  { label: 'percpu array', id: MAP_TYPE_IDS.percpu_array },
  { label: 'stack_trace', id: MAP_TYPE_IDS.stack_trace },
  { label: 'perf_event_array', id: 4 },
  { label: 'lru hash', id: MAP_TYPE_IDS.lru_hash },
  { label: 'ringbuf', id: MAP_TYPE_IDS.ringbuf },
];

/** What --info reads: the addon (to try things in the kernel) and the kernel's features. */
export interface InfoSources {
  readonly native: Pick<NativeAddon, 'probeKernel' | 'llvmVersion'>;
  readonly kernel: Pick<KernelInfo, 'hasFeature'>;
  readonly btf?: boolean;
  readonly uprobeRefCount?: boolean;
}

const yesNo = (v: boolean) => (v ? 'yes' : 'no');

/** The text of `tracelet --info`. */
export function systemInfo(src: InfoSources): string {
  const { native, kernel } = src;
  const progs = new Map<number, boolean>();
  const progLoads = (t: number) => {
    let v = progs.get(t);
    if (v === undefined) progs.set(t, (v = native.probeKernel('prog', t)));
    return v;
  };
  /**
   * tracelet can run it here: implemented, its kernel feature present (uprobes for the probes of
   * binaries), its program type loads.
   */
  const runs = (p: ProbeProvider) => {
    const r = providerRecord(p);
    if (r.unsupported || (r.requires && !kernel.hasFeature(r.requires.feature))) return false;
    if (r.listing === 'binary' && !kernel.hasFeature('uprobes')) return false;
    return progLoads(PROG_TYPE[r.programType]);
  };
  const sections: [string, [string, string][]][] = [
    ['System', [['OS', `${type()} ${release()} ${osVersion()}`], ['Arch', machine()]]],
    ['Build', [
      ['version', `v${VERSION}`],
      ['LLVM', native.llvmVersion()],
      ['unsafe uprobe', 'no'],
      ['bfd', 'no'],
      // bpftrace's line, for what it means to a reader: uprobe `args` from DWARF (src/kernel/dwarf.ts, not libdw).
      ['libdw (DWARF support)', 'yes'],
    ]],
    ['Kernel helpers', HELPERS.map((h) => [h.label, yesNo(native.probeKernel('helper', h.prog ?? PROG_TYPE.kprobe, h.id))])],
    ['Kernel features', [
      ['Instruction limit', native.probeKernel('large') ? '1000000' : '4096'],
      ['Loop support', yesNo(native.probeKernel('loop'))],
      ['btf', yesNo(src.btf ?? existsSync('/sys/kernel/btf/vmlinux'))],
      ['map batch', yesNo(native.probeKernel('batch'))],
      ['uprobe refcount', yesNo(src.uprobeRefCount ?? existsSync('/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset'))],
    ]],
    ['Map types', MAP_TYPES.map((m) => [m.label, yesNo(native.probeKernel('map', m.id))])],
    ['Probe types', [
      ...PROVIDER_LIST.map((p): [string, string] => [p, yesNo(runs(p))]),
      // bpftrace 0.17's labels that are not provider names.
      ['perf_event', yesNo(runs('profile'))],
      ['iter:task', yesNo(runs('iter'))],
      ['iter:task_file', yesNo(runs('iter'))], // the same BTF targets, since Linux 5.8
      // tracelet attaches kprobes one by one, without kprobe_multi links.
      ['kprobe_multi', 'no'],
      ['raw_tp_special', yesNo(runs('BEGIN'))],
    ]],
  ];
  return sections.map(([title, lines]) => `${title}\n${lines.map(([k, v]) => `  ${k}: ${v}\n`).join('')}`).join('\n');
}
