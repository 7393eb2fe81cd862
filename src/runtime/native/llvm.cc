// LLVM IR text -> BPF ELF object (or assembly), in memory, through the LLVM-C API of LLVM 14.
// This is an addon of its own, tracelet_llvm.node (statically linked LLVM, ~30 MB): loading it
// costs ~10 MiB and tens of ms (relocations, static constructors), so src/runtime/native.ts loads
// it only when something must be compiled (not on a compile cache hit).
//
// Per call: a fresh LLVMContext (cheap, and it keeps no types or constants from earlier
// programs alive), parse, verify, the legacy -O<n> pipeline (LLVMPassManagerBuilder), then
// codegen. The BPF target machine and the module pass manager are built once per opt level and
// reused: building the ~100-pass module pipeline costs ~0.8 ms, a third of a small compile.
// (The legacy pass manager re-initializes its passes on every run, so reuse across modules is
// supported.) The caches are process-wide, so a mutex serializes compiles from worker threads.
#include "common.h"

#include <llvm/Config/llvm-config.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassManagerBuilder.h>

#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>

namespace tracelet {

namespace {

constexpr const char* kTriple = "bpfel-unknown-none";
constexpr const char* kCpu = "v3";

// The cached pipeline of one opt level.
struct Pipeline {
  LLVMTargetMachineRef machine = nullptr;
  LLVMPassManagerRef modulePasses = nullptr;  // null at -O0
};
Pipeline g_pipelines[4];
std::mutex g_mutex;

// Owns an LLVM-allocated C string (LLVMDisposeMessage).
struct Message {
  char* text = nullptr;
  ~Message() { if (text) LLVMDisposeMessage(text); }
  std::string str() const { return text ? std::string(text) : std::string(); }
};

LLVMPassManagerBuilderRef Builder(unsigned optLevel) {
  LLVMPassManagerBuilderRef builder = LLVMPassManagerBuilderCreate();
  LLVMPassManagerBuilderSetOptLevel(builder, optLevel);
  // BPF has no real calls between functions: everything must be inlined (clang's thresholds:
  // 225 for -O2, 275 for -O3).
  LLVMPassManagerBuilderUseInlinerWithThreshold(builder, optLevel > 2 ? 275 : 225);
  return builder;
}

// LLVM stops the process on some faults in its input (a pass's own verifier): say what happened
// in one line and exit as tracelet's internal errors do (70), instead of an abort. Nothing is
// left in the kernel: maps and programs are released with the process's file descriptors.
void OnLlvmFatalError(const char* reason) {
  std::string line = std::string("tracelet: internal error: LLVM stopped on the generated code (") + reason + ")\n";
  ssize_t ignored = write(2, line.data(), line.size());
  (void)ignored;
  _exit(70);
}

const Pipeline& GetPipeline(Napi::Env env, unsigned optLevel) {
  Pipeline& p = g_pipelines[optLevel];
  if (p.machine) return p;
  static bool initialized = false;
  if (!initialized) {
    // Only the BPF backend: initializing every target would cost start-up time for nothing.
    LLVMInitializeBPFTargetInfo();
    LLVMInitializeBPFTarget();
    LLVMInitializeBPFTargetMC();
    LLVMInitializeBPFAsmPrinter();
    LLVMInstallFatalErrorHandler(OnLlvmFatalError);
    initialized = true;
  }
  LLVMTargetRef target = nullptr;
  Message err;
  if (LLVMGetTargetFromTriple(kTriple, &target, &err.text))
    throw Napi::Error::New(env, "LLVM: no BPF target: " + err.str());
  static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                               LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};
  LLVMTargetMachineRef machine = LLVMCreateTargetMachine(target, kTriple, kCpu, "", levels[optLevel],
                                                         LLVMRelocDefault, LLVMCodeModelDefault);
  if (!machine) throw Napi::Error::New(env, "LLVM: cannot create the BPF target machine");
  if (optLevel > 0) {
    LLVMPassManagerBuilderRef builder = Builder(optLevel);
    p.modulePasses = LLVMCreatePassManager();
    // Target transform info, so that passes see BPF's costs rather than generic ones.
    LLVMAddAnalysisPasses(machine, p.modulePasses);
    LLVMPassManagerBuilderPopulateModulePassManager(builder, p.modulePasses);
    LLVMPassManagerBuilderDispose(builder);
  }
  p.machine = machine;
  return p;
}

// Collects LLVM diagnostics. Without a handler, LLVM prints errors and calls exit(): the BPF
// backend reports e.g. "stack limit exceeded" or unsupported calls this way.
struct Diagnostics {
  std::string errors;
  std::string warnings;
  static void Handle(LLVMDiagnosticInfoRef info, void* self) {
    auto* d = static_cast<Diagnostics*>(self);
    Message text;
    text.text = LLVMGetDiagInfoDescription(info);
    switch (LLVMGetDiagInfoSeverity(info)) {
      case LLVMDSError: AddOnce(d->errors, text.str()); break;
      case LLVMDSWarning: AddOnce(d->warnings, text.str()); break;
      default: break;
    }
  }
  // The BPF backend repeats a message for every instruction it concerns (thousands of lines for
  // one oversized stack): each distinct message is kept once.
  static void AddOnce(std::string& list, const std::string& message) {
    std::string line = message + "\n";
    if (list.rfind(line, 0) != 0 && list.find("\n" + line) == std::string::npos) list += line;
  }
};

[[noreturn]] void Fail(Napi::Env env, std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  throw Napi::Error::New(env, message);
}

// BPF has no unwinding: without `nounwind` LLVM emits .eh_frame and CFI, which libbpf then
// reports as unrecognized sections. Marking every defined function is what clang does for BPF.
void MarkNoUnwind(LLVMContextRef ctx, LLVMModuleRef module) {
  static const unsigned kind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAttributeRef attr = LLVMCreateEnumAttribute(ctx, kind, 0);
  for (LLVMValueRef fn = LLVMGetFirstFunction(module); fn; fn = LLVMGetNextFunction(fn)) {
    if (!LLVMIsDeclaration(fn)) LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, attr);
  }
}

