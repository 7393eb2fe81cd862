// Entry point of tracelet_native.node: registers every function of the NativeAddon interface
// (src/runtime/native.ts), plus the shared helpers declared in common.h.
#include "common.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tracelet {

namespace {

thread_local std::string* g_capture = nullptr;
bool g_debug = false;

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !g_debug) return 0;
  if (g_debug) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, format, copy);
    va_end(copy);
  }
  // Outside a capture, libbpf's messages are dropped: the error that follows a failure carries
  // them, and a tracer must not write stray lines into its own output.
  if (!g_capture) return 0;
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return 0;
  size_t old = g_capture->size();
  g_capture->resize(old + n + 1);
  vsnprintf(&(*g_capture)[old], n + 1, format, args);
  g_capture->resize(old + n);
  return 0;
}

}  // namespace

void InstallLibbpfPrint() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* debug = getenv("TRACELET_LIBBPF_DEBUG");
    g_debug = debug && *debug && strcmp(debug, "0") != 0;
    libbpf_set_print(LibbpfPrint);
  });
}

LibbpfLogCapture::LibbpfLogCapture() : previous_(g_capture) { g_capture = &text_; }
LibbpfLogCapture::~LibbpfLogCapture() {
  g_capture = previous_;
  if (previous_) previous_->append(text_);
}

void ThrowErrno(Napi::Env env, const std::string& what, int err, const std::string& detail) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  std::string message = what + ": " + strerror(err);
  if (!detail.empty()) {
    message += "\n";
    message += detail;
    while (!message.empty() && message.back() == '\n') message.pop_back();
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  if (name) error.Set("code", Napi::String::New(env, name));
  throw error;
}

static Napi::Value Arg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

[[noreturn]] static void BadArg(Napi::Env env, const char* name, const char* expected) {
  throw Napi::TypeError::New(env, std::string("argument '") + name + "' must be " + expected);
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) BadArg(info.Env(), name, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
    BadArg(info.Env(), name, "an integer in [0, 2^32)");
  return static_cast<uint32_t>(d);
}

int32_t ArgI32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) BadArg(info.Env(), name, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int32_t>(d)))
    BadArg(info.Env(), name, "a 32-bit integer");
  return static_cast<int32_t>(d);
}

int64_t ArgI64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (v.IsBigInt()) {
    bool lossless = true;
    int64_t r = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) BadArg(info.Env(), name, "a 64-bit integer");
    return r;
  }
  if (!v.IsNumber()) BadArg(info.Env(), name, "a number or bigint");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) BadArg(info.Env(), name, "an integer");
  return static_cast<int64_t>(d);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsString()) BadArg(info.Env(), name, "a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsBuffer()) BadArg(info.Env(), name, "a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tracelet

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tracelet::InstallLibbpfPrint();
  env.SetInstanceData(new tracelet::AddonData());
  tracelet::InitLlvm(env, exports);
  tracelet::InitMaps(env, exports);
  tracelet::InitObject(env, exports);
  tracelet::InitRingBuffer(env, exports);
  tracelet::InitMisc(env, exports);
  tracelet::InitLifecycle(env, exports);
  return exports;
}

NODE_API_MODULE(tracelet_native, Init)
