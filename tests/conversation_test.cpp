#include <phrony/conversation.hpp>

#include <doctest/doctest.h>
#include <simdjson.h> // padded bodies, as a caller with simdjson passes them

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "phrony/detail/json.hpp" // the reading core itself, in both modes
#include "test_util.hpp"

namespace conversation_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using phrony_test::fixture;
using phrony_test::generated;

namespace {

// ---- a hand-written conversation, as (key, JSON text) pairs so cases can edit one member ------

using phrony_test::members;
using phrony_test::object_text;
using phrony_test::with;
using phrony_test::without;

std::string json_str(std::string_view s) { return '"' + std::string(s) + '"'; }

members base_session() {
  return {{"id", R"("s-1")"},
          {"tenantId", R"("t-1")"},
          {"agentId", R"("a-1")"},
          {"agentVersionId", R"("v-1")"},
          {"llmModel", R"("o4-mini")"},
          {"triggerType", R"("api")"},
          {"triggeredBy", R"("apiKey:k-1")"},
          {"triggerId", R"("tr-1")"},
          {"triggerName", R"("Support")"},
          {"status", R"("Completed")"},
          {"totalTokensUsed", "30"},
          {"output", R"({"ok": true})"},
          {"error", "null"},
          {"startedAt", R"("2026-01-01T00:00:00.000Z")"},
          {"finishedAt", R"("2026-01-01T00:01:00.000Z")"},
          {"input", R"({"q": "\u00fc"})"},
          {"startContext",
           R"({"version":2,"userInput":{"q":"ü"},"llmModel":"o4-mini","temperature":0.5,)"
           R"("maxTokensPerRun":2000,"maxSessionTokens":9000,"maxSessionDurationSec":60,)"
           R"("maxIterations":4,"maxToolCalls":6,"instructions":"Be brief.\n- no emojis",)"
           R"("subAgentExecutionModel":"parallel","canExecuteSubAgents":true,"topP":null,)"
           R"("topK":40,"agentExecutionMode":"HITL","rootAgentExecutionMode":"AUTO",)"
           R"("maxDepth":3,"memory":{"kind":"vector"}})"}};
}

members base_run(std::string_view id, std::string_view parent, int depth) {
  return {{"id", json_str(id)},
          {"sessionId", R"("s-1")"},
          {"agentId", R"("a-1")"},
          {"agentVersionId", R"("v-1")"},
          {"parentRunId", parent.empty() ? "null" : json_str(parent)},
          {"depth", std::to_string(depth)},
          {"status", R"("Completed")"},
          {"totalTokensUsed", "18"},
          {"output", R"({"done":true})"},
          {"error", "null"},
          {"startedAt", R"("2026-01-01T00:00:00.000Z")"},
          {"finishedAt", R"("2026-01-01T00:00:50.000Z")"},
          {"triggerType", R"("api")"},
          {"triggeredBy", R"("apiKey:k-1")"},
          {"triggerId", R"("tr-1")"},
          {"triggerName", R"("Support")"},
          {"input", R"({"task":"check"})"},
          {"llmModel", R"("o4-mini")"},
          {"agentName", "null"},
          {"versionLabel", R"("v2")"}};
}

struct item_spec {
  std::string run_id;
  std::string type;
  members content;
  std::string tokens = "null";
};

// One item of every known type, plus one the library does not know.
std::vector<item_spec> base_item_specs() {
  return {
      {"r-root",
       "llm_request_prepared",
       {{"run_id", R"("r-root")"},
        {"session_id", R"("s-1")"},
        {"tenant_id", R"("t-1")"},
        {"agent_id", R"("a-1")"},
        {"agent_version_id", R"("v-1")"},
        {"event_id", R"("e-1")"},
        {"sequence", "1"},
        {"step_kind", R"("llm_request_prepared")"},
        {"iteration", "1"},
        {"model", R"("o4-mini")"},
        {"message_count", "3"}}},
      {"r-root",
       "reasoning",
       {{"sequence", "2"},
        {"message", R"("Let me check.\n\"quoted\" \ud83d\ude00")"},
        {"preview", R"("Let me check.")"},
        {"tokens_used", "12"}},
       "12"},
      {"r-root",
       "ToolCall",
       {{"name", R"("stripe.list_charges")"},
        {"arguments", R"({"limit": 3, "q": [1, 2]})"},
        {"tool_call_id", R"("call_1")"},
        {"operation_name", R"("List charges")"}}},
      {"r-root",
       "ToolResult",
       {{"tool_call_id", R"("call_1")"},
        {"name", R"("stripe.list_charges")"},
        {"result", R"({"data":{"rows":[]},"error":null,"log_id":"log-1","successful":true})"}}},
      {"r-sub",
       "UserTaskReq",
       {{"user_task_id", R"("ut-1")"},
        {"kind", R"("multi_option")"},
        {"prompt", R"("Pick one")"},
        {"title", R"("Choose")"},
        {"status", R"("completed")"},
        {"options", R"([{"id":"a","label":"A"},{"id":"b","label":"B","hint":1}])"},
        {"outcome", R"({"selected_option_id":"a"})"}}},
      {"r-sub", "MemoryWrite", {{"key", R"("k")"}, {"value", R"([1, 2, {"x": null}])"}}},
      {"r-sub",
       "output",
       {{"output", R"({"done":true})"}, {"tokens_used", "null"}, {"total_tokens_used", "18"}}},
      {"r-sub",
       "RunCompleted",
       {{"run_id", R"("r-sub")"},
        {"status", R"("Completed")"},
        {"output", R"({"done":true})"},
        {"error", "null"},
        {"total_tokens_used", "18"}}},
      {"r-root",
       "RunCompleted",
       {{"run_id", R"("r-root")"},
        {"status", R"("Failed")"},
        {"output", "null"},
        {"error", R"("boom")"},
        {"total_tokens_used", "12"}}},
      {"r-root",
       "SessionCompleted",
       {{"session_id", R"("s-1")"},
        {"status", R"("Completed")"},
        {"output", R"({"ok": true})"},
        {"error", "null"},
        {"total_tokens_used", "30"}}},
  };
}

members item_members(const item_spec& s, std::size_t index) {
  return {{"runId", json_str(s.run_id)},
          {"id", json_str("i-" + std::to_string(index))},
          {"sequence", std::to_string(index + 1)},
          {"ordinal", std::to_string(index + 1)},
          {"type", json_str(s.type)},
          {"content", object_text(s.content)},
          {"tokensUsed", s.tokens},
          {"error", "null"},
          {"startedAt", R"("2026-01-01T00:00:01.000Z")"},
          {"finishedAt", R"("2026-01-01T00:00:02.000Z")"}};
}

struct body_parts {
  members top_extra;
  members session = base_session();
  std::vector<members> runs = {base_run("r-root", "", 0), base_run("r-sub", "r-root", 1)};
  std::vector<members> items;

  body_parts() {
    const auto specs = base_item_specs();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      items.push_back(item_members(specs[i], i));
    }
  }

  [[nodiscard]] std::string text() const {
    std::string out = R"({"session":)" + object_text(session) + R"(,"runs":[)";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      out += i ? "," : "";
      out += object_text(runs[i]);
    }
    out += R"(],"items":[)";
    for (std::size_t i = 0; i < items.size(); ++i) {
      out += i ? "," : "";
      out += object_text(items[i]);
    }
    out += ']';
    for (const auto& [k, v] : top_extra) {
      out += ",\"" + k + "\":" + v;
    }
    return out + '}';
  }
};

/// The variant index SPEC.md's type names select (item_content's documented order).
std::size_t expected_index(std::string_view type) {
  struct row {
    std::string_view type;
    std::size_t index;
  };
  const row rows[] = {{"llm_request_prepared", 1}, {"reasoning", 2},       {"ToolCall", 3},
                      {"ToolResult", 4},           {"output", 5},          {"UserTaskReq", 6},
                      {"RunCompleted", 7},         {"SessionCompleted", 8}};
  for (const auto& r : rows) {
    if (r.type == type) {
      return r.index;
    }
  }
  return 9;
}

const step_stanza* stanza_of(const timeline_item& item) {
  return std::visit(
      [](const auto& alt) -> const step_stanza* {
        if constexpr (std::is_base_of_v<step_stanza, std::remove_cvref_t<decltype(alt)>>) {
          return &alt;
        } else {
          return nullptr;
        }
      },
      *item.content);
}

/// What stepContent=slim removes from every content.
void drop_slim_keys(conversation& c) {
  for (auto& item : c.items) {
    std::visit(
        [](auto& alt) {
          if constexpr (std::is_base_of_v<step_stanza, std::remove_cvref_t<decltype(alt)>>) {
            alt.run_id.reset();
            alt.session_id.reset();
            alt.tenant_id.reset();
            alt.agent_id.reset();
            alt.agent_version_id.reset();
            alt.event_id.reset();
          }
        },
        *item.content);
  }
}

std::string minified(const std::string& json) {
  std::string out(json.size(), '\0');
  std::size_t len = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), len) != simdjson::SUCCESS) {
    return "minify failed";
  }
  out.resize(len);
  return out;
}

void check_error(const result<conversation>& got, errc code, std::string_view path) {
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == code);
  CHECK(got.error().path == path);
  CHECK_FALSE(got.error().message.empty());
}

