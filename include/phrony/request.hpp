// phrony: http_request and one builder per endpoint. Builders validate every caller-supplied
// value before anything is sent: ids cannot change the route, bodies are well-formed UTF-8 JSON,
// and the API key never appears in printed requests or error messages.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phrony/config.hpp"
#include "phrony/detail/chrono.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/files.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/version.hpp"

namespace phrony {

/// Where and as whom to call the API.
struct api_config {
  std::string base_url = "https://api.phrony.com"; ///< may carry a path prefix; no query
  std::string api_key;                             ///< phk_...; a secret, never printed
  std::string user_agent = "phrony-cpp/" PHRONY_VERSION_STRING; ///< empty: no User-Agent header
};

/// One request or response header.
struct http_header {
  std::string name;
  std::string value;

  friend bool operator==(const http_header&, const http_header&) = default;
};

/// A complete request for a transport to send; builders below make these.
struct http_request {
  std::string method;
  std::string url; ///< absolute: base + path + query
  std::vector<http_header> headers;
  std::string body;
  // Bounds a transport must enforce for this exchange (client<T> fills them from
  // client_options and follow_options::max_duration); 0 means "the transport's own default".
  std::chrono::milliseconds timeout{0}; ///< the whole exchange, connect to last body byte
  std::size_t max_response_body = 0;    ///< body bytes kept; more is errc::limit_exceeded

  /// Path and query without scheme and host, credential-bearing query values redacted; for
  /// error messages and logs.
  [[nodiscard]] std::string route() const;
  /// The first header named `name` (case-insensitive), or nullptr.
  [[nodiscard]] PHRONY_DECL const std::string* header(std::string_view name) const;

  friend bool operator==(const http_request&, const http_request&) = default;
};

namespace detail {

/// Headers whose values are secrets: shown as "[redacted]" whenever a request is printed.
[[nodiscard]] constexpr bool is_secret_header(std::string_view name) noexcept {
  return iequals_ascii(name, "X-API-Key") || iequals_ascii(name, "Authorization") ||
         iequals_ascii(name, "Proxy-Authorization") || iequals_ascii(name, "Cookie") ||
         icontains_ascii(name, "token") || icontains_ascii(name, "secret") ||
         icontains_ascii(name, "signature") || icontains_ascii(name, "credential") ||
         icontains_ascii(name, "customer-key");
}

/// Bodies longer than this are cut when printed.
inline constexpr std::size_t max_printed_body = 4096;

/// `url` with credential-bearing query values redacted.
[[nodiscard]] PHRONY_DECL std::string redact_url(std::string_view url);

} // namespace detail

/// Method, URL, headers and body for logs, with every secret header value (X-API-Key first of
/// all) shown as "[redacted]" and those values scrubbed from the rest (a caller may paste the
/// key into a message); a body over detail::max_printed_body is cut after it is scrubbed.
[[nodiscard]] PHRONY_DECL std::string to_string(const http_request& r);

/// Prints to_string(r): secrets redacted.
PHRONY_DECL std::ostream& operator<<(std::ostream& os, const http_request& r);

/// base + path, with no "//" when the base ends in '/'. The base must be an absolute http:// or
/// https:// URL with a host, optionally a path prefix, and no query, fragment or credentials;
/// the prefix and the path hold only characters RFC 3986 allows there (detail::is_url_path_text).
[[nodiscard]] PHRONY_DECL result<std::string> join_url(std::string_view base,
                                                       std::string_view path);

/// Checks that `id` has the UUID shape (8-4-4-4-12 hex digits); `what` ("runId") names it in the
/// error. Anything else could add a path segment, a query or a fragment, so it never gets sent.
[[nodiscard]] PHRONY_DECL result<void> validate_id(std::string_view id, std::string_view what);

/// Percent-encodes `s` for a query value: RFC 3986 unreserved characters are kept, every other
/// byte becomes %XX.
[[nodiscard]] PHRONY_DECL std::string percent_encode(std::string_view s);

/// Checks that `text` is one well-formed JSON value (every byte walked) and keeps it verbatim,
/// without surrounding whitespace.
[[nodiscard]] PHRONY_DECL result<raw_json> parse_raw_json(std::string_view text);

/// parse_raw_json, but the value must be an object (errc::wrong_type otherwise).
[[nodiscard]] PHRONY_DECL result<raw_json> parse_json_object(std::string_view text);

/// Which timeline detail GET .../conversation returns.
enum class step_content {
  full, ///< every engine step with its full content (the server's default)
  slim, ///< without the repeated ids in each step's content
};

/// The two routes that accept a run message; they take the same body.
enum class message_route { messages, input };

/// Filters and paging of GET /v1/agents/{agentId}/sessions; unset ones are not sent.
struct sessions_query {
  std::optional<std::int64_t> skip; ///< >= 0
  std::optional<std::int64_t> take; ///< > 0
  std::optional<std::string> version_id;
  std::optional<std::string> status; ///< a run status wire string, e.g. "Completed"
};

/// Body of POST /v1/runs/{runId}/messages (or /input); runId is filled in from the path.
struct run_message {
  std::optional<std::string> user_task_id;       ///< the pending UserTaskReq's user_task_id
  std::optional<bool> approved;                  ///< approval tasks
  std::optional<std::string> selected_option_id; ///< multi_option tasks
  std::optional<std::string> text_value;         ///< text tasks
  std::optional<double> number_value;            ///< number tasks; must be finite
  std::optional<raw_json> metadata;              ///< a JSON object
  std::optional<std::string> text;               ///< chat text (WaitingForResponse)
  std::optional<std::string> message;            ///< alias of text
  std::vector<message_file> files;
  std::optional<std::string> completed_by_email; ///< dashboard only
  std::optional<bool> skip_agent_wait;           ///< dashboard only
  extra_fields extra; ///< fields this library does not know, written after the others

