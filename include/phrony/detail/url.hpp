// phrony::detail: the text checks behind request building: ids, URLs, header fields, redaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "phrony/config.hpp"
#include "phrony/error.hpp"

namespace phrony::detail {

[[nodiscard]] constexpr char lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Case-insensitive ASCII comparison: HTTP header names and URL schemes are case-insensitive.
[[nodiscard]] constexpr bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(a[i]) != lower_ascii(b[i])) {
      return false;
    }
  }
  return true;
}

/// True when `haystack` contains `needle`, ignoring ASCII case.
[[nodiscard]] constexpr bool icontains_ascii(std::string_view haystack,
                                             std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals_ascii(haystack.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

[[nodiscard]] constexpr bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// The 8-4-4-4-12 hex shape of a UUID (any version, either case). Nothing else can reach a URL
/// path, so no id can add a segment, a query or a fragment.
[[nodiscard]] constexpr bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex_digit(s[i])) {
      return false;
    }
  }
  return true;
}

/// Code points in well-formed UTF-8 (validators in the server's stack count these, not bytes).
[[nodiscard]] constexpr std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

/// RFC 9110 tchar: the characters of a header name or a method.
[[nodiscard]] constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  for (char c : s) {
    const bool alnum = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// True when `s` holds a control character a header value must not carry (CR and LF would let a
/// value inject headers; NUL truncates in C transports). HTAB is allowed, as RFC 9110 says.
[[nodiscard]] constexpr bool has_header_ctl(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      return true;
    }
  }
  return false;
}

/// Longest Last-Event-ID value sent back on reconnect: event ids are short (this API's look
/// like "1747206437497-2"), and a longer one would only meet the server's header size limit.
inline constexpr std::size_t max_last_event_id = 1024;

/// True when `id` may go into a Last-Event-ID header as it is: no control character at all
/// (U+0000-U+001F, U+007F: not even HTAB, which servers trim), at most max_last_event_id bytes.
[[nodiscard]] constexpr bool is_sendable_last_event_id(std::string_view id) noexcept {
  if (id.size() > max_last_event_id) {
    return false;
  }
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return false;
    }
  }
  return true;
}

/// True when every byte of `s` may stand in a URL's path or query as it is (RFC 3986 pchar, '/'
/// and '?'): unreserved, sub-delims, ':', '@', or a "%" with two hex digits. Anything else (a
/// space, '"', '<', '#', a stray '%', a byte of non-ASCII text) must be percent-encoded first.
[[nodiscard]] constexpr bool is_url_path_text(std::string_view s) noexcept {
  constexpr std::string_view marks = "-._~!$&'()*+,;=:@/?";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex_digit(s[i + 1]) || !is_hex_digit(s[i + 2])) {
        return false;
      }
      i += 2;
      continue;
    }
    const bool alnum = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && marks.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// An absolute http(s) URL split at the end of its authority.
struct url_split {
  std::string_view scheme;    // "http" or "https", as written
  std::string_view authority; // host[:port]
  std::string_view rest;      // path, query and fragment ("" or starting with '/', '?' or '#')
};

/// Splits an absolute http:// or https:// URL, checking the authority is a plausible host[:port]
/// without credentials; `what` names the value in the error message.
[[nodiscard]] PHRONY_DECL result<url_split> split_http_url(std::string_view url,
                                                           std::string_view what);

/// True for query parameter names whose values are credentials: presigned object-storage URLs
/// (S3 X-Amz-Signature / -Credential / -Security-Token, GCS X-Goog-*, Azure SAS `sig`).
[[nodiscard]] constexpr bool is_secret_query_name(std::string_view name) noexcept {
  return icontains_ascii(name, "signature") || icontains_ascii(name, "credential") ||
         icontains_ascii(name, "token") || iequals_ascii(name, "sig");
}

/// `path_and_query` with the values of credential-bearing query parameters replaced by
/// "[redacted]", and any fragment dropped.
[[nodiscard]] PHRONY_DECL std::string redact_query(std::string_view path_and_query);

/// Secrets shorter than this are not plausible API keys; scrubbing them would garble text.
inline constexpr std::size_t min_scrubbed_secret = 8;

/// `text` with every occurrence of `secret` replaced by "[redacted]".
[[nodiscard]] PHRONY_DECL std::string scrub(std::string text, std::string_view secret);

/// What scrub_then_cut keeps of a text.
struct scrubbed_text {
  std::string text; ///< at most the `max` asked for, secrets shown as "[redacted]"
  bool cut = false; ///< something was left out (say so when printing)
};

/// The longest proper beginning of any of `secrets` that `run` ends with (0 if none).
[[nodiscard]] PHRONY_DECL std::size_t
secret_start_at_end(std::string_view run, std::span<const std::string_view> secrets);

/// The first `max` bytes of `text` once every one of `secrets` (those of min_scrubbed_secret
/// bytes or more) is replaced by "[redacted]", never ending inside a UTF-8 sequence. It scrubs
/// before it cuts, so a secret across the cut is never printed in part; it reads only about
/// max plus the longest secret's bytes of `text`. Pass `more_follows` when `text` is itself a
/// bounded read of something longer (an error body cut while it arrived): a secret's beginning
/// at its end is then dropped as well, and the result is always marked cut. Use it wherever
/// text that may hold a secret is shortened for printing (requests, error bodies).
[[nodiscard]] PHRONY_DECL scrubbed_text scrub_then_cut(std::string_view text,
                                                       std::span<const std::string_view> secrets,
                                                       std::size_t max, bool more_follows = false);

/// scrub_then_cut with a single secret.
[[nodiscard]] inline scrubbed_text scrub_then_cut(std::string_view text, std::string_view secret,
                                                  std::size_t max, bool more_follows = false) {
  return scrub_then_cut(text, std::span<const std::string_view>(&secret, 1), max, more_follows);
}

} // namespace phrony::detail

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>

