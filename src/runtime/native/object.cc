// BPF objects (libbpf bpf_object), their programs, attachments (links) and test runs.
//
// Ownership: a BpfObject owns its bpf_object and knows its live links; a BpfLink owns its
// bpf_link (and, for perf events, the perf fd through libbpf) and holds a strong reference to
// its BpfObject's JS object, so an object is never collected before its links. close() on the
// object destroys its links first. Both classes also clean up in their GC finalizers.
#include "common.h"
#include "kernel-ops.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace tracelet {

namespace {

class BpfLink;

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "NativeObject",
                       {InstanceMethod<&BpfObject::ProgramFd>("programFd"),
                        InstanceMethod<&BpfObject::ProgramInstructions>("programInstructions"),
                        InstanceMethod<&BpfObject::MapFd>("mapFd"),
                        InstanceMethod<&BpfObject::Close>("close")});
  }
  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {}
  ~BpfObject() override { CloseNative(); }

  // Takes ownership of a loaded object.
  void Adopt(bpf_object* obj, std::vector<uint8_t>&& elf) {
    obj_ = obj;
    elf_ = std::move(elf);
  }

  bpf_program* Program(Napi::Env env, const std::string& name) {
    if (!obj_) throw Napi::Error::New(env, "the BPF object is closed");
    bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
    if (!prog) throw Napi::Error::New(env, "no program named '" + name + "' in the BPF object");
    return prog;
  }

  void AddLink(BpfLink* link) { links_.insert(link); }
  void RemoveLink(BpfLink* link) { links_.erase(link); }
  void CloseNative();

 private:
  Napi::Value ProgramFd(const Napi::CallbackInfo& info) {
    bpf_program* prog = Program(info.Env(), ArgString(info, 0, "name"));
    return Napi::Number::New(info.Env(), bpf_program__fd(prog));
  }
  // The BPF instructions loaded (after libbpf's relocations), as -v reports a program's size.
  Napi::Value ProgramInstructions(const Napi::CallbackInfo& info) {
    bpf_program* prog = Program(info.Env(), ArgString(info, 0, "name"));
    return Napi::Number::New(info.Env(), static_cast<double>(bpf_program__insn_cnt(prog)));
  }
  // The fd of a map the object declares (libbpf created it at load; the object owns it), or -1.
  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    if (!obj_) throw Napi::Error::New(info.Env(), "the BPF object is closed");
    bpf_map* map = bpf_object__find_map_by_name(obj_, ArgString(info, 0, "name").c_str());
    return Napi::Number::New(info.Env(), map ? bpf_map__fd(map) : -1);
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNative();
    return info.Env().Undefined();
  }

  bpf_object* obj_ = nullptr;
  std::vector<uint8_t> elf_;  // libbpf reads the ELF image in place
  std::set<BpfLink*> links_;
};

class BpfLink : public Napi::ObjectWrap<BpfLink> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "NativeLink", {InstanceMethod<&BpfLink::Destroy>("destroy")});
  }
  explicit BpfLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfLink>(info) {}
  ~BpfLink() override { DestroyNative(); }

  void Adopt(bpf_link* link, BpfObject* owner, Napi::Object ownerJs) {
    link_ = link;
    owner_ = owner;
    ownerRef_ = Napi::Persistent(ownerJs);
    owner_->AddLink(this);
  }

  void DestroyNative() {
    if (link_) bpf_link__destroy(link_);
    link_ = nullptr;
    if (owner_) owner_->RemoveLink(this);
    owner_ = nullptr;
    if (!ownerRef_.IsEmpty()) ownerRef_.Reset();
  }

 private:
  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    DestroyNative();
    return info.Env().Undefined();
  }

  bpf_link* link_ = nullptr;
  BpfObject* owner_ = nullptr;
  Napi::ObjectReference ownerRef_;
};

void BpfObject::CloseNative() {
  // DestroyNative() removes the link from links_, so iterate over a copy.
  std::set<BpfLink*> links = links_;
  for (BpfLink* link : links) link->DestroyNative();
  links_.clear();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  elf_.clear();
}