  /// Approves the pending approval task `task_id`.
  [[nodiscard]] PHRONY_DECL static run_message approve(std::string task_id);
  /// Rejects the pending approval task `task_id`.
  [[nodiscard]] PHRONY_DECL static run_message reject(std::string task_id);
  /// Answers a multi_option task with one of its option ids.
  [[nodiscard]] PHRONY_DECL static run_message choose_option(std::string task_id,
                                                             std::string option_id);
  /// Answers a text task.
  [[nodiscard]] PHRONY_DECL static run_message answer_text(std::string task_id, std::string value);
  /// Answers a number task.
  [[nodiscard]] PHRONY_DECL static run_message answer_number(std::string task_id, double value);
  /// Chat text for a run waiting for a response.
  [[nodiscard]] PHRONY_DECL static run_message chat(std::string text);
  /// Files (from file_ref::as_message_file) for a run waiting for a response.
  [[nodiscard]] PHRONY_DECL static run_message with_files(std::vector<message_file> files);

  friend bool operator==(const run_message&, const run_message&) = default;
};

namespace detail {

/// The caller's value at `pointer` was rejected.
[[nodiscard]] inline error bad_arg(std::string_view pointer, std::string message) {
  return make_error(errc::invalid_argument, std::string(pointer), std::move(message));
}

/// Re-validates a caller's raw_json (its text may have been set by hand) for the body at
/// `pointer`; parse errors become invalid_argument errors under that pointer.
[[nodiscard]] PHRONY_DECL result<raw_json> check_raw(const raw_json& value,
                                                     std::string_view pointer, bool must_be_object);

[[nodiscard]] PHRONY_DECL maybe_error check_utf8(std::string_view s, std::string_view pointer);

[[nodiscard]] PHRONY_DECL maybe_error check_id(std::string_view id, std::string_view what,
                                               std::string_view pointer);

/// Integers above 2^53 - 1 lose digits in the server's JavaScript numbers.
inline constexpr std::int64_t max_safe_integer = (std::int64_t{1} << 53) - 1;

[[nodiscard]] PHRONY_DECL maybe_error check_content_length(std::int64_t n,
                                                           std::string_view pointer);

[[nodiscard]] PHRONY_DECL maybe_error check_config(const api_config& cfg);

/// An authenticated request to `path` on the configured base; a body means JSON.
[[nodiscard]] PHRONY_DECL result<http_request>
api_request(const api_config& cfg, std::string_view method, std::string_view path,
            std::optional<std::string> body, std::string_view accept = "application/json");

/// The finished body text of `w`; a writer error (only possible after a missed check) is still
/// reported instead of sending a wrong body.
[[nodiscard]] inline result<std::string> finish_body(json_writer&& w) {
  return std::move(w).take();
}

/// Body field names of a run message; extra fields may not reuse them.
inline constexpr std::string_view message_fields[] = {
    "runId",     "userTaskId",  "approved",         "selectedOptionId",
    "textValue", "numberValue", "metadata",         "text",
    "message",   "files",       "completedByEmail", "skipAgentWait"};

/// `e` with every occurrence of the API key in its path and message scrubbed: errors about a
/// caller's JSON name its fields, and a caller may have pasted the key into one.
[[nodiscard]] PHRONY_DECL error scrub_error(error e, std::string_view api_key);

/// SPEC.md's body rule and every field's own rule, checked before anything is sent.
[[nodiscard]] PHRONY_DECL maybe_error check_message(const run_message& m);

[[nodiscard]] PHRONY_DECL result<std::string> message_body(std::string_view run_id,
                                                           const run_message& m);

} // namespace detail

/// POST /v1/agents/{agentId}/runs with body {"input": input}; no input sends {"input":{}}.
[[nodiscard]] PHRONY_DECL result<http_request>
start_run_request(const api_config& cfg, std::string_view agent_id,
                  std::optional<raw_json> input = std::nullopt);

/// GET /v1/agents/{agentId}/sessions with the query's set filters, in SPEC order.
[[nodiscard]] PHRONY_DECL result<http_request>
list_sessions_request(const api_config& cfg, std::string_view agent_id,
                      const sessions_query& query = {});

/// GET /v1/runs/{runId}.
[[nodiscard]] PHRONY_DECL result<http_request> get_run_request(const api_config& cfg,
                                                               std::string_view run_id);

/// GET /v1/runs/{runId}/conversation?stepContent=full|slim.
[[nodiscard]] PHRONY_DECL result<http_request>
get_conversation_request(const api_config& cfg, std::string_view run_id,
                         step_content content = step_content::full);

/// GET /v1/runs/{runId}/stream as text/event-stream; `last_event_id` (when not empty) resumes
/// after that event, as an EventSource reconnect does. An id with a control character or over
/// detail::max_last_event_id bytes is errc::invalid_argument (reconnect_last_event_id never
/// returns one).
[[nodiscard]] PHRONY_DECL result<http_request>
stream_request(const api_config& cfg, std::string_view run_id,
               std::optional<std::string_view> last_event_id = std::nullopt);

/// POST /v1/runs/{runId}/messages (or /input) with `message`, runId filled in from the path. An
/// error names the offending field (extra field names and metadata keys included), the API key
/// scrubbed from it.
[[nodiscard]] PHRONY_DECL result<http_request>
send_message_request(const api_config& cfg, std::string_view run_id, const run_message& message,
                     message_route route = message_route::messages);

/// POST /v1/runs/{runId}/skip-agent-wait (no body).
[[nodiscard]] PHRONY_DECL result<http_request> skip_agent_wait_request(const api_config& cfg,
                                                                       std::string_view run_id);

/// POST /v1/file-library/presign {filename, mediaType, maxContentLength}.
[[nodiscard]] PHRONY_DECL result<http_request> presign_request(const api_config& cfg,
                                                               const presign_params& p);

/// POST /v1/file-library/finalize {objectKey, maxContentLength, filename?, mediaType?}.
[[nodiscard]] PHRONY_DECL result<http_request> finalize_request(const api_config& cfg,
                                                                const finalize_params& p);

/// The upload of `bytes` to a presigned URL: its method, every required header in order, and
/// no X-API-Key (it goes to object storage, not to the API).
[[nodiscard]] PHRONY_DECL result<http_request> upload_request(const presign_response& presigned,
                                                              std::string bytes);

} // namespace phrony

