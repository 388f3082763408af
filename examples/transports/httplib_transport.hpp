// A phrony transport on cpp-httplib, in one header you can copy into your project.
// Satisfies phrony::transport and phrony::streaming_transport. Keeps one keep-alive
// httplib::Client per origin (the API's, and the upload URL's host when it differs).
// Build with the flags of your cpp-httplib (Debian: pkg-config cpp-httplib) so https works.
//
// A server cannot hold it or grow it without bound: cpp-httplib has only per-read timeouts, so
// an overall deadline (http_request::timeout, else httplib_options) is kept by a watchdog that
// shuts the socket down when it passes (a trickle of bytes cannot stretch the exchange) or, on
// Linux, when the response head grows past its bound; a response body past
// http_request::max_response_body (else httplib_options) ends the call with
// errc::limit_exceeded. An exception thrown by a stream_handler callback is caught before it
// reaches cpp-httplib (which would leave its connection state behind) and rethrown from stream().
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#if defined(__linux__)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#endif

#include <phrony/transport.hpp>

namespace phrony_examples {

/// Timeouts and bounds of an httplib_transport; an http_request's own timeout and
/// max_response_body, when set, take precedence.
struct httplib_options {
  std::chrono::seconds connect_timeout{10};
  std::chrono::milliseconds request_timeout{300'000}; ///< whole exchange of a send()
  std::chrono::seconds read_timeout{60}; ///< one read; a stream silent this long is dropped
  std::size_t max_response_body = std::size_t{64} << 20;     ///< of send(), and of a stream's error
  std::size_t max_response_headers = std::size_t{256} << 10; ///< status line and headers (Linux)
};

/// cpp-httplib-backed transport.
class httplib_transport {
public:
  explicit httplib_transport(httplib_options options = {}) : options_(options) {}
  /// The defaults with another per-read timeout.
  explicit httplib_transport(std::chrono::seconds read_timeout)
      : httplib_transport(with_read_timeout(read_timeout)) {}

  phrony::result<phrony::http_response> send(const phrony::http_request& req) {
    auto target = split(req.url);
    if (!target) {
      return std::move(target).error();
    }
    exchange ex(req, options_, /*streaming=*/false);
    httplib::Request hreq = to_httplib(req, target->second);
    phrony::http_response out;
    hreq.response_handler = [&](const httplib::Response&) {
      ex.head_arrived();
      return true;
    };
    hreq.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      if (ex.past_deadline()) {
        return false;
      }
      if (n > ex.max_body - out.body.size()) {
        ex.too_large = true;
        return false;
      }
      out.body.append(data, n);
      return true;
    };
    auto& conn = connection_for(target->first);
    auto res = ex.run(*conn.client, *conn.socket, hreq);
    if (auto err = ex.failure(res)) {
      return std::move(*err);
    }
    out.status = res->status;
    copy_headers(*res, out.headers);
    return out;
  }

  /// Hands the body to `handler` as it arrives. A 2xx body is unbounded (the SSE decoder bounds
  /// events); other statuses' bodies are bounded like send()'s. An exception from a callback
  /// stops the exchange and propagates from here.
  phrony::result<void> stream(const phrony::http_request& req,
                              const phrony::stream_handler& handler) {
    auto target = split(req.url);
    if (!target) {
      return std::move(target).error();
    }
    exchange ex(req, options_, /*streaming=*/true);
    httplib::Request hreq = to_httplib(req, target->second);
    bool error_status = false;
    std::size_t error_body_bytes = 0;
    hreq.response_handler = [&](const httplib::Response& r) {
      ex.head_arrived();
      return ex.guard([&] {
        phrony::response_head head;
        head.status = r.status;
        copy_headers(r, head.headers);
        error_status = r.status < 200 || r.status > 299;
        ex.stopped = handler.on_head && !handler.on_head(head);
        return !ex.stopped;
      });
    };
    hreq.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      if (ex.past_deadline()) {
        return false;
      }
      if (error_status && (error_body_bytes += n) > ex.max_body) {
        ex.too_large = true;
        return false;
      }
      return ex.guard([&] {
        ex.stopped = handler.on_data && !handler.on_data(std::string_view(data, n));
        return !ex.stopped;
      });
    };
    auto& conn = connection_for(target->first);
    auto res = ex.run(*conn.client, *conn.socket, hreq);
    if (auto err = ex.failure(res)) {
      return std::move(*err);
    }
    return {};
  }

private:
  using clock = std::chrono::steady_clock;

  static httplib_options with_read_timeout(std::chrono::seconds read_timeout) {
    httplib_options o;
    o.read_timeout = read_timeout;
    return o;
  }

