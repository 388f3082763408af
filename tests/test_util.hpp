// Helpers shared by the unit tests: fixture loading and truncation sweeps.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace phrony_test {

/// Reads a whole file; throws when it cannot be opened (a missing fixture must fail the test).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A committed sample body from tests/fixtures/.
inline std::string fixture(std::string_view name) {
  return read_file(std::string(PHRONY_FIXTURES_DIR) + "/" + std::string(name));
}

/// A body generated at configure time by tests/fixtures/gen.py (see tests/CMakeLists.txt).
inline std::string generated(std::string_view name) {
  return read_file(std::string(PHRONY_GENERATED_DIR) + "/" + std::string(name));
}

} // namespace phrony_test
