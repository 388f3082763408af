#include <phrony/error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace error_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;

TEST_CASE("result holds a value or an error, with std::expected's member names") {
  result<int> ok = 7;
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK(*ok == 7);
  CHECK(ok.value() == 7);
  CHECK(ok.value_or(3) == 7);

  result<int> bad = make_error(errc::wrong_type, "/a/0", "expected string");
  CHECK_FALSE(bad.has_value());
  CHECK(bad.value_or(3) == 3);
  CHECK(bad.error().code == errc::wrong_type);
  CHECK(bad.error().path == "/a/0");
  CHECK_THROWS_AS((void)bad.value(), phrony::exception);

  result<void> done;
  CHECK(done.has_value());
  CHECK_NOTHROW(done.value());
  result<void> failed = make_error(errc::cancelled, "", "stopped");
  CHECK_FALSE(failed.has_value());
  CHECK(failed.error().code == errc::cancelled);
  CHECK_THROWS_AS(failed.value(), phrony::exception);
}

TEST_CASE("error::what puts the JSON Pointer first, and HTTP errors name the route") {
  CHECK(make_error(errc::wrong_type, "/items/3/ordinal", "expected number").what() ==
        "/items/3/ordinal: expected number");
  CHECK(make_error(errc::invalid_json, "", "trailing content").what() == "trailing content");

  error http = make_error(errc::http_status, "", "rate limited");
  http.status = 429;
  http.method = "POST";
  http.route = "/v1/agents/a/runs";
  CHECK(http.what() == "HTTP 429 from POST /v1/agents/a/runs: rate limited");
}

TEST_CASE("error::what stays one line: control bytes from a peer are written as \\u00XX") {
  // A hostile body's key ("expir\0conds", found by AFL++) used to cut what() at the NUL, and a
  // newline or an escape sequence went into the log line as it was.
  using namespace std::string_literals;
  const error key = make_error(errc::wrong_type, "/expir\0conds/a\nb"s, "expected number");
  CHECK(key.path == "/expir\0conds/a\nb"s); // the pointer itself is kept exact
  CHECK(key.what() == "/expir\\u0000conds/a\\u000ab: expected number");
  const phrony::exception thrown(key);
  CHECK(std::string(thrown.what()) == key.what());

  error http = make_error(errc::http_status, "", "\x1b[2Jdone\x7f");
  http.status = 500;
  http.method = "GET";
  http.route = "/v1/runs/r";
  CHECK(http.what() == "HTTP 500 from GET /v1/runs/r: \\u001b[2Jdone\\u007f");
  CHECK(make_error(errc::invalid_json, "", "caf\xc3\xa9 \\ ok").what() == "caf\xc3\xa9 \\ ok");
}

TEST_CASE("exception carries the error and its one-line description") {
  const phrony::exception e(make_error(errc::missing_field, "/runId", "missing required field"));
  CHECK(e.error().code == errc::missing_field);
  CHECK(std::string(e.what()) == "/runId: missing required field");
}

TEST_CASE("retry hints give a non-negative delay from now") {
  using namespace std::chrono;
  const auto now = system_clock::time_point{} + hours(1000);
  struct row {
    retry_hint hint;
    seconds want;
  };
  const row rows[] = {
      {{seconds(30)}, seconds(30)},
      {{now + seconds(12)}, seconds(12)},
      {{now + milliseconds(1500)}, seconds(2)}, // rounds up: never retry early
      {{now - seconds(5)}, seconds(0)},
  };
  for (const auto& r : rows) {
    CHECK(r.hint.delay_from(now) == r.want);
  }
}

TEST_CASE("a hint's delay is clamped from any now, the clock's ends included") {
  // Found by fuzz_retry_after: at - now overflowed the clock's count (UB) for a now far before
  // the date, and a date's delay had no upper bound while delay-seconds are clamped.
  using std::chrono::seconds;
  using std::chrono::system_clock;
  const seconds most{detail::max_retry_after_seconds};
  const retry_hint far{system_clock::time_point{} + std::chrono::hours(24 * 365 * 230)};
  CHECK(far.delay_from(system_clock::time_point::min()) == most);
  CHECK(far.delay_from(system_clock::time_point{}) == most);
  CHECK(far.delay_from(system_clock::time_point::max()) == seconds(0));
  const retry_hint end{system_clock::time_point::max()};
  CHECK(end.delay_from(system_clock::time_point::min()) == most);
  CHECK(end.delay_from(system_clock::time_point::max() - seconds(3)) == seconds(3));
  CHECK(retry_hint{seconds(-5)}.delay_from(system_clock::time_point{}) == seconds(0));
  CHECK(retry_hint{most + seconds(1)}.delay_from(system_clock::time_point{}) == most);
}

TEST_CASE("every error code has a distinct name") {
  const errc all[] = {errc::invalid_json, errc::missing_field,    errc::wrong_type,
                      errc::out_of_range, errc::invalid_argument, errc::limit_exceeded,
                      errc::http_status,  errc::transport,        errc::cancelled};
  for (std::size_t i = 0; i < std::size(all); ++i) {
    CHECK(to_string(all[i]) != "unknown");
    for (std::size_t j = 0; j < i; ++j) {
      CHECK(to_string(all[i]) != to_string(all[j]));
    }
  }
}

TEST_CASE("error() of a result that holds a value is a defined 'no error', never UB") {
  const result<int> ok = 7;
  CHECK(ok.error().code == errc::invalid_argument);
  CHECK(ok.error().message.find("no error") != std::string::npos);
  CHECK(ok.error().path.empty());
  result<int> moved = 8;
  const phrony::error taken = std::move(moved).error();
  CHECK(taken.code == errc::invalid_argument);
  CHECK(*moved == 8); // the value is untouched

  const result<void> done;
  CHECK(done.error().code == errc::invalid_argument);
  CHECK(done.error().message.find("no error") != std::string::npos);
  // Moving the "no error" out twice gives it whole both times.
  for (int i = 0; i < 2; ++i) {
    result<void> again;
    const phrony::error e = std::move(again).error();
    CHECK(e.code == errc::invalid_argument);
    CHECK(e.message.find("no error") != std::string::npos);
  }
}

} // namespace error_test
