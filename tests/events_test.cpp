#include <phrony/events.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "counting_new.hpp" // a steady stream must decode without allocating
#include "sse_testing.hpp"
#include "test_util.hpp"

namespace events_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::literals;

namespace {

std::size_t count_of(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos;
       at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

/// Decodes a /stream body in `piece`-byte chunks, collecting every per-event result.
std::vector<result<stream_event>> decode_events(std::string_view body, std::size_t piece) {
  event_stream_decoder d;
  std::vector<result<stream_event>> out;
  for (const auto chunk : phrony_test::split_every(body, piece)) {
    const auto r = d.feed(chunk, [&](const result<stream_event>& e) { out.push_back(e); });
    REQUIRE(r.has_value());
  }
  REQUIRE(d.finish().has_value());
  return out;
}

} // namespace

static_assert(stream_event_handler<void (*)(const result<stream_event>&)>);
static_assert(stream_event_handler<bool (*)(const result<stream_event>&, const sse_event&)>);
static_assert(!stream_event_handler<void (*)(const stream_event&)>);
static_assert(!stream_event_handler<void (*)(const sse_event&)>);

TEST_CASE("event kinds map from wire strings, and unknown ones are kept") {
  struct row {
    std::string_view wire;
    event_kind want;
  };
  const row rows[] = {
      {"step", event_kind::step},    {"session", event_kind::session},
      {"run", event_kind::run},      {"user_task", event_kind::user_task},
      {"aitl", event_kind::aitl},    {"Step", event_kind::unknown},
      {"tool", event_kind::unknown}, {"", event_kind::unknown},
  };
  for (const auto& r : rows) {
    CAPTURE(r.wire);
    CHECK(parse_event_kind(r.wire) == r.want);
    if (r.want != event_kind::unknown) {
      CHECK(to_string(r.want) == r.wire);
    }
  }
}

TEST_CASE("a payload parses with data verbatim and its common keys picked out") {
  struct row {
    std::string_view payload;
    std::string_view kind;
    event_kind kind_enum;
    std::string_view data; // verbatim
    std::optional<std::string> run_id, session_id, status;
    std::size_t extras;
  };
  const row rows[] = {
      {R"({"ts":"2026-05-13T12:52:33.150Z","kind":"run","subject":"engine.run.started",)"
       R"("data":{"run_id":"r1","session_id":"s1","depth":0,"status":"Running"}})",
       "run", event_kind::run, R"({"run_id":"r1","session_id":"s1","depth":0,"status":"Running"})",
       "r1", "s1", "Running", 0},
      // Nested keys are the payload's business, and whitespace inside data stays.
      {R"({"ts":"t","kind":"step","subject":"engine.step.output","data": { "content" : )"
       R"({"run_id":"inner","status":"x"} , "step_id":"p" } })",
       "step", event_kind::step,
       R"({ "content" : {"run_id":"inner","status":"x"} , "step_id":"p" })", std::nullopt,
       std::nullopt, std::nullopt, 0},
      // Non-string values leave the accessor empty; data still has them.
      {R"({"ts":"t","kind":"session","subject":"s","data":{"status":null,"run_id":7,)"
       R"("session_id":"s\u0031"}})",
       "session", event_kind::session, R"({"status":null,"run_id":7,"session_id":"s\u0031"})",
       std::nullopt, "s1", std::nullopt, 0},
      // Unknown kinds and fields are data, not errors; data need not be an object.
      {R"({"kind":"billing","ts":"t","data":[1,{"a":null}],"subject":"x.y","seq":12,"tags":[]})",
       "billing", event_kind::unknown, R"([1,{"a":null}])", std::nullopt, std::nullopt,
       std::nullopt, 2},
      {R"({"ts":"t","kind":"aitl","subject":"engine.aitl.requested","data":null})", "aitl",
       event_kind::aitl, "null", std::nullopt, std::nullopt, std::nullopt, 0},
      {R"({"ts":"t","kind":"user_task","subject":"u","data":{}})", "user_task",
       event_kind::user_task, "{}", std::nullopt, std::nullopt, std::nullopt, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.payload);
    const auto e = parse_stream_event(r.payload);
    REQUIRE(e.has_value());
    CHECK(e->kind == r.kind);
    CHECK(e->kind_enum() == r.kind_enum);
    CHECK(e->data.text == r.data);
    CHECK(e->run_id == r.run_id);
    CHECK(e->session_id == r.session_id);
    CHECK(e->status == r.status);
    CHECK(e->extra.size() == r.extras);
  }
}

TEST_CASE("run_id and session_id are picked in either spelling, snake_case first") {
  // Issue 9: a server spelling the payload keys runId/sessionId (the REST bodies' spelling) left
  // the follower blind. The docs fix neither spelling, so both count; data stays verbatim.
  struct row {
    std::string_view data;
    std::optional<std::string> run_id, session_id, status;
  };
  const row rows[] = {
      {R"({"runId":"r2","sessionId":"s2","status":"WaitingForUserTask"})", "r2", "s2",
       "WaitingForUserTask"},
      {R"({"run_id":"r1","session_id":"s1"})", "r1", "s1", std::nullopt},
      {R"({"runId":"camel","run_id":"snake","sessionId":"cs","session_id":"ss"})", "snake", "ss",
       std::nullopt},
      {R"({"run_id":"snake","runId":"camel","session_id":"ss","sessionId":"cs"})", "snake", "ss",
       std::nullopt},
      // A spelling whose value is no string picks nothing, so the other one counts.
      {R"({"run_id":null,"runId":"camel","sessionId":7,"session_id":"ss"})", "camel", "ss",
       std::nullopt},
      {R"({"runId":"camel","run_id":null})", "camel", std::nullopt, std::nullopt},
      {R"({"runId":{"id":"x"},"sessionId":null})", std::nullopt, std::nullopt, std::nullopt},
      // Other spellings are not guessed at.
      {R"({"RunId":"a","run-id":"b","runid":"c","SessionID":"d","Status":"e"})", std::nullopt,
       std::nullopt, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.data);
    const std::string payload = R"({"ts":"t","kind":"run","subject":"engine.run.updated","data":)" +
                                std::string(r.data) + "}";
    const auto e = parse_stream_event(payload);
    REQUIRE(e.has_value());
    CHECK(e->data.text == r.data);
    CHECK(e->run_id == r.run_id);
    CHECK(e->session_id == r.session_id);
    CHECK(e->status == r.status);
    CHECK(to_json(*e) == payload);
  }
}

TEST_CASE("a reused event forgets keys the next payload lacks, in either spelling") {
  const auto event = [](std::string_view data) {
    return "data: {\"ts\":\"t\",\"kind\":\"run\",\"subject\":\"s\",\"data\":" + std::string(data) +
           "}\n\n";
  };
  const std::string body = event(R"({"run_id":"r1","status":"Running"})") +
                           event(R"({"runId":"r2","sessionId":"s2"})") + event(R"({})") +
                           event(R"({"sessionId":"s4","session_id":"s4b","runId":"r4"})") +
                           event(R"([1])") + event(R"({"run_id":"r6","runId":"x"})");
  using opt = std::optional<std::string>;
  const std::vector<std::array<opt, 3>> want = {
      {"r1", std::nullopt, "Running"},
      {"r2", "s2", std::nullopt},
      {std::nullopt, std::nullopt, std::nullopt},
      {"r4", "s4b", std::nullopt},
      {std::nullopt, std::nullopt, std::nullopt},
      {"r6", std::nullopt, std::nullopt},
  };
  for (const std::size_t piece : {body.size(), std::size_t{1}, std::size_t{7}}) {
    CAPTURE(piece);
    const auto got = decode_events(body, piece);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      CAPTURE(i);
      REQUIRE(got[i].has_value());
      CHECK(got[i]->run_id == want[i][0]);
      CHECK(got[i]->session_id == want[i][1]);
      CHECK(got[i]->status == want[i][2]);
    }
  }
}

