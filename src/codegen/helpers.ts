// Flags of the BPF helpers generated code calls (include/uapi/linux/bpf.h); their ids are the
// object's contract with the runtime (Helper in src/model/object-layout.ts).
import { Helper } from '../model/object-layout.js';

/** The helper that reads each clock of nsecs(clock). sw_tai is 0.26's TAI for kernels without the helper: this one has it. */
export const CLOCK_HELPERS: Readonly<Record<string, number>> = {
  monotonic: Helper.ktimeGetNs, boot: Helper.ktimeGetBootNs, tai: Helper.ktimeGetTaiNs, sw_tai: Helper.ktimeGetTaiNs,
};

/** bpf_get_stack flags: walk the user stack instead of the kernel's; frames as build id and offset. */
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_USER_BUILD_ID = 1 << 11;

/** bpf_map_update_elem flags: only if the key is absent (returns 0 then). */
export const BPF_NOEXIST = 1;

/**
 * bpf_ringbuf_submit flags. None: the kernel wakes the reader only if it had read everything
 * before this record, so an event after a quiet spell is read at once (printed before, say, the
 * traced program's next output, as bpftrace's would be), while a busy stream wakes it once per
 * collection (the collector thread reads at most every millisecond: ringbuf.cc). NO_WAKEUP: no
 * wake-up, the collector's poll finds the record. FORCE_WAKEUP: always (exit()).
 */
export const BPF_RB_WAKE_IF_CAUGHT_UP = 0;
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
