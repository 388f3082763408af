// phrony: turning a non-2xx response into an error: Retry-After, the (undocumented) error body,
// and a message that says what the status means for this API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "phrony/config.hpp"
#include "phrony/detail/chrono.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/request.hpp"

namespace phrony {

namespace detail {

/// A left-to-right reader for the fixed layouts of RFC 9110 HTTP-dates.
struct date_cursor {
  std::string_view s;

  PHRONY_DECL bool lit(std::string_view x);
  PHRONY_DECL bool digits(std::size_t n, int& out);
  /// One of `names`; its 1-based index goes to `out`.
  template <std::size_t N> bool one_of(const std::string_view (&names)[N], int& out) {
    for (std::size_t i = 0; i < N; ++i) {
      if (lit(names[i])) {
        out = static_cast<int>(i) + 1;
        return true;
      }
    }
    return false;
  }
  /// hh:mm:ss, with 60 seconds allowed for a leap second.
  PHRONY_DECL bool time(int& h, int& m, int& sec);
};

inline constexpr std::string_view day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
inline constexpr std::string_view long_day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                      "Friday", "Saturday", "Sunday"};
inline constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

[[nodiscard]] PHRONY_DECL std::optional<std::chrono::system_clock::time_point>
make_utc(int y, int mo, int d, int h, int mi, int s);

/// The three HTTP-date forms of RFC 9110 section 5.6.7; nullopt for anything else. `now` picks
/// the century of rfc850's two-digit years, as the RFC asks.
[[nodiscard]] PHRONY_DECL std::optional<std::chrono::system_clock::time_point>
parse_http_date(std::string_view text, std::chrono::system_clock::time_point now);

} // namespace detail

/// Parses a Retry-After header value: delay-seconds or an HTTP-date (IMF-fixdate, rfc850,
/// asctime). Anything else is nullopt. `now` only matters for rfc850's two-digit years.
[[nodiscard]] PHRONY_DECL std::optional<retry_hint>
parse_retry_after(std::string_view text,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// An error response body. The API documents none; NestJS-style bodies are the common case.
struct api_error_body {
  std::optional<std::int64_t> status_code;
  std::optional<raw_json> message; ///< a string, or an array of strings for validation errors
  std::optional<text> error;       ///< e.g. "Unauthorized"
  extra_fields extra;

  /// The message as text: a string as is, an array's elements joined with "; ".
  [[nodiscard]] std::optional<std::string> message_text() const;

  friend bool operator==(const api_error_body&, const api_error_body&) = default;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
#include <algorithm>

#include "phrony/detail/json.hpp"

namespace phrony::detail {
template <std::same_as<api_error_body> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      opt("statusCode", &T::status_code), opt("message", &T::message), opt("error", &T::error));
};
} // namespace phrony::detail

PHRONY_DECL std::optional<std::string> phrony::api_error_body::message_text() const {
  if (!message || message->is_null()) {
    return std::nullopt;
  }
  auto& tp = detail::local_parser();
  const std::string_view text = message->text;
  const simdjson::padded_string_view body = detail::padded_copy(tp.buffer, text);
  detail::od::document doc;
  if (tp.parser.iterate(body).get(doc)) {
    return std::string(text);
  }
  detail::od::json_type t{};
  if (doc.type().get(t)) {
    return std::string(text);
  }
  if (t == detail::od::json_type::string) {
    std::string_view s;
    if (doc.get_string().get(s)) {
      return std::string(text);
    }
    return std::string(s);
  }
  if (t != detail::od::json_type::array) {
    return std::string(text);
  }
  detail::od::array a;
  if (doc.get_array().get(a)) {
    return std::string(text);
  }
  std::string out;
  const detail::path root;
  detail::read_context ctx{body.data() + body.size()};
  for (auto el : a) {
    detail::od::value v;
    detail::od::json_type et{};
    if (el.get(v) || v.type().get(et)) {
      return std::string(text);
    }
    if (!out.empty()) {
      out += "; ";
    }
    if (et == detail::od::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s)) {
        return std::string(text);
      }
      out += s;
    } else {
      raw_json element;
      if (detail::read_value(v, root, ctx, element)) {
        return std::string(text);
      }
      out += element.text;
    }
  }
  return out;
}
#endif

