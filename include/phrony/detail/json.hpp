// phrony::detail: the simdjson On-Demand reading core shared by every response parser, and the
// schema tables that drive both parsing and canonical writing of the value types.
//
// A value type T opts in by specialising `schema<T>` with a `fields` tuple of field descriptors
// (wire name, member pointer, required or not). read_object() walks the JSON object once, in
// document order, dispatching each key to its member; unknown keys go to T::extra verbatim.
// write_members() emits the documented fields in table order, then the extras. Reading functions
// return a one-flag read_status; the error itself waits in the thread's failure_slot() until
// the entry point (parse_padded_into) takes it.
#pragma once

#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "phrony/detail/parse.hpp"
#include "phrony/detail/simd.hpp"
#include "phrony/error.hpp"
#include "phrony/indirect.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/text.hpp"

namespace phrony::detail {

namespace od = simdjson::ondemand;

static_assert(json_padding == simdjson::SIMDJSON_PADDING);

/// Deepest nesting accepted in any body; deeper documents get errc::limit_exceeded.
inline constexpr std::size_t max_json_depth = 256;

[[nodiscard]] inline error error_at(errc code, const path& p, std::string message) {
  return make_error(code, p.pointer(), std::move(message));
}

/// Maps a simdjson failure at `p` to our error, naming what was expected there.
[[nodiscard]] inline error json_error(simdjson::error_code ec, const path& p,
                                      std::string_view expected) {
  switch (ec) {
  case simdjson::INCORRECT_TYPE:
    return error_at(errc::wrong_type, p, "expected " + std::string(expected));
  case simdjson::NUMBER_OUT_OF_RANGE: return error_at(errc::out_of_range, p, "number out of range");
  case simdjson::DEPTH_ERROR: return error_at(errc::limit_exceeded, p, "JSON nested too deeply");
  case simdjson::CAPACITY: return error_at(errc::limit_exceeded, p, "body too large");
  case simdjson::UTF8_ERROR: return error_at(errc::invalid_json, p, "invalid UTF-8");
  default: return error_at(errc::invalid_json, p, simdjson::error_message(ec));
  }
}

/// True when `token` can start a JSON value; a type error on anything else is malformed JSON
/// (a truncated body, a stray comma), not a wrong type.
[[nodiscard]] inline bool starts_json_value(std::string_view token) noexcept {
  if (token.empty()) {
    return false;
  }
  const char c = token.front();
  return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
         c == 'f' || c == 'n';
}

/// The number of significant digits of the JSON number `token` (its mantissa's digits, leading
/// zeros left out).
[[nodiscard]] inline std::size_t significant_digits(std::string_view token) noexcept {
  std::size_t n = 0;
  for (const char c : token) {
    if (c == 'e' || c == 'E') {
      break;
    }
    if (c >= '1' && c <= '9') {
      ++n;
    } else if (c == '0' && n > 0) {
      ++n;
    }
  }
  return n;
}

/// Whether the JSON number `token`, out of a double's range, is too large (rather than too
/// small): its decimal magnitude (the digits before its point, or the zeros after it, plus its
/// exponent) is positive.
[[nodiscard]] inline bool overflows(std::string_view token) noexcept {
  long long magnitude = 0;
  bool point = false;
  bool significant = false;
  std::size_t i = 0;
  for (; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
    const char c = token[i];
    if (c == '.') {
      point = true;
    } else if (c >= '0' && c <= '9') {
      significant = significant || c != '0';
      if (!point && significant) {
        ++magnitude;
      } else if (point && !significant) {
        --magnitude;
      }
    }
  }
  long long exponent = 0;
  bool negative = false;
  for (++i; i < token.size(); ++i) {
    if (token[i] == '-') {
      negative = true;
    } else if (token[i] >= '0' && token[i] <= '9' && exponent < 100000) {
      exponent = exponent * 10 + (token[i] - '0');
    }
  }
  return magnitude + (negative ? -exponent : exponent) > 0;
}

/// Reads the JSON number `token` exactly (from_chars: no locale): NUMBER_ERROR when it is too
/// large for a double; a number too small for one reads as zero, as everywhere else.
[[nodiscard]] inline simdjson::error_code exact_double(std::string_view token, double& out) {
  bool out_of_range = false;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  if (end != token.data() + token.size() ||
      (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    return simdjson::NUMBER_ERROR;
  }
  out_of_range = ec == std::errc::result_out_of_range;
#else
  // No floating-point from_chars (libc++ before 17): strtod, in the C locale unless the
  // program changed LC_NUMERIC.
  const std::string copy(token);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) {
    return simdjson::NUMBER_ERROR;
  }
  out_of_range = errno == ERANGE;
#endif
  if (out_of_range) {
    if (overflows(token)) {
      return simdjson::NUMBER_ERROR;
    }
    out = token.front() == '-' ? -0.0 : 0.0;
  }
  return simdjson::SUCCESS;
}

/// Reads the number at `v` (or a scalar document) as a double. simdjson 3.0.1's two number
/// parsers each refuse some well-formed JSON numbers the other reads: get_double an exponent
/// with many leading zeros ("3e0000000000000000000000000000000003"), get_number an integer
/// beyond 64 bits ("18446744073709551616"); a number is well-formed when either reads it.
/// get_double also misreads numbers of more than 19 significant digits after "0." (it gives
/// 7.9e-10 for 0.1234567890123456789012345678, and 6.8e293 for a 0.797...e337 past the range of a
/// double; found by fuzz_error_body), so those are read again exactly, and a number past the
/// range of a double is refused, as 1e400 is.
template <class V> [[nodiscard]] simdjson::error_code read_any_number(V& v, double& out) {
  const auto ec = v.get_double().get(out);
  if (ec == simdjson::SUCCESS) {
    std::string_view token;
    if constexpr (std::is_same_v<V, od::value>) {
      token = v.raw_json_token();
    } else if (v.raw_json_token().get(token) != simdjson::SUCCESS) {
      return ec; // a document whose number was just read has a token: not reached
    }
    token = trim_json_space(token);
    return token.size() > 19 && significant_digits(token) > 19 ? exact_double(token, out) : ec;
  }
  if (ec == simdjson::NUMBER_ERROR) {
    od::number n;
    if (v.get_number().get(n) == simdjson::SUCCESS && std::isfinite(n.as_double())) {
      out = n.as_double();
      return simdjson::SUCCESS;
    }
  }
  return ec;
}

/// json_error for a failed read of `v`: INCORRECT_TYPE on something that is no JSON value at
/// all becomes invalid_json.
[[nodiscard]] inline error read_error(simdjson::error_code ec, od::value& v, const path& p,
                                      std::string_view expected) {
  if (ec == simdjson::INCORRECT_TYPE) {
    const std::string_view token = trim_json_space(v.raw_json_token());
    if (!starts_json_value(token)) {
      return error_at(errc::invalid_json, p, "expected a JSON value");
    }
    // A token that looks like a literal or a number but is none ("tru", "nul", "-") is
    // malformed JSON, as it is in an opaque value, not a value of the wrong type.
    const char c = token.front();
    if ((c == 't' || c == 'f' || c == 'n') && token != "true" && token != "false" &&
        token != "null") {
      return error_at(errc::invalid_json, p, "invalid literal");
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      // As validate_typed reports it in an opaque value (a huge exponent: out_of_range).
      double d = 0;
      if (auto number_ec = read_any_number(v, d)) {
        return number_ec == simdjson::INCORRECT_TYPE
                   ? error_at(errc::invalid_json, p, "invalid number")
                   : json_error(number_ec, p, "number");
      }
    }
  }
  return json_error(ec, p, expected);
}

/// The outcome of reading a value. A failure's error waits in the thread's failure_slot() until
/// the document's entry point takes it: the reading functions pass one flag up the call chain
/// rather than a whole error object, which keeps the success path short.
struct [[nodiscard]] read_status {
  bool failed = false;
  explicit operator bool() const noexcept { return failed; }
};

[[nodiscard]] inline error& failure_slot() noexcept {
  thread_local error e;
  return e;
}

#if defined(__GNUC__)
#define PHRONY_COLD [[gnu::cold, gnu::noinline]]
#else
#define PHRONY_COLD
#endif

/// Parks `e` in the thread's failure slot and reports failure.
PHRONY_COLD inline read_status fail(error e) {
  failure_slot() = std::move(e);
  return {true};
}
/// fail(error_at(...)): the error is built out of line, off the success path.
PHRONY_COLD inline read_status fail_at(errc code, const path& p, std::string_view message) {
  return fail(error_at(code, p, std::string(message)));
}
PHRONY_COLD inline read_status fail_json(simdjson::error_code ec, const path& p,
                                         std::string_view expected) {
  return fail(json_error(ec, p, expected));
}
PHRONY_COLD inline read_status fail_read(simdjson::error_code ec, od::value& v, const path& p,
                                         std::string_view expected) {
  return fail(read_error(ec, v, p, expected));
}
/// Takes the error parked by the last failure.
[[nodiscard]] inline error take_failure() { return std::move(failure_slot()); }

/// Returns from the enclosing reading function when `expr` (a read_status) failed.
#define PHRONY_CHECK(expr)                                                                         \
  do {                                                                                             \
    if ((expr).failed) {                                                                           \
      return ::phrony::detail::read_status{true};                                                  \
    }                                                                                              \
  } while (false)

// ---- reading scalars and opaque values --------------------------------------------------------

/// The text of a value that started at `start` and has just been consumed: it runs to where the
/// iterator now stands (the next token, or `doc_end` after the last one), less whitespace.
[[nodiscard]] inline std::string_view consumed_text(od::value& v, const char* start,
                                                    const char* doc_end) {
  const char* end = nullptr;
  if (v.current_location().get(end)) {
    end = doc_end;
  }
  return trim_json_space(std::string_view(start, static_cast<std::size_t>(end - start)));
}

/// The first '"' or '\\' in [p, end), or `end`, a byte at a time: the fallback of
/// find_quote_or_backslash where no SIMD path compiles, and the reference its tests compare with.
[[nodiscard]] inline const char* find_quote_or_backslash_scalar(const char* p,
                                                                const char* end) noexcept {
  while (p < end && *p != '"' && *p != '\\') {
    ++p;
  }
  return p;
}

/// Which find_quote_or_backslash this build compiled: "avx2", "sse2", "neon" or "scalar".
inline constexpr std::string_view quote_scan_path = simd_path;

/// The first '"' or '\\' in [p, end), or `end`. Reads in 16-byte (32 with AVX2) blocks, so up
/// to 31 bytes past `end`: callers pass an `end` inside a padded document.
[[nodiscard]] inline const char* find_quote_or_backslash(const char* p, const char* end) noexcept {
#if defined(PHRONY_SIMD_AVX2)
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  for (; p < end; p += 32) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const auto hits = static_cast<std::uint32_t>(_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(b, quote), _mm256_cmpeq_epi8(b, backslash))));
    if (hits != 0) {
      const char* const hit = p + std::countr_zero(hits);
      return hit < end ? hit : end;
    }
  }
  return end;
