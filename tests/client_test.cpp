#include <phrony/client.hpp>
#include <phrony/testing.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace client_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using std::chrono::milliseconds;

namespace {

constexpr const char* run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";
constexpr const char* agent_id = "8a4996ef-b447-40ce-b484-38b5c41f9dfd";

/// The shipped scripted transport (phrony/testing.hpp). A request that finds no answer queued
/// fails the test, and streams are queued as (status, chunks, drop).
struct fake_transport : phrony::testing::scripted_transport {
  fake_transport() = default;
  fake_transport(const fake_transport&) = default;
  fake_transport& operator=(const fake_transport&) = default;
  ~fake_transport() {
    for (const auto& r : unanswered()) {
      FAIL_CHECK(r);
    }
  }

  /// One scripted connection: bytes in chunks, then a clean end or a drop.
  struct connection {
    int status = 200;
    std::vector<std::string> chunks;
    bool drop = false; // end with a transport error instead of a clean end
  };
  void queue_stream(connection c) {
    respond_stream(phrony::testing::scripted_stream{
        c.status,
        std::move(c.chunks),
        c.drop ? std::optional(phrony::testing::transport_error("connection reset")) : std::nullopt,
        {}});
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

/// Options whose clock only the fake sleep moves; `slept` records every sleep.
struct fake_clock {
  std::shared_ptr<std::chrono::system_clock::time_point> at =
      std::make_shared<std::chrono::system_clock::time_point>(std::chrono::hours(1000));
  std::shared_ptr<std::vector<milliseconds>> slept = std::make_shared<std::vector<milliseconds>>();

  client_options options() const {
    client_options o;
    o.sleep = [at = at, slept = slept](milliseconds d) {
      *at += d;
      slept->push_back(d);
    };
    o.now = [at = at] { return *at; };
    o.random = [] { return 0.0; };
    return o;
  }
  milliseconds elapsed(std::chrono::system_clock::time_point since) const {
    return std::chrono::duration_cast<milliseconds>(*at - since);
  }
};

const api_config test_config{"http://127.0.0.1:9", "phk_secret_key_123", "test"};

/// conversation_waiting.json with its pending task (the last UserTaskReq) of kind `kind`.
std::string waiting_for(std::string_view kind) {
  std::string body = phrony_test::fixture("conversation_waiting.json");
  const std::string approval = R"("kind": "approval")";
  const auto at = body.rfind(approval);
  REQUIRE(at != std::string::npos);
  body.replace(at, approval.size(), R"("kind": ")" + std::string(kind) + "\"");
  return body;
}

std::size_t count_posts(const std::vector<http_request>& sent) {
  return static_cast<std::size_t>(std::count_if(
      sent.begin(), sent.end(), [](const http_request& r) { return r.method == "POST"; }));
}

} // namespace

TEST_CASE("a call builds the request, sends it and parses the 2xx body") {
  test_client tc;
  tc.t().respond(reply(200, run_body("Completed", "{\"ok\":true}")));
  const auto r = tc.c.get_run(run_id);
  REQUIRE(r.has_value());
  CHECK(r->state() == run_state::completed);
  CHECK(r->output.text == "{\"ok\":true}");
  REQUIRE(tc.t().requests().size() == 1);
  CHECK(tc.t().requests()[0].method == "GET");
  CHECK(tc.t().requests()[0].url == std::string("http://127.0.0.1:9/v1/runs/") + run_id);
}

TEST_CASE("get_conversation into a kept value reads each answer over it") {
  test_client tc;
  const std::string first = phrony_test::fixture("conversation_waiting.json");
  const std::string second = phrony_test::fixture("conversation_small.json");
  tc.t().respond(reply(200, first));
  tc.t().respond(reply(200, second));
  tc.t().respond(reply(404, R"({"statusCode":404,"message":"Run not found"})"));
  conversation kept;
  REQUIRE(tc.c.get_conversation(run_id, kept, step_content::slim).has_value());
  CHECK(kept == *parse_conversation(first));
  REQUIRE(tc.c.get_conversation(run_id, kept).has_value());
  CHECK(kept == *parse_conversation(second));
  const auto missing = tc.c.get_conversation(run_id, kept);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().status == 404);
  REQUIRE(tc.t().requests().size() == 3);
  CHECK(tc.t().requests()[0].url.find("/conversation") != std::string::npos);
}