PHRONY_DETAIL_VALUE(api_error_body)

namespace phrony {

/// Parses an error body; fails (and http_error falls back to a standard phrase) when it is not
/// a JSON object of the expected types.
inline constexpr detail::body_parser<api_error_body> parse_error_body{};

namespace detail {

/// What a status means for this API, for bodies that carry no message.
[[nodiscard]] PHRONY_DECL std::string status_phrase(int status, const http_request& req,
                                                    std::string_view route);

} // namespace detail

/// The error for a non-2xx answer to `req`: errc::http_status with the status, method, route
/// (no scheme, host or presigned credentials), the raw body, Retry-After parsed, and the
/// server's message when the body is a JSON error body (else a phrase for the status). The API
/// key never appears in it, even when the server echoes it.
PHRONY_LAZY [[nodiscard]] PHRONY_DECL error
http_error(int status, const http_request& req, std::string body,
           std::optional<std::string_view> retry_after_header);

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).

namespace phrony::detail {

PHRONY_DECL bool date_cursor::lit(std::string_view x) {
  if (!s.starts_with(x)) {
    return false;
  }
  s.remove_prefix(x.size());
  return true;
}

PHRONY_DECL bool date_cursor::digits(std::size_t n, int& out) {
  if (s.size() < n) {
    return false;
  }
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[i])) {
      return false;
    }
    out = out * 10 + (s[i] - '0');
  }
  s.remove_prefix(n);
  return true;
}

PHRONY_DECL bool date_cursor::time(int& h, int& m, int& sec) {
  return digits(2, h) && lit(":") && digits(2, m) && lit(":") && digits(2, sec) && h <= 23 &&
         m <= 59 && sec <= 60;
}

PHRONY_DECL std::optional<std::chrono::system_clock::time_point> make_utc(int y, int mo, int d,
                                                                          int h, int mi, int s) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  // system_clock counts 64-bit nanoseconds (years 1678 to 2262), fewer than four-digit years
  // need: clamp first, so converting cannot overflow. Earlier than 1970 waits no longer than
  // 1970 does, and 2200 is far past any usable delay while leaving room for arithmetic with now.
  const sys_seconds at = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
  const sys_seconds lo = sys_days{year{1970} / January / 1};
  const sys_seconds hi = sys_days{year{2200} / January / 1};
  return system_clock::time_point{at < lo ? lo : at > hi ? hi : at};
}

PHRONY_DECL std::optional<std::chrono::system_clock::time_point>
parse_http_date(std::string_view text, std::chrono::system_clock::time_point now) {
  int wd = 0, d = 0, mo = 0, y = 0, h = 0, mi = 0, s = 0;
  {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    date_cursor c{text};
    if (c.one_of(day_names, wd) && c.lit(", ") && c.digits(2, d) && c.lit(" ") &&
        c.one_of(month_names, mo) && c.lit(" ") && c.digits(4, y) && c.lit(" ") &&
        c.time(h, mi, s) && c.lit(" GMT") && c.s.empty()) {
      return make_utc(y, mo, d, h, mi, s);
    }
  }
  {
    // obsolete rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
    date_cursor c{text};
    if (c.one_of(long_day_names, wd) && c.lit(", ") && c.digits(2, d) && c.lit("-") &&
        c.one_of(month_names, mo) && c.lit("-") && c.digits(2, y) && c.lit(" ") &&
        c.time(h, mi, s) && c.lit(" GMT") && c.s.empty()) {
      const int this_year = static_cast<int>(
          std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)}.year());
      int full = this_year - this_year % 100 + y;
      if (full > this_year + 50) {
        full -= 100;
      }
      return make_utc(full, mo, d, h, mi, s);
    }
  }
  {
    // obsolete asctime-date: Sun Nov  6 08:49:37 1994
    date_cursor c{text};
    if (c.one_of(day_names, wd) && c.lit(" ") && c.one_of(month_names, mo) && c.lit(" ") &&
        (c.lit(" ") ? c.digits(1, d) : c.digits(2, d)) && c.lit(" ") && c.time(h, mi, s) &&
        c.lit(" ") && c.digits(4, y) && c.s.empty()) {
      return make_utc(y, mo, d, h, mi, s);
    }
  }
  return std::nullopt;
}
} // namespace phrony::detail

