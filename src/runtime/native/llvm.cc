// LLVM IR text -> BPF ELF object (or assembly), in memory, through the LLVM-C API of LLVM 14 (and
// its C++ pass manager for the pass pipeline).
// This is an addon of its own, tracelet_llvm.node (statically linked LLVM, ~30 MB): loading it
// costs ~10 MiB and tens of ms (relocations, static constructors), so src/runtime/native.ts loads
// it only when something must be compiled (not on a compile cache hit).
//
// Per call: a fresh LLVMContext (cheap, and it keeps no types or constants from earlier
// programs alive), parse, verify, the pass pipeline (TraceletPasses, or LLVM's -O<n>), then
// codegen. The BPF target machine is built once per codegen level (and thread) and reused. The
// machines are process-wide, so a mutex serializes compiles from worker threads.
//
// A big module's object is compiled in parts, one thread each (LLVM's time is the bulk of a long
// script's compile, and one thread uses one CPU): each thread parses, in a context of its own,
// the text without the other parts' programs (PartText), compiles it, and libbpf's linker joins
// the parts' objects (Link).
#include "common.h"

#include <llvm/Config/llvm-config.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/IPO/GlobalDCE.h>
#include <llvm/Transforms/IPO/GlobalOpt.h>
#include <llvm/Transforms/IPO/SCCP.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/CorrelatedValuePropagation.h>
#include <llvm/Transforms/Scalar/DeadStoreElimination.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/GVN.h>
#include <llvm/Transforms/Scalar/IndVarSimplify.h>
#include <llvm/Transforms/Scalar/JumpThreading.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/LoopDeletion.h>
#include <llvm/Transforms/Scalar/LoopIdiomRecognize.h>
#include <llvm/Transforms/Scalar/LoopInstSimplify.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>
#include <llvm/Transforms/Scalar/LoopRotation.h>
#include <llvm/Transforms/Scalar/LoopSimplifyCFG.h>
#include <llvm/Transforms/Scalar/LoopUnrollPass.h>
#include <llvm/Transforms/Scalar/MemCpyOptimizer.h>
#include <llvm/Transforms/Scalar/SROA.h>
#include <llvm/Transforms/Scalar/SimpleLoopUnswitch.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace tracelet {

