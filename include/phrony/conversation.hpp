// phrony: the body of GET /v1/runs/{runId}/conversation: the session, its runs and the merged
// timeline, with each item's content typed by the item's `type`.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "phrony/config.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/error.hpp"
#include "phrony/indirect.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/runs.hpp"

namespace phrony {

// ---- session and runs -------------------------------------------------------------------------

/// The settings a session started with (session.startContext); every key may be absent.
struct start_context {
  std::optional<std::int64_t> version;
  std::optional<raw_json> user_input;
  std::optional<text> llm_model;
  std::optional<double> temperature;
  std::optional<std::int64_t> max_tokens_per_run;
  std::optional<std::int64_t> max_session_tokens;
  std::optional<std::int64_t> max_session_duration_sec;
  std::optional<std::int64_t> max_iterations;
  std::optional<std::int64_t> max_tool_calls;
  std::optional<text> instructions;
  std::optional<text> sub_agent_execution_model;
  std::optional<bool> can_execute_sub_agents;
  std::optional<std::optional<double>> top_p; ///< absent (outer), or null (inner)
  std::optional<std::optional<double>> top_k; ///< absent (outer), or null (inner)
  std::optional<text> agent_execution_mode;
  std::optional<text> root_agent_execution_mode;
  std::optional<std::int64_t> max_depth;
  extra_fields extra;

  friend bool operator==(const start_context&, const start_context&) = default;
};

/// The session a conversation belongs to.
struct conversation_session {
  text id;
  text tenant_id;
  text agent_id;
  text agent_version_id;
  std::optional<text> llm_model;
  text trigger_type;
  std::optional<text> triggered_by;
  std::optional<text> trigger_id;
  std::optional<text> trigger_name;
  text status; ///< wire string; see state()
  std::int64_t total_tokens_used = 0;
  raw_json output; ///< any JSON; "null" when none (or redacted)
  std::optional<text> error;
  text started_at;
  std::optional<text> finished_at;
  raw_json input;                                     ///< any JSON; "null" when redacted
  std::optional<phrony::start_context> start_context; ///< null when redacted
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const conversation_session&, const conversation_session&) = default;
};

/// One run of the session: the root (depth 0) or a sub-agent run.
struct conversation_run {
  text id;
  text session_id;
  text agent_id;
  text agent_version_id;
  std::optional<text> parent_run_id; ///< null for the root run
  std::int64_t depth = 0;
  text status; ///< wire string; see state()
  std::int64_t total_tokens_used = 0;
  raw_json output;
  std::optional<text> error;
  std::optional<text> started_at; ///< null while queued (runs.mdx: "string or null")
  std::optional<text> finished_at;
  text trigger_type;
  // SPEC.md does not mark these |null for runs, but the session's copies are nullable (scheduled
  // sessions have no triggeredBy), so a null is accepted rather than failing the whole body.
  std::optional<text> triggered_by;
  std::optional<text> trigger_id;
  std::optional<text> trigger_name;
  raw_json input;
  std::optional<text> llm_model;
  std::optional<text> agent_name;
  std::optional<text> version_label;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const conversation_run&, const conversation_run&) = default;
};

// ---- item contents ----------------------------------------------------------------------------

/// The stanza engine steps start their content with. Every key is optional: stepContent=slim
/// drops the six ids, and synthetic rows carry only run_id or session_id.
struct step_stanza {
  std::optional<text> run_id;
  std::optional<text> session_id;
  std::optional<text> tenant_id;
  std::optional<text> agent_id;
  std::optional<text> agent_version_id;
  std::optional<text> event_id;
  std::optional<std::int64_t> sequence;
  std::optional<text> step_kind;
  std::optional<std::int64_t> iteration;

  friend bool operator==(const step_stanza&, const step_stanza&) = default;
};

/// Content of an `llm_request_prepared` item.
struct llm_request_prepared_content : step_stanza {
  text model;
  extra_fields extra;

  friend bool operator==(const llm_request_prepared_content&,
                         const llm_request_prepared_content&) = default;
};

/// Content of a `reasoning` item.
struct reasoning_content : step_stanza {
  text message;
  text preview;
  std::optional<std::int64_t> tokens_used;
  extra_fields extra;

  friend bool operator==(const reasoning_content&, const reasoning_content&) = default;
};

/// Content of a `ToolCall` item (sub-agent spawns are ToolCalls named "phrony_subagent").
struct tool_call_content : step_stanza {
  text name;
  raw_json arguments;
  text tool_call_id;
  std::optional<text> operation_name;
  extra_fields extra;

  friend bool operator==(const tool_call_content&, const tool_call_content&) = default;
};

/// The outcome a ToolResult carries.
struct tool_result {
  std::optional<raw_json> data; ///< absent, or any JSON ("null" when the call failed)
  raw_json error;               ///< any JSON (the docs do not fix it): usually a string, or "null"
  std::optional<text> log_id;
  std::optional<bool> successful;
  extra_fields extra;

