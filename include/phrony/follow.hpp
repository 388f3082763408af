// phrony: the run follower, a sans-IO state machine. Fed what the server said (run statuses,
// conversations, stream events, accepted answers), it says what to do next; the caller does the
// I/O and owns the clock. client<T>::follow_run drives it over a transport.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "phrony/conversation.hpp"
#include "phrony/events.hpp"
#include "phrony/runs.hpp"

namespace phrony {

/// Tuning for run_follower.
struct follow_options {
  std::chrono::milliseconds poll_interval{500};       ///< first wait between polls of a working run
  std::chrono::milliseconds max_poll_interval{5'000}; ///< polls slow down to this (x1.5 each)
  bool skip_timers = true;         ///< answer WaitingForTimer with skip-agent-wait
  int max_empty_conversations = 5; ///< waiting, yet no pending task visible: give up after this
  /// client::follow_run gives up when the run has not ended this long after it started (0: no
  /// limit), on client_options::now. The follower itself has no clock and ignores it.
  std::chrono::milliseconds max_duration{0};
};

/// The next step a follower asks for.
struct follow_action {
  enum class kind {
    get_status,       ///< GET /v1/runs/{runId}, then on_status()
    get_conversation, ///< GET .../conversation, then on_conversation()
    answer_task,      ///< answer `task` (POST .../messages), then on_answered()
    send_text,        ///< the run wants chat text (POST .../messages), then on_answered()
    skip_timer,       ///< POST .../skip-agent-wait, then on_answered()
    done,             ///< the run completed: `output` holds its output
    failed,           ///< the run failed or was cancelled, or cannot move on: see `error`
  };
  kind what = kind::get_status;
  std::chrono::milliseconds delay{0};    ///< wait this long before doing it
  std::optional<pending_user_task> task; ///< for answer_task
  std::string status;                    ///< the last run status seen (wire string)
  raw_json output{"null"};               ///< for done
  std::string error;                     ///< for failed
};

/// Decides, from what the server said, what a client following one run does next.
class run_follower {
public:
  explicit run_follower(std::string run_id, follow_options options = {})
      : run_id_(std::move(run_id)), options_(options), poll_delay_(options.poll_interval) {}

  /// The current decision; call again after feeding the result of the previous one.
  [[nodiscard]] const follow_action& next() const noexcept { return action_; }

  /// The run this follower follows.
  [[nodiscard]] const std::string& run_id() const noexcept { return run_id_; }

  /// Feed the body of GET /v1/runs/{runId}.
  void on_status(const run_status& s) { apply_state(s.status, s.output, s.error); }

  /// Feed a conversation fetched because the run waits for a user task.
  void on_conversation(const conversation& c) {
    auto tasks = pending_user_tasks(c);
    if (tasks.empty()) {
      // The task row can lag the status, and a redacted timeline never shows it.
      if (++empty_conversations_ >= options_.max_empty_conversations) {
        fail("the run waits for a user task but the conversation shows none "
             "(is \"Expose step timeline to API clients\" on for the trigger?)");
        return;
      }
      poll_later();
      return;
    }
    // Sub-agent tasks block their parents, so answer the one asked first.
    const auto first =
        std::min_element(tasks.begin(), tasks.end(),
                         [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; });
    empty_conversations_ = 0;
    set(follow_action::kind::answer_task, std::chrono::milliseconds{0});
    action_.task = std::move(*first);
  }

  /// Feed a stream event: run/session events of this run carrying a status move the follower.
  void on_event(const stream_event& e) {
    const bool ours = (e.kind_enum() == event_kind::run && e.run_id == run_id_) ||
                      e.kind_enum() == event_kind::session;
    if (!ours || !e.status) {
      return;
    }
    apply_state(*e.status, raw_json{"null"}, std::nullopt);
    if (action_.what == follow_action::kind::done) {
      // Stream payloads are not the documented output: read it from GET /v1/runs/{runId}.
      set(follow_action::kind::get_status, std::chrono::milliseconds{0});
    }
  }

  /// Feed the 202 of an answer, a text message or a timer skip: look at the run again at once.
  void on_answered() {
    poll_delay_ = options_.poll_interval;
    set(follow_action::kind::get_status, std::chrono::milliseconds{0});
  }

  /// Give up with `why` (e.g. the caller's handler declined to answer).
  void fail(std::string why) {
    set(follow_action::kind::failed, std::chrono::milliseconds{0});
    action_.error = std::move(why);
  }

private:
  void apply_state(const std::string& status, const raw_json& output,
                   const std::optional<std::string>& error) {
    action_.status = status;
    const run_state s = parse_run_state(status);
    if (s == run_state::completed) {
      set(follow_action::kind::done, std::chrono::milliseconds{0});
      action_.output = output;
      return;
    }
    if (is_terminal(s)) {
      set(follow_action::kind::failed, std::chrono::milliseconds{0});
      action_.error = error.value_or(status);
      return;
    }
    switch (needs(s)) {
    case run_need::answer_user_task:
      set(follow_action::kind::get_conversation, std::chrono::milliseconds{0});
      return;
    case run_need::send_text:
      set(follow_action::kind::send_text, std::chrono::milliseconds{0});
      return;
    case run_need::skip_timer:
      if (options_.skip_timers) {
        set(follow_action::kind::skip_timer, std::chrono::milliseconds{0});
        return;
      }
      break;
    case run_need::nothing:
    case run_need::unknown: break;
    }
    poll_later();
  }

  void poll_later() {
    set(follow_action::kind::get_status, poll_delay_);
    poll_delay_ = std::min(options_.max_poll_interval, poll_delay_ * 3 / 2);
  }

  void set(follow_action::kind k, std::chrono::milliseconds delay) {
    action_.what = k;
    action_.delay = delay;
    action_.task.reset();
    action_.error.clear();
    action_.output = raw_json{"null"};
  }

  std::string run_id_;
  follow_options options_;
  std::chrono::milliseconds poll_delay_;
  int empty_conversations_ = 0;
  follow_action action_;
};

} // namespace phrony
