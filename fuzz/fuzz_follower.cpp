// Fuzzes following a run the way client::follow_run(_streaming) does it: run_follower driven
// through follow_request / follow_apply, each request through a phrony::exchange, and while the
// follower listens, follow_stream connections. The input (FuzzedDataProvider) is the server and
// the user: run statuses (every wire string and unknown ones), conversations holding pending
// user tasks (approvals, options, text and number inputs, answered or not, of listed and unlisted
// runs, unknown item types, raw bytes), HTTP outcomes per try (2xx, 400, 409, 429, 5xx, transport
// errors), stream connections (events that hint, drops, refusals) and the handler's decisions
// (answer, decline, a bad answer). An exhausted input is a cooperative server: 2xx with good
// bodies, every status Completed.
//
// Invariants: a task is never answered again after a 2xx to its answer; nothing is sent once
// the follower is done or failed, and only a status read gets it there (Completed: done, other
// terminal statuses: failed); a refused answer is never marked answered, an accepted one is;
// pending_user_tasks names only tasks of listed runs, and the task answered is the first
// unanswered one the API can answer; a step's delay is bounded by the options; stream events
// never end following; once the input is exhausted, following ends within a few steps; every
// request carries the key in its auth header only, and no error holds it.
#include <phrony/exchange.hpp>
#include <phrony/follow.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzedDataProvider.h"
#include "flow_fuzz.hpp"
#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;
using kind = phrony::follow_action::kind;
using std::chrono::milliseconds;

const std::string main_run = "c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8";
const std::string sub_run = "5d1c0a9e-7b1e-4f3a-9d7c-2b8e4f6a1c3d";
const std::string unlisted_run = "0f0e0d0c-0b0a-4909-8807-060504030201";

// Index 0 is what an exhausted input picks: the cooperative answer.
constexpr std::array<std::string_view, 12> run_statuses = {"Completed",       "Running",
                                                           "Failed",          "Cancelled",
                                                           "WaitingForHITL",  "WaitingForAITL",
                                                           "WaitingForTimer", "WaitingForResponse",
                                                           "Hibernating",     "",
                                                           "completed",       "WaitingForHitl"};
constexpr std::array<std::string_view, 6> task_ids = {"11111111-1111-4111-8111-111111111111",
                                                      "22222222-2222-4222-8222-222222222222",
                                                      "33333333-3333-4333-8333-333333333333",
                                                      "44444444-4444-4444-8444-444444444444",
                                                      "ut-0005",
                                                      ""};
constexpr std::array<std::string_view, 10> task_kinds = {
    "approval", "multi_option",    "text",           "number",       "hitl", "",
    "mystery",  "aitl_escalation", "anomaly_review", "anomaly_alert"};
constexpr std::array<std::string_view, 7> item_types = {
    "UserTaskReq", "UserTaskReq", "UserTaskReq", "ToolCall", "output", "Mystery", "reasoning"};

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string pick_run(FuzzedDataProvider& in) {
  const int v = in.ConsumeIntegralInRange<int>(0, 7);
  return v < 5 ? main_run : v < 7 ? sub_run : unlisted_run;
}

/// A run status body for GET /v1/runs/{runId}.
std::string status_body(FuzzedDataProvider& in) {
  // Mostly waiting for a user task, the state with the most to get wrong.
  const auto v = in.ConsumeIntegralInRange<std::size_t>(0, 2 * run_statuses.size() - 1);
  const auto status = run_statuses[v < run_statuses.size() ? v : 4 + v % 2];
  std::string body =
      R"({"runId":")" + main_run + R"(","status":)" + quoted(status) + R"(,"output":{"n":1})";
  if (in.ConsumeBool()) {
    body += R"(,"error":"tool crashed")";
  }
  return body + "}";
}