  /// The error's text when it is a JSON string (the common case), else nullopt.
  [[nodiscard]] std::optional<std::string> error_text() const {
    return detail::string_value(error);
  }
  friend bool operator==(const tool_result&, const tool_result&) = default;
};

/// Content of a `ToolResult` item.
struct tool_result_content : step_stanza {
  text tool_call_id;
  tool_result result;
  extra_fields extra;

  friend bool operator==(const tool_result_content&, const tool_result_content&) = default;
};

/// Content of an `output` item.
struct output_content : step_stanza {
  std::optional<std::int64_t> tokens_used; ///< absent or null
  std::optional<std::int64_t> total_tokens_used;
  extra_fields extra;

  friend bool operator==(const output_content&, const output_content&) = default;
};

/// One choice of a multi-option user task.
struct user_task_option {
  text id;
  text label;
  extra_fields extra;

  friend bool operator==(const user_task_option&, const user_task_option&) = default;
};

/// Content of a `UserTaskReq` item. Only user_task_id is documented; the rest is typed where
/// it has an obvious shape and kept in extra otherwise.
struct user_task_req_content : step_stanza {
  text user_task_id;          ///< answer the task with this id
  std::optional<text> kind;   ///< "approval", "multi_option", "text", "number" ...
  std::optional<text> prompt; ///< what the person is asked
  std::optional<text> title;
  std::optional<text> status; ///< "pending"/"Pending" until answered
  std::optional<std::vector<user_task_option>> options;
  extra_fields extra;

  friend bool operator==(const user_task_req_content&, const user_task_req_content&) = default;
};

/// What the synthetic completion items carry: how a run or the session ended.
struct completion_content : step_stanza {
  text status; ///< wire string; see state()
  raw_json output;
  std::optional<text> error;
  std::optional<std::int64_t> total_tokens_used;
  extra_fields extra;

  [[nodiscard]] run_state state() const noexcept { return parse_run_state(status); }
  friend bool operator==(const completion_content&, const completion_content&) = default;
};

/// Content of the synthetic `RunCompleted` item (one per finished run).
struct run_completed_content : completion_content {
  friend bool operator==(const run_completed_content&, const run_completed_content&) = default;
};

/// Content of the synthetic `SessionCompleted` item (the last row of a finished session).
struct session_completed_content : completion_content {
  friend bool operator==(const session_completed_content&,
                         const session_completed_content&) = default;
};

/// Content of an item type this library does not know, verbatim (the service adds types).
struct unknown_content {
  raw_json raw;

  friend bool operator==(const unknown_content&, const unknown_content&) = default;
};

/// The item types this library knows; the server may send others (item_type::unknown).
enum class item_type {
  llm_request_prepared,
  reasoning,
  tool_call,
  tool_result,
  output,
  user_task_req,
  run_completed,
  session_completed,
  unknown,
};

/// Maps a wire type ("ToolCall") to an item_type; unknown strings give item_type::unknown.
/// runs.mdx spells `Reasoning` where the SDK sends `reasoning`: both are item_type::reasoning.
[[nodiscard]] constexpr item_type parse_item_type(std::string_view wire) noexcept {
  if (wire == "llm_request_prepared") return item_type::llm_request_prepared;
  if (wire == "reasoning" || wire == "Reasoning") return item_type::reasoning; // SDK, runs.mdx
  if (wire == "ToolCall") return item_type::tool_call;
  if (wire == "ToolResult") return item_type::tool_result;
  if (wire == "output") return item_type::output;
  if (wire == "UserTaskReq") return item_type::user_task_req;
  if (wire == "RunCompleted") return item_type::run_completed;
  if (wire == "SessionCompleted") return item_type::session_completed;
  return item_type::unknown;
}

/// The wire string of a known item type ("" for unknown: keep the original string instead).
[[nodiscard]] constexpr std::string_view to_string(item_type t) noexcept {
  switch (t) {
  case item_type::llm_request_prepared: return "llm_request_prepared";
  case item_type::reasoning: return "reasoning";
  case item_type::tool_call: return "ToolCall";
  case item_type::tool_result: return "ToolResult";
  case item_type::output: return "output";
  case item_type::user_task_req: return "UserTaskReq";
  case item_type::run_completed: return "RunCompleted";
  case item_type::session_completed: return "SessionCompleted";
  case item_type::unknown: return "";
  }
  return "";
}

/// An item's content: monostate for JSON null, else the alternative its `type` selects.
/// The alternatives after monostate follow item_type's order, unknown_content last.
using item_content =
    std::variant<std::monostate, llm_request_prepared_content, reasoning_content, tool_call_content,
                 tool_result_content, output_content, user_task_req_content, run_completed_content,
                 session_completed_content, unknown_content>;

