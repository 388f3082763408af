// phrony: run states and the bodies of start-run, run status and accept (messages, skip-wait).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "phrony/detail/parse.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"

namespace phrony {

/// A run's (or session's) status. The server may add states: those map to `unknown`, and the
/// wire string stays on the value that carried it.
enum class run_state {
  running,
  completed,
  failed,
  cancelled,
  waiting_for_hitl,     ///< an approval (or other user task) is pending
  waiting_for_aitl,     ///< a sub-agent escalated a question
  waiting_for_response, ///< the agent wants chat text (or files)
  waiting_for_timer,    ///< the agent called phrony_wait; can be skipped
  unknown,
};

/// Maps a wire string ("WaitingForHITL") to a run_state; unknown strings give run_state::unknown.
[[nodiscard]] constexpr run_state parse_run_state(std::string_view wire) noexcept {
  if (wire == "Running") return run_state::running;
  if (wire == "Completed") return run_state::completed;
  if (wire == "Failed") return run_state::failed;
  if (wire == "Cancelled") return run_state::cancelled;
  if (wire == "WaitingForHITL") return run_state::waiting_for_hitl;
  if (wire == "WaitingForAITL") return run_state::waiting_for_aitl;
  if (wire == "WaitingForResponse") return run_state::waiting_for_response;
  if (wire == "WaitingForTimer") return run_state::waiting_for_timer;
  return run_state::unknown;
}

/// The wire string of a known state ("" for unknown: keep the original string instead).
[[nodiscard]] constexpr std::string_view to_string(run_state s) noexcept {
  switch (s) {
  case run_state::running: return "Running";
  case run_state::completed: return "Completed";
  case run_state::failed: return "Failed";
  case run_state::cancelled: return "Cancelled";
  case run_state::waiting_for_hitl: return "WaitingForHITL";
  case run_state::waiting_for_aitl: return "WaitingForAITL";
  case run_state::waiting_for_response: return "WaitingForResponse";
  case run_state::waiting_for_timer: return "WaitingForTimer";
  case run_state::unknown: return "";
  }
  return "";
}

/// True for states a run never leaves: completed, failed, cancelled.
[[nodiscard]] constexpr bool is_terminal(run_state s) noexcept {
  return s == run_state::completed || s == run_state::failed || s == run_state::cancelled;
}

/// True for the Waiting* states.
[[nodiscard]] constexpr bool is_waiting(run_state s) noexcept {
  return s == run_state::waiting_for_hitl || s == run_state::waiting_for_aitl ||
         s == run_state::waiting_for_response || s == run_state::waiting_for_timer;
}

/// What the caller has to do for a run to move on from a state.
enum class run_need {
  nothing,          ///< running (keep polling) or terminal
  answer_user_task, ///< read the conversation, answer the pending UserTaskReq
  send_text,        ///< send text (or files) as a message
  skip_timer,       ///< POST skip-agent-wait, or keep polling until the timer fires
  unknown,          ///< a state this library does not know: keep polling
};

/// What a run in state `s` needs from the caller (SPEC.md, "Run statuses").
[[nodiscard]] constexpr run_need needs(run_state s) noexcept {
  switch (s) {
  case run_state::waiting_for_hitl:
  case run_state::waiting_for_aitl: return run_need::answer_user_task;
  case run_state::waiting_for_response: return run_need::send_text;
  case run_state::waiting_for_timer: return run_need::skip_timer;
  case run_state::unknown: return run_need::unknown;
  default: return run_need::nothing;
  }
}

/// Body of GET /v1/runs/{runId}.
struct run_status {
  text run_id;
  text status;     ///< wire string; see state()
  raw_json output; ///< any JSON, "null" while running
  std::optional<text> error;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const run_status&, const run_status&) = default;
};

/// Body of POST /v1/agents/{agentId}/runs (202).
struct start_run_response {
  text session_id;
  text run_id;
  text status; ///< wire string; see state()
  std::int64_t total_tokens_used = 0;
  raw_json output;
  std::optional<text> error;
  std::optional<text> agent_id;
  std::optional<text> trigger_id; ///< absent or null
  std::optional<bool> duplicate_delivery;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const start_run_response&, const start_run_response&) = default;
};

/// Body of the 202 answers to POST .../messages, .../input and .../skip-agent-wait.
struct accept_response {
  text status; ///< e.g. "Running"
  std::optional<text> error;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const accept_response&, const accept_response&) = default;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
#include "phrony/detail/json.hpp"

namespace phrony::detail {
template <std::same_as<run_status> T> struct schema<T> {
  static constexpr auto fields =
      std::make_tuple(req("runId", &T::run_id), req("status", &T::status),
                      req("output", &T::output), opt("error", &T::error));
};
template <std::same_as<start_run_response> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("sessionId", &T::session_id), req("runId", &T::run_id), req("status", &T::status),
      req("totalTokensUsed", &T::total_tokens_used), req("output", &T::output),
      opt("error", &T::error), opt("agentId", &T::agent_id), opt("triggerId", &T::trigger_id),
      opt("duplicateDelivery", &T::duplicate_delivery));
};
template <std::same_as<accept_response> T> struct schema<T> {
  static constexpr auto fields =
      std::make_tuple(req("status", &T::status), opt("error", &T::error));
};
// A 202 acknowledgement carries nothing the caller needs, so an empty one is no failure.
template <> inline constexpr bool accepts_empty_body<accept_response> = true;
} // namespace phrony::detail
#endif

PHRONY_DETAIL_VALUE(run_status)
PHRONY_DETAIL_VALUE(start_run_response)
PHRONY_DETAIL_VALUE(accept_response)

namespace phrony {

// Each parser takes a std::string_view (copied into the thread's padded buffer), or a
// simdjson::padded_string / padded_string_view that already carries simdjson's padding (parsed in
// place), then optionally a value to read over and parse_options (tolerant by default);
// to_json(value) writes the canonical JSON back.

/// Parses the body of GET /v1/runs/{runId}.
inline constexpr detail::body_parser<run_status> parse_run_status{};
/// Parses the 202 body of POST /v1/agents/{agentId}/runs.
inline constexpr detail::body_parser<start_run_response> parse_start_run{};
/// Parses the 202 body of messages, input and skip-agent-wait; an empty body reads as an
/// accept_response with an empty status, unless parse_options::strict.
inline constexpr detail::body_parser<accept_response> parse_accept{};

} // namespace phrony