#if PHRONY_WITH_IMPL
#include "phrony/detail/json.hpp"

namespace phrony::detail {

/// Validates a root string, number or boolean (simdjson does not hand those out as values).
[[nodiscard]] inline maybe_error read_scalar_document(od::document& doc, const path& p, text& out) {
  od::json_type t{};
  if (auto ec = doc.type().get(t)) {
    return json_error(ec, p, "a JSON value");
  }
  switch (t) {
  case od::json_type::string: {
    std::string_view s;
    if (auto ec = doc.get_string().get(s)) {
      return json_error(ec, p, "string");
    }
    break;
  }
  case od::json_type::number: {
    od::number n;
    if (auto ec = doc.get_number().get(n)) {
      return json_error(ec, p, "number");
    }
    break;
  }
  case od::json_type::boolean: {
    bool b = false;
    if (doc.get_bool().get(b)) {
      return error_at(errc::invalid_json, p, "invalid literal");
    }
    break;
  }
  default: return error_at(errc::invalid_json, p, "unknown JSON value");
  }
  std::string_view token;
  if (auto ec = doc.raw_json_token().get(token)) {
    return json_error(ec, p, "a JSON value");
  }
  assign_string(out, trim_json_space(token));
  return {};
}

} // namespace phrony::detail

PHRONY_DECL phrony::result<phrony::raw_json> phrony::parse_raw_json(std::string_view text) {
  auto& tp = detail::local_parser();
  const simdjson::padded_string_view body = detail::padded_copy(tp.buffer, text);
  const detail::path root;
  detail::od::document doc;
  if (auto ec = tp.parser.iterate(body).get(doc)) {
    return detail::json_error(ec, root, "a JSON document");
  }
  raw_json out;
  detail::od::value v;
  detail::od::json_type type{};
  if (auto ec = doc.type().get(type)) {
    return detail::json_error(ec, root, "a JSON value");
  }
  if (type == detail::od::json_type::null) {
    // simdjson 3.0.1's document::is_null() fails on trailing whitespace, so compare the text.
    if (detail::trim_json_space(text) != "null") {
      return detail::error_at(errc::invalid_json, root, "invalid literal");
    }
    return raw_json{"null"};
  }
  if (auto ec = doc.get_value().get(v); ec == simdjson::SCALAR_DOCUMENT_AS_VALUE) {
    PHRONY_TRY(detail::read_scalar_document(doc, root, out.text));
  } else if (ec) {
    return detail::json_error(ec, root, "a JSON document");
  } else {
    detail::read_context ctx{body.data() + body.size()};
    if (detail::read_value(v, root, ctx, out)) {
      return detail::take_failure();
    }
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return detail::error_at(errc::invalid_json, root, "trailing content after the JSON value");
  }
  return out;
}
#endif

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <ostream>

