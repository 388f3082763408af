#include <phrony/http_error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "test_util.hpp"

namespace http_error_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::chrono_literals;
using phrony_test::fixture;
using phrony_test::generated;

namespace {

using sys_clock = std::chrono::system_clock;

sys_clock::time_point at(std::int64_t unix_seconds) {
  return sys_clock::time_point{std::chrono::seconds{unix_seconds}};
}

// 2026-05-13T08:15:00Z
const sys_clock::time_point now = at(1778660100);

const std::string key = "phk_live_7f3c9a1e5b2d4c6e8a0b1d3f5e7a9c1b";
const std::string run = "77fa34b4-12d6-4fd6-8c23-77526537307d";

api_config config() {
  api_config c;
  c.api_key = key;
  return c;
}

} // namespace

TEST_CASE("Retry-After delay-seconds and the three HTTP-date forms parse") {
  struct row {
    std::string_view text;
    std::optional<retry_hint> want;
  };
  const row rows[] = {
      {"120", retry_hint{120s}},
      {"0", retry_hint{0s}},
      {" 5 ", retry_hint{5s}},
      {"\t7", retry_hint{7s}},
      {"0030", retry_hint{30s}},
      // Absurd delays are clamped to 10^9 s, so millisecond arithmetic later cannot overflow.
      {"99999999999999999999999", retry_hint{1'000'000'000s}},
      {"Sun, 06 Nov 1994 08:49:37 GMT", retry_hint{at(784111777)}},
      {"Sunday, 06-Nov-94 08:49:37 GMT", retry_hint{at(784111777)}},
      {"Sun Nov  6 08:49:37 1994", retry_hint{at(784111777)}},
      {"Thu, 01 Jan 1970 00:00:00 GMT", retry_hint{at(0)}},
      {"Wed, 13 May 2026 08:15:00 GMT", retry_hint{at(1778660100)}},
      {"Sat, 29 Feb 2020 12:00:00 GMT", retry_hint{at(1582977600)}},
      {"Sat Feb 29 12:00:00 2020", retry_hint{at(1582977600)}},
      // rfc850 years: more than 50 years ahead of now means the previous century (RFC 9110).
      {"Thursday, 01-Jan-70 00:00:00 GMT", retry_hint{at(3155760000)}},
      {"Saturday, 01-Jan-77 00:00:00 GMT", retry_hint{at(220924800)}},
      {"", std::nullopt},
      {"  ", std::nullopt},
      {"-1", std::nullopt},
      {"+5", std::nullopt},
      {"1.5", std::nullopt},
      {"5s", std::nullopt},
      {"0x10", std::nullopt},
      {"1 2", std::nullopt},
      {"tomorrow", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
      {"Sun, 6 Nov 1994 08:49:37 GMT", std::nullopt},
      {"sun, 06 Nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 94 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 24:00:00 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:60:00 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:61 GMT", std::nullopt},
      {"Sun, 31 Nov 1994 08:49:37 GMT", std::nullopt},
      {"Fri, 29 Feb 2019 12:00:00 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 GMT x", std::nullopt},
      {"Sun, 06 Nov 1994 8:49:37 GMT", std::nullopt},
      {"Sun Nov 6 08:49:37 1994", std::nullopt},
      {"Sunday, 06-Nov-1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06-Nov-94 08:49:37 GMT", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(parse_retry_after(r.text, now) == r.want);
  }
}

TEST_CASE("a Retry-After date becomes a delay from now, never negative") {
  const auto later = parse_retry_after("Wed, 13 May 2026 08:16:30 GMT", now);
  REQUIRE(later.has_value());
  CHECK(later->delay_from(now) == 90s);
  const auto past = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now);
  REQUIRE(past.has_value());
  CHECK(past->delay_from(now) == 0s);
  CHECK(parse_retry_after("45", now)->delay_from(now) == 45s);
}

TEST_CASE("Retry-After dates beyond the clock's range clamp instead of overflowing") {
  // Found by fuzz_error_body: year 1052 overflowed the nanosecond conversion (UBSan).
  using namespace std::chrono;
  // A date past 2200 means 2200; its delay, like delay-seconds, is at most ~31 years.
  const auto far_future = std::min(ceil<seconds>(sys_days{year{2200} / January / 1} - now),
                                   seconds{detail::max_retry_after_seconds});
  struct row {
    std::string_view text;
    seconds want;
  };
  const row rows[] = {
      {"Wed, 21 Oct 1052 07:28:00 GMT", 0s},    {"Sat, 01 Jan 0000 00:00:00 GMT", 0s},
      {"Sun Nov  6 08:49:37 1600", 0s},         {"Fri, 31 Dec 9999 23:59:59 GMT", far_future},
      {"Fri Dec 31 23:59:59 2300", far_future},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    const auto hint = parse_retry_after(r.text, now);
    REQUIRE(hint.has_value());
    CHECK(hint->delay_from(now) == r.want);
  }
}

TEST_CASE("error body samples parse; message is kept raw and readable as text") {
  struct row {
    std::string body;
    std::int64_t status;
    std::string message;
    std::string error;
  };
  const row rows[] = {
      {fixture("error_401.json"), 401, "Invalid or missing API key", "Unauthorized"},
      {generated("error_429.json"), 429,
       "Concurrency limit reached for this trigger (5 running sessions)", "Too Many Requests"},
      {generated("error_500.json"), 500, "Internal server error", "Internal Server Error"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const auto got = parse_error_body(r.body);
    REQUIRE(got.has_value());
    CHECK(got->status_code == r.status);
    CHECK(got->message == raw_json{"\"" + r.message + "\""});
    CHECK(got->message_text() == r.message);
    CHECK(got->error == r.error);
    CHECK(got->extra.empty());
  }
}

TEST_CASE("error body messages: strings, NestJS validation arrays, and odd shapes") {
  struct row {
    std::string_view body;
    std::optional<std::string> text;
  };
  const row rows[] = {
      {R"({"message":"a \"quoted\" \u00fc\nline"})", "a \"quoted\" ü\nline"},
      {R"({"statusCode":400,"message":["filename must be shorter than or equal to 512 )"
       R"(characters","mediaType should not be empty"],"error":"Bad Request"})",
       "filename must be shorter than or equal to 512 characters; mediaType should not be empty"},
      {R"({"message":[]})", ""},
      {R"({"message":["a", 5, {"b": 1}]})", R"(a; 5; {"b": 1})"},
      {R"({"message":{"detail":"x"}})", R"({"detail":"x"})"},
      {R"({"message":null})", std::nullopt},
      {R"({"error":"Forbidden"})", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const auto got = parse_error_body(r.body);
    REQUIRE(got.has_value());
    CHECK(got->message_text() == r.text);
  }

  const auto extra =
      parse_error_body(R"({"statusCode":404,"message":"x","path":"/v1/runs/r","ts":1})");
  REQUIRE(extra.has_value());
  REQUIRE(extra->extra.size() == 2);
  CHECK(extra->extra[0] == std::pair<phrony::text, raw_json>{"path", {"\"/v1/runs/r\""}});
  CHECK(to_json(*extra) == R"({"statusCode":404,"message":"x","path":"/v1/runs/r","ts":1})");

  struct bad {
    std::string_view body;
    errc code;
    std::string_view path;
  };
  const bad bads[] = {
      {R"({"statusCode":"401"})", errc::wrong_type, "/statusCode"},
      {R"({"error":5})", errc::wrong_type, "/error"},
      {"<html>502</html>", errc::invalid_json, ""},
      {"", errc::invalid_json, ""},
      {"[]", errc::wrong_type, ""},
  };
  for (const auto& b : bads) {
    CAPTURE(b.body);
    const auto got = parse_error_body(b.body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == b.code);
    CHECK(got.error().path == b.path);
  }
}