#elif defined(PHRONY_SIMD_SSE2)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; p < end; p += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto hits = static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, backslash))));
    if (hits != 0) {
      const char* const hit = p + std::countr_zero(hits);
      return hit < end ? hit : end;
    }
  }
  return end;
#elif defined(PHRONY_SIMD_NEON)
  const uint8x16_t quote = vdupq_n_u8(static_cast<std::uint8_t>('"'));
  const uint8x16_t backslash = vdupq_n_u8(static_cast<std::uint8_t>('\\'));
  for (; p < end; p += 16) {
    const uint8x16_t b = vld1q_u8(reinterpret_cast<const std::uint8_t*>(p));
    const uint8x16_t eq = vorrq_u8(vceqq_u8(b, quote), vceqq_u8(b, backslash));
    // NEON has no movemask: shifting each 16-bit lane right by 4 and narrowing keeps 4 bits of
    // every byte (0x0 or 0xf), so byte i of the block is nibble i of the 64-bit mask.
    const std::uint64_t hits =
        vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(eq), 4)), 0);
    if (hits != 0) {
      const char* const hit = p + std::countr_zero(hits) / 4;
      return hit < end ? hit : end;
    }
  }
  return end;
#else
  return find_quote_or_backslash_scalar(p, end);
#endif
}

