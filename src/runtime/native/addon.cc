// Entry point of tracelet_native.node: registers every function of the NativeAddon interface
// (src/runtime/native.ts) but LLVM's (tracelet_llvm.node, llvm.cc), and libbpf's log capture.
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

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tracelet

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tracelet::InstallLibbpfPrint();
  env.SetInstanceData(new tracelet::AddonData());
  tracelet::InitMaps(env, exports);
  tracelet::InitObject(env, exports);
  tracelet::InitRingBuffer(env, exports);
  tracelet::InitProcessMaps(env, exports);
  tracelet::InitProcessExit(env, exports);
  tracelet::InitMisc(env, exports);
  tracelet::InitLifecycle(env, exports);
  tracelet::InitDump(env, exports);
  tracelet::InitSymbols(env, exports);
  return exports;
}

NODE_API_MODULE(tracelet_native, Init)
