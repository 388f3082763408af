#include <phrony/runs.hpp>

#include <doctest/doctest.h>
#include <simdjson.h> // padded bodies, as a caller with simdjson passes them

#include <cmath>
#include <string>
#include <string_view>

#include "phrony/detail/json.hpp" // the reading core itself, in both modes
#include "test_util.hpp"

namespace runs_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using phrony_test::fixture;
using phrony_test::generated;

TEST_CASE("run states map from wire strings, and unknown ones are kept") {
  struct row {
    std::string_view wire;
    run_state want;
    bool terminal;
    bool waiting;
    run_need need;
  };
  const row rows[] = {
      {"Running", run_state::running, false, false, run_need::nothing},
      {"Completed", run_state::completed, true, false, run_need::nothing},
      {"Failed", run_state::failed, true, false, run_need::nothing},
      {"Cancelled", run_state::cancelled, true, false, run_need::nothing},
      {"WaitingForHITL", run_state::waiting_for_hitl, false, true, run_need::answer_user_task},
      {"WaitingForAITL", run_state::waiting_for_aitl, false, true, run_need::answer_user_task},
      {"WaitingForResponse", run_state::waiting_for_response, false, true, run_need::send_text},
      {"WaitingForTimer", run_state::waiting_for_timer, false, true, run_need::skip_timer},
      {"Hibernating", run_state::unknown, false, false, run_need::unknown},
      {"running", run_state::unknown, false, false, run_need::unknown},
      {"", run_state::unknown, false, false, run_need::unknown},
  };
  for (const auto& r : rows) {
    CAPTURE(r.wire);
    CHECK(parse_run_state(r.wire) == r.want);
    CHECK(is_terminal(r.want) == r.terminal);
    CHECK(is_waiting(r.want) == r.waiting);
    CHECK(needs(r.want) == r.need);
    if (r.want != run_state::unknown) {
      CHECK(to_string(r.want) == r.wire);
    }
  }
}

TEST_CASE("run status samples parse with their documented fields") {
  const auto completed = parse_run_status(fixture("run_completed.json"));
  REQUIRE(completed.has_value());
  CHECK(completed->run_id == "77fa34b4-12d6-4fd6-8c23-77526537307d");
  CHECK(completed->state() == run_state::completed);
  CHECK(completed->output.text.starts_with("{\n    \"resolution\": \"escalated\""));
  CHECK(completed->output.text.ends_with("\"confidence\": 0.59\n  }"));
  CHECK_FALSE(completed->error.has_value());
  // sessionId and totalTokensUsed are not documented for this body: kept as unknown fields.
  REQUIRE(completed->extra.size() == 2);
  CHECK(completed->extra[0].first == "sessionId");
  CHECK(completed->extra[1] == std::pair<phrony::text, raw_json>{"totalTokensUsed", {"66545"}});

  const auto failed = parse_run_status(fixture("run_failed.json"));
  REQUIRE(failed.has_value());
  CHECK(failed->state() == run_state::failed);
  REQUIRE(failed->error.has_value());
  CHECK_FALSE(failed->error->empty());
  CHECK(failed->output.is_null());

  const auto waiting = parse_run_status(fixture("run_waiting_hitl.json"));
  REQUIRE(waiting.has_value());
  CHECK(waiting->state() == run_state::waiting_for_hitl);
  CHECK(waiting->output.is_null());
}

TEST_CASE("an unknown run status string is data, not an error") {
  const auto r = parse_run_status(generated("run_hibernating.json"));
  REQUIRE(r.has_value());
  CHECK(r->state() == run_state::unknown);
  CHECK(r->status == "Hibernating");
}

