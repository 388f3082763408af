#include <phrony/sse.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sse_testing.hpp"
#include "test_util.hpp"

namespace sse_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::literals;
using phrony_test::decode_every_way;
using phrony_test::sse_ev;
using phrony_test::sse_outcome;

namespace {

/// Events in a generated stream, counted from its bytes: each payload's first line starts with
/// `data: {"ts":"` or `data:{"ts":"` (a payload's own strings would escape those quotes).
std::size_t payloads_in(std::string_view body) {
  std::size_t n = 0;
  for (const std::string_view start : {"data: {\"ts\":\""sv, "data:{\"ts\":\""sv}) {
    for (auto at = body.find(start); at != std::string_view::npos; at = body.find(start, at + 1)) {
      ++n;
    }
  }
  return n;
}

std::string escaped(std::string_view s) {
  std::ostringstream os;
  phrony_test::print_escaped(os, s);
  return os.str();
}

/// One input and everything it must produce, under every chunking.
struct row {
  std::string_view input;
  std::vector<sse_ev> want;
  std::string_view last_event_id = "";
  std::optional<std::int64_t> retry = std::nullopt;
};

void check_rows(const std::vector<row>& rows, sse_limits limits = {}) {
  for (const auto& r : rows) {
    const std::string input = escaped(r.input);
    CAPTURE(input);
    sse_outcome want;
    want.events = r.want;
    want.last_event_id = std::string(r.last_event_id);
    want.retry_ms = r.retry;
    CHECK(decode_every_way(r.input, limits) == want);
  }
}

sse_ev msg(std::string_view data, std::string_view id = "") {
  return {"message", std::string(data), std::string(id)};
}

} // namespace

// on_event may return void or something testable as bool; anything else does not compile.
template <class F>
concept feedable = requires(sse_decoder& d, F f) {
  d.feed(std::string_view{}, f);
};
static_assert(feedable<void (*)(const sse_event&)>);
static_assert(feedable<bool (*)(const sse_event&)>);
static_assert(feedable<bool (*)(sse_event)>);
static_assert(!feedable<void (*)(int)>);
static_assert(!feedable<void (*)(sse_event&)>);
static_assert(!feedable<int>);

TEST_CASE("data lines: one leading space is removed and lines are joined with LF") {
  check_rows({
      {"data: test\n\n"sv, {msg("test")}},
      {"data:test\n\n"sv, {msg("test")}},
      {"data:  test\n\n"sv, {msg(" test")}},
      {"data:test \n\n"sv, {msg("test ")}},
      {"data:\ttest\n\n"sv, {msg("\ttest")}},
      {"data: a:b: c\n\n"sv, {msg("a:b: c")}},
      {"data: YHOO\ndata: +2\ndata: 10\n\n"sv, {msg("YHOO\n+2\n10")}}, // WHATWG example
      {"data:test\n\ndata: test\n\n"sv, {msg("test"), msg("test")}},
      {"data: a\0b\n\n"sv, {msg("a\0b"sv)}},
      {"data: {\"k\": [1, 2]}\n\n"sv, {msg("{\"k\": [1, 2]}")}},
  });
}

TEST_CASE("an empty data field still dispatches; an empty data buffer does not") {
  check_rows({
      // WHATWG: the first block gives "", the middle one "\n", the unterminated last none.
      {"data\n\ndata\ndata\n\ndata:"sv, {msg(""), msg("\n")}},
      {"data:\n\n"sv, {msg("")}},
      {"data: \n\n"sv, {msg("")}},
      {"data:\ndata: x\n\n"sv, {msg("\nx")}},
      {"data: x\ndata\n\n"sv, {msg("x\n")}},
      {"\n\n\n"sv, {}},
      {"event: ping\n\n"sv, {}},
      {"retry: 10\n\n"sv, {}, "", 10},
      {"foo: bar\n\n"sv, {}},
  });
}

TEST_CASE("an unterminated last event is discarded at the end of the stream") {
  check_rows({
      {"data: a"sv, {}},
      {"data: a\n"sv, {}},
      {"data: a\r"sv, {}},
      {"data: a\n\ndata: b\n"sv, {msg("a")}},
      {"data: a\r\n\r\ndata: b\r\n"sv, {msg("a")}},
      {""sv, {}},
  });
}

