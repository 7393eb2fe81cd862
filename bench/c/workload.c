// The fixed workload of the per-event, throughput and map-dump benchmarks: N getppid() calls,
// optionally paced to RATE calls per second. It prints "ready" and waits for a line on stdin
// before it starts (so the tracer can be attached first), then prints the elapsed nanoseconds.
// Only this process calls getppid() at this rate, so syscalls:sys_enter_getppid probes need no
// filter and never see the tracer's own syscalls.
#define _GNU_SOURCE
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
    fprintf(stderr, "usage: %s N [RATE]\n", argv[0]);
    return 2;
  }
  long long n = atoll(argv[1]);
  double rate = argc > 2 ? atof(argv[2]) : 0;
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  long long start = now_ns();
  for (long long i = 0; i < n; i++) {
    syscall(SYS_getppid);  // not the libc wrapper: never cached
    if (rate > 0 && (i & 63) == 63) {
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
