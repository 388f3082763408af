// Fuzzes parse_finalize: no crash, and parse -> to_json -> parse is the identity.
#include <phrony/files.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::round_trip(std::string_view(reinterpret_cast<const char*>(data), size),
                          phrony::parse_finalize);
  return 0;
}