TEST_CASE("start-run bodies parse, optional fields included") {
  const auto s = parse_start_run(fixture("start_run.json"));
  REQUIRE(s.has_value());
  CHECK(s->session_id.size() == 36);
  CHECK(s->run_id.size() == 36);
  CHECK(s->agent_id.has_value());
  CHECK_FALSE(s->duplicate_delivery.has_value());

  const auto d = parse_start_run(generated("start_run_duplicate.json"));
  REQUIRE(d.has_value());
  CHECK(d->duplicate_delivery == true);

  const auto minimal = parse_start_run(
      R"({"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":0,"output":null,)"
      R"("triggerId":null})");
  REQUIRE(minimal.has_value());
  CHECK_FALSE(minimal->trigger_id.has_value());
  CHECK(minimal->total_tokens_used == 0);
}

TEST_CASE("accept bodies parse") {
  const auto a = parse_accept(fixture("accept.json"));
  REQUIRE(a.has_value());
  CHECK(a->state() == run_state::running);
  const auto e = parse_accept(R"({"status":"Failed","error":"boom","requestId":7})");
  REQUIRE(e.has_value());
  CHECK(e->error == "boom");
  REQUIRE(e->extra.size() == 1);
  CHECK(e->extra[0].first == "requestId");
}

TEST_CASE("malformed run bodies name the offending field") {
  struct row {
    std::string_view body;
    errc code;
    std::string_view path;
  };
  const row rows[] = {
      {R"({"status":"Running","output":null})", errc::missing_field, "/runId"},
      {R"({"runId":"r","output":null})", errc::missing_field, "/status"},
      {R"({"runId":"r","status":"Running"})", errc::missing_field, "/output"},
      {R"({"runId":7,"status":"Running","output":null})", errc::wrong_type, "/runId"},
      {R"({"runId":"r","status":null,"output":null})", errc::wrong_type, "/status"},
      {R"({"runId":"r","status":"Running","output":null,"error":5})", errc::wrong_type, "/error"},
      {R"({"runId":"r","status":"Running","output":{"a":[1,tru]}})", errc::invalid_json,
       "/output/a/1"},
      {R"({"runId":"r","status":"Running","output":[01]})", errc::invalid_json, "/output/0"},
      {R"({"runId":"r","status":"Running","output":"\x"})", errc::invalid_json, "/output"},
      {R"({"runId":"r","status":"Running","output":null,"x~/y":nul})", errc::invalid_json,
       "/x~0~1y"},
      {R"({"runId":"r","status":"Running","output":null} {})", errc::invalid_json, ""},
      {R"([])", errc::wrong_type, ""},
      {R"("text")", errc::wrong_type, ""},
      {R"()", errc::invalid_json, ""},
      {R"(not json)", errc::invalid_json, ""},
      {R"(null)", errc::wrong_type, ""},
      {" null\n", errc::wrong_type, ""},
      {"12 \n", errc::wrong_type, ""},
      {"nulls", errc::invalid_json, ""},
      {R"({"runId":"r","status":)", errc::invalid_json, "/status"},
      {R"({"runId":,"status":"Running","output":null})", errc::invalid_json, "/runId"},
      {R"({"runId":"r","status":"Running","output":null,})", errc::invalid_json, ""},
      {"{\"runId\":\"\xff\",\"status\":\"Running\",\"output\":null}", errc::invalid_json, ""},
      // A malformed literal or number in a typed field is malformed JSON, as in output.
      {R"({"runId":nul,"status":"Running","output":null})", errc::invalid_json, "/runId"},
      {R"({"runId":"r","status":tru,"output":null})", errc::invalid_json, "/status"},
      {R"({"runId":"r","status":"Running","output":null,"error":fals})", errc::invalid_json,
       "/error"},
      {R"({"runId":"r","status":"Running","output":null,"error":-})", errc::invalid_json, "/error"},
      {R"({"runId":"r","status":"Running","output":null,"error":true})", errc::wrong_type,
       "/error"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    for (const parse_options opts : {parse_options{}, parse_options{.strict = true}}) {
      const auto got = parse_run_status(r.body, opts);
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == r.code);
      CHECK(got.error().path == r.path);
      CHECK_FALSE(got.error().message.empty());
    }
  }
}