// ---- timeline ---------------------------------------------------------------------------------

/// One row of the merged timeline.
struct timeline_item {
  text run_id;
  text id;
  std::int64_t sequence = 0; ///< per run, not a global order
  std::int64_t ordinal = 0;  ///< 1-based global order: sort by this
  text type;                 ///< wire string; see kind()
  /// Typed by `type`; unknown_content when the type is unknown, or when (tolerant parsing) the
  /// content does not have its type's shape: then content_error says why.
  indirect<item_content> content;
  std::optional<std::int64_t> tokens_used;
  std::optional<text> error;
  std::optional<text> started_at; ///< runs.mdx: "string or null"
  std::optional<text> finished_at;
  extra_fields extra;
  /// Why a known type's content was kept verbatim (path from the body's root, message); set by
  /// tolerant parsing only, never written by to_json (a re-parse finds it again).
  optional_indirect<phrony::error> content_error;

  [[nodiscard]] item_type kind() const noexcept { return parse_item_type(type); }
  /// The content as `T`, or nullptr when it holds another alternative.
  template <class T> [[nodiscard]] const T* content_as() const noexcept {
    return std::get_if<T>(&content.get());
  }
  friend bool operator==(const timeline_item&, const timeline_item&) = default;
};

/// Body of GET /v1/runs/{runId}/conversation.
struct conversation {
  conversation_session session;
  std::vector<conversation_run> runs;
  std::vector<timeline_item> items;
  extra_fields extra;

  /// Puts items in timeline order (by ordinal; equal ordinals keep their order).
  PHRONY_LAZY PHRONY_DECL void sort_by_ordinal();
  friend bool operator==(const conversation&, const conversation&) = default;
};

namespace detail {
/// What pending_user_tasks reads from a UserTaskReq content kept verbatim (tolerant parsing):
/// the documented user_task_id, and the other details wherever they have the usual shape.
struct loose_user_task {
  text user_task_id;
  std::optional<raw_json> kind;
  std::optional<raw_json> prompt;
  std::optional<raw_json> status;
  std::optional<raw_json> options;
  extra_fields extra;
};
} // namespace detail

// ---- schemas ----------------------------------------------------------------------------------

} // namespace phrony

#if PHRONY_WITH_IMPL
#include <algorithm>

#include "phrony/detail/json.hpp"

namespace phrony::detail {

template <std::same_as<start_context> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      opt("version", &T::version), opt("userInput", &T::user_input), opt("llmModel", &T::llm_model),
      opt("temperature", &T::temperature), opt("maxTokensPerRun", &T::max_tokens_per_run),
      opt("maxSessionTokens", &T::max_session_tokens),
      opt("maxSessionDurationSec", &T::max_session_duration_sec),
      opt("maxIterations", &T::max_iterations), opt("maxToolCalls", &T::max_tool_calls),
      opt("instructions", &T::instructions),
      opt("subAgentExecutionModel", &T::sub_agent_execution_model),
      opt("canExecuteSubAgents", &T::can_execute_sub_agents), opt("topP", &T::top_p),
      opt("topK", &T::top_k), opt("agentExecutionMode", &T::agent_execution_mode),
      opt("rootAgentExecutionMode", &T::root_agent_execution_mode), opt("maxDepth", &T::max_depth));
};

template <std::same_as<conversation_session> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("id", &T::id), req("tenantId", &T::tenant_id), req("agentId", &T::agent_id),
      req("agentVersionId", &T::agent_version_id), req("llmModel", &T::llm_model),
      req("triggerType", &T::trigger_type), req("triggeredBy", &T::triggered_by),
      req("triggerId", &T::trigger_id), req("triggerName", &T::trigger_name),
      req("status", &T::status), req("totalTokensUsed", &T::total_tokens_used),
      req("output", &T::output), req("error", &T::error), req("startedAt", &T::started_at),
      req("finishedAt", &T::finished_at), req("input", &T::input),
      req("startContext", &T::start_context));
};

template <std::same_as<conversation_run> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("id", &T::id), req("sessionId", &T::session_id), req("agentId", &T::agent_id),
      req("agentVersionId", &T::agent_version_id), req("parentRunId", &T::parent_run_id),
      req("depth", &T::depth), req("status", &T::status),
      req("totalTokensUsed", &T::total_tokens_used), req("output", &T::output),
      req("error", &T::error), req("startedAt", &T::started_at), req("finishedAt", &T::finished_at),
      req("triggerType", &T::trigger_type), req("triggeredBy", &T::triggered_by),
      req("triggerId", &T::trigger_id), req("triggerName", &T::trigger_name),
      req("input", &T::input), req("llmModel", &T::llm_model), req("agentName", &T::agent_name),
      req("versionLabel", &T::version_label));
};

