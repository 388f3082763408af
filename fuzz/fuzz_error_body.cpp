// Fuzzes parse_error_body: no crash, parse -> to_json -> parse is the identity, message_text()
// copes with whatever message holds, and the same bytes as a Retry-After value do not crash.
#include <phrony/http_error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  phrony_fuzz::round_trip(body, phrony::parse_error_body);
  if (const auto parsed = phrony::parse_error_body(body)) {
    const auto text = parsed->message_text();
    phrony_fuzz::check(text.has_value() == (parsed->message && !parsed->message->is_null()),
                       "a present, non-null message has a text");
  }
  // A fixed `now` keeps runs reproducible (it only matters for rfc850's two-digit years).
  (void)phrony::parse_retry_after(body, std::chrono::system_clock::time_point{});
  return 0;
}
