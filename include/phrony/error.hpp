// phrony: error codes, the error value, result<T> and the thin throwing layer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "phrony/config.hpp"
#include "phrony/detail/chrono.hpp"

// 1 when result::value() may throw: the translation unit has exceptions (g++/clang++ without
// -fno-exceptions, MSVC with /EHsc). Define it to 0 first to get the abort of a build without
// them (see result::value()).
#if !defined(PHRONY_EXCEPTIONS)
#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
#define PHRONY_EXCEPTIONS 1
#else
#define PHRONY_EXCEPTIONS 0
#endif
#endif

namespace phrony {

/// What went wrong, coarse enough to switch on.
enum class errc {
  invalid_json,     ///< the body is not well-formed JSON (or not UTF-8)
  missing_field,    ///< a required field is absent
  wrong_type,       ///< a field has the wrong JSON type
  out_of_range,     ///< a value has the right type but an impossible value
  invalid_argument, ///< a caller-supplied value was rejected before sending
  limit_exceeded,   ///< a size or depth bound was hit (remote peers cannot grow buffers freely)
  http_status,      ///< the server answered with a non-2xx status
  transport,        ///< the transport failed (connect, TLS, timeout, reset ...)
  cancelled,        ///< the caller stopped the operation
};

/// The wire-independent name of `c`, e.g. "missing_field".
[[nodiscard]] constexpr std::string_view to_string(errc c) noexcept {
  switch (c) {
  case errc::invalid_json: return "invalid_json";
  case errc::missing_field: return "missing_field";
  case errc::wrong_type: return "wrong_type";
  case errc::out_of_range: return "out_of_range";
  case errc::invalid_argument: return "invalid_argument";
  case errc::limit_exceeded: return "limit_exceeded";
  case errc::http_status: return "http_status";
  case errc::transport: return "transport";
  case errc::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace detail {
/// Retry-After delays above this are clamped, so later arithmetic in milliseconds cannot overflow.
inline constexpr std::int64_t max_retry_after_seconds = 1'000'000'000;
} // namespace detail

/// A server's Retry-After: either a delay or an absolute time (HTTP-date form).
struct retry_hint {
  std::variant<std::chrono::seconds, std::chrono::system_clock::time_point> value;

  /// The delay to wait from `now`: never negative, never above detail::max_retry_after_seconds
  /// (for a date, from any `now`, the clock's ends included).
  [[nodiscard]] PHRONY_DECL std::chrono::seconds
  delay_from(std::chrono::system_clock::time_point now) const;

  friend bool operator==(const retry_hint&, const retry_hint&) = default;
};

namespace detail {
/// `text` with every control byte (C0 and DEL) written as \u00XX, so text from a peer (a body's
/// keys, a server's message) cannot break a log line or carry terminal escapes.
[[nodiscard]] PHRONY_DECL std::string escape_controls(std::string text);
} // namespace detail

/// Everything known about a failure. Never contains the API key.
struct error {
  errc code = errc::invalid_json;
  std::string path;    ///< JSON Pointer (RFC 6901) of the offending field; "" is the whole body
  std::string message; ///< for people; tests check code and path

  // Set for errc::http_status.
  int status = 0;                        ///< HTTP status code
  std::string method;                    ///< e.g. "POST"
  std::string route;                     ///< request target, e.g. "/v1/runs/<id>"
  std::string body;                      ///< raw response body text
  std::optional<retry_hint> retry_after; ///< parsed Retry-After header (429/503)

  /// One line for logs: "<path>: <message>" (or "<message>" when there is no path); for
  /// http_status "HTTP <status> from <method> <route>[: <message>]". Control bytes (a NUL or a
  /// newline in a hostile body's key, an escape sequence in a server's message) appear as \u00XX.
  [[nodiscard]] PHRONY_DECL std::string what() const;

  friend bool operator==(const error&, const error&) = default;
};

/// Builds an error at `path` (a JSON Pointer) with `message`.
[[nodiscard]] PHRONY_DECL error make_error(errc code, std::string path, std::string message);

namespace detail {

/// What error() of a result holding a value returns: code invalid_argument (the caller asked
/// for something that is not there), message "no error".
[[nodiscard]] inline error make_no_error() {
  return make_error(errc::invalid_argument, "", "no error: the result holds a value");
}
[[nodiscard]] PHRONY_DECL const error& no_error();
/// A fresh copy for error() &&, which hands out an rvalue the caller may move from.
[[nodiscard]] PHRONY_DECL error& no_error_to_move();

} // namespace detail

/// Thrown by result<T>::value() on an error: the thin throwing layer (see PHRONY_EXCEPTIONS).
class exception : public std::runtime_error {
public:
  explicit exception(phrony::error e) : std::runtime_error(e.what()), error_(std::move(e)) {}
  /// The error this exception carries.
  [[nodiscard]] const phrony::error& error() const noexcept { return error_; }

private:
  phrony::error error_;
};

namespace detail {

/// What value() does on an error: throws phrony::exception; without exceptions
/// (PHRONY_EXCEPTIONS 0) prints the error to stderr and aborts, as the standard library does
/// for its own throws under -fno-exceptions. The message never holds the API key.
[[noreturn]] inline void value_of_error(const error& e) {
#if PHRONY_EXCEPTIONS
  throw exception(e);
#else
  std::fprintf(stderr, "phrony: value() called on a result holding an error: %s\n",
               e.what().c_str());
  std::fflush(stderr);
  std::abort();
#endif
}

} // namespace detail

/// A value or an error, with std::expected's member names so C++23 is a rename.
template <class T> class [[nodiscard]] result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, phrony::error>, "result<error> is ambiguous");

public:
  using value_type = T;
  using error_type = phrony::error;

  result() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {} // NOLINT: implicit by design
  result(phrony::error e) : v_(std::in_place_index<1>, std::move(e)) {} // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws phrony::exception when this holds an error (built without exceptions:
  /// prints the error to stderr and aborts).
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  template <class U> T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; on a value, an error whose message says "no error" (see detail::no_error).
  const phrony::error& error() const& {
    const auto* e = std::get_if<1>(&v_);
    return e != nullptr ? *e : detail::no_error();
  }
  phrony::error&& error() && {
    auto* e = std::get_if<1>(&v_);
    return std::move(e != nullptr ? *e : detail::no_error_to_move());
  }

  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

private:
  void check() const {
    if (!has_value()) {
      detail::value_of_error(std::get<1>(v_));
    }
  }
  std::variant<T, phrony::error> v_;
};

/// result<void>: success, or an error.
template <> class [[nodiscard]] result<void> {
public:
  using value_type = void;
  using error_type = phrony::error;

  result() noexcept {} // not "= default": value-initialising would zero the whole error
  result(phrony::error e) : e_(std::move(e)) {} // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// Throws phrony::exception when this holds an error (built without exceptions: prints the
  /// error to stderr and aborts).
  void value() const {
    if (e_) {
      detail::value_of_error(*e_);
    }
  }
  /// The error; on success, an error whose message says "no error" (see detail::no_error).
  const phrony::error& error() const& { return e_ ? *e_ : detail::no_error(); }
  phrony::error&& error() && { return std::move(e_ ? *e_ : detail::no_error_to_move()); }

private:
  std::optional<phrony::error> e_;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>

namespace phrony {

PHRONY_DECL std::chrono::seconds
retry_hint::delay_from(std::chrono::system_clock::time_point now) const {
  using std::chrono::seconds;
  constexpr seconds most{detail::max_retry_after_seconds};
  if (const auto* s = std::get_if<seconds>(&value)) {
    return std::clamp(*s, seconds{0}, most);
  }
  const auto at = std::get<std::chrono::system_clock::time_point>(value);
  if (at <= now) {
    return seconds{0};
  }
  // at - now may not fit the clock's signed count (a date of 2200 from the clock's minimum);
  // unsigned, the difference of the two counts is exact.
  using period = std::chrono::system_clock::period;
  static_assert(period::num == 1, "system_clock ticks are fractions of a second");
  const std::uint64_t ticks = static_cast<std::uint64_t>(at.time_since_epoch().count()) -
                              static_cast<std::uint64_t>(now.time_since_epoch().count());
  constexpr auto per_second = static_cast<std::uint64_t>(period::den);
  const std::uint64_t whole = ticks / per_second + (ticks % per_second != 0 ? 1 : 0); // ceil
  return whole > static_cast<std::uint64_t>(most.count())
             ? most
             : seconds{static_cast<seconds::rep>(whole)};
}
} // namespace phrony

namespace phrony::detail {

PHRONY_DECL std::string escape_controls(std::string text) {
  const auto is_control = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  };
  if (std::none_of(text.begin(), text.end(), is_control)) {
    return text;
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    if (!is_control(c)) {
      out += c;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    out += "\\u00";
    out += hex[u >> 4U];
    out += hex[u & 0xFU];
  }
  return out;
}
} // namespace phrony::detail

namespace phrony {

PHRONY_DECL std::string error::what() const {
  std::string out;
  if (code == errc::http_status) {
    out = "HTTP " + std::to_string(status) + " from " + method + " " + route;
    if (!message.empty()) {
      out += ": " + message;
    }
  } else {
    if (!path.empty()) {
      out = path + ": ";
    }
    out += message;
  }
  return detail::escape_controls(std::move(out));
}

PHRONY_DECL error make_error(errc code, std::string path, std::string message) {
  error e;
  e.code = code;
  e.path = std::move(path);
  e.message = std::move(message);
  return e;
}
} // namespace phrony

namespace phrony::detail {

PHRONY_DECL const error& no_error() {
  static const error e = make_no_error();
  return e;
}

PHRONY_DECL error& no_error_to_move() {
  thread_local error e;
  e = make_no_error();
  return e;
}

} // namespace phrony::detail
#endif