constexpr parse_options strict{.strict = true};

/// Item `i`'s content (JSON text `content`) has a shape its type does not expect: strict parsing
/// fails the body with `code` at `path`; tolerant parsing keeps the rest of the body, the content
/// verbatim and the same error on the item, and a re-parse of its canonical JSON finds it again.
void check_content_kept(const std::string& body, std::size_t i, std::string_view content, errc code,
                        std::string_view path) {
  check_error(parse_conversation(body, strict), code, path);
  const auto c = parse_conversation(body);
  REQUIRE(c.has_value());
  REQUIRE(i < c->items.size());
  const auto& item = c->items[i];
  const auto* raw = item.content_as<unknown_content>();
  REQUIRE(raw != nullptr);
  CHECK(raw->raw.text == content);
  REQUIRE(item.content_error.has_value());
  CHECK(item.content_error->code == code);
  CHECK(item.content_error->path == path);
  CHECK_FALSE(item.content_error->message.empty());
  for (std::size_t j = 0; j < c->items.size(); ++j) {
    CHECK(c->items[j].content_error.has_value() == (j == i));
  }
  const auto again = parse_conversation(to_json(*c));
  REQUIRE(again.has_value());
  CHECK(*again == *c);
}

} // namespace

TEST_CASE("a conversation with every known item type parses into typed contents") {
  const body_parts parts;
  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());

  const auto& s = c->session;
  CHECK(s.id == "s-1");
  CHECK(s.tenant_id == "t-1");
  CHECK(s.llm_model == "o4-mini");
  CHECK(s.triggered_by == "apiKey:k-1");
  CHECK(s.state() == run_state::completed);
  CHECK(s.total_tokens_used == 30);
  CHECK(s.output.text == R"({"ok": true})");
  CHECK_FALSE(s.error.has_value());
  CHECK(s.finished_at == "2026-01-01T00:01:00.000Z");
  CHECK(s.input.text == R"({"q": "\u00fc"})");
  REQUIRE(s.start_context.has_value());
  const auto& sc = *s.start_context;
  CHECK(sc.version == 2);
  CHECK(sc.user_input == raw_json{R"({"q":"ü"})"});
  CHECK(sc.llm_model == "o4-mini");
  CHECK(sc.temperature == 0.5);
  CHECK(sc.max_tokens_per_run == 2000);
  CHECK(sc.max_session_tokens == 9000);
  CHECK(sc.max_session_duration_sec == 60);
  CHECK(sc.max_iterations == 4);
  CHECK(sc.max_tool_calls == 6);
  CHECK(sc.instructions == "Be brief.\n- no emojis");
  CHECK(sc.sub_agent_execution_model == "parallel");
  CHECK(sc.can_execute_sub_agents == true);
  REQUIRE(sc.top_p.has_value());      // present ...
  CHECK_FALSE(sc.top_p->has_value()); // ... and null
  CHECK(sc.top_k == std::optional<double>(40));
  CHECK(sc.agent_execution_mode == "HITL");
  CHECK(sc.root_agent_execution_mode == "AUTO");
  CHECK(sc.max_depth == 3);
  REQUIRE(sc.extra.size() == 1);
  CHECK(sc.extra[0] == std::pair<phrony::text, raw_json>{"memory", {R"({"kind":"vector"})"}});

  REQUIRE(c->runs.size() == 2);
  CHECK_FALSE(c->runs[0].parent_run_id.has_value());
  CHECK(c->runs[1].parent_run_id == "r-root");
  CHECK(c->runs[1].depth == 1);
  CHECK_FALSE(c->runs[1].agent_name.has_value());
  CHECK(c->runs[1].version_label == "v2");
  CHECK(c->runs[1].input.text == R"({"task":"check"})");

  REQUIRE(c->items.size() == 10);
  const auto& items = c->items;
  CHECK(items[0].run_id == "r-root");
  CHECK(items[0].id == "i-0");
  CHECK(items[0].ordinal == 1);
  CHECK(items[0].kind() == item_type::llm_request_prepared);
  CHECK_FALSE(items[0].tokens_used.has_value());
  CHECK(items[1].tokens_used == 12);
  CHECK(items[9].finished_at == "2026-01-01T00:00:02.000Z");

  const auto* llm = items[0].content_as<llm_request_prepared_content>();
  REQUIRE(llm != nullptr);
  CHECK(llm->run_id == "r-root");
  CHECK(llm->session_id == "s-1");
  CHECK(llm->tenant_id == "t-1");
  CHECK(llm->agent_id == "a-1");
  CHECK(llm->agent_version_id == "v-1");
  CHECK(llm->event_id == "e-1");
  CHECK(llm->sequence == 1);
  CHECK(llm->step_kind == "llm_request_prepared");
  CHECK(llm->iteration == 1);
  CHECK(llm->model == "o4-mini");
  CHECK(llm->extra == extra_fields{{"message_count", {"3"}}});

  const auto* reasoning = items[1].content_as<reasoning_content>();
  REQUIRE(reasoning != nullptr);
  CHECK_FALSE(reasoning->run_id.has_value());
  CHECK(reasoning->sequence == 2);
  CHECK(reasoning->message == "Let me check.\n\"quoted\" \xF0\x9F\x98\x80");
  CHECK(reasoning->preview == "Let me check.");
  CHECK(reasoning->tokens_used == 12);

  const auto* call = items[2].content_as<tool_call_content>();
  REQUIRE(call != nullptr);
  CHECK(call->name == "stripe.list_charges");
  CHECK(call->arguments.text == R"({"limit": 3, "q": [1, 2]})");
  CHECK(call->tool_call_id == "call_1");
  CHECK(call->operation_name == "List charges");

  const auto* result = items[3].content_as<tool_result_content>();
  REQUIRE(result != nullptr);
  CHECK(result->tool_call_id == "call_1");
  CHECK(result->result.data == raw_json{R"({"rows":[]})"});
  CHECK(result->result.error.is_null());
  CHECK_FALSE(result->result.error_text().has_value());
  CHECK(result->result.log_id == "log-1");
  CHECK(result->result.successful == true);
  CHECK(result->extra == extra_fields{{"name", {R"("stripe.list_charges")"}}});

  const auto* task = items[4].content_as<user_task_req_content>();
  REQUIRE(task != nullptr);
  CHECK(task->user_task_id == "ut-1");
  CHECK(task->kind == "multi_option");
  CHECK(task->prompt == "Pick one");
  CHECK(task->title == "Choose");
  CHECK(task->status == "completed");
  REQUIRE(task->options.has_value());
  REQUIRE(task->options->size() == 2);
  CHECK((*task->options)[0] == user_task_option{"a", "A", {}});
  CHECK((*task->options)[1] == user_task_option{"b", "B", {{"hint", {"1"}}}});
  CHECK(task->extra == extra_fields{{"outcome", {R"({"selected_option_id":"a"})"}}});

  const auto* unknown = items[5].content_as<unknown_content>();
  REQUIRE(unknown != nullptr);
  CHECK(items[5].kind() == item_type::unknown);
  CHECK(items[5].type == "MemoryWrite");
  CHECK(unknown->raw.text == R"({"key":"k","value":[1, 2, {"x": null}]})");

  const auto* out = items[6].content_as<output_content>();
  REQUIRE(out != nullptr);
  CHECK_FALSE(out->tokens_used.has_value());
  CHECK(out->total_tokens_used == 18);
  CHECK(out->extra == extra_fields{{"output", {R"({"done":true})"}}});

  const auto* sub_done = items[7].content_as<run_completed_content>();
  REQUIRE(sub_done != nullptr);
  CHECK(sub_done->run_id == "r-sub");
  CHECK(sub_done->state() == run_state::completed);
  CHECK(sub_done->output.text == R"({"done":true})");
  const auto* root_done = items[8].content_as<run_completed_content>();
  REQUIRE(root_done != nullptr);
  CHECK(root_done->state() == run_state::failed);
  CHECK(root_done->output.is_null());
  CHECK(root_done->error == "boom");
  CHECK(root_done->total_tokens_used == 12);

  const auto* session_done = items[9].content_as<session_completed_content>();
  REQUIRE(session_done != nullptr);
  CHECK(session_done->session_id == "s-1");
  CHECK_FALSE(session_done->run_id.has_value());
  CHECK(session_done->status == "Completed");
  CHECK(session_done->total_tokens_used == 30);
}

TEST_CASE("item types map from wire strings, and unknown ones are kept") {
  struct row {
    std::string_view wire;
    item_type want;
  };
  const row rows[] = {{"llm_request_prepared", item_type::llm_request_prepared},
                      {"reasoning", item_type::reasoning},
                      {"ToolCall", item_type::tool_call},
                      {"ToolResult", item_type::tool_result},
                      {"output", item_type::output},
                      {"UserTaskReq", item_type::user_task_req},
                      {"RunCompleted", item_type::run_completed},
                      {"SessionCompleted", item_type::session_completed},
                      {"toolcall", item_type::unknown},
                      {"MemoryWrite", item_type::unknown},
                      {"", item_type::unknown}};
  for (const auto& r : rows) {
    CAPTURE(r.wire);
    CHECK(parse_item_type(r.wire) == r.want);
    if (r.want != item_type::unknown) {
      CHECK(to_string(r.want) == r.wire);
    }
  }
}

