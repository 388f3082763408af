// Helpers for decoder tests: decode one input under many chunkings and require one outcome.
#pragma once

#include <phrony/sse.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace phrony_test {

/// An event as the tests compare it (owned copies of the decoder's views).
struct sse_ev {
  std::string type;
  std::string data;
  std::string id;
  friend bool operator==(const sse_ev&, const sse_ev&) = default;
};

/// Everything a decoding run shows: the events, the final reconnection state, the first error.
struct sse_outcome {
  std::vector<sse_ev> events;
  std::string last_event_id;
  std::optional<std::int64_t> retry_ms;
  std::optional<phrony::errc> error;
  friend bool operator==(const sse_outcome&, const sse_outcome&) = default;
};

inline void print_escaped(std::ostream& os, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  os << '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      os << "\\n";
    } else if (c == '\r') {
      os << "\\r";
    } else if (c == '"' || c == '\\') {
      os << '\\' << ch;
    } else if (c < 0x20 || c >= 0x7f) {
      os << "\\x" << hex[c >> 4] << hex[c & 15];
    } else {
      os << ch;
    }
  }
  os << '"';
}

inline std::ostream& operator<<(std::ostream& os, const sse_outcome& o) {
  os << "{events: [";
  for (const auto& e : o.events) {
    os << "\n  {type: ";
    print_escaped(os, e.type);
    os << ", data: ";
    print_escaped(os, e.data);
    os << ", id: ";
    print_escaped(os, e.id);
    os << "}";
  }
  os << "], last_event_id: ";
  print_escaped(os, o.last_event_id);
  os << ", retry: " << (o.retry_ms ? std::to_string(*o.retry_ms) : "none")
     << ", error: " << (o.error ? phrony::to_string(*o.error) : "none") << "}";
  return os;
}

/// Feeds `pieces` in order, then finishes. With cancel_each, on_event asks to stop every time and
/// the unconsumed rest of the piece is fed again: the decoder must resume exactly where it stopped.
inline sse_outcome decode_pieces(const std::vector<std::string_view>& pieces,
                                 phrony::sse_limits limits = {}, bool cancel_each = false) {
  phrony::sse_decoder d(limits);
  sse_outcome out;
  const auto on_event = [&](const phrony::sse_event& e) {
    out.events.push_back({std::string(e.type), std::string(e.data), std::string(e.last_event_id)});
    return !cancel_each;
  };
  for (std::string_view piece : pieces) {
    auto r = d.feed(piece, on_event);
    while (!r && cancel_each && r.error().code == phrony::errc::cancelled) {
      REQUIRE(d.consumed() <= piece.size());
      piece.remove_prefix(d.consumed());
      r = d.feed(piece, on_event);
    }
    if (!r) {
      out.error = r.error().code;
      break;
    }
  }
  if (out.error) {
    // A limit breach sticks until finish(): nothing more is decoded.
    const std::size_t before = out.events.size();
    const auto again = d.feed("data: more\n\n", on_event);
    CHECK_FALSE(again.has_value());
    CHECK(out.events.size() == before);
    const auto f = d.finish();
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().code == *out.error);
  } else if (auto f = d.finish(); !f) {
    out.error = f.error().code;
  }
  out.last_event_id = std::string(d.last_event_id());
  if (d.retry()) {
    out.retry_ms = d.retry()->count();
  }
  return out;
}

/// `input` cut at the sorted `offsets`.
inline std::vector<std::string_view> split_at(std::string_view input,
                                              std::vector<std::size_t> offsets) {
  std::sort(offsets.begin(), offsets.end());
  std::vector<std::string_view> pieces;
  std::size_t from = 0;
  for (const std::size_t at : offsets) {
    pieces.push_back(input.substr(from, at - from));
    from = at;
  }
  pieces.push_back(input.substr(from));
  return pieces;
}

/// `input` in pieces of `size` bytes (the last one shorter).
inline std::vector<std::string_view> split_every(std::string_view input, std::size_t size) {
  std::vector<std::string_view> pieces;
  for (std::size_t at = 0; at < input.size(); at += size) {
    pieces.push_back(input.substr(at, size));
  }
  return pieces;
}

namespace detail {
/// Compares one chunking's outcome with the whole-input one; false on the first mismatch so a
/// broken rule reports once, not once per offset.
inline bool same(const sse_outcome& whole, const sse_outcome& got, const std::string& how) {
  if (got == whole) {
    return true;
  }
  INFO("chunking: " << how);
  CHECK(got == whole);
  return false;
}
} // namespace detail

/// Decodes `input` whole, byte by byte, split in two at every offset, in three pieces at every
/// pair of offsets (short inputs) or at a spread of pairs, and cancelling after every event;
/// requires the same outcome from each and returns it.
inline sse_outcome decode_every_way(std::string_view input, phrony::sse_limits limits = {}) {
  const sse_outcome whole = decode_pieces({input}, limits);
  if (!detail::same(whole, decode_pieces(split_every(input, 1), limits), "byte by byte")) {
    return whole;
  }
  if (!detail::same(whole, decode_pieces({input}, limits, true), "whole, cancel each event") ||
      !detail::same(whole, decode_pieces(split_every(input, 1), limits, true),
                    "byte by byte, cancel each event")) {
    return whole;
  }
  const std::size_t n = input.size();
  for (std::size_t i = 0; i <= n; ++i) {
    if (!detail::same(whole, decode_pieces(split_at(input, {i}), limits),
                      "two pieces at " + std::to_string(i))) {
      return whole;
    }
  }
  std::vector<std::size_t> cuts;
  if (n <= 48) {
    for (std::size_t i = 0; i <= n; ++i) {
      cuts.push_back(i);
    }
  } else {
    for (const std::size_t k : {1u, 2u, 3u, 5u, 7u, 11u}) {
      cuts.push_back(n * k / 13);
    }
  }
  for (const std::size_t i : cuts) {
    for (const std::size_t j : cuts) {
      if (j > i &&
          !detail::same(whole, decode_pieces(split_at(input, {i, j}), limits),
                        "three pieces at " + std::to_string(i) + ", " + std::to_string(j))) {
        return whole;
      }
    }
  }
  return whole;
}

/// For large inputs: whole, fixed piece sizes from 1 byte to 16 KiB, seeded random three-piece
/// cuts, and cancelling after every event; requires the same outcome and returns it.
inline sse_outcome decode_many_ways(std::string_view input, phrony::sse_limits limits = {}) {
  const sse_outcome whole = decode_pieces({input}, limits);
  for (const std::size_t size : {1u, 2u, 3u, 7u, 64u, 1000u, 4093u, 16384u}) {
    if (!detail::same(whole, decode_pieces(split_every(input, size), limits),
                      "pieces of " + std::to_string(size))) {
      return whole;
    }
  }
  if (!detail::same(whole, decode_pieces({input}, limits, true), "whole, cancel each event")) {
    return whole;
  }
  std::mt19937_64 rng(20240531);
  std::uniform_int_distribution<std::size_t> at(0, input.size());
  for (int round = 0; round < 64; ++round) {
    const std::size_t i = at(rng);
    const std::size_t j = at(rng);
    if (!detail::same(whole, decode_pieces(split_at(input, {i, j}), limits),
                      "three pieces at " + std::to_string(i) + ", " + std::to_string(j))) {
      return whole;
    }
  }
  return whole;
}

} // namespace phrony_test