namespace {

constexpr const char* kTriple = "bpfel-unknown-none";
constexpr const char* kCpu = "v3";

enum class Passes { None, Tracelet, O1, O2, O3 };

struct Pipeline {
  Passes passes;
  LLVMCodeGenOptLevel codegen;
};

// The pipelines a compile can ask for, by name: "tracelet" (the default; TraceletPasses) or
// LLVM's own -O0 to -O3, kept for bench/opt-levels.ts's comparison.
Pipeline PipelineNamed(Napi::Env env, const std::string& name) {
  if (name == "tracelet") return {Passes::Tracelet, LLVMCodeGenLevelDefault};
  if (name == "O0") return {Passes::None, LLVMCodeGenLevelNone};
  if (name == "O1") return {Passes::O1, LLVMCodeGenLevelLess};
  if (name == "O2") return {Passes::O2, LLVMCodeGenLevelDefault};
  if (name == "O3") return {Passes::O3, LLVMCodeGenLevelAggressive};
  throw Napi::TypeError::New(env, "pipeline must be tracelet, O0, O1, O2 or O3");
}

// tracelet's pipeline: -O2's function simplification without what tracelet's IR never needs
// (the cost-driven inliner: its only calls are to callbacks, which must stay functions;
// `alwaysinline` is still honoured; the vectorizers; most of the repeated instcombine and
// simplifycfg runs), then -O2's codegen. It was chosen by measurement: starting from -O2's own
// pass list, each pass was dropped in turn and kept out when no program of examples/, bench/,
// the bpftrace 0.17 tools and fixtures (68 programs) got an instruction more. All 68 compile to
// as many instructions as at -O2 or fewer (23,821 -> 23,806 in all), in ~30% less LLVM time
// (bench/opt-levels.ts; the rest is codegen). Built from the passes themselves rather than
// parsed from text, so that the parser's registry of every LLVM pass is not linked in.
llvm::ModulePassManager TraceletPasses() {
  using namespace llvm;
  ModulePassManager passes;
  passes.addPass(AlwaysInlinerPass());
  FunctionPassManager early;
  early.addPass(SROAPass());
  early.addPass(EarlyCSEPass(/*UseMemorySSA=*/false));
  passes.addPass(createModuleToFunctionPassAdaptor(std::move(early)));
  passes.addPass(IPSCCPPass());
  passes.addPass(GlobalOptPass());

  FunctionPassManager simplify;
  simplify.addPass(InstCombinePass());
  simplify.addPass(SimplifyCFGPass(SimplifyCFGOptions().hoistCommonInsts(true)));
  simplify.addPass(EarlyCSEPass(/*UseMemorySSA=*/true));
  simplify.addPass(JumpThreadingPass());
  simplify.addPass(CorrelatedValuePropagationPass());
  simplify.addPass(InstCombinePass());
  LoopPassManager loops;  // -O2's first loop passes, over MemorySSA
  loops.addPass(LoopInstSimplifyPass());
  loops.addPass(LoopSimplifyCFGPass());
  loops.addPass(LICMPass());
  loops.addPass(LoopRotatePass());
  loops.addPass(LICMPass());
  loops.addPass(SimpleLoopUnswitchPass(/*NonTrivial=*/false, /*Trivial=*/true));
  simplify.addPass(createFunctionToLoopPassAdaptor(std::move(loops), /*UseMemorySSA=*/true,
                                                   /*UseBlockFrequencyInfo=*/true));
  LoopPassManager unroll;  // and its second: bounded loops unrolled in full
  unroll.addPass(LoopIdiomRecognizePass());
  unroll.addPass(IndVarSimplifyPass());
  unroll.addPass(LoopDeletionPass());
  unroll.addPass(LoopFullUnrollPass());
  simplify.addPass(createFunctionToLoopPassAdaptor(std::move(unroll)));
  simplify.addPass(GVNPass());
  simplify.addPass(MemCpyOptPass());
  simplify.addPass(DSEPass());
  passes.addPass(createModuleToFunctionPassAdaptor(std::move(simplify)));
  passes.addPass(GlobalDCEPass());
  return passes;
}

// A compile uses at most this many threads (parts): each part parses the module's globals and
// debug information again.
constexpr size_t kMaxParts = 4;
// Modules whose definitions have fewer lines (about one per instruction) compile in one piece:
// below it, starting threads and linking cost about what a second thread saves.
constexpr size_t kSplitMinLines = 400;

LLVMTargetMachineRef g_machines[4][kMaxParts];
std::mutex g_mutex;

// Owns an LLVM-allocated C string (LLVMDisposeMessage).
struct Message {
  char* text = nullptr;
  ~Message() { if (text) LLVMDisposeMessage(text); }
  std::string str() const { return text ? std::string(text) : std::string(); }
};

// LLVM stops the process on some faults in its input (a pass's own verifier): say what happened
// in one line and exit as tracelet's internal errors do (70), instead of an abort. Nothing is
// left in the kernel: maps and programs are released with the process's file descriptors.
void OnLlvmFatalError(const char* reason) {
  std::string line = std::string("tracelet: internal error: LLVM stopped on the generated code (") + reason + ")\n";
  ssize_t ignored = write(2, line.data(), line.size());
  (void)ignored;
  _exit(70);
}

// The target machine of a codegen level for thread `slot` (a machine is not shared by threads).
LLVMTargetMachineRef Machine(Napi::Env env, LLVMCodeGenOptLevel level, size_t slot = 0) {
  LLVMTargetMachineRef& machine = g_machines[level][slot];
  if (machine) return machine;
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
  machine = LLVMCreateTargetMachine(target, kTriple, kCpu, "", level, LLVMRelocDefault, LLVMCodeModelDefault);
  if (!machine) throw Napi::Error::New(env, "LLVM: cannot create the BPF target machine");
  return machine;
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

void Optimize(LLVMModuleRef module, LLVMTargetMachineRef machine, Passes which) {
  using namespace llvm;
  // The target machine gives the passes BPF's costs (and adds its own passes to -O<n>).
  PassBuilder builder(reinterpret_cast<TargetMachine*>(machine));
  LoopAnalysisManager loopAnalyses;
  FunctionAnalysisManager functionAnalyses;
  CGSCCAnalysisManager cgsccAnalyses;
  ModuleAnalysisManager moduleAnalyses;
  builder.registerModuleAnalyses(moduleAnalyses);
  builder.registerCGSCCAnalyses(cgsccAnalyses);
  builder.registerFunctionAnalyses(functionAnalyses);
  builder.registerLoopAnalyses(loopAnalyses);
  builder.crossRegisterProxies(loopAnalyses, functionAnalyses, cgsccAnalyses, moduleAnalyses);
  ModulePassManager passes =
      which == Passes::Tracelet ? TraceletPasses()
      : builder.buildPerModuleDefaultPipeline(which == Passes::O1   ? OptimizationLevel::O1
                                              : which == Passes::O2 ? OptimizationLevel::O2
                                                                    : OptimizationLevel::O3);
  passes.run(*unwrap(module), moduleAnalyses);
}

// What Compile returns: the BPF object, its assembly, or the optimised IR (for -dd / --emit-llvm FILE).
enum class Output { Object, Assembly, OptimizedIR };

// What a compile of one module (or part) gives: the emitted bytes, or the error that stopped it.
struct Emitted {
  std::string bytes;
  std::string error;
};

// Which part of a module split across threads a compile keeps (Compile); {0, 1} is the whole module.
struct Part {
  size_t index;
  size_t count;
};

// A function's definition in the IR text: bytes [begin, end), its lines, and whether it is a
// program (a function with a section; the others are local helpers, e.g. a for loop's body).
struct Definition {
  size_t begin;
  size_t end;
  size_t lines;
  bool program;
};

// The definitions of the IR text, in order: each begins with a line `define ...` and ends with a
// line `}` (basic blocks end with terminators, so no other line is a lone brace).
std::vector<Definition> Definitions(const std::string& ir) {
  std::vector<Definition> definitions;
  for (size_t at = 0; at < ir.size();) {
    size_t eol = std::min(ir.find('\n', at), ir.size());
    if (ir.compare(at, 7, "define ") != 0) {
      at = eol + 1;
      continue;
    }
    size_t close = ir.find("\n}", eol);
    if (close == std::string::npos) break;  // not well formed: the parser will say where
    size_t end = std::min(close + 3, ir.size());
    bool program = ir.find(" section \"", at) < eol;
    definitions.push_back({at, end, static_cast<size_t>(std::count(ir.begin() + at, ir.begin() + end, '\n')), program});
    at = end;
  }
  return definitions;
}

// The text of part `part.index` of the module: all of it but the programs of the other parts.
// Each part has a run of consecutive programs, cut where their lines reach index/count of the
// total, so that the linked parts hold the programs in the module's order. Helpers are in every
// part; those its programs do not call are dropped after the parse (KeepPart).
std::string PartText(const std::string& ir, const std::vector<Definition>& definitions, Part part) {
  size_t total = 0;
  for (const Definition& d : definitions) total += d.program ? d.lines : 0;
  std::string text;
  text.reserve(ir.size() / part.count + ir.size() / 4);
  size_t copied = 0, before = 0;
  for (const Definition& d : definitions) {
    if (!d.program) continue;
    size_t owner = std::min(part.count - 1, (before + d.lines / 2) * part.count / std::max<size_t>(total, 1));
    before += d.lines;
    if (owner == part.index) continue;
    text.append(ir, copied, d.begin - copied);
    copied = d.end;
  }
  text.append(ir, copied, std::string::npos);
  return text;
}

// Makes a part's module (PartText) one of several that libbpf's linker joins: helpers no kept
// program calls go; maps and other globals are defined in part 0 and declared (extern, with their
// debug info, from which LLVM emits the BTF the linker matches them by) in the others. Globals
// without debug info (the license) are made local, as the linker wants BTF for every global
// symbol: part 0 keeps them, the others drop them unless used.
void KeepPart(llvm::Module& module, Part part) {
  using namespace llvm;
  for (bool erased = true; erased;) {
    erased = false;
    for (auto it = module.begin(); it != module.end();) {
      Function& f = *it++;
      if (f.hasLocalLinkage() && f.use_empty()) {
        f.eraseFromParent();
        erased = true;
      }
    }
  }
  std::vector<GlobalVariable*> unused;
  std::vector<GlobalValue*> kept;
  for (GlobalVariable& g : module.globals()) {
    if (g.isDeclaration() || g.hasLocalLinkage()) continue;
    if (!g.hasMetadata(LLVMContext::MD_dbg)) {
      if (part.index != 0 && g.use_empty()) {
        unused.push_back(&g);
      } else {
        g.setLinkage(GlobalValue::InternalLinkage);
        kept.push_back(&g);
      }
    } else if (part.index != 0) {
      g.setInitializer(nullptr);
      g.setLinkage(GlobalValue::ExternalLinkage);
    }
  }
  for (GlobalVariable* g : unused) g->eraseFromParent();
  appendToCompilerUsed(module, kept);  // else, local and unused, the passes would drop the license
}

// Parses, checks, optimizes and emits `ir` (the whole module, or its part `part`: PartText).
// Runs on any thread: no N-API.
Emitted CompileModule(const std::string& ir, const Pipeline& pipeline, LLVMTargetMachineRef tm, Output kind, Part part) {
  ContextOwner owner;
  Diagnostics diagnostics;
  LLVMContextSetDiagnosticHandler(owner.ctx, &Diagnostics::Handle, &diagnostics);

  // The parser takes ownership of the buffer; the copy is NUL-terminated as the parser requires.
  LLVMMemoryBufferRef input =
      LLVMCreateMemoryBufferWithMemoryRangeCopy(ir.data(), ir.size(), "tracelet.ll");
  Message err;
  if (LLVMParseIRInContext(owner.ctx, input, &owner.module, &err.text)) {
    owner.module = nullptr;
    return {"", "LLVM IR parse error: " + err.str()};
  }
  Message verify;
  if (LLVMVerifyModule(owner.module, LLVMReturnStatusAction, &verify.text))
    return {"", "LLVM IR is invalid: " + verify.str()};
  if (part.count > 1) KeepPart(*llvm::unwrap(owner.module), part);

  MarkNoUnwind(owner.ctx, owner.module);
  LLVMSetTarget(owner.module, kTriple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(owner.module, layout);
  LLVMDisposeTargetData(layout);

  if (pipeline.passes != Passes::None) Optimize(owner.module, tm, pipeline.passes);
  if (!diagnostics.errors.empty()) return {"", "LLVM: " + diagnostics.errors};

  if (kind == Output::OptimizedIR) {
    Message text;
    text.text = LLVMPrintModuleToString(owner.module);
    return {text.str(), ""};
  }
  LLVMMemoryBufferRef output = nullptr;
  Message emitErr;
  if (LLVMTargetMachineEmitToMemoryBuffer(tm, owner.module, kind == Output::Object ? LLVMObjectFile : LLVMAssemblyFile,
                                          &emitErr.text, &output))
    return {"", "LLVM BPF codegen failed: " + emitErr.str() + diagnostics.errors};
  std::string bytes(LLVMGetBufferStart(output), LLVMGetBufferSize(output));
  LLVMDisposeMemoryBuffer(output);
  if (!diagnostics.errors.empty()) return {"", "LLVM BPF codegen failed: " + diagnostics.errors};
  return {bytes, ""};
}

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd;
  ~Fd() { if (fd >= 0) close(fd); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }
};

// While alive, libbpf prints nothing: a link it refuses is compiled whole instead, and its
// complaint would only confuse (libbpf's print function is process-wide; compiles hold g_mutex).
struct QuietLibbpf {
  libbpf_print_fn_t previous = libbpf_set_print(nullptr);
  ~QuietLibbpf() { libbpf_set_print(previous); }
};

// Joins BPF objects into one with libbpf's linker (as `bpftool gen object` does: sections
// appended in order, extern maps and variables resolved to their definitions, BTF deduplicated);
// nothing when it cannot (the caller compiles the whole module instead). libbpf 1.1's linker
// reads and writes files by name: memory files stand in for them.
std::optional<std::string> Link(const std::vector<std::string>& objects) {
  QuietLibbpf quiet;
  Fd out{memfd_create("tracelet-linked.o", MFD_CLOEXEC)};
  if (out.fd < 0) return std::nullopt;
  bpf_linker* linker = bpf_linker__new(out.path().c_str(), nullptr);
  if (!linker) return std::nullopt;
  bool joined = true;
  for (const std::string& object : objects) {
    Fd in{memfd_create("tracelet-part.o", MFD_CLOEXEC)};
    joined = in.fd >= 0 && write(in.fd, object.data(), object.size()) == static_cast<ssize_t>(object.size()) &&
             bpf_linker__add_file(linker, in.path().c_str(), nullptr) == 0;
    if (!joined) break;
  }
  joined = joined && bpf_linker__finalize(linker) == 0;
  bpf_linker__free(linker);
  struct stat st;
  if (!joined || fstat(out.fd, &st) != 0) return std::nullopt;
  std::string bytes(st.st_size, '\0');
  if (pread(out.fd, bytes.data(), bytes.size(), 0) != st.st_size) return std::nullopt;
  return bytes;
}

// Whether the module declares kernel functions (externs in `.ksyms`): libbpf 1.1's linker fails
// on such an extern in two objects ("failed to resolve size of underlying type").
bool CallsKfuncs(const std::string& ir) {
  return ir.find(" section \".ksyms\"") != std::string::npos;
}

// How many parts a module is compiled in: `requested` when given (0: choose), else one per CPU
// (up to kMaxParts) for a module of two programs or more and kSplitMinLines lines of
// definitions (about its instructions), counted in the text so that choosing costs no parse; not
// a module that calls kfuncs (the parts would compile, the link fail, and the whole compile after).
size_t PartsFor(const std::string& ir, const std::vector<Definition>& definitions, size_t requested) {
  if (requested > 0) return std::min(requested, kMaxParts);
  size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  size_t programs = 0, lines = 0;
  for (const Definition& d : definitions) {
    programs += d.program;
    lines += d.lines;
  }
  if (cpus < 2 || programs < 2 || lines < kSplitMinLines || CallsKfuncs(ir)) return 1;
  return std::min({cpus, kMaxParts, programs});
}

// Compiles `ir` and returns the emitted file's bytes: an object in parts (PartsFor; `requestedParts`
// 0 lets it choose), one thread each, linked; assembly and optimized IR always whole.
std::string Compile(Napi::Env env, const std::string& ir, const Pipeline& pipeline, Output kind, size_t requestedParts = 0) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<Definition> definitions = kind == Output::Object ? Definitions(ir) : std::vector<Definition>();
  size_t parts = kind == Output::Object ? PartsFor(ir, definitions, requestedParts) : 1;
  std::vector<LLVMTargetMachineRef> machines;
  for (size_t i = 0; i < parts; i++) machines.push_back(Machine(env, pipeline.codegen, i));
  std::vector<Emitted> emitted(parts);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < parts; i++) {
    auto compilePart = [&, i] {
      emitted[i] = CompileModule(PartText(ir, definitions, {i, parts}), pipeline, machines[i], kind, {i, parts});
    };
    try {
      threads.emplace_back(compilePart);
    } catch (const std::system_error&) {  // no thread to be had: this one compiles the part
      compilePart();
    }
  }
  emitted[0] = CompileModule(parts == 1 ? ir : PartText(ir, definitions, {0, parts}), pipeline, machines[0], kind, {0, parts});
  for (std::thread& t : threads) t.join();
  for (const Emitted& e : emitted)
    if (!e.error.empty()) Fail(env, e.error);
  if (parts == 1) return emitted[0].bytes;
  std::vector<std::string> objects;
  for (Emitted& e : emitted) objects.push_back(std::move(e.bytes));
  std::optional<std::string> linked = Link(objects);
  if (linked) return *linked;
  // The parts compiled but libbpf's linker refused them (a construct it cannot join, such as a
  // kfunc): the whole module, on this thread, is the object the parts would have made.
  Emitted whole = CompileModule(ir, pipeline, machines[0], kind, {0, 1});
  if (!whole.error.empty()) Fail(env, whole.error);
  return whole.bytes;
}

