// Fuzzes parse_run_status: no crash, and parse -> to_json -> parse is the identity.
#include <phrony/runs.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::round_trip(std::string_view(reinterpret_cast<const char*>(data), size),
                          phrony::parse_run_status);
  return 0;
}
