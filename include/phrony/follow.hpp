// phrony: the run follower, a sans-IO state machine. Fed what the server said (run statuses,
// conversations, stream events, accepted answers), it says what to do next; the caller does the
// I/O and owns the clock. client<T>::follow_run and follow_run_streaming drive it over a
// transport; examples/coro/ (phrony-coro) drives it with C++20 coroutines.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phrony/config.hpp"
#include "phrony/conversation.hpp"
#include "phrony/detail/chrono.hpp"
#include "phrony/events.hpp"
#include "phrony/request.hpp"
#include "phrony/runs.hpp"

namespace phrony {

/// Tuning for run_follower (and for client::follow_run, which also reads max_duration).
struct follow_options {
  std::chrono::milliseconds poll_interval{500};       ///< first wait between polls of a working run
  std::chrono::milliseconds max_poll_interval{5'000}; ///< polls slow down to this (x1.5 each)
  bool skip_timers = true;         ///< answer WaitingForTimer with skip-agent-wait
  int max_empty_conversations = 5; ///< waiting, yet no pending task visible: give up after this
  /// A hard bound on client::follow_run(_streaming), on client_options::now (0: no limit): no
  /// sleep passes it, and every request sent while following carries the time left in
  /// http_request::timeout (transports end the exchange then, even mid-body), so the call
  /// returns within about this long plus one transport timeout granularity. The follower itself
  /// has no clock and ignores it.
  std::chrono::milliseconds max_duration{0};
  /// Following over the stream: stream events only hint that the run changed, and each hint is
  /// confirmed with GET /v1/runs/{runId}; at most one such look per this long.
  std::chrono::milliseconds hint_debounce{250};
  /// Following over the stream: a connection is held at most this long (its
  /// http_request::timeout); then the run's status is read and the stream resumed with
  /// Last-Event-ID. A silent stream (lost events, a stalled proxy) thus costs at most this long.
  /// 0: connections are not bounded (beyond max_duration).
  std::chrono::milliseconds idle_timeout{30'000};
};

/// Why following a run ended.
enum class follow_end {
  completed,             ///< the run completed
  failed,                ///< the run ended otherwise (Failed, Cancelled, ...)
  declined,              ///< a handler gave no answer the run waits for
  stuck,                 ///< the run waits, but the follower cannot find for what (see error)
  timed_out,             ///< follow_options::max_duration ended first
  waiting_for_dashboard, ///< max_duration ended while a task only the dashboard completes waited
};

/// The next step a follower asks for.
struct follow_action {
  enum class kind {
    get_status,         ///< GET /v1/runs/{runId}, then on_status()
    get_conversation,   ///< GET .../conversation, then on_conversation()
    answer_task,        ///< answer `task` (POST .../messages), then on_answered()
    send_text,          ///< the run wants chat text (POST .../messages), then on_answered()
    skip_timer,         ///< POST .../skip-agent-wait, then on_answered()
    wait_for_dashboard, ///< only the dashboard completes `task`: tell the caller, then as
                        ///< get_status
    done,               ///< the run completed: `output` holds its output
    failed,             ///< the run ended otherwise, or cannot move on: see `end` and `error`
  };
  kind what = kind::get_status;
  std::chrono::milliseconds delay{0}; ///< wait this long before doing it
  /// Nothing to do but wait for news: a poller waits `delay`, a stream follower listens and
  /// feeds on_event()/on_stream_gap() instead.
  bool listen = false;
  std::optional<pending_user_task> task;  ///< for answer_task and wait_for_dashboard
  std::string status;                     ///< the last run status read (wire string)
  raw_json output{"null"};                ///< for done
  std::string error;                      ///< for failed
  follow_end end = follow_end::completed; ///< for done and failed
};

/// How a followed run ended.
struct run_outcome {
  bool completed = false; ///< end == follow_end::completed (kept for older callers)
  std::string status;     ///< last status read (wire string)
  raw_json output{"null"};
  std::string error;                     ///< why, when !completed
  follow_end end = follow_end::failed;   ///< why following ended
  std::optional<pending_user_task> task; ///< for waiting_for_dashboard: what a person must do
};

/// The decisions follow_run asks the caller for. A callback left empty, or returning nullopt,
/// declines, and follow_run ends with that reason.
struct follow_handler {
  /// Answer a pending user task (approve, pick an option, give a value); asked once per task.
  std::function<std::optional<run_message>(const pending_user_task&)> answer_task;
  /// Text (or files) for a run that waits for a response.
  std::function<std::optional<run_message>(const std::string& run_id)> send_text;
  /// Told every step the follower takes (progress display, logging).
  std::function<void(const follow_action&)> on_action;
  /// Told once per pending task only the dashboard can complete (no answer is sent for it);
  /// following goes on waiting for a person to complete it, within max_duration.
  std::function<void(const pending_user_task&)> on_dashboard_task;
  /// follow_run_streaming: told every stream event as it arrives (display); events are hints,
  /// the follower confirms each with GET /v1/runs/{runId}.
  std::function<void(const result<stream_event>&)> on_event;
};

/// Decides, from what the server said, what a client following one run does next. Only GET
/// /v1/runs/{runId} moves it to done, failed or waiting; stream events are hints to look.
class run_follower {
public:
  /// The clock of on_event() and on_stream_gap() (the caller's; client_options::now in client).
  using time_point = std::chrono::system_clock::time_point;

  explicit run_follower(std::string run_id, follow_options options = {})
      : run_id_(std::move(run_id)), options_(options), poll_delay_(options.poll_interval) {}

  /// The current decision; call again after feeding the result of the previous one.
  [[nodiscard]] const follow_action& next() const noexcept { return action_; }

  /// The run this follower follows.
  [[nodiscard]] const std::string& run_id() const noexcept { return run_id_; }

  /// The pending task only the dashboard can complete, while the run waits for it.
  [[nodiscard]] const std::optional<pending_user_task>& dashboard_task() const noexcept {
    return dashboard_task_;
  }

  /// True once an answer to `user_task_id` was accepted (it is never answered again).
  [[nodiscard]] bool answered(std::string_view user_task_id) const noexcept {
    for (const auto& id : answered_) {
      if (id == user_task_id) {
        return true;
      }
    }
    return false;
  }

  /// Feed the body of GET /v1/runs/{runId}.
  void on_status(const run_status& s) { apply_state(s.status, s.output, s.error); }

  /// Feed a conversation fetched because the run waits for a user task.
  PHRONY_LAZY PHRONY_DECL void on_conversation(const conversation& c);

  /// Feed a stream event received at `now`. It never moves the run on its own: when it may
  /// mean a change (a waiting or final status, another run's status, no status or run id, a
  /// user task, an unknown subject), the follower asks for the status, at most once per
  /// hint_debounce. True when next() changed to that get_status; a hint arriving while another
  /// step is under way is kept for when the follower next listens.
  bool on_event(const stream_event& e, time_point now) { return news(e) && look(now); }

  /// Feed that the stream may have missed something (it was silent for idle_timeout, its
  /// connection ended): the follower asks for the status (debounced as on_event()).
  bool on_stream_gap(time_point now) { return look(now); }

  /// Feed the 202 of an answer, a text message or a timer skip: look at the run again at once.
  PHRONY_DECL void on_answered();

  /// Give up with `why` (e.g. the caller's handler declined to answer).
  PHRONY_DECL void fail(std::string why, follow_end end = follow_end::declined);

private:
  // A run has few user tasks; the bound only keeps a hostile timeline from growing the lists.
  static constexpr std::size_t max_remembered = 256;

  PHRONY_DECL static void remember(std::vector<std::string>& ids, const std::string& id);

  /// False only for events that tell nothing new about this run: steps, kinds unknown here, and
  /// run/session events of this run repeating the status last read, under a known subject.
  [[nodiscard]] PHRONY_DECL bool news(const stream_event& e) const;

  PHRONY_DECL bool look(time_point now);

  PHRONY_DECL void apply_state(std::string_view status, const raw_json& output,
                               const std::optional<text>& error);

  PHRONY_DECL void poll_later();

  PHRONY_DECL void set(follow_action::kind k, std::chrono::milliseconds delay);

  std::string run_id_;
  follow_options options_;
  std::chrono::milliseconds poll_delay_;
  int empty_conversations_ = 0;
  bool hint_pending_ = false;
  time_point next_look_{};
  std::vector<std::string> answered_; ///< user task ids whose answer was accepted
  std::vector<std::string> told_;     ///< dashboard-only task ids already reported
  std::optional<pending_user_task> dashboard_task_;
  follow_action action_;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>

namespace phrony {

PHRONY_LAZY_DEF PHRONY_DECL void run_follower::on_conversation(const conversation& c) {
  auto tasks = pending_user_tasks(c);
  const auto visible = tasks.size();
  // The status (and the task's row) can lag an accepted answer: never answer twice.
  std::erase_if(tasks, [this](const pending_user_task& t) { return answered(t.user_task_id); });
  if (tasks.empty()) {
    dashboard_task_.reset();
    // The task row can lag the status, and a redacted timeline never shows it.
    if (visible == 0 && ++empty_conversations_ >= options_.max_empty_conversations) {
      fail("the run waits for a user task but the conversation shows none "
           "(is \"Expose step timeline to API clients\" on for the trigger?)",
           follow_end::stuck);
      return;
    }
    poll_later();
    return;
  }
  empty_conversations_ = 0;
  // Sub-agent tasks block their parents, so answer the one asked first that the API can
  // answer (tasks are in ordinal order); the dashboard-only ones wait for a person.
  const auto api = std::find_if(tasks.begin(), tasks.end(),
                                [](const pending_user_task& t) { return t.api_can_answer(); });
  if (api != tasks.end()) {
    dashboard_task_.reset();
    set(follow_action::kind::answer_task, std::chrono::milliseconds{0});
    action_.task = std::move(*api);
    return;
  }
  dashboard_task_ = tasks.front();
  poll_later();
  if (std::find(told_.begin(), told_.end(), tasks.front().user_task_id) == told_.end()) {
    remember(told_, tasks.front().user_task_id);
    action_.what = follow_action::kind::wait_for_dashboard;
    action_.task = std::move(tasks.front());
  }
}

PHRONY_DECL void run_follower::on_answered() {
  if (action_.what == follow_action::kind::answer_task && action_.task) {
    remember(answered_, action_.task->user_task_id);
  }
  poll_delay_ = options_.poll_interval;
  set(follow_action::kind::get_status, std::chrono::milliseconds{0});
}

PHRONY_DECL void run_follower::fail(std::string why, follow_end end) {
  set(follow_action::kind::failed, std::chrono::milliseconds{0});
  action_.error = std::move(why);
  action_.end = end;
}

PHRONY_DECL void run_follower::remember(std::vector<std::string>& ids, const std::string& id) {
  if (ids.size() >= max_remembered) {
    ids.erase(ids.begin());
  }
  ids.push_back(id);
}

PHRONY_DECL bool run_follower::news(const stream_event& e) const {
  static constexpr std::array<std::string_view, 6> known_subjects = {
      "engine.run.started",   "engine.run.resumed",     "engine.run.waiting",
      "engine.run.completed", "engine.session.started", "engine.session.completed"};
  switch (e.kind_enum()) {
  case event_kind::step:
  case event_kind::unknown: return false;
  case event_kind::user_task:
  case event_kind::aitl: return true;
  case event_kind::run:
    if (!e.run_id || *e.run_id != run_id_) {
      return true;
    }
    break;
  case event_kind::session: break;
  }
  return !e.status || *e.status != action_.status ||
         std::find(known_subjects.begin(), known_subjects.end(), e.subject) == known_subjects.end();
}

PHRONY_DECL bool run_follower::look(time_point now) {
  if (!action_.listen) {
    hint_pending_ = true;
    return false;
  }
  const auto wait = next_look_ > now
                        ? std::chrono::ceil<std::chrono::milliseconds>(next_look_ - now)
                        : std::chrono::milliseconds{0};
  next_look_ = now + wait + options_.hint_debounce;
  set(follow_action::kind::get_status, wait);
  return true;
}

PHRONY_DECL void run_follower::apply_state(std::string_view status, const raw_json& output,
                                           const std::optional<text>& error) {
  action_.status = status;
  const run_state s = parse_run_state(status);
  if (needs(s) != run_need::answer_user_task) {
    dashboard_task_.reset();
  }
  if (s == run_state::completed) {
    set(follow_action::kind::done, std::chrono::milliseconds{0});
    action_.output = output;
    return;
  }
  if (is_terminal(s)) {
    set(follow_action::kind::failed, std::chrono::milliseconds{0});
    action_.error = error ? std::string(*error) : std::string(status);
    action_.end = follow_end::failed;
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

PHRONY_DECL void run_follower::poll_later() {
  if (hint_pending_) { // a hint came while we were busy: look again soon
    hint_pending_ = false;
    set(follow_action::kind::get_status, options_.hint_debounce);
    return;
  }
  set(follow_action::kind::get_status, poll_delay_);
  action_.listen = true;
  poll_delay_ = std::min(options_.max_poll_interval, poll_delay_ * 3 / 2);
}

PHRONY_DECL void run_follower::set(follow_action::kind k, std::chrono::milliseconds delay) {
  action_.what = k;
  action_.delay = delay;
  action_.listen = false;
  action_.task.reset();
  action_.error.clear();
  action_.output = raw_json{"null"};
  action_.end = follow_end::completed;
}

} // namespace phrony
#endif
