#include <phrony/client.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace phrony;
using std::chrono::milliseconds;

namespace {

constexpr const char* run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";
constexpr const char* agent_id = "8a4996ef-b447-40ce-b484-38b5c41f9dfd";

/// One scripted connection of the fake stream: bytes in chunks, then a clean end or a drop.
struct scripted_stream {
  int status = 200;
  std::vector<std::string> chunks;
  bool drop = false; // end with a transport error instead of a clean end
};

/// A transport that answers from a script and records what it was asked.
struct fake_transport {
  std::deque<result<http_response>> responses;
  std::deque<scripted_stream> streams;
  std::vector<http_request> sent;

  result<http_response> send(const http_request& req) {
    sent.push_back(req);
    REQUIRE_FALSE(responses.empty());
    auto r = std::move(responses.front());
    responses.pop_front();
    return r;
  }

  result<void> stream(const http_request& req, const stream_handler& h) {
    sent.push_back(req);
    REQUIRE_FALSE(streams.empty());
    auto s = std::move(streams.front());
    streams.pop_front();
    response_head head;
    head.status = s.status;
    if (!h.on_head(head)) {
      return make_error(errc::cancelled, "", "stopped");
    }
    for (const auto& c : s.chunks) {
      if (!h.on_data(c)) {
        return make_error(errc::cancelled, "", "stopped");
      }
    }
    if (s.drop) {
      return make_error(errc::transport, "", "connection reset");
    }
    return {};
  }
};

static_assert(streaming_transport<fake_transport>);

http_response reply(int status, std::string body, std::vector<http_header> headers = {}) {
  http_response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

std::string run_body(const char* status, const char* output = "null") {
  return std::string(R"({"runId":")") + run_id + R"(","status":")" + status + R"(","output":)" +
         output + "}";
}

struct test_client {
  std::vector<milliseconds> slept;
  client<fake_transport> c;

  test_client()
      : c(fake_transport{}, api_config{"http://127.0.0.1:9", "phk_secret_key_123", "test"},
          make_options()) {}

  client_options make_options() {
    client_options o;
    o.sleep = [this](milliseconds d) { slept.push_back(d); };
    o.random = [] { return 0.0; };
    return o;
  }
  fake_transport& t() { return c.transport(); }
};

std::string sse_frame(const std::string& id, const std::string& json) {
  return "id: " + id + "\ndata: " + json + "\n\n";
}

std::string run_event(const char* subject, const char* status) {
  return std::string(R"({"ts":"2026-01-01T00:00:00Z","kind":"run","subject":")") + subject +
         R"(","data":{"run_id":")" + run_id + R"(","status":")" + status + R"("}})";
}

std::string session_completed() {
  return R"({"ts":"2026-01-01T00:00:01Z","kind":"session","subject":"engine.session.completed",)"
         R"("data":{"session_id":"s","status":"Completed"}})";
}

} // namespace

TEST_CASE("a call builds the request, sends it and parses the 2xx body") {
  test_client tc;
  tc.t().responses.push_back(reply(200, run_body("Completed", "{\"ok\":true}")));
  const auto r = tc.c.get_run(run_id);
  REQUIRE(r.has_value());
  CHECK(r->state() == run_state::completed);
  CHECK(r->output.text == "{\"ok\":true}");
  REQUIRE(tc.t().sent.size() == 1);
  CHECK(tc.t().sent[0].method == "GET");
  CHECK(tc.t().sent[0].url == std::string("http://127.0.0.1:9/v1/runs/") + run_id);
}

TEST_CASE("get_conversation into a kept value reads each answer over it") {
  test_client tc;
  const std::string first = phrony_test::fixture("conversation_waiting.json");
  const std::string second = phrony_test::fixture("conversation_small.json");
  tc.t().responses.push_back(reply(200, first));
  tc.t().responses.push_back(reply(200, second));
  tc.t().responses.push_back(reply(404, R"({"statusCode":404,"message":"Run not found"})"));
  conversation kept;
  REQUIRE(tc.c.get_conversation(run_id, kept, step_content::slim).has_value());
  CHECK(kept == *parse_conversation(first));
  REQUIRE(tc.c.get_conversation(run_id, kept).has_value());
  CHECK(kept == *parse_conversation(second));
  const auto missing = tc.c.get_conversation(run_id, kept);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().status == 404);
  REQUIRE(tc.t().sent.size() == 3);
  CHECK(tc.t().sent[0].url.find("/conversation") != std::string::npos);
}

