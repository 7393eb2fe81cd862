// BPF helper function ids (include/uapi/linux/bpf.h) and flags used by generated code.
export const Helper = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  probeRead: 4,
  ktimeGetNs: 5,
  getPrandomU32: 7,
  getSmpProcessorId: 8,
  getCurrentPidTgid: 14,
  getCurrentUidGid: 15,
  getCurrentComm: 16,
  getStackid: 27,
  getCurrentTask: 35,
  getNumaNodeId: 42,
  probeReadStr: 45,
  getCurrentCgroupId: 80,
  sendSignal: 109,
  probeReadUser: 112,
  probeReadKernel: 113,
  probeReadUserStr: 114,
  probeReadKernelStr: 115,
  jiffies64: 118,
  getNsCurrentPidTgid: 120,
  ktimeGetBootNs: 125,
  ringbufOutput: 130,
  ringbufReserve: 131,
  ringbufSubmit: 132,
  ringbufDiscard: 133,
  forEachMapElem: 164,
  loop: 181,
  mapLookupPercpuElem: 195,
  ktimeGetTaiNs: 208,
} as const;

/** The helper that reads each clock of nsecs(clock). sw_tai is 0.26's TAI for kernels without the helper: this one has it. */
export const CLOCK_HELPERS: Readonly<Record<string, number>> = {
  monotonic: Helper.ktimeGetNs, boot: Helper.ktimeGetBootNs, tai: Helper.ktimeGetTaiNs, sw_tai: Helper.ktimeGetTaiNs,
};

/** bpf_get_stackid flags: walk the user stack instead of the kernel's. */
export const BPF_F_USER_STACK = 1 << 8;

/** bpf_map_update_elem flags: only if the key is absent (returns 0 then). */
export const BPF_NOEXIST = 1;

/**
 * Event id of the ring buffer record (id, pid: two u64) a process sends with its first ustack:
 * the runtime then reads its mappings, so its stacks are named even after it has exited.
 */
export const PROCESS_SEEN_EVENT = 0xffff_ffff;

/** bpf_ringbuf_submit flags: the probe skips the wake-up; the reader drains on a timer. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
