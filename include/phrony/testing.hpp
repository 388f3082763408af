// phrony::testing: transports for testing code that uses phrony, offline. scripted_transport
// answers from a queue you fill; recording_transport<Inner> writes the exchanges of a real
// transport to a JSON-lines file (API key and presigned query strings scrubbed), and
// replay_transport answers from such a file with no server. Nothing here opens a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "phrony/config.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/request.hpp"
#include "phrony/transport.hpp"

namespace phrony::testing {

/// An errc::transport error with `message`, as a transport returns for a dropped connection.
[[nodiscard]] inline error transport_error(std::string message) {
  return make_error(errc::transport, "", std::move(message));
}

namespace detail {

/// The secrets `req` carries: the values of its secret headers (X-API-Key first of all), and
/// for "Bearer x" also x, so either spelling is scrubbed wherever it appears.
[[nodiscard]] PHRONY_DECL std::vector<std::string> secrets_of(const http_request& req);

/// `text` with every one of `secrets` (those long enough to be keys) shown as "[redacted]".
[[nodiscard]] PHRONY_DECL std::string scrub_all(std::string text,
                                                const std::vector<std::string>& secrets);

/// True when the query (without '?') has a parameter carrying a credential (X-Amz-Signature,
/// X-Amz-Credential, X-Goog-Signature, sig, ...).
[[nodiscard]] PHRONY_DECL bool query_is_presigned(std::string_view query);

/// `url` (or a path) without its query and fragment when the query is presigned.
[[nodiscard]] PHRONY_DECL std::string drop_presigned_query(std::string_view url);

[[nodiscard]] PHRONY_DECL bool ends_url(char c) noexcept;

/// `text` with the query of every http(s) URL in it dropped where that query is presigned (an
/// upload URL in a presign response, a Location header). JSON's "\/" spelling is found too.
[[nodiscard]] PHRONY_DECL std::string drop_presigned_queries(std::string_view text);

/// The end of the JSON string token opening at text[open] (the index after its closing quote),
/// or npos when it does not close.
[[nodiscard]] PHRONY_DECL std::size_t string_token_end(std::string_view text, std::size_t open);

/// `text` with the string value of every JSON member named like a secret header shown as
/// "[redacted]": a presign response's requiredHeaders may hold a signature or a customer key.
/// Text, not a parse: every other byte stays as it was (outputs compare verbatim).
[[nodiscard]] PHRONY_DECL std::string redact_secret_members(std::string_view text);

/// What a recording keeps of a body, chunk or message: presigned queries dropped, secret-named
/// members redacted, and every one of `secrets` scrubbed.
[[nodiscard]] inline std::string scrub_text(std::string_view text,
                                            const std::vector<std::string>& secrets) {
  return scrub_all(redact_secret_members(drop_presigned_queries(text)), secrets);
}

/// Path and query of `url` (scheme and host dropped), the query dropped when presigned.
[[nodiscard]] PHRONY_DECL std::string target_of(std::string_view url);

/// `req` as it may be kept and shown: secret header values "[redacted]", and those values
/// scrubbed from the URL, the body and every other header.
[[nodiscard]] PHRONY_DECL http_request redacted(const http_request& req);

/// "GET /v1/runs/<id>": method and redacted route, for messages.
[[nodiscard]] inline std::string describe(const http_request& req) {
  return req.method + " " + scrub_all(req.route(), secrets_of(req));
}

inline constexpr std::string_view base64_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

[[nodiscard]] PHRONY_DECL std::string base64_encode(std::string_view in);

/// The bytes of base64 text (padding required), or nullopt when it is not base64.
[[nodiscard]] PHRONY_DECL std::optional<std::string> base64_decode(std::string_view in);

/// Bytes as JSON: a string when they are UTF-8, else {"base64":"..."}.
PHRONY_DECL void write_bytes(json_writer& w, std::string_view bytes);

/// Headers as [name, value] pairs, each written by write_bytes (a value may carry obs-text).
PHRONY_DECL void write_headers(json_writer& w, const std::vector<http_header>& headers);

PHRONY_DECL void write_error(json_writer& w, const error& e);

/// Every chunk kept, but chunks a secret runs across are joined, so that scrubbing each chunk
/// leaves no part of it.
[[nodiscard]] PHRONY_DECL std::vector<std::string>
join_split_secrets(std::vector<std::string> chunks, const std::vector<std::string>& secrets);

/// The errc named `name` (as to_string(errc) spells it), or nullopt.
[[nodiscard]] PHRONY_DECL std::optional<errc> errc_named(std::string_view name);

/// Appends `w`'s JSON and a newline to the file at `path`; the error when that fails.
[[nodiscard]] PHRONY_DECL std::optional<error> append_line(const std::string& path,
                                                           json_writer&& w);

/// Plays a stream through `h`: the head, each chunk, then `end` (a clean end when empty);
/// errc::cancelled as soon as a callback returns false.
PHRONY_DECL result<void> play_stream(const response_head& head,
                                     const std::vector<std::string>& chunks,
                                     const std::optional<error>& end, const stream_handler& h);

} // namespace detail

/// One scripted streaming response: the head, the body in the chunks stream() hands over, then
/// a clean end, or `end_error` (e.g. transport_error("connection reset") for a drop).
struct scripted_stream {
  int status = 200;
  std::vector<std::string> chunks;
  std::optional<error> end_error;
  std::vector<http_header> headers;
};

/// A transport that answers from queues you fill, and keeps every request it got (secrets
/// redacted). send() takes the next queued response or error, stream() the next queued stream;
/// a request finding its queue empty gets errc::invalid_argument naming it (never retried), and
/// verify() reports it. Copies share one script and one log, so keep a copy (or use
/// client::transport()) to inspect it after handing one to phrony::client. Like any transport,
/// it serves one thread at a time.
class scripted_transport {
public:
  scripted_transport() : s_(std::make_shared<state>()) {}
  // A handle: copies share the state, and a move copies (a moved-from handle stays usable).
  scripted_transport(const scripted_transport&) = default;
  scripted_transport& operator=(const scripted_transport&) = default;
  ~scripted_transport() = default;

