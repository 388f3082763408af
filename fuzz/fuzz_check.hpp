// Invariant checks shared by the fuzz targets: a failed check aborts, so libFuzzer reports it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace phrony_fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

/// parse(body) either fails, or its canonical JSON parses back to an equal value.
template <class Parse> void round_trip(std::string_view body, Parse parse) {
  const auto first = parse(body);
  if (!first) {
    check(!first.error().message.empty(), "an error has a message");
    return;
  }
  const auto text = to_json(*first);
  const auto again = parse(text);
  check(again.has_value(), "canonical JSON parses");
  check(*again == *first, "parse -> to_json -> parse gives an equal value");
  check(to_json(*again) == text, "canonical JSON is a fixed point");
}

} // namespace phrony_fuzz
