// A phrony transport on cpp-httplib, in one header you can copy into your project.
// Satisfies phrony::transport and phrony::streaming_transport. Keeps one keep-alive
// httplib::Client per origin (the API's, and the upload URL's host when it differs).
// Build with the flags of your cpp-httplib (Debian: pkg-config cpp-httplib) so https works.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httplib.h>

#include <phrony/transport.hpp>

namespace phrony_examples {

/// cpp-httplib-backed transport.
class httplib_transport {
public:
  explicit httplib_transport(std::chrono::seconds read_timeout = std::chrono::seconds(60))
      : read_timeout_(read_timeout) {}

  phrony::result<phrony::http_response> send(const phrony::http_request& req) {
    auto target = split(req.url);
    if (!target) {
      return std::move(target).error();
    }
    httplib::Request hreq = to_httplib(req, target->second);
    auto res = client_for(target->first).send(hreq);
    if (!res) {
      return transport_error(res.error());
    }
    phrony::http_response out;
    out.status = res->status;
    copy_headers(*res, out.headers);
    out.body = std::move(res->body);
    return out;
  }

  phrony::result<void> stream(const phrony::http_request& req,
                              const phrony::stream_handler& handler) {
    auto target = split(req.url);
    if (!target) {
      return std::move(target).error();
    }
    httplib::Request hreq = to_httplib(req, target->second);
    bool stopped = false;
    hreq.response_handler = [&](const httplib::Response& r) {
      phrony::response_head head;
      head.status = r.status;
      copy_headers(r, head.headers);
      stopped = handler.on_head && !handler.on_head(head);
      return !stopped;
    };
    hreq.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      stopped = handler.on_data && !handler.on_data(std::string_view(data, n));
      return !stopped;
    };
    auto res = client_for(target->first).send(hreq);
    if (stopped) {
      return phrony::make_error(phrony::errc::cancelled, "", "stream stopped by the caller");
    }
    if (!res) {
      return transport_error(res.error());
    }
    return {};
  }

private:
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
    h.body = req.body;
    for (const auto& header : req.headers) {
      h.headers.emplace(header.name, header.value);
    }
    return h;
  }

  static void copy_headers(const httplib::Response& r, std::vector<phrony::http_header>& out) {
    for (const auto& [name, value] : r.headers) {
      out.push_back({name, value});
    }
  }

  static phrony::error transport_error(httplib::Error e) {
    return phrony::make_error(phrony::errc::transport, "", "cpp-httplib: " + httplib::to_string(e));
  }

  httplib::Client& client_for(const std::string& origin) {
    for (auto& [o, c] : clients_) {
      if (o == origin) {
        return *c;
      }
    }
    auto c = std::make_unique<httplib::Client>(origin);
    c->set_keep_alive(true);
    c->set_connection_timeout(10);
    c->set_read_timeout(read_timeout_);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    c->enable_server_certificate_verification(true);
#endif
    clients_.emplace_back(origin, std::move(c));
    return *clients_.back().second;
  }

  std::chrono::seconds read_timeout_;
  std::vector<std::pair<std::string, std::unique_ptr<httplib::Client>>> clients_;
};

static_assert(phrony::streaming_transport<httplib_transport>);

} // namespace phrony_examples
