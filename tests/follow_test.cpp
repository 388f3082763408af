#include <phrony/follow.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "test_util.hpp"

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

TEST_CASE("stream events of this run move the follower; others are ignored") {
  run_follower f("r");
  stream_event other;
  other.kind = "run";
  other.run_id = "sub-run";
  other.status = "Failed";
  f.on_event(other);
  CHECK(f.next().what == kind::get_status);
  CHECK(f.next().status.empty());

  stream_event waiting;
  waiting.kind = "run";
  waiting.run_id = "r";
  waiting.status = "WaitingForHITL";
  f.on_event(waiting);
  CHECK(f.next().what == kind::get_conversation);

  stream_event completed;
  completed.kind = "session";
  completed.status = "Completed";
  f.on_event(completed);
  // The documented output comes from the status body, so the follower asks for it.
  CHECK(f.next().what == kind::get_status);
  CHECK(f.next().status == "Completed");
}
