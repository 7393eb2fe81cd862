// Runs a command and writes its peak resident set size (wait4's ru_maxrss, in KiB) and its user +
// system CPU time (ms, the command and the children it waited for) to OUTFILE, a line each.
// SIGINT and SIGTERM are passed on to the command; the exit status is the command's.
// Usage: rusage OUTFILE COMMAND [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
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
  child = fork();
  if (child < 0) return 125;
  if (child == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execvp(argv[2], argv + 2);
    perror("exec");
    _exit(127);
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
    fclose(f);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
