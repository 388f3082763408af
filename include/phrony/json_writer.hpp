// phrony: a small, strict JSON writer for request bodies and canonical output.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "phrony/config.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"

namespace phrony {

/// True when `s` is well-formed UTF-8.
[[nodiscard]] PHRONY_DECL bool is_valid_utf8(std::string_view s) noexcept;

/// Appends compact JSON to a string; commas are placed for you. Invalid UTF-8 in a string or key,
/// or a non-finite number, records the first error (see ok() and take()) instead of bad output.
class json_writer {
public:
  json_writer& begin_object() {
    separate();
    out_ += '{';
    need_comma_ = false;
    return *this;
  }
  json_writer& end_object() {
    out_ += '}';
    need_comma_ = true;
    return *this;
  }
  json_writer& begin_array() {
    separate();
    out_ += '[';
    need_comma_ = false;
    return *this;
  }
  json_writer& end_array() {
    out_ += ']';
    need_comma_ = true;
    return *this;
  }
  /// Writes an object key; the next call writes its value.
  json_writer& key(std::string_view k) {
    separate();
    write_string(k);
    out_ += ':';
    need_comma_ = false;
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    write_string(s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(const text& s) { return value(s.view()); }
  json_writer& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  json_writer& value(std::int64_t n) { return number(n); }
  json_writer& value(std::uint64_t n) { return number(n); }
  json_writer& value(int n) { return number(static_cast<std::int64_t>(n)); }
  json_writer& value(double d) {
    if (!std::isfinite(d)) {
      fail("number is not finite");
      return *this;
    }
    // Shortest round-trip digits in %g style: plain to_chars writes a whole double past 2^64 in
    // full (18446744073709551616), an integer too large for simdjson and most JSON readers.
    separate();
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general);
    append_chars(buf, end);
    return *this;
  }
  json_writer& null() {
    separate();
    out_ += "null";
    return *this;
  }
  /// Inserts verbatim JSON (already validated by whoever made it); an empty raw_json (no value,
  /// as default-constructed) is written as null, so the output stays JSON.
  json_writer& raw(const raw_json& r) {
    separate();
    out_ += r.text.empty() ? std::string_view("null") : std::string_view(r.text);
    return *this;
  }

  /// False once a value was rejected.
  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  /// The text so far (meaningful only when ok()).
  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  /// The finished text, or the first error.
  [[nodiscard]] result<std::string> take() && {
    if (error_) {
      return std::move(*error_);
    }
    return std::move(out_);
  }

private:
  void separate() {
    if (need_comma_) {
      out_ += ',';
    }
    need_comma_ = true;
  }
  template <class N> json_writer& number(N n) {
    separate();
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    append_chars(buf, end);
    return *this;
  }
  /// Appends the digits to_chars wrote into [first, last), a stack buffer. By pointer and
  /// length: append(first, last) goes through basic_string::replace, where g++ 12 at -O3
  /// reports a false -Wrestrict (as in GCC bug 105329), failing users' -Werror builds (issue 10).
  void append_chars(const char* first, const char* last) {
    out_.append(first, static_cast<std::size_t>(last - first));
  }
  void fail(std::string message) {
    if (!error_) {
      error_ = make_error(errc::invalid_argument, "", std::move(message));
    }
  }
  void write_string(std::string_view s) {
    if (!is_valid_utf8(s)) {
      fail("string is not valid UTF-8");
    }
    out_ += '"';
    std::size_t run = 0; // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out_.append(esc, sizeof esc);
      }
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
  }

  std::string out_;
  bool need_comma_ = false;
  std::optional<error> error_;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
#include <simdjson.h>

PHRONY_DECL bool phrony::is_valid_utf8(std::string_view s) noexcept {
  return simdjson::validate_utf8(s.data(), s.size());
}
#endif