  /// Queues a response for send().
  PHRONY_DECL scripted_transport& respond(http_response r);
  /// Queues a response for send() with `status`, `body` and `headers`.
  PHRONY_DECL scripted_transport& respond(int status, std::string body,
                                          std::vector<http_header> headers = {});
  /// Queues an error for send() (transport_error("...") for a failed connection).
  PHRONY_DECL scripted_transport& fail(error e);
  /// Queues a streaming response for stream().
  PHRONY_DECL scripted_transport& respond_stream(scripted_stream s);
  /// Queues a streaming response with `status` and body `chunks` that ends cleanly.
  scripted_transport& respond_stream(int status, std::vector<std::string> chunks) {
    return respond_stream(scripted_stream{status, std::move(chunks), std::nullopt, {}});
  }
  /// Queues an error stream() returns before any head (the connection failed).
  PHRONY_DECL scripted_transport& fail_stream(error e);
  /// Called with each request as it arrives, before it is answered (e.g. to move a test clock
  /// by the time a slow call takes). The one place a test sees the request's secrets.
  void on_request(std::function<void(const http_request&)> f) { s_->on_request = std::move(f); }

  /// The next queued response or error.
  PHRONY_DECL result<http_response> send(const http_request& req);

  /// Plays the next queued stream through `h`: errc::cancelled as soon as a callback returns
  /// false, else the stream's end.
  PHRONY_DECL result<void> stream(const http_request& req, const stream_handler& h);

  /// Every request so far, in order, secret header values "[redacted]" and scrubbed elsewhere.
  [[nodiscard]] const std::vector<http_request>& requests() const { return s_->requests; }
  /// requests() printed (to_string), one numbered block each: for a failing test's message.
  [[nodiscard]] PHRONY_DECL std::string log() const;
  /// The requests that found their queue empty, each named ("no response queued for GET ...").
  [[nodiscard]] const std::vector<std::string>& unanswered() const { return s_->unexpected; }
  /// What is wrong with the script so far: each queued answer not taken, and each request
  /// that found its queue empty; empty when every answer was used and nothing more was asked.
  [[nodiscard]] PHRONY_DECL std::vector<std::string> unused() const;
  /// Success when unused() is empty; else an error (errc::invalid_argument) listing it.
  [[nodiscard]] PHRONY_DECL result<void> verify() const;

private:
  struct state {
    std::deque<result<http_response>> responses;
    std::deque<result<scripted_stream>> streams;
    std::vector<http_request> requests;
    std::vector<std::string> unexpected;
    std::function<void(const http_request&)> on_request;
  };

  PHRONY_DECL void arrived(const http_request& req);
  PHRONY_DECL error unexpected(const http_request& req, std::string_view what);

