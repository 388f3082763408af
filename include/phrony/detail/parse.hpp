// phrony::detail: the parse entry points as the public headers see them, without simdjson.
//
// Header-only (the default), their definitions come from phrony/detail/json.hpp, included by
// every header that defines a parsed type. With PHRONY_SEPARATE_COMPILATION (the
// phrony::compiled CMake target defines it), the public headers declare them only: the
// definitions and the simdjson reading code are compiled once into the library (src/phrony.cpp,
// which defines PHRONY_BUILDING_LIBRARY), and a translation unit including phrony/phrony.hpp or
// phrony/client.hpp does not include simdjson.h.
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "phrony/config.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"

/// Gives the value type phrony::T (named as in namespace phrony) its to_json.
#define PHRONY_DETAIL_WRITABLE(T)                                                                  \
  namespace phrony::detail {                                                                       \
  template <> inline constexpr bool has_writer<T> = true;                                          \
  PHRONY_DETAIL_INSTANTIATE(std::string to_json_text<T>(const T&))                                 \
  }
/// Gives the type phrony::T its parse entry point.
#define PHRONY_DETAIL_READABLE(T)                                                                  \
  namespace phrony::detail {                                                                       \
  PHRONY_DETAIL_INSTANTIATE(maybe_error parse_text_into<T>(const char*, std::size_t, std::size_t,  \
                                                           T&, parse_options))                     \
  }
/// Both: a value type with a parser and a canonical writer.
#define PHRONY_DETAIL_VALUE(T) PHRONY_DETAIL_WRITABLE(T) PHRONY_DETAIL_READABLE(T)

/// Returns the error from the enclosing function when `expr` (a maybe_error) holds one.
#define PHRONY_TRY(expr)                                                                           \
  do {                                                                                             \
    if (auto phrony_e_ = (expr)) {                                                                 \
      return std::move(*phrony_e_);                                                                \
    }                                                                                              \
  } while (false)

namespace simdjson {
struct padded_string;
class padded_string_view;
} // namespace simdjson

namespace phrony {

/// How a parser treats content whose shape the API docs leave open (README, "Strict and
/// tolerant parsing"). Malformed JSON and documented fields of the wrong type fail in both modes.
struct parse_options {
  /// false (the default): an item content that does not match its type's shape is kept verbatim
  /// with the reason on the item, and an empty 2xx body is accepted where a small object is
  /// expected. true: the first field that does not match fails the whole body, with its path.
  bool strict = false;
};

} // namespace phrony

namespace phrony::detail {

/// An error that may have happened; engaged means failure.
using maybe_error = std::optional<error>;

/// The location being parsed: a stack-allocated linked list, turned into a JSON Pointer only
/// when an error is reported, so the success path never builds strings.
struct path {
  const path* parent = nullptr; // nullptr: the document root
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;

  [[nodiscard]] path field(std::string_view k) const noexcept { return {this, k, 0, false}; }
  [[nodiscard]] path at(std::size_t i) const noexcept { return {this, {}, i, true}; }
  [[nodiscard]] std::size_t depth() const noexcept {
    std::size_t d = 0;
    for (const path* p = this; p->parent != nullptr; p = p->parent) {
      ++d;
    }
    return d;
  }

