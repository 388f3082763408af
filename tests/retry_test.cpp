#include <phrony/retry.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

namespace retry_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::chrono;
using ms = milliseconds;

namespace {

result<http_response> status(int code, const char* retry_after = nullptr) {
  http_response r;
  r.status = code;
  if (retry_after != nullptr) {
    r.headers.push_back({"Retry-After", retry_after});
  }
  return r;
}

} // namespace

TEST_CASE("which outcomes are retried, and after how long") {
  // 1994-11-06 08:49:37 UTC, the RFC 9110 example date, as the caller's clock.
  const auto now = system_clock::time_point{seconds{784111777}};
  retry_policy policy; // base 250 ms, cap 20 s, 4 tries, Retry-After up to 120 s
  struct row {
    const char* what;
    result<http_response> outcome;
    bool idempotent;
    int attempt;
    double random;
    std::optional<ms> want;
  };
  const row rows[] = {
      {"200 is done", status(200), true, 1, 0.5, std::nullopt},
      {"404 is final", status(404), true, 1, 0.5, std::nullopt},
      {"400 is final", status(400), true, 1, 0.5, std::nullopt},
      {"503 backs off: half fixed, half jitter", status(503), true, 1, 0.0, ms{125}},
      {"503 full jitter", status(503), true, 1, 1.0, ms{250}},
      {"second retry doubles", status(502), true, 2, 0.0, ms{250}},
      {"third retry doubles again", status(500), true, 3, 1.0, ms{1000}},
      {"out of tries", status(503), true, 4, 0.5, std::nullopt},
      {"429 honours Retry-After seconds", status(429, "7"), true, 1, 0.9, ms{7000}},
      {"429 honours an HTTP-date", status(429, "Sun, 06 Nov 1994 08:49:47 GMT"), true, 1, 0.9,
       ms{10000}},
      {"a past HTTP-date means now", status(503, "Sun, 06 Nov 1994 08:00:00 GMT"), true, 1, 0.9,
       ms{0}},
      {"too long a Retry-After gives up", status(429, "3600"), true, 1, 0.5, std::nullopt},
      {"a garbage Retry-After falls back to backoff", status(429, "soon"), true, 1, 0.0, ms{125}},
      {"POST is not retried by default", status(503), false, 1, 0.5, std::nullopt},
      {"POST is not retried on 429 either", status(429, "1"), false, 1, 0.5, std::nullopt},
      {"transport errors back off", result<http_response>(make_error(errc::transport, "", "reset")),
       true, 1, 0.0, ms{125}},
      {"other errors are final",
       result<http_response>(make_error(errc::invalid_argument, "", "bad id")), true, 1, 0.0,
       std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    CHECK(policy.next_delay(r.attempt, r.outcome, r.idempotent, r.random, now) == r.want);
  }
}

TEST_CASE("retrying non-idempotent calls is opt-in") {
  retry_policy policy;
  policy.retry_non_idempotent = true;
  CHECK(policy.next_delay(1, status(429, "2"), false, 0.5, system_clock::now()) == ms{2000});
}

TEST_CASE("backoff never exceeds the cap, however many attempts") {
  retry_policy policy;
  policy.max_attempts = 1000;
  for (int attempt = 1; attempt < 200; ++attempt) {
    CAPTURE(attempt);
    const auto d = policy.backoff(attempt, 0.999);
    CHECK(d <= policy.max_delay);
    CHECK(d >= ms{0});
  }
  CHECK(policy.backoff(100, 1.0) == policy.max_delay);
}

TEST_CASE("idempotent methods per RFC 9110") {
  CHECK(is_idempotent("GET"));
  CHECK(is_idempotent("PUT"));
  CHECK_FALSE(is_idempotent("POST"));
  CHECK_FALSE(is_idempotent("PATCH"));
}

} // namespace retry_test