namespace phrony {

PHRONY_DECL std::ostream& operator<<(std::ostream& os, const http_request& r) {
  return os << to_string(r);
}

PHRONY_DECL const std::string* http_request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (detail::iequals_ascii(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}
} // namespace phrony

namespace phrony::detail {

PHRONY_DECL std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return redact_query(url);
  }
  const auto rest = url.find_first_of("/?#", scheme + 3);
  if (rest == std::string_view::npos) {
    return std::string(url);
  }
  return std::string(url.substr(0, rest)) + redact_query(url.substr(rest));
}
} // namespace phrony::detail

namespace phrony {

PHRONY_DECL std::string http_request::route() const {
  const std::string_view u = url;
  const auto scheme = u.find("://");
  if (scheme == std::string_view::npos) {
    return detail::redact_query(u);
  }
  const auto rest = u.find_first_of("/?#", scheme + 3);
  if (rest == std::string_view::npos) {
    return "/";
  }
  std::string out = detail::redact_query(u.substr(rest));
  if (out.empty() || out.front() != '/') {
    out.insert(out.begin(), '/');
  }
  return out;
}

PHRONY_DECL std::string to_string(const http_request& r) {
  std::vector<std::string_view> secrets;
  for (const auto& h : r.headers) {
    if (detail::is_secret_header(h.name)) {
      secrets.push_back(h.value);
    }
  }
  std::string out = r.method + " " + detail::redact_url(r.url) + "\n";
  for (const auto& h : r.headers) {
    out += h.name + ": " + (detail::is_secret_header(h.name) ? "[redacted]" : h.value) + "\n";
  }
  for (const std::string_view s : secrets) {
    out = detail::scrub(std::move(out), s);
  }
  if (!r.body.empty()) {
    out += '\n';
    if (!is_valid_utf8(r.body)) {
      out += "[" + std::to_string(r.body.size()) + " bytes of binary data]";
    } else {
      const auto shown = detail::scrub_then_cut(r.body, secrets, detail::max_printed_body);
      out += shown.text;
      if (shown.cut) {
        out += "... [" + std::to_string(r.body.size()) + " bytes in all]";
      }
    }
  }
  return out;
}

PHRONY_DECL result<std::string> join_url(std::string_view base, std::string_view path) {
  auto parts = detail::split_http_url(base, "base_url");
  if (!parts) {
    return std::move(parts).error();
  }
  if (parts->rest.find_first_of("?#") != std::string_view::npos) {
    return make_error(errc::invalid_argument, "", "base_url must not contain a query or fragment");
  }
  // Every byte of the target goes on the wire as it is: RFC 3986 characters only.
  if (!detail::is_url_path_text(parts->rest)) {
    return make_error(errc::invalid_argument, "",
                      "base_url has a path character that must be percent-encoded (a space, "
                      "non-ASCII text, '%' without two hex digits, ...)");
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return make_error(errc::invalid_argument, "", "path contains a space or control character");
    }
  }
  if (!detail::is_url_path_text(path)) {
    return make_error(errc::invalid_argument, "",
                      "path has a character that must be percent-encoded");
  }
  while (base.ends_with('/')) {
    base.remove_suffix(1);
  }
  std::string out(base);
  if (!path.starts_with('/')) {
    out += '/';
  }
  out += path;
  return out;
}

