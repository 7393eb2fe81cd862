// The mappings of the processes that record a ustack, read while they live.
//
// A ustack's frames are named when the map is printed, often after the process has exited; so a
// probe announces each process's first ustack (its pid, on a ring of its own, with a wake-up:
// codegen/builtins.ts) and this thread reads /proc/PID/maps at once, keeping only the
// executable file-backed lines, which are all a frame is named from. JavaScript takes what was
// read when it names frames (take()). Done here and not on Node's loop, an announcement costs a
// wake-up of this thread and one read (~30 µs); through the loop it cost ~300 µs of the tracer's
// CPU (a shell loop forking `ls` announced ~45 processes a second).
#include "common.h"
#include "fd-wait.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tracelet {

namespace {

// The lines of /proc/PID/maps that map a file executable ("r-xp ... /usr/bin/ls"); empty if the
// process has gone.
std::string ExecutableMappings(uint32_t pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%u/maps", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string();
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  std::string kept;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    // "start-end perms offset dev inode   path": perms follow the first space.
    size_t space = text.find(' ', at);
    if (space != std::string::npos && space + 4 < end && text[space + 3] == 'x' &&
        text.find(" /", space, 2) < end) {
      kept.append(text, at, end - at).push_back('\n');
    }
    at = end + 1;
  }
  return kept;
}

class ProcessMapsWatcher : public Napi::ObjectWrap<ProcessMapsWatcher> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "ProcessMapsWatcher",
                       {InstanceMethod<&ProcessMapsWatcher::Take>("take"),
                        InstanceMethod<&ProcessMapsWatcher::Close>("close")});
  }

  explicit ProcessMapsWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessMapsWatcher>(info) {}
  ~ProcessMapsWatcher() override { CloseNative(); }

  void Open(Napi::Env env, int mapFd) {
    ring_ = ring_buffer__new(mapFd, &ProcessMapsWatcher::OnRecord, this, nullptr);
    if (!ring_) ThrowErrno(env, "cannot read ring buffer map fd " + std::to_string(mapFd), errno);
    if (int err = wait_.Open(mapFd, EPOLLIN)) {
      CloseNative();
      ThrowErrno(env, "cannot watch ring buffer map fd " + std::to_string(mapFd), err);
    }
    thread_ = std::thread([this] { Watch(); });
  }

 private:
  void Watch() {
    BlockSignalsInThisThread();
    while (!wait_.stopped()) {
      int woken = wait_.Wait(-1);
      if (wait_.stopped()) break;
      if (woken > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        ring_buffer__consume(ring_);
      }
    }
  }

  // Called under mutex_, by whichever of the thread and take() consumes the ring.
  // A record is the process image: the pid, and above it the process's exec generation.
  static int OnRecord(void* ctx, void* data, size_t size) {
    if (size < sizeof(uint64_t)) return 0;
    uint64_t image;
    memcpy(&image, data, sizeof image);
    auto* self = static_cast<ProcessMapsWatcher*>(ctx);
    self->read_.push_back({image, ExecutableMappings(static_cast<uint32_t>(image))});
    return 0;
  }

  // [{ pid, generation, maps }] read since the last take(), oldest first (maps empty: the process had gone).
  // Every announcement in the ring is read first, here if the thread has not got to it yet (or
  // once it has finished the one it is reading): a process announced before the event JavaScript
  // is naming frames for is always among them, however quickly it exits.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<std::pair<uint64_t, std::string>> taken;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (ring_) ring_buffer__consume(ring_);
      taken.swap(read_);
    }
    Napi::Array out = Napi::Array::New(env, taken.size());
    for (size_t i = 0; i < taken.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("pid", Napi::Number::New(env, static_cast<uint32_t>(taken[i].first)));
      o.Set("generation", Napi::Number::New(env, static_cast<uint32_t>(taken[i].first >> 32)));
      o.Set("maps", Napi::String::New(env, taken[i].second));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNative();
    return info.Env().Undefined();
  }

  void CloseNative() {
    if (thread_.joinable()) {
      wait_.Stop();
      thread_.join();
    }
    if (ring_) ring_buffer__free(ring_);
    ring_ = nullptr;
    wait_.Close();
  }

  ring_buffer* ring_ = nullptr;
  FdWait wait_;  // for the ring's wake-ups (or close())
  std::thread thread_;
  std::mutex mutex_;  // guards the ring's consumption and read_
  std::vector<std::pair<uint64_t, std::string>> read_;  // (image, its executable mappings)
};

Napi::Value WatchProcessMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "mapFd");
  Napi::Object wrapper = Data(env).processMapsClass.New({});
  ProcessMapsWatcher::Unwrap(wrapper)->Open(env, fd);
  return wrapper;
}

}  // namespace

void InitProcessMaps(Napi::Env env, Napi::Object exports) {
  Data(env).processMapsClass = Napi::Persistent(ProcessMapsWatcher::Class(env));
  exports.Set("watchProcessMaps", Napi::Function::New(env, WatchProcessMaps, "watchProcessMaps"));
}

}  // namespace tracelet