/// Reads a string value with one copy when it has no escapes (simdjson's get_string copies
/// every string into its own buffer first); the bytes are then the value, since stage 1
/// already checked UTF-8 and control characters.
[[nodiscard]] inline simdjson::error_code read_string(od::value& v, std::string_view& out) {
  // The token runs to the next structural character, so it holds the closing quote of a
  // well-formed string; a truncated document's last token may hold none, hence the bound.
  const std::string_view token = v.raw_json_token();
  if (token.size() >= 2 && token.front() == '"') {
    const char* const token_end = token.data() + token.size();
    const char* const end = find_quote_or_backslash(token.data() + 1, token_end);
    od::raw_json_string consumed;
    if (end < token_end && *end == '"' &&
        v.get_raw_json_string().get(consumed) == simdjson::SUCCESS) {
      out = std::string_view(token.data() + 1, static_cast<std::size_t>(end - token.data() - 1));
      return simdjson::SUCCESS;
    }
  }
  return v.get_string().get(out);
}

/// read_string, for a caller that knows the document holds no backslash before `plain_until`
/// (read_context::plain_until): a string token that ends before it and ends in a quote is the
/// string, with no scan for its end (with no backslash in it, its last quote is the closing one).
[[nodiscard]] inline simdjson::error_code read_string(od::value& v, std::string_view& out,
                                                      const char* plain_until) {
  const std::string_view token = v.raw_json_token();
  if (plain_until != nullptr && token.size() >= 2 && token.data() + token.size() <= plain_until &&
      token.front() == '"' && token.back() == '"') {
    od::raw_json_string consumed;
    if (v.get_raw_json_string().get(consumed) == simdjson::SUCCESS) {
      out = token.substr(1, token.size() - 2);
      return simdjson::SUCCESS;
    }
  }
  return read_string(v, out);
}

/// The key of `f`: a view of the document when it has no escapes (every key the API sends),
/// unescaped otherwise. `plain_until`, when a caller knows it (read_context::plain_until): a key
/// before it has no escape, so when its closing quote and the colon sit right before the value
/// (`"key":value`, as servers write JSON), the key is found without a scan for its end.
[[nodiscard]] inline simdjson::error_code field_key(od::field& f, std::string_view& out,
                                                    const char* plain_until = nullptr) {
  // The key's closing quote comes before its value's first byte.
  const char* const start = f.key().raw();
  const char* const limit = f.value().raw_json_token().data();
  // With no backslash before `limit`, the key's first quote closes it; simdjson has checked
  // that a colon and nothing else (but whitespace) follows it.
  if (plain_until != nullptr && limit <= plain_until && limit - start >= 2 && limit[-1] == ':' &&
      limit[-2] == '"') {
    out = std::string_view(start, static_cast<std::size_t>(limit - 2 - start));
    return simdjson::SUCCESS;
  }
  const char* const end = find_quote_or_backslash(start, limit);
  if (end < limit && *end == '"') {
    out = std::string_view(start, static_cast<std::size_t>(end - start));
    return simdjson::SUCCESS;
  }
  return f.unescaped_key().get(out);
}

/// `k == literal`, with the length known at compile time so the comparison is inlined (a plain
/// string_view comparison calls memcmp).
template <std::size_t N>
[[nodiscard]] bool key_is(std::string_view k, const char (&literal)[N]) noexcept {
  return k.size() == N - 1 && std::memcmp(k.data(), literal, N - 1) == 0;
}

/// Calls on_element(value, path) for each element of the array at `v`.
template <class F>
[[nodiscard]] read_status for_each_element(od::value& v, const path& p, F&& on_element) {
  od::array a;
  if (auto ec = v.get_array().get(a)) {
    return fail_read(ec, v, p, "array");
  }
  std::size_t i = 0;
  for (auto el : a) {
    const path child = p.at(i++);
    if (auto ec = el.error()) {
      return fail_json(ec, child, "a JSON value");
    }
    // Used in place: copying the value out of its result costs a store-forwarding stall (a
    // 16-byte load of fields just written separately), a large share of a small parse.
    od::value& cv = el.value_unsafe();
    PHRONY_CHECK(on_element(cv, child));
  }
  return {};
}

[[nodiscard]] inline bool raw_key_is(const char* raw, std::string_view name) noexcept;

/// For for_each_field: no key is expected.
inline constexpr auto no_expected_key = [] { return std::string_view{}; };

/// Calls on_field(key, value, path) for each member of the object at `v`, in document order.
/// `expected()` names the key most likely to come next, or is empty: when it matches, compared
/// in place, the key costs no scan for its end, and `key` is that very string_view (so a caller
/// can tell a match by its data pointer). `plain_until`: see field_key; a std::nullptr_t (the
/// default, the typed readers, whose keys mostly match `expected()`) leaves the check out.
template <class F, class Expected, class Plain = std::nullptr_t>
[[nodiscard]] read_status for_each_field(od::value& v, const path& p, F&& on_field,
                                         Expected&& expected,
                                         [[maybe_unused]] Plain plain_until = nullptr) {
  od::object o;
  if (auto ec = v.get_object().get(o)) {
    return fail_read(ec, v, p, "object");
  }
  for (auto r : o) {
    if (auto ec = r.error()) {
      return fail_json(ec, p, "object key");
    }
    od::field& f = r.value_unsafe(); // in place, see for_each_element
    std::string_view k = expected();
    if (k.empty() || !raw_key_is(f.key().raw(), k)) {
      simdjson::error_code ec{};
      if constexpr (std::is_same_v<Plain, std::nullptr_t>) {
        ec = field_key(f, k);
      } else {
        ec = field_key(f, k, plain_until);
      }
      if (ec) {
        return fail_json(ec, p, "object key");
      }
    }
    const path child = p.field(k);
    PHRONY_CHECK(on_field(k, f.value(), child));
  }
  return {};
}