namespace phrony::detail {

PHRONY_DECL result<url_split> split_http_url(std::string_view url, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return make_error(errc::invalid_argument, "", std::string(what) + " " + std::string(why));
  };
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return bad("contains a space or control character");
    }
  }
  const auto colon = url.find("://");
  if (colon == std::string_view::npos) {
    return bad("must start with http:// or https://");
  }
  url_split out;
  out.scheme = url.substr(0, colon);
  if (!iequals_ascii(out.scheme, "http") && !iequals_ascii(out.scheme, "https")) {
    return bad("must start with http:// or https://");
  }
  const auto after = url.substr(colon + 3);
  const auto end = after.find_first_of("/?#");
  out.authority = after.substr(0, end);
  out.rest = end == std::string_view::npos ? std::string_view{} : after.substr(end);
  if (out.authority.find('@') != std::string_view::npos) {
    // Credentials in a URL end up in logs; the API authenticates with X-API-Key instead.
    return bad("must not contain user:password@ credentials");
  }
  std::string_view host = out.authority;
  std::string_view port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos || close == 1) {
      return bad("has a malformed [IPv6] host");
    }
    for (char c : host.substr(1, close - 1)) {
      if (!is_hex_digit(c) && c != ':' && c != '.') {
        return bad("has a malformed [IPv6] host");
      }
    }
    const auto tail = host.substr(close + 1);
    if (!tail.empty()) {
      if (!tail.starts_with(':')) {
        return bad("has a malformed [IPv6] host");
      }
      port = tail.substr(1);
      if (port.empty()) {
        return bad("has an empty port");
      }
    }
  } else {
    if (const auto c = host.find(':'); c != std::string_view::npos) {
      port = host.substr(c + 1);
      host = host.substr(0, c);
      if (port.empty()) {
        return bad("has an empty port");
      }
    }
    if (host.empty()) {
      return bad("has no host");
    }
    for (char c : host) {
      const bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '%';
      if (!ok) {
        return bad("has an invalid character in its host");
      }
    }
  }
  if (!port.empty()) {
    if (port.size() > 5) {
      return bad("has an invalid port");
    }
    unsigned value = 0;
    for (char c : port) {
      if (!is_digit(c)) {
        return bad("has an invalid port");
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) {
      return bad("has an invalid port");
    }
  }
  return out;
}

PHRONY_DECL std::string redact_query(std::string_view path_and_query) {
  const auto hash = path_and_query.find('#');
  path_and_query = path_and_query.substr(0, hash);
  const auto q = path_and_query.find('?');
  if (q == std::string_view::npos) {
    return std::string(path_and_query);
  }
  std::string out(path_and_query.substr(0, q + 1));
  std::string_view query = path_and_query.substr(q + 1);
  bool first = true;
  while (true) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    if (!first) {
      out += '&';
    }
    first = false;
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && is_secret_query_name(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out += "[redacted]";
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query = query.substr(amp + 1);
  }
  return out;
}

PHRONY_DECL std::string scrub(std::string text, std::string_view secret) {
  if (secret.size() < min_scrubbed_secret) {
    return text;
  }
  constexpr std::string_view mask = "[redacted]";
  for (auto pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + mask.size())) {
    text.replace(pos, secret.size(), mask);
  }
  return text;
}

PHRONY_DECL std::size_t secret_start_at_end(std::string_view run,
                                            std::span<const std::string_view> secrets) {
  std::size_t longest = 0;
  for (const std::string_view s : secrets) {
    if (s.size() < min_scrubbed_secret) {
      continue;
    }
    for (std::size_t j = std::min(s.size() - 1, run.size()); j > longest; --j) {
      if (run.ends_with(s.substr(0, j))) {
        longest = j;
        break;
      }
    }
  }
  return longest;
}

PHRONY_DECL scrubbed_text scrub_then_cut(std::string_view text,
                                         std::span<const std::string_view> secrets, std::size_t max,
                                         bool more_follows) {
  constexpr std::string_view mask = "[redacted]";
  std::size_t longest = 1;
  for (const std::string_view s : secrets) {
    longest = std::max(longest, s.size());
  }
  scrubbed_text out;
  std::size_t pos = 0;
  // One byte past max is read too: it tells whether the cut splits a UTF-8 sequence.
  while (pos < text.size() && out.text.size() <= max) {
    // Bytes still wanted (no more than the text has, so that `max + 1` cannot overflow).
    const std::size_t room = std::min(max - out.text.size(), text.size()) + 1;
    // A secret that starts within `room` bytes of pos ends within this window.
    const std::string_view window = text.substr(pos, room + longest);
    std::size_t hit = std::string_view::npos;
    std::size_t hit_size = 0;
    for (const std::string_view s : secrets) {
      if (s.size() < min_scrubbed_secret) {
        continue;
      }
      const std::size_t at = window.find(s);
      if (at < room && (at < hit || (at == hit && s.size() > hit_size))) {
        hit = at;
        hit_size = s.size();
      }
    }
    if (hit != std::string_view::npos) {
      out.text.append(window.substr(0, hit));
      out.text += mask;
      pos += hit + hit_size;
      continue;
    }
    std::string_view run = text.substr(pos);
    if (more_follows) {
      run.remove_suffix(secret_start_at_end(run, secrets));
    }
    out.text.append(run.substr(0, room));
    pos = text.size();
  }
  out.cut = more_follows;
  if (out.text.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out.text[cut]) & 0xC0) == 0x80) {
      --cut; // never split a UTF-8 sequence
    }
    out.text.resize(cut);
    out.cut = true;
  }
  return out;
}

} // namespace phrony::detail
#endif
