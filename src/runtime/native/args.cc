// Argument checks and errno-carrying errors (common.h), compiled into both addons: the runtime
// (tracelet_native.node) and LLVM's (tracelet_llvm.node).
#include "common.h"

#include <cstring>

namespace tracelet {

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

}  // namespace tracelet