TEST_CASE("a ToolResult error reads as text only when it is one JSON string") {
  struct row {
    std::string_view raw;
    std::optional<std::string> want;
  };
  const row rows[] = {
      {R"("timeout")", "timeout"},  {R"( "a\"b\u00e9\n" )", "a\"b\u00e9\n"},
      {"null", std::nullopt},       {R"({"code":"E1"})", std::nullopt},
      {R"("a" "b")", std::nullopt}, {R"("unterminated)", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.raw);
    tool_result t;
    t.error.text = std::string(r.raw);
    CHECK(t.error_text() == r.want);
  }
}

TEST_CASE("user task kinds map from wire strings, and dashboard-only kinds are never API work") {
  struct row {
    std::string_view wire;
    user_task_kind want;
    bool api;
  };
  const row rows[] = {{"approval", user_task_kind::approval, true},
                      {"hitl", user_task_kind::approval, true},
                      {"multi_option", user_task_kind::multi_option, true},
                      {"text", user_task_kind::text, true},
                      {"number", user_task_kind::number, true},
                      {"aitl_escalation", user_task_kind::aitl_escalation, false},
                      {"anomaly_review", user_task_kind::anomaly_review, false},
                      {"anomaly_alert", user_task_kind::anomaly_alert, false},
                      {"Approval", user_task_kind::unknown, true},
                      {"signature", user_task_kind::unknown, true},
                      {"", user_task_kind::unknown, true}};
  for (const auto& r : rows) {
    CAPTURE(r.wire);
    CHECK(parse_user_task_kind(r.wire) == r.want);
    CHECK(api_can_answer(r.want) == r.api);
    pending_user_task t;
    t.kind = std::string(r.wire);
    CHECK(t.kind_enum() == r.want);
    CHECK(t.api_can_answer() == r.api);
    if (r.want != user_task_kind::unknown && r.wire != "hitl") {
      CHECK(to_string(r.want) == r.wire);
    }
  }
  CHECK(pending_user_task{}.kind_enum() == user_task_kind::unknown);
}

TEST_CASE("every conversation sample parses, keeps its invariants and round-trips") {
  struct row {
    const char* name;
    bool generated;
    std::size_t items;
    std::size_t runs;
    std::string_view status;
    bool slim;
    std::size_t pending;
  };
  const row rows[] = {
      {"conversation_small.json", false, 30, 2, "Completed", false, 0},
      {"conversation_small_compact.json", true, 30, 2, "Completed", false, 0},
      {"conversation_slim.json", false, 30, 2, "Completed", true, 0},
      {"conversation_waiting.json", false, 24, 1, "WaitingForHITL", false, 1},
      {"conversation_waiting_compact.json", true, 24, 1, "WaitingForHITL", false, 1},
      {"conversation_100.json", true, 100, 3, "Completed", false, 0},
      {"conversation_1000.json", true, 1000, 3, "Completed", false, 0},
      {"conversation_1000_slim.json", true, 1000, 3, "Completed", true, 0},
      {"conversation_300_waiting.json", true, 300, 4, "WaitingForHITL", false, 1},
      {"conversation_200_failed_ascii.json", true, 200, 3, "Failed", false, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const std::string body = r.generated ? generated(r.name) : fixture(r.name);
    const auto c = parse_conversation(body);
    REQUIRE(c.has_value());
    CHECK(c->session.status == r.status);
    REQUIRE(c->runs.size() == r.runs);
    REQUIRE(c->items.size() == r.items);
    CHECK(c->extra.empty());
    CHECK(c->session.start_context.has_value());
    CHECK(pending_user_tasks(*c).size() == r.pending);

    // One root run; every other run hangs off a listed run.
    std::size_t roots = 0;
    for (const auto& run : c->runs) {
      if (!run.parent_run_id) {
        ++roots;
        CHECK(run.depth == 0);
        continue;
      }
      CHECK(run.depth >= 1);
      CHECK(std::any_of(c->runs.begin(), c->runs.end(),
                        [&](const auto& p) { return p.id == *run.parent_run_id; }));
    }
    CHECK(roots == 1);

    for (std::size_t i = 0; i < c->items.size(); ++i) {
      const auto& item = c->items[i];
      CAPTURE(i);
      CHECK(item.ordinal == static_cast<std::int64_t>(i + 1)); // gen.py writes timeline order
      CHECK(item.content->index() == expected_index(item.type));
      const auto run = std::find_if(c->runs.begin(), c->runs.end(),
                                    [&](const auto& x) { return x.id == item.run_id; });
      REQUIRE(run != c->runs.end());
      const step_stanza* st = stanza_of(item);
      REQUIRE(st != nullptr);
      const bool synthetic = item.type == "RunCompleted" || item.type == "SessionCompleted";
      if (r.slim) {
        CHECK_FALSE(st->run_id.has_value());
        CHECK_FALSE(st->session_id.has_value());
        CHECK_FALSE(st->tenant_id.has_value());
        CHECK_FALSE(st->agent_id.has_value());
        CHECK_FALSE(st->agent_version_id.has_value());
        CHECK_FALSE(st->event_id.has_value());
      } else if (!synthetic) {
        CHECK(st->run_id == item.run_id);
        CHECK(st->session_id == c->session.id);
        CHECK(st->agent_id == run->agent_id);
        CHECK(st->event_id.has_value());
      }
      if (!synthetic) {
        CHECK(st->step_kind == item.type);
        CHECK(st->sequence == item.sequence);
        CHECK(st->iteration.has_value());
      }
      if (const auto* done = item.content_as<run_completed_content>()) {
        CHECK(done->status == run->status);
        CHECK(done->run_id == (r.slim ? std::nullopt : std::optional<std::string>(run->id)));
      }
    }
    if (r.status != "WaitingForHITL") {
      const auto* last = c->items.back().content_as<session_completed_content>();
      REQUIRE(last != nullptr);
      CHECK(last->status == r.status);
      CHECK(minified(last->output.text) == minified(c->session.output.text));
    }

    const auto again = parse_conversation(to_json(*c));
    REQUIRE(again.has_value());
    CHECK(*again == *c);

    const simdjson::padded_string padded(body);
    const auto from_padded = parse_conversation(padded);
    REQUIRE(from_padded.has_value());
    CHECK(*from_padded == *c);
    const auto from_view = parse_conversation(simdjson::padded_string_view(padded));
    REQUIRE(from_view.has_value());
    CHECK(*from_view == *c);
  }
}

TEST_CASE("a pretty sample equals its compact twin up to the layout of verbatim values") {
  const std::pair<const char*, const char*> pairs[] = {
      {"conversation_small.json", "conversation_small_compact.json"},
      {"conversation_waiting.json", "conversation_waiting_compact.json"}};
  for (const auto& pair : pairs) {
    const char* pretty_name = pair.first;
    const char* compact_name = pair.second;
    CAPTURE(pretty_name);
    const auto pretty = parse_conversation(fixture(pretty_name));
    const auto compact = parse_conversation(generated(compact_name));
    REQUIRE(pretty.has_value());
    REQUIRE(compact.has_value());
    CHECK(pretty->session.input != compact->session.input); // kept verbatim, layout included
    CHECK(minified(to_json(*pretty)) == to_json(*compact));
  }
}

TEST_CASE("a slim conversation equals the full one minus the six stanza ids") {
  const std::pair<const char*, const char*> pairs[] = {
      {"conversation_small_compact.json", "conversation_slim.json"},
      {"conversation_1000.json", "conversation_1000_slim.json"}};
  for (const auto& pair : pairs) {
    const char* full_name = pair.first;
    const char* slim_name = pair.second;
    CAPTURE(full_name);
    auto full = parse_conversation(generated(full_name));
    const auto slim = parse_conversation(
        std::string_view(slim_name).starts_with("conversation_slim") ? fixture(slim_name)
                                                                     : generated(slim_name));
    REQUIRE(full.has_value());
    REQUIRE(slim.has_value());
    CHECK_FALSE(*full == *slim);
    drop_slim_keys(*full);
    CHECK(*full == *slim);
  }
}

TEST_CASE("unknown item types and unknown fields are kept verbatim") {
  body_parts parts;
  parts.top_extra = {{"cursor", R"({"next": null})"}};
  parts.session.emplace_back("region", R"("eu")");
  parts.runs[1].emplace_back("costUsd", "0.5");
  parts.items[1].emplace_back("annotations", R"([{"by":"ops"}])");
  parts.items[2] = with(parts.items[2], "content",
                        object_text({{"name", R"("n")"},
                                     {"arguments", "{}"},
                                     {"tool_call_id", R"("c")"},
                                     {"parallel", "true"}}));
  parts.items[3] = with(parts.items[3], "content",
                        R"({"tool_call_id":"c","result":{"error":"x","retryable":false}})");
  // Unknown types take any JSON as content.
  const std::pair<std::string, std::string> unknowns[] = {{"Annotation", R"([1, "two", null])"},
                                                          {"Heartbeat", R"("tick")"},
                                                          {"Counter", "-4.5e3"},
                                                          {"Flag", "false"},
                                                          {"Empty", "{}"}};
  for (const auto& [type, content] : unknowns) {
    parts.items.push_back(item_members({"r-sub", type, {}}, parts.items.size()));
    parts.items.back() = with(parts.items.back(), "content", content);
  }

  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());
  CHECK(c->extra == extra_fields{{"cursor", {R"({"next": null})"}}});
  CHECK(c->session.extra == extra_fields{{"region", {R"("eu")"}}});
  CHECK(c->runs[1].extra == extra_fields{{"costUsd", {"0.5"}}});
  CHECK(c->items[1].extra == extra_fields{{"annotations", {R"([{"by":"ops"}])"}}});
  CHECK(c->items[2].content_as<tool_call_content>()->extra == extra_fields{{"parallel", {"true"}}});
  const auto& result = c->items[3].content_as<tool_result_content>()->result;
  CHECK_FALSE(result.data.has_value());
  CHECK(result.error.text == R"("x")");
  CHECK(result.error_text() == "x");
  CHECK(result.extra == extra_fields{{"retryable", {"false"}}});
  for (std::size_t i = 0; i < std::size(unknowns); ++i) {
    const auto& item = c->items[10 + i];
    CAPTURE(item.type);
    CHECK(item.type == unknowns[i].first);
    const auto* u = item.content_as<unknown_content>();
    REQUIRE(u != nullptr);
    CHECK(u->raw.text == unknowns[i].second);
  }

  const auto again = parse_conversation(to_json(*c));
  REQUIRE(again.has_value());
  CHECK(*again == *c);
}