TEST_CASE("a steady stream mixing both spellings decodes without allocating") {
  // The picked strings lend their buffers to spares between events (see read_stream_event_data);
  // UUID-long values are past any small-string buffer, so a lost buffer would show here.
  const std::string r = "77fa34b4-12d6-4fd6-8c23-77526537307d";
  const std::string s = "c963cfe0-afae-4a3b-b909-6a04e7d80068";
  const auto event = [](const std::string& data) {
    return "data: {\"ts\":\"2026-05-13T12:52:33.150Z\",\"kind\":\"run\",\"subject\":"
           "\"engine.run.updated\",\"data\":" +
           data + "}\n\n";
  };
  const std::string cycle =
      event(R"({"run_id":")" + r + R"(","status":"WaitingForUserTaskResponse"})") +
      event(R"({"runId":")" + r + R"(","sessionId":")" + s + R"("})") + event("{}") +
      event(R"({"sessionId":")" + s + R"(","session_id":")" + s + R"(","runId":")" + r + R"("})");
  event_stream_decoder d;
  std::size_t picked = 0;
  const auto on = [&](const result<stream_event>& e) {
    picked += (e && e->run_id ? 1 : 0) + (e && e->session_id ? 1 : 0);
  };
  for (int warm = 0; warm < 2; ++warm) {
    REQUIRE(d.feed(cycle, on).has_value());
  }
  // Well past 64 KiB of data texts: a text read into the thread's arena every event (a reused one
  // left without storage of its own) would need a new chunk within this stretch.
  std::string stretch;
  while (stretch.size() < (std::size_t{512} << 10)) {
    stretch += cycle;
  }
  const std::size_t cycles = stretch.size() / cycle.size();
  picked = 0;
  const auto before = phrony_test::allocation_count;
  const bool fed = d.feed(stretch, on).has_value();
  const auto allocations = phrony_test::allocation_count - before;
  CHECK(fed);
  CHECK(picked == 5 * cycles);
  CHECK(allocations == 0);
}