  // The socket a Client uses now: set by cpp-httplib's socket-options hook at each connect
  // (generation tells a new connection from a reused one), read by the watchdog. Until the next
  // connect it may name a socket cpp-httplib has closed: the count is then -1, or, should the
  // number be reused meanwhile, another socket's, for the few milliseconds before the connect.
  struct socket_slot {
    std::atomic<int> fd{-1};
    std::atomic<unsigned> generation{0};
  };

  // Bytes of the response cpp-httplib has taken from `fd` so far: received by TCP minus still
  // queued; -1 where unknown. cpp-httplib reads a status or header line without bound (an
  // endless header line grows its buffer until memory runs out: yhirose/cpp-httplib#2530) and
  // offers no hook before the headers are complete, so this count is the only way to cap them.
  static std::int64_t bytes_taken([[maybe_unused]] int fd) {
#if defined(__linux__)
    // tcp_info.tcpi_bytes_received (Linux 4.1+): glibc's struct tcp_info stops before it, and
    // the kernel's layout only grows, so it is read at its fixed offset.
    constexpr std::size_t bytes_received_at = 128;
    unsigned char info[256] = {};
    socklen_t len = sizeof info;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) != 0 ||
        len < bytes_received_at + sizeof(std::uint64_t)) {
      return -1;
    }
    std::uint64_t received = 0;
    std::memcpy(&received, info + bytes_received_at, sizeof received);
    int queued = 0; // read after `received`, so a byte arriving between is never counted twice
    if (ioctl(fd, FIONREAD, &queued) != 0) {
      return -1;
    }
    return static_cast<std::int64_t>(received) - queued;
#else
    return -1;