const std::string session_json =
    R"({"id":"s","tenantId":"t","agentId":"a","agentVersionId":"v","llmModel":"m",)"
    R"("triggerType":"api","triggeredBy":"k","triggerId":"tr","triggerName":"n",)"
    R"("status":"WaitingForHITL","totalTokensUsed":0,"output":null,"error":null,)"
    R"("startedAt":"2026-05-13T23:08:50.318Z","finishedAt":null,"input":null,"startContext":{}})";

std::string run_json(const std::string& id, std::string_view status) {
  return R"({"id":")" + id +
         R"(","sessionId":"s","agentId":"a","agentVersionId":"v","parentRunId":null,"depth":0,)"
         R"("status":)" +
         quoted(status) +
         R"(,"totalTokensUsed":0,"output":null,"error":null,)"
         R"("startedAt":"2026-05-13T23:08:50.318Z","finishedAt":null,"triggerType":"api",)"
         R"("triggeredBy":"k","triggerId":"tr","triggerName":"n","input":null,"llmModel":"m",)"
         R"("agentName":"x","versionLabel":"v1"})";
}

std::string task_content(FuzzedDataProvider& in) {
  const auto id = in.ConsumeIntegralInRange<std::size_t>(0, 3 * task_ids.size() - 1);
  std::string c = R"({"user_task_id":)" + quoted(task_ids[id < task_ids.size() ? id : id % 4]);
  if (const auto k = in.ConsumeIntegralInRange<std::size_t>(0, task_kinds.size());
      k < task_kinds.size()) {
    c += R"(,"kind":)" + quoted(task_kinds[k]);
  }
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
  case 4: c += R"(,"status":"completed")"; break;
  case 5: c += R"(,"status":"Pending")"; break;
  case 6: c += R"(,"status":null)"; break;
  case 7: break;
  default: c += R"(,"status":"pending")";
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
  case 0: break;
  case 1: c += R"(,"options":[{"id":"o1","label":"One"},{"id":"o2","label":"Two"}])"; break;
  case 2: c += R"(,"options":["yes","no"])"; break; // kept verbatim: read loosely
  default: c += R"(,"options":[])";
  }
  if (in.ConsumeBool()) {
    c += R"(,"prompt":"Approve?")";
  }
  return c + "}";
}

/// A conversation body: the followed run and maybe a sub-agent's listed, tasks of listed and
/// unlisted runs, other items; or bytes.
std::string conversation_body(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange<int>(0, 15) == 15) {
    return in.ConsumeRandomLengthString(512);
  }
  std::string runs = run_json(
      main_run,
      in.ConsumeIntegralInRange<int>(0, 3) == 3
          ? run_statuses[in.ConsumeIntegralInRange<std::size_t>(0, run_statuses.size() - 1)]
          : "WaitingForHITL");
  if (in.ConsumeBool()) {
    runs += "," + run_json(sub_run, run_statuses[in.ConsumeIntegralInRange<std::size_t>(1, 5)]);
  }
  std::string items;
  const int n = in.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < n; ++i) {
    const auto type = item_types[in.ConsumeIntegralInRange<std::size_t>(0, item_types.size() - 1)];
    std::string content = "null";
    if (type == "UserTaskReq") {
      content = task_content(in);
    } else if (in.ConsumeBool()) {
      content = R"({"x":1})";
    }
    if (!items.empty()) {
      items += ",";
    }
    items += R"({"runId":")" + pick_run(in) + R"(","id":"i)" + std::to_string(i) +
             R"(","sequence":)" + std::to_string(i) + R"(,"ordinal":)" +
             std::to_string(in.ConsumeIntegralInRange<int>(0, 9)) + R"(,"type":)" + quoted(type) +
             R"(,"content":)" + content + R"(,"tokensUsed":0,"error":null,)" +
             R"("startedAt":"2026-05-13T23:08:50.318Z","finishedAt":)" +
             (in.ConsumeIntegralInRange<int>(0, 3) == 3 ? "\"2026-05-13T23:09:50.318Z\"" : "null") +
             "}";
  }
  return R"({"session":)" + session_json + R"(,"runs":[)" + runs + R"(],"items":[)" + items + "]}";
}