TEST_CASE("keys are matched whole, escaped or not, wherever they stand") {
  // The parser compares a key in place against the field expected next: a longer key sharing
  // its prefix must not match it, and an escaped spelling of a field name must still match.
  body_parts parts;
  auto& item = parts.items[0];
  item.insert(item.begin() + 1, {"idx", R"("not the id")"}); // before "id", which it extends
  item.insert(item.begin() + 3, {"sequence2", "7"});         // before "sequence"
  item = with(item, "ordinal", "41");
  for (auto& kv : item) {
    if (kv.first == "ordinal") {
      kv.first = R"(ordin\u0061l)"; // "ordinal", escaped
    }
  }
  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());
  CHECK(c->items[0].id == "i-0");
  CHECK(c->items[0].sequence == 1);
  CHECK(c->items[0].ordinal == 41);
  CHECK(c->items[0].extra == extra_fields{{"idx", {R"("not the id")"}}, {"sequence2", {"7"}}});
}

TEST_CASE("null content is monostate for known and unknown types alike") {
  body_parts parts;
  parts.items[1] = with(parts.items[1], "content", "null");
  parts.items[5] = with(parts.items[5], "content", "null");
  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());
  CHECK(std::holds_alternative<std::monostate>(*c->items[1].content));
  CHECK(std::holds_alternative<std::monostate>(*c->items[5].content));
  CHECK(to_json(c->items[1]).find(R"("type":"reasoning","content":null,)") != std::string::npos);
}

TEST_CASE("a redacted (output-only) conversation parses") {
  body_parts parts;
  for (const char* key : {"input", "startContext", "output", "error"}) {
    parts.session = with(parts.session, key, "null");
  }
  for (auto& run : parts.runs) {
    run = with(with(with(run, "input", "null"), "output", "null"), "llmModel", "null");
  }
  parts.runs.pop_back();
  const auto specs = base_item_specs();
  parts.items = {item_members(specs[8], 0), item_members(specs[9], 1)};
  parts.items[0] = with(parts.items[0], "content",
                        R"({"run_id":"r-root","status":"Completed","output":null,"error":null})");
  parts.items[1] =
      with(parts.items[1], "content", R"({"status":"Completed","output":null,"error":null})");

  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());
  CHECK(c->session.input.is_null());
  CHECK(c->session.output.is_null());
  CHECK_FALSE(c->session.start_context.has_value());
  CHECK_FALSE(c->session.error.has_value());
  REQUIRE(c->runs.size() == 1);
  CHECK(c->runs[0].input.is_null());
  REQUIRE(c->items.size() == 2);
  const auto* run_done = c->items[0].content_as<run_completed_content>();
  REQUIRE(run_done != nullptr);
  CHECK(run_done->output.is_null());
  CHECK_FALSE(run_done->total_tokens_used.has_value());
  const auto* session_done = c->items[1].content_as<session_completed_content>();
  REQUIRE(session_done != nullptr);
  CHECK_FALSE(session_done->session_id.has_value());
  CHECK(session_done->state() == run_state::completed);
  CHECK(pending_user_tasks(*c).empty());
  CHECK(parse_conversation(to_json(*c)).value() == *c);
}

TEST_CASE("content before type parses to the same value, and canonical output puts type first") {
  const body_parts parts;
  const auto in_order = parse_conversation(parts.text());
  REQUIRE(in_order.has_value());

  body_parts swapped;
  for (auto& item : swapped.items) {
    // Move "content" to the front, and put "type" last for good measure.
    std::stable_partition(item.begin(), item.end(),
                          [](const auto& kv) { return kv.first == "content"; });
    std::stable_partition(item.begin(), item.end(),
                          [](const auto& kv) { return kv.first != "type"; });
  }
  const std::string text = swapped.text();
  REQUIRE(text.find(R"({"content":{"run_id":"r-root")") != std::string::npos);
  const auto reordered = parse_conversation(text);
  REQUIRE(reordered.has_value());
  CHECK(*reordered == *in_order);

  // A repeated "content" is last-wins, like every other member, whichever side of "type".
  body_parts twice;
  twice.items[1].insert(twice.items[1].begin(), {"content", R"({"message":"old","preview":"o"})"});
  const auto last_wins = parse_conversation(twice.text());
  REQUIRE(last_wins.has_value());
  CHECK(*last_wins == *in_order);

  const std::string canonical = to_json(*reordered);
  CHECK(canonical.find(R"("type":"reasoning","content":{"sequence":2,)") != std::string::npos);
  CHECK(canonical.find(R"("type":"MemoryWrite","content":{"key":"k",)") != std::string::npos);
}

TEST_CASE("errors in content that came before its type name the content's path") {
  struct row {
    std::size_t item;
    std::string content;
    errc code;
    std::string path;
  };
  const row rows[] = {
      {1, R"("text")", errc::wrong_type, "/items/1/content"},
      {1, "[]", errc::wrong_type, "/items/1/content"},
      {1, "17", errc::wrong_type, "/items/1/content"},
      {1, R"({"message":"m"})", errc::missing_field, "/items/1/content/preview"},
      {1, R"({"message":"m","preview":"p","tokens_used":"9"})", errc::wrong_type,
       "/items/1/content/tokens_used"},
      {2, R"({"name":"n","arguments":[1,tru],"tool_call_id":"c"})", errc::invalid_json,
       "/items/2/content/arguments/1"},
      {3, R"({"tool_call_id":"c","result":{"error":null,"successful":"yes"}})", errc::wrong_type,
       "/items/3/content/result/successful"},
      {4, R"({"user_task_id":"u","options":[{"id":"a"}]})", errc::missing_field,
       "/items/4/content/options/0/label"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.content);
    body_parts parts;
    auto& item = parts.items[r.item];
    item = with(item, "content", r.content);
    std::stable_partition(item.begin(), item.end(),
                          [](const auto& kv) { return kv.first == "content"; });
    if (r.code == errc::invalid_json) {
      check_error(parse_conversation(parts.text()), r.code, r.path);
      check_error(parse_conversation(parts.text(), strict), r.code, r.path);
    } else {
      check_content_kept(parts.text(), r.item, r.content, r.code, r.path);
    }
  }

  // Content first and no type at all: the type is what is missing.
  body_parts parts;
  parts.items[2] = without(parts.items[2], "type");
  std::stable_partition(parts.items[2].begin(), parts.items[2].end(),
                        [](const auto& kv) { return kv.first == "content"; });
  check_error(parse_conversation(parts.text()), errc::missing_field, "/items/2/type");

  // A second "type" could contradict the content typed by the first.
  body_parts dup;
  dup.items[3].emplace_back("type", R"("reasoning")");
  check_error(parse_conversation(dup.text()), errc::invalid_json, "/items/3/type");
}