PHRONY_DECL result<void> validate_id(std::string_view id, std::string_view what) {
  if (detail::is_uuid(id)) {
    return {};
  }
  // The value is not echoed: it may hold anything, a pasted secret included.
  return make_error(errc::invalid_argument, "",
                    std::string(what) + " must be a UUID (8-4-4-4-12 hex digits), got " +
                        (id.empty() ? std::string("an empty string")
                                    : std::to_string(id.size()) + " bytes of something else"));
}

PHRONY_DECL std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = detail::is_digit(c) || (c >= 'a' && c <= 'z') ||
                            (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

PHRONY_DECL result<raw_json> parse_json_object(std::string_view text) {
  auto r = parse_raw_json(text);
  if (r && !r->text.starts_with('{')) {
    return make_error(errc::wrong_type, "", "expected object");
  }
  return r;
}

PHRONY_DECL run_message run_message::approve(std::string task_id) {
  run_message m;
  m.user_task_id = std::move(task_id);
  m.approved = true;
  return m;
}

PHRONY_DECL run_message run_message::reject(std::string task_id) {
  run_message m;
  m.user_task_id = std::move(task_id);
  m.approved = false;
  return m;
}

PHRONY_DECL run_message run_message::choose_option(std::string task_id, std::string option_id) {
  run_message m;
  m.user_task_id = std::move(task_id);
  m.selected_option_id = std::move(option_id);
  return m;
}

PHRONY_DECL run_message run_message::answer_text(std::string task_id, std::string value) {
  run_message m;
  m.user_task_id = std::move(task_id);
  m.text_value = std::move(value);
  return m;
}

PHRONY_DECL run_message run_message::answer_number(std::string task_id, double value) {
  run_message m;
  m.user_task_id = std::move(task_id);
  m.number_value = value;
  return m;
}

PHRONY_DECL run_message run_message::chat(std::string text) {
  run_message m;
  m.text = std::move(text);
  return m;
}

PHRONY_DECL run_message run_message::with_files(std::vector<message_file> files) {
  run_message m;
  m.files = std::move(files);
  return m;
}
} // namespace phrony

