// phrony-coro's network layer: HTTP/1.1 exchanges with Boost.Beast in C++20 coroutines, over
// TCP for http:// URLs and TLS (OpenSSL, peer and host-name verification on) for https://.
// Beast parses the responses (chunked bodies, header and body limits); phrony's sans-IO layer
// (phrony/exchange.hpp) decides what they mean. One connection per exchange, closed when it
// ends. Beast and OpenSSL stay inside net.cpp (they are most of the compile time).
#pragma once

#include <phrony/error.hpp>
#include <phrony/transport.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace phrony_coro {

namespace net = boost::asio;
template <class T> using awaitable = net::awaitable<T>;

/// Ends everything at once (the overall --timeout): every socket and timer in use registers a
/// canceller here; stop() runs them all, and nothing new starts after it.
class stopper {
public:
  /// Unregisters its canceller when it goes out of scope.
  class registration {
  public:
    registration(stopper& s, std::uint64_t id) : s_(&s), id_(id) {}
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
    ~registration() { s_->cancellers_.erase(id_); }

  private:
    stopper* s_;
    std::uint64_t id_;
  };

  [[nodiscard]] bool stopped() const noexcept { return stopped_; }
  [[nodiscard]] registration add(std::function<void()> cancel) {
    cancellers_.emplace(++next_, std::move(cancel));
    return {*this, next_};
  }
  /// How many sockets and timers are registered (0 once everything ended).
  [[nodiscard]] std::size_t open() const noexcept { return cancellers_.size(); }
  void stop() {
    stopped_ = true;
    auto all = std::move(cancellers_);
    cancellers_.clear();
    for (auto& [id, cancel] : all) {
      cancel();
    }
  }

private:
  std::map<std::uint64_t, std::function<void()>> cancellers_;
  std::uint64_t next_ = 0;
  bool stopped_ = false;
};

/// What every exchange needs: the TLS context (CA store) and the stopper.
struct io_env {
  net::ssl::context& tls;
  stopper& stop;
};

/// A TLS client context: TLS 1.2 or later, the peer's certificate verified against the CAs in
/// `ca_file` (PEM), or the system's store when it is empty. nullptr and `why` on failure.
std::shared_ptr<net::ssl::context> make_tls_context(const std::string& ca_file, std::string& why);

/// Waits `d`; false when stop() came first.
awaitable<bool> sleep_for(io_env& env, std::chrono::milliseconds d);

/// A whole response (any status; the body bounded by req.max_response_body, else 64 MiB), or
/// the transport error; bounded by req.timeout (0: none) from connect to the last body byte.
awaitable<phrony::result<phrony::http_response>> send(io_env& env, const phrony::http_request& req);

/// The response handed to `h` as it arrives; see phrony::streaming_transport::stream.
awaitable<phrony::result<void>> stream(io_env& env, const phrony::http_request& req,
                                       const phrony::stream_handler& h);

} // namespace phrony_coro