TEST_CASE("every missing required field is reported at its path") {
  const body_parts base;
  SUBCASE("top level") {
    for (const char* key : {"session", "runs", "items"}) {
      CAPTURE(key);
      std::string body = base.text();
      // Rename the key: the body stays well-formed and the member becomes an unknown field.
      const std::string needle = '"' + std::string(key) + "\":";
      const auto at = body.find(needle);
      REQUIRE(at != std::string::npos);
      body.replace(at, needle.size(), "\"x_" + std::string(key) + "\":");
      check_error(parse_conversation(body), errc::missing_field, "/" + std::string(key));
    }
  }
  SUBCASE("session, runs and items: every documented member is required") {
    for (const auto& member : base_session()) {
      const std::string& key = member.first;
      CAPTURE(key);
      body_parts parts;
      parts.session = without(parts.session, key);
      check_error(parse_conversation(parts.text()), errc::missing_field, "/session/" + key);
    }
    for (const auto& member : base_run("r-sub", "r-root", 1)) {
      const std::string& key = member.first;
      CAPTURE(key);
      body_parts parts;
      parts.runs[1] = without(parts.runs[1], key);
      check_error(parse_conversation(parts.text()), errc::missing_field, "/runs/1/" + key);
    }
    for (const auto& member : base.items[3]) {
      const std::string& key = member.first;
      CAPTURE(key);
      body_parts parts;
      parts.items[3] = without(parts.items[3], key);
      check_error(parse_conversation(parts.text()), errc::missing_field, "/items/3/" + key);
    }
  }
  SUBCASE("contents: SPEC.md's unmarked fields are required, the rest optional") {
    // The stanza is optional throughout (slim mode drops it); so is every startContext key.
    struct row {
      std::string_view type;
      std::vector<std::string_view> required;
    };
    const row rows[] = {
        {"llm_request_prepared", {"model"}},
        {"reasoning", {"message", "preview"}},
        {"ToolCall", {"name", "arguments", "tool_call_id"}},
        {"ToolResult", {"tool_call_id", "result"}},
        {"UserTaskReq", {"user_task_id"}},
        {"MemoryWrite", {}},
        {"output", {}},
        {"RunCompleted", {"status", "output", "error"}},
        {"SessionCompleted", {"status", "output", "error"}},
    };
    const auto specs = base_item_specs();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const auto r = std::find_if(std::begin(rows), std::end(rows),
                                  [&](const row& x) { return x.type == specs[i].type; });
      REQUIRE(r != std::end(rows));
      for (const auto& member : specs[i].content) {
        const std::string& key = member.first;
        CAPTURE(specs[i].type);
        CAPTURE(key);
        body_parts parts;
        parts.items[i] =
            with(parts.items[i], "content", object_text(without(specs[i].content, key)));
        const auto got = parse_conversation(parts.text());
        const bool required =
            std::find(r->required.begin(), r->required.end(), key) != r->required.end();
        if (required) {
          check_content_kept(parts.text(), i, object_text(without(specs[i].content, key)),
                             errc::missing_field,
                             "/items/" + std::to_string(i) + "/content/" + key);
          CHECK(got.has_value());
        } else {
          CHECK(got.has_value());
        }
      }
    }
    body_parts parts;
    parts.items[3] = with(parts.items[3], "content", R"({"tool_call_id":"c","result":{"data":1}})");
    check_content_kept(parts.text(), 3, R"({"tool_call_id":"c","result":{"data":1}})",
                       errc::missing_field, "/items/3/content/result/error");
    parts.items[3] =
        with(parts.items[3], "content", R"({"tool_call_id":"c","result":{"error":null}})");
    CHECK(parse_conversation(parts.text()).has_value());
    parts.session = with(parts.session, "startContext", "{}");
    CHECK(parse_conversation(parts.text()).has_value());
  }
}

TEST_CASE("wrongly typed fields are reported with their code and path") {
  enum class where { session, run, item, content };
  struct row {
    where at;
    std::size_t index;
    std::string_view key;
    std::string value;
    errc code;
    std::string path;
  };
  const row rows[] = {
      {where::session, 0, "id", "7", errc::wrong_type, "/session/id"},
      {where::session, 0, "llmModel", "[]", errc::wrong_type, "/session/llmModel"},
      {where::session, 0, "totalTokensUsed", "1e3", errc::wrong_type, "/session/totalTokensUsed"},
      {where::session, 0, "status", "null", errc::wrong_type, "/session/status"},
      {where::session, 0, "startContext", "[]", errc::wrong_type, "/session/startContext"},
      {where::session, 0, "startContext", R"("v2")", errc::wrong_type, "/session/startContext"},
      {where::session, 0, "startContext", R"({"temperature":"hot"})", errc::wrong_type,
       "/session/startContext/temperature"},
      {where::session, 0, "startContext", R"({"maxDepth":-1})", errc::out_of_range,
       "/session/startContext/maxDepth"},
      {where::session, 0, "startContext", R"({"canExecuteSubAgents":1})", errc::wrong_type,
       "/session/startContext/canExecuteSubAgents"},
      {where::session, 0, "output", "{\"a\":}", errc::invalid_json, "/session/output/a"},
      {where::run, 1, "depth", "-1", errc::out_of_range, "/runs/1/depth"},
      {where::run, 1, "parentRunId", "7", errc::wrong_type, "/runs/1/parentRunId"},
      {where::run, 0, "finishedAt", "false", errc::wrong_type, "/runs/0/finishedAt"},
      {where::item, 3, "ordinal", R"("4")", errc::wrong_type, "/items/3/ordinal"},
      {where::item, 3, "ordinal", "4.5", errc::wrong_type, "/items/3/ordinal"},
      {where::item, 3, "sequence", "-1", errc::out_of_range, "/items/3/sequence"},
      {where::item, 3, "type", "5", errc::wrong_type, "/items/3/type"},
      {where::item, 3, "type", "null", errc::wrong_type, "/items/3/type"},
      {where::item, 1, "tokensUsed", R"("12")", errc::wrong_type, "/items/1/tokensUsed"},
      {where::item, 3, "error", "{}", errc::wrong_type, "/items/3/error"},
      {where::item, 3, "startedAt", "false", errc::wrong_type, "/items/3/startedAt"},
      {where::run, 1, "startedAt", "7", errc::wrong_type, "/runs/1/startedAt"},
      {where::item, 9, "finishedAt", "1", errc::wrong_type, "/items/9/finishedAt"},
      {where::item, 1, "content", "[]", errc::wrong_type, "/items/1/content"},
      {where::item, 1, "content", R"("thinking")", errc::wrong_type, "/items/1/content"},
      {where::item, 7, "content", "0", errc::wrong_type, "/items/7/content"},
      {where::item, 4, "content", "true", errc::wrong_type, "/items/4/content"},
      {where::content, 0, "model", "null", errc::wrong_type, "/items/0/content/model"},
      {where::content, 0, "run_id", "1", errc::wrong_type, "/items/0/content/run_id"},
      {where::content, 0, "iteration", "-2", errc::out_of_range, "/items/0/content/iteration"},
      {where::content, 1, "tokens_used", R"("x")", errc::wrong_type,
       "/items/1/content/tokens_used"},
      {where::content, 2, "operation_name", "{}", errc::wrong_type,
       "/items/2/content/operation_name"},
      {where::content, 3, "result", "null", errc::wrong_type, "/items/3/content/result"},
      {where::content, 3, "result", R"({"error":null,"log_id":5})", errc::wrong_type,
       "/items/3/content/result/log_id"},
      {where::content, 4, "options", "{}", errc::wrong_type, "/items/4/content/options"},
      {where::content, 4, "options", R"([{"id":1,"label":"A"}])", errc::wrong_type,
       "/items/4/content/options/0/id"},
      {where::content, 4, "status", "0", errc::wrong_type, "/items/4/content/status"},
      {where::content, 6, "total_tokens_used", "1.5", errc::wrong_type,
       "/items/6/content/total_tokens_used"},
      {where::content, 7, "error", "[]", errc::wrong_type, "/items/7/content/error"},
      {where::content, 9, "status", "null", errc::wrong_type, "/items/9/content/status"},
  };
  const auto specs = base_item_specs();
  for (const auto& r : rows) {
    CAPTURE(r.path);
    CAPTURE(r.value);
    body_parts parts;
    std::string content; // the content's text when the row changes it
    switch (r.at) {
    case where::session: parts.session = with(parts.session, r.key, r.value); break;
    case where::run: parts.runs[r.index] = with(parts.runs[r.index], r.key, r.value); break;
    case where::item:
      parts.items[r.index] = with(parts.items[r.index], r.key, r.value);
      if (r.key == "content") {
        content = r.value;
      }
      break;
    case where::content:
      content = object_text(with(specs[r.index].content, r.key, r.value));
      parts.items[r.index] = with(parts.items[r.index], "content", content);
      break;
    }
    if (content.empty()) {
      // Documented fields are strict in both modes.
      check_error(parse_conversation(parts.text()), r.code, r.path);
      check_error(parse_conversation(parts.text(), strict), r.code, r.path);
    } else {
      check_content_kept(parts.text(), r.index, content, r.code, r.path);
    }
  }

  struct top_row {
    std::string body;
    errc code;
    std::string path;
  };
  const top_row tops[] = {
      {R"({"session":[],"runs":[],"items":[]})", errc::wrong_type, "/session"},
      {R"({"session":null,"runs":[],"items":[]})", errc::wrong_type, "/session"},
      {R"({"runs":{},"items":[]})", errc::wrong_type, "/runs"},
      {R"({"items":[7]})", errc::wrong_type, "/items/0"},
      {R"([])", errc::wrong_type, ""},
      {R"("conversation")", errc::wrong_type, ""},
      {"", errc::invalid_json, ""},
  };
  for (const auto& t : tops) {
    CAPTURE(t.body);
    check_error(parse_conversation(t.body), t.code, t.path);
  }
}