namespace phrony::detail {

PHRONY_DECL result<raw_json> check_raw(const raw_json& value, std::string_view pointer,
                                       bool must_be_object) {
  auto r = must_be_object ? parse_json_object(value.text) : parse_raw_json(value.text);
  if (!r) {
    return bad_arg(std::string(pointer) + r.error().path,
                   std::string(pointer.substr(1)) + ": " + r.error().message);
  }
  return r;
}

PHRONY_DECL maybe_error check_utf8(std::string_view s, std::string_view pointer) {
  if (!is_valid_utf8(s)) {
    return bad_arg(pointer, std::string(pointer.substr(1)) + " is not UTF-8");
  }
  return {};
}

PHRONY_DECL maybe_error check_id(std::string_view id, std::string_view what,
                                 std::string_view pointer) {
  auto r = validate_id(id, what);
  if (!r) {
    auto e = std::move(r).error();
    e.path = std::string(pointer);
    return e;
  }
  return {};
}

PHRONY_DECL maybe_error check_content_length(std::int64_t n, std::string_view pointer) {
  if (n <= 0 || n > max_safe_integer) {
    return bad_arg(pointer, "maxContentLength must be a positive integer below 2^53");
  }
  return {};
}

PHRONY_DECL maybe_error check_config(const api_config& cfg) {
  if (cfg.api_key.empty()) {
    return bad_arg("", "api_key is empty: set api_config::api_key to your phk_ key");
  }
  if (has_header_ctl(cfg.api_key)) {
    return bad_arg("", "api_key contains a control character (a trailing newline?)");
  }
  if (cfg.api_key.front() == ' ' || cfg.api_key.back() == ' ' || cfg.api_key.front() == '\t' ||
      cfg.api_key.back() == '\t') {
    // Servers trim header whitespace, so such a key would silently become another key.
    return bad_arg("", "api_key has leading or trailing whitespace");
  }
  if (has_header_ctl(cfg.user_agent)) {
    return bad_arg("", "user_agent contains a control character");
  }
  return {};
}

PHRONY_DECL result<http_request> api_request(const api_config& cfg, std::string_view method,
                                             std::string_view path, std::optional<std::string> body,
                                             std::string_view accept) {
  PHRONY_TRY(check_config(cfg));
  auto url = join_url(cfg.base_url, path);
  if (!url) {
    return std::move(url).error();
  }
  http_request r;
  r.method = std::string(method);
  r.url = std::move(*url);
  r.headers.push_back({"X-API-Key", cfg.api_key});
  r.headers.push_back({"Accept", std::string(accept)});
  if (!cfg.user_agent.empty()) {
    r.headers.push_back({"User-Agent", cfg.user_agent});
  }
  if (body) {
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::move(*body);
  }
  return r;
}

PHRONY_DECL error scrub_error(error e, std::string_view api_key) {
  e.path = scrub(std::move(e.path), api_key);
  e.message = scrub(std::move(e.message), api_key);
  return e;
}

PHRONY_DECL maybe_error check_message(const run_message& m) {
  if (m.user_task_id) {
    PHRONY_TRY(check_id(*m.user_task_id, "userTaskId", "/userTaskId"));
  } else {
    // These answer a user task; without one the server would ignore them silently.
    const std::pair<bool, std::string_view> answers[] = {
        {m.approved.has_value(), "approved"},
        {m.selected_option_id.has_value(), "selectedOptionId"},
        {m.text_value.has_value(), "textValue"},
        {m.number_value.has_value(), "numberValue"}};
    for (const auto& [set, name] : answers) {
      if (set) {
        return bad_arg("/" + std::string(name),
                       std::string(name) + " answers a user task: set userTaskId too");
      }
    }
  }
  if (m.selected_option_id) {
    PHRONY_TRY(check_nonempty_text(*m.selected_option_id, "/selectedOptionId", "selectedOptionId"));
  }
  if (m.number_value && !std::isfinite(*m.number_value)) {
    return bad_arg("/numberValue", "numberValue must be finite");
  }
  const std::pair<const std::optional<std::string>*, std::string_view> texts[] = {
      {&m.text_value, "/textValue"},
      {&m.text, "/text"},
      {&m.message, "/message"},
      {&m.completed_by_email, "/completedByEmail"}};
  for (const auto& [value, pointer] : texts) {
    if (*value) {
      PHRONY_TRY(check_utf8(**value, pointer));
    }
  }
  if (m.metadata) {
    auto r = check_raw(*m.metadata, "/metadata", true);
    if (!r) {
      return std::move(r).error();
    }
  }
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const auto& f = m.files[i];
    const std::string at = "/files/" + std::to_string(i);
    PHRONY_TRY(check_nonempty_text(f.object_key, at + "/objectKey", "objectKey"));
    if (f.filename) {
      PHRONY_TRY(check_nonempty_text(*f.filename, at + "/filename", "filename"));
    }
    if (f.media_type) {
      PHRONY_TRY(check_nonempty_text(*f.media_type, at + "/mediaType", "mediaType"));
    }
  }
  const path root;
  for (const auto& [key, value] : m.extra) {
    const std::string at = root.field(key).pointer();
    if (!is_valid_utf8(key)) {
      // Not echoed: the message would not be UTF-8 either.
      return bad_arg(at, "an extra field's name is not UTF-8");
    }
    for (auto known : message_fields) {
      if (key == known) {
        return bad_arg(at, "extra field " + std::string(key) +
                               " is a documented field: use its "
                               "member instead");
      }
    }
    auto r = check_raw(value, at, false);
    if (!r) {
      return std::move(r).error();
    }
  }
  const bool has_text = (m.text && !m.text->empty()) || (m.message && !m.message->empty());
  if (!m.user_task_id && !has_text && m.files.empty()) {
    return bad_arg("", "a message needs a userTaskId, a non-empty text or message, or a file");
  }
  return {};
}