std::string accept_body(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
  case 0: return R"({"status":"Running"})";
  case 1: return "";
  default: return R"({"status":"WaitingForHITL","error":null})";
  }
}

/// One SSE event of the run's stream: a hint of some kind, maybe with an id and a retry.
std::string sse_event(FuzzedDataProvider& in) {
  static constexpr std::array<std::string_view, 6> kinds = {"run",       "session", "step",
                                                            "user_task", "aitl",    "mystery"};
  static constexpr std::array<std::string_view, 6> subjects = {
      "engine.run.started",       "engine.run.waiting",    "engine.run.completed",
      "engine.session.completed", "engine.step.reasoning", "engine.other"};
  if (in.ConsumeIntegralInRange<int>(0, 7) == 7) {
    auto raw = in.ConsumeRandomLengthString(64);
    if (raw.starts_with("~")) { // a line past sse_limits::max_line: the body fails
      raw = ":" + std::string(std::size_t{70} << 10, 'x');
    }
    return raw;
  }
  std::string out;
  if (in.ConsumeBool()) {
    out += "id: e" + std::to_string(in.ConsumeIntegralInRange<int>(0, 99)) + "\n";
  }
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
    out += "retry: " + std::to_string(in.ConsumeIntegral<std::uint32_t>()) + "\n";
  }
  std::string data =
      R"({"ts":"2026-05-13T12:52:33.138Z","kind":)" +
      quoted(kinds[in.ConsumeIntegralInRange<std::size_t>(0, kinds.size() - 1)]) +
      R"(,"subject":)" +
      quoted(subjects[in.ConsumeIntegralInRange<std::size_t>(0, subjects.size() - 1)]) +
      R"(,"data":{)";
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
  case 0: data += R"("run_id":")" + main_run + "\""; break;
  case 1: data += R"("run_id":")" + sub_run + "\""; break;
  default: break;
  }
  if (in.ConsumeBool()) {
    data +=
        std::string(data.back() == '{' ? "" : ",") + R"("status":)" +
        quoted(run_statuses[in.ConsumeIntegralInRange<std::size_t>(0, run_statuses.size() - 1)]);
  }
  out += "data: " + data + "}}\n\n";
  return out;
}