TEST_CASE("non-2xx answers become http errors with status, route, body and Retry-After") {
  test_client tc;
  tc.t().respond(reply(404, R"({"statusCode":404,"message":"Run not found","error":"Not Found"})"));
  const auto r = tc.c.get_run(run_id);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::http_status);
  CHECK(r.error().status == 404);
  CHECK(r.error().method == "GET");
  CHECK(r.error().route == std::string("/v1/runs/") + run_id);
  CHECK(r.error().message == "Run not found");
  CHECK(r.error().body.find("Run not found") != std::string::npos);
  CHECK(r.error().what().find("phk_secret_key_123") == std::string::npos);

  tc.t().respond(reply(429, "{}", {{"Retry-After", "3600"}}));
  const auto limited = tc.c.start_run(agent_id);
  REQUIRE_FALSE(limited.has_value());
  CHECK(limited.error().status == 429);
  REQUIRE(limited.error().retry_after.has_value());
  CHECK(limited.error().retry_after->delay_from(std::chrono::system_clock::now()) ==
        std::chrono::seconds(3600));
}

TEST_CASE("idempotent calls are retried after the policy's delay; POSTs are not") {
  test_client tc;
  tc.t().respond(reply(503, "busy", {{"Retry-After", "2"}}));
  tc.t().fail(make_error(errc::transport, "", "connection reset"));
  tc.t().respond(reply(200, run_body("Running")));
  const auto r = tc.c.get_run(run_id);
  REQUIRE(r.has_value());
  CHECK(tc.t().requests().size() == 3);
  CHECK(tc.slept == std::vector<milliseconds>{milliseconds(2000), milliseconds(250)});

  tc.t().respond(reply(503, "busy"));
  const auto started = tc.c.start_run(agent_id);
  REQUIRE_FALSE(started.has_value());
  CHECK(started.error().status == 503);
  CHECK(tc.t().requests().size() == 4); // one try only
}

TEST_CASE("invalid arguments fail before anything is sent") {
  test_client tc;
  CHECK(tc.c.get_run("../admin").error().code == errc::invalid_argument);
  CHECK(tc.c.send_message(run_id, run_message{}).error().code == errc::invalid_argument);
  CHECK(tc.t().requests().empty());
}

TEST_CASE("the sessions pager walks every page until total") {
  test_client tc;
  // Real rows come from the shared sample: 5 rows, total rewritten to 12.
  auto sample = phrony_test::fixture("sessions_page.json");
  const auto total_at = sample.rfind("\"total\"");
  REQUIRE(total_at != std::string::npos);
  const std::string five_of_twelve = sample.substr(0, total_at) + "\"total\": 12\n}\n";
  tc.t().respond(reply(200, five_of_twelve));
  tc.t().respond(reply(200, five_of_twelve));
  tc.t().respond(reply(200, R"({"items":[],"total":12})"));
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
  REQUIRE(tc.t().requests().size() == 3);
  CHECK(tc.t().requests()[0].url.ends_with("?take=5"));
  CHECK(tc.t().requests()[1].url.find("skip=5") != std::string::npos);
  CHECK(tc.t().requests()[2].url.find("skip=10") != std::string::npos);
}

TEST_CASE(
    "stream_events resumes a dropped stream with Last-Event-ID, losing and repeating nothing") {
  test_client tc;
  const std::string e1 = sse_frame("1", run_event("engine.run.started", "Running"));
  const std::string e2 = sse_frame("2", run_event("engine.run.waiting", "WaitingForHITL"));
  const std::string e3 = sse_frame("3", run_event("engine.run.completed", "Completed"));
  const std::string e4 = sse_frame("4", session_completed());
  // First connection: retry 40 ms, two events, then half of the third and a drop.
  tc.t().queue_stream({200, {"retry: 40\n\n" + e1, e2 + e3.substr(0, 20)}, true});
  tc.t().queue_stream({200, {e3, e4}, false});
  std::vector<std::string> subjects;
  const auto r = tc.c.stream_events(run_id, [&](const result<stream_event>& ev) {
    REQUIRE(ev.has_value());
    subjects.push_back(ev->subject);
  });
  REQUIRE(r.has_value());
  CHECK(subjects == std::vector<std::string>{"engine.run.started", "engine.run.waiting",
                                             "engine.run.completed", "engine.session.completed"});
  REQUIRE(tc.t().requests().size() == 2);
  CHECK(tc.t().requests()[0].header("Last-Event-ID") == nullptr);
  REQUIRE(tc.t().requests()[1].header("Last-Event-ID") != nullptr);
  CHECK(*tc.t().requests()[1].header("Last-Event-ID") == "2");
  CHECK(tc.slept == std::vector<milliseconds>{milliseconds(40)});
}