TEST_CASE("strings before and after the document's first backslash read the same") {
  // A string that ends before the body's first backslash is read where it lies, without a scan
  // for its end (read_context::plain_until); from that backslash on, strings are scanned and
  // unescaped. Each row puts escapes somewhere else.
  struct row {
    std::string_view body;
    std::string_view run_id;
    std::string_view status;
    std::string_view error;
  };
  const row rows[] = {
      {R"({"runId":"plain","status":"S\"q","output":null,"error":"after"})", "plain", "S\"q",
       "after"},
      {R"({"runId":"a\\","status":"b","output":null,"error":"c"})", "a\\", "b", "c"},
      {R"({"runId":"a\"","status":"\"","output":null,"error":"\\\""})", "a\"", "\"", "\\\""},
      {R"({"runId" : "a b" , "status":"x"	,"output":null,"error":"e" })", "a b", "x", "e"},
      {R"({"ru\u006eId":"r","status":"s","output":null,"error":"caf\u00e9"})", "r", "s",
       "caf\xc3\xa9"},
      {R"({"runId":"r","status":"s","output":{"k":"\ud83d\ude00"},"error":"\/"})", "r", "s", "/"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const auto got = parse_run_status(r.body);
    REQUIRE(got.has_value());
    CHECK(got->run_id == r.run_id);
    CHECK(got->status == r.status);
    REQUIRE(got->error.has_value());
    CHECK(*got->error == r.error);
  }
  // In kept-raw JSON too, every escape from the first backslash on is checked.
  const std::string_view bad[][2] = {
      {R"({"runId":"r","status":"s","output":{"a":"ok","b":"\x"}})", "/output/b"},
      {R"({"runId":"r","status":"s","output":["\n","ok","\u12"]})", "/output/2"},
      {R"({"runId":"r\n","status":"s","output":["ok",{"c":"\u00zz"}]})", "/output/1/c"},
      {R"({"runId":"r","status":"s\t","output":null,"error":"\q"})", "/error"},
      // Keys too: a key before the first backslash is found without a scan, an escaped one is
      // unescaped for the path, one spaced from its colon is scanned.
      {R"({"runId":"r","status":"s","output":{"ab":{"x":tru}}})", "/output/ab/x"},
      {R"({"runId":"r","status":"s","output":{"p":{"y":1},"k\"":{"x":tru}}})", "/output/k\"/x"},
      {R"({"runId":"r","status":"s","output":{"a\\":1,"b":[fals]}})", "/output/b/0"},
      {R"({"runId":"r","status":"s","output":{"ab" : [1, tru]}})", "/output/ab/1"},
  };
  for (const auto& row : bad) { // not a structured binding: clang 14 cannot capture one (CAPTURE)
    const std::string_view body = row[0];
    CAPTURE(body);
    const auto got = parse_run_status(body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_json);
    CHECK(got.error().path == row[1]);
  }
}

TEST_CASE("an empty 2xx accept body is accepted by default and an error under strict") {
  for (const std::string_view body : {"", " ", "\r\n", " \t\n "}) {
    CAPTURE(body.size());
    const auto a = parse_accept(body);
    REQUIRE(a.has_value());
    CHECK(a->status.empty());
    CHECK(a->state() == run_state::unknown);
    CHECK_FALSE(a->error.has_value());
    const simdjson::padded_string padded(body);
    CHECK(parse_accept(padded).has_value());
    // Into a value that held a status: it is reset.
    auto reused = parse_accept(fixture("accept.json"));
    REQUIRE(reused.has_value());
    REQUIRE(parse_accept(body, *reused).has_value());
    CHECK(*reused == accept_response{});

    const auto strict = parse_accept(body, parse_options{.strict = true});
    REQUIRE_FALSE(strict.has_value());
    CHECK(strict.error().code == errc::invalid_json);
    CHECK(strict.error().path.empty());
  }
  // Only accept bodies: an empty run status is still an error, and so is a non-empty non-JSON
  // accept body.
  CHECK_FALSE(parse_run_status("").has_value());
  CHECK_FALSE(parse_start_run(" ").has_value());
  CHECK(parse_accept(" x ").error().code == errc::invalid_json);
}