bool ProgramType(const std::string& name, bpf_prog_type* type) { return tl_program_type(name.c_str(), type); }

// Splits libbpf's captured output into its own lines and the verifier log(s), which libbpf
// prints between "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG --".
void SplitLog(const std::string& text, std::string* libbpf, std::string* verifier) {
  static const std::string begin = "-- BEGIN PROG LOAD LOG --\n", end = "-- END PROG LOAD LOG --\n";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t b = text.find(begin, pos);
    if (b == std::string::npos) break;
    size_t e = text.find(end, b + begin.size());
    if (e == std::string::npos) break;
    libbpf->append(text, pos, b - pos);
    libbpf->append("(verifier log below)\n");
    verifier->append(text, b + begin.size(), e - b - begin.size());
    pos = e + end.size();
  }
  libbpf->append(text, pos, std::string::npos);
}

std::string LastLines(const std::string& text, size_t count) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (size_t n = 0; n < count && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
  }
  return pos == 0 ? text : text.substr(pos + 1);
}

[[noreturn]] void ThrowLoadError(Napi::Env env, const std::string& what, int err, const std::string& log) {
  std::string libbpf, verifier;
  SplitLog(log, &libbpf, &verifier);
  std::string detail = libbpf;
  if (!verifier.empty()) detail += "verifier log (last 50 lines):\n" + LastLines(verifier, 50);
  try {
    ThrowErrno(env, what, err, detail);
  } catch (Napi::Error& e) {
    e.Set("log", Napi::String::New(env, verifier.empty() ? log : verifier));
    e.Set("libbpfLog", Napi::String::New(env, log));
    throw;
  }
}

// Enough for a program's level-1 log (the last path verified): a smaller buffer makes the load fail (ENOSPC).
constexpr size_t kVerifierLogBytes = 16 << 20;

// A ring buffer map created on a thread of its own while the program is still being compiled:
// the kernel allocates and zeroes every page of it when it is created (~3 ms for the 16 MiB ring
// of a printf on a tracepoint), which loadObject would otherwise do on the way to attached.
struct PendingRing {
  std::thread thread;
  uint32_t bytes = 0;
  int fd = -1;
  // The ring's fd (-1 if the kernel refused it), once it is made; the caller closes it.
  int Take() {
    if (thread.joinable()) thread.join();
    int taken = fd;
    fd = -1;
    return taken;
  }
  ~PendingRing() {
    if (thread.joinable()) thread.join();
    if (fd >= 0) close(fd);
  }
};

// ringBufferInBackground(name, bytes): starts creating the ring; loadObject's `premade` takes it.
Napi::Value RingBufferInBackground(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  uint32_t bytes = ArgU32(info, 1, "bytes");
  if (name.empty() || name.size() >= BPF_OBJ_NAME_LEN) throw Napi::RangeError::New(env, "a map name has 1 to 15 characters");
  auto* ring = new PendingRing();
  ring->bytes = bytes;
  ring->thread = std::thread([ring, name, bytes] {
    ring->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name.c_str(), 0, 0, bytes, nullptr);
  });
  return Napi::External<PendingRing>::New(env, ring, [](Napi::Env, PendingRing* r) { delete r; });
}

// The premade rings (by map name) the object has a map of the same size for, in place of theirs:
// libbpf then does not create that map. A ring the kernel refused, or of another size, is closed
// and libbpf makes the map as usual (and says why if it cannot either).
void UsePremadeRings(Napi::Env env, bpf_object* obj, Napi::Value premade) {
  if (!premade.IsObject()) return;
  Napi::Object byName = premade.As<Napi::Object>();
  Napi::Array names = byName.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value value = byName.Get(name);
    if (!value.IsExternal()) throw Napi::TypeError::New(env, "premade maps come from ringBufferInBackground()");
    PendingRing* ring = value.As<Napi::External<PendingRing>>().Data();
    int fd = ring->Take();
    if (fd < 0) continue;
    bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    if (map && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF && bpf_map__max_entries(map) == ring->bytes)
      bpf_map__reuse_fd(map, fd);  // keeps a duplicate of fd; if it cannot, libbpf creates the map
    close(fd);
  }
}

