#include <phrony/exchange.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace exchange_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using std::chrono::milliseconds;

namespace {

const api_config cfg{"https://api.example.test", "phk_live_SECRET_exchange_test", "t/1"};
const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours{24 * 365 * 56};

http_response response(int status, std::string body, std::vector<http_header> headers = {}) {
  http_response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

const std::string run = "c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8";

/// A GET /v1/runs/{runId} body with status `s`.
std::string status_body(std::string_view s) {
  return R"({"runId":")" + run + R"(","status":")" + std::string(s) +
         R"(","output":null,"sessionId":"c15521b1-b3dc-450a-9daa-37e51b591d75"})";
}

http_request get() {
  auto req = get_run_request(cfg, run);
  REQUIRE(req.has_value());
  return std::move(*req);
}

/// Feeds `text` to a session as one 200 connection; the events it delivered.
std::vector<stream_event> feed(event_stream_session& s, std::string_view text) {
  std::vector<stream_event> got;
  response_head head;
  head.status = 200;
  s.on_head(head);
  CHECK(s.on_data(text, [&](const result<stream_event>& ev) {
    REQUIRE(ev.has_value());
    got.push_back(*ev);
  }));
  return got;
}

const char* const session_done =
    R"(data: {"ts":"2026-05-13T12:52:33.138Z","kind":"session","subject":"engine.session.completed","data":{"status":"Completed"}})"
    "\n\n";
const char* const step_event =
    R"(data: {"ts":"2026-05-13T12:52:33.138Z","kind":"step","subject":"engine.step.reasoning","data":{"run_id":"c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8"}})"
    "\n\n";

} // namespace

TEST_CASE("exchange: a retryable status waits per Retry-After, then the 2xx is the outcome") {
  exchange ex(get(), cfg, {});
  CHECK(ex.request().max_response_body == exchange_options{}.max_response_body);
  auto first = ex.on_response(response(503, "{}", {{"Retry-After", "2"}}), 0.5, t0);
  REQUIRE(first.retry_in.has_value());
  CHECK(*first.retry_in == milliseconds(2000));
  REQUIRE_FALSE(first.outcome.has_value()); // what a caller out of time takes
  CHECK(first.outcome.error().code == errc::http_status);
  CHECK(first.outcome.error().status == 503);
  REQUIRE(first.outcome.error().retry_after.has_value());
  auto second = ex.on_response(response(200, status_body("Running")), 0.5, t0);
  CHECK_FALSE(second.retry_in.has_value());
  REQUIRE(second.outcome.has_value());
  CHECK(second.outcome->status == 200);
  CHECK(ex.tries() == 2);
}

TEST_CASE("exchange: gives up after max_attempts, and never retries a POST by default") {
  exchange_options o;
  o.retry.max_attempts = 3;
  exchange ex(get(), cfg, o);
  CHECK(ex.on_response(make_error(errc::transport, "", "reset"), 0.0, t0).retry_in);
  CHECK(ex.on_response(response(502, ""), 0.0, t0).retry_in);
  const auto last = ex.on_response(response(502, ""), 0.0, t0);
  CHECK_FALSE(last.retry_in);
  CHECK(last.outcome.error().status == 502);

  auto post = skip_agent_wait_request(cfg, run);
  REQUIRE(post.has_value());
  exchange once(std::move(*post), cfg, {});
  const auto s = once.on_response(response(503, ""), 0.0, t0);
  CHECK_FALSE(s.retry_in);
  CHECK(s.outcome.error().code == errc::http_status);
}

TEST_CASE("exchange: an error body loses the key, and is cut to max_error_body") {
  exchange_options o;
  o.max_error_body = 40;
  exchange ex(get(), cfg, o);
  // The key straddles the cut: scrubbed before cutting, no prefix of it survives either.
  const std::string body = std::string(32, 'x') + cfg.api_key + std::string(200, 'y');
  const auto s = ex.on_response(response(401, body), 0.0, t0);
  REQUIRE_FALSE(s.outcome.has_value());
  CHECK(s.outcome.error().body.find("phk_") == std::string::npos);
  CHECK(s.outcome.error().body.size() <= 40);
  CHECK(s.outcome.error().what().find("phk_") == std::string::npos);
}

TEST_CASE("exchange: a body over max_response_body is limit_exceeded and not retried") {
  exchange_options o;
  o.max_response_body = 10;
  exchange ex(get(), cfg, o);
  CHECK(ex.request().max_response_body == 10);
  const auto s = ex.on_response(response(503, std::string(11, 'x')), 0.0, t0);
  CHECK_FALSE(s.retry_in);
  CHECK(s.outcome.error().code == errc::limit_exceeded);
}