template <class F>
[[nodiscard]] read_status for_each_field(od::value& v, const path& p, F&& on_field) {
  return for_each_field(v, p, on_field, no_expected_key);
}

[[nodiscard]] inline read_status validate_container(od::value& v, const path& p, od::json_type t,
                                                    std::size_t depth, const char* plain_until);

/// Checks the value at `v`, of type `t`, at nesting `depth`: scalars here (small enough to be
/// inlined into the container loops), containers by validate_container. `plain_until`, when a
/// caller knows it: the document holds no backslash before it, so a string that ends there has
/// no escape to check (stage 1 has checked its UTF-8, its control characters and its closing
/// quote) and is consumed without a scan; nullptr: every string is scanned.
[[nodiscard]] inline read_status validate_typed(od::value& v, const path& p, od::json_type t,
                                                std::size_t depth,
                                                const char* plain_until = nullptr) {
  switch (t) {
  case od::json_type::object:
  case od::json_type::array: return validate_container(v, p, t, depth, plain_until);
  case od::json_type::string: {
    if (plain_until != nullptr) {
      const std::string_view token = v.raw_json_token();
      od::raw_json_string consumed;
      if (token.data() + token.size() <= plain_until &&
          v.get_raw_json_string().get(consumed) == simdjson::SUCCESS) {
        return {};
      }
    }
    std::string_view s;
    if (auto ec = read_string(v, s)) {
      return fail_read(ec, v, p, "string");
    }
    return {};
  }
  case od::json_type::number: {
    od::number n;
    if (auto ec = v.get_number().get(n)) {
      double d = 0;
      if (read_any_number(v, d) == simdjson::SUCCESS) {
        return {}; // an integer beyond 64 bits: JSON all the same, kept verbatim
      }
      return fail_read(ec, v, p, "number");
    }
    return {};
  }
  case od::json_type::boolean: {
    bool b = false;
    if (v.get_bool().get(b)) {
      return fail_at(errc::invalid_json, p, "invalid literal");
    }
    return {};
  }
  case od::json_type::null: {
    bool b = false;
    if (auto ec = v.is_null().get(b); ec || !b) {
      return fail_at(errc::invalid_json, p, "invalid literal");
    }
    return {};
  }
  }
  return fail_at(errc::invalid_json, p, "unknown JSON value");
}

/// Checks any value at `v`, at nesting `depth` (the length of `p`); see validate_typed for
/// `plain_until`.
[[nodiscard]] inline read_status validate_child(od::value& v, const path& p, std::size_t depth,
                                                const char* plain_until = nullptr) {
  if (depth > max_json_depth) {
    return fail_at(errc::limit_exceeded, p, "JSON nested too deeply");
  }
  od::json_type t{};
  if (auto ec = v.type().get(t)) {
    return fail_json(ec, p, "a JSON value");
  }
  return validate_typed(v, p, t, depth, plain_until);
}

/// Walks the object or array `v` (of type `t`) at nesting `depth`, checking every member.
[[nodiscard]] inline read_status validate_container(od::value& v, const path& p, od::json_type t,
                                                    std::size_t depth, const char* plain_until) {
  if (t == od::json_type::object) {
    return for_each_field(
        v, p,
        [depth, plain_until](std::string_view, od::value& cv, const path& child) {
          return validate_child(cv, child, depth + 1, plain_until);
        },
        no_expected_key, plain_until);
  }
  return for_each_element(v, p, [depth, plain_until](od::value& cv, const path& child) {
    return validate_child(cv, child, depth + 1, plain_until);
  });
}

/// Walks `v` completely so every scalar is checked (On-Demand only checks what it is asked for);
/// see validate_typed for `plain_until`.
[[nodiscard]] inline read_status validate_value(od::value& v, const path& p,
                                                const char* plain_until = nullptr) {
  return validate_child(v, p, p.depth(), plain_until);
}

/// Sets `out` to `s`. Only a heap buffer that holds `s` is worth keeping (a reused value);
/// otherwise constructing a string is cheaper than std::string::assign's general path (aliasing
/// checks, out-of-line _M_replace), for short texts too.
inline void assign_string(std::string& out, std::string_view s) {
  constexpr std::size_t local_capacity = 15; // libstdc++'s and MSVC's in-object buffer
  if (out.capacity() < s.size() || out.capacity() <= local_capacity) {
    // Built first, so an allocation failure leaves `out` as it was; then a move construction
    // over the old value skips move assignment's general path.
    std::string fresh(s);
    std::destroy_at(&out);
    std::construct_at(&out, std::move(fresh));
  } else {
    out.assign(s);
  }
}

/// What a parse carries down to every reader: the document's end, the mode, and where its next
/// backslash is.
struct read_context {
  const char* doc_end = nullptr;
  bool strict = false;             ///< parse_options::strict of the body being read
  const char* backslash = nullptr; ///< see plain_until; nullptr until first asked

  /// The document's first backslash at or after `from` (or its end): a string that ends before it
  /// holds no escape. One memchr serves every later string up to that backslash, so a document is
  /// scanned about once however many strings ask. `from` is inside the document.
  [[nodiscard]] const char* plain_until(const char* from) noexcept {
    if (backslash == nullptr || backslash < from) {
      if (doc_end == nullptr || from >= doc_end) {
        return nullptr; // nothing known: every string is scanned
      }
      const void* const b = std::memchr(from, '\\', static_cast<std::size_t>(doc_end - from));
      backslash = b != nullptr ? static_cast<const char*>(b) : doc_end;
    }
    return backslash;
  }
};

/// Reads any JSON value at `v` as its verbatim text, after checking it is well-formed.
template <class String>
[[nodiscard]] read_status read_raw(od::value& v, const path& p, String& out, read_context& ctx) {
  const std::string_view token = v.raw_json_token();
  PHRONY_CHECK(validate_value(v, p, ctx.plain_until(token.data())));
  // Valid, so the first byte tells a container, whose text runs past its first token.
  const bool container = token.front() == '{' || token.front() == '[';
  assign_string(out,
                container ? consumed_text(v, token.data(), ctx.doc_end) : trim_json_space(token));
  return {};
}