/// The stanza's descriptors, prepended to each content type's own.
template <class T>
inline constexpr auto stanza_fields = std::make_tuple(
    opt("run_id", &T::run_id), opt("session_id", &T::session_id), opt("tenant_id", &T::tenant_id),
    opt("agent_id", &T::agent_id), opt("agent_version_id", &T::agent_version_id),
    opt("event_id", &T::event_id), opt("sequence", &T::sequence), opt("step_kind", &T::step_kind),
    opt("iteration", &T::iteration));

template <std::same_as<llm_request_prepared_content> T> struct schema<T> {
  static constexpr auto fields =
      std::tuple_cat(stanza_fields<T>, std::make_tuple(req("model", &T::model)));
};
template <std::same_as<reasoning_content> T> struct schema<T> {
  static constexpr auto fields = std::tuple_cat(
      stanza_fields<T>, std::make_tuple(req("message", &T::message), req("preview", &T::preview),
                                        opt("tokens_used", &T::tokens_used)));
};
template <std::same_as<tool_call_content> T> struct schema<T> {
  static constexpr auto fields = std::tuple_cat(
      stanza_fields<T>, std::make_tuple(req("name", &T::name), req("arguments", &T::arguments),
                                        req("tool_call_id", &T::tool_call_id),
                                        opt("operation_name", &T::operation_name)));
};
template <std::same_as<tool_result> T> struct schema<T> {
  static constexpr auto fields =
      std::make_tuple(opt("data", &T::data), req("error", &T::error), opt("log_id", &T::log_id),
                      opt("successful", &T::successful));
};
template <std::same_as<tool_result_content> T> struct schema<T> {
  static constexpr auto fields =
      std::tuple_cat(stanza_fields<T>, std::make_tuple(req("tool_call_id", &T::tool_call_id),
                                                       req("result", &T::result)));
};
template <std::same_as<output_content> T> struct schema<T> {
  static constexpr auto fields = std::tuple_cat(
      stanza_fields<T>, std::make_tuple(opt("tokens_used", &T::tokens_used),
                                        opt("total_tokens_used", &T::total_tokens_used)));
};
template <std::same_as<user_task_option> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(req("id", &T::id), req("label", &T::label));
};
template <std::same_as<user_task_req_content> T> struct schema<T> {
  static constexpr auto fields =
      std::tuple_cat(stanza_fields<T>,
                     std::make_tuple(req("user_task_id", &T::user_task_id), opt("kind", &T::kind),
                                     opt("prompt", &T::prompt), opt("title", &T::title),
                                     opt("status", &T::status), opt("options", &T::options)));
};
template <class T>
requires std::same_as<T, run_completed_content> || std::same_as<T, session_completed_content>
struct schema<T> {
  static constexpr auto fields = std::tuple_cat(
      stanza_fields<T>,
      std::make_tuple(req("status", &T::status), req("output", &T::output), req("error", &T::error),
                      opt("total_tokens_used", &T::total_tokens_used)));
};

// The content readers below are templates (over a type that is always the one named) so that a
// translation unit including this header without parsing a conversation instantiates none of
// the schema machinery for its nine content types: it is most of this header's compile cost.

/// Reads the non-null value `v` as the content of an item of type `type`: a known type needs
/// an object; an unknown one keeps any JSON verbatim.
template <std::same_as<item_content> Content>
[[nodiscard]] read_status read_non_null_content(std::string_view type, od::value& v, const path& p,
                                                read_context& ctx, Content& out) {
  // The alternative a reused item already holds is read over, keeping its storage.
  const auto read_as = [&]<class C>(std::in_place_type_t<C>) -> read_status {
    C* c = std::get_if<C>(&out);
    return read_value(v, p, ctx, c != nullptr ? *c : out.template emplace<C>());
  };
  switch (parse_item_type(type)) {
  case item_type::llm_request_prepared:
    return read_as(std::in_place_type<llm_request_prepared_content>);
  case item_type::reasoning: return read_as(std::in_place_type<reasoning_content>);
  case item_type::tool_call: return read_as(std::in_place_type<tool_call_content>);
  case item_type::tool_result: return read_as(std::in_place_type<tool_result_content>);
  case item_type::output: return read_as(std::in_place_type<output_content>);
  case item_type::user_task_req: return read_as(std::in_place_type<user_task_req_content>);
  case item_type::run_completed: return read_as(std::in_place_type<run_completed_content>);
  case item_type::session_completed: return read_as(std::in_place_type<session_completed_content>);
  case item_type::unknown: break;
  }
  auto* unknown = std::get_if<unknown_content>(&out);
  return read_raw(
      v, p, (unknown != nullptr ? *unknown : out.template emplace<unknown_content>()).raw.text,
      ctx);
}