#endif
  }

  // One exchange: its bounds, what stopped it, and the watchdog that keeps its deadline and,
  // until the response head is in, its header bound.
  class exchange {
  public:
    exchange(const phrony::http_request& req, const httplib_options& o, bool streaming)
        : max_body(req.max_response_body > 0 ? req.max_response_body : o.max_response_body),
          max_headers_(o.max_response_headers), timeout_(req.timeout.count() > 0 ? req.timeout
                                                         : streaming ? std::chrono::milliseconds(0)
                                                                     : o.request_timeout),
          deadline_(clock::now() + timeout_), read_timeout_(o.read_timeout),
          connect_timeout_(o.connect_timeout) {}

    /// Sends `hreq` on `c`; the watchdog shuts the socket down past the deadline, or when the
    /// head grows past its bound.
    httplib::Result run(httplib::Client& c, const socket_slot& socket, httplib::Request& hreq) {
      using std::chrono::duration_cast;
      using std::chrono::milliseconds;
      if (timeout_.count() > 0) {
        c.set_connection_timeout(std::min(duration_cast<milliseconds>(connect_timeout_), timeout_));
        c.set_read_timeout(std::min(duration_cast<milliseconds>(read_timeout_), timeout_));
      } else {
        c.set_connection_timeout(connect_timeout_);
        c.set_read_timeout(read_timeout_);
      }
      generation_ = socket.generation;
      base_bytes_ = std::max<std::int64_t>(0, bytes_taken(socket.fd));
      watchdog_ = std::thread([this, &c, &socket] { watch(c, socket); });
      auto res = c.send(hreq);
      {
        std::lock_guard lock(mutex_);
        done_ = true;
      }
      done_cv_.notify_one();
      watchdog_.join();
      return res;
    }

    /// Called when the status line and headers are in: from then on only the deadline counts.
    void head_arrived() noexcept { head_arrived_ = true; }

    [[nodiscard]] bool past_deadline() {
      if (timeout_.count() > 0 && clock::now() >= deadline_) {
        std::lock_guard lock(mutex_);
        timed_out_ = true;
        return true;
      }
      return false;
    }

    /// Runs user code `f` (a stream_handler callback); an exception is kept for failure().
    template <class F> bool guard(F&& f) noexcept {
      try {
        return f();
      } catch (...) {
        exception_ = std::current_exception();
        return false;
      }
    }

    /// The error the exchange ended with, if any; rethrows a callback's exception.
    std::optional<phrony::error> failure(const httplib::Result& res) {
      if (exception_) {
        std::rethrow_exception(exception_);
      }
      if (too_large) {
        return phrony::make_error(phrony::errc::limit_exceeded, "",
                                  "response body over " + std::to_string(max_body) + " bytes");
      }
      if (stopped) {
        return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
      }
      std::lock_guard lock(mutex_);
      if (headers_too_large_) {
        return phrony::make_error(phrony::errc::limit_exceeded, "",
                                  "response headers over " + std::to_string(max_headers_) +
                                      " bytes");
      }
      if (timed_out_) {
        return phrony::make_error(phrony::errc::transport, "",
                                  "cpp-httplib: timed out after " +
                                      std::to_string(timeout_.count()) + " ms");
      }
      if (!res) {
        return phrony::make_error(phrony::errc::transport, "",
                                  "cpp-httplib: " + httplib::to_string(res.error()));
      }
      return std::nullopt;
    }

    exchange(const exchange&) = delete;
    exchange& operator=(const exchange&) = delete;
    ~exchange() = default;

    const std::size_t max_body;
    bool too_large = false;
    bool stopped = false;

  private:
    void watch(httplib::Client& c, const socket_slot& socket) {
      constexpr auto head_poll = std::chrono::milliseconds(10);
      const bool has_deadline = timeout_.count() > 0;
      std::unique_lock lock(mutex_);
      for (;;) {
        const bool watch_head = !head_arrived_;
        if (!has_deadline && !watch_head) {
          done_cv_.wait(lock, [this] { return done_; });
          return;
        }
        const auto wake = !watch_head    ? deadline_
                          : has_deadline ? std::min(deadline_, clock::now() + head_poll)
                                         : clock::now() + head_poll;
        if (done_cv_.wait_until(lock, wake, [this] { return done_; })) {
          return;
        }
        if (has_deadline && clock::now() >= deadline_) {
          timed_out_ = true;
          break;
        }
        if (watch_head && !head_arrived_) {
          if (socket.generation != generation_) { // a new connection: its count starts at 0
            generation_ = socket.generation;
            base_bytes_ = 0;
          }
          // Below the base when the number already names the next socket (cpp-httplib closed
          // the kept-alive one; the connect hook has not run yet) or when bytes arrive between
          // the two reads in bytes_taken: no growth then (an unsigned difference would wrap).
          const std::int64_t taken = bytes_taken(socket.fd);
          if (taken > base_bytes_ &&
              static_cast<std::uint64_t>(taken - base_bytes_) > max_headers_) {
            headers_too_large_ = true;
            break;
          }
        }
      }
      lock.unlock();
      c.stop(); // a blocked read returns at once; the exchange fails
    }

    const std::size_t max_headers_;
    std::chrono::milliseconds timeout_;
    clock::time_point deadline_;
    std::chrono::seconds read_timeout_;
    std::chrono::seconds connect_timeout_;
    std::exception_ptr exception_;
    std::atomic<bool> head_arrived_{false};
    unsigned generation_ = 0;
    std::int64_t base_bytes_ = 0;
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    bool timed_out_ = false;
    bool headers_too_large_ = false;
    std::thread watchdog_;
  };

  // "http://host:port/path?q" -> {"http://host:port", "/path?q"}
  static phrony::result<std::pair<std::string, std::string>> split(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) {
      return phrony::make_error(phrony::errc::invalid_argument, "", "URL without a scheme");
    }
    const auto path_start = url.find('/', scheme_end + 3);
    if (path_start == std::string::npos) {
      return std::pair{url, std::string("/")};
    }
    return std::pair{url.substr(0, path_start), url.substr(path_start)};
  }

  static httplib::Request to_httplib(const phrony::http_request& req, std::string path) {
    httplib::Request h;
    h.method = req.method;
    h.path = std::move(path);
    for (const auto& header : req.headers) {
      h.headers.emplace(header.name, header.value);
    }
    if (req.body.empty() || req.header("Content-Type") != nullptr) {
      h.body = req.body;
    } else {
      // cpp-httplib labels a plain body "text/plain"; one from a content provider goes out
      // unlabelled, as a presigned upload must (exactly its requiredHeaders). The provider
      // members are public though named as private; they have kept these names since 0.8.
      const std::string* body = &req.body;
      h.content_length_ = body->size();
      h.content_provider_ = [body](std::size_t offset, std::size_t length,
                                   httplib::DataSink& sink) {
        return sink.write(body->data() + offset, std::min(length, body->size() - offset));
      };
    }
    return h;
  }

  static void copy_headers(const httplib::Response& r, std::vector<phrony::http_header>& out) {
    for (const auto& [name, value] : r.headers) {
      out.push_back({name, value});
    }
  }

  struct connection {
    std::string origin;
    std::unique_ptr<httplib::Client> client;
    std::unique_ptr<socket_slot> socket;
  };

  connection& connection_for(const std::string& origin) {
    for (auto& c : connections_) {
      if (c.origin == origin) {
        return c;
      }
    }
    connection c{origin, std::make_unique<httplib::Client>(origin),
                 std::make_unique<socket_slot>()};
    c.client->set_keep_alive(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    c.client->enable_server_certificate_verification(true);
#endif
    c.client->set_socket_options([slot = c.socket.get()](socket_t fd) {
      slot->fd = static_cast<int>(fd);
      ++slot->generation;
    });
    connections_.push_back(std::move(c));
    return connections_.back();
  }

  httplib_options options_;
  std::vector<connection> connections_;
};

static_assert(phrony::streaming_transport<httplib_transport>);

} // namespace phrony_examples