TEST_CASE("sort_by_ordinal restores timeline order, stably") {
  const auto c = parse_conversation(generated("conversation_1000.json"));
  REQUIRE(c.has_value());
  auto shuffled = *c;
  std::reverse(shuffled.items.begin(), shuffled.items.end());
  std::rotate(shuffled.items.begin(), shuffled.items.begin() + 377, shuffled.items.end());
  REQUIRE_FALSE(shuffled == *c);
  shuffled.sort_by_ordinal();
  CHECK(shuffled == *c);

  conversation ties;
  for (const auto& [ordinal, id] :
       std::vector<std::pair<int, std::string>>{{3, "a"}, {1, "b"}, {3, "c"}, {2, "d"}, {1, "e"}}) {
    timeline_item item;
    item.ordinal = ordinal;
    item.id = id;
    ties.items.push_back(item);
  }
  ties.sort_by_ordinal();
  std::string order;
  for (const auto& item : ties.items) {
    order += item.id;
  }
  CHECK(order == "bedac");
}

TEST_CASE("pending_user_tasks finds the task a waiting sample must answer") {
  const auto waiting = parse_conversation(fixture("conversation_waiting.json"));
  REQUIRE(waiting.has_value());
  const auto tasks = pending_user_tasks(*waiting);
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].user_task_id == "5ba65528-b89f-4736-8dfb-b396435c7df8");
  CHECK(tasks[0].run_id == "c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8");
  CHECK(tasks[0].kind == "approval");
  CHECK(tasks[0].prompt == "Approve refund of $80.01 to Siobh\u00e1n O'Brien for order A-2023?");
  CHECK(tasks[0].options.empty());
  CHECK(tasks[0].ordinal == 24);

  // Timeline order does not matter: the task is found after a shuffle too.
  auto reversed = *waiting;
  std::reverse(reversed.items.begin(), reversed.items.end());
  CHECK(pending_user_tasks(reversed) == tasks);

  const auto big = parse_conversation(generated("conversation_300_waiting.json"));
  REQUIRE(big.has_value());
  const auto big_tasks = pending_user_tasks(*big);
  REQUIRE(big_tasks.size() == 1);
  CHECK(big_tasks[0].ordinal == 300); // gen.py's waiting state ends on the pending task
  CHECK(big_tasks[0].run_id == big->runs[0].id);

  for (const char* name : {"conversation_small.json", "conversation_slim.json"}) {
    CAPTURE(name);
    const auto done = parse_conversation(fixture(name));
    REQUIRE(done.has_value());
    CHECK(pending_user_tasks(*done).empty());
  }
}

TEST_CASE("pending_user_tasks follows task status, finishedAt and run state") {
  struct task {
    std::string run;
    std::string id;
    std::string status; // "" = absent
    bool finished;
  };
  struct row {
    const char* name;
    std::string root_status;
    std::string sub_status;
    std::vector<task> tasks;
    std::vector<std::string> want; // user_task_ids, by ordinal
  };
  const row rows[] = {
      {"lowercase pending",
       "WaitingForHITL",
       "Completed",
       {{"r-root", "t1", "pending", false}},
       {"t1"}},
      {"capitalised Pending",
       "WaitingForHITL",
       "Completed",
       {{"r-root", "t1", "Pending", true}},
       {"t1"}},
      {"completed", "WaitingForHITL", "Completed", {{"r-root", "t1", "completed", true}}, {}},
      {"Completed", "Running", "Completed", {{"r-root", "t1", "Completed", false}}, {}},
      {"Cancelled", "Running", "Completed", {{"r-root", "t1", "Cancelled", false}}, {}},
      {"no status, not finished",
       "WaitingForHITL",
       "Completed",
       {{"r-root", "t1", "", false}},
       {"t1"}},
      {"no status, finished", "WaitingForHITL", "Completed", {{"r-root", "t1", "", true}}, {}},
      {"terminal run", "Completed", "Completed", {{"r-root", "t1", "pending", false}}, {}},
      {"failed run", "Failed", "Completed", {{"r-root", "t1", "pending", false}}, {}},
      {"cancelled run", "Cancelled", "Completed", {{"r-root", "t1", "pending", false}}, {}},
      {"unknown run state still waits",
       "Hibernating",
       "Completed",
       {{"r-root", "t1", "pending", false}},
       {"t1"}},
      {"latest pending per run",
       "WaitingForHITL",
       "Completed",
       {{"r-root", "t1", "pending", false},
        {"r-root", "t2", "pending", false},
        {"r-root", "t3", "completed", true}},
       {"t2"}},
      {"sub-agent runs included",
       "WaitingForAITL",
       "WaitingForHITL",
       {{"r-sub", "t1", "pending", false}, {"r-root", "t2", "pending", false}},
       {"t1", "t2"}},
      {"finished sub-agent run skipped",
       "WaitingForHITL",
       "Completed",
       {{"r-sub", "t1", "pending", false}, {"r-root", "t2", "pending", false}},
       {"t2"}},
      {"run not listed", "WaitingForHITL", "Completed", {{"r-gone", "t1", "pending", false}}, {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    body_parts parts;
    parts.runs[0] = with(parts.runs[0], "status", json_str(r.root_status));
    parts.runs[1] = with(parts.runs[1], "status", json_str(r.sub_status));
    parts.items.clear();
    for (const auto& t : r.tasks) {
      members content = {{"user_task_id", json_str(t.id)}, {"kind", R"("approval")"}};
      if (!t.status.empty()) {
        content.emplace_back("status", json_str(t.status));
      }
      auto item = item_members({t.run, "UserTaskReq", content}, parts.items.size());
      if (!t.finished) {
        item = with(item, "finishedAt", "null");
      }
      parts.items.push_back(item);
    }
    const auto c = parse_conversation(parts.text());
    REQUIRE(c.has_value());
    std::vector<std::string> got;
    for (const auto& p : pending_user_tasks(*c)) {
      got.push_back(p.user_task_id);
    }
    CHECK(got == r.want);
  }

  // A multi-option task hands over its options.
  body_parts parts;
  parts.runs[1] = with(parts.runs[1], "status", R"("WaitingForHITL")");
  parts.items[4] = with(parts.items[4], "content",
                        R"({"user_task_id":"ut-9","kind":"multi_option","prompt":"Pick",)"
                        R"("status":"pending","options":[{"id":"a","label":"A"}]})");
  const auto c = parse_conversation(parts.text());
  REQUIRE(c.has_value());
  const auto tasks = pending_user_tasks(*c);
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0] == pending_user_task{"r-sub", "ut-9", "multi_option", "Pick",
                                      std::vector<user_task_option>{{"a", "A", {}}}, 5});
}

TEST_CASE("every truncation of a conversation is an error, never a crash") {
  const auto expect_all_fail = [](const std::string& body, std::size_t step) {
    const std::size_t last = body.find_last_not_of(" \n");
    for (std::size_t n = 0; n <= last; n += step) {
      CAPTURE(n);
      CHECK_FALSE(parse_conversation(std::string_view(body.data(), n)).has_value());
      CHECK_FALSE(parse_conversation(std::string_view(body.data(), n), strict).has_value());
    }
  };
  SUBCASE("a small conversation, every offset, both member orders") {
    const body_parts parts;
    expect_all_fail(parts.text(), 1);
    body_parts swapped;
    for (auto& item : swapped.items) {
      std::stable_partition(item.begin(), item.end(),
                            [](const auto& kv) { return kv.first == "content"; });
    }
    expect_all_fail(swapped.text(), 1);
  }
  SUBCASE("the samples, at a prime step") {
    // Every offset of the small body above reaches each kind of place a body can end; the
    // samples add their variety of contents. Step 53 keeps it to a second of g++ -O0 (step 7
    // took 7 s, and over two minutes under ASan, for the same kinds of places).
    for (const char* name :
         {"conversation_small.json", "conversation_slim.json", "conversation_waiting.json"}) {
      CAPTURE(name);
      expect_all_fail(fixture(name), 53);
    }
  }
}

TEST_CASE("nesting beyond the limit inside content is an error, not a stack overflow") {
  for (const bool content_first : {false, true}) {
    for (const char* type : {"ToolCall", "MemoryWrite"}) {
      CAPTURE(type);
      CAPTURE(content_first);
      body_parts parts;
      std::string deep(100000, '[');
      deep.append(100000, ']');
      auto& item = parts.items[2];
      item = with(with(item, "type", json_str(type)), "content",
                  R"({"name":"n","tool_call_id":"c","arguments":)" + deep + "}");
      if (content_first) {
        std::stable_partition(item.begin(), item.end(),
                              [](const auto& kv) { return kv.first == "content"; });
      }
      const auto got = parse_conversation(parts.text());
      REQUIRE_FALSE(got.has_value());
      CHECK((got.error().code == errc::limit_exceeded || got.error().code == errc::invalid_json));
    }
  }
}