#if PHRONY_WITH_IMPL
PHRONY_DECL std::optional<std::string> string_value(const raw_json& r) {
  const std::string_view text = trim_json_space(r.text);
  if (text.empty() || text.front() != '"') {
    return std::nullopt;
  }
  const simdjson::padded_string padded(text);
  od::parser parser; // a cold accessor: the thread's parsers may be busy with a body
  od::document doc;
  std::string_view s;
  const char* trailing = nullptr;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_string().get(s) != simdjson::SUCCESS ||
      doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(s);
}
#endif

// Every type the schema machinery reads or writes has a codec<T> specialisation with
//   static read_status read(od::value&, const path&, read_context&, T&);
//   static void write(json_writer&, const T&);
// (a class template, so headers included later can add their own types).
template <class T> struct codec;

template <class T>
[[nodiscard]] read_status read_value(od::value& v, const path& p, read_context& ctx, T& out) {
  return codec<T>::read(v, p, ctx, out);
}

template <class T> void write_value(json_writer& w, const T& t) { codec<T>::write(w, t); }

template <> struct codec<raw_json> {
  static read_status read(od::value& v, const path& p, read_context& ctx, raw_json& out) {
    return read_raw(v, p, out.text, ctx);
  }
  static void write(json_writer& w, const raw_json& r) { w.raw(r); }
};

/// Reads a JSON string into a String (std::string or text): what both codecs share.
template <class String> struct string_codec {
  static read_status read(od::value& v, const path& p, read_context& ctx, String& out) {
    std::string_view s;
    if (auto ec = read_string(v, s, ctx.plain_until(v.raw_json_token().data()))) {
      return fail_read(ec, v, p, "string");
    }
    assign_string(out, s);
    return {};
  }
};

template <> struct codec<std::string> : string_codec<std::string> {
  static void write(json_writer& w, const std::string& s) { w.value(std::string_view(s)); }
};

template <> struct codec<text> : string_codec<text> {
  static void write(json_writer& w, const text& s) { w.value(s.view()); }
};

/// A value kept on the heap reads and writes as the value.
template <class T> struct codec<indirect<T>> {
  static read_status read(od::value& v, const path& p, read_context& ctx, indirect<T>& out) {
    return read_value(v, p, ctx, out.get());
  }
  static void write(json_writer& w, const indirect<T>& t) { write_value(w, t.get()); }
};

template <> struct codec<bool> {
  static read_status read(od::value& v, const path& p, read_context&, bool& out) {
    if (auto ec = v.get_bool().get(out)) {
      return fail_read(ec, v, p, "boolean");
    }
    return {};
  }
  static void write(json_writer& w, bool b) { w.value(b); }
};

/// Every integer the API sends is a count, id-like ordinal or size, so negatives are out_of_range.
template <> struct codec<std::int64_t> {
  static read_status read(od::value& v, const path& p, read_context&, std::int64_t& out) {
    if (v.get_int64().get(out) == simdjson::SUCCESS) {
      if (out < 0) {
        return fail_at(errc::out_of_range, p, "expected a number >= 0");
      }
      return {};
    }
    od::json_type t{};
    if (auto ec = v.type().get(t); ec || t != od::json_type::number) {
      return fail_read(ec ? ec : simdjson::INCORRECT_TYPE, v, p, "integer");
    }
    const std::string_view token = v.raw_json_token();
    double d = 0;
    if (auto ec = read_any_number(v, d)) {
      return fail_read(ec, v, p, "integer"); // "-" is malformed JSON, not a wrong type
    }
    if (token.find_first_of(".eE") != std::string_view::npos) {
      return fail_at(errc::wrong_type, p, "expected integer");
    }
    return fail_at(errc::out_of_range, p, "integer out of range");
  }
  static void write(json_writer& w, std::int64_t n) { w.value(n); }
};

template <> struct codec<double> {
  static read_status read(od::value& v, const path& p, read_context&, double& out) {
    if (auto ec = read_any_number(v, out)) {
      return fail_read(ec, v, p, "number");
    }
    return {};
  }
  static void write(json_writer& w, double d) { w.value(d); }
};

/// optional<T>: JSON null reads as nullopt and writes as null (absence is the caller's business).
template <class T> inline constexpr bool is_optional_v = false;
template <class T> inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T> struct codec<std::optional<T>> {
  static read_status read(od::value& v, const path& p, read_context& ctx, std::optional<T>& out) {
    if constexpr (std::is_same_v<T, raw_json> || is_optional_v<T>) {
      // Opaque values keep a literal null as "null": it is part of the verbatim text. An
      // optional<optional<X>> (an optional field that may be null) records "present" outside.
      if (!out) {
        out.emplace();
      }
      return read_value(v, p, ctx, *out);
    } else {
      bool is_null = false;
      if (auto ec = v.is_null().get(is_null)) {
        return fail_read(ec, v, p, "a JSON value");
      }
      if (is_null) {
        out.reset();
        return {};
      }
      if (!out) {
        out.emplace();
      }
      return read_value(v, p, ctx, *out); // a reused value keeps its storage
    }
  }
  static void write(json_writer& w, const std::optional<T>& o) {
    if (o) {
      write_value(w, *o);
    } else {
      w.null();
    }
  }
};

/// Element `n` of a vector being read over (a reused value keeps its elements' storage), appended
/// when the vector is shorter; advances `n`.
template <class T> T& next_slot(std::vector<T>& v, std::size_t& n) {
  if (n == v.size()) {
    v.emplace_back();
  }
  return v[n++];
}

/// Drops the elements past the first `n`, which a read-over did not reach.
template <class T> void keep_first(std::vector<T>& v, std::size_t n) {
  if (v.size() > n) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(n), v.end());
  }
}

template <class T> struct codec<std::vector<T>> {
  static read_status read(od::value& v, const path& p, read_context& ctx, std::vector<T>& out) {
    std::size_t n = 0;
    PHRONY_CHECK(for_each_element(v, p, [&](od::value& el, const path& ep) {
      return read_value(el, ep, ctx, next_slot(out, n));
    }));
    keep_first(out, n);
    return {};
  }
  static void write(json_writer& w, const std::vector<T>& items) {
    w.begin_array();
    for (const auto& item : items) {
      write_value(w, item);
    }
    w.end_array();
  }
};

