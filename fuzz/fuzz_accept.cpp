// Fuzzes parse_accept on raw bytes with the accept checks of checks.hpp: round trip, strict vs
// tolerant, the JSON oracle and the endpoint's own invariants (see fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::check_accept(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