TEST_CASE("api_call pairs an endpoint's request with its parser") {
  const auto call = calls::get_run(cfg, run);
  REQUIRE(call.request.has_value());
  CHECK(call.request->url.ends_with("/v1/runs/" + run));
  const auto ok = call.finish(response(200, phrony_test::fixture("run_completed.json")));
  REQUIRE(ok.has_value());
  CHECK(ok->status == "Completed");
  const auto bad = call.finish(response(200, R"({"status": 7})"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().path == "/status");
  const auto failed = call.finish(make_error(errc::transport, "", "reset"));
  CHECK(failed.error().code == errc::transport);
  CHECK_FALSE(calls::send_message(cfg, "not a uuid?", run_message::approve("t")).request);
}

TEST_CASE("event_stream_session resumes with Last-Event-ID after the stream's retry delay") {
  event_stream_session s(cfg, run);
  CHECK(s.request()->header("Last-Event-ID") == nullptr);
  const auto got = feed(s, std::string("retry: 1500\nid: 7\n") + step_event + "data: {\"kin");
  CHECK(got.size() == 1);
  const auto step = s.on_end(make_error(errc::transport, "", "dropped"), 0.0, t0);
  REQUIRE(step.reconnect_in.has_value());
  CHECK(*step.reconnect_in == milliseconds(1500));
  const auto req = s.request();
  REQUIRE(req.has_value());
  REQUIRE(req->header("Last-Event-ID") != nullptr);
  CHECK(*req->header("Last-Event-ID") == "7");
  // The unterminated event of the dropped connection is not delivered on the next one.
  CHECK(feed(s, session_done).size() == 1);
  const auto end = s.on_end({}, 0.0, t0);
  CHECK_FALSE(end.reconnect_in);
  CHECK(end.outcome.has_value());
}

TEST_CASE("event_stream_session: refusals retry per the policy, then become the http error") {
  stream_session_options o;
  o.retry.max_attempts = 2;
  event_stream_session s(cfg, run, o);
  response_head busy;
  busy.status = 503;
  busy.headers = {{"Retry-After", "1"}};
  s.on_head(busy);
  CHECK(s.on_data("overloaded", [](const result<stream_event>&) {}));
  const auto first = s.on_end({}, 0.0, t0);
  REQUIRE(first.reconnect_in.has_value());
  CHECK(*first.reconnect_in == milliseconds(1000));
  response_head denied;
  denied.status = 401;
  s.on_head(denied);
  CHECK(s.on_data("no: " + cfg.api_key, [](const result<stream_event>&) {}));
  const auto second = s.on_end({}, 0.0, t0);
  CHECK_FALSE(second.reconnect_in);
  REQUIRE_FALSE(second.outcome.has_value());
  CHECK(second.outcome.error().status == 401);
  CHECK(second.outcome.error().body.find("SECRET") == std::string::npos);
}

TEST_CASE("event_stream_session: connections without events end it; a caller's stop cancels") {
  stream_session_options o;
  o.max_reconnects = 2;
  event_stream_session s(cfg, run, o);
  CHECK(s.on_end({}, 0.0, t0).reconnect_in);
  CHECK(s.on_end({}, 0.0, t0).reconnect_in);
  const auto given_up = s.on_end({}, 0.0, t0);
  CHECK_FALSE(given_up.reconnect_in);
  CHECK(given_up.outcome.error().code == errc::transport);

  event_stream_session stop(cfg, run);
  response_head head;
  head.status = 200;
  stop.on_head(head);
  CHECK_FALSE(stop.on_data(step_event, [](const result<stream_event>&) { return false; }));
  const auto cancelled = stop.on_end(make_error(errc::cancelled, "", "stopped"), 0.0, t0);
  CHECK_FALSE(cancelled.reconnect_in);
  CHECK(cancelled.outcome.error().code == errc::cancelled);
}

TEST_CASE("follow_request and follow_apply drive a follower through a HITL run") {
  run_follower f(run);
  conversation scratch;
  follow_handler h;
  auto req = follow_request(f, h, cfg);
  REQUIRE(req.has_value());
  CHECK((*req)->method == "GET");
  CHECK((*req)->url.ends_with("/v1/runs/" + run));
  CHECK_FALSE(follow_apply(f, response(200, status_body("WaitingForHITL")), scratch));
  REQUIRE(f.next().what == follow_action::kind::get_conversation);

  req = follow_request(f, h, cfg);
  REQUIRE(req.has_value());
  CHECK((*req)->url.find("/conversation") != std::string::npos);
  CHECK_FALSE(
      follow_apply(f, response(200, phrony_test::fixture("conversation_waiting.json")), scratch));
  REQUIRE(f.next().what == follow_action::kind::answer_task);
  const std::string task_id = f.next().task->user_task_id;

  // No handler: no request, and the follower has failed as declined.
  run_follower declined = f;
  CHECK_FALSE(follow_request(declined, h, cfg).has_value());
  CHECK(declined.next().what == follow_action::kind::failed);
  CHECK(declined.next().end == follow_end::declined);

  h.answer_task = [](const pending_user_task& t) -> std::optional<run_message> {
    return run_message::approve(t.user_task_id);
  };
  req = follow_request(f, h, cfg);
  REQUIRE(req.has_value());
  CHECK((*req)->method == "POST");
  CHECK((*req)->body.find(task_id) != std::string::npos);
  // A refused answer is the error to stop on (even unmapped); the task is not marked answered.
  const auto refused = follow_apply(f, response(409, ""), scratch);
  REQUIRE(refused.has_value());
  CHECK(refused->status == 409);
  CHECK_FALSE(f.answered(task_id));
  CHECK_FALSE(follow_apply(f, response(202, phrony_test::fixture("accept.json")), scratch));
  CHECK(f.answered(task_id));
  CHECK(f.next().what == follow_action::kind::get_status);

  CHECK_FALSE(follow_apply(f, response(200, phrony_test::fixture("run_completed.json")), scratch));
  REQUIRE(f.next().what == follow_action::kind::done);
  CHECK_FALSE(follow_request(f, h, cfg).has_value());
  const run_outcome o = outcome_of(f.next());
  CHECK(o.completed);
  CHECK(o.end == follow_end::completed);
}

TEST_CASE("follow_apply: errors stop following, except a 400 to skip-agent-wait") {
  run_follower f(run);
  conversation scratch;
  CHECK_FALSE(follow_apply(f, response(200, status_body("WaitingForTimer")), scratch));
  REQUIRE(f.next().what == follow_action::kind::skip_timer);
  auto fired = http_error(400, *skip_agent_wait_request(cfg, run), "not waiting", std::nullopt);
  CHECK_FALSE(follow_apply(f, result<http_response>(fired), scratch));
  CHECK(f.next().what == follow_action::kind::get_status);

  const auto err = follow_apply(f, make_error(errc::transport, "", "reset"), scratch);
  REQUIRE(err.has_value());
  CHECK(err->code == errc::transport);
  const auto bad = follow_apply(f, response(200, R"({"status": 1})"), scratch);
  REQUIRE(bad.has_value());
  CHECK(bad->path == "/status");
}

TEST_CASE("follow_stream: a hint stops the connection; without event ids it is given up") {
  run_follower f(run);
  conversation scratch;
  CHECK_FALSE(follow_apply(f, response(200, status_body("Running")), scratch));
  REQUIRE(f.next().listen);
  follow_stream fs(cfg, run);
  response_head head;
  head.status = 200;
  fs.on_head(head);
  int shown = 0;
  const std::function<void(const result<stream_event>&)> show = [&](const auto&) { ++shown; };
  const std::string waiting =
      R"(data: {"ts":"2026-05-13T12:52:33.138Z","kind":"run","subject":"engine.run.waiting","data":{"run_id":"c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8","status":"WaitingForHITL"}})"
      "\n\n";
  CHECK_FALSE(fs.on_data(std::string(step_event) + waiting + step_event, f, show, t0));
  CHECK(shown == 2); // the events after the hint wait for the next connection
  CHECK(f.next().what == follow_action::kind::get_status);
  const auto step = fs.on_end(make_error(errc::cancelled, "", "stopped"), f, 0.0, t0);
  CHECK_FALSE(step.failed);
  CHECK_FALSE(step.retry_in);
  CHECK_FALSE(fs.usable()); // no id: a new connection could not resume

  follow_stream with_ids(cfg, run);
  run_follower g(run);
  CHECK_FALSE(follow_apply(g, response(200, status_body("Running")), scratch));
  with_ids.on_head(head);
  CHECK_FALSE(with_ids.on_data("id: 9\n" + waiting, g, {}, t0));
  CHECK_FALSE(with_ids.on_end({}, g, 0.0, t0).retry_in);
  CHECK(with_ids.usable());
  CHECK(*with_ids.request()->header("Last-Event-ID") == "9");
  CHECK_FALSE(with_ids.resume_wait()); // it stopped for the follower: no retry wait
}

} // namespace exchange_test