  std::shared_ptr<state> s_;
};

static_assert(streaming_transport<scripted_transport>);

/// Wraps any transport: forwards every request to it and appends each exchange, as one JSON
/// line, to a file that replay_transport reads. What is written, scrubbed: the request's method,
/// target (path and query), headers and body; the response's status, headers and body, or the
/// error; for a stream, its head, the chunks as they came and how it ended. The API key (every
/// secret header's value) becomes "[redacted]" wherever it appears, and presigned URLs (upload
/// URLs in presign responses, the upload request's own target) lose their query. Bodies,
/// header names and values, targets and error messages that are not UTF-8 are written as
/// {"base64": ...}. Each line is written when its exchange ends.
template <transport Inner> class recording_transport {
public:
  /// Records to `path`, appending (remove the file first for a fresh recording).
  recording_transport(Inner inner, std::string path)
      : inner_(std::move(inner)), path_(std::move(path)) {}

  /// Forwards `req`, records the exchange, returns the inner transport's answer unchanged.
  result<http_response> send(const http_request& req) {
    auto r = inner_.send(req);
    const auto secrets = detail::secrets_of(req);
    json_writer w;
    begin_line(w, "send", req, secrets);
    if (r) {
      w.key("response");
      write_head(w, *r, secrets);
      w.key("body");
      detail::write_bytes(w, scrub(r->body, secrets));
    } else {
      w.key("error");
      detail::write_error(w, scrubbed(r.error(), secrets));
    }
    w.end_object();
    append(std::move(w));
    return r;
  }

  /// Forwards a stream, passing every callback through, and records it when it ends.
  result<void> stream(const http_request& req,
                      const stream_handler& h) requires streaming_transport<Inner> {
    std::optional<response_head> head;
    std::vector<std::string> chunks;
    stream_handler tap;
    tap.on_head = [&](const response_head& got) {
      head = got;
      return !h.on_head || h.on_head(got);
    };
    tap.on_data = [&](std::string_view chunk) {
      chunks.emplace_back(chunk);
      return !h.on_data || h.on_data(chunk);
    };
    auto r = inner_.stream(req, tap);
    const auto secrets = detail::secrets_of(req);
    json_writer w;
    begin_line(w, "stream", req, secrets);
    if (head) {
      w.key("response");
      write_head(w, *head, secrets);
    }
    w.key("chunks").begin_array();
    for (const auto& c : detail::join_split_secrets(std::move(chunks), secrets)) {
      detail::write_bytes(w, scrub(c, secrets));
    }
    w.end_array();
    if (!r) {
      w.key("error");
      detail::write_error(w, scrubbed(r.error(), secrets));
    }
    w.end_object();
    append(std::move(w));
    return r;
  }

  /// The wrapped transport.
  [[nodiscard]] Inner& inner() noexcept { return inner_; }
  /// Success when every exchange so far was written; else the first write failure.
  [[nodiscard]] result<void> verify() const {
    if (write_error_) {
      return *write_error_;
    }
    return {};
  }

private:
  static std::string scrub(std::string_view text, const std::vector<std::string>& secrets) {
    return detail::scrub_text(text, secrets);
  }
  static error scrubbed(error e, const std::vector<std::string>& secrets) {
    e.message = scrub(e.message, secrets);
    return e;
  }
  static void begin_line(json_writer& w, std::string_view kind, const http_request& req,
                         const std::vector<std::string>& secrets) {
    w.begin_object().key("v").value(1).key("kind").value(kind);
    w.key("request").begin_object().key("method");
    detail::write_bytes(w, req.method);
    w.key("target");
    detail::write_bytes(w, detail::scrub_all(detail::target_of(req.url), secrets));
    w.key("headers");
    auto headers = detail::redacted(req).headers;
    for (auto& h : headers) {
      h.value = detail::drop_presigned_queries(h.value);
    }
    detail::write_headers(w, headers);
    w.key("body");
    detail::write_bytes(w, scrub(req.body, secrets));
    w.end_object();
  }
  static void write_head(json_writer& w, const response_head& head,
                         const std::vector<std::string>& secrets) {
    std::vector<http_header> headers = head.headers;
    for (auto& h : headers) {
      h.value = phrony::detail::is_secret_header(h.name) ||
                        phrony::detail::iequals_ascii(h.name, "Set-Cookie")
                    ? std::string("[redacted]")
                    : scrub(h.value, secrets);
    }
    w.begin_object().key("status").value(head.status).key("headers");
    detail::write_headers(w, headers);
    w.end_object();
  }
  void append(json_writer&& w) {
    if (auto failed = detail::append_line(path_, std::move(w))) {
      note(std::move(*failed));
    }
  }
  void note(error e) {
    if (!write_error_) {
      write_error_ = std::move(e);
    }
  }

  Inner inner_;
  std::string path_;
  std::optional<error> write_error_;
};

/// Bounds of replay_transport::load.
struct replay_options {
  std::size_t max_line = std::size_t{256} << 20; ///< longest line read; longer: limit_exceeded
};

/// Answers requests from a file recording_transport wrote, offline. A request is answered by
/// the first recorded exchange not yet replayed with the same kind (send or stream), method,
/// target (path and query, presigned query dropped) and body (the key scrubbed, as recorded);
/// headers, host and timeouts are not compared, so a recording replays under another base URL
/// and key. Exchanges of one target replay in recorded order. A request with no such exchange
/// gets errc::invalid_argument naming its method and target and the nearest recorded one;
/// verify() names the exchanges never replayed. Copies share the exchanges and what was used.
class replay_transport {
public:
  // A handle: copies share the state, and a move copies (a moved-from handle stays usable).
  replay_transport(const replay_transport&) = default;
  replay_transport& operator=(const replay_transport&) = default;
  ~replay_transport() = default;

  /// Reads the exchanges of `path`; a line that is not a recorded exchange is an error naming
  /// the line number.
  [[nodiscard]] static result<replay_transport> load(const std::string& path,
                                                     const replay_options& options = {});

  /// The exchanges of recorded `text` (the file's contents), for recordings kept in a string;
  /// `name` stands for the file in messages.
  [[nodiscard]] static result<replay_transport> parse(std::string_view text,
                                                      std::string_view name = "<text>");

  /// The recorded response (or error) of the next matching send exchange.
  PHRONY_DECL result<http_response> send(const http_request& req);

