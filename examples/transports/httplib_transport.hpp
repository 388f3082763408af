// A phrony transport on cpp-httplib, in one header you can copy into your project.
// Satisfies phrony::transport and phrony::streaming_transport. Keeps one keep-alive
// httplib::Client per origin (the API's, and the upload URL's host when it differs).
// Build with the flags of your cpp-httplib (Debian: pkg-config cpp-httplib) so https works.
//
// A server cannot hold it or grow it without bound: cpp-httplib has only per-read timeouts, so
// an overall deadline (http_request::timeout, else httplib_options) is kept by a watchdog that
// shuts the socket down when it passes (a trickle of bytes cannot stretch the exchange); a
// response body past http_request::max_response_body (else httplib_options) ends the call with
// errc::limit_exceeded. An exception thrown by a stream_handler callback is caught before it
// reaches cpp-httplib (which would leave its connection state behind) and rethrown from stream().
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
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

#include <phrony/transport.hpp>

namespace phrony_examples {

/// Timeouts and bounds of an httplib_transport; an http_request's own timeout and
/// max_response_body, when set, take precedence.
struct httplib_options {
  std::chrono::seconds connect_timeout{10};
  std::chrono::milliseconds request_timeout{300'000}; ///< whole exchange of a send()
  std::chrono::seconds read_timeout{60}; ///< one read; a stream silent this long is dropped
  std::size_t max_response_body = std::size_t{64} << 20; ///< of send(), and of a stream's error
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
    auto res = ex.run(client_for(target->first), hreq);
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
    auto res = ex.run(client_for(target->first), hreq);
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

  // One exchange: its bounds, what stopped it, and the watchdog that keeps its deadline.
  class exchange {
  public:
    exchange(const phrony::http_request& req, const httplib_options& o, bool streaming)
        : max_body(req.max_response_body > 0 ? req.max_response_body : o.max_response_body),
          timeout_(req.timeout.count() > 0 ? req.timeout
                   : streaming             ? std::chrono::milliseconds(0)
                                           : o.request_timeout),
          deadline_(clock::now() + timeout_), read_timeout_(o.read_timeout),
          connect_timeout_(o.connect_timeout) {}

    /// Sends `hreq` on `c`; past the deadline the watchdog shuts the socket down.
    httplib::Result run(httplib::Client& c, httplib::Request& hreq) {
      using std::chrono::duration_cast;
      using std::chrono::milliseconds;
      if (timeout_.count() > 0) {
        const auto left = std::max(milliseconds(1), timeout_);
        c.set_connection_timeout(std::min(duration_cast<milliseconds>(connect_timeout_), left));
        c.set_read_timeout(std::min(duration_cast<milliseconds>(read_timeout_), left));
        watchdog_ = std::thread([this, &c] {
          std::unique_lock l(mutex_);
          if (!done_cv_.wait_until(l, deadline_, [this] { return done_; })) {
            timed_out_ = true;
            c.stop(); // a blocked read returns at once; the exchange fails
          }
        });
      } else {
        c.set_connection_timeout(connect_timeout_);
        c.set_read_timeout(read_timeout_);
      }
      auto res = c.send(hreq);
      if (watchdog_.joinable()) {
        {
          std::lock_guard lock(mutex_);
          done_ = true;
        }
        done_cv_.notify_one();
        watchdog_.join();
      }
      return res;
    }

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
      bool timed_out = false;
      {
        std::lock_guard lock(mutex_);
        timed_out = timed_out_;
      }
      if (timed_out) {
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
    std::chrono::milliseconds timeout_;
    clock::time_point deadline_;
    std::chrono::seconds read_timeout_;
    std::chrono::seconds connect_timeout_;
    std::exception_ptr exception_;
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    bool timed_out_ = false;
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

  httplib::Client& client_for(const std::string& origin) {
    for (auto& [o, c] : clients_) {
      if (o == origin) {
        return *c;
      }
    }
    auto c = std::make_unique<httplib::Client>(origin);
    c->set_keep_alive(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    c->enable_server_certificate_verification(true);
#endif
    clients_.emplace_back(origin, std::move(c));
    return *clients_.back().second;
  }

  httplib_options options_;
  std::vector<std::pair<std::string, std::unique_ptr<httplib::Client>>> clients_;
};

static_assert(phrony::streaming_transport<httplib_transport>);

} // namespace phrony_examples