// ---- schema tables ----------------------------------------------------------------------------

template <class Owner, class Member> struct field_desc {
  std::string_view name;
  Member Owner::*member;
  bool required;
};

/// A field that must be present (it may still be null when the member is an optional).
template <class Owner, class Member>
constexpr field_desc<Owner, Member> req(std::string_view name, Member Owner::*m) {
  return {name, m, true};
}
/// A field that may be absent.
template <class Owner, class Member>
constexpr field_desc<Owner, Member> opt(std::string_view name, Member Owner::*m) {
  return {name, m, false};
}

/// Specialised per value type as
///   template <std::same_as<X> T> struct schema<T> {
///     static constexpr auto fields = std::make_tuple(req("wireName", &T::member), opt(...));
///   };
/// A constrained partial specialisation rather than `template <> struct schema<X>`: its table is
/// only built when a translation unit parses or writes an X, not by every one that includes it.
template <class T> struct schema;

template <class T>
concept has_schema = requires {
  schema<T>::fields;
};

template <class T>
concept has_extra = requires(T& t) {
  { t.extra } -> std::same_as<extra_fields&>;
};

/// Types whose schema needs a hook after the fields are read (checks across fields, typed
/// contents). `schema<T>::finish(T&, const path&, read_context&)` returns read_status.
template <class T>
concept has_finish = requires(T& t, const path& p, read_context& c) {
  { schema<T>::finish(t, p, c) } -> std::same_as<read_status>;
};

/// Types whose schema intercepts some keys itself: `schema<T>::read_special(t, key, v, p, ctx,
/// handled)`; used where one field's meaning depends on another (an item's content on its type).
template <class T>
concept has_special = requires(T& t, std::string_view k, od::value& v, const path& p,
                               read_context& c, bool& handled) {
  { schema<T>::read_special(t, k, v, p, c, handled) } -> std::same_as<read_status>;
};

/// Types whose schema reads some table fields itself, by index, with no key compared:
/// `schema<T>::read_field(t, i, seen_before, seen, v, p, ctx, handled)` runs when a key matched
/// field i (seen_before: the fields read until then), before the table reads it unless it sets
/// `handled`; it may set bits of `seen` above the table's for its own bookkeeping, which
/// `schema<T>::finish_fields(t, seen, p, ctx)` gets after the required-check.
template <class T>
concept has_field_hook = requires(T& t, std::size_t i, std::uint64_t before, std::uint64_t& seen,
                                  od::value& v, const path& p, read_context& c, bool& handled) {
  { schema<T>::read_field(t, i, before, seen, v, p, c, handled) } -> std::same_as<read_status>;
  { schema<T>::finish_fields(t, before, p, c) } -> std::same_as<read_status>;
};

template <class T, std::size_t I>
[[nodiscard]] read_status read_member(T& out, od::value& v, const path& p, read_context& ctx) {
  return read_value(v, p, ctx, out.*(std::get<I>(schema<T>::fields).member));
}

/// A default-constructed T, the value of the fields a body leaves out.
template <class T> [[nodiscard]] const T& default_value() {
  static const T value{};
  return value;
}

/// Sets every field of `out` not in `seen` to its default (fields the body left out, in a value
/// that may be reused): an optional is emptied, anything else copied from default_value<T>().
template <class T, std::size_t... I>
void reset_unseen(T& out, std::uint64_t seen, std::index_sequence<I...>) {
  constexpr auto& fields = schema<T>::fields;
  (
      [&] {
        if ((seen >> I & 1) != 0) {
          return;
        }
        auto& m = out.*(std::get<I>(fields).member);
        if constexpr (is_optional_v<std::remove_cvref_t<decltype(m)>>) {
          m.reset();
        } else {
          m = default_value<T>().*(std::get<I>(fields).member);
        }
      }(),
      ...);
}

/// T's wire names and member readers as arrays, so a key is found by a loop and read through
/// one indirect call (no chain of comparisons unrolled per field, no error moved along it).
template <class T> struct field_table {
  using reader = read_status (*)(T&, od::value&, const path&, read_context&);
  static constexpr std::size_t size =
      std::tuple_size_v<std::remove_cvref_t<decltype(schema<T>::fields)>>;

  template <std::size_t... I>
  static constexpr std::array<std::string_view, size> make_names(std::index_sequence<I...>) {
    return {std::get<I>(schema<T>::fields).name...};
  }
  template <std::size_t... I>
  static constexpr std::array<reader, size> make_readers(std::index_sequence<I...>) {
    return {&read_member<T, I>...};
  }

  static constexpr std::array<std::string_view, size> names =
      make_names(std::make_index_sequence<size>{});
  static constexpr std::array<reader, size> readers =
      make_readers(std::make_index_sequence<size>{});
  /// One bit per field.
  static constexpr std::uint64_t all =
      size == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << size) - 1;

  template <std::size_t... I>
  static constexpr std::uint64_t make_required(std::index_sequence<I...>) {
    return ((std::get<I>(schema<T>::fields).required ? std::uint64_t{1} << I : 0) | ... | 0);
  }
  /// True when every name can be compared in place by raw_key_is.
  static constexpr bool names_compare_raw = [] {
    for (std::string_view name : names) {
      if (name.empty() || name.size() >= simdjson::SIMDJSON_PADDING ||
          name.find_first_of("\"\\") != std::string_view::npos) {
        return false;
      }
    }
    return true;
  }();
  static_assert(names_compare_raw, "wire names are short and need no escapes");

  /// Bit i set when field i is required.
  static constexpr std::uint64_t required = make_required(std::make_index_sequence<size>{});

  /// The index of `key`, or size. Servers send fields in one order, so the slot after the last
  /// match (`hint`) is tried first and usually hits.
  [[nodiscard]] static std::size_t find(std::string_view key, std::size_t hint) noexcept {
    if (hint < size && names[hint] == key) {
      return hint;
    }
    for (std::size_t i = 0; i < size; ++i) {
      if (names[i] == key) {
        return i;
      }
    }
    return size;
  }
};

