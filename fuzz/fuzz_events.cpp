// Fuzzes event_stream_decoder on raw /stream bytes. Invariants: each good event survives
// parse -> to_json -> parse unchanged; a bad payload is an error with a message and decoding goes
// on; the events (good or bad) are the same fed whole, byte by byte and in pieces derived from a
// hash of the input, and the same as sse_decoder followed by parse_stream_event.
#include <phrony/events.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;

// One event as compared: canonical JSON when good, else "error <code> <path>".
std::string describe(const phrony::result<phrony::stream_event>& r) {
  if (!r) {
    return "error " + std::string(phrony::to_string(r.error().code)) + " " + r.error().path;
  }
  return phrony::to_json(*r);
}

std::vector<std::string> decode(const std::vector<std::string_view>& pieces,
                                phrony::sse_limits limits) {
  phrony::event_stream_decoder d(limits);
  std::vector<std::string> out;
  for (const auto piece : pieces) {
    const auto fed = d.feed(piece, [&](const phrony::result<phrony::stream_event>& r) {
      if (r) {
        phrony_fuzz::round_trip(phrony::to_json(*r), phrony::parse_stream_event);
        const auto again = phrony::parse_stream_event(phrony::to_json(*r));
        check(again && *again == *r, "a decoded event survives to_json -> parse");
      } else {
        check(!r.error().message.empty(), "an event error has a message");
      }
      out.push_back(describe(r));
    });
    check(fed.has_value(), "limits as large as the input hold");
  }
  check(d.finish().has_value(), "finish succeeds");
  return out;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  // The default limits, with max_line raised to the input's size (only non-data lines need it).
  phrony::sse_limits limits;
  limits.max_line = std::max(limits.max_line, input.size());
  const auto whole = decode({input}, limits);

  std::vector<std::string> layered;
  phrony::sse_decoder sse(limits);
  (void)sse.feed(input, [&](const phrony::sse_event& e) {
    layered.push_back(describe(phrony::parse_stream_event(e.data)));
  });
  check(layered == whole, "event_stream_decoder == sse_decoder + parse_stream_event");

  if (input.size() <= 4096) { // big inputs: the random pieces below suffice, and stay fast
    std::vector<std::string_view> bytewise;
    for (std::size_t i = 0; i < input.size(); ++i) {
      bytewise.push_back(input.substr(i, 1));
    }
    check(decode(bytewise, limits) == whole, "byte by byte == whole");
  }

  std::uint64_t h = fnv1a(input);
  std::vector<std::string_view> pieces;
  for (std::size_t at = 0; at < input.size();) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t n = (h >> 33) % 64;
    pieces.push_back(input.substr(at, n));
    at += n;
  }
  check(decode(pieces, limits) == whole, "random pieces == whole");
  return 0;
}
