// Probe lifecycle at scale: perf-event tracepoint attachments whose two halves (the BPF link and
// the perf event) can be released separately, and a background release of perf events.
//
// Why: closing a tracepoint perf event costs ~72 ms on this kernel (perf_trace_destroy waits for
// a tracepoint grace period under the global event_mutex, so it is serial even from many
// threads), while closing the BPF link that attaches a program to it is quick. So a session
// detaches its programs at once by closing the link fds, prints its maps, and leaves the slow
// perf-event teardown to a small reaper process (releaseInBackground) that inherited the fds.
#include "common.h"
#include "kernel-ops.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

namespace tracelet {

namespace {

// Opens the perf event `attr` (every process, on `cpu`) and links `progFd` to it:
// { linkFd, perfFd }, both the caller's; else throws, saying `what` and which step failed.
Napi::Value LinkToNewPerfEvent(Napi::Env env, int progFd, perf_event_attr* attr, int cpu, const std::string& what) {
  int linkFd = -1, perfFd = -1;
  const char* step = "";
  int err = tl_perf_link(progFd, attr, -1, cpu, &linkFd, &perfFd, &step);
  if (err) ThrowErrno(env, what + ": " + step, -err);
  Napi::Object result = Napi::Object::New(env);
  result.Set("linkFd", Napi::Number::New(env, linkFd));
  result.Set("perfFd", Napi::Number::New(env, perfFd));
  return result;
}

// attachTracepointPerf(progFd, tracepointId) -> { linkFd, perfFd }
// perf_event_open(PERF_TYPE_TRACEPOINT, id) on CPU 0 for every process (as libbpf and bpftrace
// do: a tracepoint program runs on every CPU whatever CPU its event was opened on), then a
// BPF_PERF_EVENT link, then enable. The caller owns both fds.
Napi::Value AttachTracepointPerf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ArgI32(info, 0, "progFd");
  uint32_t id = ArgU32(info, 1, "tracepointId");
  perf_event_attr attr;
  tl_tracepoint_attr(&attr, id);
  return LinkToNewPerfEvent(env, progFd, &attr, 0, "cannot attach to tracepoint id " + std::to_string(id));
}

// attachPerfEventLink(progFd, type, config, period, frequency, cpu) -> { linkFd, perfFd }
// A perf event (profile, interval, software, hardware) on one CPU, all processes, with the
// program linked to it: as attachTracepointPerf, both fds are the caller's.
Napi::Value AttachPerfEventLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ArgI32(info, 0, "progFd");
  uint32_t type = ArgU32(info, 1, "type");
  int64_t config = ArgI64(info, 2, "config");
  int64_t period = ArgI64(info, 3, "period");
  bool frequency = info.Length() > 4 && info[4].ToBoolean().Value();
  int32_t cpu = ArgI32(info, 5, "cpu");
  perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.type = type;
  attr.config = static_cast<uint64_t>(config);
  if (frequency) {
    attr.freq = 1;
    attr.sample_freq = static_cast<uint64_t>(period);
  } else {
    attr.sample_period = static_cast<uint64_t>(period);
  }
  return LinkToNewPerfEvent(env, progFd, &attr, cpu, "cannot attach to perf event (type " + std::to_string(type) +
                                                         ", config " + std::to_string(config) + ", cpu " + std::to_string(cpu) + ")");
}

std::vector<int> ArgFds(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsArray()) throw Napi::TypeError::New(env, "argument 'fds' must be an array");
  Napi::Array array = info[i].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "argument 'fds' must hold numbers");
    int fd = v.As<Napi::Number>().Int32Value();
    if (fd >= 0) fds.push_back(fd);
  }
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  return fds;
}

