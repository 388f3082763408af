// A phrony transport on libcurl, in one header you can copy into your project.
// Satisfies phrony::transport and phrony::streaming_transport. TLS verification is always on;
// proxies come from the environment (http_proxy, https_proxy, no_proxy), as libcurl does by
// default. One instance reuses its connection; use one instance per thread.
//
// A server cannot hold it or grow it without bound: every exchange has an overall deadline
// (http_request::timeout, else curl_options), a stream that goes quiet is dropped, a response
// body past http_request::max_response_body (else curl_options) ends the call with
// errc::limit_exceeded, and response headers are capped. An exception thrown by a
// stream_handler callback never crosses libcurl's C frames: the transfer is aborted and the
// exception rethrown to the caller of stream().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include <phrony/transport.hpp>

namespace phrony_examples {

/// Timeouts and bounds of a curl_transport; an http_request's own timeout and
/// max_response_body, when set, take precedence.
struct curl_options {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{300'000};    ///< whole exchange of a send()
  std::chrono::seconds stream_idle_timeout{90};          ///< a stream silent this long is dropped
  std::size_t max_response_body = std::size_t{64} << 20; ///< of send(), and of a stream's error
  std::size_t max_response_headers = std::size_t{256} << 10; ///< all header lines together
};

/// libcurl-backed transport. send() for ordinary calls, stream() for the SSE route.
class curl_transport {
public:
  explicit curl_transport(curl_options options = {}) : options_(options) {
    static const bool global_init = [] {
      return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    }();
    (void)global_init;
    easy_.reset(curl_easy_init());
  }

  // Movable (client<T> takes its transport by value); never while a call is in progress.
  curl_transport(curl_transport&& o) noexcept
      : options_(o.options_), easy_(std::move(o.easy_)), cancelled_(o.cancelled_.load()) {}
  curl_transport& operator=(curl_transport&& o) noexcept {
    options_ = o.options_;
    easy_ = std::move(o.easy_);
    cancelled_ = o.cancelled_.load();
    return *this;
  }

  /// Makes the exchange in progress (or the next one, if none is) stop soon with
  /// errc::cancelled; safe to call from another thread.
  void cancel() noexcept { cancelled_ = true; }

  phrony::result<phrony::http_response> send(const phrony::http_request& req) {
    phrony::http_response response;
    exchange ex;
    ex.response = &response;
    ex.body = &response.body;
    if (auto err = perform(req, ex, /*streaming=*/false)) {
      return std::move(*err);
    }
    return response;
  }

  /// Hands the body to `handler` as it arrives. A 2xx body is unbounded (the SSE decoder bounds
  /// events); other statuses' bodies are bounded like send()'s. An exception from a callback
  /// aborts the transfer and propagates from here.
  phrony::result<void> stream(const phrony::http_request& req,
                              const phrony::stream_handler& handler) {
    phrony::http_response head_holder;
    exchange ex;
    ex.response = &head_holder;
    ex.handler = &handler;
    if (auto err = perform(req, ex, /*streaming=*/true)) {
      return std::move(*err);
    }
    return {};
  }

private:
  struct easy_deleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
  };
  struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
  };