TEST_CASE("the issue's three conversation variants parse by default; strict names the path") {
  SUBCASE("a UserTaskReq whose options are plain strings keeps its content verbatim") {
    const std::string body = fixture("conversation_options_strings.json");
    check_error(parse_conversation(body, strict), errc::wrong_type, "/items/13/content/options/0");
    const auto c = parse_conversation(body);
    REQUIRE(c.has_value());
    REQUIRE(c->items.size() == 14);
    const auto& item = c->items[13];
    CHECK(item.type == "UserTaskReq");
    CHECK(item.kind() == item_type::user_task_req);
    const auto* raw = item.content_as<unknown_content>();
    REQUIRE(raw != nullptr);
    CHECK(raw->raw.text.find(R"("options":["yes","no"])") != std::string::npos);
    CHECK(raw->raw.text.front() == '{');
    CHECK(raw->raw.text.back() == '}');
    REQUIRE(item.content_error.has_value());
    CHECK(item.content_error->code == errc::wrong_type);
    CHECK(item.content_error->path == "/items/13/content/options/0");
    // The items around it are typed as usual.
    CHECK(c->items[12].content_as<tool_call_content>() != nullptr);
    CHECK(c->items[3].content_as<tool_result_content>() != nullptr);
    const auto again = parse_conversation(to_json(*c));
    REQUIRE(again.has_value());
    CHECK(*again == *c);
  }
  SUBCASE("a ToolResult whose result.error is an object parses in both modes") {
    const std::string body = fixture("conversation_tool_error_object.json");
    for (const parse_options opts : {parse_options{}, strict}) {
      const auto c = parse_conversation(body, opts);
      REQUIRE(c.has_value());
      const auto* result = c->items[3].content_as<tool_result_content>();
      REQUIRE(result != nullptr);
      CHECK(result->result.error.text ==
            R"({"code":"rate_limited","message":"Too many requests","retryAfterSec":30})");
      CHECK_FALSE(result->result.error_text().has_value());
      CHECK(result->result.data == raw_json{"null"});
      CHECK(result->result.successful == false);
    }
  }
  SUBCASE("startedAt null on a run and an item parses in both modes") {
    const std::string body = fixture("conversation_started_null.json");
    for (const parse_options opts : {parse_options{}, strict}) {
      const auto c = parse_conversation(body, opts);
      REQUIRE(c.has_value());
      CHECK_FALSE(c->runs[0].started_at.has_value());
      CHECK_FALSE(c->items[14].started_at.has_value());
      CHECK(c->items[13].started_at == "2026-05-13T23:09:14.427Z");
      for (const auto& item : c->items) {
        CHECK_FALSE(item.content_error.has_value());
      }
    }
  }
}

TEST_CASE("every field SPEC.md marks or null parses when null, in both modes") {
  body_parts parts;
  parts.session = with(with(with(with(with(with(with(with(with(parts.session, "llmModel", "null"),
                                                          "triggeredBy", "null"),
                                                     "triggerId", "null"),
                                                "triggerName", "null"),
                                           "error", "null"),
                                      "finishedAt", "null"),
                                 "input", "null"),
                            "output", "null"),
                       "startContext", "null");
  for (auto& run : parts.runs) {
    for (const char* key :
         {"parentRunId", "error", "startedAt", "finishedAt", "llmModel", "agentName",
          "versionLabel", "triggeredBy", "triggerId", "triggerName"}) {
      run = with(run, key, "null");
    }
  }
  for (auto& item : parts.items) {
    for (const char* key : {"tokensUsed", "error", "startedAt", "finishedAt"}) {
      item = with(item, key, "null");
    }
  }
  const auto specs = base_item_specs();
  parts.items[6] =
      with(parts.items[6], "content", object_text(with(specs[6].content, "tokens_used", "null")));
  parts.items[2] = with(parts.items[2], "content", "null");
  for (const parse_options opts : {parse_options{}, strict}) {
    const auto c = parse_conversation(parts.text(), opts);
    REQUIRE(c.has_value());
    CHECK_FALSE(c->session.llm_model.has_value());
    CHECK_FALSE(c->session.start_context.has_value());
    CHECK(c->session.input.is_null());
    for (const auto& run : c->runs) {
      CHECK_FALSE(run.started_at.has_value());
      CHECK_FALSE(run.parent_run_id.has_value());
      CHECK_FALSE(run.version_label.has_value());
    }
    for (const auto& item : c->items) {
      CHECK_FALSE(item.started_at.has_value());
      CHECK_FALSE(item.tokens_used.has_value());
      CHECK_FALSE(item.content_error.has_value());
    }
    CHECK(std::holds_alternative<std::monostate>(*c->items[2].content));
    CHECK_FALSE(c->items[6].content_as<output_content>()->tokens_used.has_value());
  }
}

TEST_CASE("Reasoning (runs.mdx) and reasoning (SDK) both give reasoning_content") {
  CHECK(parse_item_type("Reasoning") == item_type::reasoning);
  CHECK(parse_item_type("reasoning") == item_type::reasoning);
  CHECK(parse_item_type("REASONING") == item_type::unknown);
  body_parts parts;
  parts.items[1] = with(parts.items[1], "type", R"("Reasoning")");
  for (const parse_options opts : {parse_options{}, strict}) {
    const auto c = parse_conversation(parts.text(), opts);
    REQUIRE(c.has_value());
    CHECK(c->items[1].type == "Reasoning"); // the wire string stays
    const auto* r = c->items[1].content_as<reasoning_content>();
    REQUIRE(r != nullptr);
    CHECK(r->preview == "Let me check.");
    CHECK(to_json(*c).find(R"("type":"Reasoning")") != std::string::npos);
  }
}

TEST_CASE("a malformed literal in a typed field is invalid JSON, not a wrong type") {
  struct row {
    std::string value;
    std::string path;
  };
  // Each in a documented field (strict in both modes) and in an item content (never kept).
  const row rows[] = {{"nul", "/items/3/error"},      {"tru", "/items/3/error"},
                      {"fals", "/items/3/error"},     {"nulll", "/items/3/error"},
                      {"-", "/items/3/error"},        {"01", "/items/3/error"},
                      {"nul", "/items/3/tokensUsed"}, {"tru", "/runs/0/parentRunId"}};
  for (const auto& r : rows) {
    CAPTURE(r.value);
    CAPTURE(r.path);
    body_parts parts;
    if (r.path.starts_with("/runs/0/")) {
      parts.runs[0] = with(parts.runs[0], r.path.substr(8), r.value);
    } else {
      parts.items[3] = with(parts.items[3], r.path.substr(9), r.value);
    }
    check_error(parse_conversation(parts.text()), errc::invalid_json, r.path);
    check_error(parse_conversation(parts.text(), strict), errc::invalid_json, r.path);
  }
  const auto specs = base_item_specs();
  for (const char* literal : {"nul", "tru", "fals"}) {
    for (const bool content_first : {false, true}) {
      CAPTURE(literal);
      CAPTURE(content_first);
      body_parts parts;
      auto& item = parts.items[0];
      item = with(item, "content", object_text(with(specs[0].content, "model", literal)));
      if (content_first) {
        std::stable_partition(item.begin(), item.end(),
                              [](const auto& kv) { return kv.first == "content"; });
      }
      check_error(parse_conversation(parts.text()), errc::invalid_json, "/items/0/content/model");
      check_error(parse_conversation(parts.text(), strict), errc::invalid_json,
                  "/items/0/content/model");
    }
  }
}

TEST_CASE("a kept content is checked whole: malformed JSON or deep nesting after the shape "
          "error still fails") {
  struct row {
    std::string content;
    errc code;
    std::string path;
  };
  const row rows[] = {
      {R"({"model":5,"x":[1,tru]})", errc::invalid_json, "/items/0/content/x/1"},
      {R"({"model":5,"x":")" + std::string(3, '[') + R"("})", errc::wrong_type, ""},
      {R"({"model":5,"x":)" + std::string(300, '[') + std::string(300, ']') + "}",
       errc::limit_exceeded, ""},
  };
  for (const bool content_first : {false, true}) {
    for (const auto& r : rows) {
      CAPTURE(content_first);
      CAPTURE(r.content.substr(0, 40));
      body_parts parts;
      auto& item = parts.items[0];
      item = with(item, "content", r.content);
      if (content_first) {
        std::stable_partition(item.begin(), item.end(),
                              [](const auto& kv) { return kv.first == "content"; });
      }
      const auto got = parse_conversation(parts.text());
      if (r.code == errc::wrong_type) {
        // Brackets inside a string do not count: the content is kept whole.
        check_content_kept(parts.text(), 0, r.content, errc::wrong_type, "/items/0/content/model");
        continue;
      }
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == r.code);
      if (!r.path.empty()) {
        CHECK(got.error().path == r.path);
      }
    }
  }
}

TEST_CASE("a scalar content is read whole: a colon after it is malformed JSON, not a kept "
          "content") {
  // Found by fuzz_conversation: simdjson 3.0.1 skips an unread string followed by ':' as if it
  // were a key, so `"content":"u":"x","a":1}` once parsed (tolerant) as a kept content "u" with
  // the rest of the item swallowed, or failed as a missing field further on.
  for (const std::string content : {R"("u":"x","a":1})", R"("u":"x")", R"(7:"x")", "true:1"}) {
    for (const bool strict : {false, true}) {
      CAPTURE(content);
      CAPTURE(strict);
      body_parts parts;
      parts.items[0] = with(parts.items[0], "content", content);
      const auto got = parse_conversation(parts.text(), parse_options{strict});
      REQUIRE_FALSE(got.has_value());
      if (strict) {
        // The content's wrong type comes first in the body, so strict parsing reports it.
        CHECK(got.error().code == errc::wrong_type);
        CHECK(got.error().path == "/items/0/content");
      } else {
        CHECK(got.error().code == errc::invalid_json);
        CHECK(got.error().path.starts_with("/items/0"));
      }
    }
  }
}