/// Reads `v` as the content of an item of type `type`: JSON null is std::monostate (kept without
/// a heap copy).
template <std::same_as<indirect<item_content>> Content>
[[nodiscard]] read_status read_item_content(std::string_view type, od::value& v, const path& p,
                                            read_context& ctx, Content& out) {
  bool is_null = false;
  if (auto ec = v.is_null().get(is_null)) {
    return fail_read(ec, v, p, "a JSON value");
  }
  if (is_null) {
    out.reset();
    return {};
  }
  return read_non_null_content(type, v, p, ctx, out.get());
}

/// True for the failures tolerant parsing keeps an item for: the content is well-formed JSON of
/// another shape than its type's. Malformed JSON and exceeded limits fail in both modes.
[[nodiscard]] inline bool is_shape_error(errc c) noexcept {
  return c == errc::wrong_type || c == errc::missing_field || c == errc::out_of_range;
}

/// Past the bracket that closes the container opening at `p`, or nullptr when `end` comes
/// first. Strings are skipped whole, so brackets in them do not count.
[[nodiscard]] inline const char* container_end(const char* p, const char* end) noexcept {
  std::size_t depth = 0;
  for (; p < end; ++p) {
    switch (*p) {
    case '"':
      for (++p; p < end && *p != '"'; ++p) {
        if (*p == '\\') {
          ++p;
        }
      }
      if (p >= end) {
        return nullptr;
      }
      break;
    case '{':
    case '[': ++depth; break;
    case '}':
    case ']':
      if (--depth == 0) {
        return p + 1;
      }
      break;
    default: break;
    }
  }
  return nullptr;
}

/// Checks that `text`, set aside from the body at `p`, is one well-formed JSON value, with the
/// thread's second parser (the main one is busy with the whole body).
[[nodiscard]] inline read_status validate_set_aside(deferred_content& s, std::string_view text,
                                                    const path& p) {
  const simdjson::padded_string_view padded = padded_copy(s.padded, text);
  od::document doc;
  if (auto ec = s.parser.iterate(padded).get(doc)) {
    return fail_json(ec, p, "a JSON value");
  }
  od::value v;
  if (auto ec = doc.get_value().get(v)) {
    if (ec == simdjson::SCALAR_DOCUMENT_AS_VALUE && scalar_document_is_valid(doc, text)) {
      return {};
    }
    return fail_at(errc::invalid_json, p, "not a JSON value");
  }
  PHRONY_CHECK(validate_value(v, p));
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return fail_at(errc::invalid_json, p, "trailing content after the JSON value");
  }
  return {};
}

/// The unknown_content `out` holds, or a new one (a reused item keeps its text's storage).
template <std::same_as<item_content> Content> [[nodiscard]] text& verbatim_slot(Content& out) {
  auto* unknown = std::get_if<unknown_content>(&out);
  return (unknown != nullptr ? *unknown : out.template emplace<unknown_content>()).raw.text;
}

/// Tolerant parsing, after the content at `v` failed to read as its known type (the failure
/// waits in failure_slot()): on a shape error, the half-read typed content gives way to the
/// content's verbatim text and `why` takes the failure; any other failure stands. `v` may have
/// been read partway: its text is found from its first byte, and the item's object skips the
/// rest of it when it moves on.
template <std::same_as<item_content> Content>
PHRONY_COLD read_status keep_verbatim(od::value& v, const path& p, read_context& ctx, Content& out,
                                      optional_indirect<error>& why) {
  error e = take_failure();
  if (!is_shape_error(e.code)) {
    return fail(std::move(e));
  }
  const std::string_view token = v.raw_json_token();
  std::string_view text = trim_json_space(token);
  if (token.front() == '{' || token.front() == '[') {
    const char* const end = container_end(token.data(), ctx.doc_end);
    if (end == nullptr) {
      return fail_at(errc::invalid_json, p, "unterminated value");
    }
    text = std::string_view(token.data(), static_cast<std::size_t>(end - token.data()));
    auto& s = local_deferred_content();
    PHRONY_CHECK(validate_set_aside(s, text, p));
    release_buffers(s, false);
  } else {
    // A scalar is read here, on the body's own iterator: left unread, simdjson 3.0.1 would skip
    // it when the item's object moves on, and a string followed by ':' (`"content":"u":"x",...`)
    // is skipped as if it were a key, which hid the malformed body (fuzz_conversation found it).
    PHRONY_CHECK(validate_value(v, p));
  }
  assign_string(verbatim_slot(out), text);
  why = std::move(e);
  return {};
}

