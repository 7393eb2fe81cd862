// CPU lists, C++ symbol demangling and small process helpers.
#include "common.h"
#include "kernel-ops.h"

#include <cstring>

#include <bpf/libbpf.h>
#include <cxxabi.h>
#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
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

}  // namespace

void InitMisc(Napi::Env env, Napi::Object exports) {
  exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus, "possibleCpus"));
  exports.Set("onlineCpus", Napi::Function::New(env, OnlineCpus, "onlineCpus"));
  exports.Set("demangle", Napi::Function::New(env, Demangle, "demangle"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
  exports.Set("strsignal", Napi::Function::New(env, StrSignal, "strsignal"));
  exports.Set("closeOnExec", Napi::Function::New(env, CloseOnExec, "closeOnExec"));
}

}  // namespace tracelet