TEST_CASE("a huge picked value is not kept for reuse once its event is gone") {
  // The spare strings behind the no-allocation trick live as long as the thread: a server's
  // 1 MiB run_id must not stay resident in them.
  const auto event = [](const std::string& data) {
    return "data: {\"ts\":\"t\",\"kind\":\"run\",\"subject\":\"s\",\"data\":" + data + "}\n\n";
  };
  const std::string huge(std::size_t{1} << 20, 'r');
  const std::string body = event(R"({"run_id":")" + huge + R"("})") + event("{}") +
                           event(R"({"runId":"77fa34b4-12d6-4fd6-8c23-77526537307d"})");
  event_stream_decoder d;
  std::vector<std::size_t> capacity;
  REQUIRE(d.feed(body, [&](const result<stream_event>& e) {
             REQUIRE(e.has_value());
             // The size of its own storage, or of the parse's block it shares.
             const auto own = e->run_id ? detail::text_access::own_capacity(*e->run_id) : 0;
             capacity.push_back(own == SIZE_MAX ? detail::text_arena::chunk_capacity : own);
           }).has_value());
  REQUIRE(capacity.size() == 3);
  CHECK(capacity[0] >= huge.size());
  CHECK(capacity[1] == 0);
  CHECK(capacity[2] < huge.size()); // the huge run_id's storage was not lent on
}