TEST_CASE("start-run counts must be non-negative integers") {
  const auto base = [](std::string_view tokens) {
    return std::string(R"({"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":)") +
           std::string(tokens) + R"(,"output":null})";
  };
  struct row {
    std::string_view tokens;
    errc code;
  };
  const row rows[] = {{"-1", errc::out_of_range},
                      {"1.5", errc::wrong_type},
                      {"\"12\"", errc::wrong_type},
                      {"99999999999999999999999", errc::out_of_range}};
  for (const auto& r : rows) {
    CAPTURE(r.tokens);
    const auto got = parse_start_run(base(r.tokens));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == r.code);
    CHECK(got.error().path == "/totalTokensUsed");
  }
}

TEST_CASE("every well-formed JSON number is JSON, whichever of simdjson's parsers reads it") {
  // Found by the fuzz oracle (nlohmann::json): simdjson 3.0.1's get_number refuses integers
  // beyond 64 bits and get_double exponents with many leading zeros, which made valid bodies
  // invalid_json.
  const auto status = [](std::string_view output) {
    return std::string(R"({"runId":"r","status":"Running","output":)") + std::string(output) + "}";
  };
  for (const std::string_view n :
       {"18446744073709551616", "123456789012345678901234567890", "-123456789012345678901234567890",
        "3e0000000000000000000000000000000003", "[1,99999999999999999999999,2]"}) {
    CAPTURE(n);
    const auto got = parse_run_status(status(n));
    REQUIRE(got.has_value());
    CHECK(got->output.text == n);
    // A scalar document is JSON of the wrong type, not malformed.
    const auto root = parse_run_status(n);
    REQUIRE_FALSE(root.has_value());
    CHECK(root.error().code == errc::wrong_type);
  }
  // Past the range of a double, whatever the spelling, a number is refused as 1e400 is
  // (simdjson's get_double read this 62-digit one as 6.8e293; found by fuzz_error_body).
  const std::string huge = "0.7976862697214862697976862697214862697246314246317246314246314e337";
  for (const std::string& n : {std::string("1e400"), huge, "-" + huge}) {
    CAPTURE(n);
    const auto got = parse_run_status(status(n));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_json);
    CHECK(got.error().path == "/output");
  }
  // A typed number of more than 19 significant digits reads exactly (get_double gave 7.9e-10
  // for the first), one too small as zero, one too large not at all.
  const auto doubles = [](std::string_view json) {
    return detail::parse_body<std::vector<double>>(json);
  };
  const auto exact = doubles("[0.1234567890123456789012345678, 0.79768626972148626979768626972148"
                             "62697246314246317246314246314e300, -1234567890123456789012345e-500]");
  REQUIRE(exact.has_value());
  CHECK(*exact == std::vector<double>{0.1234567890123456789012345678,
                                      0.79768626972148626979768626972148626972463142463172e300,
                                      -0.0});
  CHECK(std::signbit((*exact)[2]));
  CHECK_FALSE(doubles("[" + huge + "]").has_value());
  for (const std::string_view n :
       {"0.12345678901234567890123456789e-400", "1234567890123456789012345678901234567890",
        "0.000000000000000000000000123456789012345678901"}) {
    CAPTURE(n);
    CHECK(parse_run_status(status(n)).has_value()); // JSON, kept verbatim
  }
  // As a typed field: a wrong type or out of range, never invalid_json.
  const auto tokens = [](std::string_view n) {
    return std::string(R"({"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":)") +
           std::string(n) + R"(,"output":null})";
  };
  CHECK(parse_start_run(tokens("3e0000000000000000000000000000000003")).error().code ==
        errc::wrong_type);
  CHECK(parse_start_run(tokens("123456789012345678901234567890")).error().code ==
        errc::out_of_range);
  CHECK(parse_run_status(R"({"runId":123456789012345678901234567890,"status":"","output":1})")
            .error()
            .code == errc::wrong_type);
  // A lone minus is malformed JSON in an integer field too (it said wrong_type). A body cut short
  // right after it is an unterminated document, named at its root whatever bytes follow it in
  // memory (json.hpp, parse_document_into).
  const std::string_view minus[][2] = {
      {R"({"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":-,"output":null})",
       "/totalTokensUsed"},
      {R"({"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":-)", ""}};
  for (const auto& row : minus) {
    CAPTURE(row[0]);
    const auto got = parse_start_run(row[0]);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_json);
    CHECK(got.error().path == row[1]);
  }
}

