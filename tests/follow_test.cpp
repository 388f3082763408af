#include <phrony/follow.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "test_util.hpp"

namespace follow_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using kind = follow_action::kind;
using std::chrono::milliseconds;

namespace {

run_status status(const char* s, const char* output = "null",
                  std::optional<std::string> error = std::nullopt) {
  run_status r;
  r.run_id = "r";
  r.status = s;
  r.output = raw_json{output};
  r.error = std::move(error);
  return r;
}

using clock_time = run_follower::time_point;

/// conversation_waiting.json with its pending task (the last UserTaskReq) of kind `kind`.
conversation waiting_for(std::string_view kind) {
  std::string body = phrony_test::fixture("conversation_waiting.json");
  const std::string approval = R"("kind": "approval")";
  const auto at = body.rfind(approval);
  REQUIRE(at != std::string::npos);
  body.replace(at, approval.size(), R"("kind": ")" + std::string(kind) + "\"");
  auto c = parse_conversation(body);
  REQUIRE(c.has_value());
  REQUIRE(pending_user_tasks(*c).size() == 1);
  return std::move(*c);
}

/// A follower that has read status `s` once.
run_follower after(const char* s, follow_options o = {}) {
  run_follower f("r", o);
  f.on_status(status(s));
  return f;
}

stream_event event(const char* kind, const char* subject, std::optional<std::string> run_id,
                   std::optional<std::string> st) {
  stream_event e;
  e.kind = kind;
  e.subject = subject;
  e.run_id = std::move(run_id);
  e.status = std::move(st);
  return e;
}

} // namespace

TEST_CASE("a new follower asks for the run status at once") {
  const run_follower f("r");
  CHECK(f.next().what == kind::get_status);
  CHECK(f.next().delay == milliseconds(0));
}

TEST_CASE("each run status leads to the documented next step") {
  struct row {
    const char* status;
    kind want;
  };
  const row rows[] = {
      {"Running", kind::get_status},
      {"Completed", kind::done},
      {"Failed", kind::failed},
      {"Cancelled", kind::failed},
      {"WaitingForHITL", kind::get_conversation},
      {"WaitingForAITL", kind::get_conversation},
      {"WaitingForResponse", kind::send_text},
      {"WaitingForTimer", kind::skip_timer},
      {"Hibernating", kind::get_status},
  };
  for (const auto& r : rows) {
    CAPTURE(r.status);
    run_follower f("r");
    f.on_status(status(r.status));
    CHECK(f.next().what == r.want);
    CHECK(f.next().status == r.status);
  }
}

TEST_CASE("polls of a working run slow down to the cap, and an answer resets them") {
  follow_options o;
  o.poll_interval = milliseconds(100);
  o.max_poll_interval = milliseconds(300);
  run_follower f("r", o);
  const milliseconds want[] = {milliseconds(100), milliseconds(150), milliseconds(225),
                               milliseconds(300), milliseconds(300)};
  for (const auto w : want) {
    f.on_status(status("Running"));
    CHECK(f.next().what == kind::get_status);
    CHECK(f.next().delay == w);
  }
  f.on_answered();
  CHECK(f.next().delay == milliseconds(0));
  f.on_status(status("Running"));
  CHECK(f.next().delay == milliseconds(100));
}

TEST_CASE("completion carries the output, failure the error") {
  run_follower done("r");
  done.on_status(status("Completed", R"({"answer":42})"));
  CHECK(done.next().what == kind::done);
  CHECK(done.next().output.text == R"({"answer":42})");

  run_follower failed("r");
  failed.on_status(status("Failed", "null", "tool crashed"));
  CHECK(failed.next().what == kind::failed);
  CHECK(failed.next().error == "tool crashed");
}

TEST_CASE("a waiting run's conversation yields the pending task to answer") {
  const auto c = parse_conversation(phrony_test::fixture("conversation_waiting.json"));
  REQUIRE(c.has_value());
  run_follower f("r");
  f.on_status(status("WaitingForHITL"));
  f.on_conversation(*c);
  REQUIRE(f.next().what == kind::answer_task);
  REQUIRE(f.next().task.has_value());
  CHECK(f.next().task->user_task_id == pending_user_tasks(*c).front().user_task_id);
  f.on_answered();
  CHECK(f.next().what == kind::get_status);
  CHECK_FALSE(f.next().task.has_value());
}

TEST_CASE("a waiting run whose conversation shows no task is retried, then given up") {
  const auto c = parse_conversation(phrony_test::fixture("conversation_small.json"));
  REQUIRE(c.has_value());
  REQUIRE(pending_user_tasks(*c).empty());
  follow_options o;
  o.max_empty_conversations = 3;
  run_follower f("r", o);
  for (int i = 1; i < 3; ++i) {
    f.on_status(status("WaitingForHITL"));
    f.on_conversation(*c);
    CHECK(f.next().what == kind::get_status);
  }
  f.on_status(status("WaitingForHITL"));
  f.on_conversation(*c);
  CHECK(f.next().what == kind::failed);
  CHECK(f.next().error.find("Expose step timeline") != std::string::npos);
}

TEST_CASE("timers are skipped unless told to wait them out") {
  follow_options o;
  o.skip_timers = false;
  run_follower f("r", o);
  f.on_status(status("WaitingForTimer"));
  CHECK(f.next().what == kind::get_status);
  CHECK(f.next().delay > milliseconds(0));
}

