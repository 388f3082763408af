#include <phrony/sessions.hpp>

#include <doctest/doctest.h>
#include <simdjson.h> // padded bodies, as a caller with simdjson passes them

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace sessions_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using phrony_test::fixture;
using phrony_test::generated;

namespace {

// A session row as (key, JSON text) pairs, so cases can drop or replace one member.
using phrony_test::members;
using phrony_test::object_text;
using phrony_test::with;
using phrony_test::without;

members valid_row() {
  return {{"id", R"("s-1")"},
          {"tenantId", R"("t-1")"},
          {"agentId", R"("a-1")"},
          {"agentVersionId", R"("v-1")"},
          {"llmModel", R"("o4-mini")"},
          {"triggerType", R"("api")"},
          {"triggeredBy", R"("apiKey:k")"},
          {"triggerId", R"("tr-1")"},
          {"triggerName", "\"Support backend (API)\""},
          {"status", R"("Completed")"},
          {"totalTokensUsed", "12"},
          {"output", R"({"ok": true})"},
          {"error", "null"},
          {"input", R"([1, 2])"},
          {"startContext", R"({"version": 3})"},
          {"rootRunId", R"("r-1")"},
          {"startedAt", R"("2026-06-02T06:43:00.934Z")"},
          {"finishedAt", "null"},
          {"runCount", "1"},
          {"entryRunId", "null"}};
}

std::string page_with(const members& row) {
  return R"({"items":[)" + object_text(valid_row()) + ',' + object_text(row) + R"(],"total":2})";
}

} // namespace

TEST_CASE("the sessions sample parses with every documented field") {
  const auto page = parse_sessions_page(fixture("sessions_page.json"));
  REQUIRE(page.has_value());
  CHECK(page->total == 137);
  REQUIRE(page->items.size() == 5);
  CHECK(page->extra.empty());

  const auto& first = page->items[0];
  CHECK(first.id == "85a8bb9b-530e-40cb-9e35-3f29b11f0de6");
  CHECK(first.tenant_id == "f3b08f69-32ac-4b62-bd4f-a08455a5b465");
  CHECK(first.agent_id == "72e63ac7-a953-4322-9f70-d5dc2e675fc7");
  CHECK(first.agent_version_id == "2ed764b2-7e79-4e8b-a0d0-e9b47d50e092");
  CHECK(first.llm_model == "o4-mini");
  CHECK(first.trigger_type == "api");
  CHECK(first.triggered_by == "apiKey:29acf0cd-c4bb-4a09-a562-59b36c716375");
  CHECK(first.trigger_id == "a6f5a96d-ceb2-4dcc-bd1f-b0639d8aba20");
  CHECK(first.trigger_name == "Support backend (API)");
  CHECK(first.state() == run_state::completed);
  CHECK(first.total_tokens_used == 233545);
  CHECK(first.output.text.starts_with("{\n        \"resolution\": \"refund_issued\""));
  CHECK(first.output.text.ends_with("\"confidence\": 0.77\n      }"));
  CHECK_FALSE(first.error.has_value());
  CHECK(first.input.text.starts_with("{\n        \"ticketId\": \"ZD-10873\""));
  CHECK(first.start_context.text.starts_with("{\n        \"version\": 33,"));
  CHECK(first.root_run_id == "e90d27f7-eeb5-4ef9-b430-93785a38ff52");
  CHECK(first.started_at == "2026-06-02T06:43:00.934Z");
  CHECK(first.finished_at == "2026-06-02T06:50:33.035Z");
  CHECK(first.run_count == 4);
  CHECK(first.entry_run_id == "e90d27f7-eeb5-4ef9-b430-93785a38ff52");
  CHECK(first.extra.empty());

  // A scheduled, redacted session still waiting on a sub-agent's escalation.
  const auto& waiting = page->items[1];
  CHECK(waiting.state() == run_state::waiting_for_aitl);
  CHECK(waiting.trigger_type == "scheduled");
  CHECK_FALSE(waiting.triggered_by.has_value());
  CHECK(waiting.trigger_name == "Nightly reconciliation \u23f0");
  CHECK(waiting.output.is_null());
  CHECK(waiting.input.is_null());
  CHECK(waiting.start_context.is_null());
  CHECK_FALSE(waiting.finished_at.has_value());

  const auto& manual = page->items[2];
  CHECK(manual.trigger_type == "manual");
  CHECK(manual.triggered_by == "dana@example.com");
  CHECK_FALSE(manual.trigger_id.has_value());
  CHECK_FALSE(manual.trigger_name.has_value());
  CHECK(manual.run_count == 5);
}

