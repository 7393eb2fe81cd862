// Prepared runs: the second run of a command line has its probes attached before Node has booted.
//
// A run that Node carried out in full may leave a *prepared run* in the cache directory
// (src/runtime/prepared.ts writes it): the compiled object and every step that loads, fills,
// starts and attaches it, keyed by all the launcher can see of what the compile read: the command
// line, tracelet's environment variables, the working directory, the kernel, tracelet's build,
// and the file the program came from (its identity, checked here). On a hit the launcher loads
// the object (libbpf, ~1 ms), starts Node as its child with the program and map fds (exec'd
// before anything is attached, so that no exec tracer sees it), runs BEGIN, attaches, prints what
// Node would have printed, and tells Node over a socket ('A'). Node still compiles (it needs the
// program's metadata; the object cache spares it LLVM), checks that the prepared run is byte for
// byte the one it would write for this compile, and adopts the fds; otherwise it says 'X', the
// launcher detaches, and Node loads afresh.
//
// The launcher stays the process its caller knows (its pid, its exit status), because Node's own
// start resets every signal to its default action: a Ctrl-C in Node's first ~70 ms would kill it
// without printing the maps. So Node runs in its own process group, and the launcher forwards
// each signal to it once Node says its handlers are in place ('R'), holding those that come
// earlier. It keeps the links until Node ends (Node stops the probes with the stopped flag), then
// detaches in a child process and ends as Node did. Node dies with the launcher
// (PR_SET_PDEATHSIG), and every kernel object is held by one of the two, so nothing outlives them.
#define _GNU_SOURCE
#include "prepared.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../runtime/native/kernel-ops.h"

// The records of a prepared run, in this order (src/runtime/prepared.ts writes them): a tag byte,
// a u32 length (little-endian), the payload. Strings end with NUL; numbers are little-endian.
enum {
  TAG_KEY = 1,          // the key material, compared whole
  TAG_DEP = 2,          // path, identity: a file the program came from
  TAG_OBJECT = 3,       // the ELF object
  TAG_PROGRAM = 4,      // program name, tracelet's program type
  TAG_MAX_ENTRIES = 5,  // map name, u32 max_entries (set before loading)
  TAG_FILL = 6,         // map name, u32 key length, key, u32 value length, value
  TAG_RUN_VALUES = 7,   // map name, u32 slots of: start ns, cpid, pid namespace dev, ino
  TAG_STOPPED = 8,      // map name (the stopped flag: 1 until BEGIN has run), u64 "stopped by exit()"
  TAG_BEGIN = 9,        // program name: run once, in order
  TAG_TRACEPOINT = 10,  // program name, category, event
  TAG_RAW_TRACEPOINT = 11,  // program name, event
  TAG_PRINT = 12,       // u32 fd, bytes: what Node prints once attached (`Attaching N probes...`)
  TAG_MAP = 13,         // map name: a map Node reads, handed over by this name
  TAG_UPROBE = 14,      // program name, path, u64 file offset, u8 retprobe, u64 USDT semaphore offset
};
static const char kMagic[8] = "TLRUN3\n";
// Larger key material (a long -e program) is not worth a prepared run: it goes through the
// environment to Node, where the kernel allows 128 KiB a string.
#define MAX_MATERIAL (48 * 1024)
#define MAX_ENTRY_BYTES (64 << 20)
#define MAX_LINKS 8192
#define MAX_MAPS 1024

