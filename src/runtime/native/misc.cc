// CPU lists, C++ symbol demangling and small process helpers.
#include "common.h"
#include "kernel-ops.h"

#include <cstring>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cxxabi.h>
#include <dirent.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tracelet {

namespace {

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) ThrowErrno(info.Env(), "cannot read the number of possible CPUs", -n);
  return Napi::Number::New(info.Env(), n);
}

// The online CPUs (a kernel CPU list such as "0-3,6,8-9").
Napi::Value OnlineCpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::ifstream file("/sys/devices/system/cpu/online");
  std::string text;
  if (!file || !std::getline(file, text)) ThrowErrno(env, "cannot read /sys/devices/system/cpu/online", errno ? errno : EIO);
  std::vector<int> cpus(4096);
  int count = tl_parse_cpu_list(text.c_str(), cpus.data(), static_cast<int>(cpus.size()));
  if (count < 0) ThrowErrno(env, "cannot parse /sys/devices/system/cpu/online: " + text, EINVAL);
  Napi::Array result = Napi::Array::New(env);
  for (int i = 0; i < count; ++i) result.Set(i, Napi::Number::New(env, cpus[i]));
  return result;
}

Napi::Value Demangle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !out) {
    free(out);
    return info[0];  // not a mangled name: unchanged
  }
  Napi::String result = Napi::String::New(env, out);
  free(out);
  return result;
}

// The C library's message for an errno value, as bpftrace's strerror() prints it.
Napi::Value StrError(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), strerror(ArgI32(info, 0, "errno")));
}

// The C library's description of a signal (strsignal(3)), as bpftrace 0.26's signal_name() gives it.
Napi::Value StrSignal(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), strsignal(ArgI32(info, 0, "signal")));
}

// Marks fds close-on-exec: fds a prepared run hands over reach Node without the flag (they had
// to survive its exec), and the commands tracelet starts must not hold kernel objects.
Napi::Value CloseOnExec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "argument 'fds' must be an array");
  Napi::Array fds = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < fds.Length(); ++i) {
    int fd = fds.Get(i).ToNumber().Int32Value();
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) ThrowErrno(env, "fcntl(" + std::to_string(fd) + ")", errno);
  }
  return env.Undefined();
}

// A program of `n` instructions that the verifier accepts: `n - 2` moves, r0 = 0, exit.
std::vector<bpf_insn> Straight(size_t n) {
  std::vector<bpf_insn> insns(n);
  for (auto& i : insns) i = bpf_insn{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0};
  insns.back() = bpf_insn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0};
  return insns;
}

// Whether a socket filter of these instructions loads (the simplest program type to test with).
bool Loads(const std::vector<bpf_insn>& insns) {
  int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns.data(), insns.size(), nullptr);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// probeKernel(what, type, helper): what this kernel's BPF accepts, found by trying it (for
// --info). 'helper': helper id `helper` in programs of type `type`; 'map': map type `type`;
// 'prog': program type `type`; 'large': programs over 4096 instructions; 'loop': a bounded loop;
// 'batch': BPF_MAP_LOOKUP_BATCH on a hash map. Every object made to find out is closed again.
Napi::Value ProbeKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string what = ArgString(info, 0, "what");
  int type = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  int helper = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  bool yes = false;
  if (what == "helper") {
    yes = libbpf_probe_bpf_helper(static_cast<bpf_prog_type>(type), static_cast<bpf_func_id>(helper), nullptr) == 1;
  } else if (what == "map") {
    yes = libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(type), nullptr) == 1;
  } else if (what == "prog") {
    yes = libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(type), nullptr) == 1;
  } else if (what == "large") {
    yes = Loads(Straight(4098));
  } else if (what == "loop") {
    // r0 = 0; loop: r0 += 1; if r0 < 4 goto loop; exit
    yes = Loads({bpf_insn{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0}, bpf_insn{BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1},
                 bpf_insn{BPF_JMP | BPF_JLT | BPF_K, 0, 0, -2, 4}, bpf_insn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0}});
  } else if (what == "batch") {
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, nullptr, 4, 8, 1, nullptr);
    if (fd >= 0) {
      uint32_t out = 0, keys[1];
      uint64_t values[1];
      uint32_t count = 1;
      // An empty map answers ENOENT where batches are supported, EINVAL or ENOTSUPP where not.
      int err = bpf_map_lookup_batch(fd, nullptr, &out, keys, values, &count, nullptr);
      yes = err == 0 || errno == ENOENT;
      close(fd);
    }
  } else {
    throw Napi::TypeError::New(env, "probeKernel: unknown probe '" + what + "'");
  }
  return Napi::Boolean::New(env, yes);
}

}  // namespace