TEST_CASE("CR, LF and CRLF all end lines, mixed freely") {
  check_rows({
      {"data: a\rdata: b\r\r"sv, {msg("a\nb")}},
      {"data: a\r\ndata: b\r\n\r\n"sv, {msg("a\nb")}},
      {"data: a\r\n\ndata: b\r\rdata: c\n\r\n"sv, {msg("a"), msg("b"), msg("c")}},
      {"data: a\n\rdata: b\r\n\n"sv, {msg("a"), msg("b")}},
      // CRLF is one line end, CR CR two, LF CR two.
      {"data: a\r\ndata: b\r\n\r\n"sv, {msg("a\nb")}},
      {"data: a\r\r\ndata: b\r\n\r\n"sv, {msg("a"), msg("b")}},
      {"data: a\n\r\n\rdata: b\n\n"sv, {msg("a"), msg("b")}},
      {"\r\n\r\n\r\rdata: x\r\r"sv, {msg("x")}},
      {"data: a\r\r\r\rdata: b\r\r"sv, {msg("a"), msg("b")}},
  });
}

TEST_CASE("one leading BOM is stripped; any other BOM is content") {
  check_rows({
      {"\xEF\xBB\xBF"
       "data: a\n\n"sv,
       {msg("a")}},
      {"\xEF\xBB\xBF"
       "\n"
       "data: a\n\n"sv,
       {msg("a")}},
      // A second BOM belongs to the first field name, "\uFEFFdata", which is unknown.
      {"\xEF\xBB\xBF\xEF\xBB\xBF"
       "data: a\n\n"sv,
       {}},
      {"\xEF\xBB\xBF"
       "data: \xEF\xBB\xBF"
       "a\n\n"sv,
       {msg("\xEF\xBB\xBF"
            "a")}},
      {"data: a\n\n\xEF\xBB\xBF"
       "data: b\n\n"sv,
       {msg("a")}},
      // A partial BOM is no BOM: it decodes as U+FFFD and spoils the field name.
      {"\xEF\xBB"
       "data: a\n\ndata: b\n\n"sv,
       {msg("b")}},
      {"\xEF"
       "data: a\n\ndata: b\n\n"sv,
       {msg("b")}},
      {"\xEF\xBB\n"
       "data: a\n\n"sv,
       {msg("a")}},
      {"\xEF\xBB\xBF"sv, {}},
      {"\xEF\xBB"sv, {}},
  });
}

TEST_CASE("comment lines are ignored wherever they appear") {
  check_rows({
      {": test stream\n\ndata: a\n\n"sv, {msg("a")}},
      {":\n\n"sv, {}},
      {"data: a\n: keepalive\ndata: b\n\n"sv, {msg("a\nb")}},
      {": data: x\n\n"sv, {}},
      {":data: a\n\n"sv, {}},
      {": x\r: y\r\n: z\ndata: a\r\r"sv, {msg("a")}},
  });
}

TEST_CASE("the field name is everything before the first colon, compared exactly") {
  check_rows({
      {"Data: a\n\n"sv, {}},
      {"DATA: a\n\n"sv, {}},
      {"data : a\n\n"sv, {}},
      {" data: a\n\n"sv, {}},
      {"dat: a\n\n"sv, {}},
      {"datas: a\n\n"sv, {}},
      {"foo: bar\ndata: a\nbaz\n\n"sv, {msg("a")}},
      {"retryx: 5\nidx: 1\neventx: e\ndata: a\n\n"sv, {msg("a")}},
      {"\xFF"
       "data: a\n\n"sv,
       {}},
  });
}

TEST_CASE("a field with no colon has an empty value") {
  check_rows({
      {"data\n\n"sv, {msg("")}},
      {"event: add\nevent\ndata: a\n\n"sv, {msg("a")}},
      {"id: 1\nid\ndata: a\n\n"sv, {msg("a", "")}},
      {"retry: 5\nretry\n"sv, {}, "", 5},
      {"unknown\ndata: a\n\n"sv, {msg("a")}},
  });
}

TEST_CASE("event sets the type of the next dispatch only, then resets to message") {
  check_rows({
      {"event: add\ndata: 1\n\ndata: 2\n\n"sv, {{"add", "1", ""}, msg("2")}},
      {"event: add\n\ndata: 2\n\n"sv, {msg("2")}},
      {"event: a\nevent: b\ndata: x\n\n"sv, {{"b", "x", ""}}},
      {"event:\ndata: x\n\n"sv, {msg("x")}},
      {"event: message\ndata: x\n\n"sv, {msg("x")}},
      {"data: x\nevent: late\n\n"sv, {{"late", "x", ""}}},
      {"event:  spaced \ndata: x\n\n"sv, {{" spaced ", "x", ""}}},
      {"event: a\n"sv, {}},
  });
}