  /// Plays the next matching stream exchange through `h` as it was recorded, chunk by chunk:
  /// errc::cancelled as soon as a callback returns false, else the recorded end.
  PHRONY_DECL result<void> stream(const http_request& req, const stream_handler& h);

  /// How many exchanges the recording holds.
  [[nodiscard]] std::size_t size() const noexcept { return s_->exchanges.size(); }
  /// The exchanges never replayed, as "line N: GET /v1/runs/<id>".
  [[nodiscard]] PHRONY_DECL std::vector<std::string> unused() const;
  /// Success when every recorded exchange was replayed; else an error listing those left.
  [[nodiscard]] PHRONY_DECL result<void> verify() const;

private:
  enum class kind { send, stream };

  struct exchange {
    std::size_t line = 0;
    kind k = kind::send;
    std::string method;
    std::string target;
    std::string body;
    bool has_head = false;
    http_response response; // for a stream: the head only
    std::vector<std::string> chunks;
    std::optional<error> failure;
    bool used = false;

    [[nodiscard]] PHRONY_DECL std::string describe() const;
  };

  struct state {
    std::vector<exchange> exchanges;
  };

  replay_transport() : s_(std::make_shared<state>()) {}

  PHRONY_DECL static error at_line(std::string_view file, std::size_t line, errc code,
                                   const std::string& message);

  PHRONY_DECL exchange* take(const http_request& req, kind k);

  /// What the recording has nearest to a request it lacks: an unreplayed exchange of the same
  /// method and target (another body or kind), else one already replayed, else the unreplayed
  /// exchange whose target shares the longest beginning with this one.
  [[nodiscard]] PHRONY_DECL std::string nearest(std::string_view method, std::string_view target,
                                                kind k) const;

  PHRONY_DECL error unrecorded(const http_request& req, kind k) const;

  // Reads one recorded line into an exchange (simdjson DOM; defined with the reading code).
  struct reader;

  std::shared_ptr<state> s_;
};

static_assert(streaming_transport<replay_transport>);

} // namespace phrony::testing

#if PHRONY_WITH_IMPL
#include <algorithm>
#include <fstream>
#include <simdjson.h>

struct phrony::testing::replay_transport::reader {
  // Reading one line (simdjson DOM: a line is small next to the bodies it holds, read once).
  using element = simdjson::dom::element;

  static std::optional<error> bad(std::string message) {
    return make_error(errc::invalid_json, "", std::move(message));
  }
  static std::optional<error> read_string(element e, std::string_view what, std::string& out) {
    std::string_view s;
    if (e.get_string().get(s)) {
      return bad(std::string(what) + ": expected a string");
    }
    out.assign(s);
    return std::nullopt;
  }
  static std::optional<error> read_bytes(element e, std::string_view what, std::string& out) {
    std::string_view s;
    if (!e.get_string().get(s)) {
      out.assign(s);
      return std::nullopt;
    }
    element b64;
    if (!e.get_object().at_key("base64").get(b64) && !b64.get_string().get(s)) {
      if (auto bytes = detail::base64_decode(s)) {
        out = std::move(*bytes);
        return std::nullopt;
      }
    }
    return bad(std::string(what) + ": expected a string or {\"base64\": ...}");
  }
  static std::optional<error> read_headers(element e, std::vector<http_header>& out) {
    simdjson::dom::array a;
    if (e.get_array().get(a)) {
      return bad("headers: expected an array of [name, value]");
    }
    for (element pair : a) {
      simdjson::dom::array nv;
      element name;
      element value;
      http_header h;
      if (pair.get_array().get(nv) || nv.size() != 2 || nv.at(0).get(name) || nv.at(1).get(value) ||
          read_bytes(name, "headers", h.name) || read_bytes(value, "headers", h.value)) {
        return bad("headers: expected an array of [name, value]");
      }
      out.push_back(std::move(h));
    }
    return std::nullopt;
  }
  static std::optional<error> read_head(element e, http_response& out) {
    std::int64_t status = 0;
    element headers;
    if (e.at_key("status").get_int64().get(status) || status < 100 || status > 999) {
      return bad("response/status: expected an HTTP status");
    }
    out.status = static_cast<int>(status);
    if (e.at_key("headers").get(headers)) {
      return bad("response/headers: missing");
    }
    return read_headers(headers, out.headers);
  }

