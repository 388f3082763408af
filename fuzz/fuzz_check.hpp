// Invariant checks shared by the fuzz targets: a failed check aborts, so libFuzzer reports it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include <phrony/detail/parse.hpp> // parse_options

namespace phrony_fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

/// In one parse mode: parse(body) either fails, or its canonical JSON parses back to an equal
/// value. Parsed into the value the previous input left (parse(body, value)), it gives the same
/// value or error.
template <class Parse> void round_trip_in(std::string_view body, Parse parse, bool strict) {
  const phrony::parse_options opts{.strict = strict};
  const auto first = parse(body, opts);
  using value_type = std::remove_cvref_t<decltype(*first)>;
  static value_type reused[2]{}; // one per mode, so each sees the previous input of its mode
  auto& into_value = reused[strict ? 1 : 0];
  const auto into = parse(body, into_value, opts);
  check(into.has_value() == first.has_value(), "parsing into a used value succeeds alike");
  if (!first) {
    check(!first.error().message.empty(), "an error has a message");
    check(into.error().code == first.error().code && into.error().path == first.error().path,
          "parsing into a used value fails alike");
    return;
  }
  check(into_value == *first, "parsing into a used value gives the fresh value");
  const auto text = to_json(*first);
  const auto again = parse(text, opts);
  check(again.has_value(), "canonical JSON parses");
  check(*again == *first, "parse -> to_json -> parse gives an equal value");
  check(to_json(*again) == text, "canonical JSON is a fixed point");
}

/// round_trip_in for both modes, and strict parsing accepts no more than tolerant parsing: a
/// strict success is a tolerant success with an equal value.
template <class Parse> void round_trip(std::string_view body, Parse parse) {
  round_trip_in(body, parse, false);
  round_trip_in(body, parse, true);
  const auto strict = parse(body, phrony::parse_options{.strict = true});
  if (strict) {
    const auto tolerant = parse(body);
    check(tolerant.has_value(), "a strict success is a tolerant success");
    check(*tolerant == *strict, "strict and tolerant parsing agree where both succeed");
  }
}

} // namespace phrony_fuzz
