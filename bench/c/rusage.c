// Runs a command and writes its peak resident set size (wait4's ru_maxrss, in KiB) and its user +
// system CPU time (ms, the command and the children it waited for) to OUTFILE, a line each.
// SIGINT and SIGTERM are passed on to the command; the exit status is the command's.
// With RUSAGE_MARKER=TEXT in the environment, the command's stdout passes through this wrapper,
// which also writes two more lines: the ms (monotonic, from the fork) at which stdout first held
// TEXT, and at which its last byte came (-1 if never): so a caller can time the output without
// reading it as it comes (the stacks bench's Node harness must stay idle while probes sample).
// Usage: rusage OUTFILE COMMAND [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/** Copies `fd` to stdout until EOF, noting when `marker` first appears and when the last byte came. */
static void pass_through(int fd, const char *marker, double start, double *marker_ms, double *last_ms) {
  size_t mlen = strlen(marker);
  char buf[1 << 16];
  // The end of the previous read, so that a marker split between two reads is found.
  char window[256 + (1 << 16)];
  size_t kept = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    *last_ms = now_ms() - start;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(1, buf + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += w;
    }
    if (*marker_ms < 0 && mlen > 0 && mlen < 256) {
      memcpy(window + kept, buf, n);
      size_t len = kept + n;
      if (memmem(window, len, marker, mlen)) *marker_ms = *last_ms;
      kept = len < mlen ? len : mlen - 1;
      memmove(window, window + len - kept, kept);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s OUTFILE COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  const char *marker = getenv("RUSAGE_MARKER");
  int out[2] = {-1, -1};
  if (marker && pipe(out) < 0) return 125;
  double start = now_ms();
  child = fork();
  if (child < 0) return 125;
  if (child == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (marker) {
      unsetenv("RUSAGE_MARKER");
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
    }
    execvp(argv[2], argv + 2);
    perror("exec");
    _exit(127);
  }
  double marker_ms = -1, last_ms = -1;
  if (marker) {
    close(out[1]);
    pass_through(out[0], marker, start, &marker_ms, &last_ms);
    close(out[0]);
  }
  int status;
  struct rusage ru;
  while (wait4(child, &status, 0, &ru) < 0) {
    if (errno != EINTR) return 125;
  }
  FILE *f = fopen(argv[1], "w");
  if (f) {
    long cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    fprintf(f, "%ld\n%ld\n", ru.ru_maxrss, cpu_ms);
    if (marker) fprintf(f, "%.3f\n%.3f\n", marker_ms, last_ms);
    fclose(f);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
