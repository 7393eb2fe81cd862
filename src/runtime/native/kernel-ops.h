// Kernel operations shared by the addon (tracelet_native.node) and the launcher's prepared runs
// (src/launcher/prepared.c), in plain C so both can use the one definition.
#ifndef TRACELET_KERNEL_OPS_H
#define TRACELET_KERNEL_OPS_H

#include <linux/bpf.h>
#include <linux/perf_event.h>

#ifdef __cplusplus
extern "C" {
#endif

// The BPF program type of a program of tracelet's kind `name` (GeneratedProgram.type, or a
// provider's name); 0 if unknown.
int tl_program_type(const char *name, enum bpf_prog_type *type);

// Opens the perf event `attr` describes (disabled) for `pid` on `cpu`, links `prog_fd` to it with
// a BPF_PERF_EVENT link, then enables it. On success both fds are the caller's; on failure both
// are closed, -errno is returned and *step says what failed.
int tl_perf_link(int prog_fd, struct perf_event_attr *attr, int pid, int cpu, int *link_fd, int *perf_fd,
                 const char **step);

// The attributes of the perf event a tracepoint program is attached through (tracepoint `id`).
void tl_tracepoint_attr(struct perf_event_attr *attr, unsigned long long id);

// The attributes of a uprobe (the kernel's "uprobe" PMU) at file offset `offset` of `path`
// (which must outlive the perf_event_open), a uretprobe with `retprobe`, with a USDT semaphore at
// `ref_ctr_offset` (0: none). -1 if the kernel has no uprobe PMU.
int tl_uprobe_attr(struct perf_event_attr *attr, const char *path, unsigned long long offset, int retprobe,
                   unsigned long long ref_ctr_offset);

// Runs a program once with BPF_PROG_TEST_RUN and a zeroed context (BEGIN, END, self): 0 and
// its return value in *retval, or -errno.
int tl_run_program(int prog_fd, unsigned int *retval);

// Hands `fds` (perf events, links) to a reaper process and closes them here: the kernel's slow
// teardown of perf events (~70 ms each for a tracepoint's) is the reaper's, and nobody waits for
// it. Returns the reaper's pid, or 0 if it could not be made (then the fds were closed here,
// slowly). Only system calls between fork and exit: callers may be multi-threaded.
int tl_release_in_background(const int *fds, int count);

// Parses a kernel CPU list ("0-3,6,8-9") into cpus (at most max); returns how many, or -1.
int tl_parse_cpu_list(const char *text, int *cpus, int max);

#ifdef __cplusplus
}
#endif

#endif