TEST_CASE("non-2xx answers become http errors with status, route, body and Retry-After") {
  test_client tc;
  tc.t().responses.push_back(
      reply(404, R"({"statusCode":404,"message":"Run not found","error":"Not Found"})"));
  const auto r = tc.c.get_run(run_id);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::http_status);
  CHECK(r.error().status == 404);
  CHECK(r.error().method == "GET");
  CHECK(r.error().route == std::string("/v1/runs/") + run_id);
  CHECK(r.error().message == "Run not found");
  CHECK(r.error().body.find("Run not found") != std::string::npos);
  CHECK(r.error().what().find("phk_secret_key_123") == std::string::npos);

  tc.t().responses.push_back(reply(429, "{}", {{"Retry-After", "3600"}}));
  const auto limited = tc.c.start_run(agent_id);
  REQUIRE_FALSE(limited.has_value());
  CHECK(limited.error().status == 429);
  REQUIRE(limited.error().retry_after.has_value());
  CHECK(limited.error().retry_after->delay_from(std::chrono::system_clock::now()) ==
        std::chrono::seconds(3600));
}

TEST_CASE("idempotent calls are retried after the policy's delay; POSTs are not") {
  test_client tc;
  tc.t().responses.push_back(reply(503, "busy", {{"Retry-After", "2"}}));
  tc.t().responses.push_back(make_error(errc::transport, "", "connection reset"));
  tc.t().responses.push_back(reply(200, run_body("Running")));
  const auto r = tc.c.get_run(run_id);
  REQUIRE(r.has_value());
  CHECK(tc.t().sent.size() == 3);
  CHECK(tc.slept == std::vector<milliseconds>{milliseconds(2000), milliseconds(250)});

  tc.t().responses.push_back(reply(503, "busy"));
  const auto started = tc.c.start_run(agent_id);
  REQUIRE_FALSE(started.has_value());
  CHECK(started.error().status == 503);
  CHECK(tc.t().sent.size() == 4); // one try only
}

TEST_CASE("invalid arguments fail before anything is sent") {
  test_client tc;
  CHECK(tc.c.get_run("../admin").error().code == errc::invalid_argument);
  CHECK(tc.c.send_message(run_id, run_message{}).error().code == errc::invalid_argument);
  CHECK(tc.t().sent.empty());
}

TEST_CASE("the sessions pager walks every page until total") {
  test_client tc;
  // Real rows come from the shared sample: 5 rows, total rewritten to 12.
  auto sample = phrony_test::fixture("sessions_page.json");
  const auto total_at = sample.rfind("\"total\"");
  REQUIRE(total_at != std::string::npos);
  const std::string five_of_twelve = sample.substr(0, total_at) + "\"total\": 12\n}\n";
  tc.t().responses.push_back(reply(200, five_of_twelve));
  tc.t().responses.push_back(reply(200, five_of_twelve));
  tc.t().responses.push_back(reply(200, R"({"items":[],"total":12})"));
  auto pager = tc.c.sessions(agent_id, {}, 5);
  int pages = 0;
  std::size_t rows = 0;
  for (;;) {
    auto p = pager.next();
    REQUIRE(p.has_value());
    if (!p->has_value()) {
      break;
    }
    ++pages;
    rows += (*p)->items.size();
  }
  CHECK(pages == 3);
  CHECK(rows == 10);
  REQUIRE(tc.t().sent.size() == 3);
  CHECK(tc.t().sent[0].url.ends_with("?take=5"));
  CHECK(tc.t().sent[1].url.find("skip=5") != std::string::npos);
  CHECK(tc.t().sent[2].url.find("skip=10") != std::string::npos);
}

TEST_CASE(
    "stream_events resumes a dropped stream with Last-Event-ID, losing and repeating nothing") {
  test_client tc;
  const std::string e1 = sse_frame("1", run_event("engine.run.started", "Running"));
  const std::string e2 = sse_frame("2", run_event("engine.run.waiting", "WaitingForHITL"));
  const std::string e3 = sse_frame("3", run_event("engine.run.completed", "Completed"));
  const std::string e4 = sse_frame("4", session_completed());
  // First connection: retry 40 ms, two events, then half of the third and a drop.
  tc.t().streams.push_back({200, {"retry: 40\n\n" + e1, e2 + e3.substr(0, 20)}, true});
  tc.t().streams.push_back({200, {e3, e4}, false});
  std::vector<std::string> subjects;
  const auto r = tc.c.stream_events(run_id, [&](const result<stream_event>& ev) {
    REQUIRE(ev.has_value());
    subjects.push_back(ev->subject);
  });
  REQUIRE(r.has_value());
  CHECK(subjects == std::vector<std::string>{"engine.run.started", "engine.run.waiting",
                                             "engine.run.completed", "engine.session.completed"});
  REQUIRE(tc.t().sent.size() == 2);
  CHECK(tc.t().sent[0].header("Last-Event-ID") == nullptr);
  REQUIRE(tc.t().sent[1].header("Last-Event-ID") != nullptr);
  CHECK(*tc.t().sent[1].header("Last-Event-ID") == "2");
  CHECK(tc.slept == std::vector<milliseconds>{milliseconds(40)});
}

