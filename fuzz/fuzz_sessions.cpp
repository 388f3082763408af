// Fuzzes parse_sessions_page: no crash, and parse -> to_json -> parse is the identity.
#include <phrony/sessions.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::round_trip(std::string_view(reinterpret_cast<const char*>(data), size),
                          phrony::parse_sessions_page);
  return 0;
}
