// phrony-emulator: how many connections it holds at once (issue 12: 1,000 stream followers).
//
// cpp-httplib serves each connection on one thread from start to end, and an event stream lasts
// as long as its run: a fixed pool of N threads lets N open streams starve every short request
// (the answers those runs wait for queue behind them). So the emulator gives each connection
// its own thread, up to --max-connections, lifts its descriptor limit, and listens with a
// backlog that holds a burst of connects.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace emu {

/// cpp-httplib's task queue with a thread per connection: a connection that arrives while every
/// thread is busy starts a new one, up to `max_threads`; past that it waits for a free thread.
/// Threads stay (idle) once started, and end at shutdown.
class connection_pool final : public httplib::TaskQueue {
public:
  explicit connection_pool(std::size_t max_threads) : max_(max_threads < 1 ? 1 : max_threads) {}
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

private:
  void work();

  std::size_t max_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool shutdown_ = false;
};

/// Raises this process's soft limit on open descriptors to the hard limit (one per connection);
/// returns the soft limit now in force.
std::size_t raise_descriptor_limit();

/// The listening socket of `server`, once bound (-1 before): cpp-httplib creates it out of sight,
/// so this records it through the server's socket options (keeping the default ones).
[[nodiscard]] std::shared_ptr<int> watch_listener(httplib::Server& server);

/// Re-listens on `fd` with `backlog` (the kernel caps it at net.core.somaxconn): cpp-httplib
/// 0.11 listens with CPPHTTPLIB_LISTEN_BACKLOG, 5, compiled into Debian's library, and a burst
/// of connects past it waits out SYN retransmits (1 s, then 3 s ...).
bool widen_backlog(int fd, int backlog);

} // namespace emu