TEST_CASE("stream_events stops when the callback says so, and gives up on a dead stream") {
  test_client tc;
  tc.t().streams.push_back({200,
                            {sse_frame("1", run_event("engine.run.started", "Running")) +
                             sse_frame("2", session_completed())},
                            false});
  int seen = 0;
  const auto stopped = tc.c.stream_events(run_id, [&](const result<stream_event>&) {
    ++seen;
    return false;
  });
  REQUIRE_FALSE(stopped.has_value());
  CHECK(stopped.error().code == errc::cancelled);
  CHECK(seen == 1);

  test_client dead;
  for (int i = 0; i < 10; ++i) {
    dead.t().streams.push_back({200, {": keepalive\n\n"}, true});
  }
  const auto gave_up = dead.c.stream_events(run_id, [](const result<stream_event>&) {});
  REQUIRE_FALSE(gave_up.has_value());
  CHECK(gave_up.error().code == errc::transport);
  CHECK(dead.t().sent.size() == 6); // the first try and max_stream_reconnects (5) more

  test_client unauthorized;
  unauthorized.t().streams.push_back(
      {401, {R"({"statusCode":401,"message":"Invalid API key"})"}, false});
  const auto denied = unauthorized.c.stream_events(run_id, [](const result<stream_event>&) {});
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().status == 401);
  CHECK(denied.error().message == "Invalid API key");
}

TEST_CASE(
    "follow_run polls, answers the pending task through the handler, and returns the output") {
  test_client tc;
  tc.t().responses.push_back(reply(200, run_body("Running")));
  tc.t().responses.push_back(reply(200, run_body("WaitingForHITL")));
  tc.t().responses.push_back(reply(200, phrony_test::fixture("conversation_waiting.json")));
  tc.t().responses.push_back(reply(202, R"({"status":"Running"})"));
  tc.t().responses.push_back(reply(200, run_body("Completed", "{\"done\":1}")));
  std::vector<std::string> asked;
  follow_handler handler;
  handler.answer_task = [&](const pending_user_task& t) -> std::optional<run_message> {
    asked.push_back(t.user_task_id);
    return run_message::approve(t.user_task_id);
  };
  const auto outcome = tc.c.follow_run(run_id, handler);
  REQUIRE(outcome.has_value());
  CHECK(outcome->completed);
  CHECK(outcome->output.text == "{\"done\":1}");
  REQUIRE(asked.size() == 1);
  REQUIRE(tc.t().sent.size() == 5);
  const auto& answer = tc.t().sent[3];
  CHECK(answer.method == "POST");
  CHECK(answer.body.find("\"userTaskId\":\"" + asked[0] + "\"") != std::string::npos);
  CHECK(answer.body.find("\"approved\":true") != std::string::npos);
  CHECK(tc.slept == std::vector<milliseconds>{milliseconds(500)});
}

TEST_CASE("follow_run gives up at max_duration on the client's clock") {
  // A clock that only the fake sleep moves.
  auto clock = std::make_shared<std::chrono::system_clock::time_point>();
  client_options o;
  o.sleep = [clock](milliseconds d) { *clock += d; };
  o.now = [clock] { return *clock; };
  client<fake_transport> c(fake_transport{},
                           api_config{"http://127.0.0.1:9", "phk_secret_key_123", "test"}, o);
  for (int i = 0; i < 20; ++i) {
    c.transport().responses.push_back(reply(200, run_body("Running")));
  }
  follow_options fo;
  fo.poll_interval = milliseconds{500};
  fo.max_poll_interval = milliseconds{500};
  fo.max_duration = milliseconds{1'800};
  const auto outcome = c.follow_run(run_id, follow_handler{}, fo);
  REQUIRE(outcome.has_value());
  CHECK_FALSE(outcome->completed);
  CHECK(outcome->status == "Running");
  CHECK(outcome->error.find("max_duration (1800 ms)") != std::string::npos);
  // Polls at 0, 500, 1000 and 1500 ms; the next one (2000 ms) would pass the limit.
  CHECK(c.transport().sent.size() == 4);
  CHECK(*clock - std::chrono::system_clock::time_point{} == milliseconds{1'500});

  // Without a limit the same run is followed to its end.
  test_client unlimited;
  unlimited.t().responses.push_back(reply(200, run_body("Running")));
  unlimited.t().responses.push_back(reply(200, run_body("Completed")));
  const auto done = unlimited.c.follow_run(run_id, follow_handler{});
  REQUIRE(done.has_value());
  CHECK(done->completed);
}

TEST_CASE("follow_run ends with the reason when the handler declines") {
  test_client tc;
  tc.t().responses.push_back(reply(200, run_body("WaitingForHITL")));
  tc.t().responses.push_back(reply(200, phrony_test::fixture("conversation_waiting.json")));
  const auto outcome = tc.c.follow_run(run_id, follow_handler{});
  REQUIRE(outcome.has_value());
  CHECK_FALSE(outcome->completed);
  CHECK(outcome->error.find("no answer for user task") != std::string::npos);
}