PHRONY_DECL result<std::string> message_body(std::string_view run_id, const run_message& m) {
  PHRONY_TRY(check_message(m));
  json_writer w;
  w.begin_object().key("runId").value(run_id);
  if (m.user_task_id) {
    w.key("userTaskId").value(*m.user_task_id);
  }
  if (m.approved) {
    w.key("approved").value(*m.approved);
  }
  if (m.selected_option_id) {
    w.key("selectedOptionId").value(*m.selected_option_id);
  }
  if (m.text_value) {
    w.key("textValue").value(*m.text_value);
  }
  if (m.number_value) {
    w.key("numberValue").value(*m.number_value);
  }
  if (m.metadata) {
    w.key("metadata").raw(*parse_json_object(m.metadata->text));
  }
  if (m.text) {
    w.key("text").value(*m.text);
  }
  if (m.message) {
    w.key("message").value(*m.message);
  }
  if (!m.files.empty()) {
    w.key("files").begin_array();
    for (const auto& f : m.files) {
      w.begin_object().key("phronyFile").value(true).key("objectKey").value(f.object_key);
      if (f.filename) {
        w.key("filename").value(*f.filename);
      }
      if (f.media_type) {
        w.key("mediaType").value(*f.media_type);
      }
      w.end_object();
    }
    w.end_array();
  }
  if (m.completed_by_email) {
    w.key("completedByEmail").value(*m.completed_by_email);
  }
  if (m.skip_agent_wait) {
    w.key("skipAgentWait").value(*m.skip_agent_wait);
  }
  for (const auto& [key, value] : m.extra) {
    w.key(key).raw(*parse_raw_json(value.text));
  }
  w.end_object();
  return finish_body(std::move(w));
}
} // namespace phrony::detail