namespace phrony {

PHRONY_DECL std::optional<retry_hint> parse_retry_after(std::string_view text,
                                                        std::chrono::system_clock::time_point now) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t n = 0;
    for (char c : text) {
      n = std::min(n * 10 + (c - '0'), detail::max_retry_after_seconds);
    }
    return retry_hint{std::chrono::seconds{n}};
  }
  if (const auto at = detail::parse_http_date(text, now)) {
    return retry_hint{std::chrono::time_point_cast<std::chrono::system_clock::duration>(*at)};
  }
  return std::nullopt;
}

PHRONY_LAZY_DEF PHRONY_DECL error http_error(int status, const http_request& req, std::string body,
                                             std::optional<std::string_view> retry_after_header) {
  const std::string* key = req.header("X-API-Key");
  const std::string_view secret = key ? std::string_view(*key) : std::string_view{};
  error e;
  e.code = errc::http_status;
  e.status = status;
  e.method = req.method;
  e.route = detail::scrub(req.route(), secret);
  if (retry_after_header) {
    e.retry_after = parse_retry_after(*retry_after_header);
  }
  std::optional<std::string> server_message;
  if (auto parsed = parse_error_body(body)) {
    server_message = parsed->message_text();
  }
  e.message = detail::scrub(server_message && !server_message->empty()
                                ? std::move(*server_message)
                                : detail::status_phrase(status, req, e.route),
                            secret);
  e.body = detail::scrub(std::move(body), secret);
  return e;
}

} // namespace phrony

namespace phrony::detail {

PHRONY_DECL std::string status_phrase(int status, const http_request& req, std::string_view route) {
  const bool api = req.header("X-API-Key") != nullptr;
  const bool files = route.find("/v1/file-library/") != std::string_view::npos;
  switch (status) {
  case 400:
    if (route.ends_with("/skip-agent-wait")) {
      return "bad request: the run is not WaitingForTimer";
    }
    return "bad request: the server rejected the request as invalid";
  case 401: return "unauthorized: missing or invalid API key (X-API-Key)";
  case 403:
    if (!api) {
      return "forbidden by object storage: the upload URL may have expired, or a required "
             "header is missing or different";
    }
    if (files) {
      return "forbidden: file uploads are not allowed for this API key (enable \"Allow file "
             "uploads\" on the key)";
    }
    return "forbidden: the API key's scope does not include this agent, trigger or run";
  case 404:
    return api ? "not found: unknown run or agent, or one this API key cannot see" : "not found";
  case 408: return "request timeout";
  case 409: return "conflict";
  case 413:
    return api ? "payload too large" : "payload too large: the file exceeds maxContentLength";
  case 429: return "too many requests: rate or concurrency limit reached; retry later";
  case 500: return "internal server error";
  case 502: return "bad gateway";
  case 503: return "service unavailable";
  case 504: return "gateway timeout";
  default: break;
  }
  if (status >= 400 && status < 500) {
    return "client error";
  }
  if (status >= 500 && status < 600) {
    return "server error";
  }
  return "unexpected HTTP status";
}

} // namespace phrony::detail
#endif
