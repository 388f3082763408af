// Fuzzes parse_conversation in strict and tolerant mode: no crash; parse -> to_json -> parse is
// the identity; a strict success is a tolerant success with an equal value; the padded overload
// gives the same result as the string_view one; an item with a content_error holds its content
// verbatim and names a path inside that content; pending_user_tasks() copes with any parsed
// conversation and names only tasks of runs the conversation lists; sort_by_ordinal sorts.
#include <phrony/conversation.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using phrony_fuzz::check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  phrony_fuzz::round_trip(body, phrony::parse_conversation);

  const simdjson::padded_string padded(body);
  for (const bool strict : {true, false}) {
    const phrony::parse_options opts{.strict = strict};
    const auto plain = phrony::parse_conversation(body, opts);
    const auto from_padded = phrony::parse_conversation(padded, opts);
    check(plain.has_value() == from_padded.has_value(), "padded and plain parses agree");
    if (!plain) {
      check(plain.error().code == from_padded.error().code &&
                plain.error().path == from_padded.error().path,
            "padded and plain parses fail alike");
    } else {
      check(*plain == *from_padded, "padded and plain parses give equal values");
    }
  }
  const auto plain = phrony::parse_conversation(body);
  if (!plain) {
    return 0;
  }
  for (std::size_t i = 0; i < plain->items.size(); ++i) {
    const auto& item = plain->items[i];
    if (!item.content_error) {
      continue;
    }
    check(item.content_as<phrony::unknown_content>() != nullptr &&
              item.kind() != phrony::item_type::unknown,
          "a kept content is verbatim, of a known type");
    const std::string prefix = "/items/" + std::to_string(i) + "/content";
    check(item.content_error->path.compare(0, prefix.size(), prefix) == 0,
          "a kept content's error names a path inside it");
  }
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
