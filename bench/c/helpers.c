// The workload of the printf overhead run (issue 17): a process named "helpers", pinned to one
// CPU, making N getppid() syscalls at RATE per second in bursts (a burst of BURST calls at full
// speed, then a sleep until the next is due). Like workload.c it prints "ready", waits for a line
// on stdin, then prints the elapsed nanoseconds. Usage: helpers N RATE [CPU] [BURST]
// RATE 0: as fast as it goes. CPU -1: not pinned.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s N RATE [CPU] [BURST]\n", argv[0]);
    return 2;
  }
  long long n = atoll(argv[1]);
  double rate = atof(argv[2]);
  int cpu = argc > 3 ? atoi(argv[3]) : -1;
  long long burst = argc > 4 ? atoll(argv[4]) : 1000;
  prctl(PR_SET_NAME, "helpers");
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
      long long t = now_ns();
      if (due > t) {
        struct timespec d = {(due - t) / 1000000000LL, (due - t) % 1000000000LL};
        nanosleep(&d, NULL);
      }
    }
  }
  printf("%lld\n", now_ns() - start);
  fflush(stdout);
  return 0;
}