/// Parses a content whose text was set aside because it preceded its item's "type".
template <std::same_as<indirect<item_content>> Content>
[[nodiscard]] read_status read_deferred_content(deferred_content& s, std::string_view type,
                                                const path& p, bool strict, Content& out) {
  if (s.raw == "null") {
    out.reset();
    return {};
  }
  if (parse_item_type(type) == item_type::unknown) {
    assign_string(verbatim_slot(out.get()), s.raw);
    return {};
  }
  const simdjson::padded_string_view text = padded_copy(s.padded, s.raw);
  od::document doc;
  if (auto ec = s.parser.iterate(text).get(doc)) {
    return fail_json(ec, p, "a JSON document");
  }
  od::value v;
  if (auto ec = doc.get_value().get(v)) {
    // The text was validated when it was set aside, so only a scalar can fail here.
    return ec == simdjson::SCALAR_DOCUMENT_AS_VALUE
               ? fail_at(errc::wrong_type, p, "expected object")
               : fail_json(ec, p, "a JSON value");
  }
  read_context ctx{s.padded.data() + s.padded.size(), strict};
  // Not read_item_content: simdjson cannot ask a document's root value is_null(), and "null"
  // was settled above.
  return read_non_null_content(type, v, p, ctx, out.get());
}

template <std::same_as<timeline_item> T> struct schema<T> {
  // "content" stays in the table (optional, as read_field takes it) so that canonical output
  // writes it after "type", which lets a re-parse type it without the deferred path.
  static constexpr auto fields = std::make_tuple(
      req("runId", &T::run_id), req("id", &T::id), req("sequence", &T::sequence),
      req("ordinal", &T::ordinal), req("type", &T::type), opt("content", &T::content),
      req("tokensUsed", &T::tokens_used), req("error", &T::error), req("startedAt", &T::started_at),
      req("finishedAt", &T::finished_at));
  static constexpr std::size_t type_index = 4;
  static constexpr std::size_t content_index = 5;
  static_assert(std::get<type_index>(fields).name == "type" &&
                std::get<content_index>(fields).name == "content");
  static constexpr std::uint64_t type_bit = std::uint64_t{1} << type_index;
  static constexpr std::uint64_t content_bit = std::uint64_t{1} << content_index;
  /// Set in the seen-mask while the content waits in local_deferred_content().
  static constexpr std::uint64_t deferred_bit = std::uint64_t{1} << 63;

  static read_status read_field(T& item, std::size_t i, std::uint64_t before, std::uint64_t& seen,
                                od::value& v, const path& p, read_context& ctx, bool& handled) {
    if (i == type_index) {
      if ((before & type_bit) != 0) {
        // A second "type" could contradict the content already typed by the first.
        return fail_at(errc::invalid_json, p, "duplicate key");
      }
      return {}; // the table reads the value
    }
    if (i != content_index) {
      return {};
    }
    handled = true;
    item.content_error.reset();
    if ((before & type_bit) != 0) {
      seen &= ~deferred_bit;
      if (read_item_content(item.type, v, p, ctx, item.content).failed) {
        if (ctx.strict) {
          return {true};
        }
        return keep_verbatim(v, p, ctx, item.content.get(), item.content_error);
      }
      return {};
    }
    seen |= deferred_bit;
    return read_raw(v, p, local_deferred_content().raw, ctx);
  }

  static read_status finish_fields(T& item, std::uint64_t seen, const path& p, read_context& ctx) {
    if ((seen & content_bit) == 0) {
      return fail_at(errc::missing_field, p.field("content"), "missing required field");
    }
    if ((seen & deferred_bit) != 0) {
      auto& s = local_deferred_content();
      if (read_deferred_content(s, item.type, p.field("content"), ctx.strict, item.content)
              .failed) {
        if (ctx.strict) {
          return {true};
        }
        PHRONY_CHECK(keep_deferred_verbatim(s, item));
      }
      release_buffers(s, false);
    }
    return {};
  }

  /// keep_verbatim for a content that was set aside (its text is already checked).
  PHRONY_COLD static read_status keep_deferred_verbatim(deferred_content& s, T& item) {
    error e = take_failure();
    if (!is_shape_error(e.code)) {
      return fail(std::move(e));
    }
    assign_string(verbatim_slot(item.content.get()), s.raw);
    item.content_error = std::move(e);
    return {};
  }
};

template <> struct codec<item_content> {
  // Never reached while parsing: schema<timeline_item>::read_field owns "content", since
  // its shape depends on the item's type.
  template <std::same_as<item_content> C>
  static read_status read(od::value& v, const path& p, read_context& ctx, C& out) {
    return read_raw(v, p, out.template emplace<unknown_content>().raw.text, ctx);
  }
  template <std::same_as<item_content> C> static void write(json_writer& w, const C& c) {
    std::visit(
        [&](const auto& alt) {
          using A = std::remove_cvref_t<decltype(alt)>;
          if constexpr (std::is_same_v<A, std::monostate>) {
            w.null();
          } else if constexpr (std::is_same_v<A, unknown_content>) {
            w.raw(alt.raw);
          } else {
            write_value(w, alt);
          }
        },
        c);
  }
};

template <std::same_as<conversation> T> struct schema<T> {
  static constexpr auto fields =
      std::make_tuple(req("session", &T::session), req("runs", &T::runs), req("items", &T::items));
};