  // State shared with libcurl's callbacks during one exchange.
  struct exchange {
    phrony::http_response* response = nullptr;       // status and headers (and body for send())
    const phrony::stream_handler* handler = nullptr; // set for stream()
    std::string* body = nullptr;                     // set for send()
    std::size_t max_body = 0;
    std::size_t max_headers = 0;
    std::size_t header_bytes = 0;
    std::size_t error_body_bytes = 0; // of a stream() whose status is not 2xx
    bool headers_complete = false;    // the blank line after the last header was seen
    bool head_delivered = false;
    bool stopped_by_callback = false;
    bool too_large = false;
    // Callbacks run inside libcurl's C frames, which an exception must not cross: it waits
    // here and is rethrown once curl_easy_perform has returned.
    std::exception_ptr exception;
  };

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) noexcept {
    auto& ex = *static_cast<exchange*>(user);
    const std::string_view line(data, size * n);
    ex.header_bytes += line.size();
    if (ex.header_bytes > ex.max_headers) {
      ex.too_large = true;
      return 0;
    }
    try {
      if (line.starts_with("HTTP/")) {
        // A new status line (after 1xx or a redirect) starts a new header block.
        ex.response->headers.clear();
        ex.headers_complete = false;
        const auto sp = line.find(' ');
        ex.response->status = sp == std::string_view::npos ? 0 : std::atoi(line.data() + sp + 1);
        return line.size();
      }
      if (line == "\r\n" || line == "\n") {
        ex.headers_complete = true;
      }
      const auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
          value.remove_prefix(1);
        while (!value.empty() &&
               (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
          value.remove_suffix(1);
        ex.response->headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
      }
    } catch (...) {
      ex.exception = std::current_exception();
      return 0;
    }
    return line.size();
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) noexcept {
    auto& ex = *static_cast<exchange*>(user);
    const std::string_view chunk(data, size * n);
    try {
      if (ex.body != nullptr) {
        if (chunk.size() > ex.max_body - ex.body->size()) {
          ex.too_large = true;
          return 0; // makes libcurl abort the transfer with CURLE_WRITE_ERROR
        }
        ex.body->append(chunk);
        return chunk.size();
      }
      if (!deliver_head(ex)) {
        ex.stopped_by_callback = true;
        return 0;
      }
      if (ex.response->status < 200 || ex.response->status > 299) {
        ex.error_body_bytes += chunk.size();
        if (ex.error_body_bytes > ex.max_body) {
          ex.too_large = true;
          return 0;
        }
      }
      if (ex.handler->on_data && !ex.handler->on_data(chunk)) {
        ex.stopped_by_callback = true;
        return 0;
      }
    } catch (...) {
      ex.exception = std::current_exception();
      return 0;
    }
    return chunk.size();
  }

  static bool deliver_head(exchange& ex) {
    if (ex.head_delivered) {
      return true;
    }
    ex.head_delivered = true;
    return !ex.handler->on_head || ex.handler->on_head(*ex.response);
  }

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    return static_cast<curl_transport*>(self)->cancelled_ ? 1 : 0;
  }

  std::optional<phrony::error> perform(const phrony::http_request& req, exchange& ex,
                                       bool streaming) {
    CURL* c = easy_.get();
    if (c == nullptr) {
      return phrony::make_error(phrony::errc::transport, "", "curl_easy_init failed");
    }
    curl_easy_reset(c);
    std::unique_ptr<curl_slist, slist_deleter> headers;
    for (const auto& h : req.headers) {
      const std::string line = h.name + ": " + h.value;
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    }
    // Without this, libcurl waits for "100 Continue" before sending larger bodies.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    if (req.method != "GET" && req.header("Content-Type") == nullptr) {
      // libcurl labels a body "application/x-www-form-urlencoded"; a presigned upload must
      // carry exactly its requiredHeaders, so an unlabelled body stays unlabelled.
      headers.reset(curl_slist_append(headers.release(), "Content-Type:"));
    }
    ex.max_body = req.max_response_body > 0 ? req.max_response_body : options_.max_response_body;
    ex.max_headers = options_.max_response_headers;
    const auto timeout = req.timeout.count() > 0 ? req.timeout
                         : streaming             ? std::chrono::milliseconds(0)
                                                 : options_.request_timeout;
    const auto connect_timeout = timeout.count() > 0 && timeout < options_.connect_timeout
                                     ? timeout
                                     : options_.connect_timeout;

    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    // An overall deadline (connect to last byte): a trickle cannot stretch the exchange.
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    if (streaming) {
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(options_.stream_idle_timeout.count()));
    } else {
      // A Content-Length past the bound fails before any byte is read.
      curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(ex.max_body));
    }
    if (req.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);

    const CURLcode rc = curl_easy_perform(c);
    // Cleared only once an exchange is over, so a cancel() just before it started is not lost.
    const bool cancelled = cancelled_.exchange(false);
    if (ex.exception) {
      std::rethrow_exception(ex.exception);
    }
    if (rc == CURLE_OK) {
      if (streaming && !deliver_head(ex)) { // an empty body still has a head
        return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
      }
      return std::nullopt;
    }
    // libcurl reports a header line over its own limit (CURL_MAX_HTTP_HEADER) as out of memory.
    const bool header_line_too_long = rc == CURLE_OUT_OF_MEMORY && !ex.headers_complete;
    if (header_line_too_long || (ex.too_large && ex.header_bytes > ex.max_headers)) {
      return phrony::make_error(
          phrony::errc::limit_exceeded, "",
          "response headers over " +
              std::to_string(header_line_too_long ? CURL_MAX_HTTP_HEADER : ex.max_headers) +
              " bytes");
    }
    if (ex.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      return phrony::make_error(phrony::errc::limit_exceeded, "",
                                "response body over " + std::to_string(ex.max_body) + " bytes");
    }
    if (ex.stopped_by_callback || (rc == CURLE_ABORTED_BY_CALLBACK && cancelled)) {
      return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
    }
    // errbuf and curl_easy_strerror never contain request headers, so the key cannot leak here.
    std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      what = "timed out (" + what + ")";
    }
    return phrony::make_error(phrony::errc::transport, "", "curl: " + what);
  }

  curl_options options_;
  std::unique_ptr<CURL, easy_deleter> easy_;
  std::atomic<bool> cancelled_{false};
};

static_assert(phrony::streaming_transport<curl_transport>);

} // namespace phrony_examples
