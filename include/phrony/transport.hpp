// phrony: the transport concepts. phrony builds requests and parses bytes; a transport (libcurl,
// cpp-httplib, Beast, your own) moves them. Nothing in phrony opens a socket.
#pragma once

#include <concepts>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/request.hpp"

namespace phrony {

/// Status line and headers of a response.
struct response_head {
  int status = 0;
  std::vector<http_header> headers;

  /// The first header named `name` (case-insensitive), or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const {
    for (const auto& h : headers) {
      if (detail::iequals_ascii(h.name, name)) {
        return &h.value;
      }
    }
    return nullptr;
  }
};

/// A complete HTTP response as a synchronous transport returns it.
struct http_response : response_head {
  std::string body;
};

/// What a streaming transport calls while a response arrives. Returning false from either
/// callback asks the transport to stop promptly and return errc::cancelled.
struct stream_handler {
  std::function<bool(const response_head&)> on_head;
  std::function<bool(std::string_view chunk)> on_data;
};

/// A synchronous HTTP transport: sends a request, returns the whole response, or an error with
/// errc::transport (connect, TLS, timeout, reset). Any status code is a response, not an error.
template <class T>
concept transport = requires(T& t, const http_request& req) {
  { t.send(req) } -> std::same_as<result<http_response>>;
};

/// A transport that can also hand body bytes to a callback as they arrive (for the SSE stream).
/// stream() returns success when the server ended the body, errc::cancelled when a callback
/// returned false, errc::transport when the connection failed or dropped.
template <class T>
concept streaming_transport = transport<T> &&
    requires(T& t, const http_request& req, const stream_handler& h) {
  { t.stream(req, h) } -> std::same_as<result<void>>;
};

} // namespace phrony
