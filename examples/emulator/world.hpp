// phrony-emulator: the state of the emulated service (sessions, runs, timeline items, stream
// events, user tasks, uploads) and the engine that advances scripted runs.
//
// Locking: one mutex (world::mu) guards everything. HTTP handlers and the engine thread take it,
// do their work and release it; streaming handlers wait on world::changed for new events. Every
// member function below expects the caller to hold `mu` unless it says otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ids.hpp"
#include "scenario.hpp"

namespace emu {

using steady = std::chrono::steady_clock;

struct run;
struct session;

/// One conversation row. `content` is the step-specific object; the common stanza (or the
/// synthetic rows' run_id/session_id) is added when rendering, because slim mode drops part of it.
struct item {
  const run* owner = nullptr;
  std::string id;
  std::string
      type; // llm_request_prepared, reasoning, ToolCall, ..., RunCompleted, SessionCompleted
  std::uint64_t sequence = 0;
  int iteration = 1;
  std::string event_id;
  bool synthetic = false; // RunCompleted / SessionCompleted carry no stanza
  std::string content = "{}";
  std::optional<std::int64_t> tokens_used;
  std::optional<std::string> error;
  std::string started_at;
  std::optional<std::string> finished_at;
};

/// One SSE event, recorded once when it happens (a replay sends the same bytes). `data` is
/// written with snake_case keys; api_stream.cpp respells it when --camel-case-events asks.
struct event {
  std::uint64_t id = 0; // 1-based per session; the SSE `id:` field
  std::string kind;
  std::string subject;
  std::string ts;
  std::string data; // compact JSON object
};

/// A pending user task (approval, multi_option, text, number, or a dashboard-only kind).
struct user_task {
  std::string id;
  std::string kind;
  const step* origin = nullptr;
  std::size_t item_index = 0; // its UserTaskReq row in the session's items
  std::string tool_call_id;   // approval tasks: the gated call
};

/// Optional parts of a new conversation row.
struct row_extras {
  std::optional<std::int64_t> tokens_used;
  std::optional<std::string> error;
  bool synthetic = false;
};

/// A ToolResult the run emits on its next tick.
struct tool_outcome {
  std::string tool_call_id;
  std::string name;
  std::string data = "null";
  std::optional<std::string> error;
};

/// A run: the root run of a session, or a sub-agent's child run.
struct run {
  std::string id;
  session* sess = nullptr;
  const agent_def* agent = nullptr;
  run* parent = nullptr;
  int depth = 0;
  std::string status = "Running";
  bool done = false;
  std::size_t pc = 0; // next step of agent->steps
  std::uint64_t seq = 0;
  int iteration = 0;
  std::int64_t tokens = 0;
  std::string input = "{}";
  std::string output = "null";
  std::optional<std::string> error;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::map<std::string, std::string> answers; // save_as name -> JSON value
  std::optional<user_task> task;              // while WaitingForHITL
  std::optional<tool_outcome> pending_result; // ToolResult due on the next tick
  const step* waiting_step = nullptr;         // the timer / ask_user / approval step waited on
  std::string waiting_call_id;                // its tool call (timers)
  steady::time_point timer_started{};
  steady::time_point timer_deadline{};
  run* child = nullptr;      // the running sub-agent, if any
  std::string spawn_call_id; // child runs: the parent's phrony_subagent call
  const step* spawn = nullptr;
  steady::time_point next_due{};
};

/// A session: one start-run call, its runs, timeline and events.
struct session {
  std::string id;
  const agent_def* agent = nullptr;
  const api_key* key = nullptr;
  std::string input = "{}";
  std::string started_at;
  run* root = nullptr;
  std::vector<run*> runs;
  std::vector<item> items; // ordinal = index + 1
  std::vector<event> events;

  /// The session's total over all its runs.
  [[nodiscard]] std::int64_t total_tokens() const;
};

/// An object in the emulated file library.
struct upload {
  std::string object_key;
  std::string filename;
  std::string media_type;
  std::uint64_t max_length = 0;
  std::string signature;
  steady::time_point expires{};
  std::optional<std::uint64_t> size; // set by the PUT
  bool finalized = false;
};

/// The emulated service.
class world {
public:
  /// `seed` picks the id sequence (--seed; id_source).
  world(scenario sc, steady::duration tick, std::uint64_t seed = 0);
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  std::mutex mu;
  /// Notified whenever the engine or a handler changed something streams may want to send.
  std::condition_variable changed;

  [[nodiscard]] const scenario& scene() const noexcept { return scenario_; }
  [[nodiscard]] id_source& ids() noexcept { return ids_; }

  /// Starts a session of `agent` for `key`; the engine takes it from there.
  session& start_session(const agent_def& agent, const api_key& key, std::string input_json);
  [[nodiscard]] run* find_run(std::string_view id);
  [[nodiscard]] const std::vector<std::unique_ptr<session>>& sessions() const { return sessions_; }
  /// Sessions of `key` that have not reached a terminal state (the concurrency limit's count).
  [[nodiscard]] std::size_t active_sessions(const api_key& key) const;

  /// Completes the pending task of `r` (validated by the caller) and resumes the run;
  /// `completed_by` is "api-key", or "dashboard" for POST /_emulator/.../dashboard-answer.
  void answer_task(run& r, std::string outcome_json, std::string saved_value_json,
                   std::string_view completed_by = "api-key");
  /// Delivers chat text and/or files to a run in WaitingForResponse.
  void reply(run& r, std::optional<std::string> text, std::string files_json);
  /// Ends the timer `r` (or its waiting child) sleeps on; false when nothing waits for a timer.
  bool skip_timer(run& r);

  /// The rendered `content` of a row, with the stanza (full) or without the ids (slim).
  [[nodiscard]] std::string content_json(const item& it, bool slim) const;

  std::map<std::string, upload, std::less<>> uploads;

  /// The engine loop; returns once stop() was called. Takes `mu` itself.
  void run_engine();
  /// Asks the engine and every streaming handler to finish. Takes `mu` itself.
  void stop();
  /// True once stop() was called; safe without `mu`.
  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(); }

private:
  void advance(run& r, steady::time_point now);
  void execute(run& r, const step& st, steady::time_point now);
  item& add_item(run& r, std::string type, std::string content, row_extras extras = {});
  void emit(session& s, std::string kind, std::string subject, std::string data_json);
  [[nodiscard]] std::string run_data(const run& r, std::string_view status,
                                     std::string_view extra_members = {}) const;
  [[nodiscard]] std::string task_content(const run& r, const user_task& t, bool completed,
                                         std::string_view outcome,
                                         std::string_view completed_by = {}) const;
  void open_task(run& r, const step& st, std::string kind, std::string tool_call_id);
  void set_waiting(run& r, std::string_view status, std::string_view user_task_id);
  void resume(run& r);
  void complete(run& r, std::string_view status, std::optional<std::string> error);
  [[nodiscard]] std::string fill_template(const run& r, std::string_view tmpl) const;

  scenario scenario_;
  steady::duration tick_;
  id_source ids_;
  std::vector<std::unique_ptr<session>> sessions_;
  std::vector<std::unique_ptr<run>> runs_;
  std::vector<session*> active_; // sessions the engine still advances
  std::atomic<bool> stopping_{false};
};

} // namespace emu