TEST_CASE("sessions bodies parse, round-trip, and pretty equals compact") {
  struct row {
    const char* name;
    bool generated;
    std::size_t items;
  };
  const row rows[] = {{"sessions_page.json", false, 5},
                      {"sessions_page_compact.json", true, 5},
                      {"sessions_500.json", true, 500}};
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const std::string body = r.generated ? generated(r.name) : fixture(r.name);
    const auto page = parse_sessions_page(body);
    REQUIRE(page.has_value());
    CHECK(page->items.size() == r.items);
    // gen.py's --total defaults to N plus 0..400.
    CHECK(page->total >= static_cast<std::int64_t>(r.items));
    for (const auto& s : page->items) {
      CHECK(s.id.size() == 36);
      CHECK((s.start_context.is_null() || s.start_context.text.starts_with('{')));
    }
    const auto again = parse_sessions_page(to_json(*page));
    REQUIRE(again.has_value());
    CHECK(*again == *page);

    const simdjson::padded_string padded(body);
    const auto from_padded = parse_sessions_page(padded);
    REQUIRE(from_padded.has_value());
    CHECK(*from_padded == *page);
    const auto from_view = parse_sessions_page(simdjson::padded_string_view(padded));
    REQUIRE(from_view.has_value());
    CHECK(*from_view == *page);
  }

  // The same seed written pretty and compact: equal once the verbatim values lose their layout.
  const auto pretty = parse_sessions_page(fixture("sessions_page.json"));
  const auto compact = parse_sessions_page(generated("sessions_page_compact.json"));
  REQUIRE(pretty.has_value());
  REQUIRE(compact.has_value());
  const std::string pretty_json = to_json(*pretty);
  std::string minified(pretty_json.size(), '\0');
  std::size_t len = 0;
  REQUIRE(simdjson::minify(pretty_json.data(), pretty_json.size(), minified.data(), len) ==
          simdjson::SUCCESS);
  minified.resize(len);
  CHECK(minified == to_json(*compact));
  CHECK(pretty->items[3].input != compact->items[3].input); // layout kept verbatim
}

TEST_CASE("unknown fields and statuses in a sessions page are kept") {
  const std::string body = R"({"items":[)" +
                           object_text(with(valid_row(), "status", R"("Hibernating")")) +
                           R"(],"total":1,"nextCursor":{"skip":50}})";
  members row = valid_row();
  row.emplace_back("costUsd", "1.25");
  const std::string body2 = R"({"items":[)" + object_text(row) + R"(],"total":1})";

  const auto page = parse_sessions_page(body);
  REQUIRE(page.has_value());
  CHECK(page->items[0].state() == run_state::unknown);
  CHECK(page->items[0].status == "Hibernating");
  REQUIRE(page->extra.size() == 1);
  CHECK(page->extra[0] == std::pair<phrony::text, raw_json>{"nextCursor", {R"({"skip":50})"}});

  const auto page2 = parse_sessions_page(body2);
  REQUIRE(page2.has_value());
  REQUIRE(page2->items[0].extra.size() == 1);
  CHECK(page2->items[0].extra[0] == std::pair<phrony::text, raw_json>{"costUsd", {"1.25"}});
  CHECK(page2->items[0].input.text == "[1, 2]");
  CHECK(page2->items[0].start_context.text == R"({"version": 3})");
  CHECK(to_json(*page2).find(R"("entryRunId":null,"costUsd":1.25})") != std::string::npos);
}