Napi::Value LoadObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto elfArg = ArgBuffer(info, 0, "elf");
  if (info.Length() < 2 || !info[1].IsObject())
    throw Napi::TypeError::New(env, "argument 'programTypes' must be an object");
  Napi::Object types = info[1].As<Napi::Object>();
  std::vector<uint8_t> elf(elfArg.Data(), elfArg.Data() + elfArg.Length());
  // -v: each program's verifier log (level 1) in its own buffer, kept even when loading succeeds.
  Napi::Object options = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  bool wantLogs = options.Get("verifierLogs").ToBoolean().Value();
  Napi::Value maxEntriesArg = options.Get("maxEntries");
  std::map<std::string, std::unique_ptr<char[]>> logs;

  LibbpfLogCapture capture;
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "tracelet");
  bpf_object* obj = bpf_object__open_mem(elf.data(), elf.size(), &opts);
  if (!obj) ThrowLoadError(env, "cannot open the BPF object", errno, capture.text());

  // From here on, every exit path closes `obj` until a BpfObject adopts it.
  Napi::Array programs = Napi::Array::New(env);
  try {
    bpf_program* prog;
    uint32_t count = 0;
    bpf_object__for_each_program(prog, obj) {
      std::string name = bpf_program__name(prog);
      Napi::Value typeName = types.Get(name);
      if (!typeName.IsString())
        throw Napi::TypeError::New(env, "programTypes has no type for program '" + name + "'");
      bpf_prog_type type;
      if (!ProgramType(typeName.As<Napi::String>().Utf8Value(), &type))
        throw Napi::TypeError::New(env, "unknown program type '" + typeName.As<Napi::String>().Utf8Value() +
                                            "' for program '" + name + "'");
      int err = bpf_program__set_type(prog, type);
      if (err) ThrowErrno(env, "cannot set the type of program '" + name + "'", -err);
      // attachUprobeMulti needs programs loaded for BPF_TRACE_UPROBE_MULTI (48; libbpf 1.1
      // predates it).
      if (typeName.As<Napi::String>().Utf8Value() == "uprobe_multi")
        bpf_program__set_expected_attach_type(prog, static_cast<bpf_attach_type>(48));
      programs.Set(count++, Napi::String::New(env, name));
      if (wantLogs) {
        // Not zeroed: only the pages the kernel writes are ever touched.
        std::unique_ptr<char[]>& buf = logs[name];
        buf.reset(new char[kVerifierLogBytes]);
        buf[0] = '\0';
        bpf_program__set_log_buf(prog, buf.get(), kVerifierLogBytes);
        bpf_program__set_log_level(prog, 1);
      }
    }
    // Sizes only the run knows (e.g. the ring buffer's), set before libbpf creates the maps.
    if (maxEntriesArg.IsObject()) {
      Napi::Object maxEntries = maxEntriesArg.As<Napi::Object>();
      Napi::Array names = maxEntries.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); ++i) {
        std::string name = names.Get(i).As<Napi::String>().Utf8Value();
        bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
        if (!map) throw Napi::Error::New(env, "the BPF object has no map '" + name + "'");
        int err = bpf_map__set_max_entries(map, maxEntries.Get(name).ToNumber().Uint32Value());
        if (err) ThrowErrno(env, "cannot set the size of map '" + name + "'", -err);
      }
    }
    UsePremadeRings(env, obj, options.Get("premade"));
    Napi::Array wanted = types.GetPropertyNames();
    for (uint32_t i = 0; i < wanted.Length(); ++i) {
      std::string name = wanted.Get(i).As<Napi::String>().Utf8Value();
      if (!bpf_object__find_program_by_name(obj, name.c_str()))
        throw Napi::Error::New(env, "the BPF object has no program '" + name +
                                        "' (programs must be in their own ELF section, not .text)");
    }
    // The verifier gives up (EAGAIN) whenever a signal is pending, and libbpf's 5 attempts all
    // fail under a stream of them (a profiler's SIGPROF every 50 µs in the embedding process):
    // signals wait until the load is done, as a Ctrl-C during it waited for libbpf's retry.
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    int err = bpf_object__load(obj);
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    if (err) {
      // libbpf prints only the logs of buffers it owns: add ours as it would have printed them.
      std::string text = capture.text();
      for (const auto& [name, buf] : logs) {
        if (buf[0]) text += "-- BEGIN PROG LOAD LOG --\n" + std::string(buf.get()) + "-- END PROG LOAD LOG --\n";
      }
      ThrowLoadError(env, "cannot load the BPF object", -err, text);
    }
  } catch (...) {
    bpf_object__close(obj);
    throw;
  }

  Napi::Object wrapper = Data(env).objectClass.New({});
  BpfObject::Unwrap(wrapper)->Adopt(obj, std::move(elf));
  programs.Freeze();
  wrapper.DefineProperty(Napi::PropertyDescriptor::Value("programs", programs, napi_enumerable));
  if (wantLogs) {
    Napi::Object verifierLogs = Napi::Object::New(env);
    for (const auto& [name, buf] : logs) verifierLogs.Set(name, Napi::String::New(env, buf.get()));
    wrapper.DefineProperty(Napi::PropertyDescriptor::Value("verifierLogs", verifierLogs, napi_enumerable));
  }
  return wrapper;
}