TEST_CASE("stream_events stops when the callback says so, and gives up on a dead stream") {
  test_client tc;
  tc.t().queue_stream({200,
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
    dead.t().queue_stream({200, {": keepalive\n\n"}, true});
  }
  const auto gave_up = dead.c.stream_events(run_id, [](const result<stream_event>&) {});
  REQUIRE_FALSE(gave_up.has_value());
  CHECK(gave_up.error().code == errc::transport);
  CHECK(dead.t().requests().size() == 6); // the first try and max_stream_reconnects (5) more

  test_client unauthorized;
  unauthorized.t().queue_stream(
      {401, {R"({"statusCode":401,"message":"Invalid API key"})"}, false});
  const auto denied = unauthorized.c.stream_events(run_id, [](const result<stream_event>&) {});
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().status == 401);
  CHECK(denied.error().message == "Invalid API key");
}

TEST_CASE(
    "follow_run polls, answers the pending task through the handler, and returns the output") {
  test_client tc;
  tc.t().respond(reply(200, run_body("Running")));
  tc.t().respond(reply(200, run_body("WaitingForHITL")));
  tc.t().respond(reply(200, phrony_test::fixture("conversation_waiting.json")));
  tc.t().respond(reply(202, R"({"status":"Running"})"));
  tc.t().respond(reply(200, run_body("Completed", "{\"done\":1}")));
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
  REQUIRE(tc.t().requests().size() == 5);
  const auto& answer = tc.t().requests()[3];
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
    c.transport().respond(reply(200, run_body("Running")));
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
  // Polls at 0, 500, 1000 and 1500 ms; the next one (2000 ms) would pass the limit, so it
  // waits out the time left and gives up at the limit.
  CHECK(c.transport().requests().size() == 4);
  CHECK(*clock - std::chrono::system_clock::time_point{} == milliseconds{1'800});

  // Without a limit the same run is followed to its end.
  test_client unlimited;
  unlimited.t().respond(reply(200, run_body("Running")));
  unlimited.t().respond(reply(200, run_body("Completed")));
  const auto done = unlimited.c.follow_run(run_id, follow_handler{});
  REQUIRE(done.has_value());
  CHECK(done->completed);
}

TEST_CASE("follow_run ends with the reason when the handler declines") {
  test_client tc;
  tc.t().respond(reply(200, run_body("WaitingForHITL")));
  tc.t().respond(reply(200, phrony_test::fixture("conversation_waiting.json")));
  const auto outcome = tc.c.follow_run(run_id, follow_handler{});
  REQUIRE(outcome.has_value());
  CHECK_FALSE(outcome->completed);
  CHECK(outcome->error.find("no answer for user task") != std::string::npos);
}

TEST_CASE("follow_run answers a task once, though the status lags the answer for many polls") {
  test_client tc;
  const std::string waiting = phrony_test::fixture("conversation_waiting.json");
  tc.t().respond(reply(200, run_body("WaitingForHITL")));
  tc.t().respond(reply(200, waiting));
  tc.t().respond(reply(202, R"({"status":"Running"})"));
  for (int lag = 0; lag < 7; ++lag) { // longer than max_empty_conversations
    tc.t().respond(reply(200, run_body("WaitingForHITL")));
    tc.t().respond(reply(200, waiting));
  }
  tc.t().respond(reply(200, run_body("Completed", "{\"done\":1}")));
  int asked = 0;
  follow_handler handler;
  handler.answer_task = [&](const pending_user_task& t) -> std::optional<run_message> {
    ++asked;
    return run_message::approve(t.user_task_id);
  };
  const auto outcome = tc.c.follow_run(run_id, handler);
  REQUIRE(outcome.has_value());
  CHECK(outcome->end == follow_end::completed);
  CHECK(asked == 1);
  CHECK(count_posts(tc.t().requests()) == 1);
  CHECK(tc.t().verify().has_value());
}

TEST_CASE("follow_run never answers a dashboard-only task: it tells the caller once and waits") {
  fake_clock clock;
  const auto start = *clock.at;
  client<fake_transport> c(fake_transport{}, test_config, clock.options());
  const std::string review = waiting_for("anomaly_review");
  for (int i = 0; i < 40; ++i) {
    c.transport().respond(reply(200, run_body("WaitingForHITL")));
    c.transport().respond(reply(200, review));
  }
  std::vector<std::string> told;
  follow_handler handler;
  handler.answer_task = [](const pending_user_task& t) -> std::optional<run_message> {
    FAIL("asked to answer a dashboard-only task ", t.user_task_id);
    return std::nullopt;
  };
  handler.on_dashboard_task = [&](const pending_user_task& t) { told.push_back(t.user_task_id); };
  follow_options fo;
  fo.max_duration = milliseconds(20'000);
  const auto outcome = c.follow_run(run_id, handler, fo);
  REQUIRE(outcome.has_value());
  CHECK_FALSE(outcome->completed);
  CHECK(outcome->end == follow_end::waiting_for_dashboard);
  REQUIRE(outcome->task.has_value());
  CHECK(outcome->task->kind == "anomaly_review");
  REQUIRE(told.size() == 1);
  CHECK(told[0] == outcome->task->user_task_id);
  CHECK(count_posts(c.transport().requests()) == 0);
  CHECK(clock.elapsed(start) <= fo.max_duration);
  // Polls back off meanwhile: 500, 750, 1125 ... ms, capped at 5 s.
  CHECK(c.transport().requests().size() < 20);

  // A person completes it in the dashboard: the run goes on and is followed to its end.
  test_client tc;
  tc.t().respond(reply(200, run_body("WaitingForAITL")));
  tc.t().respond(reply(200, waiting_for("aitl_escalation")));
  tc.t().respond(reply(200, run_body("WaitingForAITL")));
  tc.t().respond(reply(200, waiting_for("aitl_escalation")));
  tc.t().respond(reply(200, run_body("Completed")));
  int told_again = 0;
  follow_handler counting;
  counting.on_dashboard_task = [&](const pending_user_task&) { ++told_again; };
  const auto done = tc.c.follow_run(run_id, counting);
  REQUIRE(done.has_value());
  CHECK(done->end == follow_end::completed);
  CHECK(told_again == 1);
  CHECK(count_posts(tc.t().requests()) == 0);
}

TEST_CASE("follow_run tells declines, stuck runs and failures apart") {
  test_client declined;
  declined.t().respond(reply(200, run_body("WaitingForHITL")));
  declined.t().respond(reply(200, phrony_test::fixture("conversation_waiting.json")));
  const auto a = declined.c.follow_run(run_id, follow_handler{});
  REQUIRE(a.has_value());
  CHECK(a->end == follow_end::declined);

  test_client stuck;
  for (int i = 0; i < 5; ++i) {
    stuck.t().respond(reply(200, run_body("WaitingForHITL")));
    stuck.t().respond(reply(200, phrony_test::fixture("conversation_small.json")));
  }
  const auto b = stuck.c.follow_run(run_id, follow_handler{});
  REQUIRE(b.has_value());
  CHECK(b->end == follow_end::stuck);

  test_client failed;
  failed.t().respond(reply(200, run_body("Cancelled")));
  const auto f = failed.c.follow_run(run_id, follow_handler{});
  REQUIRE(f.has_value());
  CHECK(f->end == follow_end::failed);
  CHECK_FALSE(f->completed);
}

TEST_CASE("max_duration bounds calls in flight: each carries the time left as its timeout") {
  fake_clock clock;
  const auto start = *clock.at;
  client<fake_transport> c(fake_transport{}, test_config, clock.options());
  for (int i = 0; i < 4; ++i) {
    c.transport().respond(reply(200, run_body("Running")));
  }
  follow_options fo;
  fo.poll_interval = milliseconds(500);
  fo.max_poll_interval = milliseconds(500);
  fo.max_duration = milliseconds(1'800);
  const auto outcome = c.follow_run(run_id, follow_handler{}, fo);
  REQUIRE(outcome.has_value());
  CHECK(outcome->end == follow_end::timed_out);
  CHECK(c.transport().verify().has_value()); // four polls, each answered
  std::vector<milliseconds> timeouts;
  for (const auto& r : c.transport().requests()) {
    timeouts.push_back(r.timeout);
  }
  CHECK(timeouts == std::vector<milliseconds>{milliseconds(1'800), milliseconds(1'300),
                                              milliseconds(800), milliseconds(300)});

  // Outside follow_run, a call gets client_options::request_timeout.
  c.transport().respond(reply(200, run_body("Running")));
  REQUIRE(c.get_run(run_id).has_value());
  CHECK(c.transport().requests().back().timeout == milliseconds(60'000));
  CHECK(clock.elapsed(start) == milliseconds(1'800));
}

TEST_CASE("a call that hangs is cut at max_duration, and follow_run ends timed out, not failed") {
  // The transport ends the exchange at its timeout, or (its own clock) a little before ours.
  for (const auto early : {milliseconds(0), milliseconds(3)}) {
    CAPTURE(early.count());
    fake_clock clock;
    const auto start = *clock.at;
    client_options o = clock.options();
    o.retry.max_attempts = 1; // as for a POST: no retry sleeps up to the deadline
    client<fake_transport> c(fake_transport{}, test_config, o);
    c.transport().respond(reply(200, run_body("Running")));
    c.transport().fail(make_error(errc::transport, "", "timed out"));
    // The second call hangs until its timeout (a transport without one would hang an hour).
    int calls = 0;
    c.transport().on_request([&, at = clock.at](const http_request& req) {
      if (++calls == 2) {
        *at += req.timeout.count() > 0 ? req.timeout - early : milliseconds(3'600'000);
      }
    });
    follow_options fo;
    fo.max_duration = milliseconds(10'000);
    const auto outcome = c.follow_run(run_id, follow_handler{}, fo);
    REQUIRE(outcome.has_value());
    CHECK(outcome->end == follow_end::timed_out);
    CHECK(clock.elapsed(start) == fo.max_duration - early);
    CHECK(outcome->error.find("timed out") != std::string::npos);
  }

  // A Retry-After beyond the deadline is slept only up to it.
  fake_clock clock2;
  const auto start2 = *clock2.at;
  client<fake_transport> busy(fake_transport{}, test_config, clock2.options());
  busy.transport().respond(reply(503, "busy", {{"Retry-After", "100"}}));
  follow_options fo;
  fo.max_duration = milliseconds(2'000);
  const auto gave_up = busy.follow_run(run_id, follow_handler{}, fo);
  REQUIRE(gave_up.has_value());
  CHECK(gave_up->end == follow_end::timed_out);
  CHECK(*clock2.slept == std::vector<milliseconds>{milliseconds(2'000)});
  CHECK(clock2.elapsed(start2) == milliseconds(2'000));
}

TEST_CASE("a transport error long before max_duration is that error, not a timeout") {
  fake_clock clock;
  client_options o = clock.options();
  o.retry.max_attempts = 1;
  client<fake_transport> c(fake_transport{}, test_config, o);
  c.transport().respond(reply(200, run_body("Running")));
  c.transport().fail(make_error(errc::transport, "", "connection reset"));
  follow_options fo;
  fo.max_duration = milliseconds(10'000); // so every call's timeout is cut to the time left
  const auto outcome = c.follow_run(run_id, follow_handler{}, fo);
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().code == errc::transport);
  CHECK(outcome.error().message == "connection reset");
}

TEST_CASE("every call carries max_response_body, and a longer body is refused all the same") {
  test_client tc;
  client_options o = tc.make_options();
  o.max_response_body = 64;
  client<fake_transport> c(fake_transport{}, test_config, o);
  c.transport().respond(reply(200, run_body("Running", R"({"pad":"0123456789"})")));
  const auto r = c.get_run(run_id);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::limit_exceeded);
  CHECK(c.transport().requests().at(0).max_response_body == 64);
  CHECK(c.transport().requests().size() == 1); // not retried

  tc.t().respond(reply(200, run_body("Running")));
  REQUIRE(tc.c.get_run(run_id).has_value());
  CHECK(tc.t().requests().at(0).max_response_body == std::size_t{64} << 20);
}

TEST_CASE("the API key never survives in part in an error body, wherever the cut falls") {
  const std::string key = test_config.api_key;
  constexpr std::size_t max = 40;
  const auto leaks = [&](const std::string& text) {
    for (std::size_t i = 0; i + 8 <= key.size(); ++i) {
      if (text.find(key.substr(i, 8)) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  for (std::size_t offset = 0; offset <= max + 2; ++offset) {
    CAPTURE(offset);
    const std::string body = std::string(offset, 'x') + key + std::string(30, 'y');
    test_client tc;
    client_options o = tc.make_options();
    o.max_error_body = max;
    client<fake_transport> c(fake_transport{}, test_config, o);
    c.transport().respond(reply(400, body));
    const auto sent = c.get_run(run_id);
    REQUIRE_FALSE(sent.has_value());
    CHECK(sent.error().body.size() <= max);
    CHECK_FALSE(leaks(sent.error().body));
    CHECK_FALSE(leaks(sent.error().what()));

    // The stream's error body arrives in pieces: split it at every offset too.
    c.transport().queue_stream({401, {body.substr(0, offset / 2), body.substr(offset / 2)}, false});
    const auto streamed = c.stream_events(run_id, [](const result<stream_event>&) {});
    REQUIRE_FALSE(streamed.has_value());
    CHECK(streamed.error().status == 401);
    CHECK(streamed.error().body.size() <= max);
    CHECK_FALSE(leaks(streamed.error().body));
    CHECK_FALSE(leaks(streamed.error().what()));
  }
  // The cut never splits a UTF-8 sequence.
  test_client tc;
  client_options o = tc.make_options();
  o.max_error_body = 5;
  client<fake_transport> c(fake_transport{}, test_config, o);
  c.transport().respond(reply(400, "abcd\xC3\xA9xyz"));
  const auto e = c.get_run(run_id);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().body == "abcd");
}

TEST_CASE("a sessions pager keeps working after its client moves") {
  auto sample = phrony_test::fixture("sessions_page.json");
  const auto total_at = sample.rfind("\"total\"");
  REQUIRE(total_at != std::string::npos);
  const std::string five_of_ten = sample.substr(0, total_at) + "\"total\": 10\n}\n";
  auto c = std::make_unique<client<fake_transport>>(fake_transport{}, test_config);
  c->transport().respond(reply(200, five_of_ten));
  c->transport().respond(reply(200, five_of_ten));
  auto pager = c->sessions(agent_id, {}, 5);
  REQUIRE(pager.next().has_value());
  const client<fake_transport> moved = std::move(*c);
  c.reset(); // the moved-from client is gone too
  const auto second = pager.next();
  REQUIRE(second.has_value());
  REQUIRE(second->has_value());
  CHECK((*second)->items.size() == 5);
  const auto end = pager.next();
  REQUIRE(end.has_value());
  CHECK_FALSE(end->has_value());
}

TEST_CASE("a copied client is independent of the original") {
  struct copyable {
    int calls = 0;
    result<http_response> send(const http_request&) {
      ++calls;
      return reply(200, run_body("Running"));
    }
  };
  client<copyable> a(copyable{}, test_config);
  client<copyable> b = a;
  REQUIRE(b.get_run(run_id).has_value());
  CHECK(b.transport().calls == 1);
  CHECK(a.transport().calls == 0);
}

TEST_CASE("stream_events counts tries per failure streak: clean reconnects do not use them up") {
  test_client tc;
  for (int i = 1; i <= 4; ++i) { // more clean reconnects than retry_policy::max_attempts
    tc.t().queue_stream(
        {200, {sse_frame(std::to_string(i), run_event("engine.run.started", "Running"))}, false});
  }
  tc.t().queue_stream({503, {"busy"}, false});
  tc.t().queue_stream({503, {"busy"}, false});
  tc.t().queue_stream({200, {sse_frame("9", session_completed())}, false});
  int events = 0;
  const auto r = tc.c.stream_events(run_id, [&](const result<stream_event>&) { ++events; });
  REQUIRE(r.has_value());
  CHECK(events == 5);
  CHECK(tc.t().verify().has_value());
}

TEST_CASE("the stream's retry is capped by client_options::max_stream_retry") {
  struct row {
    const char* retry;
    milliseconds want;
  };
  const row rows[] = {
      {"retry: 9999999999999\n\n", milliseconds(30'000)},
      {"retry: 31000\n\n", milliseconds(30'000)},
      {"retry: 1500\n\n", milliseconds(1'500)},
  };
  for (const auto& r : rows) {
    CAPTURE(r.retry);
    test_client tc;
    tc.t().queue_stream(
        {200,
         {std::string(r.retry) + sse_frame("1", run_event("engine.run.started", "Running"))},
         true});
    tc.t().queue_stream({200, {sse_frame("2", session_completed())}, false});
    REQUIRE(tc.c.stream_events(run_id, [](const result<stream_event>&) {}).has_value());
    CHECK(tc.slept == std::vector<milliseconds>{r.want});
  }
}

namespace {

/// A stand-in server for follow_run_streaming: the run reaches an approval task while the client
/// reads its stream, and completes once the task is approved. The stream serves the events
/// logged after Last-Event-ID, then ends, as the idle bound ends a silent connection.
struct story_server {
  enum class spelling { snake, camel, none, silent };
  spelling keys = spelling::snake;
  bool ids = true;      // false: events carry no SSE id, so a stream cannot be resumed
  bool polled = false;  // after the answer, the run also moves on when its status is polled
  bool garbage = false; // the stream sends a line over the decoder's bounds, nothing else
  std::string run = "c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8"; // the fixture's run
  std::string status = "Running";
  std::vector<std::string> log; // event JSON; its SSE id is its index + 1
  int phase = 0;
  int answers = 0;
  std::vector<http_request> sent;

  story_server() {
    log.push_back(event("session", "engine.session.started", "Running"));
    log.push_back(event("run", "engine.run.started", "Running"));
  }

  std::string event(const char* kind, const char* subject, const char* st) const {
    std::string data;
    if (keys == spelling::snake) {
      data = R"({"run_id":")" + run + R"(","session_id":"s1","status":")" + st + R"("})";
    } else if (keys == spelling::camel) {
      data = R"({"runId":")" + run + R"(","sessionId":"s1","status":")" + st + R"("})";
    } else {
      data = "{}";
    }
    return std::string(R"({"ts":"2026-01-01T00:00:00Z","kind":")") + kind + R"(","subject":")" +
           subject + R"(","data":)" + data + "}";
  }

  void advance() { // the run moves on by itself while the client listens
    if (phase == 0) {
      log.push_back(event("user_task", "engine.user_task.created", "Pending"));
      log.push_back(event("run", "engine.run.waiting", "WaitingForHITL"));
      status = "WaitingForHITL";
      phase = 1;
    } else if (phase == 2) {
      log.push_back(event("run", "engine.run.resumed", "Running"));
      log.push_back(event("run", "engine.run.completed", "Completed"));
      log.push_back(event("session", "engine.session.completed", "Completed"));
      status = "Completed";
      phase = 3;
    }
  }

  result<http_response> send(const http_request& req) {
    sent.push_back(req);
    if (req.url.find("/conversation") != std::string::npos) {
      return reply(200, phrony_test::fixture(phase == 1 ? "conversation_waiting.json"
                                                        : "conversation_small.json"));
    }
    if (req.method == "POST") {
      ++answers;
      if (phase != 1 || req.body.find(R"("approved":true)") == std::string::npos) {
        return reply(400, R"({"statusCode":400,"message":"no pending task"})");
      }
      log.push_back(event("user_task", "engine.user_task.completed", "Completed"));
      status = "Running";
      phase = 2;
      return reply(202, R"({"status":"Running"})");
    }
    if (polled && phase == 2) {
      advance();
    }
    return reply(200, R"({"runId":")" + run + R"(","status":")" + status + R"(","output":)" +
                          (status == "Completed" ? R"({"approved":true})" : "null") + "}");
  }

  result<void> stream(const http_request& req, const stream_handler& h) {
    sent.push_back(req);
    std::size_t next = 0;
    if (const auto* id = req.header("Last-Event-ID")) {
      next = std::stoul(*id);
    }
    response_head head;
    head.status = 200;
    if (!h.on_head(head)) {
      return make_error(errc::cancelled, "", "stopped");
    }
    if (garbage) {
      advance();
      // As transports do when on_data returns false.
      return h.on_data("event: " + std::string(sse_limits{}.max_line + 1, 'x') + "\n")
                 ? result<void>{}
                 : make_error(errc::cancelled, "", "stopped");
    }
    for (int round = 0; round < 2; ++round) {
      for (; next < log.size() && keys != spelling::silent; ++next) {
        const std::string frame =
            ids ? sse_frame(std::to_string(next + 1), log[next]) : "data: " + log[next] + "\n\n";
        if (!h.on_data(frame)) {
          return make_error(errc::cancelled, "", "stopped");
        }
      }
      if (round == 0) {
        advance();
      }
    }
    return {};
  }
};

} // namespace

TEST_CASE("follow_run_streaming completes whatever keys the stream's payloads use, confirming "
          "each hint with the status") {
  struct row {
    const char* what;
    story_server::spelling keys;
  };
  const row rows[] = {
      {"snake_case keys", story_server::spelling::snake},
      {"camelCase keys", story_server::spelling::camel},
      {"no usable keys at all", story_server::spelling::none},
      {"a stream that sends nothing", story_server::spelling::silent},
  };
  for (const auto& r : rows) {
    const std::string what = r.what;
    CAPTURE(what);
    fake_clock clock;
    story_server server;
    server.keys = r.keys;
    server.log.clear();
    server.log.push_back(server.event("session", "engine.session.started", "Running"));
    server.log.push_back(server.event("run", "engine.run.started", "Running"));
    client<story_server> c(std::move(server), test_config, clock.options());
    int asked = 0;
    std::vector<std::string> subjects;
    follow_handler handler;
    handler.answer_task = [&](const pending_user_task& t) -> std::optional<run_message> {
      ++asked;
      return run_message::approve(t.user_task_id);
    };
    handler.on_event = [&](const result<stream_event>& e) {
      REQUIRE(e.has_value());
      subjects.push_back(e->subject);
    };
    follow_options fo;
    fo.max_duration = milliseconds(120'000);
    const auto outcome = c.follow_run_streaming(c.transport().run, handler, fo);
    REQUIRE(outcome.has_value());
    CHECK(outcome->end == follow_end::completed);
    CHECK(outcome->output.text == R"({"approved":true})");
    CHECK(asked == 1);
    CHECK(c.transport().answers == 1);
    CHECK(c.transport().sent.size() < 40);
    if (r.keys != story_server::spelling::silent) {
      // Each event at most once and in order across the stream's reconnections; the stream is
      // left once the status says Completed, so the last ones may be unread.
      const std::vector<std::string> all = {
          "engine.session.started", "engine.run.started",         "engine.user_task.created",
          "engine.run.waiting",     "engine.user_task.completed", "engine.run.resumed",
          "engine.run.completed",   "engine.session.completed"};
      std::string seen;
      for (const auto& x : subjects) {
        seen += x + " ";
      }
      CAPTURE(seen);
      REQUIRE(subjects.size() >= 5);
      REQUIRE(subjects.size() <= all.size());
      CHECK(std::equal(subjects.begin(), subjects.end(), all.begin()));
    }
    bool streamed = false;
    for (const auto& req : c.transport().sent) {
      if (req.url.ends_with("/stream")) {
        streamed = true;
        CHECK(req.timeout > milliseconds(0));
        CHECK(req.timeout <= fo.idle_timeout);
      }
    }
    CHECK(streamed);
  }
}

TEST_CASE("follow_run_streaming polls when the stream cannot be kept") {
  struct row {
    const char* what;
    bool ids;
    bool garbage;
  };
  const row rows[] = {
      {"no event ids: a new connection would replay from the start", false, false},
      {"a line over the decoder's bounds", true, true},
  };
  for (const auto& r : rows) {
    const std::string what = r.what;
    CAPTURE(what);
    fake_clock clock;
    story_server server;
    server.ids = r.ids;
    server.garbage = r.garbage;
    server.polled = true;
    client<story_server> c(std::move(server), test_config, clock.options());
    follow_handler handler;
    handler.answer_task = [](const pending_user_task& t) -> std::optional<run_message> {
      return run_message::approve(t.user_task_id);
    };
    follow_options fo;
    fo.max_duration = milliseconds(60'000);
    const auto outcome = c.follow_run_streaming(c.transport().run, handler, fo);
    REQUIRE(outcome.has_value());
    CHECK(outcome->end == follow_end::completed);
    CHECK(c.transport().answers == 1);
    const auto streams =
        std::count_if(c.transport().sent.begin(), c.transport().sent.end(),
                      [](const http_request& req) { return req.url.ends_with("/stream"); });
    CHECK(streams == 1);
  }
}

} // namespace client_test
