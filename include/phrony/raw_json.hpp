// phrony: verbatim JSON values and the unknown-fields list every response type carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phrony {

namespace detail {

/// The four hex digits at `s` as a number, or -1.
[[nodiscard]] inline long hex4(std::string_view s) noexcept {
  if (s.size() < 4) {
    return -1;
  }
  long n = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const char c = s[i];
    n *= 16;
    if (c >= '0' && c <= '9') {
      n += c - '0';
    } else if (c >= 'a' && c <= 'f') {
      n += c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      n += c - 'A' + 10;
    } else {
      return -1;
    }
  }
  return n;
}

/// Appends code point `cp` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// The value of the JSON string literal `text` (quotes included), or nullopt when `text` is
/// not one. A lone surrogate escape becomes U+FFFD.
[[nodiscard]] inline std::optional<std::string> unescape_json_string(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    return std::nullopt;
  }
  const std::string_view s = text.substr(1, text.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      return std::nullopt; // two strings, or an unescaped quote: not one literal
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) {
      return std::nullopt;
    }
    switch (s[i]) {
    case '"': out += '"'; break;
    case '\\': out += '\\'; break;
    case '/': out += '/'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      const long hi = hex4(s.substr(i + 1));
      if (hi < 0) {
        return std::nullopt;
      }
      i += 4;
      auto cp = static_cast<std::uint32_t>(hi);
      if (cp >= 0xD800 && cp < 0xDC00) {
        const long lo = s.substr(i + 1, 2) == "\\u" ? hex4(s.substr(i + 3)) : -1;
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(lo) - 0xDC00);
          i += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      append_utf8(out, cp);
      break;
    }
    default: return std::nullopt;
    }
  }
  return out;
}

} // namespace detail

/// Verbatim JSON text of an opaque value (output, input, arguments ...); never re-serialised.
/// Default-constructed (empty text) it stands for no value and is written as null.
struct raw_json {
  std::string text;

  /// True when the value is the JSON literal null.
  [[nodiscard]] bool is_null() const noexcept { return text == "null"; }
  /// The string's value when the value is a JSON string (escapes decoded), else nullopt.
  [[nodiscard]] std::optional<std::string> string_value() const {
    return detail::unescape_json_string(text);
  }

  friend bool operator==(const raw_json&, const raw_json&) = default;
};

/// Fields the library does not know, in document order, kept so nothing the server sends is lost.
using extra_fields = std::vector<std::pair<std::string, raw_json>>;

} // namespace phrony