namespace phrony {

PHRONY_DECL result<http_request> start_run_request(const api_config& cfg, std::string_view agent_id,
                                                   std::optional<raw_json> input) {
  PHRONY_TRY(detail::check_id(agent_id, "agentId", ""));
  std::string body = "{\"input\":";
  if (input) {
    auto r = detail::check_raw(*input, "/input", true);
    if (!r) {
      return detail::scrub_error(std::move(r).error(), cfg.api_key);
    }
    body += r->text;
  } else {
    body += "{}";
  }
  body += '}';
  return detail::api_request(cfg, "POST", "/v1/agents/" + std::string(agent_id) + "/runs",
                             std::move(body));
}

PHRONY_DECL result<http_request> list_sessions_request(const api_config& cfg,
                                                       std::string_view agent_id,
                                                       const sessions_query& query) {
  PHRONY_TRY(detail::check_id(agent_id, "agentId", ""));
  if (query.skip && *query.skip < 0) {
    return detail::bad_arg("", "skip must be >= 0");
  }
  if (query.take && *query.take <= 0) {
    return detail::bad_arg("", "take must be > 0");
  }
  std::string path = "/v1/agents/" + std::string(agent_id) + "/sessions";
  char sep = '?';
  const auto add = [&](std::string_view name, std::string_view value) {
    path += sep;
    path += name;
    path += '=';
    path += percent_encode(value);
    sep = '&';
  };
  if (query.skip) {
    add("skip", std::to_string(*query.skip));
  }
  if (query.take) {
    add("take", std::to_string(*query.take));
  }
  const std::pair<const std::optional<std::string>*, std::string_view> filters[] = {
      {&query.version_id, "versionId"}, {&query.status, "status"}};
  for (const auto& [value, name] : filters) {
    if (*value) {
      // An empty filter would match nothing rather than everything: leave it unset instead.
      PHRONY_TRY(detail::check_nonempty_text(**value, "", name));
      add(name, **value);
    }
  }
  return detail::api_request(cfg, "GET", path, std::nullopt);
}

PHRONY_DECL result<http_request> get_run_request(const api_config& cfg, std::string_view run_id) {
  PHRONY_TRY(detail::check_id(run_id, "runId", ""));
  return detail::api_request(cfg, "GET", "/v1/runs/" + std::string(run_id), std::nullopt);
}

PHRONY_DECL result<http_request>
get_conversation_request(const api_config& cfg, std::string_view run_id, step_content content) {
  PHRONY_TRY(detail::check_id(run_id, "runId", ""));
  return detail::api_request(cfg, "GET",
                             "/v1/runs/" + std::string(run_id) + "/conversation?stepContent=" +
                                 (content == step_content::slim ? "slim" : "full"),
                             std::nullopt);
}

PHRONY_DECL result<http_request> stream_request(const api_config& cfg, std::string_view run_id,
                                                std::optional<std::string_view> last_event_id) {
  PHRONY_TRY(detail::check_id(run_id, "runId", ""));
  if (last_event_id && !detail::is_sendable_last_event_id(*last_event_id)) {
    // Any control character in a header value is trouble: CR and LF inject lines, NUL cuts C
    // strings, and the rest is refused or mangled by proxies.
    return detail::bad_arg("", "last_event_id contains a control character or is longer than " +
                                   std::to_string(detail::max_last_event_id) + " bytes");
  }
  auto r = detail::api_request(cfg, "GET", "/v1/runs/" + std::string(run_id) + "/stream",
                               std::nullopt, "text/event-stream");
  if (r) {
    r->headers.push_back({"Cache-Control", "no-cache"});
    if (last_event_id && !last_event_id->empty()) {
      r->headers.push_back({"Last-Event-ID", std::string(*last_event_id)});
    }
  }
  return r;
}

PHRONY_DECL result<http_request> send_message_request(const api_config& cfg,
                                                      std::string_view run_id,
                                                      const run_message& message,
                                                      message_route route) {
  PHRONY_TRY(detail::check_id(run_id, "runId", ""));
  auto body = detail::message_body(run_id, message);
  if (!body) {
    return detail::scrub_error(std::move(body).error(), cfg.api_key);
  }
  return detail::api_request(cfg, "POST",
                             "/v1/runs/" + std::string(run_id) +
                                 (route == message_route::input ? "/input" : "/messages"),
                             std::move(*body));
}

PHRONY_DECL result<http_request> skip_agent_wait_request(const api_config& cfg,
                                                         std::string_view run_id) {
  PHRONY_TRY(detail::check_id(run_id, "runId", ""));
  return detail::api_request(cfg, "POST", "/v1/runs/" + std::string(run_id) + "/skip-agent-wait",
                             std::nullopt);
}

PHRONY_DECL result<http_request> presign_request(const api_config& cfg, const presign_params& p) {
  PHRONY_TRY(detail::check_filename(p.filename, "/filename"));
  PHRONY_TRY(detail::check_nonempty_text(p.media_type, "/mediaType", "mediaType"));
  PHRONY_TRY(detail::check_content_length(p.max_content_length, "/maxContentLength"));
  json_writer w;
  w.begin_object()
      .key("filename")
      .value(p.filename)
      .key("mediaType")
      .value(p.media_type)
      .key("maxContentLength")
      .value(p.max_content_length)
      .end_object();
  auto body = detail::finish_body(std::move(w));
  if (!body) {
    return std::move(body).error();
  }
  return detail::api_request(cfg, "POST", "/v1/file-library/presign", std::move(*body));
}

PHRONY_DECL result<http_request> finalize_request(const api_config& cfg, const finalize_params& p) {
  PHRONY_TRY(detail::check_nonempty_text(p.object_key, "/objectKey", "objectKey"));
  PHRONY_TRY(detail::check_content_length(p.max_content_length, "/maxContentLength"));
  if (p.filename) {
    PHRONY_TRY(detail::check_filename(*p.filename, "/filename"));
  }
  if (p.media_type) {
    PHRONY_TRY(detail::check_nonempty_text(*p.media_type, "/mediaType", "mediaType"));
  }
  json_writer w;
  w.begin_object()
      .key("objectKey")
      .value(p.object_key)
      .key("maxContentLength")
      .value(p.max_content_length);
  if (p.filename) {
    w.key("filename").value(*p.filename);
  }
  if (p.media_type) {
    w.key("mediaType").value(*p.media_type);
  }
  w.end_object();
  auto body = detail::finish_body(std::move(w));
  if (!body) {
    return std::move(body).error();
  }
  return detail::api_request(cfg, "POST", "/v1/file-library/finalize", std::move(*body));
}

PHRONY_DECL result<http_request> upload_request(const presign_response& presigned,
                                                std::string bytes) {
  {
    auto parts = detail::split_http_url(presigned.upload_url, "uploadUrl");
    if (!parts) {
      auto e = std::move(parts).error();
      e.path = "/uploadUrl";
      return e;
    }
  }
  if (!detail::is_token(presigned.http_method)) {
    return detail::bad_arg("/httpMethod", "httpMethod is not an HTTP method token");
  }
  http_request r;
  r.method = presigned.http_method;
  r.url = presigned.upload_url;
  const detail::path root;
  const detail::path headers_at = root.field("requiredHeaders");
  for (const auto& [name, value] : presigned.required_headers) {
    if (!detail::is_token(name)) {
      return detail::bad_arg(headers_at.field(name).pointer(), "header name is not a token");
    }
    if (detail::has_header_ctl(value)) {
      return detail::bad_arg(headers_at.field(name).pointer(),
                             "header value contains a control character");
    }
    r.headers.push_back({name, value});
  }
  r.body = std::move(bytes);
  return r;
}

} // namespace phrony
#endif
