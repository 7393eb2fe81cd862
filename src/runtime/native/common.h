// Shared helpers of the native addons: errno-carrying JS errors and argument checks (args.cc, in
// both), capture of libbpf's log, and the registration functions each source file of the
// runtime addon (tracelet_native.node) provides to addon.cc.
#pragma once

#include <napi.h>

#include <string>

namespace tracelet {

// Throws a JS Error "<what>: <strerror(err)>" with `errno` (number) and `code` ('ENOENT', ...)
// properties. `err` is a positive errno value. `detail`, when not empty, is appended on new lines
// (libbpf's log, for instance).
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, int err,
                             const std::string& detail = std::string());

// While alive, libbpf's log lines (warnings and info; debug too when TRACELET_LIBBPF_DEBUG is
// set) are collected into text() instead of being printed. libbpf has a single global print
// callback; the addon is used from one JS thread at a time per isolate, and the capture target
// is thread-local, so nested or concurrent captures on different threads do not mix.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::string* previous_;
};

// Installs the addon's libbpf print callback (once per process).
void InstallLibbpfPrint();

// Argument helpers: throw a TypeError naming the argument when the type is wrong.
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name);
int32_t ArgI32(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t ArgI64(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name);

// Per-environment data: constructors of the wrapped classes, for instanceof checks.
// Calls `callback` with `wrap`'s object as `this` from a libuv callback on Node's loop, as Node
// calls an I/O callback: MakeCallback runs the microtasks after it and tells async hooks; an
// exception in it becomes an uncaught exception.
template <typename Wrap>
void CallFromLoop(Napi::Env env, Wrap* wrap, const Napi::FunctionReference& callback, const Napi::AsyncContext& context) {
  Napi::HandleScope scope(env);  // before any handle, the receiver's included
  try {
    callback.MakeCallback(wrap->Value(), {}, context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

struct AddonData {
  Napi::FunctionReference objectClass;
  Napi::FunctionReference linkClass;
  Napi::FunctionReference ringClass;
  Napi::FunctionReference processMapsClass;
  Napi::FunctionReference processExitClass;
};
AddonData& Data(Napi::Env env);

// Registration, one per source file.
void InitMaps(Napi::Env env, Napi::Object exports);
void InitObject(Napi::Env env, Napi::Object exports);
void InitRingBuffer(Napi::Env env, Napi::Object exports);
void InitProcessMaps(Napi::Env env, Napi::Object exports);
void InitProcessExit(Napi::Env env, Napi::Object exports);
void InitMisc(Napi::Env env, Napi::Object exports);
void InitLifecycle(Napi::Env env, Napi::Object exports);
void InitDump(Napi::Env env, Napi::Object exports);
void InitSymbols(Napi::Env env, Napi::Object exports);

}  // namespace tracelet
