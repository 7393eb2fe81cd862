// See kernel-ops.h.
#define _GNU_SOURCE
#include "kernel-ops.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int tl_program_type(const char *name, enum bpf_prog_type *type) {
  static const struct {
    const char *name;
    enum bpf_prog_type type;
  } kTypes[] = {
      {"tracepoint", BPF_PROG_TYPE_TRACEPOINT},
      {"raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT},
      {"raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT},
      // uprobes and USDT probes are kprobe-type programs
      {"kprobe", BPF_PROG_TYPE_KPROBE},
      {"kretprobe", BPF_PROG_TYPE_KPROBE},
      {"uprobe", BPF_PROG_TYPE_KPROBE},
      {"uretprobe", BPF_PROG_TYPE_KPROBE},
      {"usdt", BPF_PROG_TYPE_KPROBE},
      {"uprobe_multi", BPF_PROG_TYPE_KPROBE},
      {"perf_event", BPF_PROG_TYPE_PERF_EVENT},
      {"profile", BPF_PROG_TYPE_PERF_EVENT},
      {"interval", BPF_PROG_TYPE_PERF_EVENT},
      {"software", BPF_PROG_TYPE_PERF_EVENT},
      {"hardware", BPF_PROG_TYPE_PERF_EVENT},
      // bench: probes: the one kind of program BPF_PROG_TEST_RUN repeats and times (raw tracepoints run once).
      {"xdp", BPF_PROG_TYPE_XDP},
  };
  for (size_t i = 0; i < sizeof kTypes / sizeof kTypes[0]; i++) {
    if (strcmp(name, kTypes[i].name) == 0) {
      *type = kTypes[i].type;
      return 1;
    }
  }
  return 0;
}

int tl_perf_link(int prog_fd, struct perf_event_attr *attr, int pid, int cpu, int *link_fd, int *perf_fd,
                 const char **step) {
  attr->size = sizeof *attr;
  attr->disabled = 1;
  int pfd = (int)syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (pfd < 0) {
    *step = "perf_event_open";
    return -errno;
  }
  int lfd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
  if (lfd < 0) {
    int err = errno;
    close(pfd);
    *step = "link";
    return -err;
  }
  if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
    int err = errno;
    close(lfd);
    close(pfd);
    *step = "enable";
    return -err;
  }
  *link_fd = lfd;
  *perf_fd = pfd;
  return 0;
}

void tl_tracepoint_attr(struct perf_event_attr *attr, unsigned long long id) {
  memset(attr, 0, sizeof *attr);
  attr->type = PERF_TYPE_TRACEPOINT;
  attr->config = id;
  attr->sample_period = 1;
  attr->wakeup_events = 1;
}

// The first number in a sysfs file ("8", or "config:0" / "config:32-63" of a PMU's format), or -1.
static long long sysfs_number(const char *path) {
  char text[64];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  const char *digits = strpbrk(text, "0123456789");
  return digits ? strtoll(digits, NULL, 10) : -1;
}

int tl_uprobe_attr(struct perf_event_attr *attr, const char *path, unsigned long long offset, int retprobe,
                   unsigned long long ref_ctr_offset) {
  long long type = sysfs_number("/sys/bus/event_source/devices/uprobe/type");
  long long retprobe_bit = retprobe ? sysfs_number("/sys/bus/event_source/devices/uprobe/format/retprobe") : 0;
  long long ref_ctr_shift = ref_ctr_offset ? sysfs_number("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset") : 0;
  if (type < 0 || retprobe_bit < 0 || retprobe_bit > 63 || ref_ctr_shift < 0 || ref_ctr_shift > 63) return -1;
  memset(attr, 0, sizeof *attr);
  attr->type = (unsigned int)type;
  attr->config = (retprobe ? 1ULL << retprobe_bit : 0) | (ref_ctr_offset << ref_ctr_shift);
  attr->config1 = (unsigned long long)(unsigned long)path;  // uprobe_path
  attr->config2 = offset;                                   // probe_offset
  return 0;
}

int tl_run_program(int prog_fd, unsigned int *retval) {
  // A raw-tracepoint program's context is its u64 arguments; a zeroed one lets programs that
  // read ctx run (without ctx_in the kernel gives EINVAL). 8 arguments, below the kernel's 12.
  unsigned long long ctx[8] = {0};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = sizeof ctx);
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) return -errno;
  *retval = opts.retval;
  return 0;
}

int tl_parse_cpu_list(const char *text, int *cpus, int max) {
  int count = 0;
  for (const char *p = text; *p && *p != '\n';) {
    char *end;
    long first = strtol(p, &end, 10);
    if (end == p) return -1;
    long last = first;
    if (*end == '-') {
      const char *q = end + 1;
      last = strtol(q, &end, 10);
      if (end == q) return -1;
    }
    for (long cpu = first; cpu <= last; cpu++) {
      if (count == max) return -1;
      cpus[count++] = (int)cpu;
    }
    p = *end == ',' ? end + 1 : end;
  }
  return count;
}

static int compare_ints(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

// Closes every fd except those in `keep` (sorted). Only system calls.
static void close_all_except(const int *keep, int count) {
  unsigned int from = 0;
  for (int i = 0; i < count; i++) {
    unsigned int fd = (unsigned int)keep[i];
    if (fd > from && syscall(__NR_close_range, from, fd - 1, 0) != 0) {
      for (unsigned int x = from; x < fd; ++x) close((int)x);
    }
    if (fd >= from) from = fd + 1;
  }
  if (syscall(__NR_close_range, from, ~0U, 0) != 0) {
    for (unsigned int x = from; x < 65536; ++x) close((int)x);
  }
}

// The reaper is a grandchild, so nobody has to wait for it. It keeps only `fds`, waits until this
// process has closed its copies (so the last reference, and with it the slow teardown, is the
// reaper's), closes them and exits.
int tl_release_in_background(const int *fds, int count) {
  int go[2];   // EOF on go[0]: this process has closed its copies
  int pid[2];  // the grandchild's pid, from the child
  int *keep = malloc(((size_t)count + 1) * sizeof *keep);
  if (!keep || pipe2(go, O_CLOEXEC) != 0) {
    free(keep);
    for (int i = 0; i < count; i++) close(fds[i]);
    return 0;
  }
  if (pipe2(pid, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    free(keep);
    for (int i = 0; i < count; i++) close(fds[i]);
    return 0;
  }
  memcpy(keep, fds, (size_t)count * sizeof *keep);
  keep[count] = go[0];
  qsort(keep, (size_t)count + 1, sizeof *keep, compare_ints);

  pid_t child = fork();
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild != 0) {
      ssize_t n = write(pid[1], &grandchild, sizeof grandchild);
      (void)n;
      _exit(0);
    }
    close_all_except(keep, count + 1);
    prctl(PR_SET_NAME, "tracelet-reaper", 0, 0, 0);
    // Ctrl-C and SIGTERM meant for tracelet's process group must not cut the teardown short;
    // SIGKILL still ends it, and then the kernel finishes the teardown at exit.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    for (int i = 0; i < count; i++) close(fds[i]);
    _exit(0);
  }
  free(keep);
  close(go[0]);
  close(pid[1]);
  pid_t reaper = 0;
  if (child > 0) {
    ssize_t n;
    do n = read(pid[0], &reaper, sizeof reaper);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof reaper) reaper = 0;
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close(pid[0]);
  for (int i = 0; i < count; i++) close(fds[i]);  // quick while the reaper holds a reference; slow if fork failed
  close(go[1]);
  return child > 0 ? reaper : 0;
}