TEST_CASE("id persists across events, counts without a dispatch, and is ignored with NUL") {
  check_rows({
      {"id: 1\ndata: a\n\ndata: b\n\n"sv, {msg("a", "1"), msg("b", "1")}, "1"},
      {"id: 1\n\ndata: b\n\n"sv, {msg("b", "1")}, "1"},
      {"id: 7\n\n"sv, {}, "7"},
      {"data: x\nid: 5\n\n"sv, {msg("x", "5")}, "5"},
      {"id: a\0b\ndata: x\n\n"sv, {msg("x")}, ""},
      {"id: 1\ndata: x\n\nid: 2\0\ndata: y\n\n"sv, {msg("x", "1"), msg("y", "1")}, "1"},
      {"id: 1\ndata: a\n\nid\ndata: b\n\n"sv, {msg("a", "1"), msg("b", "")}, ""},
      {"id: 1\ndata: a\n\nid:\n\n"sv, {msg("a", "1")}, ""},
      {"id:  1 \ndata: a\n\n"sv, {msg("a", " 1 ")}, " 1 "},
      {"id: 1\nid: 2\ndata: a\n\n"sv, {msg("a", "2")}, "2"},
      // WHATWG: the last event ID changes only when a block ends.
      {"id: 1\n\nid: 2\ndata: a\n"sv, {}, "1"},
      {"id: 7\n"sv, {}, ""},
      // WHATWG example: an id line with no value resets the ID.
      {": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
       "data:  third event\n\n"sv,
       {msg("first event", "1"), msg("second event", ""), msg(" third event", "")},
       ""},
  });
}

TEST_CASE("retry is taken only when it is all ASCII digits, at the end of its line") {
  constexpr std::int64_t most = std::numeric_limits<std::chrono::milliseconds::rep>::max();
  check_rows({
      {"retry: 1500\n"sv, {}, "", 1500},
      {"retry:1500\n"sv, {}, "", 1500},
      {"retry: 0\n"sv, {}, "", 0},
      {"retry: 007\n"sv, {}, "", 7},
      {"retry: 12a\n"sv, {}, "", std::nullopt},
      {"retry: -1\n"sv, {}, "", std::nullopt},
      {"retry: +1\n"sv, {}, "", std::nullopt},
      {"retry: 1.5\n"sv, {}, "", std::nullopt},
      {"retry:\n"sv, {}, "", std::nullopt},
      {"retry:  15\n"sv, {}, "", std::nullopt},
      {"retry: 15 \n"sv, {}, "", std::nullopt},
      {"retry: \xEF\xBC\x91\n"sv, {}, "", std::nullopt}, // FULLWIDTH DIGIT ONE
      {"retry: 1\nretry: x\n"sv, {}, "", 1},
      {"retry: 1\nretry: 2\n"sv, {}, "", 2},
      {"retry: 5"sv, {}, "", std::nullopt},
      {"retry: 99999999999999999999999\n"sv, {}, "", most},
      {"retry: 9223372036854775807\n"sv, {}, "", most},
      {"retry: 9223372036854775806\n"sv, {}, "", most - 1},
      {"retry: 3000\n\ndata: a\n\n"sv, {msg("a")}, "", 3000},
  });
}

TEST_CASE("invalid UTF-8 becomes U+FFFD, one per maximal subpart") {
  const std::string_view r = "\xEF\xBF\xBD";
  const auto rep = [&](int n, std::string_view tail = "") {
    std::string s;
    for (int i = 0; i < n; ++i) {
      s += r;
    }
    return s + std::string(tail);
  };
  check_rows({
      {"data: \xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9\n\n"sv,
       {msg("\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9")}},
      {"data: \xFF\n\n"sv, {msg(rep(1))}},
      {"data: \x80\x80\n\n"sv, {msg(rep(2))}},
      {"data: a\xE2\x82\n\n"sv, {msg("a" + rep(1))}},
      {"data: \xE2\x82z\n\n"sv, {msg(rep(1, "z"))}},
      {"data: \xF0\x9F\x98\n\n"sv, {msg(rep(1))}},
      {"data: \xF0\x9F\x98 \xF0\x9F\n\n"sv, {msg(rep(1, " ") + rep(1))}},
      {"data: \xC0\xAF\n\n"sv, {msg(rep(2))}},                            // overlong
      {"data: \xE0\x80\xAF\n\n"sv, {msg(rep(3))}},                        // overlong
      {"data: \xED\xA0\x80\n\n"sv, {msg(rep(3))}},                        // surrogate
      {"data: \xF4\x90\x80\x80\n\n"sv, {msg(rep(4))}},                    // above U+10FFFF
      {"data: \xF5\x80\n\n"sv, {msg(rep(2))}},                            // no such lead byte
      {"data: \xE2\x82\ndata: \xAC\n\n"sv, {msg(rep(1, "\n") + rep(1))}}, // LF ends a sequence
      {"data: \xE2\x82\xAC\xE2\n\n"sv, {msg("\xE2\x82\xAC" + rep(1))}},
      {"event: \xFF\ndata: x\n\n"sv, {{rep(1), "x", ""}}},
      {"id: \xFF\xFE\ndata: x\n\n"sv, {msg("x", rep(2))}, rep(2)},
  });
}