/// True when the key whose text starts at `raw` (after its opening quote, inside a padded
/// document) is `name`, which holds no quote or backslash: then no escape can hide in the
/// compared bytes, and the quote after them closes the key. Reads at most name.size() + 1 bytes,
/// which the padding covers even at the document's end.
[[nodiscard]] inline bool raw_key_is(const char* raw, std::string_view name) noexcept {
  const std::size_t n = name.size();
  const auto word = [](const char* at) {
    std::uint64_t w = 0;
    std::memcpy(&w, at, sizeof w);
    return w;
  };
  if (n >= 8) {
    // Whole words, the last one overlapping the one before: no call, no byte loop.
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (word(raw + i) != word(name.data() + i)) {
        return false;
      }
    }
    return word(raw + n - 8) == word(name.data() + n - 8) && raw[n] == '"';
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (raw[i] != name[i]) {
      return false;
    }
  }
  return raw[n] == '"';
}

/// The first required field of T missing from `seen`, as a failure.
template <class T> [[nodiscard]] read_status check_required(std::uint64_t seen, const path& p) {
  using table = field_table<T>;
  for (std::size_t i = 0; i < table::size; ++i) {
    if ((table::required >> i & 1) != 0 && (seen >> i & 1) == 0) {
      return fail_at(errc::missing_field, p.field(table::names[i]), "missing required field");
    }
  }
  return {};
}

template <has_schema T>
[[nodiscard]] read_status read_object(od::value& v, const path& p, read_context& ctx, T& out) {
  using table = field_table<T>;
  constexpr std::size_t n = table::size;
  static_assert(n <= 64, "the seen-mask holds 64 fields");
  std::uint64_t seen = 0;
  std::size_t hint = 0;
  std::size_t extras = 0; // unknown fields read: a reused value's first ones are read over
  // Servers send fields in one order, so the key usually is the one after the last match.
  const auto expected = [&] { return hint < n ? table::names[hint] : std::string_view{}; };
  PHRONY_CHECK(for_each_field(
      v, p,
      [&](std::string_view k, od::value& fv, const path& fp) -> read_status {
        // A matched guess hands back the table's own string_view.
        const std::size_t i =
            hint < n && k.data() == table::names[hint].data() ? hint : table::find(k, hint);
        const std::uint64_t before = seen;
        if (i < n) {
          seen |= std::uint64_t{1} << i; // present, so not reset below
          hint = i + 1;
        }
        if constexpr (has_special<T>) {
          bool handled = false;
          PHRONY_CHECK(schema<T>::read_special(out, k, fv, fp, ctx, handled));
          if (handled) {
            return {};
          }
        }
        if (i < n) {
          if constexpr (has_field_hook<T>) {
            bool handled = false;
            PHRONY_CHECK(schema<T>::read_field(out, i, before, seen, fv, fp, ctx, handled));
            if (handled) {
              return {};
            }
          }
          return table::readers[i](out, fv, fp, ctx);
        }
        if constexpr (has_extra<T>) {
          if (out.extra.capacity() == 0) {
            out.extra.reserve(4); // rather than growing 1, 2, 4 when a body has a few extras
          }
          auto& slot = next_slot(out.extra, extras);
          assign_string(slot.first, k);
          return read_value(fv, fp, ctx, slot.second);
        } else {
          return validate_value(fv, fp);
        }
      },
      expected));
  if ((seen & table::required) != table::required) {
    PHRONY_CHECK(check_required<T>(seen, p));
  }
  if constexpr (has_extra<T>) {
    keep_first(out.extra, extras);
  }
  // Fields the body left out keep their defaults, also in a reused value (before finish, which
  // may tell an absent field by its default).
  if ((seen & table::all) != table::all) {
    reset_unseen(out, seen, std::make_index_sequence<n>{});
  }
  if constexpr (has_finish<T>) {
    PHRONY_CHECK(schema<T>::finish(out, p, ctx));
  }
  if constexpr (has_field_hook<T>) {
    PHRONY_CHECK(schema<T>::finish_fields(out, seen, p, ctx));
  }
  return {};
}

// ---- whole documents --------------------------------------------------------------------------

/// After a body larger than this, the thread's parse buffers (which grow to the largest body
/// parsed) are released, so one huge body does not keep its memory for the thread's lifetime.
/// Not lower: the next body allocates them again, which costs a 10 MB conversation about 12%.
inline constexpr std::size_t release_threshold = std::size_t{16} << 20;

/// The per-thread simdjson parser and padded copy buffer behind the string_view entry points.
struct thread_parser {
  od::parser parser;
  std::string buffer;
};

[[nodiscard]] inline thread_parser& local_parser() {
  thread_local thread_parser tp;
  return tp;
}

/// A second parser and its buffers, for text set aside while the thread's main parser is busy
/// with the whole body: a content that came before its item's "type", or one kept verbatim
/// because it could not be typed. Items never nest, so one per thread will do.
struct deferred_content {
  std::string raw;
  od::parser parser;
  std::string padded;
};

[[nodiscard]] inline deferred_content& local_deferred_content() {
  thread_local deferred_content s;
  return s;
}

/// Frees `s` (a std::string) when its capacity is over release_threshold, or always.
inline void release_string(std::string& s, bool always) {
  if (always || s.capacity() > release_threshold) {
    std::string().swap(s);
  }
}
/// Replaces `p` with a fresh parser (no buffers) when its capacity is over release_threshold,
/// or always.
inline void release_parser(od::parser& p, bool always) {
  if (always || p.capacity() > release_threshold) {
    p = od::parser{};
  }
}
inline void release_buffers(thread_parser& tp, bool always) {
  release_parser(tp.parser, always);
  release_string(tp.buffer, always);
}
inline void release_buffers(deferred_content& s, bool always) {
  release_parser(s.parser, always);
  release_string(s.padded, always);
  release_string(s.raw, always);
}

#if PHRONY_WITH_IMPL
PHRONY_DECL thread_buffer_sizes thread_buffers() {
  const auto& tp = local_parser();
  const auto& s = local_deferred_content();
  return {tp.parser.capacity(), tp.buffer.capacity(), s.parser.capacity(),
          s.raw.capacity() + s.padded.capacity()};
}
#endif

