// Fuzzes sse_decoder. Invariants: (1) the same events, last event ID, retry and error whatever
// the chunking (chunkings are derived from a hash of the input, plus byte by byte, every two-piece
// split of short inputs, and cancelling after each event), under the default limits (max_line
// raised to the input's size) and under small limits derived from the input; (2) under the
// former the events equal those of a plain, non-incremental transcription of the WHATWG steps
// (decode, split lines, process fields); (3) dispatched text is valid UTF-8; (4) the ID resent
// on reconnect is header-safe and the reconnect delay is capped.
#include <phrony/sse.hpp>

#include <phrony/json_writer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;

struct ev {
  std::string type;
  std::string data;
  std::string id;
  friend bool operator==(const ev&, const ev&) = default;
};

// As tests/sse_testing.hpp's sse_outcome: everything a decoding run shows.
struct outcome {
  std::vector<ev> events;
  std::string last_event_id;
  std::optional<std::int64_t> retry_ms;
  std::optional<phrony::errc> error;
  friend bool operator==(const outcome&, const outcome&) = default;
};

outcome decode(const std::vector<std::string_view>& pieces, phrony::sse_limits limits,
               bool cancel_each = false) {
  phrony::sse_decoder d(limits);
  outcome out;
  const auto on_event = [&](const phrony::sse_event& e) {
    check(phrony::is_valid_utf8(e.type) && phrony::is_valid_utf8(e.data) &&
              phrony::is_valid_utf8(e.last_event_id),
          "dispatched text is valid UTF-8");
    out.events.push_back({std::string(e.type), std::string(e.data), std::string(e.last_event_id)});
    return !cancel_each;
  };
  for (std::string_view piece : pieces) {
    auto r = d.feed(piece, on_event);
    while (!r && cancel_each && r.error().code == phrony::errc::cancelled) {
      check(d.consumed() <= piece.size(), "consumed() within the piece");
      piece.remove_prefix(d.consumed());
      r = d.feed(piece, on_event);
    }
    if (!r) {
      check(r.error().code == phrony::errc::limit_exceeded, "feed fails only on a limit");
      out.error = r.error().code;
      const std::size_t before = out.events.size();
      check(!d.feed("data: more\n\n", on_event).has_value(), "a limit breach sticks");
      check(out.events.size() == before, "nothing dispatched after a limit breach");
      break;
    }
  }
  if (const auto id = phrony::reconnect_last_event_id(d)) {
    check(phrony::detail::is_sendable_last_event_id(*id), "a resent ID is header-safe");
  }
  check(phrony::reconnect_delay(d, std::chrono::seconds(1)) <= phrony::default_max_reconnect_delay,
        "the reconnect delay is capped");
  const auto f = d.finish();
  check(f.has_value() == !out.error.has_value(), "finish() reports the breach, and only it");
  out.last_event_id = std::string(d.last_event_id());
  if (d.retry()) {
    out.retry_ms = d.retry()->count();
  }
  return out;
}

// The WHATWG steps, transcribed without any incrementality: decode the whole stream (one leading
// BOM stripped), split it into lines, process each complete line.
outcome reference(std::string_view input) {
  std::string text;
  if (input.substr(0, 3) == "\xEF\xBB\xBF") {
    input.remove_prefix(3);
  }
  phrony::detail::append_utf8_replacing(input, text);
  outcome out;
  std::string data;
  std::string type;
  std::string id_buffer;
  std::size_t i = 0;
  while (true) {
    const std::size_t eol = text.find_first_of("\r\n", i);
    if (eol == std::string::npos) {
      break; // an unterminated last line is discarded
    }
    const std::string_view line = std::string_view(text).substr(i, eol - i);
    i = eol + 1;
    if (text[eol] == '\r' && i < text.size() && text[i] == '\n') {
      ++i;
    }
    if (line.empty()) {
      out.last_event_id = id_buffer;
      if (data.empty()) {
        type.clear();
        continue;
      }
      data.pop_back();
      out.events.push_back({type.empty() ? "message" : type, data, out.last_event_id});
      data.clear();
      type.clear();
      continue;
    }
    if (line[0] == ':') {
      continue;
    }
    std::string_view field = line;
    std::string_view value;
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') {
        value.remove_prefix(1);
      }
    }
    if (field == "event") {
      type = value;
    } else if (field == "data") {
      data += value;
      data += '\n';
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) {
        id_buffer = value;
      }
    } else if (field == "retry") {
      bool digits = !value.empty();
      for (const char c : value) {
        digits = digits && c >= '0' && c <= '9';
      }
      if (digits) {
        std::int64_t ms = 0;
        for (const char c : value) {
          const std::int64_t d = c - '0';
          ms = ms > (INT64_MAX - d) / 10 ? INT64_MAX : ms * 10 + d;
        }
        out.retry_ms = ms;
      }
    }
  }
  return out;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

std::uint64_t next(std::uint64_t& state) { // splitmix64
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<std::string_view> random_pieces(std::string_view input, std::uint64_t& rng,
                                            std::size_t max_piece) {
  std::vector<std::string_view> pieces;
  std::size_t at = 0;
  while (at < input.size()) {
    const std::size_t n = next(rng) % max_piece; // empty pieces too
    pieces.push_back(input.substr(at, n));
    at += n;
  }
  return pieces;
}

std::vector<std::string_view> every(std::string_view input, std::size_t size) {
  std::vector<std::string_view> pieces;
  for (std::size_t at = 0; at < input.size(); at += size) {
    pieces.push_back(input.substr(at, size));
  }
  return pieces;
}

// Inputs above this size get fewer chunkings, so the fuzzer spends its time on many small inputs.
constexpr std::size_t large = 4096;

void same_every_way(std::string_view input, phrony::sse_limits limits, const outcome& whole) {
  check(decode(every(input, 1), limits) == whole, "byte by byte == whole");
  check(decode({input}, limits, true) == whole, "cancel each event == whole");
  std::uint64_t rng = fnv1a(input);
  if (input.size() > large) {
    check(decode(random_pieces(input, rng, 300), limits) == whole, "random pieces == whole");
    return;
  }
  check(decode(every(input, 1), limits, true) == whole, "byte by byte, cancel each == whole");
  for (const std::size_t max_piece : {3u, 17u, 300u}) {
    check(decode(random_pieces(input, rng, max_piece), limits) == whole, "random pieces == whole");
  }
  if (input.size() <= 200) {
    for (std::size_t i = 0; i <= input.size(); ++i) {
      check(decode({input.substr(0, i), input.substr(i)}, limits) == whole, "two pieces == whole");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);

  // The default limits, unless a non-data line could be longer than their max_line: then one
  // as long as the input, so that the reference (which has no limits) still applies.
  phrony::sse_limits roomy;
  roomy.max_line = std::max(roomy.max_line, input.size());
  const outcome whole = decode({input}, roomy);
  check(!whole.error, "limits as large as the input hold");
  check(whole == reference(input), "incremental decoder == WHATWG transcription");
  same_every_way(input, roomy, whole);

  // Small limits make breaches reachable; a breach must not depend on the chunking either.
  const std::uint64_t h = fnv1a(input);
  const phrony::sse_limits small{1 + h % 97, 1 + (h >> 8) % 301};
  same_every_way(input, small, decode({input}, small));
  return 0;
}