TEST_CASE("invalid UTF-8 deep in long lines and after ASCII events is replaced too") {
  // Ill-formed bytes deep in long lines (past the blocks a vectorised scan reads first), after an
  // ASCII line or event, and in a line that is not data.
  const std::string r = "\xEF\xBF\xBD";
  const std::string a(40, 'a');
  const std::string b(21, 'b');
  const std::string deep = "data: " + a + "\xFF" + b + "\n\n";
  const std::string second = "data: " + b + "\ndata: " + a + "\xC3\n\n";
  const std::string comment = ":" + a + "\xFF\ndata: " + b + "\n\n";
  const std::string two = "data: " + a + "\n\ndata: " + b + "\x80" + a + "\n\ndata: " + b + "\n\n";
  const std::string crlf = "data: " + a + "\r\ndata: \xE2\x82\xAC" + b + "\xE2\r\n\r\n";
  // The scan notes a line's first byte >= 0x80 and dispatch validates from there: a valid
  // sequence first and an ill-formed byte blocks later, or a truncated sequence at the very end.
  const std::string a130(130, 'a');
  const std::string b100(100, 'b');
  const std::string later = "data: " + a130 + "\xC3\xA9" + b100 + "\xFF\n\n";
  const std::string truncated = "data: " + a130 + a130 + "\xE2\x82\n\n";
  check_rows({
      {deep, {msg(a + r + b)}},
      {second, {msg(b + "\n" + a + r)}},
      {comment, {msg(b)}},
      {two, {msg(a), msg(b + r + a), msg(b)}},
      {crlf, {msg(a + "\n\xE2\x82\xAC" + b + r)}},
      {later, {msg(a130 + "\xC3\xA9" + b100 + r)}},
      {truncated, {msg(a130 + a130 + r)}},
  });
}

