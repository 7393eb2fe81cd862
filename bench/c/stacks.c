// The stacks benchmark's workload, until killed:
//   stacks cpu     spins through a few nested functions (CPU samples with user frames)
//   stacks switch  two threads hand a byte back and forth over pipes (context switches)
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void spin_leaf(unsigned long n) {
  for (unsigned long i = 0; i < n; i++) sink += i * i;
}
__attribute__((noinline)) static void spin_middle(unsigned long n) { spin_leaf(n); spin_leaf(n / 2); }
__attribute__((noinline)) static void spin_outer(unsigned long n) { spin_middle(n); sink++; }

static int ping[2], pong[2];

__attribute__((noinline)) static void block_on_pipe(int fd) {
  char c;
  if (read(fd, &c, 1) != 1) exit(1);
}
__attribute__((noinline)) static void poke_waiter(int fd) {
  if (write(fd, "x", 1) != 1) exit(1);
}

static void *pong_side(void *arg) {
  (void)arg;
  for (;;) {
    block_on_pipe(ping[0]);
    poke_waiter(pong[1]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "switch") == 0) {
    if (pipe(ping) || pipe(pong)) return 1;
    pthread_t t;
    pthread_create(&t, NULL, pong_side, NULL);
    for (;;) {
      poke_waiter(ping[1]);
      block_on_pipe(pong[0]);
    }
  }
  for (;;) spin_outer(200000);
}