// The pipeline of a call's options ({ pipeline: "tracelet" | "O0" ... "O3" }; default tracelet).
Pipeline PipelineOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || info[1].IsUndefined() || info[1].IsNull()) return PipelineNamed(info.Env(), "tracelet");
  if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Value name = info[1].As<Napi::Object>().Get("pipeline");
  if (name.IsUndefined()) return PipelineNamed(info.Env(), "tracelet");
  if (!name.IsString()) throw Napi::TypeError::New(info.Env(), "pipeline must be a string");
  return PipelineNamed(info.Env(), name.As<Napi::String>().Utf8Value());
}

// The parts of a call's options ({ threads: N }: compile in N parts, 1 = whole; default: PartsFor
// chooses).
size_t ThreadsOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[1].IsObject()) return 0;
  Napi::Value threads = info[1].As<Napi::Object>().Get("threads");
  if (threads.IsUndefined()) return 0;
  if (!threads.IsNumber() || threads.As<Napi::Number>().Int64Value() < 1)
    throw Napi::TypeError::New(info.Env(), "threads must be a number from 1 up");
  return static_cast<size_t>(threads.As<Napi::Number>().Int64Value());
}

Napi::Value CompileIR(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  std::string object = Compile(info.Env(), ir, PipelineOf(info), Output::Object, ThreadsOf(info));
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(object.data()),
                                     object.size());
}

Napi::Value CompileIRToAsm(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  std::string text = Compile(info.Env(), ir, PipelineOf(info), Output::Assembly);
  return Napi::String::New(info.Env(), text);
}

Napi::Value OptimizeIR(const Napi::CallbackInfo& info) {
  std::string ir = ArgString(info, 0, "ir");
  return Napi::String::New(info.Env(), Compile(info.Env(), ir, PipelineOf(info), Output::OptimizedIR));
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