TEST_CASE("the line scan agrees with a byte loop at every length, offset and hit position") {
  // Lines are split by detail::scan_line, whichever path the build compiled (AVX2, SSE2, NEON or
  // the byte loop). Each input sits in an allocation of exactly its size, so a read past either
  // end shows under ASan.
  const auto reference = [](const char* p, const char* end) {
    const char* high = nullptr;
    for (; p != end && *p != '\r' && *p != '\n'; ++p) {
      if (high == nullptr && static_cast<unsigned char>(*p) >= 0x80) {
        high = p;
      }
    }
    return detail::line_scan{p, high != nullptr ? high : p};
  };
  constexpr std::size_t max_len = 140; // past two 64-byte blocks
  // Positions tried for the line end and the high byte: none (max_len), each of the first and
  // last bytes of a 16-, 32- and 64-byte block, and a few in between.
  const std::vector<std::size_t> spots = {0,  1,  15, 16, 31,  32,  33,  47,     63,
                                          64, 65, 95, 96, 127, 128, 139, max_len};
  // Two fillers: every ASCII value but CR and LF, including the compares' neighbours and the
  // other controls (which the block test lets through to the exact tests); and printable ASCII
  // only, whose blocks the block test skips.
  for (const bool controls : {true, false}) {
    for (std::size_t len = 0; len <= max_len; ++len) {
      for (const std::size_t eol_at : spots) {
        for (const std::size_t high_at : spots) {
          for (const char eol : {'\r', '\n'}) {
            const auto buf = std::make_unique<char[]>(len == 0 ? 1 : len);
            for (std::size_t i = 0; i < len; ++i) {
              const auto c = static_cast<char>(controls ? 1 + i * 7 % 127 : ' ' + i * 7 % 95);
              buf[i] = c == '\r' || c == '\n' ? 'x' : c;
            }
            if (high_at < len) {
              buf[high_at] = static_cast<char>(0x80 + high_at % 128);
            }
            if (eol_at < len) {
              buf[eol_at] = eol;
            }
            const char* const b = buf.get();
            const detail::line_scan got = detail::scan_line(b, b + len);
            const detail::line_scan want = reference(b, b + len);
            if (got.eol != want.eol || got.first_high != want.first_high) {
              CAPTURE(controls);
              CAPTURE(len);
              CAPTURE(eol_at);
              CAPTURE(high_at);
              CHECK(got.eol - b == want.eol - b);
              CHECK(got.first_high - b == want.first_high - b);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("line and event limits hold at the bound and fail one past it") {
  const sse_limits limits{10, 4};
  check_rows(
      {
          {"data: abcd\n\n"sv, {msg("abcd")}}, // data of 4
          {"data: ab\ndata:c\n\n"sv, {msg("ab\nc")}},
          {"data:\ndata:\ndata:\ndata:\ndata:\n\n"sv, {msg("\n\n\n\n")}},
          {": 34567890\nid: 456789\n\n"sv, {}, "456789"}, // lines of 10 bytes
          {"event: abc\n\n"sv, {}},
          {"retry: 123\n\n"sv, {}, "", 123},
      },
      limits);

  struct bad {
    std::string_view input;
    std::vector<sse_ev> before; // events dispatched before the breach
  };
  const bad rows[] = {
      {"event: abcd\n\n"sv, {}},       // a line of 11 bytes
      {"id: 1234567\n\n"sv, {}},       // the id of an event never dispatched
      {"retry: 1234\n\n"sv, {}},       //
      {"data:abcde\n\n"sv, {}},        // data of 5 bytes
      {": 345678901\n"sv, {}},         // comments count as lines too
      {"12345678901"sv, {}},           // detected before the line ends
      {"unknown:901"sv, {}},           // unknown fields too
      {"data: ab\ndata:cd\n\n"sv, {}}, // "ab\ncd"
      {"data:abcd\ndata\n\n"sv, {}},   // "abcd\n"
      {"data:\ndata:\ndata:\ndata:\ndata:\ndata:\n\n"sv, {}},
      {"data: a\n\ndata:abcde\n\n"sv, {msg("a")}},
      {"id: 1\ndata: a\n\nevent: 5678901\n"sv, {msg("a", "1")}},
  };
  for (const auto& r : rows) {
    const std::string input = escaped(r.input);
    CAPTURE(input);
    const sse_outcome got = decode_every_way(r.input, limits);
    CHECK(got.events == r.before);
    CHECK(got.error == errc::limit_exceeded);
  }
}

TEST_CASE("a data line may be as long as an event: max_line bounds the other lines only") {
  // Issue 9: a 1 MiB line limit silently capped one-line events (a large tool output) at 1 MiB.
  check_rows(
      {
          {"data: abcdefghij\n\n"sv, {msg("abcdefghij")}}, // a line of 16 bytes, data of 10
          {"data:abcdefghij\r\rdata\n\n"sv, {msg("abcdefghij"), msg("")}},
          {"data\n\n"sv, {msg("")}}, // "data" alone is a data line, longer than max_line or not
      },
      sse_limits{4, 10});
  check_rows({{"data\n\n"sv, {msg("")}}}, sse_limits{1, 10});

  struct bad {
    std::string_view input;
    sse_limits limits;
  };
  const bad rows[] = {
      {"data: abcdefghijk\n\n"sv, {4, 10}}, // data of 11 bytes
      {"dataa\n\n"sv, {4, 10}},             // not "data": a 5-byte line
      {"dat\n\n"sv, {2, 10}},               // a prefix of "data" is no data line either
      {"data :x\n\n"sv, {4, 10}},           // the name is "data ", not "data"
      {"event:abcd\n\n"sv, {4, 10}},        //
  };
  for (const auto& r : rows) {
    const std::string input = escaped(r.input);
    CAPTURE(input);
    const sse_outcome got = decode_every_way(r.input, r.limits);
    CHECK(got.events.empty());
    CHECK(got.error == errc::limit_exceeded);
  }
}

TEST_CASE("the defaults take a 2 MiB data line and a 16 MiB one, and no more") {
  const sse_limits d;
  CHECK(d.max_line == 64 * 1024);
  CHECK(d.max_event == 16 * 1024 * 1024);

  // One 2 MiB line of JSON-ish text (a tool output), ended by CRLF, then a second event.
  std::string payload;
  while (payload.size() < (std::size_t{2} << 20)) {
    payload += "{\"chunk\":" + std::to_string(payload.size()) + ",\"text\":\"lorem ipsum\"},";
  }
  const std::string two_mib = "id: 7\r\ndata: " + payload + "\r\n\r\ndata: next\n\n";
  const sse_outcome got = phrony_test::decode_many_ways(two_mib);
  CHECK_FALSE(got.error.has_value());
  REQUIRE(got.events.size() == 2);
  CHECK(got.events[0].data.size() == payload.size());
  CHECK(got.events[0].data == payload);
  CHECK(got.events[0].id == "7");
  CHECK(got.events[1] == msg("next", "7"));

  // One line of exactly max_event bytes of data, then one of a byte more.
  std::string line = "data:" + std::string(d.max_event, 'x') + "\n\n";
  for (const std::size_t piece : {line.size(), std::size_t{1} << 16, std::size_t{4093}}) {
    CAPTURE(piece);
    const auto ok = phrony_test::decode_pieces(phrony_test::split_every(line, piece));
    CHECK_FALSE(ok.error.has_value());
    REQUIRE(ok.events.size() == 1);
    CHECK(ok.events[0].data.size() == d.max_event);
  }
  line.insert(5, "x");
  for (const std::size_t piece : {line.size(), std::size_t{1} << 16, std::size_t{4093}}) {
    CAPTURE(piece);
    const auto over = phrony_test::decode_pieces(phrony_test::split_every(line, piece));
    CHECK(over.events.empty());
    CHECK(over.error == errc::limit_exceeded);
  }

  // Lines that are not data keep the 64 KiB bound: an endless comment ends the stream.
  const std::string comment = ":" + std::string(d.max_line - 1, 'c') + "\ndata: a\n\n";
  CHECK(phrony_test::decode_pieces(phrony_test::split_every(comment, 4096)).events ==
        std::vector<sse_ev>{msg("a")});
  const std::string endless = ":" + std::string(d.max_line, 'c');
  CHECK(phrony_test::decode_pieces(phrony_test::split_every(endless, 4096)).error ==
        errc::limit_exceeded);
}

TEST_CASE("a limit breach sticks until finish, which keeps the ID and retry for reconnecting") {
  sse_decoder d(sse_limits{16, 16});
  int events = 0;
  const auto count = [&](const sse_event&) { ++events; };
  REQUIRE(d.feed("retry: 250\nid: 9\ndata: a\n\ndata: 0123456789abcdefg\n", count).has_value() ==
          false);
  CHECK(events == 1);
  CHECK(d.feed("\n", count).error().code == errc::limit_exceeded);
  CHECK(d.consumed() == 0);
  const auto f = d.finish();
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().code == errc::limit_exceeded);
  CHECK(d.last_event_id() == "9");
  CHECK(reconnect_last_event_id(d) == "9");
  CHECK(reconnect_delay(d, std::chrono::seconds(3)) == std::chrono::milliseconds(250));

  // The next connection's stream starts clean (its BOM is stripped again).
  std::vector<sse_ev> seen;
  CHECK(d.feed("\xEF\xBB\xBF"
               "data: b\n\n",
               [&](const sse_event& e) {
                 seen.push_back(
                     {std::string(e.type), std::string(e.data), std::string(e.last_event_id)});
               })
            .has_value());
  CHECK(seen == std::vector<sse_ev>{msg("b", "9")});
  CHECK(d.finish().has_value());
}

TEST_CASE("finish drops a half-read event and its id; reset forgets everything") {
  sse_decoder d;
  std::vector<std::string> data;
  const auto on = [&](const sse_event& e) { data.emplace_back(e.data); };
  CHECK(d.feed("id: 1\nretry: 40\ndata: a\n\nid: 2\nevent: x\ndata: half", on).has_value());
  CHECK(d.finish().has_value());
  CHECK(d.last_event_id() == "1");
  CHECK(d.retry() == std::chrono::milliseconds(40));
  CHECK(d.feed("data: b\n\n", on).has_value());
  CHECK(data == std::vector<std::string>{"a", "b"});

  d.reset();
  CHECK(d.last_event_id().empty());
  CHECK_FALSE(d.retry().has_value());
  CHECK_FALSE(reconnect_last_event_id(d).has_value());
  CHECK(reconnect_delay(d, std::chrono::milliseconds(1234)) == std::chrono::milliseconds(1234));
}

TEST_CASE("reconnect_delay takes the stream's retry or the fallback, capped at max") {
  using ms = std::chrono::milliseconds;
  CHECK(default_max_reconnect_delay == std::chrono::seconds(30));
  struct row {
    std::string_view stream;
    ms fallback;
    std::optional<ms> max; // none: the default cap
    ms want;
  };
  const row rows[] = {
      {"", ms(2000), {}, ms(2000)},
      {"retry: 1500\n", ms(2000), {}, ms(1500)},
      {"retry: 0\n", ms(2000), {}, ms(0)},
      {"retry: 30000\n", ms(2000), {}, ms(30000)},
      {"retry: 30001\n", ms(2000), {}, ms(30000)},
      {"retry: 9999999999999\n", ms(2000), {}, ms(30000)}, // 317 years, as asked by issue 9
      {"retry: 99999999999999999999999999\n", ms(2000), {}, ms(30000)}, // saturated
      {"retry: 9999999999999\n", ms(2000), ms(120000), ms(120000)},
      {"retry: 1500\n", ms(2000), ms(1000), ms(1000)},
      {"", ms(3600000), {}, ms(30000)}, // the cap holds for the fallback too
      {"", ms(-5), {}, ms(0)},
  };
  for (const auto& r : rows) {
    CAPTURE(r.stream);
    CAPTURE(r.fallback.count());
    sse_decoder d;
    REQUIRE(d.feed(r.stream, [](const sse_event&) {}).has_value());
    CHECK((r.max ? reconnect_delay(d, r.fallback, *r.max) : reconnect_delay(d, r.fallback)) ==
          r.want);
  }
  // The decoder itself reports what the stream said (WHATWG); only the delay is capped.
  sse_decoder d;
  REQUIRE(d.feed("retry: 9999999999999\n", [](const sse_event&) {}).has_value());
  CHECK(d.retry() == ms(9999999999999));
}

TEST_CASE("an event ID with a control character or over 1 KiB is not sent back on reconnect") {
  // The decoder keeps such an ID (WHATWG only refuses NUL) but reconnect_last_event_id drops it:
  // a hostile server must neither inject header bytes nor make the reconnect fail.
  std::vector<std::string> bad;
  for (int c = 1; c < 0x20; ++c) {
    if (c != '\r' && c != '\n') {
      // Piece by piece: g++ 12 -O2 flags "a" + std::string(...) with a false -Wrestrict.
      std::string id = "a";
      id += static_cast<char>(c);
      id += 'b';
      bad.push_back(id);
    }
  }
  bad.push_back("a\x7F"
                "b");
  bad.push_back("\t7");
  bad.push_back(std::string(1025, '7'));
  for (const auto& id : bad) {
    const std::string input = escaped(id);
    CAPTURE(input);
    sse_decoder d;
    REQUIRE(d.feed("id: 1\n\nid: " + id + "\ndata: x\n\n", [](const sse_event&) {}).has_value());
    CHECK(d.last_event_id() == id);
    CHECK_FALSE(reconnect_last_event_id(d).has_value());
    // A later good ID is sent again.
    REQUIRE(d.feed("id: 2\n\n", [](const sse_event&) {}).has_value());
    CHECK(reconnect_last_event_id(d) == "2");
  }
  for (const std::string& good :
       {"1747206437497-2"s, "a b"s, "\xC3\xA9t\xC3\xA9"s, std::string(1024, '7')}) {
    sse_decoder d;
    REQUIRE(d.feed("id: " + good + "\n\n", [](const sse_event&) {}).has_value());
    CHECK(reconnect_last_event_id(d) == good);
  }
}

TEST_CASE("an event of one data line whole in a chunk is a view into that chunk") {
  // The decoder skips its copy when the data line and the blank line after it are both in the
  // chunk; everything else (more data lines, a chunk ending between them) goes through data_.
  const auto data_of = [](std::string_view chunk) {
    phrony::sse_decoder d;
    std::string_view seen;
    std::string copy;
    int events = 0;
    REQUIRE(d.feed(chunk, [&](const phrony::sse_event& e) {
               seen = e.data;
               copy = std::string(e.data);
               ++events;
             }).has_value());
    REQUIRE(events == 1);
    const bool in_chunk =
        seen.data() >= chunk.data() && seen.data() + seen.size() <= chunk.data() + chunk.size();
    return std::pair(copy, in_chunk);
  };
  for (const std::string_view chunk :
       {"data: {\"a\":1}\n\n"sv, "data:{\"a\":1}\r\n\r\n"sv, "data: {\"a\":1}\r\r"sv,
        "id: 7\nevent: step\ndata: {\"a\":1}\n\n"sv, "data: {\"a\":1}\n\rdata: x\n"sv}) {
    INFO(std::string(chunk));
    CHECK(data_of(chunk) == std::pair(std::string(R"({"a":1})"), true));
  }
  CHECK(data_of("data:\n\n"sv).first.empty()); // an empty data line still dispatches
  CHECK(data_of("data: a\ndata: b\n\n"sv) == std::pair(std::string("a\nb"), false));
  CHECK(data_of("data: a\nid: 1\n\n"sv) == std::pair(std::string("a"), false));
  CHECK(data_of(": c\ndata: a\n: c\n\n"sv) == std::pair(std::string("a"), false));

  // The same limit as a copied line: max_event bytes pass, one more fails.
  const phrony::sse_limits limits{.max_line = 64, .max_event = 8};
  CHECK(decode_every_way("data: 12345678\n\n"sv, limits).events.size() == 1);
  CHECK(decode_every_way("data: 123456789\n\n"sv, limits).error == phrony::errc::limit_exceeded);
}

TEST_CASE("returning false from on_event stops feed right after that event") {
  const std::string_view input = "data: a\n\ndata: b\r\rdata: c\r\n\r\ndata: d\n\n";
  sse_decoder d;
  std::vector<std::string> seen;
  const auto stop_each = [&](const sse_event& e) {
    seen.emplace_back(e.data);
    return false;
  };
  auto r = d.feed(input, stop_each);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::cancelled);
  CHECK(seen == std::vector<std::string>{"a"});
  CHECK(d.consumed() == 9);
  std::string_view rest = input.substr(d.consumed());
  r = d.feed(rest, stop_each);
  CHECK(r.error().code == errc::cancelled);
  CHECK(d.consumed() == 9); // "data: b\r\r"
  rest.remove_prefix(d.consumed());
  r = d.feed(rest, stop_each);
  CHECK(d.consumed() == 11); // the LF after the last CR is consumed with it
  rest.remove_prefix(d.consumed());
  r = d.feed(rest, [&](const sse_event& e) { seen.emplace_back(e.data); });
  CHECK(r.has_value());
  CHECK(d.consumed() == rest.size());
  CHECK(seen == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("a 16 MiB event fed one byte at a time decodes like the whole") {
  // Linear time is what lets this test finish; it also checks the data survives intact.
  std::string body;
  std::string want;
  while (want.size() < (std::size_t{16} << 20) - 2048) {
    const std::string line(1000 + want.size() % 23, static_cast<char>('a' + want.size() % 26));
    body += "data: " + line + (want.size() % 2 ? "\r\n" : "\n");
    want += line + "\n";
  }
  body += "\n";
  want.pop_back();
  sse_decoder d;
  std::size_t size = 0;
  bool same = false;
  const auto on = [&](const sse_event& e) {
    size = e.data.size();
    same = e.data == want;
  };
  // One check for the 16 million feeds: a doctest assertion per byte took most of the test's
  // time (under ASan, over a minute).
  std::size_t failed_feeds = 0;
  for (const char c : body) {
    failed_feeds += d.feed(std::string_view(&c, 1), on).has_value() ? 0 : 1;
  }
  REQUIRE(failed_feeds == 0);
  CHECK(size == want.size());
  CHECK(same);
}

TEST_CASE("the shared stream sample decodes the same under every chunking") {
  const std::string body = phrony_test::fixture("stream_small.sse");
  // Independent of the decoder: the file holds 40 payloads, 5 "event: step" lines, and its last
  // "id:" line is "id: 1747206437497-2" (gen.py ... --events 40 --retry 3000).
  const std::size_t subjects = payloads_in(body);
  REQUIRE(subjects == 40);

  const sse_outcome got = phrony_test::decode_many_ways(body);
  CHECK_FALSE(got.error.has_value());
  REQUIRE(got.events.size() == subjects);
  std::size_t typed = 0;
  for (const auto& e : got.events) {
    CHECK(e.data.starts_with("{\"ts\":"));
    CHECK(e.data.ends_with("}"));
    CHECK(e.data.find('\n') == std::string::npos);
    CHECK(e.data.find('\r') == std::string::npos);
    typed += e.type == "step" ? 1 : 0;
    CHECK((e.type == "step" || e.type == "message"));
  }
  CHECK(typed == 5);
  CHECK(got.events.back().id == "1747206437497-2");
  CHECK(got.last_event_id == "1747206437497-2");
  CHECK(got.retry_ms == 3000);
}

TEST_CASE("the generated 2000-event stream (BOM, CR, CRLF, multi-line data) decodes") {
  const std::string body = phrony_test::generated("stream_2000.sse");
  REQUIRE(body.starts_with("\xEF\xBB\xBF"));
  REQUIRE(payloads_in(body) == 2000);
  const sse_outcome got = phrony_test::decode_many_ways(body);
  CHECK_FALSE(got.error.has_value());
  CHECK(got.events.size() == 2000);
  CHECK(got.retry_ms == 1500);
  std::size_t multiline = 0;
  for (const auto& e : got.events) {
    multiline += e.data.find('\n') != std::string::npos ? 1 : 0;
    CHECK(e.data.find('\r') == std::string::npos);
  }
  CHECK(multiline > 0);
}

} // namespace sse_test
