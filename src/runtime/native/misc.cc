// CPU lists and C++ symbol demangling.
#include "common.h"

#include <cstring>

#include <bpf/libbpf.h>
#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tracelet {

namespace {

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) ThrowErrno(info.Env(), "cannot read the number of possible CPUs", -n);
  return Napi::Number::New(info.Env(), n);
}

// Parses a kernel CPU list such as "0-3,6,8-9".
Napi::Value OnlineCpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::ifstream file("/sys/devices/system/cpu/online");
  std::string text;
  if (!file || !std::getline(file, text)) ThrowErrno(env, "cannot read /sys/devices/system/cpu/online", errno ? errno : EIO);
  Napi::Array cpus = Napi::Array::New(env);
  uint32_t count = 0;
  std::istringstream ranges(text);
  std::string range;
  while (std::getline(ranges, range, ',')) {
    if (range.empty()) continue;
    char* end = nullptr;
    long first = strtol(range.c_str(), &end, 10);
    long last = *end == '-' ? strtol(end + 1, nullptr, 10) : first;
    for (long cpu = first; cpu <= last; ++cpu) cpus.Set(count++, Napi::Number::New(env, cpu));
  }
  return cpus;
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

}  // namespace

void InitMisc(Napi::Env env, Napi::Object exports) {
  exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus, "possibleCpus"));
  exports.Set("onlineCpus", Napi::Function::New(env, OnlineCpus, "onlineCpus"));
  exports.Set("demangle", Napi::Function::New(env, Demangle, "demangle"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
  exports.Set("strsignal", Napi::Function::New(env, StrSignal, "strsignal"));
}

}  // namespace tracelet