BpfObject* UnwrapObject(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsObject() ||
      !info[i].As<Napi::Object>().InstanceOf(Data(env).objectClass.Value()))
    throw Napi::TypeError::New(env, "argument 'obj' must be a NativeObject from loadObject()");
  return BpfObject::Unwrap(info[i].As<Napi::Object>());
}

// Wraps a new link, or throws with libbpf's log if attaching failed (libbpf returns NULL and
// sets errno).
Napi::Value MakeLink(Napi::Env env, bpf_link* link, int err, BpfObject* owner, Napi::Object ownerJs,
                     const std::string& what, const std::string& log) {
  if (!link) ThrowErrno(env, what, err ? err : EINVAL, log);
  Napi::Object wrapper;
  try {
    wrapper = Data(env).linkClass.New({});
  } catch (...) {
    bpf_link__destroy(link);
    throw;
  }
  BpfLink::Unwrap(wrapper)->Adopt(link, owner, ownerJs);
  return wrapper;
}

Napi::Value AttachTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfObject* obj = UnwrapObject(info, 0);
  std::string program = ArgString(info, 1, "program"), category = ArgString(info, 2, "category"),
              event = ArgString(info, 3, "event");
  bpf_program* prog = obj->Program(env, program);
  LibbpfLogCapture capture;
  bpf_link* link = bpf_program__attach_tracepoint(prog, category.c_str(), event.c_str());
  int err = errno;
  return MakeLink(env, link, err, obj, info[0].As<Napi::Object>(),
                  "cannot attach " + program + " to tracepoint " + category + ":" + event, capture.text());
}

Napi::Value AttachRawTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfObject* obj = UnwrapObject(info, 0);
  std::string program = ArgString(info, 1, "program"), event = ArgString(info, 2, "event");
  bpf_program* prog = obj->Program(env, program);
  LibbpfLogCapture capture;
  bpf_link* link = bpf_program__attach_raw_tracepoint(prog, event.c_str());
  int err = errno;
  return MakeLink(env, link, err, obj, info[0].As<Napi::Object>(),
                  "cannot attach " + program + " to raw tracepoint " + event, capture.text());
}

Napi::Value AttachKprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfObject* obj = UnwrapObject(info, 0);
  std::string program = ArgString(info, 1, "program"), func = ArgString(info, 2, "func");
  bool retprobe = info.Length() > 3 && info[3].ToBoolean().Value();
  int64_t offset = info.Length() > 4 && !info[4].IsUndefined() ? ArgI64(info, 4, "offset") : 0;
  bpf_program* prog = obj->Program(env, program);
  LIBBPF_OPTS(bpf_kprobe_opts, opts, .offset = static_cast<size_t>(offset), .retprobe = retprobe);
  LibbpfLogCapture capture;
  bpf_link* link = bpf_program__attach_kprobe_opts(prog, func.c_str(), &opts);
  int err = errno;
  return MakeLink(env, link, err, obj, info[0].As<Napi::Object>(),
                  std::string("cannot attach ") + program + " to " + (retprobe ? "kretprobe " : "kprobe ") + func,
                  capture.text());
}