  /// RFC 6901 text: "/items/3/content" ("~" and "/" in keys escaped as "~0" and "~1").
  [[nodiscard]] std::string pointer() const {
    if (parent == nullptr) {
      return {};
    }
    std::string out = parent->pointer();
    out += '/';
    if (is_index) {
      out += std::to_string(index);
      return out;
    }
    for (char c : key) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }
};

/// JSON's four whitespace bytes.
[[nodiscard]] inline bool is_json_space(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/// `s` without JSON whitespace at either end.
[[nodiscard]] inline std::string_view trim_json_space(std::string_view s) noexcept {
  while (!s.empty() && is_json_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_json_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

/// The bytes simdjson may read past a body's end (simdjson::SIMDJSON_PADDING; json.hpp checks).
inline constexpr std::size_t json_padding = 64;

/// Parses `size` bytes at `data`, whose root must be a T, into `out` (which may be a reused
/// value: its strings keep their capacity; on failure it is left half-read). When `capacity`
/// leaves json_padding bytes after the body they are parsed in place, else copied into the
/// thread's padded buffer. After a body over release_threshold the thread's buffers are released.
template <class T>
[[nodiscard]] maybe_error parse_text_into(const char* data, std::size_t size, std::size_t capacity,
                                          T& out, parse_options opts);

/// parse_text_into into a fresh value.
template <class T>
[[nodiscard]] result<T> parse_text(const char* data, std::size_t size, std::size_t capacity,
                                   parse_options opts) {
  result<T> r; // parsed in place: one named return, so the value is never moved
  if (auto e = parse_text_into(data, size, capacity, *r, opts)) {
    r = std::move(*e);
  }
  return r;
}

/// Copies `body` into the thread's padded buffer and parses it into `out`.
template <class T>
[[nodiscard]] maybe_error parse_body_into(std::string_view body, T& out, parse_options opts = {}) {
  return parse_text_into(body.data(), body.size(), 0, out, opts);
}

/// Copies `body` into the thread's padded buffer (simdjson reads a little past the end) and
/// parses it.
template <class T>
[[nodiscard]] result<T> parse_body(std::string_view body, parse_options opts = {}) {
  return parse_text<T>(body.data(), body.size(), 0, opts);
}

/// Canonical JSON of a value with a writer.
template <class T> [[nodiscard]] std::string to_json_text(const T& t);

/// Types with a canonical writer (PHRONY_DETAIL_WRITABLE).
template <class T> inline constexpr bool has_writer = false;

/// The value of `r` when it is one JSON string (escapes decoded), else nullopt.
[[nodiscard]] PHRONY_DECL std::optional<std::string> string_value(const raw_json& r);

/// What the thread's parse buffers hold now, in bytes (for tests and diagnostics).
struct thread_buffer_sizes {
  std::size_t parser = 0;
  std::size_t buffer = 0;
  std::size_t deferred_parser = 0;
  std::size_t deferred_text = 0; ///< the set-aside text and its padded copy
};
[[nodiscard]] PHRONY_DECL thread_buffer_sizes thread_buffers();

/// A body that already carries simdjson's padding (simdjson::padded_string or
/// padded_string_view). A template parameter, so that this header needs no simdjson.h (the
/// caller has it) and a std::string does not convert to a padded_string instead.
template <class P>
concept padded_body =
    std::same_as<P, simdjson::padded_string_view> || std::same_as<P, simdjson::padded_string>;

/// The bytes allocated for `body`: a padded_string_view says; a padded_string has json_padding
/// after its size.
template <padded_body P> [[nodiscard]] std::size_t padded_capacity(const P& body) noexcept {
  if constexpr (std::same_as<P, simdjson::padded_string>) {
    return body.size() + json_padding;
  } else {
    return body.capacity();
  }
}

/// What each public parse_* name is: a function object rather than a function, so that a
/// translation unit including a header compiles no parser it does not call (a member function
/// of a class template is only instantiated when used). Every overload takes parse_options
/// last; without them a body is read in tolerant mode.
template <class T> struct body_parser {
  /// Copies `body` into the thread's padded buffer (simdjson reads a little past the end) and
  /// parses it.
  [[nodiscard]] result<T> operator()(std::string_view body, parse_options opts = {}) const {
    return parse_body<T>(body, opts);
  }
  /// Parses a body that already has simdjson's padding, in place (no copy).
  template <padded_body P>
  [[nodiscard]] result<T> operator()(const P& body, parse_options opts = {}) const {
    return parse_text<T>(body.data(), body.size(), padded_capacity(body), opts);
  }

  // The same into an existing value, read over in place: its strings and vectors keep their
  // storage, so a loop parsing bodies of one shape into one value allocates little. The result
  // equals a fresh parse. On failure `out` is left partly read (valid, contents unspecified).
  result<void> operator()(std::string_view body, T& out, parse_options opts = {}) const {
    return to_result(parse_body_into(body, out, opts));
  }
  template <padded_body P>
  result<void> operator()(const P& body, T& out, parse_options opts = {}) const {
    return to_result(parse_text_into(body.data(), body.size(), padded_capacity(body), out, opts));
  }

private:
  static result<void> to_result(maybe_error e) {
    if (e) {
      return std::move(*e);
    }
    return {};
  }
};

} // namespace phrony::detail

namespace phrony {

/// Canonical JSON of a parsed value: documented fields under their wire names, in the order the
/// API documents them, then unknown fields verbatim; parsing it back gives an equal value.
template <class T>
requires detail::has_writer<T>
[[nodiscard]] std::string to_json(const T& v) { return detail::to_json_text(v); }

/// Frees this thread's parse buffers now, and lets go of its current text block (kept alive only
/// by the values still holding texts in it). The buffers grow to the largest body parsed on the
/// thread (and are freed by themselves after a body over 16 MiB); the next parse allocates them
/// again.
PHRONY_DECL void release_thread_buffers();

} // namespace phrony