TEST_CASE("every missing session row field is reported at its path") {
  for (const auto& member : valid_row()) {
    const std::string& key = member.first;
    CAPTURE(key);
    const auto got = parse_sessions_page(page_with(without(valid_row(), key)));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::missing_field);
    CHECK(got.error().path == "/items/1/" + key);
  }
  for (const char* key : {"items", "total"}) {
    CAPTURE(key);
    const std::string body =
        std::string_view(key) == "items" ? R"({"total":0})" : R"({"items":[]})";
    const auto got = parse_sessions_page(body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::missing_field);
    CHECK(got.error().path == std::string("/").append(key));
  }
}

TEST_CASE("wrongly typed session row fields are reported at their path") {
  struct row {
    std::string_view key;
    std::string value;
    errc code;
  };
  const row rows[] = {
      {"id", "7", errc::wrong_type},
      {"id", "null", errc::wrong_type},
      {"tenantId", "[]", errc::wrong_type},
      {"llmModel", "false", errc::wrong_type},
      {"triggerType", "null", errc::wrong_type},
      {"triggeredBy", "{}", errc::wrong_type},
      {"status", "1", errc::wrong_type},
      {"totalTokensUsed", R"("12")", errc::wrong_type},
      {"totalTokensUsed", "-3", errc::out_of_range},
      {"totalTokensUsed", "1.5", errc::wrong_type},
      {"error", "5", errc::wrong_type},
      {"startContext", R"("v3")", errc::wrong_type},
      {"startContext", "[]", errc::wrong_type},
      {"output", "[1,]", errc::invalid_json},
      {"startedAt", "null", errc::wrong_type},
      {"finishedAt", "0", errc::wrong_type},
      {"runCount", "null", errc::wrong_type},
      {"entryRunId", "true", errc::wrong_type},
  };
  for (const auto& r : rows) {
    CAPTURE(r.key);
    CAPTURE(r.value);
    const auto got = parse_sessions_page(page_with(with(valid_row(), r.key, r.value)));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == r.code);
    CHECK(got.error().path.starts_with("/items/1/" + std::string(r.key)));
  }
  const auto items_object = parse_sessions_page(R"({"items":{},"total":0})");
  REQUIRE_FALSE(items_object.has_value());
  CHECK(items_object.error().code == errc::wrong_type);
  CHECK(items_object.error().path == "/items");
  const auto row_array = parse_sessions_page(R"({"items":[[]],"total":0})");
  REQUIRE_FALSE(row_array.has_value());
  CHECK(row_array.error().code == errc::wrong_type);
  CHECK(row_array.error().path == "/items/0");
}

TEST_CASE("every truncation of the sessions sample is an error, never a crash") {
  const std::string body = fixture("sessions_page.json");
  const std::size_t last = body.find_last_not_of(" \n");
  for (std::size_t n = 0; n <= last; ++n) {
    CAPTURE(n);
    CHECK_FALSE(parse_sessions_page(std::string_view(body.data(), n)).has_value());
  }
}

TEST_CASE("every session-row field SPEC.md marks or null parses when null, in both modes") {
  members row = valid_row();
  for (const char* key : {"llmModel", "triggeredBy", "triggerId", "triggerName", "output", "error",
                          "input", "startContext", "rootRunId", "finishedAt", "entryRunId"}) {
    row = with(row, key, "null");
  }
  for (const parse_options opts : {parse_options{}, parse_options{.strict = true}}) {
    const auto page = parse_sessions_page(page_with(row), opts);
    REQUIRE(page.has_value());
    const auto& s = page->items[1];
    CHECK_FALSE(s.llm_model.has_value());
    CHECK_FALSE(s.triggered_by.has_value());
    CHECK_FALSE(s.trigger_id.has_value());
    CHECK_FALSE(s.trigger_name.has_value());
    CHECK(s.output.is_null());
    CHECK_FALSE(s.error.has_value());
    CHECK(s.input.is_null());
    CHECK(s.start_context.is_null());
    CHECK_FALSE(s.root_run_id.has_value());
    CHECK_FALSE(s.finished_at.has_value());
    CHECK_FALSE(s.entry_run_id.has_value());
  }
  // startedAt is documented as an ISO-8601 string, never null, on session rows.
  const auto bad = parse_sessions_page(page_with(with(row, "startedAt", "null")),
                                       parse_options{.strict = false});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().path == "/items/1/startedAt");
}

} // namespace sessions_test
