// Ring buffer consumer: a collector thread, and Node's own loop.
//
// The ring is read here, not through libbpf's ring_buffer: libbpf maps the data area twice in a
// row so that a record that wraps reads as one piece, and the kernel maps every page at mmap
// time, so a 16 MiB ring showed as 33 MiB of tracelet's resident memory from the first moment
// (a 1 MiB one as 2.8 MiB: a third of what `BEGIN { exit(); }` adds to Node). Here the data is
// read through a window of at most kWindowBytes mapped where the records being read are, and
// moved along with them: the kernel keeps the data pages twice in a row too, so a window may run
// past the ring's end and a record that wraps reads as one piece. The ring's pages are then the
// kernel's memory, not the tracer's: a 16 MiB ring weighs 1 MiB in its resident memory.
// Records are copied into chunks of about 1 MiB as [u32 len][bytes][pad to 8] and handed out a
// chunk per drain(), as the Buffer's own memory (no copy): JavaScript formats a stream a batch of
// ~25,000 printf records at a time, so neither its input nor its output ever holds tens of MiB
// (a backlog of 32 MiB in one drain had the process at 2-2.8x bpftrace's resident memory in an
// unpaced stream), and a chunk's memory goes back to the system once used. Records wait in the
// ring until drain() takes them; a collector thread looks at the ring every millisecond or so
// while records come or wait, and moves them into chunks once it is half full: the ring
// overflows only if that thread does not run for as long as half the ring lasts, never because
// JavaScript is busy formatting or collecting garbage (a printf on every syscall of a busy
// process fills 16 MiB in ~0.3 s). When the ring holds nothing the thread sleeps until a
// record's wake-up (an idle run costs no polling), or until close() wakes it. The thread is named
// like the process (`tracelet`) and blocks every signal. If JS lets more than kMaxPending bytes
// pile up, collecting pauses until the next drain(): back-pressure instead of unbounded memory
// (the kernel then counts the events it cannot put in the ring as lost).
//
// The thread waits in epoll_wait on the map's fd between collections, so it sees the kernel's
// wake-ups (a probe's record when this thread had read everything before it, and exit()'s
// always: codegen/helpers.ts) and collects at once, at most every kCollectBusyMs; it calls
// onReadable on Node's loop through a uv_async handle on a wake-up, and when its polls found
// records at most every kTellEvery, so JS needs no timer to drain. Wake-ups, not data, make the fd readable: a
// level-triggered watch would report records sent with BPF_RB_NO_WAKEUP at every wait, and a
// tracer whose probes fire on its own syscalls would spin (reference/measured-facts.md). So the
// fd is watched edge-triggered: readable again only when the kernel sends a new wake-up.
#include "common.h"
#include "fd-wait.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace tracelet {

namespace {

constexpr size_t kMaxPending = 64u << 20;  // bytes held between drains before collecting pauses
constexpr size_t kChunkBytes = 1u << 20;    // records handed out per drain() (one is never split)
constexpr size_t kWindowBytes = 1u << 20;   // the data mapped at a time (the whole ring if smaller)
constexpr int kCollectBusyMs = 1;           // the collector's wait after finding records
// ... when the ring holds nothing: a record then wakes the thread (the kernel wakes a reader
// that has read everything), so this wait is only a safety net, and an idle run costs no CPU.
constexpr int kCollectIdleMs = 250;
constexpr std::chrono::milliseconds kTellEvery{10};  // records wake JS at most this often

class RingConsumer : public Napi::ObjectWrap<RingConsumer> {
 public:
  static Napi::Function Class(Napi::Env env) {
    return DefineClass(env, "RingBufferConsumer",
                       {InstanceMethod<&RingConsumer::Drain>("drain"),
                        InstanceMethod<&RingConsumer::Close>("close")});
  }

  explicit RingConsumer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingConsumer>(info) {}
  ~RingConsumer() override { CloseNative(); }