Napi::Value AttachUprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfObject* obj = UnwrapObject(info, 0);
  std::string program = ArgString(info, 1, "program"), binary = ArgString(info, 2, "binary");
  int64_t offset = ArgI64(info, 3, "offset");
  bool retprobe = info.Length() > 4 && info[4].ToBoolean().Value();
  int32_t pid = ArgI32(info, 5, "pid");
  int64_t refCtrOffset = info.Length() > 6 && !info[6].IsUndefined() ? ArgI64(info, 6, "refCtrOffset") : 0;
  bpf_program* prog = obj->Program(env, program);
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .ref_ctr_offset = static_cast<size_t>(refCtrOffset),
              .retprobe = retprobe);
  LibbpfLogCapture capture;
  bpf_link* link = bpf_program__attach_uprobe_opts(prog, pid, binary.c_str(), static_cast<size_t>(offset), &opts);
  int err = errno;
  return MakeLink(env, link, err, obj, info[0].As<Napi::Object>(),
                  std::string("cannot attach ") + program + " to " + (retprobe ? "uretprobe " : "uprobe ") +
                      binary + "+0x" + [&] { std::ostringstream s; s << std::hex << offset; return s.str(); }(),
                  capture.text());
}

// Opens the perf event `attr` describes and attaches `prog` to it; the link owns the event's fd.
Napi::Value AttachToNewPerfEvent(const Napi::CallbackInfo& info, BpfObject* obj, bpf_program* prog,
                                 perf_event_attr& attr, int32_t pid, int32_t cpu, const std::string& what) {
  Napi::Env env = info.Env();
  int pfd = static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0) ThrowErrno(env, what + ": perf_event_open", errno);
  LibbpfLogCapture capture;
  bpf_link* link = bpf_program__attach_perf_event(prog, pfd);
  int err = errno;
  if (!link) close(pfd);  // on success the link owns the perf fd and closes it on destroy
  return MakeLink(env, link, err, obj, info[0].As<Napi::Object>(), what, capture.text());
}

// A hardware breakpoint (PERF_TYPE_BREAKPOINT) on `addr` of `len` bytes; bpType is HW_BREAKPOINT_R (1),
// W (2), RW (3) or X (4). One event per cpu (pid -1) or per process (cpu -1).
Napi::Value AttachBreakpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BpfObject* obj = UnwrapObject(info, 0);
  std::string program = ArgString(info, 1, "program");
  int64_t addr = ArgI64(info, 2, "address");
  uint32_t len = ArgU32(info, 3, "length");
  uint32_t bpType = ArgU32(info, 4, "bpType");
  int32_t cpu = ArgI32(info, 5, "cpu");
  int32_t pid = ArgI32(info, 6, "pid");
  bpf_program* prog = obj->Program(env, program);

  perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_BREAKPOINT;
  attr.bp_type = bpType;
  attr.bp_addr = static_cast<uint64_t>(addr);
  attr.bp_len = len;
  attr.sample_period = 1;
  attr.disabled = 1;
  std::ostringstream what;
  what << "cannot attach " << program << " to watchpoint 0x" << std::hex << addr << std::dec << " (length " << len
       << ", type " << bpType << ", cpu " << cpu << ", pid " << pid << ")";
  return AttachToNewPerfEvent(info, obj, prog, attr, pid, cpu, what.str());
}

Napi::Value RunProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "progFd");
  unsigned int retval = 0;
  int err = tl_run_program(fd, &retval);
  if (err) ThrowErrno(env, "cannot run BPF program (test run)", -err);
  return Napi::Number::New(env, retval);
}