TEST_CASE("canonical JSON round-trips to an equal value") {
  for (const char* name : {"run_completed.json", "run_failed.json", "run_waiting_hitl.json"}) {
    CAPTURE(name);
    const auto first = parse_run_status(fixture(name));
    REQUIRE(first.has_value());
    const auto again = parse_run_status(to_json(*first));
    REQUIRE(again.has_value());
    CHECK(*again == *first);
  }
  const auto s = parse_start_run(fixture("start_run.json"));
  REQUIRE(s.has_value());
  CHECK(parse_start_run(to_json(*s)).value() == *s);
}

TEST_CASE("every truncation of a sample is an error, never a crash") {
  for (const char* name : {"run_completed.json", "start_run.json", "accept.json"}) {
    const std::string body = fixture(name);
    for (std::size_t n = 0; n < body.size(); ++n) {
      // Cutting trailing whitespace leaves a complete document; everything else must fail.
      const std::string_view cut(body.data(), n);
      if (cut.find_last_not_of(" \n") == body.find_last_not_of(" \n")) {
        continue;
      }
      CAPTURE(n);
      CHECK_FALSE(parse_run_status(cut).has_value());
      CHECK_FALSE(parse_start_run(cut).has_value());
      // An empty accept body is accepted unless strict (see the empty-body case).
      CHECK(parse_accept(cut).has_value() == (n == 0));
      CHECK_FALSE(parse_accept(cut, parse_options{.strict = true}).has_value());
    }
  }
}

TEST_CASE("nesting deeper than the limit is limit_exceeded, not a stack overflow") {
  const std::size_t depth = 100000;
  std::string body = R"({"runId":"r","status":"Running","output":)";
  body.append(depth, '[');
  body.append(depth, ']');
  body += '}';
  const auto got = parse_run_status(body);
  REQUIRE_FALSE(got.has_value());
  CHECK((got.error().code == errc::limit_exceeded || got.error().code == errc::invalid_json));

  std::string ok = R"({"runId":"r","status":"Running","output":)";
  ok.append(100, '[');
  ok.append(100, ']');
  ok += '}';
  CHECK(parse_run_status(ok).has_value());
}

TEST_CASE("result::value throws phrony::exception carrying the error") {
  const auto got = parse_run_status("{}");
  REQUIRE_FALSE(got.has_value());
  try {
    (void)got.value();
    FAIL("value() did not throw");
  } catch (const phrony::exception& e) {
    CHECK(e.error().code == errc::missing_field);
    CHECK(std::string_view(e.what()).find("/runId") != std::string_view::npos);
  }
}

TEST_CASE("a true or false document with trailing whitespace is JSON of the wrong type") {
  // Found by AFL++ with the nlohmann oracle: simdjson 3.0.1's document::get_bool() refuses
  // "false" followed by two or more whitespace bytes, which made the body invalid_json.
  for (const std::string_view body :
       {"false  ", "\tfalse\t\t", "false\n\n\n \n", "false\r\n\r\n", "true   ", " true \n"}) {
    CAPTURE(body);
    for (const parse_options opts : {parse_options{}, parse_options{.strict = true}}) {
      const auto got = parse_run_status(body, opts);
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == errc::wrong_type);
    }
  }
  for (const std::string_view body : {"false  x", "false  false", "fals  ", "truex  "}) {
    CAPTURE(body);
    const auto got = parse_run_status(body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_json);
  }
}

} // namespace runs_test
