// phrony-coro's network layer (see net.hpp): Boost.Beast over TCP or OpenSSL.
#include "net.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace phrony_coro {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

phrony::error transport_error(std::string_view what, const phrony::http_request& req,
                              const beast::error_code& ec) {
  // A TLS verification failure names its reason ("certificate verify failed" and why).
  std::string why = ec.message();
  if (ec.category() == net::error::get_ssl_category()) {
    why = "TLS: " + why;
  }
  return phrony::make_error(phrony::errc::transport, "",
                            std::string(what) + " (" + req.method + " " + req.route() +
                                "): " + why);
}

/// Scheme, host, port and target of an absolute http(s) URL.
struct url_parts {
  bool tls = false;
  std::string host; ///< without brackets for IPv6
  std::string port;
  std::string authority; ///< the Host header
  std::string target;    ///< path and query
};

std::optional<url_parts> split_url(std::string_view url) {
  url_parts u;
  if (url.starts_with("https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const std::size_t slash = std::min(url.find_first_of("/?"), url.size());
  u.authority = std::string(url.substr(0, slash));
  u.target = slash < url.size() ? std::string(url.substr(slash)) : "/";
  if (u.target.front() == '?') {
    u.target.insert(0, "/");
  }
  std::string_view a = u.authority;
  if (a.empty() || a.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view port;
  if (a.front() == '[') { // [v6]:port
    const std::size_t close = a.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    u.host = std::string(a.substr(1, close - 1));
    if (close + 1 < a.size()) {
      if (a[close + 1] != ':') {
        return std::nullopt;
      }
      port = a.substr(close + 2);
    }
  } else {
    const std::size_t colon = a.rfind(':');
    u.host = std::string(a.substr(0, std::min(colon, a.size())));
    if (colon != std::string_view::npos) {
      port = a.substr(colon + 1);
    }
  }
  u.port = port.empty() ? (u.tls ? "443" : "80") : std::string(port);
  if (u.host.empty() || u.port.size() > 5 ||
      u.port.find_first_not_of("0123456789") != std::string::npos ||
      std::strtoul(u.port.c_str(), nullptr, 10) > 65535) {
    return std::nullopt;
  }
  return u;
}

/// What to do with a response: keep it whole (bounded), or hand it over as it arrives.
struct response_sink {
  /// Set: streaming. on_head returning false stops before the body, on_data returning false
  /// stops reading (both: the exchange returns errc::cancelled).
  const phrony::stream_handler* stream = nullptr;
  phrony::http_response response; ///< the whole response when not streaming
};

constexpr std::size_t max_header_bytes = 64 * 1024;

namespace detail {

template <class Fields>
void copy_head(const http::response_header<Fields>& h, phrony::response_head& out) {
  out.status = static_cast<int>(h.result_int());
  out.headers.clear();
  for (const auto& f : h) {
    out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  }
}

template <class Stream>
awaitable<phrony::result<void>> write_and_read(Stream& s, const phrony::http_request& req,
                                               const http::request<http::string_body>& out,
                                               response_sink& sink) {
  beast::error_code ec;
  co_await http::async_write(s, out, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    co_return transport_error("sending", req, ec);
  }
  beast::flat_buffer buffer;
  if (sink.stream == nullptr) {
    http::response_parser<http::string_body> p;
    p.header_limit(static_cast<std::uint32_t>(max_header_bytes));
    p.body_limit(req.max_response_body > 0 ? std::uint64_t{req.max_response_body}
                                           : std::uint64_t{64} << 20);
    // The head first: Beast 1.74's http::async_read alone lets a Content-Length above the body
    // limit through and reads the whole body (seen with a 1 GiB one); read_header reports it.
    co_await http::async_read_header(s, buffer, p, net::redirect_error(net::use_awaitable, ec));
    if (!ec) {
      co_await http::async_read(s, buffer, p, net::redirect_error(net::use_awaitable, ec));
    }
    if (ec == http::error::body_limit) {
      co_return phrony::make_error(phrony::errc::limit_exceeded, "",
                                   "the response body of " + req.method + " " + req.route() +
                                       " is longer than " + std::to_string(req.max_response_body) +
                                       " bytes");
    }
    if (ec) {
      co_return transport_error("reading the response", req, ec);
    }
    copy_head(p.get().base(), sink.response);
    sink.response.body = std::move(p.get().body());
    co_return phrony::result<void>{};
  }
  http::response_parser<http::buffer_body> p;
  p.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  p.body_limit(std::numeric_limits<std::uint64_t>::max()); // the SSE decoder bounds what it keeps
  co_await http::async_read_header(s, buffer, p, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    co_return transport_error("reading the response head", req, ec);
  }
  phrony::response_head head;
  copy_head(p.get().base(), head);
  if (sink.stream->on_head && !sink.stream->on_head(head)) {
    co_return phrony::make_error(phrony::errc::cancelled, "", "stopped after the response head");
  }
  std::array<char, 16 * 1024> chunk{};
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    // read_some: whatever arrived (read would wait for a full buffer or the end).
    co_await http::async_read_some(s, buffer, p, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return transport_error("reading the stream", req, ec);
    }
    const std::size_t n = chunk.size() - p.get().body().size;
    if (n > 0 && sink.stream->on_data && !sink.stream->on_data(std::string_view(chunk.data(), n))) {
      co_return phrony::make_error(phrony::errc::cancelled, "", "stopped by the reader");
    }
  }
  co_return phrony::result<void>{};
}

} // namespace detail

/// One exchange on a new connection (closed at the end, and by env.stop), bounded by
/// req.timeout (0: none) from connect to the last body byte.
awaitable<phrony::result<void>> perform(io_env& env, const phrony::http_request& req,
                                        response_sink& sink) {
  if (env.stop.stopped()) {
    co_return phrony::make_error(phrony::errc::cancelled, "", "stopped");
  }
  const auto u = split_url(req.url);
  if (!u) {
    co_return phrony::make_error(phrony::errc::invalid_argument, "",
                                 "only absolute http:// and https:// URLs are supported");
  }
  http::request<http::string_body> out{http::string_to_verb(req.method), u->target, 11};
  if (out.method() == http::verb::unknown) {
    out.method_string(req.method);
  }
  out.set(http::field::host, u->authority);
  for (const auto& h : req.headers) {
    out.insert(h.name, h.value);
  }
  out.body() = req.body;
  out.prepare_payload();
  out.keep_alive(false); // one exchange per connection: the server may free it at once

  const auto executor = co_await net::this_coro::executor;
  beast::tcp_stream tcp(executor);
  bool stopped = false;
  const auto reg = env.stop.add([&tcp, &stopped] {
    stopped = true;
    tcp.close();
  });
  if (req.timeout.count() > 0) {
    tcp.expires_after(req.timeout);
  }
  beast::error_code ec;
  beast::error_code not_ip;
  const auto ip = net::ip::make_address(u->host, not_ip);
  if (!not_ip) { // an address: no resolver (Asio resolves names on a thread of its own)
    const auto port = std::strtoul(u->port.c_str(), nullptr, 10);
    co_await tcp.async_connect(tcp::endpoint(ip, static_cast<unsigned short>(port)),
                               net::redirect_error(net::use_awaitable, ec));
  } else {
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(
        u->host, u->port, net::redirect_error(net::use_awaitable, ec));
    if (!ec && !stopped) {
      co_await tcp.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
    }
  }
  if (stopped) {
    co_return phrony::make_error(phrony::errc::cancelled, "", "stopped");
  }
  if (ec) {
    co_return transport_error("connecting to " + u->authority, req, ec);
  }
  phrony::result<void> done;
  if (!u->tls) {
    done = co_await detail::write_and_read(tcp, req, out, sink);
    tcp.socket().shutdown(tcp::socket::shutdown_both, ec);
  } else {
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), env.tls);
    // The stopper closes the TLS stream's socket from now on.
    const auto tls_reg = env.stop.add([&tls, &stopped] {
      stopped = true;
      beast::get_lowest_layer(tls).close();
    });
    if (not_ip && !SSL_set_tlsext_host_name(tls.native_handle(), u->host.c_str())) {
      co_return transport_error(
          "TLS server name", req,
          beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
    }
    // The chain must verify against the CA store (verify_peer), and the certificate must name
    // the URL's host (subjectAltName DNS name or IP address: host_name_verification).
    bool wrong_host = false;
    tls.set_verify_callback([check = ssl::host_name_verification(u->host),
                             &wrong_host](bool preverified, ssl::verify_context& ctx) mutable {
      const bool ok = check(preverified, ctx);
      wrong_host = wrong_host || (preverified && !ok);
      return ok;
    });
    co_await tls.async_handshake(ssl::stream_base::client,
                                 net::redirect_error(net::use_awaitable, ec));
    if (stopped) {
      co_return phrony::make_error(phrony::errc::cancelled, "", "stopped");
    }
    if (ec) {
      const long verified = SSL_get_verify_result(tls.native_handle());
      const std::string why = wrong_host ? "the server's certificate is not valid for " + u->host
                              : verified != X509_V_OK
                                  ? std::string("the server's certificate does not verify: ") +
                                        X509_verify_cert_error_string(verified)
                                  : "TLS: " + ec.message();
      co_return phrony::make_error(phrony::errc::transport, "",
                                   "TLS handshake with " + u->authority + " (" + req.method + " " +
                                       req.route() + "): " + why);
    }
    done = co_await detail::write_and_read(tls, req, out, sink);
    // No close_notify round trip: the connection is ours alone and ends here.
    beast::get_lowest_layer(tls).close();
  }
  if (stopped && !done) {
    co_return phrony::make_error(phrony::errc::cancelled, "", "stopped");
  }
  co_return done;
}

} // namespace