template <std::same_as<loose_user_task> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("user_task_id", &T::user_task_id), opt("kind", &T::kind), opt("prompt", &T::prompt),
      opt("status", &T::status), opt("options", &T::options));
};

} // namespace phrony::detail
#endif

PHRONY_DETAIL_VALUE(start_context)
PHRONY_DETAIL_VALUE(conversation_session)
PHRONY_DETAIL_VALUE(conversation_run)
PHRONY_DETAIL_VALUE(llm_request_prepared_content)
PHRONY_DETAIL_VALUE(reasoning_content)
PHRONY_DETAIL_VALUE(tool_call_content)
PHRONY_DETAIL_VALUE(tool_result)
PHRONY_DETAIL_VALUE(tool_result_content)
PHRONY_DETAIL_VALUE(output_content)
PHRONY_DETAIL_VALUE(user_task_option)
PHRONY_DETAIL_VALUE(user_task_req_content)
PHRONY_DETAIL_VALUE(timeline_item)
PHRONY_DETAIL_VALUE(conversation)
PHRONY_DETAIL_READABLE(loose_user_task)       // pending_user_tasks reads kept contents with
PHRONY_DETAIL_READABLE(std::vector<raw_json>) // these two

namespace phrony {

// ---- user tasks -------------------------------------------------------------------------------

/// The kinds of user task (concepts/user-task.mdx). The set is open: new kinds map to
/// `unknown` and keep their wire string in pending_user_task::kind.
enum class user_task_kind {
  approval,        ///< approve or reject a pending tool call ("approval", legacy "hitl")
  multi_option,    ///< pick one of the offered options
  text,            ///< enter a text value
  number,          ///< enter a number
  aitl_escalation, ///< a sub-agent's question to a person: completed in the dashboard
  anomaly_review,  ///< a firewall step: completed in the dashboard
  anomaly_alert,   ///< a firewall alert (non-blocking): completed in the dashboard
  unknown,         ///< absent, or a kind this library does not know
};

/// Maps a wire kind ("multi_option", "hitl") to a user_task_kind; others give unknown.
[[nodiscard]] constexpr user_task_kind parse_user_task_kind(std::string_view wire) noexcept {
  if (wire == "approval" || wire == "hitl") return user_task_kind::approval;
  if (wire == "multi_option") return user_task_kind::multi_option;
  if (wire == "text") return user_task_kind::text;
  if (wire == "number") return user_task_kind::number;
  if (wire == "aitl_escalation") return user_task_kind::aitl_escalation;
  if (wire == "anomaly_review") return user_task_kind::anomaly_review;
  if (wire == "anomaly_alert") return user_task_kind::anomaly_alert;
  return user_task_kind::unknown;
}

/// The wire string of a known kind ("" for unknown: keep the original string instead).
[[nodiscard]] constexpr std::string_view to_string(user_task_kind k) noexcept {
  switch (k) {
  case user_task_kind::approval: return "approval";
  case user_task_kind::multi_option: return "multi_option";
  case user_task_kind::text: return "text";
  case user_task_kind::number: return "number";
  case user_task_kind::aitl_escalation: return "aitl_escalation";
  case user_task_kind::anomaly_review: return "anomaly_review";
  case user_task_kind::anomaly_alert: return "anomaly_alert";
  case user_task_kind::unknown: return "";
  }
  return "";
}

/// False for the kinds user-task.mdx says only the dashboard completes (escalations from
/// multi-agent runs, firewall and alert steps): answering them through the API gets a 400.
/// Unknown kinds are left to the caller, who may know more than this library.
[[nodiscard]] constexpr bool api_can_answer(user_task_kind k) noexcept {
  return k != user_task_kind::aitl_escalation && k != user_task_kind::anomaly_review &&
         k != user_task_kind::anomaly_alert;
}

// ---- entry points -----------------------------------------------------------------------------

/// Parses the body of GET /v1/runs/{runId}/conversation (full, slim or redacted); to_json
/// writes an item's "type" before its "content", so a re-parse types it in one pass.
inline constexpr detail::body_parser<conversation> parse_conversation{};

/// A user task waiting for an answer (POST /v1/runs/{run_id}/messages with user_task_id).
struct pending_user_task {
  text run_id;
  text user_task_id;
  std::optional<text> kind;
  std::optional<text> prompt;
  std::vector<user_task_option> options; ///< empty unless the task offers choices
  std::int64_t ordinal = 0;              ///< of the UserTaskReq item

  /// The kind as an enum (user_task_kind::unknown when absent or not known here).
  [[nodiscard]] user_task_kind kind_enum() const noexcept {
    return kind ? parse_user_task_kind(*kind) : user_task_kind::unknown;
  }
  /// False when only the dashboard can complete this task (see api_can_answer).
  [[nodiscard]] bool api_can_answer() const noexcept { return phrony::api_can_answer(kind_enum()); }