// releaseCleanPages(): unmaps, from this process only, the pages of files it maps read-only that
// are clean copies of the file (a mapping with no anonymous page: no relocation, no uprobe's
// breakpoint was written into it): the code and read-only data Node's start-up, the snapshot and
// a compile ran through. They stay in the page cache, and fault back in from it if used again.
// Also gives the C heap's free pages back (malloc_trim). Returns the resident bytes unmapped.
// The mappings come from /proc/self/maps and their pages' state from /proc/self/pagemap, read
// for those mappings only: /proc/self/smaps has the same counts, but the kernel formats them for
// every mapping of the process, ~2.3 ms of a one-liner's run.
Napi::Value ReleaseCleanPages(const Napi::CallbackInfo& info) {
  malloc_trim(0);
  struct Mapping {
    uintptr_t start, end;
  };
  std::vector<Mapping> candidates;
  {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      // `start-end perms offset dev inode [path]`
      unsigned long start = 0, end = 0;
      char perms[5] = {};
      int consumed = 0;
      if (sscanf(line.c_str(), "%lx-%lx %4s %*s %*s %*s%n", &start, &end, perms, &consumed) != 3 || consumed <= 0) continue;
      size_t path = line.find_first_not_of(' ', consumed);
      // Private, not writable, backed by a file (not [vdso], [heap], a BPF map...).
      if (perms[1] != 'w' && perms[3] == 'p' && path != std::string::npos && line[path] == '/') candidates.push_back({start, end});
    }
  }
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return Napi::Number::New(info.Env(), 0);
  const uint64_t kPresent = 1ULL << 63, kSwapped = 1ULL << 62, kFileOrShared = 1ULL << 61;
  const long page = sysconf(_SC_PAGESIZE);
  std::vector<uint64_t> entries;
  double released = 0;
  for (const Mapping& m : candidates) {
    size_t pages = (m.end - m.start) / page;
    entries.resize(pages);
    ssize_t want = static_cast<ssize_t>(pages * sizeof(uint64_t));
    if (pread(pagemap, entries.data(), want, static_cast<off_t>(m.start / page * sizeof(uint64_t))) != want) continue;
    size_t resident = 0;
    bool anonymous = false;
    for (uint64_t e : entries) {
      // A page of the mapping's own (copied on write: relocated, or a uprobe's breakpoint), in
      // memory or swapped out: unmapping it would lose what was written.
      if (((e & kPresent) && !(e & kFileOrShared)) || (e & kSwapped)) {
        anonymous = true;
        break;
      }
      if (e & kPresent) resident++;
    }
    if (anonymous || resident == 0) continue;
    if (madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0) released += static_cast<double>(resident) * page;
  }
  close(pagemap);
  return Napi::Number::New(info.Env(), released);
}

