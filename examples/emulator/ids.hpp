// phrony-emulator: deterministic UUIDs and ISO-8601 timestamps.
//
// Ids come from a counter, not a random source, so two emulator processes with the same --seed
// fed the same requests hand out the same sessionId, runId, userTaskId ...: tests and demos are
// reproducible. Another seed gives other ids (no --seed is --seed 0).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace emu {

/// A well-mixed 64-bit value from `x` (splitmix64's finaliser).
[[nodiscard]] inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A version-4-shaped UUID built from `n` (RFC 9562 layout, so strict validators accept it).
[[nodiscard]] inline std::string uuid_from(std::uint64_t n) {
  const std::uint64_t hi = mix64(n * 2 + 1);
  const std::uint64_t lo = mix64(n * 2 + 2);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      out += hex[(v >> (i * 4)) & 15];
    }
  };
  put(hi >> 32, 8);
  out += '-';
  put((hi >> 16) & 0xffff, 4);
  out += '-';
  put(0x4000 | (hi & 0x0fff), 4);
  out += '-';
  put(0x8000 | ((lo >> 48) & 0x3fff), 4);
  out += '-';
  put(lo & 0xffffffffffffULL, 12);
  return out;
}

/// A UUID derived from a name (FNV-1a), for scenario ids the file leaves out.
[[nodiscard]] inline std::string derived_uuid(std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h = (h ^ c) * 0x100000001b3ULL;
  }
  return uuid_from(h);
}

/// Hands out the emulator's ids in order; the caller serialises access (world::mu).
class id_source {
public:
  /// Seed 0 starts the counter at 1, as before --seed existed; another seed starts it at a
  /// well-mixed 64-bit offset, so two seeds' id sequences never meet in practice.
  explicit id_source(std::uint64_t seed = 0) noexcept
      : counter_(seed == 0 ? 1 : mix64(seed ^ 0x7068726f6e79ULL)) {}

  [[nodiscard]] std::string next() { return uuid_from(counter_++); }
  /// `prefix` plus 24 letters and digits, the shape of OpenAI-style tool call ids.
  [[nodiscard]] std::string next_token(std::string_view prefix) {
    static constexpr char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::uint64_t v = mix64(counter_++ ^ 0x5bd1e995ULL);
    std::string out(prefix);
    for (int i = 0; i < 24; ++i) {
      if (i == 12) {
        v = mix64(v);
      }
      out += alnum[v % 62];
      v /= 62;
    }
    return out;
  }

private:
  std::uint64_t counter_;
};

/// Now as ISO-8601 UTC with milliseconds, as the service writes timestamps.
[[nodiscard]] inline std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
}

} // namespace emu
