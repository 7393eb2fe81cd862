// The fixed workload of the per-event, throughput, printf-overhead and map-dump benchmarks: N
// getppid() calls, optionally paced to RATE calls per second in bursts of BURST calls (64 by
// default), optionally pinned to one CPU. It prints "ready" and waits for a line on stdin before
// it starts (so the tracer can be attached first), then prints the elapsed nanoseconds.
// Only this process calls getppid() at this rate, so syscalls:sys_enter_getppid probes need no
// filter and never see the tracer's own syscalls. Its comm is its file name (the printf
// overhead run compiles it as `helpers`). Usage: workload N [RATE [CPU [BURST]]] (CPU -1: any).
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s N [RATE [CPU [BURST]]]\n", argv[0]);
    return 2;
  }
  long long n = atoll(argv[1]);
  double rate = argc > 2 ? atof(argv[2]) : 0;
  int cpu = argc > 3 ? atoi(argv[3]) : -1;
  long long burst = argc > 4 ? atoll(argv[4]) : 64;
  if (burst < 1) burst = 1;
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
  }
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  long long start = now_ns();
  for (long long i = 0; i < n; i++) {
    syscall(SYS_getppid);  // not the libc wrapper: never cached
    if (rate > 0 && (i + 1) % burst == 0) {
      long long due = start + (long long)((i + 1) * 1e9 / rate);
      long long t;
      while ((t = now_ns()) < due) {
        if (due - t > 200000) {
          struct timespec d = {0, (due - t) - 100000};
          nanosleep(&d, NULL);
        }
      }
    }
  }
  printf("%lld\n", now_ns() - start);
  fflush(stdout);
  return 0;
}
