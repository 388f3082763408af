// phrony: a pure retry policy. It decides how long to wait; the caller owns the clock and sleeps.
#pragma once

#include <optional>
#include <string_view>

#include "phrony/config.hpp"
#include "phrony/detail/chrono.hpp"
#include "phrony/error.hpp"
#include "phrony/http_error.hpp"
#include "phrony/transport.hpp"

namespace phrony {

/// True for methods RFC 9110 calls idempotent (repeating them changes nothing more).
[[nodiscard]] constexpr bool is_idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

/// When and how long to retry: Retry-After first, else exponential backoff with jitter, capped.
struct retry_policy {
  int max_attempts = 4;                        ///< tries in all, the first included
  std::chrono::milliseconds base_delay{250};   ///< backoff before the second try
  std::chrono::milliseconds max_delay{20'000}; ///< backoff cap
  std::chrono::seconds max_retry_after{120};   ///< a longer Retry-After means give up
  bool retry_non_idempotent = false;           ///< also retry POST start-run / messages

  /// True for the statuses worth another try: 408, 429, 500, 502, 503, 504.
  [[nodiscard]] static constexpr bool retryable_status(int status) noexcept {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
  }

  /// The wait before the next try, or nullopt to stop (success, a final error, or out of tries).
  /// `attempt` counts the tries made so far (1 after the first); `random01` is in [0, 1).
  [[nodiscard]] PHRONY_DECL std::optional<std::chrono::milliseconds>
  next_delay(int attempt, const result<http_response>& outcome, bool idempotent, double random01,
             std::chrono::system_clock::time_point now) const;

  /// Equal-jitter exponential backoff: half the step fixed, half random, never above max_delay.
  [[nodiscard]] PHRONY_DECL std::chrono::milliseconds backoff(int attempt, double random01) const;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>

namespace phrony {

PHRONY_DECL std::optional<std::chrono::milliseconds>
retry_policy::next_delay(int attempt, const result<http_response>& outcome, bool idempotent,
                         double random01, std::chrono::system_clock::time_point now) const {
  if (attempt >= max_attempts || (!idempotent && !retry_non_idempotent)) {
    return std::nullopt;
  }
  if (!outcome) {
    if (outcome.error().code != errc::transport) {
      return std::nullopt;
    }
    return backoff(attempt, random01);
  }
  if (!retryable_status(outcome->status)) {
    return std::nullopt;
  }
  if (const auto* header = outcome->header("Retry-After")) {
    if (const auto hint = parse_retry_after(*header)) {
      const auto wait = hint->delay_from(now);
      if (wait > max_retry_after) {
        return std::nullopt;
      }
      return std::chrono::milliseconds(wait);
    }
  }
  return backoff(attempt, random01);
}

PHRONY_DECL std::chrono::milliseconds retry_policy::backoff(int attempt, double random01) const {
  const int doublings = std::clamp(attempt - 1, 0, 30);
  const auto step = std::min<std::chrono::milliseconds::rep>(
      max_delay.count(), base_delay.count() << std::min(doublings, 20));
  const double r = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(
      step / 2 + static_cast<std::chrono::milliseconds::rep>(r * static_cast<double>(step / 2)));
}

} // namespace phrony
#endif
