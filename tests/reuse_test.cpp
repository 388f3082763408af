// Parsing into an existing value (parse_x(body, out)): whatever `out` held before, the result
// equals a fresh parse of the same body.
#include <doctest/doctest.h>
#include <simdjson.h> // padded bodies, as a caller with simdjson passes them

#include <phrony/phrony.hpp>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace reuse_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using phrony_test::fixture;
using phrony_test::generated;

namespace {

/// Parses every body fresh, then into one value after every other body (and after itself):
/// each time the value must equal the fresh parse.
template <class Parser>
void check_reuse(const Parser& parse, const std::vector<std::string>& bodies,
                 phrony::parse_options opts = {}) {
  for (const auto& before : bodies) {
    for (const auto& body : bodies) {
      const auto fresh = parse(body, opts);
      REQUIRE(fresh.has_value());
      auto reused = parse(before, opts);
      REQUIRE(reused.has_value());
      REQUIRE(parse(body, *reused, opts).has_value());
      CHECK(*reused == *fresh);
      // The padded overload agrees, and a second pass over the same body changes nothing.
      const simdjson::padded_string padded(body);
      REQUIRE(parse(padded, *reused, opts).has_value());
      CHECK(*reused == *fresh);
    }
  }
}

} // namespace

TEST_CASE("a conversation parsed into a reused value equals a fresh parse") {
  // Full, slim, redacted-like and waiting shapes of several sizes: items change type, contents
  // lose fields, runs and unknown fields come and go.
  check_reuse(
      phrony::parse_conversation,
      {fixture("conversation_small.json"), fixture("conversation_slim.json"),
       fixture("conversation_waiting.json"), generated("conversation_100.json"),
       generated("conversation_200_failed_ascii.json"), generated("conversation_300_waiting.json"),
       generated("conversation_small_compact.json"), fixture("conversation_tool_error_object.json"),
       fixture("conversation_started_null.json")});
  // Tolerant parsing: items whose content is kept verbatim with its reason, in and out of order
  // with their type, among typed ones.
  std::string content_first = fixture("conversation_options_strings.json");
  const auto at = content_first.find(R"("type":"UserTaskReq","content":)");
  REQUIRE(at != std::string::npos);
  content_first.replace(at, 21, "");
  content_first.insert(content_first.find(R"(,"tokensUsed")", at), R"(,"type":"UserTaskReq")");
  REQUIRE(phrony::parse_conversation(content_first)->items[13].content_error.has_value());
  check_reuse(phrony::parse_conversation,
              {fixture("conversation_options_strings.json"), content_first,
               fixture("conversation_waiting.json"), fixture("conversation_slim.json"),
               fixture("conversation_tool_error_object.json")});
  check_reuse(phrony::parse_conversation,
              {fixture("conversation_waiting.json"), fixture("conversation_started_null.json")},
              phrony::parse_options{.strict = true});
}

TEST_CASE("sessions pages, run bodies and file bodies parsed into reused values") {
  check_reuse(phrony::parse_sessions_page,
              {fixture("sessions_page.json"), generated("sessions_page_compact.json"),
               R"({"items":[],"total":0})",
               R"({"items":[],"total":0,"cursor":"c1","extraField":{"a":[1,2]}})"});
  check_reuse(phrony::parse_run_status,
              {fixture("run_completed.json"), fixture("run_failed.json"),
               fixture("run_waiting_hitl.json"), generated("run_hibernating.json"),
               R"({"runId":"r","status":"Running","output":null})",
               R"({"runId":"r","status":"Failed","output":null,"error":"boom","x":1,"y":[true]})"});
  check_reuse(phrony::parse_start_run,
              {fixture("start_run.json"), generated("start_run_duplicate.json")});
  check_reuse(phrony::parse_accept, {fixture("accept.json"),
                                     R"({"status":"Running","error":null,"note":"n"})", "", " \n"});
  check_reuse(phrony::parse_presign,
              {fixture("presign.json"),
               R"({"objectKey":"k","uploadUrl":"https://u","httpMethod":"PUT",)"
               R"("requiredHeaders":{},"expiresInSeconds":60,"more":true})"});
  check_reuse(phrony::parse_finalize,
              {fixture("finalize.json"), generated("finalize_already.json"),
               R"({"objectKey":"k","sizeBytes":"1","alreadyFinalized":true,"a":1,"b":2})"});
  check_reuse(phrony::parse_error_body, {fixture("error_401.json"), generated("error_429.json"),
                                         generated("error_500.json"), R"({})"});
}

TEST_CASE("a failed parse into a value reports the same error as a fresh one") {
  const std::string bad = R"({"runId":"r","status":"Running","output":{"a":tru}})";
  const auto fresh = phrony::parse_run_status(bad);
  REQUIRE_FALSE(fresh.has_value());
  auto reused = phrony::parse_run_status(fixture("run_completed.json"));
  REQUIRE(reused.has_value());
  const auto r = phrony::parse_run_status(bad, *reused);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == fresh.error().code);
  CHECK(r.error().path == fresh.error().path);
  CHECK(r.error().path == "/output/a");
  // The value is still usable: the next body reads over it cleanly.
  REQUIRE(phrony::parse_run_status(fixture("run_failed.json"), *reused).has_value());
  CHECK(*reused == *phrony::parse_run_status(fixture("run_failed.json")));
}

TEST_CASE("stream events parsed into a reused value") {
  const std::vector<std::string> events = {
      R"({"ts":"t1","kind":"step","subject":"s","data":{"run_id":"r1","status":"Running"}})",
      R"({"ts":"t2","kind":"run","subject":"s2","data":{"session_id":"x"},"extra":1})",
      R"({"ts":"t3","kind":"session","subject":"s3","data":[1,2]})"};
  check_reuse(phrony::parse_stream_event, events);
  // An event without "data" is an error even after one that had it.
  auto reused = phrony::parse_stream_event(events[0]);
  REQUIRE(reused.has_value());
  const auto r = phrony::parse_stream_event(R"({"ts":"t","kind":"run","subject":"s"})", *reused);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().path == "/data");
}

} // namespace reuse_test