// spawnHeld(path, argv[, stackKib]) -> { pid, gate, report }
// The -c child, made as bpftrace makes it: forked from this process, it waits for one byte on a
// pipe (written once every probe is attached), closes the pipe and execs `path`. So after the
// release the traced command's pid shows exactly one read and one close before its execve.
// Until exec it only makes system calls (a fork of a multi-threaded process): signal handlers and
// the mask go back to the defaults a new program expects (Node ignores SIGPIPE, for one).
// If this process goes away first, the read gets EOF and the child exits (127).
// If execve fails, the child writes its errno (an int) to `report`; a successful exec closes it
// (O_CLOEXEC), so reading it after the child ended tells the two apart.
// stackKib: the stack limit the command gets back (bin/tracelet raises tracelet's own for deep
// programs), in KiB, or -1 for unlimited; absent: the limit is left as it is.
Napi::Value SpawnHeld(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "argv must be an array of strings");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < list.Length(); ++i) args.push_back(list.Get(i).As<Napi::String>().Utf8Value());
  bool restoreStack = info.Length() > 2 && info[2].IsNumber();
  double stackKib = restoreStack ? info[2].As<Napi::Number>().DoubleValue() : 0;
  std::vector<int> ignored;
  if (info.Length() > 3 && info[3].IsArray()) {
    Napi::Array signals = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < signals.Length(); ++i) ignored.push_back(signals.Get(i).As<Napi::Number>().Int32Value());
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) ThrowErrno(env, "cannot create the pipe that holds the -c command", errno);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    close(gate[0]);
    close(gate[1]);
    ThrowErrno(env, "cannot create the pipe that reports the -c command's exec", err);
  }
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {gate[0], gate[1], report[0], report[1]}) close(fd);
    ThrowErrno(env, "cannot fork the -c command", err);
  }
  if (pid == 0) {
    struct sigaction defaults;
    memset(&defaults, 0, sizeof(defaults));
    defaults.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &defaults, nullptr);
    // Those the caller left ignored (nohup's SIGHUP) stay so, as they would through bpftrace.
    for (int sig : ignored) signal(sig, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Node marks its stdio close-on-exec (its own spawn dup2()s them into place): the command
    // gets ours, as with bpftrace. All this happens before the probes are attached.
    for (int fd = 0; fd <= 2; ++fd) fcntl(fd, F_SETFD, 0);
    if (restoreStack) {
      struct rlimit stack;
      if (getrlimit(RLIMIT_STACK, &stack) == 0) {
        stack.rlim_cur = stackKib < 0 ? RLIM_INFINITY : static_cast<rlim_t>(stackKib) * 1024;
        setrlimit(RLIMIT_STACK, &stack);
      }
    }
    close(gate[1]);
    close(report[0]);
    char c;
    ssize_t n;
    do n = read(gate[0], &c, 1); while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);
    close(gate[0]);
    execve(path.c_str(), argv.data(), ::environ);
    int err = errno;
    ssize_t ignored = write(report[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  close(gate[0]);
  close(report[1]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("gate", Napi::Number::New(env, gate[1]));
  out.Set("report", Napi::Number::New(env, report[0]));
  return out;
}

// childStatus(pid) -> undefined while it runs, else its exit code (128 + signal if killed).
// Reaps it (waitpid WNOHANG): the -c child is this process's own, not one Node knows about.
Napi::Value ChildStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = static_cast<pid_t>(info[0].As<Napi::Number>().Int32Value());
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG); while (r < 0 && errno == EINTR);
  if (r == 0) return env.Undefined();
  if (r < 0) return Napi::Number::New(env, 127);  // already reaped, or not ours
  return Napi::Number::New(env, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// releaseInBackground(fds) -> reaper pid (0 when there was nothing to release, or no reaper):
// see tl_release_in_background.
Napi::Value ReleaseInBackground(const Napi::CallbackInfo& info) {
  std::vector<int> fds = ArgFds(info, 0);
  if (fds.empty()) return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), tl_release_in_background(fds.data(), static_cast<int>(fds.size())));
}

