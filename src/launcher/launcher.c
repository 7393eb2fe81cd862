// The tracelet command's launcher (built into build/Release/tracelet by node-gyp with the addon).
// It does what bin/tracelet's shell code does, without a shell and its forks (readlink, dirname,
// stat, cat: ~25 ms a run): raise the stack limit for deeply nested programs, then exec Node from
// tracelet's start-up snapshot when the snapshot is fresh (newer than tsc's output, made by this
// node binary with the same V8 flags: the stamp next to it), else Node on bin/tracelet.js.
// It finds the package from its own path (/proc/self/exe), so a symlink to it works anywhere.
// When the cache holds a prepared run of the command line, it first loads and attaches the
// program itself, then runs Node as its child (prepared.c).
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prepared.h"

// A 256 MiB soft stack limit (only reserved, not used, unless a program nests that deep), of
// which V8 may use 3/4 (scripts/bundle.mjs builds the snapshot with that flag); see bin/tracelet.
#define STACK_KIB 262144L
// Small young-generation semi-spaces keep the heap from filling with garbage (scripts/snapshot.mjs).
#define HEAP_FLAG "--max-semi-space-size=1"
// The snapshot's hash tables keep the seed they were built with (scripts/snapshot.mjs).
#define REHASH_FLAG "--no-rehash-snapshot"

static int older(const struct stat *a, const struct stat *b) {
  return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
         (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec <= b->st_mtim.tv_nsec);
}

// The first `node` on PATH, as the shell's `command -v node` finds it.
static int find_node(char *out, size_t size) {
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; *p;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (snprintf(out, size, "%.*s/node", (int)len, len ? p : ".") < (int)size && access(out, X_OK) == 0) return 0;
    if (!end) break;
    p = end + 1;
  }
  return -1;
}

// The signals the caller left ignored, named for Node (see kKeptIgnored).
static void name_ignored_signals(void) {
  char names[64] = "";
  for (size_t i = 0; i < KEPT_IGNORED_COUNT; i++) {
    if (tl_kept_ignored(kKeptIgnored[i].sig)) {
      if (names[0]) strcat(names, ",");
      strcat(names, kKeptIgnored[i].name);
    }
  }
  if (names[0]) setenv("TRACELET_IGNORED_SIGNALS", names, 1);
  else unsetenv("TRACELET_IGNORED_SIGNALS");
}

// Variables meant for the user's Node programs that would change tracelet's own Node: NODE_OPTIONS
// (a V8 flag there, e.g. --max-old-space-size, makes Node refuse tracelet's start-up snapshot and
// exit 14), NODE_EXTRA_CA_CERTS (Node parses every certificate of the file it names as it starts:
// with Debian's bundle ~80 ms of CPU, more than the rest of Node's start, for TLS tracelet never
// uses) and NODE_DEBUG (Node's own debug lines on tracelet's stderr). Node starts without them,
// each kept as TRACELET_<NAME>; the CLI puts them back at once for the commands it runs
// (src/cli/start-environment.ts).
static const char *const kKeptFromNode[] = {"NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_DEBUG"};

static void keep_from_node(void) {
  for (size_t i = 0; i < sizeof kKeptFromNode / sizeof kKeptFromNode[0]; i++) {
    const char *value = getenv(kKeptFromNode[i]);
    if (!value) continue;
    char kept[64];
    snprintf(kept, sizeof kept, "TRACELET_%s", kKeptFromNode[i]);
    setenv(kept, value, 1);
    unsetenv(kKeptFromNode[i]);
  }
}

int main(int argc, char **argv) {
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  char root[PATH_MAX];
  if (!realpath("/proc/self/exe", root)) {
    perror("tracelet: /proc/self/exe");
    return 70;
  }
  for (int up = 0; up < 3; up++) {  // <root>/build/Release/tracelet
    char *slash = strrchr(root, '/');
    if (slash) *slash = '\0';
  }
  char node[PATH_MAX];
  if (find_node(node, sizeof node) != 0) {
    fputs("tracelet: node is not installed\n", stderr);
    return 70;
  }

  struct rlimit stack;
  long soft_kib = -1;  // -1: unlimited
  if (getrlimit(RLIMIT_STACK, &stack) == 0) {
    long want = STACK_KIB;
    if (stack.rlim_max != RLIM_INFINITY && (long)(stack.rlim_max / 1024) < want) want = stack.rlim_max / 1024;
    soft_kib = stack.rlim_cur == RLIM_INFINITY ? -1 : (long)(stack.rlim_cur / 1024);
    if (soft_kib >= 0 && soft_kib < want) {
      struct rlimit raised = {(rlim_t)want * 1024, stack.rlim_max};
      if (setrlimit(RLIMIT_STACK, &raised) == 0) {
        // Commands tracelet starts (-c, system()) get the caller's limit back (src/cli/stack-limit.ts).
        char caller[32];
        snprintf(caller, sizeof caller, "%ld", soft_kib);
        setenv("TRACELET_CALLER_STACK_KIB", caller, 1);
        soft_kib = want;
      }
    }
  }
  if (soft_kib < 0 || soft_kib > STACK_KIB) soft_kib = STACK_KIB;
  char stack_flag[64];
  snprintf(stack_flag, sizeof stack_flag, "--stack-size=%ld", soft_kib * 3 / 4);

  // For --timings: when the run began, on the clock src/runtime/timings.ts reads.
  char start_ns[32];
  snprintf(start_ns, sizeof start_ns, "%lld", (long long)started.tv_sec * 1000000000LL + started.tv_nsec);
  setenv("TRACELET_START_NS", start_ns, 1);
  name_ignored_signals();
  keep_from_node();

  char blob[PATH_MAX + 32], main_js[PATH_MAX + 32], stamp_path[PATH_MAX + 40], script[PATH_MAX + 32];
  snprintf(blob, sizeof blob, "%s/dist/bundle/tracelet.blob", root);
  snprintf(main_js, sizeof main_js, "%s/dist/cli/main.js", root);
  snprintf(stamp_path, sizeof stamp_path, "%s.node", blob);
  snprintf(script, sizeof script, "%s/bin/tracelet.js", root);

  int fresh = 0;
  struct stat blob_st, main_st, node_st;
  if (stat(blob, &blob_st) == 0 && stat(node, &node_st) == 0 &&
      (stat(main_js, &main_st) != 0 || !older(&blob_st, &main_st))) {
    char expected[128], stamp[128] = "";
    snprintf(expected, sizeof expected, "%lld:%lld %s %s %s\n", (long long)node_st.st_size,
             (long long)node_st.st_mtim.tv_sec, stack_flag, HEAP_FLAG, REHASH_FLAG);
    FILE *f = fopen(stamp_path, "r");
    if (f) {
      size_t n = fread(stamp, 1, sizeof stamp - 1, f);
      stamp[n] = '\0';
      fclose(f);
      fresh = strcmp(stamp, expected) == 0;
    }
  }

  char **args = calloc((size_t)argc + 7, sizeof *args);
  int n = 0;
  args[n++] = node;
  args[n++] = stack_flag;
  args[n++] = HEAP_FLAG;
  args[n++] = REHASH_FLAG;
  if (fresh) {
    args[n++] = "--snapshot-blob";
    args[n++] = blob;
    args[n++] = "--";
  } else {
    args[n++] = script;
  }
  for (int i = 1; i < argc; i++) args[n++] = argv[i];
  args[n] = NULL;
  prepared_run(root, node, args, argc, argv);
  execv(node, args);
  fprintf(stderr, "tracelet: cannot run %s: %s\n", node, strerror(errno));
  return 70;
}
