// Fuzzes parse_conversation: no crash; parse -> to_json -> parse is the identity; the padded
// overload gives the same result as the string_view one; pending_user_tasks() copes with any
// parsed conversation and names only tasks of runs the conversation lists; sort_by_ordinal sorts.
#include <phrony/conversation.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using phrony_fuzz::check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  phrony_fuzz::round_trip(body, phrony::parse_conversation);

  const auto plain = phrony::parse_conversation(body);
  const simdjson::padded_string padded(body);
  const auto from_padded = phrony::parse_conversation(padded);
  check(plain.has_value() == from_padded.has_value(), "padded and plain parses agree");
  if (!plain) {
    check(plain.error().code == from_padded.error().code &&
              plain.error().path == from_padded.error().path,
          "padded and plain parses fail alike");
    return 0;
  }
  check(*plain == *from_padded, "padded and plain parses give equal values");
  for (const auto& task : phrony::pending_user_tasks(*plain)) {
    check(std::any_of(plain->runs.begin(), plain->runs.end(),
                      [&](const auto& run) { return run.id == task.run_id; }),
          "a pending task belongs to a listed run");
  }
  auto sorted = *plain;
  sorted.sort_by_ordinal();
  check(std::is_sorted(sorted.items.begin(), sorted.items.end(),
                       [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; }) &&
            sorted.items.size() == plain->items.size(),
        "sort_by_ordinal sorts and keeps every item");
  return 0;
}