  friend bool operator==(const pending_user_task&, const pending_user_task&) = default;
};

/// True when a UserTaskReq has not been answered: its status says pending or, with no status,
/// its item has not finished.
[[nodiscard]] PHRONY_DECL bool is_pending(const user_task_req_content& task,
                                          const timeline_item& item) noexcept;

/// The task to answer for each run that is not finished (sub-agent runs included): its latest
/// unanswered UserTaskReq by ordinal. Items of runs missing from `c.runs` are ignored, since
/// nothing says whether those runs still wait. A UserTaskReq whose content tolerant parsing kept
/// verbatim counts too, read as far as it goes (options given as plain strings become options
/// whose id and label are that string). Ordered by ordinal.
PHRONY_LAZY [[nodiscard]] PHRONY_DECL std::vector<pending_user_task>
pending_user_tasks(const conversation& c);

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).

namespace phrony {

PHRONY_LAZY_DEF PHRONY_DECL void conversation::sort_by_ordinal() {
  std::stable_sort(items.begin(), items.end(), [](const timeline_item& a, const timeline_item& b) {
    return a.ordinal < b.ordinal;
  });
}

PHRONY_DECL bool is_pending(const user_task_req_content& task, const timeline_item& item) noexcept {
  if (task.status) {
    return *task.status == "pending" || *task.status == "Pending";
  }
  return !item.finished_at.has_value();
}

namespace detail {

/// A string member of a kept content, when it is one.
[[nodiscard]] PHRONY_DECL std::optional<text> loose_string(const std::optional<raw_json>& v) {
  if (auto s = v ? string_value(*v) : std::nullopt) {
    return text(*s);
  }
  return std::nullopt;
}

/// The options of a kept task: objects with a string id and label, or plain strings (the
/// string is both); other elements are left out.
PHRONY_LAZY [[nodiscard]] PHRONY_DECL std::vector<user_task_option>
loose_options(const std::optional<raw_json>& raw) {
  std::vector<user_task_option> out;
  if (!raw) {
    return out;
  }
  const auto elements = parse_body<std::vector<raw_json>>(raw->text);
  if (!elements) {
    return out;
  }
  for (const auto& element : *elements) {
    if (auto s = string_value(element)) {
      out.push_back({text(*s), text(*s), {}});
    } else if (auto option = parse_body<user_task_option>(element.text)) {
      out.push_back(std::move(*option));
    }
  }
  return out;
}

/// The task a UserTaskReq item asks, if it is still waiting for an answer: from its typed
/// content, or (kept verbatim by tolerant parsing) from what can be read of its text.
PHRONY_LAZY [[nodiscard]] PHRONY_DECL std::optional<pending_user_task>
pending_task_of(const timeline_item& item) {
  if (const auto* task = item.content_as<user_task_req_content>()) {
    if (!is_pending(*task, item)) {
      return std::nullopt;
    }
    return pending_user_task{item.run_id,
                             task->user_task_id,
                             task->kind,
                             task->prompt,
                             task->options.value_or(std::vector<user_task_option>{}),
                             item.ordinal};
  }
  const auto* kept = item.content_as<unknown_content>();
  if (kept == nullptr || item.kind() != item_type::user_task_req) {
    return std::nullopt;
  }
  const auto loose = parse_body<loose_user_task>(kept->raw.text);
  if (!loose) {
    return std::nullopt; // no user_task_id to answer with
  }
  const auto status = loose_string(loose->status);
  if (status ? *status != "pending" && *status != "Pending" : item.finished_at.has_value()) {
    return std::nullopt;
  }
  return pending_user_task{item.run_id,
                           loose->user_task_id,
                           loose_string(loose->kind),
                           loose_string(loose->prompt),
                           loose_options(loose->options),
                           item.ordinal};
}

} // namespace detail

PHRONY_LAZY_DEF PHRONY_DECL std::vector<pending_user_task>
pending_user_tasks(const conversation& c) {
  std::vector<std::optional<pending_user_task>> latest(c.runs.size());
  for (const auto& item : c.items) {
    if (item.kind() != item_type::user_task_req) {
      continue;
    }
    for (std::size_t r = 0; r < c.runs.size(); ++r) {
      if (c.runs[r].id != item.run_id) {
        continue;
      }
      if (!is_terminal(c.runs[r].state()) && (!latest[r] || latest[r]->ordinal < item.ordinal)) {
        if (auto task = detail::pending_task_of(item)) {
          latest[r] = std::move(task);
        }
      }
      break;
    }
  }
  std::vector<pending_user_task> out;
  for (auto& task : latest) {
    if (task) {
      out.push_back(std::move(*task));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; });
  return out;
}

} // namespace phrony
#endif
