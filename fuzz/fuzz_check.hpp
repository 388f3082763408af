// Invariant checks shared by the fuzz targets: a failed check aborts, so libFuzzer reports it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>

namespace phrony_fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

/// parse(body) either fails, or its canonical JSON parses back to an equal value. Parsed into
/// the value the previous input left (parse(body, value)), it gives the same value or error.
template <class Parse> void round_trip(std::string_view body, Parse parse) {
  const auto first = parse(body);
  using value_type = std::remove_cvref_t<decltype(*first)>;
  static value_type reused{};
  const auto into = parse(body, reused);
  check(into.has_value() == first.has_value(), "parsing into a used value succeeds alike");
  if (!first) {
    check(!first.error().message.empty(), "an error has a message");
    check(into.error().code == first.error().code && into.error().path == first.error().path,
          "parsing into a used value fails alike");
    return;
  }
  check(reused == *first, "parsing into a used value gives the fresh value");
  const auto text = to_json(*first);
  const auto again = parse(text);
  check(again.has_value(), "canonical JSON parses");
  check(*again == *first, "parse -> to_json -> parse gives an equal value");
  check(to_json(*again) == text, "canonical JSON is a fixed point");
}

} // namespace phrony_fuzz
