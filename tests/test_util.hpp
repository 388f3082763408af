// Helpers shared by the unit tests: fixture loading and truncation sweeps.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// A JSON object as (key, JSON text) pairs, so a test can drop or replace one member.
using members = std::vector<std::pair<std::string, std::string>>;

/// The object's JSON text, members in order.
inline std::string object_text(const members& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) {
      out += ',';
    }
    out += '"' + k + "\":" + v;
  }
  return out + '}';
}

/// `m` without the member `key`.
inline members without(members m, std::string_view key) {
  std::erase_if(m, [&](const auto& kv) { return kv.first == key; });
  return m;
}

/// `m` with the member `key` set to the JSON text `value`.
inline members with(members m, std::string_view key, std::string value) {
  for (auto& kv : m) {
    if (kv.first == key) {
      kv.second = std::move(value);
    }
  }
  return m;
}

} // namespace phrony_test