  static std::optional<error> add(replay_transport& t, simdjson::dom::parser& parser,
                                  std::string_view line, std::size_t number) {
    if (phrony::detail::trim_json_space(line).empty()) {
      return std::nullopt; // blank lines (a final newline, spacing) are allowed
    }
    element doc;
    if (auto ec = parser.parse(line.data(), line.size()).get(doc)) {
      return bad(std::string("not JSON: ") + simdjson::error_message(ec));
    }
    std::int64_t version = 0;
    if (doc.at_key("v").get_int64().get(version) || version != 1) {
      return bad("v: expected 1 (a recording_transport line)");
    }
    exchange x;
    x.line = number;
    std::string_view k;
    element req;
    if (doc.at_key("kind").get_string().get(k) || (k != "send" && k != "stream")) {
      return bad("kind: expected \"send\" or \"stream\"");
    }
    x.k = k == "send" ? kind::send : kind::stream;
    if (doc.at_key("request").get(req)) {
      return bad("request: missing");
    }
    element method;
    element target;
    element body;
    if (req.at_key("method").get(method) || req.at_key("target").get(target) ||
        req.at_key("body").get(body)) {
      return bad("request: needs method, target and body");
    }
    if (auto e = read_bytes(method, "request/method", x.method)) {
      return e;
    }
    if (auto e = read_bytes(target, "request/target", x.target)) {
      return e;
    }
    if (auto e = read_bytes(body, "request/body", x.body)) {
      return e;
    }
    element response;
    element failure;
    const bool has_response = !doc.at_key("response").get(response);
    const bool has_failure = !doc.at_key("error").get(failure);
    if (has_response) {
      x.has_head = true;
      if (auto e = read_head(response, x.response)) {
        return e;
      }
    }
    if (has_failure) {
      std::string code;
      std::string message;
      element c;
      element m;
      if (failure.at_key("code").get(c) || failure.at_key("message").get(m) ||
          read_string(c, "error/code", code) || read_bytes(m, "error/message", message) ||
          !detail::errc_named(code)) {
        return bad("error: expected {\"code\": an errc name, \"message\": ...}");
      }
      x.failure = make_error(*detail::errc_named(code), "", std::move(message));
    }
    if (x.k == kind::send) {
      element b;
      if (has_response == has_failure) {
        return bad("a send exchange has either a response or an error");
      }
      if (has_response) {
        if (doc.at_key("body").get(b)) {
          return bad("body: missing");
        }
        if (auto e = read_bytes(b, "body", x.response.body)) {
          return e;
        }
      }
    } else {
      simdjson::dom::array chunks;
      if (doc.at_key("chunks").get_array().get(chunks)) {
        return bad("chunks: expected an array");
      }
      for (element c : chunks) {
        std::string bytes;
        if (auto e = read_bytes(c, "chunks", bytes)) {
          return e;
        }
        x.chunks.push_back(std::move(bytes));
      }
      if (!has_response && !has_failure) {
        return bad("a stream exchange without a response has an error");
      }
    }
    t.s_->exchanges.push_back(std::move(x));
    return std::nullopt;
  }
};

PHRONY_DECL phrony::result<phrony::testing::replay_transport>
phrony::testing::replay_transport::load(const std::string& path, const replay_options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errc::invalid_argument, "", "replay_transport: cannot open " + path);
  }
  replay_transport t;
  simdjson::dom::parser parser;
  std::string line;
  std::size_t number = 0;
  std::string buf(64 * 1024, '\0');
  bool more = true;
  while (more) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    more = got == buf.size();
    std::string_view data(buf.data(), got);
    while (!data.empty() || (!more && !line.empty())) {
      const auto nl = data.find('\n');
      line.append(data.substr(0, nl));
      if (line.size() > options.max_line) {
        return at_line(path, number + 1, errc::limit_exceeded,
                       "longer than replay_options::max_line (" + std::to_string(options.max_line) +
                           " bytes)");
      }
      if (nl == std::string_view::npos && more) {
        break;
      }
      data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      ++number;
      if (auto e = reader::add(t, parser, line, number)) {
        return at_line(path, number, e->code, e->message);
      }
      line.clear();
    }
  }
  return t;
}

PHRONY_DECL phrony::result<phrony::testing::replay_transport>
phrony::testing::replay_transport::parse(std::string_view text, std::string_view name) {
  replay_transport t;
  simdjson::dom::parser parser;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    ++number;
    if (auto e = reader::add(t, parser, text.substr(0, nl), number)) {
      return at_line(name, number, e->code, e->message);
    }
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return t;
}
#endif

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).

namespace phrony::testing::detail {

PHRONY_DECL std::optional<error> append_line(const std::string& path, json_writer&& w) {
  auto line = std::move(w).take();
  if (!line) {
    return std::move(line).error();
  }
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << *line << '\n';
  out.flush();
  if (!out) {
    return make_error(errc::invalid_argument, "", "recording_transport: cannot append to " + path);
  }
  return std::nullopt;
}

PHRONY_DECL std::vector<std::string> secrets_of(const http_request& req) {
  std::vector<std::string> out;
  for (const auto& h : req.headers) {
    if (!phrony::detail::is_secret_header(h.name) || h.value.empty()) {
      continue;
    }
    out.push_back(h.value);
    const std::string_view v = h.value;
    if (const auto space = v.find(' '); space != std::string_view::npos) {
      out.emplace_back(v.substr(space + 1));
    }
  }
  return out;
}

PHRONY_DECL std::string scrub_all(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    text = phrony::detail::scrub(std::move(text), s);
  }
  return text;
}