/// Copies `text` into `buffer` with room for simdjson's padding after it (simdjson reads a
/// little past the end) and views the copy.
[[nodiscard]] inline simdjson::padded_string_view padded_copy(std::string& buffer,
                                                              std::string_view text) {
  buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(text);
  return simdjson::padded_string_view(buffer.data(), text.size(), buffer.capacity());
}

/// True when a document whose root is a scalar (`body`) is one well-formed JSON scalar.
[[nodiscard]] inline bool scalar_document_is_valid(od::document& doc, std::string_view body) {
  od::json_type t{};
  if (doc.type().get(t)) {
    return false;
  }
  bool ok = false;
  switch (t) {
  // The literals are compared as text: simdjson 3.0.1's document::is_null() rejects "null"
  // followed by whitespace, and get_bool() "false" followed by two or more whitespace bytes.
  case od::json_type::null: return trim_json_space(body) == "null";
  case od::json_type::boolean: {
    const auto literal = trim_json_space(body);
    return literal == "true" || literal == "false";
  }
  case od::json_type::string: ok = doc.get_string().error() == simdjson::SUCCESS; break;
  case od::json_type::number: {
    double d = 0;
    ok = read_any_number(doc, d) == simdjson::SUCCESS;
    break;
  }
  default: break;
  }
  const char* trailing = nullptr;
  return ok && doc.current_location().get(trailing) != simdjson::SUCCESS;
}

/// Types whose body may be empty in a 2xx answer (a small acknowledgement): in tolerant mode an
/// empty or all-whitespace body reads as a default-constructed value.
template <class T> inline constexpr bool accepts_empty_body = false;

/// parse_padded_into without the release of oversized buffers.
template <class T>
[[nodiscard]] maybe_error parse_document_into(od::parser& parser, simdjson::padded_string_view body,
                                              T& out, parse_options opts) {
  const path root;
  const auto empty_accepted = [&] {
    if constexpr (accepts_empty_body<T>) {
      if (!opts.strict && trim_json_space(std::string_view(body.data(), body.size())).empty()) {
        out = T{};
        return true;
      }
    }
    return false;
  };
  od::document doc;
  if (auto ec = parser.iterate(body).get(doc)) {
    if (empty_accepted()) {
      return {};
    }
    return json_error(ec, root, "a JSON document");
  }
  od::value v;
  if (auto ec = doc.get_value().get(v)) {
    if (empty_accepted()) {
      return {};
    }
    if (ec == simdjson::SCALAR_DOCUMENT_AS_VALUE &&
        scalar_document_is_valid(doc, std::string_view(body.data(), body.size()))) {
      return error_at(errc::wrong_type, root, "expected object");
    }
    return error_at(errc::invalid_json, root, "not a JSON document");
  }
  // An object or array document ends in '}' or ']'. One whose last token is a number or a literal
  // was cut short (or has bytes after it), and simdjson would read that token against whatever
  // byte follows the document in memory (a stream chunk's next line, a reused buffer's old
  // contents), so the error would depend on it: it is reported here, the same every time.
  if (const std::string_view text = trim_json_space(std::string_view(body.data(), body.size()));
      !text.empty() && std::string_view("}]\":,{[").find(text.back()) == std::string_view::npos) {
    return error_at(errc::invalid_json, root, "unterminated JSON document");
  }
  read_context ctx{body.data() + body.size(), opts.strict};
  const text_arena_scope texts;
  if (read_value(v, root, ctx, out)) {
    return take_failure();
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return error_at(errc::invalid_json, root, "trailing content after the JSON value");
  }
  return {};
}

/// Parses a whole body whose root must be a T into `out`, which may be a reused value (its
/// strings keep their capacity); on failure `out` is left half-read. After a body over
/// release_threshold the thread's buffers are released.
template <class T>
[[nodiscard]] maybe_error parse_padded_into(simdjson::padded_string_view body, T& out,
                                            parse_options opts = {}) {
  auto& tp = local_parser();
  auto e = parse_document_into(tp.parser, body, out, opts);
  release_buffers(tp, false);
  return e;
}

template <class T>
maybe_error parse_text_into(const char* data, std::size_t size, std::size_t capacity, T& out,
                            parse_options opts) {
  if (capacity >= size && capacity - size >= simdjson::SIMDJSON_PADDING) {
    return parse_padded_into(simdjson::padded_string_view(data, size, capacity), out, opts);
  }
  return parse_padded_into(padded_copy(local_parser().buffer, std::string_view(data, size)), out,
                           opts);
}

// ---- canonical writing ------------------------------------------------------------------------

/// Writes the members of `t` (no braces): documented fields in schema order, then extras.
template <has_schema T> void write_members(json_writer& w, const T& t) {
  std::apply(
      [&](const auto&... f) {
        (
            [&] {
              const auto& m = t.*(f.member);
              using M = std::remove_cvref_t<decltype(m)>;
              if constexpr (is_optional_v<M>) {
                // An absent optional field stays absent; a required one is written as null.
                if (!m && !f.required) {
                  return;
                }
              }
              w.key(f.name);
              write_value(w, m);
            }(),
            ...);
      },
      schema<T>::fields);
  if constexpr (has_extra<T>) {
    for (const auto& [k, v] : t.extra) {
      w.key(k);
      w.raw(v);
    }
  }
}

template <has_schema T> struct codec<T> {
  static read_status read(od::value& v, const path& p, read_context& ctx, T& out) {
    return read_object(v, p, ctx, out);
  }
  static void write(json_writer& w, const T& t) {
    w.begin_object();
    write_members(w, t);
    w.end_object();
  }
};

/// Canonical JSON of any value type with a codec.
template <class T> std::string to_json_text(const T& t) {
  json_writer w;
  write_value(w, t);
  return std::move(w).take().value_or(std::string{});
}

} // namespace phrony::detail

#if PHRONY_WITH_IMPL
PHRONY_DECL void phrony::release_thread_buffers() {
  detail::release_buffers(detail::local_parser(), true);
  detail::release_buffers(detail::local_deferred_content(), true);
  detail::local_text_arena().release();
}
#endif