TEST_CASE("http_error keeps status, method, route and the raw body, with a useful message") {
  const auto cfg = config();
  const auto get_run = get_run_request(cfg, run).value();
  const auto start = start_run_request(cfg, "c963cfe0-afae-4a3b-b909-6a04e7d80068").value();
  const auto presign = presign_request(cfg, {"a.pdf", "application/pdf", 1}).value();
  const auto skip = skip_agent_wait_request(cfg, run).value();
  const std::string e401 = fixture("error_401.json");
  const std::string e429 = generated("error_429.json");
  const std::string e500 = generated("error_500.json");

  struct row {
    std::string_view name;
    int status;
    const http_request& req;
    std::string body;
    std::optional<std::string_view> retry_after;
    std::string_view message_has; // the message contains this
    std::optional<retry_hint> want_retry;
  };
  const row rows[] = {
      {"401 JSON", 401, get_run, e401, std::nullopt, "Invalid or missing API key", std::nullopt},
      {"429 JSON with delay", 429, start, e429, "30", "Concurrency limit reached", retry_hint{30s}},
      {"429 with a date", 429, start, "", "Wed, 13 May 2026 08:16:30 GMT", "limit",
       retry_hint{at(1778660190)}},
      {"429 with a garbage Retry-After", 429, start, "", "soon", "limit", std::nullopt},
      {"500 JSON", 500, get_run, e500, std::nullopt, "Internal server error", std::nullopt},
      {"502 HTML", 502, get_run, "<html><body>Bad gateway</body></html>", std::nullopt,
       "bad gateway", std::nullopt},
      {"401 empty", 401, get_run, "", std::nullopt, "API key", std::nullopt},
      {"403 on a run", 403, get_run, "Forbidden", std::nullopt, "scope", std::nullopt},
      {"403 on the file library", 403, presign, "", std::nullopt, "file uploads", std::nullopt},
      {"404", 404, get_run, "not json", std::nullopt, "unknown run", std::nullopt},
      {"400 on skip-agent-wait", 400, skip, "", std::nullopt, "WaitingForTimer", std::nullopt},
      {"JSON without message", 500, get_run, R"({"statusCode":500})", std::nullopt,
       "internal server error", std::nullopt},
      {"JSON with empty message", 404, get_run, R"({"message":""})", std::nullopt, "unknown run",
       std::nullopt},
      {"JSON array body", 503, get_run, "[1]", std::nullopt, "unavailable", std::nullopt},
      {"unusual status", 418, get_run, "", std::nullopt, "client error", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const error e = http_error(r.status, r.req, r.body, r.retry_after);
    CHECK(e.code == errc::http_status);
    CHECK(e.status == r.status);
    CHECK(e.method == r.req.method);
    CHECK(e.route == r.req.route());
    CHECK(e.route.starts_with("/v1/"));
    CHECK(e.body == r.body);
    CHECK(e.path.empty());
    CHECK(e.message.find(r.message_has) != std::string::npos);
    if (r.want_retry) {
      REQUIRE(e.retry_after.has_value());
      // A date hint is compared as the delay it gives from the test's clock.
      CHECK(e.retry_after->delay_from(now) == r.want_retry->delay_from(now));
    } else {
      CHECK_FALSE(e.retry_after.has_value());
    }
    CHECK(e.what().starts_with("HTTP " + std::to_string(r.status) + " from " + r.req.method +
                               " /v1/"));
  }
  const error e = http_error(401, get_run, e401, std::nullopt);
  CHECK(e.what() == "HTTP 401 from GET /v1/runs/" + run + ": Invalid or missing API key");
  CHECK(e.message == "Invalid or missing API key");
}

TEST_CASE("http_error never carries the API key or presigned credentials") {
  const auto cfg = config();
  const auto get_run = get_run_request(cfg, run).value();
  const std::string echo =
      R"({"statusCode":401,"message":"API key )" + key + R"( is revoked","error":"Unauthorized"})";
  const error e = http_error(401, get_run, echo, std::nullopt);
  CHECK(e.message == "API key [redacted] is revoked");
  CHECK(e.body.find(key) == std::string::npos);
  CHECK(e.body.find("[redacted]") != std::string::npos);
  CHECK(e.what().find(key) == std::string::npos);
  CHECK(e.route.find(key) == std::string::npos);

  const auto presigned = parse_presign(fixture("presign.json")).value();
  const auto upload = upload_request(presigned, "bytes").value();
  const error s3 =
      http_error(403, upload, "<Error><Code>SignatureDoesNotMatch</Code></Error>", std::nullopt);
  CHECK(s3.method == "PUT");
  CHECK(s3.route.starts_with("/tenant/"));
  CHECK(s3.route.find("X-Amz-Signature=[redacted]") != std::string::npos);
  CHECK(s3.route.find("83a50dd234afed66") == std::string::npos);
  CHECK(s3.message.find("upload URL") != std::string::npos);
  CHECK(s3.body == "<Error><Code>SignatureDoesNotMatch</Code></Error>");
}

} // namespace http_error_test
