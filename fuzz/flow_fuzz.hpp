// Shared by the follower and exchange targets: FuzzedDataProvider-built HTTP outcomes (what a
// server or a transport answers) and the invariants of one exchange try.
#pragma once

#include <phrony/exchange.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzedDataProvider.h"
#include "fuzz_check.hpp"

namespace phrony_fuzz {

/// Long enough to be scrubbed (detail::min_scrubbed_secret).
inline const std::string api_key = "phk_live_FUZZ_flow_0123456789abcdef";
inline const phrony::api_config fuzz_config{"https://api.example.test", api_key, "fuzz/1"};
inline const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours{24 * 365 * 56};

/// True when `text` holds the API key.
inline bool has_key(std::string_view text) { return text.find(api_key) != std::string_view::npos; }

/// The key appears in no field of `e` (what() included).
inline void check_keyless(const phrony::error& e) {
  check(!has_key(e.what()) && !has_key(e.message) && !has_key(e.body) && !has_key(e.route) &&
            !has_key(e.path),
        "an error never holds the API key");
}

/// The key appears in `req` only as the X-API-Key header's value.
inline void check_key_only_in_auth(const phrony::http_request& req) {
  check(!has_key(req.url) && !has_key(req.body), "the key is in no URL or body");
  bool in_auth = false;
  for (const auto& h : req.headers) {
    if (h.name == "X-API-Key") {
      check(h.value == api_key, "the auth header holds the key");
      in_auth = true;
    } else {
      check(!has_key(h.value) && !has_key(h.name), "the key is in no other header");
    }
  }
  check(in_auth, "the request carries the key in its auth header");
}

/// A Retry-After value: seconds, an HTTP-date, or bytes.
inline std::string retry_after_value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
  case 0: return std::to_string(in.ConsumeIntegralInRange<int>(0, 400));
  case 1:
    return "Thu, 01 Jan 2082 00:0" + std::to_string(in.ConsumeIntegralInRange<int>(0, 9)) +
           ":00 GMT";
  case 2: return std::to_string(in.ConsumeIntegral<std::int64_t>());
  case 3: return "-1";
  default: return in.ConsumeRandomLengthString(24);
  }
}

inline constexpr std::array<int, 14> statuses = {200, 202, 204, 400, 401, 404, 408,
                                                 409, 429, 500, 502, 503, 504, 301};

/// What came back for one try. `good_body` is a well-formed 2xx body for the request (what an
/// exhausted input gives); `hostility` (0..255) is how likely anything else is.
inline phrony::result<phrony::http_response>
outcome(FuzzedDataProvider& in, const std::string& good_body, int hostility = 255) {
  using phrony::http_response;
  const int choice =
      in.ConsumeIntegralInRange<int>(0, 255) < hostility ? in.ConsumeIntegralInRange<int>(1, 7) : 0;
  if (choice == 6) {
    return phrony::make_error(phrony::errc::transport, "",
                              in.ConsumeBool() ? "connection reset" : "timed out");
  }
  if (choice == 7) { // a transport passing on the caller's cancellation
    return phrony::make_error(phrony::errc::cancelled, "", "cancelled");
  }
  http_response r;
  r.status = 200;
  r.body = good_body;
  if (choice == 0) {
    return r;
  }
  r.status = statuses[in.ConsumeIntegralInRange<std::size_t>(0, statuses.size() - 1)];
  if (in.ConsumeBool()) {
    r.headers.push_back({in.ConsumeBool() ? "Retry-After" : "retry-after", retry_after_value(in)});
  }
  switch (choice) {
  case 1: break;
  case 2: r.body = in.ConsumeRandomLengthString(256); break;
  case 3: // an error body quoting the key, as a careless server (or proxy) might
    r.body = R"({"error":"bad key )" + api_key + R"(","message":"key )" + api_key + "\"}";
    break;
  case 4:
    r.body = R"({"statusCode":)" + std::to_string(r.status) + R"(,"message":")" +
             in.ConsumeRandomLengthString(40) + "\"}";
    break;
  default: r.body = std::string(in.ConsumeIntegralInRange<std::size_t>(0, 300), 'x') + api_key;
  }
  return r;
}

/// The invariants of one exchange step, fed `response` (a copy, as it went in) after `tries`
/// tries for a request of `method` under `opts`.
inline void check_step(const phrony::exchange::step& s,
                       const phrony::result<phrony::http_response>& response,
                       std::string_view method, int tries, const phrony::exchange_options& opts) {
  using std::chrono::milliseconds;
  const bool too_long =
      response && opts.max_response_body > 0 && response->body.size() > opts.max_response_body;
  if (s.retry_in) {
    check(tries < opts.retry.max_attempts, "tries are bounded by max_attempts");
    check(phrony::is_idempotent(method) || opts.retry.retry_non_idempotent,
          "a POST is retried only when the policy says so");
    check(!too_long, "a body over the bound is not retried");
    check(!response || phrony::retry_policy::retryable_status(response->status),
          "only a retryable status is retried");
    check(response || response.error().code == phrony::errc::transport,
          "only a transport error is retried");
    check(s.retry_in->count() >= 0, "a wait is never negative");
    check(*s.retry_in <= std::max<milliseconds>(opts.retry.max_retry_after, opts.retry.max_delay),
          "a wait never exceeds the policy's caps");
  }
  if (too_long) {
    check(!s.outcome && s.outcome.error().code == phrony::errc::limit_exceeded,
          "a body over max_response_body is limit_exceeded");
  } else if (response && response->status >= 200 && response->status <= 299) {
    check(!s.retry_in, "a 2xx ends the exchange");
    check(s.outcome && s.outcome->status == response->status && s.outcome->body == response->body,
          "a 2xx is the outcome as it came");
  } else if (response) {
    check(!s.outcome && s.outcome.error().code == phrony::errc::http_status &&
              s.outcome.error().status == response->status,
          "a non-2xx is an http_status error carrying the status");
    check(s.outcome.error().body.size() <= opts.max_error_body, "the error body is bounded");
    check(s.outcome.error().method == method, "the error names the method");
  } else {
    check(!s.outcome && s.outcome.error().code == response.error().code,
          "a transport's error is the outcome");
  }
  if (!s.outcome) {
    check_keyless(s.outcome.error());
  }
}

/// exchange_options from the input: few tries, small waits, small bounds.
inline phrony::exchange_options exchange_options_from(FuzzedDataProvider& in) {
  phrony::exchange_options o;
  if (!in.ConsumeBool()) {
    return o;
  }
  o.retry.max_attempts = in.ConsumeIntegralInRange<int>(0, 5);
  o.retry.base_delay = std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 2000));
  o.retry.max_delay = std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 30'000));
  o.retry.max_retry_after = std::chrono::seconds(in.ConsumeIntegralInRange<int>(0, 300));
  o.retry.retry_non_idempotent = in.ConsumeBool();
  o.max_error_body = in.ConsumeIntegralInRange<std::size_t>(0, 512);
  o.max_response_body = in.ConsumeIntegralInRange<std::size_t>(0, 4096);
  return o;
}

} // namespace phrony_fuzz
