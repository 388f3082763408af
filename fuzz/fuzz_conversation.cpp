// Fuzzes parse_conversation on raw bytes with the conversation checks of checks.hpp: round trip,
// strict vs tolerant, the JSON oracle and the endpoint's own invariants (see fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "conversation_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  phrony_fuzz::check_conversation(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
