// A consumer built the way exception-free codebases build (issue 10, item 6): -fno-exceptions
// -fno-rtti. It parses good and bad bodies, builds requests and drives client<T> (streams and
// the run follower included) over the fake server of tests/strict; run with "die" it calls
// value() on an error, which must print the error to stderr and abort (test noexcept_*_abort).
//
// Usage: consumer <tests/fixtures directory> [die]
#include <phrony/phrony.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../strict/fake_server.hpp"

#if defined(__cpp_exceptions) || PHRONY_EXCEPTIONS
#error "build this consumer with -fno-exceptions"
#endif
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
#error "build this consumer with -fno-rtti"
#endif
#if SIMDJSON_EXCEPTIONS
#error "simdjson's exception API must be off without exceptions"
#endif

namespace {

int failures = 0;

#define NOEXCEPT_CHECK(...)                                                                        \
  do {                                                                                             \
    if (!(__VA_ARGS__)) {                                                                          \
      std::fprintf(stderr, "consumer.cpp:%d: check failed: %s\n", __LINE__, #__VA_ARGS__);         \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (false)

using namespace phrony;
using phrony_strict::agent_id;
using phrony_strict::run_id;

client_options instant_options() {
  client_options o;
  o.sleep = [](std::chrono::milliseconds) {};
  o.random = [] { return 0.0; };
  return o;
}

const api_config config{"https://api.example.test", std::string(phrony_strict::api_key), "noexc"};

void parse_bodies(const phrony_strict::fake_server& fx) {
  const auto run = parse_run_status(fx.fixture("run_completed.json"));
  NOEXCEPT_CHECK(run.has_value() && run.value().state() == run_state::completed);
  const auto convo = parse_conversation(fx.fixture("conversation_waiting.json"));
  NOEXCEPT_CHECK(convo.has_value() && pending_user_tasks(convo.value()).size() == 1);
  sessions_page page;
  NOEXCEPT_CHECK(parse_sessions_page(fx.fixture("sessions_page.json"), page).has_value());
  NOEXCEPT_CHECK(page.items.size() == 5 && page.total == 137);
  const simdjson::padded_string padded(fx.fixture("presign.json"));
  NOEXCEPT_CHECK(parse_presign(padded).value_or(presign_response{}).http_method == "PUT");
  NOEXCEPT_CHECK(
      parse_finalize(fx.fixture("finalize.json")).value_or(finalize_response{}).size_bytes ==
      7249238);

  // Bad bodies are errors with a path, never a throw.
  const auto truncated = parse_run_status(R"({"runId":"x","status":)");
  NOEXCEPT_CHECK(!truncated && truncated.error().code == errc::invalid_json);
  const auto wrong = parse_start_run(R"({"sessionId":1})");
  NOEXCEPT_CHECK(!wrong && wrong.error().code == errc::wrong_type &&
                 wrong.error().path == "/sessionId");
  const auto missing = parse_run_status(R"({"status":"Running","output":null})");
  NOEXCEPT_CHECK(!missing && missing.error().code == errc::missing_field);
  const auto strict = parse_conversation(R"({"session":1})", parse_options{true});
  NOEXCEPT_CHECK(!strict.has_value());
  NOEXCEPT_CHECK(!parse_error_body("[").has_value());
  NOEXCEPT_CHECK(!parse_stream_event("{\"kind\":\"x\"} trailing").has_value());

  json_writer w;
  w.begin_object().key("n").value(std::uint64_t{42}).key("bad").value(std::string_view("\xc3"));
  NOEXCEPT_CHECK(!w.ok());
}

void build_requests() {
  const auto start = start_run_request(config, agent_id);
  NOEXCEPT_CHECK(start && start.value().body == R"({"input":{}})");
  NOEXCEPT_CHECK(!get_run_request(config, "../admin").has_value());
  api_config no_key = config;
  no_key.api_key.clear();
  NOEXCEPT_CHECK(!get_run_request(no_key, run_id).has_value());
  const auto msg = send_message_request(config, run_id, run_message::chat("hello"));
  NOEXCEPT_CHECK(msg && msg.value().body.find("hello") != std::string::npos);
  NOEXCEPT_CHECK(to_string(msg.value()).find(phrony_strict::api_key) == std::string::npos);
}

void drive_client(const std::string& fixtures) {
  client<phrony_strict::fake_server> c(phrony_strict::fake_server(fixtures), config,
                                       instant_options());
  NOEXCEPT_CHECK(c.start_run(agent_id).has_value());
  NOEXCEPT_CHECK(c.get_run(run_id).has_value());
  NOEXCEPT_CHECK(c.list_sessions(agent_id).has_value());
  const auto skipped = c.skip_agent_wait(run_id);
  NOEXCEPT_CHECK(!skipped && skipped.error().code == errc::http_status);
  NOEXCEPT_CHECK(c.upload_file("a.pdf", "application/pdf", "%PDF").has_value());

  c.transport().streams.push_back(
      {phrony_strict::sse_frame("1", phrony_strict::run_event("engine.run.started", "Running")) +
       phrony_strict::sse_frame("2", phrony_strict::session_completed())});
  int events = 0;
  NOEXCEPT_CHECK(c.stream_events(run_id, [&](const result<stream_event>& e) {
                    events += e ? 1 : 0;
                  }).has_value());
  NOEXCEPT_CHECK(events == 2);

  follow_handler handler;
  handler.answer_task = [](const pending_user_task& t) -> std::optional<run_message> {
    return run_message::approve(t.user_task_id);
  };
  c.transport().run_states = {"WaitingForHITL"};
  const auto polled = c.follow_run(run_id, handler);
  NOEXCEPT_CHECK(polled && polled.value().end == follow_end::completed);
  c.transport().run_states = {"Running"};
  c.transport().streams.push_back({phrony_strict::sse_frame(
      "3", phrony_strict::run_event("engine.run.completed", "Completed"))});
  const auto streamed = c.follow_run_streaming(run_id, handler);
  NOEXCEPT_CHECK(streamed && streamed.value().completed);
}

/// phrony/testing.hpp without exceptions: a scripted client, and a recording replayed.
void testing_transports() {
  phrony::testing::scripted_transport script;
  script.respond(200,
                 R"({"runId":")" + std::string(run_id) + R"(","status":"Running","output":null})");
  client<phrony::testing::scripted_transport> c(script, config, instant_options());
  NOEXCEPT_CHECK(c.get_run(run_id).has_value());
  NOEXCEPT_CHECK(script.verify().has_value());
  NOEXCEPT_CHECK(!c.get_run(run_id).has_value() && !script.verify().has_value());
  const auto replay = phrony::testing::replay_transport::parse(
      R"({"v":1,"kind":"send","request":{"method":"GET","target":"/v1/runs/)" +
      std::string(run_id) +
      R"(","headers":[],"body":""},"error":{"code":"transport","message":"reset"}})");
  NOEXCEPT_CHECK(replay.has_value() && replay->size() == 1);
  NOEXCEPT_CHECK(!phrony::testing::replay_transport::parse("not json").has_value());
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <tests/fixtures directory> [die]\n", argv[0]);
    return 2;
  }
  const std::string fixtures = argv[1];
  if (argc > 2 && std::string_view(argv[2]) == "die") {
    client<phrony_strict::fake_server> c(phrony_strict::fake_server(fixtures), config,
                                         instant_options());
    // A 400 whose body echoes the key: value() must abort, printing the error without it.
    const accept_response r = c.skip_agent_wait(run_id).value();
    std::printf("value() returned (status %s) instead of aborting\n", r.status.c_str());
    return 0;
  }
  const phrony_strict::fake_server fx(fixtures);
  if (fx.fixture("run_completed.json").empty()) {
    std::fprintf(stderr, "no fixtures in %s\n", argv[1]);
    return 2;
  }
  parse_bodies(fx);
  build_requests();
  drive_client(fixtures);
  testing_transports();
  if (failures != 0) {
    std::fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  std::printf("no exceptions, no RTTI: every check passed\n");
  return 0;
}