// evictOldest(dir, suffix, maxBytes, keep, staleMs): keeps the files of `dir` whose name ends in
// `suffix` to `maxBytes` in all, unlinking the least recently modified first (never `keep`), and
// unlinks the temporary files (`.tmp-*`) older than `staleMs`. Returns the files unlinked. For
// the compile cache: at its bound (~8,000 entries) a statSync per entry and a sort in JavaScript
// took ~180 ms of a run; this takes a readdir, an fstatat each and the unlinks.
Napi::Value EvictOldest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "dir");
  std::string suffix = ArgString(info, 1, "suffix");
  double maxBytes = static_cast<double>(ArgI64(info, 2, "maxBytes"));
  std::string keep = ArgString(info, 3, "keep");
  double staleMs = static_cast<double>(ArgI64(info, 4, "staleMs"));
  DIR* dir = opendir(path.c_str());
  if (!dir) return Napi::Number::New(env, 0);
  struct Entry {
    std::string name;
    double size, modified;
  };
  std::vector<Entry> entries;
  double total = 0;
  int unlinked = 0;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const double nowMs = static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
  auto endsWith = [](const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
  };
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
    std::string name = entry->d_name;
    bool temporary = name.rfind(".tmp-", 0) == 0;
    if (!temporary && !endsWith(name, suffix)) continue;
    struct stat st;
    if (fstatat(dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    double modified = static_cast<double>(st.st_mtim.tv_sec) * 1e3 + static_cast<double>(st.st_mtim.tv_nsec) / 1e6;
    if (temporary) {
      if (nowMs - modified > staleMs && unlinkat(dirfd(dir), name.c_str(), 0) == 0) unlinked++;
      continue;
    }
    total += static_cast<double>(st.st_size);
    entries.push_back({std::move(name), static_cast<double>(st.st_size), modified});
  }
  if (total > maxBytes) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.modified < b.modified; });
    for (const Entry& e : entries) {
      if (total <= maxBytes) break;
      if (e.name == keep) continue;
      if (unlinkat(dirfd(dir), e.name.c_str(), 0) == 0) {
        total -= e.size;
        unlinked++;
      }
    }
  }
  closedir(dir);
  return Napi::Number::New(env, unlinked);
}

// bootTimeNs(): CLOCK_REALTIME - CLOCK_BOOTTIME in ns, the wall-clock time of boot, as bpftrace
// takes it for strftime(): BOOTTIME read between two REALTIME reads, the closest pair of 5.
Napi::Value BootTimeNs(const Napi::CallbackInfo& info) {
  long long best = 0, bestDelta = -1;
  for (int i = 0; i < 5; ++i) {
    struct timespec before, boot, after;
    if (clock_gettime(CLOCK_REALTIME, &before) || clock_gettime(CLOCK_BOOTTIME, &boot) || clock_gettime(CLOCK_REALTIME, &after)) continue;
    long long b = before.tv_sec * 1000000000LL + before.tv_nsec, a = after.tv_sec * 1000000000LL + after.tv_nsec;
    long long delta = a - b;
    if (delta < 0 || (bestDelta >= 0 && delta >= bestDelta)) continue;
    bestDelta = delta;
    best = b + delta / 2 - (boot.tv_sec * 1000000000LL + boot.tv_nsec);
  }
  return Napi::BigInt::New(info.Env(), static_cast<int64_t>(best));
}

void InitMisc(Napi::Env env, Napi::Object exports) {
  exports.Set("bootTimeNs", Napi::Function::New(env, BootTimeNs, "bootTimeNs"));
  exports.Set("releaseCleanPages", Napi::Function::New(env, ReleaseCleanPages, "releaseCleanPages"));
  exports.Set("evictOldest", Napi::Function::New(env, EvictOldest, "evictOldest"));
  exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus, "possibleCpus"));
  exports.Set("onlineCpus", Napi::Function::New(env, OnlineCpus, "onlineCpus"));
  exports.Set("demangle", Napi::Function::New(env, Demangle, "demangle"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
  exports.Set("strsignal", Napi::Function::New(env, StrSignal, "strsignal"));
  exports.Set("probeKernel", Napi::Function::New(env, ProbeKernel, "probeKernel"));
  exports.Set("closeOnExec", Napi::Function::New(env, CloseOnExec, "closeOnExec"));
}

}  // namespace tracelet