// attachUprobeMulti(progFd, path, offsets, refCtrOffsets, retprobe, pid, cookies) -> link fd
// One BPF_TRACE_UPROBE_MULTI link (kernel 6.6+) for many uprobes in one binary: one attach and
// one detach (one grace period) instead of one perf event each (~8 ms to attach and ~110 ms to
// detach per uprobe here). libbpf 1.1 has no wrapper, so the bpf() attr is built here. The
// program must be loaded with type 'uprobe_multi' (expected attach type 48). `offsets` are file
// offsets; `refCtrOffsets` (semaphores, USDT) and `cookies` (bpf_get_attach_cookie() of each
// uprobe) may be empty; pid 0 or -1 means every process.
Napi::Value AttachUprobeMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ArgI32(info, 0, "progFd");
  std::string path = ArgString(info, 1, "path");
  auto u64s = [&](size_t i, const char* name) {
    std::vector<uint64_t> out;
    if (i >= info.Length() || info[i].IsUndefined()) return out;
    if (!info[i].IsArray()) throw Napi::TypeError::New(env, std::string("argument '") + name + "' must be an array");
    Napi::Array a = info[i].As<Napi::Array>();
    for (uint32_t k = 0; k < a.Length(); ++k) {
      Napi::Value v = a.Get(k);
      bool lossless = true;
      if (v.IsBigInt()) out.push_back(v.As<Napi::BigInt>().Uint64Value(&lossless));
      else if (v.IsNumber()) out.push_back(static_cast<uint64_t>(v.As<Napi::Number>().Int64Value()));
      else throw Napi::TypeError::New(env, std::string("argument '") + name + "' must hold numbers or bigints");
    }
    return out;
  };
  std::vector<uint64_t> offsets = u64s(2, "offsets");
  std::vector<uint64_t> refCtr = u64s(3, "refCtrOffsets");
  std::vector<uint64_t> cookies = u64s(6, "cookies");
  bool retprobe = info.Length() > 4 && info[4].ToBoolean().Value();
  int32_t pid = info.Length() > 5 && !info[5].IsUndefined() ? ArgI32(info, 5, "pid") : -1;
  if (offsets.empty()) throw Napi::RangeError::New(env, "attachUprobeMulti needs at least one offset");
  if (!refCtr.empty() && refCtr.size() != offsets.size())
    throw Napi::RangeError::New(env, "refCtrOffsets must be empty or as long as offsets");
  if (!cookies.empty() && cookies.size() != offsets.size())
    throw Napi::RangeError::New(env, "cookies must be empty or as long as offsets");

  // union bpf_attr, link_create with uprobe_multi (include/uapi/linux/bpf.h, Linux 6.6+).
  struct {
    uint32_t prog_fd, target_fd, attach_type, flags;
    uint64_t path, offsets, ref_ctr_offsets, cookies;
    uint32_t cnt, flags2, pid;
    uint8_t pad[60];
  } attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_fd = static_cast<uint32_t>(progFd);
  attr.attach_type = 48;  // BPF_TRACE_UPROBE_MULTI
  attr.path = reinterpret_cast<uint64_t>(path.c_str());
  attr.offsets = reinterpret_cast<uint64_t>(offsets.data());
  attr.ref_ctr_offsets = refCtr.empty() ? 0 : reinterpret_cast<uint64_t>(refCtr.data());
  attr.cookies = cookies.empty() ? 0 : reinterpret_cast<uint64_t>(cookies.data());
  attr.cnt = static_cast<uint32_t>(offsets.size());
  attr.flags2 = retprobe ? 1 : 0;  // BPF_F_UPROBE_MULTI_RETURN
  attr.pid = pid > 0 ? static_cast<uint32_t>(pid) : 0;
  int fd = static_cast<int>(syscall(__NR_bpf, 28 /* BPF_LINK_CREATE */, &attr, sizeof(attr)));
  if (fd < 0) ThrowErrno(env, "cannot attach a multi-uprobe link to " + path, errno);
  return Napi::Number::New(env, fd);
}

}  // namespace

void InitLifecycle(Napi::Env env, Napi::Object exports) {
  exports.Set("attachTracepointPerf", Napi::Function::New(env, AttachTracepointPerf, "attachTracepointPerf"));
  exports.Set("attachPerfEventLink", Napi::Function::New(env, AttachPerfEventLink, "attachPerfEventLink"));
  exports.Set("releaseInBackground", Napi::Function::New(env, ReleaseInBackground, "releaseInBackground"));
  exports.Set("spawnHeld", Napi::Function::New(env, SpawnHeld, "spawnHeld"));
  exports.Set("childStatus", Napi::Function::New(env, ChildStatus, "childStatus"));
  exports.Set("attachUprobeMulti", Napi::Function::New(env, AttachUprobeMulti, "attachUprobeMulti"));
}

}  // namespace tracelet
