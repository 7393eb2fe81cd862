// Flags of the BPF helpers generated code calls (include/uapi/linux/bpf.h); their ids are the
// object's contract with the runtime (Helper in src/model/object-layout.ts).
import { Helper } from '../model/object-layout.js';

/** The helper that reads each clock of nsecs(clock). sw_tai is 0.26's TAI for kernels without the helper: this one has it. */
export const CLOCK_HELPERS: Readonly<Record<string, number>> = {
  monotonic: Helper.ktimeGetNs, boot: Helper.ktimeGetBootNs, tai: Helper.ktimeGetTaiNs, sw_tai: Helper.ktimeGetTaiNs,
};

/** bpf_get_stackid flags: walk the user stack instead of the kernel's. */
export const BPF_F_USER_STACK = 1 << 8;

/** bpf_map_update_elem flags: only if the key is absent (returns 0 then). */
export const BPF_NOEXIST = 1;

/** bpf_ringbuf_submit flags: the probe skips the wake-up; the reader's collector thread polls. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