PHRONY_DECL bool query_is_presigned(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    if (phrony::detail::is_secret_query_name(param.substr(0, param.find('=')))) {
      return true;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return false;
}

PHRONY_DECL std::string drop_presigned_query(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) {
    return std::string(url);
  }
  const auto hash = url.find('#', q);
  const auto query = url.substr(q + 1, hash == std::string_view::npos ? hash : hash - q - 1);
  return query_is_presigned(query) ? std::string(url.substr(0, q)) : std::string(url);
}

PHRONY_DECL bool ends_url(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7F || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`';
}

PHRONY_DECL std::string drop_presigned_queries(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto at = text.find("http", i);
    if (at == std::string_view::npos) {
      break;
    }
    std::size_t p = at + 4;
    if (p < text.size() && text[p] == 's') {
      ++p;
    }
    const auto rest = text.substr(p);
    if (!rest.starts_with("://") && !rest.starts_with(":\\/\\/")) {
      out.append(text.substr(i, p - i));
      i = p;
      continue;
    }
    std::size_t end = p;
    while (end < text.size() && !ends_url(text[end]) &&
           !(text[end] == '\\' && (end + 1 >= text.size() || text[end + 1] != '/'))) {
      ++end;
    }
    out.append(text.substr(i, at - i));
    out += drop_presigned_query(text.substr(at, end - at));
    i = end;
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

PHRONY_DECL std::size_t string_token_end(std::string_view text, std::size_t open) {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

PHRONY_DECL std::string redact_secret_members(std::string_view text) {
  std::string out;
  std::size_t done = 0; // text[0, done) is in `out`
  std::size_t i = text.find('"');
  while (i != std::string_view::npos) {
    const auto end = string_token_end(text, i);
    if (end == std::string_view::npos) {
      break;
    }
    std::size_t next = end;
    while (next < text.size() && phrony::detail::is_json_space(text[next])) {
      ++next;
    }
    if (next >= text.size() || text[next] != ':' ||
        !phrony::detail::is_secret_header(text.substr(i + 1, end - i - 2))) {
      i = text.find('"', end);
      continue;
    }
    ++next;
    while (next < text.size() && phrony::detail::is_json_space(text[next])) {
      ++next;
    }
    if (next >= text.size() || text[next] != '"') {
      i = text.find('"', next);
      continue;
    }
    const auto value_end = string_token_end(text, next);
    if (value_end == std::string_view::npos) {
      break;
    }
    out.append(text.substr(done, next + 1 - done));
    out += "[redacted]\"";
    done = value_end;
    i = text.find('"', value_end);
  }
  out.append(text.substr(done));
  return out;
}

PHRONY_DECL std::string target_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const auto rest = url.find_first_of("/?#", scheme + 3);
    url = rest == std::string_view::npos ? std::string_view("/") : url.substr(rest);
  }
  std::string out = drop_presigned_query(url.substr(0, url.find('#')));
  if (out.empty() || out.front() != '/') {
    out.insert(out.begin(), '/');
  }
  return out;
}

PHRONY_DECL http_request redacted(const http_request& req) {
  const auto secrets = secrets_of(req);
  http_request out = req;
  out.url = scrub_all(std::move(out.url), secrets);
  out.body = scrub_all(std::move(out.body), secrets);
  for (auto& h : out.headers) {
    h.value = phrony::detail::is_secret_header(h.name) ? std::string("[redacted]")
                                                       : scrub_all(std::move(h.value), secrets);
  }
  return out;
}

PHRONY_DECL std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto n = std::uint32_t{static_cast<unsigned char>(in[i])} << 16 |
                   std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8 |
                   std::uint32_t{static_cast<unsigned char>(in[i + 2])};
    out += base64_chars[n >> 18];
    out += base64_chars[(n >> 12) & 63];
    out += base64_chars[(n >> 6) & 63];
    out += base64_chars[n & 63];
  }
  if (const auto left = in.size() - i; left > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (left == 2) {
      n |= std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    }
    out += base64_chars[n >> 18];
    out += base64_chars[(n >> 12) & 63];
    out += left == 2 ? base64_chars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

PHRONY_DECL std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      std::uint32_t v = 0;
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        ++pad;
      } else if (const auto pos = base64_chars.find(c); pos != std::string_view::npos && pad == 0) {
        v = static_cast<std::uint32_t>(pos);
      } else {
        return std::nullopt;
      }
      n = n << 6 | v;
    }
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) {
      out += static_cast<char>((n >> 8) & 0xFF);
    }
    if (pad < 1) {
      out += static_cast<char>(n & 0xFF);
    }
  }
  return out;
}

PHRONY_DECL void write_bytes(json_writer& w, std::string_view bytes) {
  if (is_valid_utf8(bytes)) {
    w.value(bytes);
  } else {
    w.begin_object().key("base64").value(base64_encode(bytes)).end_object();
  }
}

PHRONY_DECL void write_headers(json_writer& w, const std::vector<http_header>& headers) {
  w.begin_array();
  for (const auto& h : headers) {
    w.begin_array();
    write_bytes(w, h.name);
    write_bytes(w, h.value);
    w.end_array();
  }
  w.end_array();
}

PHRONY_DECL void write_error(json_writer& w, const error& e) {
  w.begin_object().key("code").value(to_string(e.code)).key("message");
  write_bytes(w, e.message);
  w.end_object();
}

PHRONY_DECL std::vector<std::string> join_split_secrets(std::vector<std::string> chunks,
                                                        const std::vector<std::string>& secrets) {
  std::string all;
  std::vector<std::size_t> starts; // offset of each chunk in `all`
  for (const auto& c : chunks) {
    starts.push_back(all.size());
    all += c;
  }
  std::vector<bool> joins_next(chunks.size(), false);
  const auto chunk_at = [&](std::size_t offset) {
    std::size_t k = 0;
    while (k + 1 < starts.size() && starts[k + 1] <= offset) {
      ++k;
    }
    return k;
  };
  for (const auto& s : secrets) {
    if (s.size() < phrony::detail::min_scrubbed_secret) {
      continue;
    }
    for (auto pos = all.find(s); pos != std::string::npos; pos = all.find(s, pos + 1)) {
      for (auto k = chunk_at(pos); k < chunk_at(pos + s.size() - 1); ++k) {
        joins_next[k] = true;
      }
    }
  }
  std::vector<std::string> out;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    if (k > 0 && joins_next[k - 1]) {
      out.back() += chunks[k];
    } else {
      out.push_back(std::move(chunks[k]));
    }
  }
  return out;
}

PHRONY_DECL std::optional<errc> errc_named(std::string_view name) {
  for (auto c : {errc::invalid_json, errc::missing_field, errc::wrong_type, errc::out_of_range,
                 errc::invalid_argument, errc::limit_exceeded, errc::http_status, errc::transport,
                 errc::cancelled}) {
    if (to_string(c) == name) {
      return c;
    }
  }
  return std::nullopt;
}

PHRONY_DECL result<void> play_stream(const response_head& head,
                                     const std::vector<std::string>& chunks,
                                     const std::optional<error>& end, const stream_handler& h) {
  if (h.on_head && !h.on_head(head)) {
    return make_error(errc::cancelled, "", "stopped by the stream handler");
  }
  for (const auto& c : chunks) {
    if (h.on_data && !h.on_data(c)) {
      return make_error(errc::cancelled, "", "stopped by the stream handler");
    }
  }
  if (end) {
    return *end;
  }
  return {};
}
} // namespace phrony::testing::detail

namespace phrony::testing {

PHRONY_DECL scripted_transport& scripted_transport::respond(http_response r) {
  s_->responses.emplace_back(std::move(r));
  return *this;
}

PHRONY_DECL scripted_transport& scripted_transport::respond(int status, std::string body,
                                                            std::vector<http_header> headers) {
  http_response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return respond(std::move(r));
}

PHRONY_DECL scripted_transport& scripted_transport::fail(error e) {
  s_->responses.emplace_back(std::move(e));
  return *this;
}

PHRONY_DECL scripted_transport& scripted_transport::respond_stream(scripted_stream s) {
  s_->streams.emplace_back(std::move(s));
  return *this;
}

PHRONY_DECL scripted_transport& scripted_transport::fail_stream(error e) {
  s_->streams.emplace_back(std::move(e));
  return *this;
}

PHRONY_DECL result<http_response> scripted_transport::send(const http_request& req) {
  arrived(req);
  if (s_->responses.empty()) {
    return unexpected(req, "response");
  }
  auto r = std::move(s_->responses.front());
  s_->responses.pop_front();
  return r;
}

PHRONY_DECL result<void> scripted_transport::stream(const http_request& req,
                                                    const stream_handler& h) {
  arrived(req);
  if (s_->streams.empty()) {
    return unexpected(req, "stream");
  }
  auto next = std::move(s_->streams.front());
  s_->streams.pop_front();
  if (!next) {
    return std::move(next).error();
  }
  response_head head;
  head.status = next->status;
  head.headers = next->headers;
  return detail::play_stream(head, next->chunks, next->end_error, h);
}

PHRONY_DECL std::string scripted_transport::log() const {
  std::string out;
  for (std::size_t i = 0; i < s_->requests.size(); ++i) {
    // Appended piece by piece: `"#" + std::string&&` trips g++ 12's -Wrestrict false positive.
    out += '#';
    out += std::to_string(i + 1);
    out += ' ';
    out += to_string(s_->requests[i]);
    out += '\n';
  }
  return out;
}

PHRONY_DECL std::vector<std::string> scripted_transport::unused() const {
  std::vector<std::string> out = unanswered();
  for (const auto& r : s_->responses) {
    out.push_back(r ? "unused response: status " + std::to_string(r->status) + ", " +
                          std::to_string(r->body.size()) + " body bytes"
                    : "unused send error: " + r.error().message);
  }
  for (const auto& s : s_->streams) {
    out.push_back(s ? "unused stream: status " + std::to_string(s->status) + ", " +
                          std::to_string(s->chunks.size()) + " chunks"
                    : "unused stream error: " + s.error().message);
  }
  return out;
}

PHRONY_DECL result<void> scripted_transport::verify() const {
  const auto problems = unused();
  if (problems.empty()) {
    return {};
  }
  std::string message = "scripted_transport: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    message += (i > 0 ? "; " : "") + problems[i];
  }
  return make_error(errc::invalid_argument, "", std::move(message));
}

PHRONY_DECL void scripted_transport::arrived(const http_request& req) {
  s_->requests.push_back(detail::redacted(req));
  if (s_->on_request) {
    s_->on_request(req);
  }
}

PHRONY_DECL error scripted_transport::unexpected(const http_request& req, std::string_view what) {
  std::string message = "no " + std::string(what) + " queued for " + detail::describe(req) +
                        " (request " + std::to_string(s_->requests.size()) + ")";
  s_->unexpected.push_back(message);
  return make_error(errc::invalid_argument, "", "scripted_transport: " + std::move(message));
}

PHRONY_DECL result<http_response> replay_transport::send(const http_request& req) {
  auto* x = take(req, kind::send);
  if (x == nullptr) {
    return unrecorded(req, kind::send);
  }
  if (x->failure) {
    return *x->failure;
  }
  return x->response;
}

PHRONY_DECL result<void> replay_transport::stream(const http_request& req,
                                                  const stream_handler& h) {
  auto* x = take(req, kind::stream);
  if (x == nullptr) {
    return unrecorded(req, kind::stream);
  }
  if (!x->has_head) { // it failed before a response came
    return x->failure ? result<void>(*x->failure) : result<void>{};
  }
  return detail::play_stream(x->response, x->chunks, x->failure, h);
}

PHRONY_DECL std::vector<std::string> replay_transport::unused() const {
  std::vector<std::string> out;
  for (const auto& x : s_->exchanges) {
    if (!x.used) {
      out.push_back(x.describe());
    }
  }
  return out;
}

PHRONY_DECL result<void> replay_transport::verify() const {
  const auto left = unused();
  if (left.empty()) {
    return {};
  }
  std::string message =
      "replay_transport: " + std::to_string(left.size()) + " recorded exchanges not replayed: ";
  for (std::size_t i = 0; i < left.size(); ++i) {
    message += (i > 0 ? "; " : "") + left[i];
  }
  return make_error(errc::invalid_argument, "", std::move(message));
}

PHRONY_DECL std::string replay_transport::exchange::describe() const {
  return "line " + std::to_string(line) + ": " + (k == kind::stream ? "stream " : "") + method +
         " " + target;
}

PHRONY_DECL error replay_transport::at_line(std::string_view file, std::size_t line, errc code,
                                            const std::string& message) {
  return make_error(code, "",
                    "replay_transport: " + std::string(file) + ":" + std::to_string(line) + ": " +
                        message);
}

PHRONY_DECL replay_transport::exchange* replay_transport::take(const http_request& req, kind k) {
  const auto secrets = detail::secrets_of(req);
  const auto target = detail::scrub_all(detail::target_of(req.url), secrets);
  const auto body = detail::scrub_text(req.body, secrets);
  for (auto& x : s_->exchanges) {
    if (!x.used && x.k == k && x.method == req.method && x.target == target && x.body == body) {
      x.used = true;
      return &x;
    }
  }
  return nullptr;
}

PHRONY_DECL std::string replay_transport::nearest(std::string_view method, std::string_view target,
                                                  kind k) const {
  const exchange* replayed = nullptr;
  const exchange* closest = nullptr;
  std::tuple<std::size_t, bool, std::size_t> best{};
  for (const auto& x : s_->exchanges) {
    if (x.method == method && x.target == target) {
      if (!x.used) {
        return "nearest recorded: " + x.describe() +
               (x.k != k ? " (the other kind)" : " (another body)");
      }
      replayed = replayed != nullptr ? replayed : &x;
      continue;
    }
    if (x.used) {
      continue;
    }
    // Ranked by the shared beginning of the targets, then the same method, then the
    // difference in length.
    std::size_t common = 0;
    while (common < x.target.size() && common < target.size() &&
           x.target[common] == target[common]) {
      ++common;
    }
    const std::size_t apart = x.target.size() > target.size() ? x.target.size() - target.size()
                                                              : target.size() - x.target.size();
    const auto rank = std::tuple(common, x.method == method, ~apart);
    if (closest == nullptr || rank > best) {
      closest = &x;
      best = rank;
    }
  }
  if (replayed != nullptr) {
    return "each recorded one was replayed already (first: " + replayed->describe() + ")";
  }
  if (closest != nullptr) {
    return "nearest recorded: " + closest->describe();
  }
  return "every recorded exchange was replayed already";
}

PHRONY_DECL error replay_transport::unrecorded(const http_request& req, kind k) const {
  const auto target = detail::scrub_all(detail::target_of(req.url), detail::secrets_of(req));
  std::string message = "replay_transport: no recorded exchange for " +
                        std::string(k == kind::stream ? "stream " : "") + req.method + " " + target;
  message += "; " + nearest(req.method, target, k);
  return make_error(errc::invalid_argument, "", std::move(message));
}

} // namespace phrony::testing
#endif
