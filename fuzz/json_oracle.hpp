// The independent oracle of the fuzz targets: nlohmann::json decides whether a body is JSON at
// all, and phrony's errc::invalid_json must agree with it, but for the documented differences
// (fuzz/README.md, "The JSON oracle"). Built in when PHRONY_FUZZ_ORACLE is 1 (fuzz/CMakeLists.txt
// defines it when CMake finds nlohmann_json); otherwise agree_with_oracle checks nothing. Defined
// in json_oracle.cpp, compiled once and linked into every target: nlohmann/json.hpp is the costly
// part of a target's compile.
#pragma once

#include <string_view>

#include <phrony/error.hpp>

#if !defined(PHRONY_FUZZ_ORACLE)
#define PHRONY_FUZZ_ORACLE 0
#endif

namespace phrony_fuzz {

/// What a parse being judged allows beyond plain JSON (the documented differences that depend
/// on the endpoint, not on the bytes).
struct oracle_rules {
  /// Tolerant parse_accept reads an empty or all-whitespace body as an empty acknowledgement.
  bool empty_body_ok = false;
  /// parse_conversation refuses a timeline item with two "type" keys (invalid_json "duplicate
  /// key"): the first may already have typed the content.
  bool duplicate_item_type_refused = false;
};

#if PHRONY_FUZZ_ORACLE

/// Checks a parse's verdict on `body` (`err`: its error, nullptr on success) against
/// nlohmann::json's, allowing exactly the documented differences (json_oracle.cpp).
void agree_with_oracle(std::string_view body, const phrony::error* err, oracle_rules rules = {});

#else

inline void agree_with_oracle(std::string_view, const phrony::error*, oracle_rules = {}) {}

#endif

/// agree_with_oracle for a result.
template <class R>
void agree_with_oracle_on(std::string_view body, const R& r, oracle_rules rules = {}) {
  agree_with_oracle(body, r.has_value() ? nullptr : &r.error(), rules);
}

} // namespace phrony_fuzz