struct ContextOwner {
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef module = nullptr;
  ~ContextOwner() {
    if (module) LLVMDisposeModule(module);
    LLVMContextDispose(ctx);
  }
};

void Optimize(LLVMModuleRef module, const Pipeline& p, unsigned optLevel) {
  // The function pass manager is bound to its module, so it is built per call (a few passes).
  LLVMPassManagerBuilderRef builder = Builder(optLevel);
  LLVMPassManagerRef functionPasses = LLVMCreateFunctionPassManagerForModule(module);
  LLVMAddAnalysisPasses(p.machine, functionPasses);
  LLVMPassManagerBuilderPopulateFunctionPassManager(builder, functionPasses);
  LLVMPassManagerBuilderDispose(builder);

  LLVMInitializeFunctionPassManager(functionPasses);
  for (LLVMValueRef fn = LLVMGetFirstFunction(module); fn; fn = LLVMGetNextFunction(fn)) {
    if (!LLVMIsDeclaration(fn)) LLVMRunFunctionPassManager(functionPasses, fn);
  }
  LLVMFinalizeFunctionPassManager(functionPasses);
  LLVMDisposePassManager(functionPasses);
  LLVMRunPassManager(p.modulePasses, module);
}

// What Compile returns: the BPF object, its assembly, or the optimised IR (for -dd / --emit-llvm FILE).
enum class Output { Object, Assembly, OptimizedIR };

// Compiles `ir` and returns the emitted file's bytes.
std::string Compile(Napi::Env env, const std::string& ir, unsigned optLevel, Output kind) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const Pipeline& pipeline = GetPipeline(env, optLevel);
  LLVMTargetMachineRef tm = pipeline.machine;
  ContextOwner owner;
  Diagnostics diagnostics;
  LLVMContextSetDiagnosticHandler(owner.ctx, &Diagnostics::Handle, &diagnostics);

  // The parser takes ownership of the buffer; the copy is NUL-terminated as the parser requires.
  LLVMMemoryBufferRef input =
      LLVMCreateMemoryBufferWithMemoryRangeCopy(ir.data(), ir.size(), "tracelet.ll");
  Message err;
  if (LLVMParseIRInContext(owner.ctx, input, &owner.module, &err.text)) {
    owner.module = nullptr;
    Fail(env, "LLVM IR parse error: " + err.str());
  }
  Message verify;
  if (LLVMVerifyModule(owner.module, LLVMReturnStatusAction, &verify.text))
    Fail(env, "LLVM IR is invalid: " + verify.str());

  MarkNoUnwind(owner.ctx, owner.module);
  LLVMSetTarget(owner.module, kTriple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(owner.module, layout);
  LLVMDisposeTargetData(layout);

  if (optLevel > 0) Optimize(owner.module, pipeline, optLevel);
  if (!diagnostics.errors.empty())
    Fail(env, "LLVM: " + diagnostics.errors);

  if (kind == Output::OptimizedIR) {
    Message text;
    text.text = LLVMPrintModuleToString(owner.module);
    return text.str();
  }
  LLVMMemoryBufferRef output = nullptr;
  Message emitErr;
  if (LLVMTargetMachineEmitToMemoryBuffer(tm, owner.module, kind == Output::Object ? LLVMObjectFile : LLVMAssemblyFile,
                                          &emitErr.text, &output))
    Fail(env, "LLVM BPF codegen failed: " + emitErr.str() + diagnostics.errors);
  std::string bytes(LLVMGetBufferStart(output), LLVMGetBufferSize(output));
  LLVMDisposeMemoryBuffer(output);
  if (!diagnostics.errors.empty())
    Fail(env, "LLVM BPF codegen failed: " + diagnostics.errors);
  return bytes;
}

unsigned OptLevel(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || info[1].IsUndefined() || info[1].IsNull()) return 2;
  if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Value level = info[1].As<Napi::Object>().Get("optLevel");
  if (level.IsUndefined()) return 2;
  if (!level.IsNumber()) throw Napi::TypeError::New(info.Env(), "optLevel must be 0, 1, 2 or 3");
  int32_t n = level.As<Napi::Number>().Int32Value();
  if (n < 0 || n > 3) throw Napi::TypeError::New(info.Env(), "optLevel must be 0, 1, 2 or 3");
  return static_cast<unsigned>(n);
}

Napi::Value CompileIR(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  std::string object = Compile(info.Env(), ir, OptLevel(info), Output::Object);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(object.data()),
                                     object.size());
}

Napi::Value CompileIRToAsm(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  std::string text = Compile(info.Env(), ir, OptLevel(info), Output::Assembly);
  return Napi::String::New(info.Env(), text);
}

Napi::Value OptimizeIR(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  return Napi::String::New(info.Env(), Compile(info.Env(), ir, OptLevel(info), Output::OptimizedIR));
}

}  // namespace

}  // namespace tracelet

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace tracelet;
  exports.Set("compileIR", Napi::Function::New(env, CompileIR, "compileIR"));
  exports.Set("compileIRToAsm", Napi::Function::New(env, CompileIRToAsm, "compileIRToAsm"));
  exports.Set("optimizeIR", Napi::Function::New(env, OptimizeIR, "optimizeIR"));
  exports.Set("llvmVersion", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), LLVM_VERSION_STRING);
  }, "llvmVersion"));
  return exports;
}

NODE_API_MODULE(tracelet_llvm, Init)
