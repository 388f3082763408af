// phrony: the body of GET /v1/agents/{agentId}/sessions (a page of session rows).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phrony/detail/parse.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/runs.hpp"

namespace phrony {

/// One session of an agent, as listed by GET /v1/agents/{agentId}/sessions.
struct session_row {
  text id;
  text tenant_id;
  text agent_id;
  text agent_version_id;
  std::optional<text> llm_model;
  text trigger_type; ///< open set: "api", "scheduled", "manual" ...
  std::optional<text> triggered_by;
  std::optional<text> trigger_id;
  std::optional<text> trigger_name;
  text status; ///< wire string; see state()
  std::int64_t total_tokens_used = 0;
  raw_json output; ///< any JSON; "null" when none (or redacted)
  std::optional<text> error;
  raw_json input;         ///< any JSON; "null" when redacted
  raw_json start_context; ///< an object, or "null" when redacted
  std::optional<text> root_run_id;
  text started_at; ///< ISO-8601
  std::optional<text> finished_at;
  std::int64_t run_count = 0;
  std::optional<text> entry_run_id;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const session_row&, const session_row&) = default;
};

/// Body of GET /v1/agents/{agentId}/sessions: one page of rows and the total across pages.
struct sessions_page {
  std::vector<session_row> items;
  std::int64_t total = 0;
  extra_fields extra;

  friend bool operator==(const sessions_page&, const sessions_page&) = default;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
#include "phrony/detail/json.hpp"

namespace phrony::detail {
template <std::same_as<session_row> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("id", &T::id), req("tenantId", &T::tenant_id), req("agentId", &T::agent_id),
      req("agentVersionId", &T::agent_version_id), req("llmModel", &T::llm_model),
      req("triggerType", &T::trigger_type), req("triggeredBy", &T::triggered_by),
      req("triggerId", &T::trigger_id), req("triggerName", &T::trigger_name),
      req("status", &T::status), req("totalTokensUsed", &T::total_tokens_used),
      req("output", &T::output), req("error", &T::error), req("input", &T::input),
      req("startContext", &T::start_context), req("rootRunId", &T::root_run_id),
      req("startedAt", &T::started_at), req("finishedAt", &T::finished_at),
      req("runCount", &T::run_count), req("entryRunId", &T::entry_run_id));

  // startContext stays verbatim, but SPEC.md says object|null: anything else is a wrong type.
  static read_status finish(T& row, const path& p, read_context&) {
    const auto& text = row.start_context.text;
    if (!text.starts_with('{') && !row.start_context.is_null()) {
      return fail_at(errc::wrong_type, p.field("startContext"), "expected object or null");
    }
    return {};
  }
};
template <std::same_as<sessions_page> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(req("items", &T::items), req("total", &T::total));
};
} // namespace phrony::detail
#endif

PHRONY_DETAIL_VALUE(session_row)
PHRONY_DETAIL_VALUE(sessions_page)

namespace phrony {

/// Parses the body of GET /v1/agents/{agentId}/sessions (see parse_run_status for the argument
/// types); to_json(value) writes the canonical JSON back.
inline constexpr detail::body_parser<sessions_page> parse_sessions_page{};

} // namespace phrony