TEST_CASE("a reused conversation sheds a kept content's error when the content reads again") {
  const std::string bad = fixture("conversation_options_strings.json");
  auto good = bad;
  const auto at = good.find(R"(["yes","no"])");
  REQUIRE(at != std::string::npos);
  good.replace(at, 12, R"([{"id":"yes","label":"Yes"},{"id":"no","label":"No"}])");
  const auto fresh_bad = parse_conversation(bad);
  const auto fresh_good = parse_conversation(good);
  REQUIRE(fresh_bad.has_value());
  REQUIRE(fresh_good.has_value());
  REQUIRE(fresh_good->items[13].content_as<user_task_req_content>() != nullptr);
  conversation reused;
  for (const std::string* body : std::vector<const std::string*>{&bad, &good, &bad, &bad, &good}) {
    REQUIRE(parse_conversation(*body, reused).has_value());
    CHECK(reused == (body == &bad ? *fresh_bad : *fresh_good));
  }
  // Strict into a value that held a kept content fails and leaves it usable.
  CHECK_FALSE(parse_conversation(bad, reused, strict).has_value());
  REQUIRE(parse_conversation(good, reused, strict).has_value());
  CHECK(reused == *fresh_good);
}

TEST_CASE("the thread's parse buffers are released after a body over the threshold, and on "
          "demand") {
  using detail::release_threshold;
  using detail::thread_buffers;
  release_thread_buffers();
  const std::string medium = generated("conversation_1000.json");
  REQUIRE(medium.size() < release_threshold);
  const auto first = parse_conversation(medium);
  REQUIRE(first.has_value());
  // Under the threshold the buffers stay, for the next body.
  CHECK(thread_buffers().buffer >= medium.size());
  CHECK(thread_buffers().parser >= medium.size());

  std::string big = medium;
  big.insert(1, R"("pad":")" + std::string(release_threshold + 1000, 'a') + R"(",)");
  const auto check_released = [&] {
    const auto sizes = thread_buffers();
    CHECK(sizes.buffer <= release_threshold);
    CHECK(sizes.parser <= release_threshold);
    CHECK(sizes.deferred_parser <= release_threshold);
    CHECK(sizes.deferred_text <= release_threshold);
  };
  SUBCASE("a string_view body") {
    const auto c = parse_conversation(big);
    REQUIRE(c.has_value());
    CHECK(c->items == first->items);
    check_released();
  }
  SUBCASE("a padded body, parsed in place") {
    const simdjson::padded_string padded(big);
    REQUIRE(parse_conversation(padded).has_value());
    check_released();
  }
  SUBCASE("a large content set aside before its type, or kept verbatim") {
    const std::string large(release_threshold + 1000, 'x');
    for (const bool content_first : {true, false}) {
      CAPTURE(content_first);
      body_parts parts;
      auto& item = parts.items[2];
      // Content first: set aside; in order with a wrong "name": checked on the side parser.
      item = with(item, "content",
                  std::string(R"({"name":)") + (content_first ? R"("n")" : "5") +
                      R"(,"tool_call_id":"c","arguments":")" + large + R"("})");
      if (content_first) {
        std::stable_partition(item.begin(), item.end(),
                              [](const auto& kv) { return kv.first == "content"; });
      }
      const auto c = parse_conversation(parts.text());
      REQUIRE(c.has_value());
      CHECK(c->items[2].content_error.has_value() == !content_first);
      check_released();
    }
  }
  // Parsing goes on as before.
  const auto again = parse_conversation(medium);
  REQUIRE(again.has_value());
  CHECK(*again == *first);
  CHECK(thread_buffers().buffer >= medium.size());

  release_thread_buffers();
  const auto sizes = thread_buffers();
  CHECK(sizes.parser == 0);
  CHECK(sizes.deferred_parser == 0);
  CHECK(sizes.buffer < 64); // what an empty std::string holds in place
  CHECK(sizes.deferred_text < 128);
  CHECK(*parse_conversation(medium) == *first);
}

TEST_CASE("pending_user_tasks reads a UserTaskReq kept verbatim as far as it goes") {
  const auto c = parse_conversation(fixture("conversation_options_strings.json"));
  REQUIRE(c.has_value());
  REQUIRE(c->items[13].content_error.has_value());
  const auto tasks = pending_user_tasks(*c);
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0] == pending_user_task{c->items[13].run_id,
                                      "f18a2e04-5492-4931-aa89-4c29ff6036ed",
                                      "multi_option",
                                      "Refund the duplicate charge?",
                                      {{"yes", "yes", {}}, {"no", "no", {}}},
                                      14});
  CHECK(tasks[0].kind_enum() == user_task_kind::multi_option);

  // What cannot be read is left out; without a user_task_id there is nothing to answer.
  struct row {
    std::string content;
    std::string finished_at;
    std::vector<std::string> want_ids;
    std::vector<user_task_option> want_options;
  };
  const row rows[] = {
      {R"({"user_task_id":"u1","kind":7,"options":["a",{"id":"b","label":"B"},{"id":2},null]})",
       "null",
       {"u1"},
       {{"a", "a", {}}, {"b", "B", {}}}},
      {R"({"user_task_id":"u2","status":"pending","options":{"a":1}})",
       R"("2026-01-01T00:00:00Z")",
       {"u2"},
       {}},
      {R"({"user_task_id":"u3","status":"done","options":"x"})", "null", {}, {}},
      {R"({"user_task_id":"u4","options":"x"})", R"("2026-01-01T00:00:00Z")", {}, {}},
      {R"({"user_task_id":5,"status":"pending"})", "null", {}, {}},
      {R"(["u6"])", "null", {}, {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.content);
    body_parts parts;
    parts.runs[1] = with(parts.runs[1], "status", R"("WaitingForHITL")");
    parts.items[4] = with(with(parts.items[4], "content", r.content), "finishedAt", r.finished_at);
    const auto kept = parse_conversation(parts.text());
    REQUIRE(kept.has_value());
    REQUIRE(kept->items[4].content_error.has_value());
    const auto got = pending_user_tasks(*kept);
    std::vector<std::string> ids;
    for (const auto& t : got) {
      ids.push_back(t.user_task_id);
    }
    CHECK(ids == r.want_ids);
    if (!got.empty()) {
      CHECK(got[0].options == r.want_options);
      CHECK_FALSE(got[0].kind.has_value());
    }
  }
}

TEST_CASE("the quote scan agrees with a byte loop at every length, offset and hit position") {
  // Every string and key is located by detail::find_quote_or_backslash; this checks whichever
  // path the build compiled (AVX2, SSE2, NEON or the byte loop) against the byte loop itself.
  MESSAGE("quote scan path: " << detail::quote_scan_path);
#ifdef PHRONY_EXPECT_QUOTE_SCAN
  REQUIRE(detail::quote_scan_path == std::string_view(PHRONY_EXPECT_QUOTE_SCAN));
#endif
  constexpr std::size_t max_offset = 33; // block alignments, past one AVX2 block
  constexpr std::size_t max_len = 80;    // lengths past two AVX2 blocks
  constexpr std::size_t room = 64;       // the scan may read up to 31 bytes past `end`
  // Filler of every byte value but the two it looks for, including their high-bit twins (0xa2,
  // 0xdc), so a signed or masked compare would show.
  std::vector<char> filler;
  for (int c = 0; filler.size() < max_offset + max_len + room; c = (c + 37) % 256) {
    if (c != '"' && c != '\\') {
      filler.push_back(static_cast<char>(c));
    }
  }
  std::vector<char> buf = filler;
  std::size_t calls = 0;
  std::size_t mismatches = 0;
  std::string first_mismatch;
  const auto check = [&](std::size_t offset, std::size_t len, const char* what) {
    const char* const b = buf.data() + offset;
    const char* const e = b + len;
    const char* const got = detail::find_quote_or_backslash(b, e);
    const char* const want = detail::find_quote_or_backslash_scalar(b, e);
    ++calls;
    if (got != want && mismatches++ == 0) {
      first_mismatch = std::string(what) + " offset " + std::to_string(offset) + " length " +
                       std::to_string(len) + ": got " + std::to_string(got - b) + ", want " +
                       std::to_string(want - b);
    }
  };
  for (std::size_t offset = 0; offset < max_offset; ++offset) {
    for (std::size_t len = 0; len <= max_len; ++len) {
      check(offset, len, "no hit");
      // A hit at every position inside [b, e) and in the padding after it.
      for (std::size_t at = 0; at < len + 32; ++at) {
        for (const char needle : {'"', '\\'}) {
          buf[offset + at] = needle;
          check(offset, len, "one hit");
          // A second hit after the first must not win.
          const std::size_t later = offset + at + 1 + at % 17;
          if (later < buf.size()) {
            buf[later] = needle == '"' ? '\\' : '"';
            check(offset, len, "two hits");
            buf[later] = filler[later];
          }
          buf[offset + at] = filler[offset + at];
        }
      }
    }
  }
  CHECK_MESSAGE(mismatches == 0, first_mismatch);
  CHECK(calls > 400'000);
}

} // namespace conversation_test
