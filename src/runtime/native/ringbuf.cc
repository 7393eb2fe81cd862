// Ring buffer consumer: a collector thread, and Node's own loop.
//
// libbpf's ring_buffer copies nothing: its callback sees each record in the mapped ring. We copy
// records into `pending_` as [u32 len][bytes][pad to 8] and hand that out in one Buffer per
// drain(). A collector thread empties the ring into `pending_` every millisecond or so while
// events come (every 5 ms when idle): the ring overflows only if that thread does not run for
// as long as the ring lasts, never because JavaScript is busy formatting or collecting garbage
// (a printf on every syscall of a busy process fills 16 MiB in ~0.3 s). The thread is named
// like the process (`tracelet`) and blocks every signal. If JS lets more than kMaxPending bytes
// pile up, collecting pauses until the next drain(): back-pressure instead of unbounded memory
// (the kernel then counts the events it cannot put in the ring as lost).
//
// The thread waits in epoll_wait on ring_buffer__epoll_fd() between collections, so it sees the
// kernel's wake-ups (records sent without BPF_RB_NO_WAKEUP, e.g. exit()) and then calls
// onReadable on Node's loop through a uv_async handle; it calls it too when it has collected
// records (at most every kTellEvery), so JS needs no timer to drain. Wake-ups, not data, make
// the fd readable: libbpf registers the ring level-triggered, which would report records sent with
// BPF_RB_NO_WAKEUP at every wait, and a tracer whose probes fire on its own syscalls would spin
// (reference/measured-facts.md). So the ring is switched to edge-triggered: the fd becomes
// readable again only when the kernel sends a new wake-up.
#include "common.h"

#include <bpf/libbpf.h>
#include <signal.h>
#include <sys/epoll.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace tracelet {

namespace {

constexpr size_t kMaxPending = 64u << 20;  // bytes held between drains before collecting pauses
constexpr size_t kMaxPerDrain = 32u << 20;  // bytes consumed per call, so no drain runs unbounded
constexpr int kStop = -ECANCELED;           // callback result meaning "enough for now"
constexpr int kCollectBusyMs = 1;           // the collector's wait after finding records
constexpr int kCollectIdleMs = 5;           // ... after finding none
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
    {
      LibbpfLogCapture capture;
      rb_ = ring_buffer__new(mapFd, &RingConsumer::OnRecord, this, nullptr);
      if (!rb_) ThrowErrno(env, "cannot open ring buffer map fd " + std::to_string(mapFd), errno, capture.text());
    }
    epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = 0;  // libbpf's ring index, as ring_buffer__new set it
    if (epoll_ctl(ring_buffer__epoll_fd(rb_), EPOLL_CTL_MOD, mapFd, &ev) != 0) {
      int err = errno;
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
  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingConsumer*>(ctx);
    auto& out = self->pending_;
    size_t at = out.size();
    size_t padded = (4 + size + 7) & ~size_t(7);
    out.resize(at + padded);
    uint32_t len = static_cast<uint32_t>(size);
    memcpy(&out[at], &len, 4);
    memcpy(&out[at + 4], data, size);
    memset(&out[at + 4 + size], 0, padded - 4 - size);
    // The record is already consumed when we stop here (libbpf advances past it first).
    self->consumed_ += padded;
    return self->consumed_ >= kMaxPerDrain ? kStop : 0;
  }

  // Moves available records into pending_ (mutex_ held). Returns a negative errno on failure.
  int Consume() {
    consumed_ = 0;
    int n = ring_buffer__consume(rb_);
    if (n == kStop) return 0;
    return n < 0 ? n : 0;
  }

  // The collector thread: waits for a wake-up or its next turn, empties the ring into pending_,
  // and tells the loop about wake-ups; until CloseNative() stops it.
  void Collect() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);  // signals are the main thread's
    int epfd = ring_buffer__epoll_fd(rb_);
    bool found = false;
    auto told = std::chrono::steady_clock::now() - kTellEvery;
    while (!stop_.load()) {
      epoll_event events[4];
      int woken = epoll_wait(epfd, events, 4, found ? kCollectBusyMs : kCollectIdleMs);
      bool waiting;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        size_t before = pending_.size();
        if (before < kMaxPending) Consume();  // an error shows at the next drain(), which consumes too
        found = pending_.size() != before;
        waiting = !pending_.empty();
      }
      // The loop is told of a wake-up at once, of records at most every kTellEvery: JS drains
      // when there is something to drain, not on a timer (an idle run costs no JS wake-ups).
      auto now = std::chrono::steady_clock::now();
      if (woken > 0 || (waiting && now - told >= kTellEvery)) {
        uv_async_send(wake_);
        told = now;
      }
    }
  }

  static void OnWake(uv_async_t* handle) {
    auto* self = static_cast<RingConsumer*>(handle->data);
    if (!self || !self->rb_) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    try {
      // MakeCallback: runs microtasks afterwards and reports to async hooks, as for any I/O.
      self->callback_.MakeCallback(self->Value(), {}, *self->asyncContext_);
    } catch (const Napi::Error& e) {
      // An exception in onReadable becomes an uncaught exception, as in any I/O callback.
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!rb_) throw Napi::Error::New(env, "the ring buffer consumer is closed");
    std::vector<uint8_t> records;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      int err = Consume();
      if (err < 0) ThrowErrno(env, "ring buffer consume failed", -err);
      records.swap(pending_);
      // The collector's next records go into last time's storage (no reallocation while busy).
      spare_.clear();
      pending_.swap(spare_);
    }
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, records.data(), records.size());
    records.clear();
    if (records.capacity() <= kMaxPending) {
      std::lock_guard<std::mutex> lock(mutex_);
      spare_.swap(records);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNative();
    return info.Env().Undefined();
  }

  void CloseNative() {
    if (collector_.joinable()) {
      stop_.store(true);
      collector_.join();  // within one wait (kCollectIdleMs)
    }
    if (wake_) {
      // The handle's memory must live until the close callback.
      wake_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(wake_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      wake_ = nullptr;
    }
    if (rb_) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
      // Drop the self-reference taken in Open(); in a finalizer the count is already 0.
      if (referenced_ && !finalizing_) Unref();
      referenced_ = false;
    }
    pending_.clear();
    pending_.shrink_to_fit();
    spare_.clear();
    spare_.shrink_to_fit();
    if (!callback_.IsEmpty()) callback_.Reset();
    asyncContext_.reset();
  }

  void Finalize(Napi::Env env) override { finalizing_ = true; }

  ring_buffer* rb_ = nullptr;
  uv_async_t* wake_ = nullptr;
  bool finalizing_ = false;
  bool referenced_ = false;
  size_t consumed_ = 0;
  // Guards rb_'s consumption, pending_, spare_ and consumed_ (collector thread and JS thread).
  std::mutex mutex_;
  std::atomic<bool> stop_{false};
  std::thread collector_;
  std::vector<uint8_t> pending_;
  std::vector<uint8_t> spare_;  // storage for pending_ after the next drain
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