TEST_CASE("a malformed payload names the offending field") {
  struct row {
    std::string_view payload;
    errc code;
    std::string_view path;
  };
  const row rows[] = {
      {R"({"kind":"run","subject":"s","data":{}})", errc::missing_field, "/ts"},
      {R"({"ts":"t","subject":"s","data":{}})", errc::missing_field, "/kind"},
      {R"({"ts":"t","kind":"run","data":{}})", errc::missing_field, "/subject"},
      {R"({"ts":"t","kind":"run","subject":"s"})", errc::missing_field, "/data"},
      {R"({"ts":1,"kind":"run","subject":"s","data":{}})", errc::wrong_type, "/ts"},
      {R"({"ts":"t","kind":null,"subject":"s","data":{}})", errc::wrong_type, "/kind"},
      {R"({"ts":"t","kind":"run","subject":"s","data":{"run_id":"r","x":[1,tru]}})",
       errc::invalid_json, "/data/x/1"},
      {R"({"ts":"t","kind":"run","subject":"s","data":{"status":"\q"}})", errc::invalid_json,
       "/data/status"},
      // Strings before data's first backslash are not scanned for escapes; the ones from it on
      // are, whether the first escape is bad or a good one comes before.
      {R"({"ts":"t","kind":"run","subject":"s","data":{"a":"plain","b":["x","\q"]}})",
       errc::invalid_json, "/data/b/1"},
      {R"({"ts":"t","kind":"run","subject":"s","data":{"a":"\n","b":{"c":"\u12"}}})",
       errc::invalid_json, "/data/b/c"},
      {R"({"ts":"t","kind":"run","subject":"s","data":{"r":"x","a\"b":[1,tru]}})",
       errc::invalid_json, "/data/a\"b/1"},
      {R"({"ts":"t","kind":"run","subject":"s","data":{"a":1})", errc::invalid_json, ""},
      {R"({"ts":"t","kind":"run","subject":"s","data":{}} x)", errc::invalid_json, ""},
      {"[]", errc::wrong_type, ""},
      {"", errc::invalid_json, ""},
      {R"({"ts":"t",})", errc::invalid_json, ""},
      {"{", errc::invalid_json, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.payload);
    const auto got = parse_stream_event(r.payload);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == r.code);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("payload nesting deeper than the limit is limit_exceeded") {
  std::string body = R"({"ts":"t","kind":"run","subject":"s","data":{"a":)";
  body.append(300, '[');
  body.append(300, ']');
  body += "}}";
  const auto got = parse_stream_event(body);
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == errc::limit_exceeded);
}

TEST_CASE("canonical JSON round-trips a stream event") {
  const auto e = parse_stream_event(
      R"({"ts":"t","kind":"run","subject":"engine.run.completed","data":{"run_id":"r",)"
      R"("status":"Completed","output":{"x":[1,2]}},"seq":3})");
  REQUIRE(e.has_value());
  const std::string text = to_json(*e);
  CHECK(text == R"({"ts":"t","kind":"run","subject":"engine.run.completed","data":{"run_id":"r",)"
                R"("status":"Completed","output":{"x":[1,2]}},"seq":3})");
  const auto again = parse_stream_event(text);
  REQUIRE(again.has_value());
  CHECK(*again == *e);
}

TEST_CASE("a payload cut short after a number or literal fails the same in place and copied") {
  // Parsed in place, the payload is followed by its line end and the chunk's next bytes; copied,
  // by the copy's terminator. simdjson reads a number or literal against the byte after it, so
  // the error used to depend on which (fuzz_events found it): it is now the document's own.
  const std::string tail = ": " + std::string(200, 'x') + "\n"; // padding to spare in the chunk
  for (const std::string_view cut : {"0.9", "12", "true", "nul", "-"}) {
    const std::string payload =
        std::string(R"({"ts":"t","kind":"k","subject":"s","data":{"a":)") + std::string(cut);
    CAPTURE(payload);
    const auto copied = parse_stream_event(payload);
    REQUIRE_FALSE(copied.has_value());
    CHECK(copied.error().code == errc::invalid_json);
    CHECK(copied.error().path == "");
    event_stream_decoder d;
    int seen = 0;
    REQUIRE(d.feed("data: " + payload + "\n\n" + tail, [&](const result<stream_event>& e) {
               ++seen;
               REQUIRE_FALSE(e.has_value());
               CHECK(e.error().code == copied.error().code);
               CHECK(e.error().path == copied.error().path);
               CHECK(e.error().message == copied.error().message);
             }).has_value());
    CHECK(seen == 1);
  }
}