struct bytes {
  unsigned char *data;
  size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *data = realloc(b->data, cap);
    if (!data) abort();
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_str(struct bytes *b, const char *s) { put(b, s, strlen(s) + 1); }

// A file as the compile cache identifies it (src/compile/cache.ts fileIdentity's parts):
// device, inode, size, modification time in ns; "-" if it cannot be read.
static void file_identity(const char *path, char *out, size_t size) {
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(out, size, "-");
    return;
  }
  snprintf(out, size, "%llu:%llu:%lld:%lld", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
           (long long)st.st_size, (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
}

static void put_identity(struct bytes *b, const char *path) {
  char id[128];
  file_identity(path, id, sizeof id);
  put_str(b, path);
  put_str(b, id);
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Variables that configure a run (BPFTRACE_*, TRACELET_*), not those the launcher itself passes on
// (TRACELET_NODE_*: the variables it keeps from Node, see launcher.c).
static int configures_run(const char *entry) {
  static const char *const kPassedOn[] = {"TRACELET_START_NS=", "TRACELET_CALLER_STACK_KIB=", "TRACELET_IGNORED_SIGNALS=",
                                          "TRACELET_NODE_", "TRACELET_LAUNCH_KEY=", "TRACELET_LAUNCH_ENTRY=",
                                          "TRACELET_PREPARED="};
  if (strncmp(entry, "BPFTRACE_", 9) != 0 && strncmp(entry, "TRACELET_", 9) != 0) return 0;
  for (size_t i = 0; i < sizeof kPassedOn / sizeof kPassedOn[0]; i++) {
    if (strncmp(entry, kPassedOn[i], strlen(kPassedOn[i])) == 0) return 0;
  }
  return 1;
}

// Everything the launcher can see that a compile depends on (the files a program came from are
// checked separately, TAG_DEP). Returns -1 if too large.
static int key_material(struct bytes *m, const char *root, const char *node, int argc, char **argv) {
  extern char **environ;
  put_str(m, "tracelet prepared run 3");
  static const char *const kBuild[] = {"build/Release/tracelet", "build/Release/tracelet_native.node",
                                       "dist/bundle/tracelet.blob", "dist/bundle/tracelet.mjs", "dist/cli/main.js"};
  char path[PATH_MAX + 64];
  for (size_t i = 0; i < sizeof kBuild / sizeof kBuild[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", root, kBuild[i]);
    put_identity(m, path);
  }
  put_identity(m, node);
  struct utsname u;
  if (uname(&u) == 0) {
    put_str(m, u.release);
    put_str(m, u.version);
  }
  unsigned char notes[8192];
  int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, notes, sizeof notes) : -1;
  if (fd >= 0) close(fd);
  uint32_t notes_len = n > 0 ? (uint32_t)n : 0;
  put(m, &notes_len, sizeof notes_len);
  put(m, notes, notes_len);
  put_identity(m, "/sys/kernel/btf/vmlinux");
  char cwd[PATH_MAX];
  put_str(m, getcwd(cwd, sizeof cwd) ? cwd : "-");
  uint32_t args = (uint32_t)argc;
  put(m, &args, sizeof args);
  for (int i = 1; i < argc; i++) put_str(m, argv[i]);
  size_t count = 0;
  for (char **e = environ; *e; e++) count += configures_run(*e);
  char **vars = calloc(count + 1, sizeof *vars);
  if (!vars) return -1;
  count = 0;
  for (char **e = environ; *e; e++) {
    if (configures_run(*e)) vars[count++] = *e;
  }
  qsort(vars, count, sizeof *vars, compare_strings);
  for (size_t i = 0; i < count; i++) put_str(m, vars[i]);
  free(vars);
  return m->len <= MAX_MATERIAL ? 0 : -1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

// As src/compile/cache.ts cacheDir(): TRACELET_CACHE_DIR, else $XDG_CACHE_HOME/tracelet (if absolute), else ~/.cache/tracelet.
static int cache_dir(char *out, size_t size) {
  const char *dir = getenv("TRACELET_CACHE_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  int n;
  if (dir && *dir) n = snprintf(out, size, "%s", dir);
  else if (xdg && xdg[0] == '/') n = snprintf(out, size, "%s/tracelet", xdg);
  else if (home && *home) n = snprintf(out, size, "%s/.cache/tracelet", home);
  else return -1;
  return n > 0 && (size_t)n < size ? 0 : -1;
}

// A directory of ours that nobody else can write into (as src/compile/cache.ts requires).
static int only_ours(const char *dir) {
  struct stat st;
  return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

struct reader {
  const unsigned char *p, *end;
};

static int next_record(struct reader *r, int *tag, struct reader *payload) {
  uint32_t len;
  if (r->end - r->p < 5) return 0;
  *tag = r->p[0];
  memcpy(&len, r->p + 1, 4);
  if ((size_t)(r->end - r->p - 5) < len) return 0;
  payload->p = r->p + 5;
  payload->end = payload->p + len;
  r->p = payload->end;
  return 1;
}

static const char *get_str(struct reader *r) {
  const unsigned char *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
  if (!nul) return NULL;
  const char *s = (const char *)r->p;
  r->p = nul + 1;
  return s;
}

static int get_raw(struct reader *r, void *out, size_t n) {
  if ((size_t)(r->end - r->p) < n) return -1;
  memcpy(out, r->p, n);
  r->p += n;
  return 0;
}

static const unsigned char *get_sized(struct reader *r, uint32_t *n) {
  if (get_raw(r, n, 4) != 0 || (size_t)(r->end - r->p) < *n) return NULL;
  const unsigned char *p = r->p;
  r->p += *n;
  return p;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int silent_libbpf(enum libbpf_print_level level, const char *format, va_list args) {
  (void)level, (void)format, (void)args;
  return 0;
}

struct prepared {
  struct bpf_object *obj;
  int link_fds[MAX_LINKS], perf_fds[MAX_LINKS];
  int links;
  int map_fds[MAX_MAPS];  // the maps handed over
  int maps;
  int stopped_fd;
  uint64_t stopped_by_exit;
  long long loaded_ns, attached_ns;
};

// Detaches: each link, then (slow for a tracepoint's, ~70 ms each) its perf event.
static void release_links(struct prepared *run) {
  for (int i = 0; i < run->links; i++) {
    close(run->link_fds[i]);
    if (run->perf_fds[i] >= 0) close(run->perf_fds[i]);
  }
  run->links = 0;
}

static void release(struct prepared *run) {
  release_links(run);
  bpf_object__close(run->obj);
  run->obj = NULL;
}

static int program_fd(struct prepared *run, const char *name) {
  struct bpf_program *prog = name ? bpf_object__find_program_by_name(run->obj, name) : NULL;
  return prog ? bpf_program__fd(prog) : -1;
}

static int map_fd(struct prepared *run, const char *name) {
  struct bpf_map *map = name ? bpf_object__find_map_by_name(run->obj, name) : NULL;
  return map ? bpf_map__fd(map) : -1;
}

static int add_link(struct prepared *run, int link_fd, int perf_fd) {
  if (run->links == MAX_LINKS) {
    close(link_fd);
    if (perf_fd >= 0) close(perf_fd);
    return -1;
  }
  run->link_fds[run->links] = link_fd;
  run->perf_fds[run->links] = perf_fd;
  run->links++;
  return 0;
}

static int read_text(const char *path, char *out, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, out, size - 1);
  close(fd);
  if (n <= 0) return -1;
  out[n] = '\0';
  return 0;
}

static int attach_tracepoint(struct prepared *run, struct reader *r) {
  const char *prog = get_str(r), *category = get_str(r), *event = get_str(r);
  int fd = program_fd(run, prog);
  if (fd < 0 || !category || !event) return -1;
  static const char *const kRoots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
  char path[PATH_MAX], text[32];
  int found = -1;
  for (size_t i = 0; i < 2 && found != 0; i++) {
    snprintf(path, sizeof path, "%s/events/%s/%s/id", kRoots[i], category, event);
    found = read_text(path, text, sizeof text);
  }
  if (found != 0) return -1;
  struct perf_event_attr attr;
  tl_tracepoint_attr(&attr, strtoull(text, NULL, 10));
  int link_fd, perf_fd;
  const char *step;
  if (tl_perf_link(fd, &attr, -1, 0, &link_fd, &perf_fd, &step) != 0) return -1;
  return add_link(run, link_fd, perf_fd);
}

static int attach_raw_tracepoint(struct prepared *run, struct reader *r) {
  const char *prog = get_str(r), *event = get_str(r);
  int fd = program_fd(run, prog);
  if (fd < 0 || !event) return -1;
  int link_fd = bpf_raw_tracepoint_open(event, fd);
  return link_fd < 0 ? -1 : add_link(run, link_fd, -1);
}

// System-wide (every process), as the run attaches a uprobe without -p.
static int attach_uprobe(struct prepared *run, struct reader *r) {
  const char *prog = get_str(r), *path = get_str(r);
  uint64_t offset, ref_ctr_offset;
  uint8_t retprobe;
  int fd = program_fd(run, prog);
  if (fd < 0 || !path || get_raw(r, &offset, 8) || get_raw(r, &retprobe, 1) || get_raw(r, &ref_ctr_offset, 8)) return -1;
  struct perf_event_attr attr;
  if (tl_uprobe_attr(&attr, path, offset, retprobe, ref_ctr_offset) != 0) return -1;
  int link_fd, perf_fd;
  const char *step;
  if (tl_perf_link(fd, &attr, -1, 0, &link_fd, &perf_fd, &step) != 0) return -1;
  return add_link(run, link_fd, perf_fd);
}

static int write_u64(int fd, uint32_t slot, uint64_t value) {
  return bpf_map_update_elem(fd, &slot, &value, 0);
}

// The steps before Node starts: checks the key and the files, loads the object, fills its maps
// and raises the stopped flag. On failure everything is released and -1 returned.
static int load_prepared(struct prepared *run, const unsigned char *entry, size_t size, const struct bytes *key) {
  struct reader all = {entry + sizeof kMagic, entry + size}, r, p;
  int tag;
  run->stopped_fd = -1;
  if (size < sizeof kMagic || memcmp(entry, kMagic, sizeof kMagic) != 0) return -1;
  // The key first, then the files the program came from: a miss costs no more than this.
  r = all;
  if (!next_record(&r, &tag, &p) || tag != TAG_KEY || (size_t)(p.end - p.p) != key->len ||
      memcmp(p.p, key->data, key->len) != 0)
    return -1;
  const unsigned char *object = NULL;
  size_t object_size = 0;
  while (next_record(&r, &tag, &p)) {
    if (tag == TAG_DEP) {
      const char *path = get_str(&p), *id = get_str(&p);
      char now[128];
      if (!path || !id) return -1;
      file_identity(path, now, sizeof now);
      if (strcmp(now, id) != 0) return -1;
    } else if (tag == TAG_OBJECT) {
      object = p.p;
      object_size = (size_t)(p.end - p.p);
    }
  }
  if (!object) return -1;

  libbpf_set_print(silent_libbpf);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "tracelet");
  run->obj = bpf_object__open_mem(object, object_size, &opts);
  if (!run->obj) return -1;
  int typed = 0, programs = 0;
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, run->obj) programs++;
  for (r = all; next_record(&r, &tag, &p);) {
    if (tag == TAG_PROGRAM) {
      const char *name = get_str(&p), *kind = get_str(&p);
      enum bpf_prog_type type;
      prog = name ? bpf_object__find_program_by_name(run->obj, name) : NULL;
      if (!prog || !kind || !tl_program_type(kind, &type) || bpf_program__set_type(prog, type) != 0) goto fail;
      typed++;
    } else if (tag == TAG_MAX_ENTRIES) {
      const char *name = get_str(&p);
      uint32_t entries;
      struct bpf_map *map = name ? bpf_object__find_map_by_name(run->obj, name) : NULL;
      if (!map || get_raw(&p, &entries, 4) || bpf_map__set_max_entries(map, entries) != 0) goto fail;
    }
  }
  if (typed != programs || bpf_object__load(run->obj) != 0) goto fail;
  run->loaded_ns = now_ns();

  for (r = all; next_record(&r, &tag, &p);) {
    // As in Session.load(), a map the object does not have is passed over.
    if (tag == TAG_FILL) {
      int fd = map_fd(run, get_str(&p));
      uint32_t key_len, value_len;
      const unsigned char *k = get_sized(&p, &key_len), *v = k ? get_sized(&p, &value_len) : NULL;
      if (!v || (fd >= 0 && bpf_map_update_elem(fd, k, v, 0) != 0)) goto fail;
    } else if (tag == TAG_RUN_VALUES) {
      // As Session.writeRunValues: when the run began (CLOCK_MONOTONIC, as Node's hrtime), no
      // -c child, and this process's pid namespace.
      int fd = map_fd(run, get_str(&p));
      uint32_t slots[4];
      struct stat ns;
      if (fd < 0) continue;
      if (get_raw(&p, slots, sizeof slots) || stat("/proc/self/ns/pid", &ns) != 0 ||
          write_u64(fd, slots[0], (uint64_t)now_ns()) || write_u64(fd, slots[1], 0) ||
          write_u64(fd, slots[2], (uint64_t)ns.st_dev) || write_u64(fd, slots[3], (uint64_t)ns.st_ino))
        goto fail;
    } else if (tag == TAG_STOPPED) {
      // Raised until BEGIN has run, so no probe's output comes before BEGIN's (Session.load).
      run->stopped_fd = map_fd(run, get_str(&p));
      if (get_raw(&p, &run->stopped_by_exit, 8) || (run->stopped_fd >= 0 && write_u64(run->stopped_fd, 0, 1))) goto fail;
    }
  }
  return 0;
fail:
  release(run);
  return -1;
}

// The steps once Node has started: BEGIN, then every attachment. Prints nothing; on failure
// everything is released and -1 returned.
static int start_prepared(struct prepared *run, const unsigned char *entry, size_t size) {
  struct reader all = {entry + sizeof kMagic, entry + size}, r, p;
  int tag, stopped_fd = run->stopped_fd;
  for (r = all; next_record(&r, &tag, &p);) {
    unsigned int retval;
    if (tag == TAG_BEGIN && tl_run_program(program_fd(run, get_str(&p)), &retval) != 0) goto fail;
  }
  if (stopped_fd >= 0) {
    // An exit() in BEGIN has raised the flag itself: then no other probe runs.
    uint32_t zero = 0;
    uint64_t value = 0;
    if (bpf_map_lookup_elem(stopped_fd, &zero, &value) != 0) goto fail;
    if (value != run->stopped_by_exit && write_u64(stopped_fd, 0, 0)) goto fail;
  }
  for (r = all; next_record(&r, &tag, &p);) {
    int err = 0;
    if (tag == TAG_TRACEPOINT) err = attach_tracepoint(run, &p);
    else if (tag == TAG_RAW_TRACEPOINT) err = attach_raw_tracepoint(run, &p);
    else if (tag == TAG_UPROBE) err = attach_uprobe(run, &p);
    if (err) goto fail;
  }
  run->attached_ns = now_ns();
  return 0;
fail:
  release(run);
  return -1;
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}


// What Node prints once attached, then the notice benchmarks and tests wait for (as Node would).
static void announce(const unsigned char *entry, size_t size) {
  struct reader r = {entry + sizeof kMagic, entry + size}, p;
  int tag;
  while (next_record(&r, &tag, &p)) {
    uint32_t fd, n;
    const unsigned char *text;
    if (tag == TAG_PRINT && get_raw(&p, &fd, 4) == 0 && (text = get_sized(&p, &n))) write_all((int)fd, text, n);
  }
  if (getenv("__BPFTRACE_NOTIFY_PROBES_ATTACHED")) {
    static const char kNotice[] = "__BPFTRACE_NOTIFY_PROBES_ATTACHED\n";
    write_all(2, (const unsigned char *)kNotice, sizeof kNotice - 1);
  }
}

// TRACELET_PREPARED: the entry and socket fds, when the object was loaded, and the fds of its
// programs and of the maps Node reads (TAG_MAP), by name.
static void describe_handover(struct prepared *run, const unsigned char *entry, size_t size, struct bytes *env,
                              int entry_fd, int socket_fd) {
  char item[512];
  snprintf(item, sizeof item, "TRACELET_PREPARED=entry=%d socket=%d loaded=%lld", entry_fd, socket_fd, run->loaded_ns);
  put(env, item, strlen(item));
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, run->obj) {
    snprintf(item, sizeof item, " prog:%s=%d", bpf_program__name(prog), bpf_program__fd(prog));
    put(env, item, strlen(item));
  }
  // By the names Node asks for: libbpf finds a global by its section's name (.bss.tl_stopped),
  // while the map's own name is cut to the kernel's 15 bytes.
  struct reader r = {entry + sizeof kMagic, entry + size}, p;
  int tag;
  while (next_record(&r, &tag, &p)) {
    const char *name = tag == TAG_MAP ? get_str(&p) : NULL;
    int fd = map_fd(run, name);
    if (fd < 0 || run->maps == MAX_MAPS) continue;
    run->map_fds[run->maps++] = fd;
    snprintf(item, sizeof item, " map:%s=%d", name, fd);
    put(env, item, strlen(item));
  }
  put(env, "", 1);
}

static void keep_across_exec(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFD, 0);
}

// Detaches in a reaper process, so that neither this process's work nor its exit waits for the
// kernel to tear down perf events.
static void release_links_in_background(struct prepared *run) {
  static int fds[2 * MAX_LINKS];
  int count = 0;
  for (int i = 0; i < run->links; i++) {
    fds[count++] = run->link_fds[i];
    if (run->perf_fds[i] >= 0) fds[count++] = run->perf_fds[i];
  }
  run->links = 0;
  if (count > 0) tl_release_in_background(fds, count);
}

__attribute__((noreturn)) static void die_as(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  raise(sig);
  _exit(128 + sig);
}

// The launcher's life once Node runs: it holds the links; it forwards signals to Node once Node
// says its handlers are in place ('R' on the socket; those that come earlier are held); it
// detaches if Node finds the prepared run is not its own ('X'); it ends as Node ends.
__attribute__((noreturn)) static void serve(struct prepared *run, pid_t child, int sock, const sigset_t *forwarded) {
  int sfd = signalfd(-1, forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
  int ready = 0;
  uint64_t held = 0;
  for (;;) {
    struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
    if (poll(fds, sock >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) break;
    if (sock >= 0 && fds[1].revents) {
      char message;
      ssize_t n = read(sock, &message, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n == 1 && message == 'X') release_links_in_background(run);
      // 'R', or the end of the socket (Node has gone): forward from now on.
      if (n <= 0 || message == 'R') {
        if (n <= 0) {
          close(sock);
          sock = -1;
        }
        ready = 1;
        for (int sig = 1; sig < 64; sig++) {
          if (held & (1ULL << sig)) kill(child, sig);
        }
        held = 0;
      }
    }
    struct signalfd_siginfo info;
    while (read(sfd, &info, sizeof info) == (ssize_t)sizeof info) {
      int sig = (int)info.ssi_signo;
      if (sig == SIGCHLD) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
          release_links_in_background(run);
          die_as(status);
        }
      } else if (sig == SIGTSTP) {
        // Ctrl-Z: Node is in its own process group, so it is stopped here, then the launcher.
        kill(child, SIGSTOP);
        raise(SIGSTOP);
      } else if (sig == SIGCONT) {
        kill(child, SIGCONT);
      } else if (ready) {
        kill(child, sig);
      } else if (sig < 64) {
        held |= 1ULL << sig;
      }
    }
  }
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  release_links_in_background(run);
  die_as(status);
}

// Node's path under the name `tracelet`, a symlink in the launch directory: exec names the
// process after the path it ran, so Node's start shows as tracelet's own (comm), as the rest of
// its run does (process.title): scripts filter the tracer out with /comm != "tracelet"/, and its
// probes are attached while Node starts. One link per node binary (node-HASH/tracelet), so runs
// with another node never retarget a link that a run is about to exec. Node itself if the link
// cannot be made.
static const char *node_as_tracelet(const char *launch_dir, const char *node, char *out, size_t size) {
  char dir[PATH_MAX + 64], target[PATH_MAX], temp[PATH_MAX + 96];
  if (node[0] != '/') return node;
  snprintf(dir, sizeof dir, "%s/node-%016llx", launch_dir, (unsigned long long)fnv1a((const unsigned char *)node, strlen(node)));
  if (snprintf(out, size, "%s/tracelet", dir) >= (int)size) return node;
  ssize_t n = readlink(out, target, sizeof target - 1);
  if (n > 0 && (size_t)n < sizeof target) {
    target[n] = '\0';
    if (strcmp(target, node) == 0) return out;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return node;
  snprintf(temp, sizeof temp, "%s/.tmp-link-%d", dir, (int)getpid());
  unlink(temp);
  if (symlink(node, temp) == 0 && rename(temp, out) == 0) return out;
  unlink(temp);
  return node;
}

void prepared_run(const char *root, const char *node, char **node_args, int argc, char **argv) {
  struct bytes key = {0};
  char dir[PATH_MAX], path[PATH_MAX + 64];
  if (getenv("TRACELET_PREPARED") || cache_dir(dir, sizeof dir) != 0 ||
      key_material(&key, root, node, argc, argv) != 0) {
    free(key.data);
    return;
  }
  snprintf(path, sizeof path, "%s/launch/%016llx.run", dir, (unsigned long long)fnv1a(key.data, key.len));
  // Node writes the prepared run of this key if the run turns out to be one (src/runtime/prepared.ts).
  struct bytes hex = {0};
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < key.len; i++) {
    char pair[2] = {kDigits[key.data[i] >> 4], kDigits[key.data[i] & 15]};
    put(&hex, pair, 2);
  }
  put(&hex, "", 1);
  setenv("TRACELET_LAUNCH_KEY", (char *)hex.data, 1);
  setenv("TRACELET_LAUNCH_ENTRY", path, 1);
  free(hex.data);

  // What is loaded from here runs as root: only a file of ours, in directories only we can write.
  char launch_dir[PATH_MAX + 16];
  snprintf(launch_dir, sizeof launch_dir, "%s/launch", dir);
  int entry_fd = only_ours(dir) && only_ours(launch_dir) ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
  struct stat st;
  if (entry_fd < 0 || fstat(entry_fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      st.st_size <= 0 || st.st_size > MAX_ENTRY_BYTES) {
    if (entry_fd >= 0) close(entry_fd);
    free(key.data);
    return;
  }
  size_t size = (size_t)st.st_size;
  unsigned char *entry = malloc(size);
  struct prepared *run = calloc(1, sizeof *run);
  int sock[2] = {-1, -1}, exec_sync[2] = {-1, -1};
  int loaded = entry && run && pread(entry_fd, entry, size, 0) == (ssize_t)size &&
               load_prepared(run, entry, size, &key) == 0;
  free(key.data);
  if (!loaded || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0 || pipe2(exec_sync, O_CLOEXEC) != 0) {
    if (loaded) release(run);
    if (sock[0] >= 0) close(sock[0]), close(sock[1]);
    close(entry_fd);
    free(entry);
    free(run);
    return;
  }
  struct bytes env = {0};
  describe_handover(run, entry, size, &env, entry_fd, sock[1]);
  char link[PATH_MAX + 32];
  const char *named = node_as_tracelet(launch_dir, node, link, sizeof link);
  sigset_t forwarded, before;
  sigemptyset(&forwarded);
  static const int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGTSTP, SIGCONT};
  for (size_t i = 0; i < sizeof kForwarded / sizeof kForwarded[0]; i++) {
    // One the caller left ignored stays ignored here too: blocked, it would be queued and sent on.
    if (!tl_kept_ignored(kForwarded[i])) sigaddset(&forwarded, kForwarded[i]);
  }
  // Blocked from before the fork, so no signal meant for the run is lost or acted on by default.
  sigprocmask(SIG_BLOCK, &forwarded, &before);
  // Node starts before anything is attached, so that no probe sees its exec (execsnoop would).
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    // Should the launcher die before this, Node finds the socket closed and ends (src/runtime/prepared.ts).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, run->obj) keep_across_exec(bpf_program__fd(prog));
    // Only the maps handed over: the programs hold the others.
    for (int i = 0; i < run->maps; i++) keep_across_exec(run->map_fds[i]);
    keep_across_exec(entry_fd);
    keep_across_exec(sock[1]);
    putenv((char *)env.data);
    sigprocmask(SIG_SETMASK, &before, NULL);
    execv(named, node_args);
    execv(node, node_args);
    fprintf(stderr, "tracelet: cannot run %s: %s\n", node, strerror(errno));
    _exit(70);
  }
  // Output nobody reads (`| head`) is Node's to notice (it ends the run cleanly), not a reason to die.
  signal(SIGPIPE, SIG_IGN);
  close(sock[1]);
  close(exec_sync[1]);
  free(env.data);
  close(entry_fd);
  if (child < 0) {
    fprintf(stderr, "tracelet: cannot start node: %s\n", strerror(errno));
    _exit(70);
  }
  // The end of the pipe: Node has been exec'd (or could not be).
  char byte;
  while (read(exec_sync[0], &byte, 1) < 0 && errno == EINTR) {
  }
  close(exec_sync[0]);
  // 'A' and when, once attached and announced; 'F' if not (then Node loads the program itself).
  unsigned char status[9] = {'F'};
  if (start_prepared(run, entry, size) == 0) {
    announce(entry, size);
    status[0] = 'A';
    memcpy(status + 1, &run->attached_ns, 8);
    // The links hold the programs, Node the maps it reads: the object's fds here can go.
    bpf_object__close(run->obj);
    run->obj = NULL;
  }
  free(entry);
  write_all(sock[0], status, status[0] == 'A' ? sizeof status : 1);
  serve(run, child, sock[0], &forwarded);
}
