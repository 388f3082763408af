// Fuzzes parse_error_body on raw bytes with the error-body checks of checks.hpp (also as a
// Retry-After value): round trip, strict vs tolerant, the JSON oracle and the endpoint's own
// invariants (see fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::check_error_body(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
