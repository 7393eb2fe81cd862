// A thread's wait for a map's fd to be readable, which another thread can end at once: an epoll
// set of the fd and an eventfd that Stop() writes. The ring buffer's collector (ringbuf.cc) and
// the process maps reader (process-maps.cc) each wait in one.
#pragma once

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tracelet {

// For a thread of the addon's own: signals are the main thread's.
inline void BlockSignalsInThisThread() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

class FdWait {
 public:
  FdWait() = default;
  FdWait(const FdWait&) = delete;
  FdWait& operator=(const FdWait&) = delete;
  ~FdWait() { Close(); }

  // Watches `fd` for `events` (EPOLLIN, maybe EPOLLET); 0, or the errno of what failed.
  int Open(int fd, uint32_t events) {
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    stopFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event watched;
    memset(&watched, 0, sizeof watched);
    watched.events = events;
    epoll_event stop;
    memset(&stop, 0, sizeof stop);
    stop.events = EPOLLIN;
    if (epollFd_ < 0 || stopFd_ < 0 || epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &watched) != 0 ||
        epoll_ctl(epollFd_, EPOLL_CTL_ADD, stopFd_, &stop) != 0) {
      int err = errno;
      Close();
      return err;
    }
    return 0;
  }

  // Waits up to `timeoutMs` (-1: no limit): > 0 when woken (the fd, or Stop()), 0 on the timeout.
  int Wait(int timeoutMs) {
    epoll_event events[2];
    return epoll_wait(epollFd_, events, 2, timeoutMs);
  }

  bool stopped() const { return stopped_.load(); }

  // Ends the wait now and every one after it.
  void Stop() {
    stopped_.store(true);
    uint64_t one = 1;
    if (stopFd_ >= 0 && write(stopFd_, &one, sizeof one) < 0) {}
  }

  void Close() {
    if (epollFd_ >= 0) close(epollFd_);
    epollFd_ = -1;
    if (stopFd_ >= 0) close(stopFd_);
    stopFd_ = -1;
  }

 private:
  int epollFd_ = -1;
  int stopFd_ = -1;
  std::atomic<bool> stopped_{false};
};

}  // namespace tracelet
