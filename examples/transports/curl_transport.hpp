// A phrony transport on libcurl, in one header you can copy into your project.
// Satisfies phrony::transport and phrony::streaming_transport. TLS verification is always on;
// proxies come from the environment (http_proxy, https_proxy, no_proxy), as libcurl does by
// default. One instance reuses its connection; use one instance per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include <phrony/transport.hpp>

namespace phrony_examples {

/// Timeouts of a curl_transport.
struct curl_options {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000}; ///< whole exchange, for non-stream calls
  std::chrono::seconds stream_idle_timeout{90};      ///< a stream silent this long is dropped
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
    exchange ex{&response, nullptr, &response.body, false, false};
    if (auto err = perform(req, ex, /*streaming=*/false)) {
      return std::move(*err);
    }
    return response;
  }

  phrony::result<void> stream(const phrony::http_request& req,
                              const phrony::stream_handler& handler) {
    phrony::http_response head_holder;
    exchange ex{&head_holder, &handler, nullptr, false, false};
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
    phrony::http_response* response;       // status and headers (and body for send())
    const phrony::stream_handler* handler; // set for stream()
    std::string* body;                     // set for send()
    bool head_delivered;
    bool stopped_by_callback;
  };

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto& ex = *static_cast<exchange*>(user);
    const std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      // A new status line (after 1xx or a redirect) starts a new header block.
      ex.response->headers.clear();
      const auto sp = line.find(' ');
      ex.response->status = sp == std::string_view::npos ? 0 : std::atoi(line.data() + sp + 1);
      return size * n;
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
    return size * n;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto& ex = *static_cast<exchange*>(user);
    const std::string_view chunk(data, size * n);
    if (ex.body != nullptr) {
      ex.body->append(chunk);
      return chunk.size();
    }
    if (!deliver_head(ex) || (ex.handler->on_data && !ex.handler->on_data(chunk))) {
      ex.stopped_by_callback = true;
      return 0; // makes libcurl abort the transfer with CURLE_WRITE_ERROR
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

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
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

    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    if (streaming) {
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(options_.stream_idle_timeout.count()));
    } else {
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
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
    if (rc == CURLE_OK) {
      if (streaming && !deliver_head(ex)) { // an empty body still has a head
        return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
      }
      return std::nullopt;
    }
    if (ex.stopped_by_callback || (rc == CURLE_ABORTED_BY_CALLBACK && cancelled)) {
      return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
    }
    // errbuf and curl_easy_strerror never contain request headers, so the key cannot leak here.
    return phrony::make_error(phrony::errc::transport, "",
                              std::string(curl_easy_strerror(rc)) +
                                  (errbuf[0] ? std::string(": ") + errbuf : ""));
  }

  curl_options options_;
  std::unique_ptr<CURL, easy_deleter> easy_;
  std::atomic<bool> cancelled_{false};
};

static_assert(phrony::streaming_transport<curl_transport>);

} // namespace phrony_examples
