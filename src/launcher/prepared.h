// Prepared runs (prepared.c): the launcher loads and attaches a cached run before Node boots.
#ifndef TRACELET_PREPARED_H
#define TRACELET_PREPARED_H

// If the cache holds a prepared run of this command line, carries it out, starts Node
// (`node_args`, as execv takes them) as its child and never returns; else returns, having set
// what Node needs to write one (TRACELET_LAUNCH_KEY, TRACELET_LAUNCH_ENTRY).
void prepared_run(const char *root, const char *node, char **node_args, int argc, char **argv);

#endif