class driver {
public:
  explicit driver(FuzzedDataProvider& in)
      : in_(in), hostility_(in.ConsumeIntegral<std::uint8_t>()), options_(follow_options_from(in)),
        streaming_(in.ConsumeBool()), exchange_options_(phrony_fuzz::exchange_options_from(in)),
        follower_(main_run, options_),
        stream_(phrony_fuzz::fuzz_config, main_run, stream_options()) {
    handler_.answer_task = [this](const phrony::pending_user_task& t) { return answer(t); };
    handler_.on_event = [this](const phrony::result<phrony::stream_event>& ev) {
      check(ev.has_value() || !ev.error().message.empty(), "a bad event says why");
      ++events_;
    };
    if (in_.ConsumeIntegralInRange<int>(0, 7) != 7) {
      handler_.send_text = [this](const std::string& run) -> std::optional<phrony::run_message> {
        check(run == main_run, "text is asked for the followed run");
        switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
        case 0: return phrony::run_message::chat("hello");
        case 1: return std::nullopt;
        case 2: {
          auto m = phrony::run_message::chat("x");
          m.number_value = 1; // answers a task without naming it: refused before sending
          return m;
        }
        default: return phrony::run_message::chat(in_.ConsumeRandomLengthString(16));
        }
      };
    }
  }

  void run() {
    constexpr int max_steps = 96;
    constexpr int steps_once_exhausted = 12;
    int exhausted_steps = 0;
    for (int step = 0; step < max_steps; ++step) {
      if (in_.remaining_bytes() == 0) {
        check(++exhausted_steps <= steps_once_exhausted,
              "a cooperative server ends following within a few steps");
      }
      const phrony::follow_action action = follower_.next();
      check_action(action);
      if (action.what == kind::done || action.what == kind::failed) {
        check(!phrony::follow_request(follower_, handler_, phrony_fuzz::fuzz_config),
              "nothing is sent once the follower is done or failed");
        check(follower_.next().what == action.what, "an ended follower stays ended");
        phrony::http_response late;
        late.status = 200;
        late.body = R"({"status":"Running"})";
        check(!phrony::follow_apply(follower_, late, scratch_) &&
                  follower_.next().what == action.what,
              "an ended follower ignores a late answer");
        const auto o = phrony::outcome_of(action);
        check(o.completed == (action.what == kind::done) && o.end == action.end &&
                  o.status == action.status && o.error == action.error,
              "the outcome is the last step's");
        return;
      }
      if (action.what == kind::wait_for_dashboard ||
          (action.what == kind::get_status && follower_.dashboard_task())) {
        check(follower_.dashboard_task().has_value() &&
                  (!action.task || *follower_.dashboard_task() == *action.task),
              "the dashboard task is kept while the run waits for it");
      }
      if (action.what == kind::wait_for_dashboard) {
        check(!action.task->api_can_answer(), "only a dashboard-only task waits for a person");
        check(told_.insert(action.task->user_task_id).second, "a dashboard task is told once");
      }
      if (streaming_ && stream_.usable() && action.listen) {
        if (!listen()) {
          return;
        }
        continue;
      }
      now_ += action.delay; // the caller sleeps
      if (!act(action)) {
        return;
      }
    }
    check(false, "following ended within the step bound"); // unreachable: exhausted-step bound
  }