TEST_CASE("a payload parses in place in the chunk, padded or not, as from a copy") {
  // One data line whole in a chunk is parsed where it lies when simdjson's padding fits in the
  // chunk after it, else from a padded copy; a payload split over two chunks is copied first.
  const std::string payload = R"({"ts":"t","kind":"run","subject":"engine.run.started",)"
                              R"("data":{"run_id":"r1","n":[1,2.5,true,null]},"seq":12})";
  const std::string event = "id: 9\ndata: " + payload + "\n\n";
  const std::string tail = ": " + std::string(200, 'x') + "\n"; // a comment: padding to spare
  const auto decode = [](const std::vector<std::string>& chunks) {
    event_stream_decoder d;
    std::vector<std::string> seen;
    for (const auto& c : chunks) {
      REQUIRE(d.feed(c, [&](const result<stream_event>& e) {
                 REQUIRE(e.has_value());
                 seen.push_back(to_json(*e));
               }).has_value());
    }
    return seen;
  };
  const auto expected = std::vector<std::string>{to_json(*parse_stream_event(payload))};
  CHECK(decode({event}) == expected);        // two bytes after the payload: a copy
  CHECK(decode({event + tail}) == expected); // in place, reading the comment as padding
  CHECK(decode({event.substr(0, 20), event.substr(20) + tail}) == expected); // split: data_
}

TEST_CASE("an undecodable payload is an error for that event and decoding goes on") {
  const std::string_view body =
      "data: {\"ts\":\"t1\",\"kind\":\"run\",\"subject\":\"a\",\"data\":{\"run_id\":\"r\"}}\n\n"
      "event: step\r\ndata: {\"ts\":\"t2\",\"kind\":\r\n\r\n"
      "id: 7\rdata: {\"ts\":\"t3\",\r"
      "data: \"kind\":\"session\",\"subject\":\"b\",\"data\":{\"status\":\"Failed\"}}\r\r"
      "data: \xFF\n\n"
      ": keepalive\n\n"
      "data: {\"ts\":\"t4\",\"kind\":\"step\",\"subject\":\"c\",\"data\":{}}\n\n";
  for (const std::size_t piece : {body.size(), std::size_t{1}, std::size_t{5}}) {
    CAPTURE(piece);
    const auto got = decode_events(body, piece);
    REQUIRE(got.size() == 5);
    REQUIRE(got[0].has_value());
    CHECK(got[0]->run_id == "r");
    CHECK_FALSE(got[1].has_value());
    REQUIRE(got[2].has_value());
    CHECK(got[2]->ts == "t3");
    CHECK(got[2]->status == "Failed");
    CHECK_FALSE(got[3].has_value()); // U+FFFD is not JSON
    REQUIRE(got[4].has_value());
    CHECK(got[4]->subject == "c");
  }
}