// Runs an XDP program `repeat` times in a row with BPF_PROG_TEST_RUN (bench: probes); returns
// its last retval and the kernel's average time of one run in ns.
Napi::Value BenchProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "progFd");
  uint32_t repeat = ArgU32(info, 1, "repeat");
  // XDP test runs need at least an Ethernet header of packet data (ETH_HLEN), else EINVAL.
  unsigned char packet[14] = {0};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = repeat);
  if (bpf_prog_test_run_opts(fd, &opts) != 0) ThrowErrno(env, "cannot run BPF program (test run)", errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", Napi::Number::New(env, opts.retval));
  result.Set("durationNs", Napi::Number::New(env, opts.duration));
  return result;
}

// Whether programs of `type` may call the kernel function (kfunc) with BTF id `btfId`: loads
// `r1 = 0; call kfunc; r0 = 0; exit` and looks for the verifier's refusal, as bpftrace's
// kfunc_allowed(). The program itself may be rejected for other reasons (an unreleased
// reference), which do not matter here; a refusal of the call does. null: the load was refused
// before the verifier ran (no privilege), so the answer is unknown.
Napi::Value KfuncAllowed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t btfId = ArgI32(info, 0, "btfId");
  std::string typeName = ArgString(info, 1, "programType");
  bpf_prog_type type;
  if (!ProgramType(typeName, &type)) throw Napi::TypeError::New(env, "unknown program type '" + typeName + "'");
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0},
      {BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, btfId},
      {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  static char log[4096];
  log[0] = '\0';
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof(log), .log_buf = log);
  int fd = bpf_prog_load(type, "tl_kfunc_probe", "GPL", insns, 4, &opts);
  if (fd >= 0) {
    close(fd);
    return Napi::Boolean::New(env, true);
  }
  // No log: the load was refused before verification (EPERM without root), so nobody knows.
  if (log[0] == '\0') return env.Null();
  bool refused = strstr(log, "is not allowed") != nullptr || strstr(log, "not supported") != nullptr;
  return Napi::Boolean::New(env, !refused);
}

// programInfo(fd): { id, recursionMisses } of a loaded program, by BPF_OBJ_GET_INFO_BY_FD (reading
// /proc/self/fdinfo instead is an openat the user's own syscall probes would see, every second).
Napi::Value ProgramInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  bpf_prog_info prog;
  memset(&prog, 0, sizeof(prog));
  uint32_t len = sizeof(prog);
  if (bpf_obj_get_info_by_fd(fd, &prog, &len) != 0) ThrowErrno(env, "fd " + std::to_string(fd) + " is not a BPF program", errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, prog.id));
  out.Set("recursionMisses", Napi::BigInt::New(env, static_cast<uint64_t>(prog.recursion_misses)));
  return out;
}

}  // namespace

void InitObject(Napi::Env env, Napi::Object exports) {
  Data(env).objectClass = Napi::Persistent(BpfObject::Class(env));
  Data(env).linkClass = Napi::Persistent(BpfLink::Class(env));
  exports.Set("loadObject", Napi::Function::New(env, LoadObject, "loadObject"));
  exports.Set("ringBufferInBackground", Napi::Function::New(env, RingBufferInBackground, "ringBufferInBackground"));
  exports.Set("programInfo", Napi::Function::New(env, ProgramInfo, "programInfo"));
  exports.Set("attachTracepoint", Napi::Function::New(env, AttachTracepoint, "attachTracepoint"));
  exports.Set("attachRawTracepoint", Napi::Function::New(env, AttachRawTracepoint, "attachRawTracepoint"));
  exports.Set("attachKprobe", Napi::Function::New(env, AttachKprobe, "attachKprobe"));
  exports.Set("attachUprobe", Napi::Function::New(env, AttachUprobe, "attachUprobe"));
  exports.Set("attachBreakpoint", Napi::Function::New(env, AttachBreakpoint, "attachBreakpoint"));
  exports.Set("runProgram", Napi::Function::New(env, RunProgram, "runProgram"));
  exports.Set("benchProgram", Napi::Function::New(env, BenchProgram, "benchProgram"));
  exports.Set("kfuncAllowed", Napi::Function::New(env, KfuncAllowed, "kfuncAllowed"));
}

}  // namespace tracelet