private:
  static phrony::follow_options follow_options_from(FuzzedDataProvider& in) {
    phrony::follow_options o;
    o.poll_interval = milliseconds(in.ConsumeIntegralInRange<int>(0, 3000));
    o.max_poll_interval = milliseconds(in.ConsumeIntegralInRange<int>(0, 6000));
    o.skip_timers = !in.ConsumeBool();
    o.max_empty_conversations = in.ConsumeIntegralInRange<int>(0, 3);
    o.hint_debounce = milliseconds(in.ConsumeIntegralInRange<int>(0, 1000));
    return o;
  }

  phrony::stream_session_options stream_options() {
    phrony::stream_session_options o;
    o.retry = exchange_options_.retry;
    o.max_reconnects = in_.ConsumeIntegralInRange<int>(0, 3);
    o.reconnect_fallback = milliseconds(in_.ConsumeIntegralInRange<int>(0, 2000));
    o.max_retry = milliseconds(in_.ConsumeIntegralInRange<int>(0, 40'000));
    o.max_error_body = in_.ConsumeIntegralInRange<std::size_t>(0, 256);
    stream_max_retry_ = o.max_retry;
    return o;
  }

  std::optional<phrony::run_message> answer(const phrony::pending_user_task& t) {
    check(!follower_.answered(t.user_task_id), "a task is asked for once answered");
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
    case 1: return std::nullopt; // declined
    case 2: {                    // a bad answer: refused before it is sent
      phrony::run_message m;
      m.user_task_id = t.user_task_id;
      m.number_value = std::numeric_limits<double>::quiet_NaN();
      return m;
    }
    case 3: { // an answer of the wrong shape for the task: the server judges it
      phrony::run_message m;
      m.user_task_id = t.user_task_id;
      m.text_value = "maybe";
      return m;
    }
    default: break;
    }
    switch (t.kind_enum()) {
    case phrony::user_task_kind::multi_option:
      return phrony::run_message::choose_option(t.user_task_id,
                                                t.options.empty() ? "o1" : t.options.front().id);
    case phrony::user_task_kind::text:
      return phrony::run_message::answer_text(t.user_task_id, "a text");
    case phrony::user_task_kind::number:
      return phrony::run_message::answer_number(t.user_task_id, 42.5);
    default: return phrony::run_message::approve(t.user_task_id);
    }
  }

  void check_action(const phrony::follow_action& a) {
    const auto bound =
        std::max({options_.poll_interval, options_.max_poll_interval, options_.hint_debounce});
    check(a.delay.count() >= 0 && a.delay <= bound, "a step's delay is bounded by the options");
    check((a.what == kind::answer_task || a.what == kind::wait_for_dashboard) == a.task.has_value(),
          "a task comes with answer_task and wait_for_dashboard only");
    check(!a.listen || a.what == kind::get_status || a.what == kind::wait_for_dashboard,
          "the follower listens only to poll");
    if (a.what == kind::failed) {
      check(!a.error.empty(), "a failure says why");
    }
  }

  /// Reads stream connections while the follower listens (client::listen). False: following
  /// ended (the stream was cancelled).
  bool listen() {
    for (int connection = 0; connection < 6; ++connection) {
      if (const auto wait = stream_.resume_wait()) {
        check(wait->count() >= 0 && *wait <= std::max(stream_max_retry_, milliseconds(0)),
              "a resume waits at most max_retry");
        now_ += *wait;
      }
      auto req = stream_.request();
      check(req.has_value(), "the stream request of a valid run builds");
      phrony_fuzz::check_key_only_in_auth(*req);
      for (const auto& h : req->headers) {
        if (h.name == "Last-Event-ID") {
          check(!h.value.empty() && std::none_of(h.value.begin(), h.value.end(),
                                                 [](char c) {
                                                   return static_cast<unsigned char>(c) < 0x20 ||
                                                          c == 0x7F;
                                                 }),
                "a Last-Event-ID sent is header-safe");
        }
      }
      const auto ended = connect();
      const auto after = follower_.next().what;
      check(after != kind::done && after != kind::failed,
            "stream events never end following on their own");
      auto step = stream_.on_end(ended, follower_, random01(), now_);
      check(follower_.next().what != kind::done && follower_.next().what != kind::failed,
            "a stream's end never ends following on its own");
      if (step.failed) {
        check(step.failed->code == phrony::errc::cancelled, "only a cancellation fails a stream");
        return false;
      }
      if (step.retry_in) {
        check(step.retry_in->count() >= 0 &&
                  *step.retry_in <= std::max<milliseconds>(exchange_options_.retry.max_retry_after,
                                                           exchange_options_.retry.max_delay),
              "a refused stream waits within the policy's caps");
        if (in_.ConsumeBool()) { // out of time: poll instead
          stream_.abandon(follower_, now_);
          check(!stream_.usable(), "an abandoned stream is not used again");
          return true;
        }
        now_ += *step.retry_in;
        continue;
      }
      return true;
    }
    stream_.abandon(follower_, now_);
    return true;
  }

  /// One connection: head, chunks of events, then how it ended.
  phrony::result<void> connect() {
    const int shape = in_.ConsumeIntegralInRange<int>(0, 5);
    if (shape == 5) {
      return phrony::make_error(phrony::errc::transport, "", "connection refused");
    }
    phrony::response_head head;
    head.status = shape == 4 ? phrony_fuzz::statuses[in_.ConsumeIntegralInRange<std::size_t>(
                                   0, phrony_fuzz::statuses.size() - 1)]
                             : 200;
    if (in_.ConsumeBool()) {
      head.headers.push_back({"Retry-After", phrony_fuzz::retry_after_value(in_)});
    }
    stream_.on_head(head);
    std::string body;
    const int events = in_.ConsumeIntegralInRange<int>(0, 5);
    for (int i = 0; i < events; ++i) {
      body += sse_event(in_);
    }
    if (shape == 4 && in_.ConsumeBool()) {
      body = R"({"message":"slow down )" + phrony_fuzz::api_key + "\"}";
    }
    std::size_t at = 0;
    while (at < body.size()) {
      const auto n = in_.ConsumeIntegralInRange<std::size_t>(1, body.size() - at);
      now_ += milliseconds(in_.ConsumeIntegralInRange<int>(0, 500));
      if (!stream_.on_data(std::string_view(body).substr(at, n), follower_, handler_.on_event,
                           now_)) {
        // The transport reports the stop as cancelled, or the connection ended anyway.
        return in_.ConsumeBool() ? phrony::result<void>(phrony::make_error(
                                       phrony::errc::cancelled, "", "stopped by the handler"))
                                 : phrony::result<void>{};
      }
      at += n;
    }
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
    case 1: return phrony::make_error(phrony::errc::transport, "", "connection reset");
    case 2: return phrony::make_error(phrony::errc::transport, "", "idle timeout");
    case 3:
      if (in_.ConsumeBool()) { // the caller's own cancellation
        return phrony::make_error(phrony::errc::cancelled, "", "cancelled by the caller");
      }
      return {};
    default: return {};
    }
  }

  double random01() { return in_.ConsumeProbability<double>() * 0.999; }

  /// The good 2xx body for the current step.
  std::string good_body(kind k) {
    switch (k) {
    case kind::get_status:
    case kind::wait_for_dashboard: return status_body(in_);
    case kind::get_conversation:
      // The task rows lag: often the conversation last read, again.
      if (last_conversation_.empty() || in_.ConsumeIntegralInRange<int>(0, 2) == 0) {
        last_conversation_ = conversation_body(in_);
      }
      return last_conversation_;
    default: return accept_body(in_);
    }
  }

  /// Does one call (client::act through client::roundtrip). False: following ended.
  bool act(const phrony::follow_action& action) {
    if (!action.listen && ++acts_ % 4 == 0) {
      // An asynchronous caller reads the stream while a call is under way: the hint waits.
      check(!follower_.on_stream_gap(now_) && follower_.next().what == action.what &&
                follower_.next().delay == action.delay,
            "a hint while the follower is busy changes nothing yet");
    }
    auto req = phrony::follow_request(follower_, handler_, phrony_fuzz::fuzz_config);
    if (!req) {
      check(action.what == kind::answer_task || action.what == kind::send_text,
            "only a handler declines a call");
      check(follower_.next().what == kind::failed &&
                follower_.next().end == phrony::follow_end::declined,
            "a declined answer fails the follower as declined");
      return true; // the loop sees the failure
    }
    std::string task_id;
    if (action.what == kind::answer_task) {
      task_id = action.task->user_task_id;
      check(accepted_.count(task_id) == 0, "a task is never answered again after a 2xx");
    }
    phrony::result<phrony::http_response> outcome =
        phrony::make_error(phrony::errc::invalid_argument, "", "unset");
    if (!*req) {
      outcome = std::move(*req).error();
    } else {
      phrony_fuzz::check_key_only_in_auth(**req);
      if (action.what == kind::answer_task) {
        check((*req)->method == "POST" && (*req)->url.find("/v1/runs/" + action.task->run_id +
                                                           "/messages") != std::string::npos,
              "an answer goes to the task's own run");
      }
      phrony::exchange ex(std::move(**req), phrony_fuzz::fuzz_config, exchange_options_);
      for (;;) {
        auto response = phrony_fuzz::outcome(in_, good_body(action.what), hostility_);
        const auto copy = response;
        if (copy && (copy->status < 200 || copy->status > 299)) {
          // A caller feeding a response without an exchange: still an error with the status,
          // and the follower does not move.
          auto shadow = follower_;
          const auto e = phrony::follow_apply(shadow, copy, scratch_);
          check(e && e->code == phrony::errc::http_status && e->status == copy->status &&
                    shadow.next().what == action.what,
                "a non-2xx response fed directly is an error");
        }
        auto s = ex.on_response(std::move(response), random01(), now_);
        phrony_fuzz::check_step(s, copy, ex.request().method, ex.tries(), exchange_options_);
        check(ex.tries() <= std::max(exchange_options_.retry.max_attempts, 1),
              "tries are bounded by the policy");
        if (!s.retry_in || in_.ConsumeIntegralInRange<int>(0, 7) == 7) {
          outcome = std::move(s.outcome);
          break;
        }
        now_ += *s.retry_in;
      }
    }
    if (action.what == kind::answer_task && outcome) {
      accepted_.insert(task_id);
    }
    const auto failed = phrony::follow_apply(follower_, outcome, scratch_);
    if (failed) {
      phrony_fuzz::check_keyless(*failed);
    }
    if (action.what == kind::answer_task) {
      check(follower_.answered(task_id) == (outcome && !failed),
            "an answer is marked answered exactly when it was accepted");
    }
    if (action.what == kind::skip_timer && !outcome &&
        outcome.error().code == phrony::errc::http_status && outcome.error().status == 400) {
      check(!failed && follower_.next().what == kind::get_status,
            "a 400 to skip-agent-wait means the timer fired: look again");
    }
    if (failed) {
      return false; // the error ends following (client::follow returns it)
    }
    if (!outcome) {
      return true; // the skipped timer's 400
    }
    check(outcome.has_value(), "only a 2xx (or a skipped timer's 400) moves the follower on");
    const auto& next = follower_.next();
    if (action.what == kind::get_status || action.what == kind::wait_for_dashboard) {
      const auto st = phrony::parse_run_status(outcome->body);
      check(st.has_value(), "an applied status parsed");
      const auto state = phrony::parse_run_state(st->status);
      check((next.what == kind::done) == (state == phrony::run_state::completed),
            "done exactly when the run completed");
      if (phrony::is_terminal(state) && state != phrony::run_state::completed) {
        check(next.what == kind::failed && next.end == phrony::follow_end::failed,
              "a terminal status fails the follower");
      }
      if (!phrony::is_terminal(state)) {
        check(next.what != kind::failed, "a live run does not fail the follower");
      }
      check(next.status == st->status, "the follower keeps the status read");
    } else if (action.what == kind::get_conversation) {
      const auto pending = phrony::pending_user_tasks(scratch_);
      for (const auto& t : pending) {
        check(std::any_of(scratch_.runs.begin(), scratch_.runs.end(),
                          [&](const auto& r) { return r.id == t.run_id; }),
              "a pending task belongs to a listed run");
      }
      if (next.what == kind::answer_task) {
        const auto first = std::find_if(pending.begin(), pending.end(), [&](const auto& t) {
          return !follower_.answered(t.user_task_id) && t.api_can_answer();
        });
        check(first != pending.end() && *first == *next.task,
              "the task answered is the first unanswered one the API can answer");
      } else if (next.what == kind::wait_for_dashboard) {
        check(std::any_of(pending.begin(), pending.end(),
                          [&](const auto& t) { return t == *next.task; }),
              "a dashboard task is a pending one");
      }
    } else {
      check(next.what == kind::get_status && next.delay.count() == 0,
            "an accepted answer looks at the run again at once");
    }
    return true;
  }

  FuzzedDataProvider& in_;
  int hostility_; ///< how often a try fails (0..255)
  phrony::follow_options options_;
  bool streaming_;
  phrony::exchange_options exchange_options_;
  phrony::run_follower follower_;
  milliseconds stream_max_retry_{0};
  phrony::follow_stream stream_;
  phrony::follow_handler handler_;
  phrony::conversation scratch_;
  std::set<std::string> accepted_; ///< task ids whose answer got a 2xx
  std::set<std::string> told_;     ///< dashboard task ids reported
  std::string last_conversation_;
  int events_ = 0; ///< stream events shown to the handler
  int acts_ = 0;   ///< calls made
  std::chrono::system_clock::time_point now_ = phrony_fuzz::t0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  driver(in).run();
  return 0;
}
