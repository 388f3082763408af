// phrony-emulator: connection capacity (capacity.hpp).
#include "capacity.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <system_error>
#include <utility>

namespace emu {

void connection_pool::enqueue(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (shutdown_) {
    return; // never: cpp-httplib stops accepting before it shuts its queue down
  }
  jobs_.push_back(std::move(fn));
  // Every waiting job has an idle thread coming for it, or a new one starts (up to max_).
  if (jobs_.size() > idle_ && threads_.size() < max_) {
    try {
      threads_.emplace_back([this] { work(); });
      return;
    } catch (const std::system_error&) {
      // The system's thread limit came first (ulimit -u, memory): serve with what runs.
      max_ = std::max<std::size_t>(threads_.size(), 1);
    }
  }
  ready_.notify_one();
}

void connection_pool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  ready_.notify_all();
  for (std::thread& t : threads) {
    t.join();
  }
}

void connection_pool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {
      return; // shutdown_, and nothing left to serve
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

std::size_t raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return 1024;
  }
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      lim = raised;
    }
  }
  return lim.rlim_cur == RLIM_INFINITY ? static_cast<std::size_t>(-1)
                                       : static_cast<std::size_t>(lim.rlim_cur);
}

std::shared_ptr<int> watch_listener(httplib::Server& server) {
  auto fd = std::make_shared<int>(-1);
  // cpp-httplib 0.11 calls this for the listening socket only, before it binds.
  server.set_socket_options([fd](socket_t sock) {
    httplib::default_socket_options(sock);
    if (*fd < 0) {
      *fd = sock;
    }
  });
  return fd;
}

bool widen_backlog(int fd, int backlog) {
  // Linux: listen() on a listening socket changes its backlog and nothing else.
  return fd >= 0 && ::listen(fd, backlog) == 0;
}

} // namespace emu
