// The end of a process (-p PID, the -c child), known the moment it happens: a pidfd, readable
// once the process has exited (a zombie has), polled by Node's own loop. Checking
// /proc/PID/stat every 10 ms instead cost 100 wake-ups and opens a second, which a user's own
// syscall probes saw.
#include "common.h"

#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>
#include <string>

namespace tracelet {

namespace {

class ProcessExitWatch : public Napi::ObjectWrap<ProcessExitWatch> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "ProcessExitWatch", {InstanceMethod<&ProcessExitWatch::Close>("close")});
  }

  explicit ProcessExitWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessExitWatch>(info) {}
  ~ProcessExitWatch() override { CloseNative(); }

  // 0, or the errno of what failed (ESRCH: no such process; ENOSYS: a kernel before 5.3).
  int Open(Napi::Env env, int pid, Napi::Function onExit) {
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd_ < 0) return errno;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return EINVAL;
    poll_ = new uv_poll_t;
    if (int err = uv_poll_init(loop, poll_, pidfd_)) {
      delete poll_;
      poll_ = nullptr;
      return -err;
    }
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &ProcessExitWatch::OnReadable);
    callback_ = Napi::Persistent(onExit);
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "tracelet:process-exit");
    // Kept until close(): its handle keeps the loop alive, as any I/O watcher.
    Ref();
    return 0;
  }

 private:
  static void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* self = static_cast<ProcessExitWatch*>(handle->data);
    if (!self) return;
    uv_poll_stop(handle);
    CallFromLoop(self->Env(), self, self->callback_, *self->asyncContext_);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool open = poll_ != nullptr;
    CloseNative();
    if (open) Unref();
    return info.Env().Undefined();
  }

  void CloseNative() {
    if (poll_) {
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
  }

  int pidfd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

// watchProcessExit(pid, onExit): a watch that calls onExit once the process has exited, or null
// when the kernel cannot watch it (no pidfd_open); throws ESRCH for a process that is not there.
Napi::Value WatchProcessExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgI32(info, 0, "pid");
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "onExit must be a function");
  Napi::Object object = Data(env).processExitClass.New({});
  auto* watch = Napi::ObjectWrap<ProcessExitWatch>::Unwrap(object);
  int err = watch->Open(env, pid, info[1].As<Napi::Function>());
  if (err == ENOSYS) return env.Null();
  if (err) ThrowErrno(env, "cannot watch process " + std::to_string(pid), err);
  return object;
}

}  // namespace

void InitProcessExit(Napi::Env env, Napi::Object exports) {
  Data(env).processExitClass = Napi::Persistent(ProcessExitWatch::Class(env));
  exports.Set("watchProcessExit", Napi::Function::New(env, WatchProcessExit, "watchProcessExit"));
}

}  // namespace tracelet
