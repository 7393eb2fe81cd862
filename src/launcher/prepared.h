// Prepared runs (prepared.c): the launcher loads and attaches a cached run before Node boots.
#ifndef TRACELET_PREPARED_H
#define TRACELET_PREPARED_H

#include <signal.h>
#include <stddef.h>

// Signals the caller may leave ignored that stay ignored, as with bpftrace (which handles only
// SIGINT, SIGTERM and SIGUSR1): `nohup tracelet ... &` outlives its terminal, and a script's
// background job is not ended by SIGQUIT. Node resets every disposition when it starts, so the
// launcher names them for it in TRACELET_IGNORED_SIGNALS (src/cli/inherited-signals.ts).
static const struct { int sig; const char *name; } kKeptIgnored[] = {
    {SIGHUP, "SIGHUP"}, {SIGQUIT, "SIGQUIT"}, {SIGUSR2, "SIGUSR2"}, {SIGALRM, "SIGALRM"}};
#define KEPT_IGNORED_COUNT (sizeof kKeptIgnored / sizeof kKeptIgnored[0])

// Whether the caller left `sig` ignored and it stays so (the launcher changes no disposition
// before it asks).
static inline int tl_kept_ignored(int sig) {
  struct sigaction current;
  for (size_t i = 0; i < KEPT_IGNORED_COUNT; i++) {
    if (kKeptIgnored[i].sig == sig) return sigaction(sig, NULL, &current) == 0 && current.sa_handler == SIG_IGN;
  }
  return 0;
}

// If the cache holds a prepared run of this command line, carries it out, starts Node
// (`node_args`, as execv takes them) as its child and never returns; else returns, having set
// what Node needs to write one (TRACELET_LAUNCH_KEY, TRACELET_LAUNCH_ENTRY).
void prepared_run(const char *root, const char *node, char **node_args, int argc, char **argv);

#endif