  void Open(Napi::Env env, int mapFd, Napi::Function onReadable) {
    env_ = env;
    bpf_map_info info;
    memset(&info, 0, sizeof(info));
    uint32_t infoLen = sizeof(info);
    if (bpf_obj_get_info_by_fd(mapFd, &info, &infoLen) != 0)
      ThrowErrno(env, "cannot read ring buffer map fd " + std::to_string(mapFd), errno);
    if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
        (info.max_entries & (info.max_entries - 1)) != 0)
      throw Napi::Error::New(env, "map fd " + std::to_string(mapFd) + " is not a ring buffer");
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    mask_ = info.max_entries - 1;
    // The consumer's position: the one page user space may write.
    void* consumer = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
    if (consumer == MAP_FAILED) ThrowErrno(env, "cannot map ring buffer map fd " + std::to_string(mapFd), errno);
    consumerPos_ = static_cast<uint64_t*>(consumer);
    // The producer's position; the data is mapped a window at a time (see the top of this file).
    void* producer = mmap(nullptr, page_, PROT_READ, MAP_SHARED, mapFd, static_cast<off_t>(page_));
    if (producer == MAP_FAILED) {
      int err = errno;
      CloseNative();
      ThrowErrno(env, "cannot map ring buffer map fd " + std::to_string(mapFd), err);
    }
    producerPos_ = static_cast<uint64_t*>(producer);
    windowFd_ = dup(mapFd);
    if (windowFd_ < 0 || !MapWindow(0, std::min<size_t>(kWindowBytes, mask_ + 1))) {
      int err = errno;
      CloseNative();
      ThrowErrno(env, "cannot map ring buffer map fd " + std::to_string(mapFd), err);
    }
    if (int err = wait_.Open(mapFd, EPOLLIN | EPOLLET)) {
      CloseNative();
      ThrowErrno(env, "cannot watch ring buffer map fd " + std::to_string(mapFd), err);
    }
    callback_ = Napi::Persistent(onReadable);
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "tracelet:ringbuf");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
      CloseNative();
      throw Napi::Error::New(env, "cannot get the libuv loop");
    }
    wake_ = new uv_async_t;
    int err = uv_async_init(loop, wake_, &RingConsumer::OnWake);
    if (err) {
      delete wake_;
      wake_ = nullptr;
      CloseNative();
      throw Napi::Error::New(env, std::string("uv_async_init: ") + uv_strerror(err));
    }
    wake_->data = this;
    collector_ = std::thread([this] { Collect(); });
    // The open consumer must outlive any JS reference to it: its handle keeps the loop alive
    // until close(), so it must not be collected (and closed) behind the caller's back.
    Ref();
    referenced_ = true;
  }

 private:
  // Moves available records into the chunks (mutex_ held), until at least `bytes` of the ring are
  // consumed or none is left: as the kernel's ring format defines it (each record an 8-byte
  // header, its length with a busy and a discard bit, then the data, padded to 8), as libbpf's
  // ringbuf_process_ring reads it.
  void Consume(size_t bytes) {
    size_t consumed = 0;
    uint64_t cons = __atomic_load_n(consumerPos_, __ATOMIC_ACQUIRE);
    uint64_t prod = __atomic_load_n(producerPos_, __ATOMIC_ACQUIRE);
    while (cons < prod && consumed < bytes) {
      const uint8_t* at = Data(cons & mask_, BPF_RINGBUF_HDR_SZ);
      if (!at) break;  // not mapped: the records wait, and the next collection tries again
      auto* header = reinterpret_cast<const uint32_t*>(at);
      uint32_t len = __atomic_load_n(header, __ATOMIC_ACQUIRE);
      if (len & BPF_RINGBUF_BUSY_BIT) break;  // still being written: the records after it wait
      uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (!(len & BPF_RINGBUF_DISCARD_BIT) && !Append(cons + BPF_RINGBUF_HDR_SZ, size)) break;
      size_t step = (BPF_RINGBUF_HDR_SZ + size + 7) & ~size_t(7);
      cons += step;
      consumed += step;
      __atomic_store_n(consumerPos_, cons, __ATOMIC_RELEASE);
      if (cons >= prod) prod = __atomic_load_n(producerPos_, __ATOMIC_ACQUIRE);
    }
  }

  // Copies the record of `size` bytes at ring position `at` to the last chunk (a new one when it is
  // full); false if its bytes could not be mapped (nothing copied).
  bool Append(uint64_t at, uint32_t size) {
    const uint8_t* from = Data(at & mask_, size);
    if (!from) return false;
    size_t padded = (4 + size + 7) & ~size_t(7);
    if (chunks_.empty() || chunks_.back().size() + padded > chunks_.back().capacity()) {
      chunks_.emplace_back();
      chunks_.back().reserve(std::max(kChunkBytes, padded));
    }
    auto& out = chunks_.back();
    size_t start = out.size();
    out.resize(start + padded);
    pendingBytes_ += padded;
    memcpy(&out[start], &size, 4);
    memcpy(&out[start + 4], from, size);
    memset(&out[start + 4 + size], 0, padded - 4 - size);
    return true;
  }

  // The `n` bytes of data from ring offset `offset` (< the ring's size), contiguous: the window
  // is moved to begin at their page when it does not hold them all. Null if that mapping fails.
  const uint8_t* Data(size_t offset, size_t n) {
    if (window_ && offset >= windowOffset_ && offset + n <= windowOffset_ + windowBytes_) return window_ + (offset - windowOffset_);
    size_t start = offset & ~(page_ - 1);
    size_t bytes = std::max(std::min<size_t>(kWindowBytes, mask_ + 1), (offset + n - start + page_ - 1) & ~(page_ - 1));
    // The data is there twice in a row: a window may end up to one ring's size past its end.
    bytes = std::min(bytes, 2 * (mask_ + 1) - start);
    if (!MapWindow(start, bytes)) return nullptr;
    return window_ + (offset - start);
  }

  // Maps `bytes` of the data from ring offset `start` (page-aligned) as the window.
  bool MapWindow(size_t start, size_t bytes) {
    if (window_) munmap(window_, windowBytes_);
    window_ = nullptr;
    windowBytes_ = 0;
    void* data = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, windowFd_, static_cast<off_t>(2 * page_ + start));
    if (data == MAP_FAILED) return false;
    window_ = static_cast<uint8_t*>(data);
    windowOffset_ = start;
    windowBytes_ = bytes;
    return true;
  }

  // The collector thread: waits for a wake-up or its next turn, empties the ring into the chunks,
  // and tells the loop about wake-ups; until CloseNative() stops it.
  void Collect() {
    BlockSignalsInThisThread();
    bool busy = false;
    uint64_t lastProduced = 0;
    auto told = std::chrono::steady_clock::now() - kTellEvery;
    while (!wait_.stopped()) {
      int woken = wait_.Wait(busy ? kCollectBusyMs : kCollectIdleMs);
      if (wait_.stopped()) break;
      bool waiting;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        uint64_t produced = __atomic_load_n(producerPos_, __ATOMIC_ACQUIRE);
        size_t held = produced - __atomic_load_n(consumerPos_, __ATOMIC_ACQUIRE);
        // Records wait in the ring, whose memory is there anyway, and drain() takes them from it;
        // only past half full are they moved out (to a quarter), so that a busy JavaScript never
        // lets the ring overflow.
        if (held > (mask_ + 1) / 2 && pendingBytes_ < kMaxPending) Consume(held - (mask_ + 1) / 4);
        waiting = held != 0 || pendingBytes_ != 0;
        // Records that came, or wait to be read: new ones wake nobody until they are read.
        busy = produced != lastProduced || waiting;
        lastProduced = produced;
      }
      // The loop is told of a wake-up at once (an event after a quiet spell is printed at once),
      // of records the polls found at most every kTellEvery: JS drains when there is something to
      // drain, not on a timer (an idle run costs no JS wake-ups).
      auto now = std::chrono::steady_clock::now();
      if (waiting && (woken > 0 || now - told >= kTellEvery)) {
        uv_async_send(wake_);
        told = now;
      }
      // Probes wake the ring when this thread has read everything before their record, so a
      // steady stream would wake it for nearly every record, and a probe that fires on tracelet's
      // own syscalls (its writes of what it printed) would drive it round without pause: after a
      // wake-up it reads again only kCollectBusyMs later (what came meanwhile woke it once, or
      // not at all).
      if (woken > 0) std::this_thread::sleep_for(std::chrono::milliseconds(kCollectBusyMs));
    }
  }

  static void OnWake(uv_async_t* handle) {
    auto* self = static_cast<RingConsumer*>(handle->data);
    if (!self || !self->producerPos_) return;
    CallFromLoop(self->env_, self, self->callback_, *self->asyncContext_);
  }

  // The oldest chunk of records (an empty Buffer when there are none), its memory the Buffer's.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!producerPos_) throw Napi::Error::New(env, "the ring buffer consumer is closed");
    auto* chunk = new std::vector<uint8_t>();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (chunks_.empty()) Consume(kChunkBytes);
      if (!chunks_.empty()) {
        chunk->swap(chunks_.front());
        chunks_.pop_front();
        pendingBytes_ -= chunk->size();
      }
    }
    if (chunk->empty()) {
      delete chunk;
      return Napi::Buffer<uint8_t>::New(env, 0);
    }
    return Napi::Buffer<uint8_t>::New(env, chunk->data(), chunk->size(),
                                      [](Napi::Env, uint8_t*, std::vector<uint8_t>* c) { delete c; }, chunk);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNative();
    return info.Env().Undefined();
  }

  void CloseNative() {
    if (collector_.joinable()) {
      wait_.Stop();
      collector_.join();
    }
    if (wake_) {
      // The handle's memory must live until the close callback.
      wake_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(wake_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      wake_ = nullptr;
    }
    wait_.Close();
    if (window_) munmap(window_, windowBytes_);
    window_ = nullptr;
    if (windowFd_ >= 0) close(windowFd_);
    windowFd_ = -1;
    if (consumerPos_) munmap(consumerPos_, page_);
    consumerPos_ = nullptr;
    if (producerPos_) {
      munmap(producerPos_, page_);
      producerPos_ = nullptr;
      // Drop the self-reference taken in Open(); in a finalizer the count is already 0.
      if (referenced_ && !finalizing_) Unref();
      referenced_ = false;
    }
    chunks_.clear();
    pendingBytes_ = 0;
    if (!callback_.IsEmpty()) callback_.Reset();
    asyncContext_.reset();
  }

  void Finalize(Napi::Env env) override { finalizing_ = true; }

  uint64_t* consumerPos_ = nullptr;
  uint64_t* producerPos_ = nullptr;
  uint8_t* window_ = nullptr;  // the data mapped now: windowBytes_ from ring offset windowOffset_
  size_t windowOffset_ = 0;
  size_t windowBytes_ = 0;
  int windowFd_ = -1;  // the map's, kept to move the window
  uint64_t mask_ = 0;         // the data area's size - 1 (a power of two)
  size_t page_ = 0;           // the consumer position's mapping; the producer's is page_ + mask_ + 1
  FdWait wait_;  // the collector's, for the kernel's wake-ups (or close())
  uv_async_t* wake_ = nullptr;
  bool finalizing_ = false;
  bool referenced_ = false;
  // Guards the consumer position and the chunks (collector thread and JS thread).
  std::mutex mutex_;
  std::thread collector_;
  std::deque<std::vector<uint8_t>> chunks_;  // records not yet handed out, oldest first
  size_t pendingBytes_ = 0;                  // bytes in chunks_
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::Env env_ = Napi::Env(nullptr);
};

Napi::Value RingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "mapFd");
  if (info.Length() < 2 || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "argument 'onReadable' must be a function");
  Napi::Object wrapper = Data(env).ringClass.New({});
  RingConsumer::Unwrap(wrapper)->Open(env, fd, info[1].As<Napi::Function>());
  return wrapper;
}

}  // namespace

void InitRingBuffer(Napi::Env env, Napi::Object exports) {
  Data(env).ringClass = Napi::Persistent(RingConsumer::Class(env));
  exports.Set("ringBuffer", Napi::Function::New(env, RingBuffer, "ringBuffer"));
}

}  // namespace tracelet