TEST_CASE("a task is answered at most once, however long the status lags the answer") {
  const auto c = waiting_for("approval");
  const std::string id = pending_user_tasks(c).front().user_task_id;
  run_follower f = after("WaitingForHITL");
  f.on_conversation(c);
  REQUIRE(f.next().what == kind::answer_task);
  f.on_answered();
  CHECK(f.answered(id));
  // The status and the task row still say pending for longer than max_empty_conversations.
  for (int poll = 0; poll < 8; ++poll) {
    CAPTURE(poll);
    f.on_status(status("WaitingForHITL"));
    REQUIRE(f.next().what == kind::get_conversation);
    f.on_conversation(c);
    CHECK(f.next().what == kind::get_status);
    CHECK(f.next().listen);
    CHECK(f.next().delay > milliseconds(0));
  }
  f.on_status(status("Completed"));
  CHECK(f.next().what == kind::done);
}

TEST_CASE("a task only the dashboard completes is reported once and never answered") {
  struct row {
    const char* kind;
    bool dashboard;
  };
  const row rows[] = {
      {"aitl_escalation", true}, {"anomaly_review", true}, {"anomaly_alert", true},
      {"approval", false},       {"multi_option", false},  {"a_kind_from_2027", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.kind);
    const auto c = waiting_for(r.kind);
    run_follower f = after("WaitingForAITL");
    f.on_conversation(c);
    if (!r.dashboard) { // unknown kinds too: the handler may know them, or decline
      CHECK(f.next().what == kind::answer_task);
      CHECK_FALSE(f.dashboard_task().has_value());
      continue;
    }
    REQUIRE(f.next().what == kind::wait_for_dashboard);
    REQUIRE(f.next().task.has_value());
    CHECK(f.next().task->kind == r.kind);
    CHECK(f.next().listen);
    CHECK(f.next().delay == milliseconds(500));
    REQUIRE(f.dashboard_task().has_value());
    for (const auto want_delay : {milliseconds(750), milliseconds(1125)}) {
      f.on_status(status("WaitingForAITL"));
      f.on_conversation(c);
      CHECK(f.next().what == kind::get_status); // told once; polls back off meanwhile
      CHECK(f.next().delay == want_delay);
      CHECK(f.dashboard_task().has_value());
    }
    f.on_status(status("Running")); // a person completed it
    CHECK_FALSE(f.dashboard_task().has_value());
  }
}

TEST_CASE("stream events only make the follower look at the status, and only when they may be "
          "news") {
  struct row {
    const char* what;
    stream_event e;
    bool look;
  };
  const row rows[] = {
      {"a step", event("step", "engine.step.reasoning", "r", std::nullopt), false},
      {"an unknown kind", event("log", "engine.log.line", "r", "Running"), false},
      {"this run, same status", event("run", "engine.run.started", "r", "Running"), false},
      {"this run resumed", event("run", "engine.run.resumed", "r", "Running"), false},
      {"the session started", event("session", "engine.session.started", "s", "Running"), false},
      {"this run waits", event("run", "engine.run.waiting", "r", "WaitingForHITL"), true},
      {"this run completed", event("run", "engine.run.completed", "r", "Completed"), true},
      {"this run failed", event("run", "engine.run.completed", "r", "Failed"), true},
      {"another run's status", event("run", "engine.run.waiting", "sub", "Running"), true},
      {"no run id (camelCase keys)", event("run", "engine.run.started", {}, "Running"), true},
      {"no status", event("run", "engine.run.started", "r", std::nullopt), true},
      {"an unknown subject", event("run", "engine.run.hibernated", "r", "Running"), true},
      {"the session completed", event("session", "engine.session.completed", "s", "Completed"),
       true},
      {"a user task", event("user_task", "engine.user_task.created", std::nullopt, std::nullopt),
       true},
      {"an escalation", event("aitl", "engine.aitl.raised", std::nullopt, std::nullopt), true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    run_follower f = after("Running");
    REQUIRE(f.next().listen);
    CHECK(f.on_event(r.e, clock_time{}) == r.look);
    // Never moved by the event itself: at most a look at the status, right away.
    CHECK(f.next().what == kind::get_status);
    CHECK(f.next().status == "Running");
    CHECK(f.next().listen == !r.look);
    if (r.look) {
      CHECK(f.next().delay == milliseconds(0));
    }
  }
}

TEST_CASE("hints are debounced, and one that comes while the follower is busy is kept") {
  follow_options o;
  o.hint_debounce = milliseconds(250);
  const auto news = event("run", "engine.run.waiting", "r", "WaitingForHITL");
  const clock_time t0{std::chrono::seconds(1000)};
  run_follower f = after("Running", o);
  REQUIRE(f.on_event(news, t0));
  CHECK(f.next().delay == milliseconds(0));
  f.on_status(status("Running"));
  REQUIRE(f.on_event(news, t0 + milliseconds(100)));
  CHECK(f.next().delay == milliseconds(150)); // the next look is due 250 ms after the last
  f.on_status(status("Running"));
  REQUIRE(f.on_event(news, t0 + milliseconds(1000)));
  CHECK(f.next().delay == milliseconds(0));

  // Busy (a look under way): the hint is not lost, the next wait is a short look instead.
  CHECK_FALSE(f.on_event(news, t0 + milliseconds(1100)));
  CHECK(f.next().what == kind::get_status);
  f.on_status(status("Running"));
  CHECK(f.next().what == kind::get_status);
  CHECK_FALSE(f.next().listen);
  CHECK(f.next().delay == milliseconds(250));
  f.on_status(status("Running"));
  CHECK(f.next().listen);

  // A silent or ended stream is a reason to look too.
  CHECK(f.on_stream_gap(t0 + milliseconds(5000)));
  CHECK(f.next().what == kind::get_status);
  CHECK(f.next().delay == milliseconds(0));
}

} // namespace follow_test