std::shared_ptr<ssl::context> make_tls_context(const std::string& ca_file, std::string& why) {
  auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  tls->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (ca_file.empty()) {
    tls->set_default_verify_paths(ec);
  } else {
    tls->load_verify_file(ca_file, ec);
  }
  if (ec) {
    why = ca_file.empty()
              ? "cannot load the system's CA certificates"
              : "cannot load the CA certificates in " + ca_file + " (not a readable PEM file)";
    return nullptr;
  }
  return tls;
}

/// Waits `d`; false when stop() came first.
awaitable<bool> sleep_for(io_env& env, std::chrono::milliseconds d) {
  if (env.stop.stopped()) {
    co_return false;
  }
  net::steady_timer timer(co_await net::this_coro::executor, d);
  const auto reg = env.stop.add([&timer] { timer.cancel(); });
  beast::error_code ec;
  co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  co_return !env.stop.stopped();
}

/// A whole response (any status), or the transport error.
awaitable<phrony::result<phrony::http_response>> send(io_env& env,
                                                      const phrony::http_request& req) {
  response_sink sink;
  auto done = co_await perform(env, req, sink);
  if (!done) {
    co_return std::move(done).error();
  }
  co_return std::move(sink.response);
}

/// The response handed to `h` as it arrives; see streaming_transport::stream.
awaitable<phrony::result<void>> stream(io_env& env, const phrony::http_request& req,
                                       const phrony::stream_handler& h) {
  response_sink sink;
  sink.stream = &h;
  co_return co_await perform(env, req, sink);
}

} // namespace phrony_coro