TEST_CASE("the two-argument callback sees the SSE framing, and false stops the feed") {
  const std::string_view body = "id: 1\nevent: step\ndata: {\"ts\":\"t\",\"kind\":\"step\","
                                "\"subject\":\"s\",\"data\":{}}\n\ndata: {}\n\n";
  event_stream_decoder d;
  std::vector<std::string> seen;
  auto r = d.feed(body, [&](const result<stream_event>& e, const sse_event& ev) {
    seen.push_back(std::string(ev.type) + "/" + std::string(ev.last_event_id) + "/" +
                   (e ? e->subject : "error"));
    return false;
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::cancelled);
  CHECK(seen == std::vector<std::string>{"step/1/s"});
  CHECK(d.last_event_id() == "1");
  r = d.feed(
      body.substr(d.sse().consumed()), [&](const result<stream_event>& e, const sse_event& ev) {
        seen.push_back(std::string(ev.type) + "/" + std::string(ev.last_event_id) + "/" +
                       std::string(e ? std::string_view(e->subject) : to_string(e.error().code)));
      });
  CHECK(r.has_value());
  CHECK(seen == std::vector<std::string>{"step/1/s", "message/1/missing_field"});
}

TEST_CASE("reconnect helpers read the stream's retry and last event ID, within bounds") {
  event_stream_decoder d;
  CHECK(reconnect_delay(d, std::chrono::seconds(2)) == std::chrono::milliseconds(2000));
  CHECK_FALSE(reconnect_last_event_id(d).has_value());
  const auto ignore = [](const result<stream_event>&) {};
  REQUIRE(d.feed("retry: 1500\nid: 1747206437497-2\n\n", ignore).has_value());
  CHECK(reconnect_delay(d, std::chrono::seconds(2)) == std::chrono::milliseconds(1500));
  CHECK(reconnect_last_event_id(d) == "1747206437497-2");
  REQUIRE(d.feed("id\n\n", ignore).has_value());
  CHECK_FALSE(reconnect_last_event_id(d).has_value());
  // A hostile server's retry is capped, and its control characters never reach a header.
  REQUIRE(d.feed("retry: 9999999999999\nid: 7\x01X-Evil: 1\n\n", ignore).has_value());
  CHECK(reconnect_delay(d, std::chrono::seconds(2)) == default_max_reconnect_delay);
  CHECK(reconnect_delay(d, std::chrono::seconds(2), std::chrono::minutes(5)) ==
        std::chrono::minutes(5));
  CHECK(d.last_event_id() == "7\x01X-Evil: 1");
  CHECK_FALSE(reconnect_last_event_id(d).has_value());
  d.reset();
  CHECK_FALSE(d.retry().has_value());
}

TEST_CASE("every payload of the shared stream sample parses") {
  const std::string body = phrony_test::fixture("stream_small.sse");
  // Counted from the file's bytes, not by the decoder.
  std::map<event_kind, std::size_t> want;
  for (const auto k : {event_kind::step, event_kind::session, event_kind::run,
                       event_kind::user_task, event_kind::aitl}) {
    want[k] = count_of(body, "\"kind\":\"" + std::string(to_string(k)) + "\",\"subject\"");
  }
  REQUIRE(want[event_kind::step] + want[event_kind::session] + want[event_kind::run] == 40);

  for (const std::size_t piece : {body.size(), std::size_t{1}, std::size_t{16384}}) {
    CAPTURE(piece);
    const auto got = decode_events(body, piece);
    REQUIRE(got.size() == 40);
    std::map<event_kind, std::size_t> kinds;
    for (const auto& e : got) {
      REQUIRE(e.has_value());
      ++kinds[e->kind_enum()];
      CHECK(e->data.text.starts_with("{"));
      CHECK(e->data.text.ends_with("}"));
      CHECK(e->session_id.has_value()); // every payload of this session names it
      if (e->kind_enum() == event_kind::run || e->kind_enum() == event_kind::step) {
        CHECK(e->run_id.has_value());
      }
    }
    for (const auto& [k, n] : want) {
      CHECK(kinds[k] == n);
    }
    CHECK(got.front().value().subject == "engine.session.started");
    CHECK(got.front().value().status == "Running");
    CHECK(got.back().value().subject == "engine.session.completed");
    CHECK(got.back().value().status == "Completed");
  }
}

TEST_CASE("every payload of the generated 2000-event stream parses") {
  const std::string body = phrony_test::generated("stream_2000.sse");
  // Counted from the bytes: each payload starts a data line with {"ts":" (nested strings escape
  // their quotes); "subject" alone would also count keys inside tool arguments.
  const std::size_t subjects =
      count_of(body, "data: {\"ts\":\"") + count_of(body, "data:{\"ts\":\"");
  REQUIRE(subjects == 2000);
  for (const std::size_t piece : {body.size(), std::size_t{7}, std::size_t{16384}}) {
    CAPTURE(piece);
    const auto got = decode_events(body, piece);
    REQUIRE(got.size() == subjects);
    std::size_t unknown = 0;
    for (const auto& e : got) {
      REQUIRE(e.has_value());
      unknown += e->kind_enum() == event_kind::unknown ? 1 : 0;
      CHECK(parse_stream_event(to_json(*e)).value() == *e);
    }
    CHECK(unknown == 0);
    CHECK(got.back().value().subject == "engine.session.completed");
  }
}

} // namespace events_test
