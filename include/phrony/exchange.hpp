// phrony: the protocol logic of a call, sans-IO. Which request an endpoint sends and how its
// answer becomes a result (status -> http_error with Retry-After, body -> parser); when to retry
// and how long to wait; how the event stream reconnects; which call each step of following a
// run makes. client<Transport> is a blocking loop over these; an async stack (the Beast
// coroutine client in examples/coro/) is an asynchronous one, and neither repeats the logic.
// See docs/async.md.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "phrony/config.hpp"
#include "phrony/conversation.hpp"
#include "phrony/detail/chrono.hpp"
#include "phrony/error.hpp"
#include "phrony/events.hpp"
#include "phrony/files.hpp"
#include "phrony/follow.hpp"
#include "phrony/http_error.hpp"
#include "phrony/request.hpp"
#include "phrony/retry.hpp"
#include "phrony/runs.hpp"
#include "phrony/sessions.hpp"
#include "phrony/transport.hpp"

namespace phrony {

/// The bounds and retry policy of an exchange (client_options holds the same fields).
struct exchange_options {
  retry_policy retry;
  std::size_t max_error_body = 64 * 1024; ///< error bodies longer than this are cut
  /// Set as http_request::max_response_body when the request has none, and checked again on
  /// the body received: a longer one is errc::limit_exceeded (0: no bound).
  std::size_t max_response_body = std::size_t{64} << 20;
};

/// The error for a non-2xx response to `req`: errc::http_status with the status, the API's
/// error body (the key scrubbed out, then cut to `max_error_body`) and Retry-After.
/// `more_follows`: r.body is a bounded read of a longer body (a secret's beginning at its end
/// is dropped too).
[[nodiscard]] PHRONY_DECL error response_error(const http_request& req, http_response r,
                                               std::string_view api_key, std::size_t max_error_body,
                                               bool more_follows = false);

/// One call of an endpoint: the request to send and how its 2xx body becomes a T.
template <class T> struct api_call {
  result<http_request> request;
  detail::body_parser<T> parse{};

  /// The call's value from an exchange's outcome: the outcome's error, or the body parsed.
  [[nodiscard]] result<T> finish(const result<http_response>& outcome) const {
    if (!outcome) {
      return outcome.error();
    }
    return parse(outcome->body);
  }
};

/// The API's endpoints as api_call values, one per client<Transport> call.
namespace calls {
/// POST /v1/agents/{agentId}/runs.
[[nodiscard]] inline api_call<start_run_response>
start_run(const api_config& cfg, std::string_view agent_id,
          std::optional<raw_json> input = std::nullopt) {
  return {start_run_request(cfg, agent_id, std::move(input)), parse_start_run};
}
/// GET /v1/runs/{runId}.
[[nodiscard]] inline api_call<run_status> get_run(const api_config& cfg, std::string_view run_id) {
  return {get_run_request(cfg, run_id), parse_run_status};
}
/// GET /v1/runs/{runId}/conversation.
[[nodiscard]] inline api_call<conversation>
get_conversation(const api_config& cfg, std::string_view run_id,
                 step_content content = step_content::full) {
  return {get_conversation_request(cfg, run_id, content), parse_conversation};
}
/// GET /v1/agents/{agentId}/sessions (one page).
[[nodiscard]] inline api_call<sessions_page>
list_sessions(const api_config& cfg, std::string_view agent_id, const sessions_query& query = {}) {
  return {list_sessions_request(cfg, agent_id, query), parse_sessions_page};
}
/// POST /v1/runs/{runId}/messages (or /input).
[[nodiscard]] inline api_call<accept_response>
send_message(const api_config& cfg, std::string_view run_id, const run_message& message,
             message_route route = message_route::messages) {
  return {send_message_request(cfg, run_id, message, route), parse_accept};
}
/// POST /v1/runs/{runId}/skip-agent-wait.
[[nodiscard]] inline api_call<accept_response> skip_agent_wait(const api_config& cfg,
                                                               std::string_view run_id) {
  return {skip_agent_wait_request(cfg, run_id), parse_accept};
}
/// POST /v1/file-library/presign.
[[nodiscard]] inline api_call<presign_response> presign(const api_config& cfg,
                                                        const presign_params& params) {
  return {presign_request(cfg, params), parse_presign};
}
/// POST /v1/file-library/finalize.
[[nodiscard]] inline api_call<finalize_response> finalize(const api_config& cfg,
                                                          const finalize_params& params) {
  return {finalize_request(cfg, params), parse_finalize};
}
} // namespace calls

/// One request through its tries. Send request(), hand what came back to on_response(), and do
/// what the step says: wait retry_in and send request() again, or take the outcome.
///
///     phrony::exchange ex(std::move(*req), cfg, opts);
///     for (;;) {
///       auto step = ex.on_response(send(ex.request()), random01(), now());
///       if (!step.retry_in) return std::move(step.outcome);
///       wait(*step.retry_in);
///     }
class exchange {
public:
  /// What to do after a try.
  struct step {
    /// Set: the try is worth repeating after this wait (a caller out of time may instead take
    /// `outcome`, which is this try's).
    std::optional<std::chrono::milliseconds> retry_in;
    /// This try's result: the 2xx response, or the error (errc::http_status from
    /// response_error, errc::limit_exceeded for a body over the bound, or the transport's).
    result<http_response> outcome;
  };

  /// `req` gets options.max_response_body unless it has a bound of its own.
  exchange(http_request req, const api_config& cfg, exchange_options options)
      : request_(std::move(req)), api_key_(cfg.api_key), options_(std::move(options)),
        idempotent_(is_idempotent(request_.method)) {
    if (request_.max_response_body == 0) {
      request_.max_response_body = options_.max_response_body;
    }
  }

  /// The request to send (a caller sets its timeout per try).
  [[nodiscard]] http_request& request() noexcept { return request_; }
  /// Tries made so far.
  [[nodiscard]] int tries() const noexcept { return tries_; }

  /// Feed the result of sending request(). `random01` in [0, 1) jitters the backoff; `now`
  /// reads an HTTP-date Retry-After.
  [[nodiscard]] PHRONY_DECL step on_response(result<http_response> response, double random01,
                                             std::chrono::system_clock::time_point now);

private:
  http_request request_;
  std::string api_key_;
  exchange_options options_;
  bool idempotent_;
  int tries_ = 0;
};

/// True for the event that ends a run's session (the stream has nothing more to say).
[[nodiscard]] PHRONY_DECL bool ends_session(const stream_event& e);

/// One connection of GET /v1/runs/{runId}/stream as it arrives: a 200 body goes to the
/// decoder, any other body is kept (bounded) for the error.
class stream_connection {
public:
  /// `max_error_body` bounds the kept error body; `api_key` makes room for a key straddling
  /// the bound, which response_error scrubs before it cuts.
  stream_connection(std::size_t max_error_body, std::size_t api_key_size) noexcept
      : keep_(max_error_body + api_key_size) {}

  /// The status line and headers arrived.
  void on_head(const response_head& h) { head_ = h; }

  /// Body bytes: events go to `on_event(const result<stream_event>&)` (returning false stops:
  /// stopped()). False when reading should stop (stopped, or the body does not decode).
  template <class F> bool on_data(std::string_view chunk, event_stream_decoder& decoder, F&& f) {
    if (head_.status != 200) {
      const std::size_t room = error_body_.size() < keep_ ? keep_ - error_body_.size() : 0;
      error_body_cut_ = error_body_cut_ || chunk.size() > room;
      error_body_.append(chunk.substr(0, room));
      return true;
    }
    got_bytes_ = got_bytes_ || !chunk.empty();
    auto fed = decoder.feed(chunk, [&](const result<stream_event>& ev) {
      got_event_ = true;
      if (!invoke_continue(f, ev)) {
        stopped_ = true;
        return false;
      }
      return true;
    });
    if (!fed && !stopped_) {
      decode_error_ = std::move(fed).error();
    }
    return fed.has_value();
  }

  [[nodiscard]] const response_head& head() const noexcept { return head_; }
  /// A response came and it is not a 200.
  [[nodiscard]] bool refused() const noexcept { return head_.status != 0 && head_.status != 200; }
  [[nodiscard]] bool got_bytes() const noexcept { return got_bytes_; }
  [[nodiscard]] bool got_event() const noexcept { return got_event_; }
  /// The caller's on_event asked to stop.
  [[nodiscard]] bool stopped() const noexcept { return stopped_; }
  [[nodiscard]] const std::optional<error>& decode_error() const noexcept { return decode_error_; }

  /// The refused response as an http_response (body bounded), for retry_policy/response_error.
  [[nodiscard]] PHRONY_DECL http_response refusal() const;
  /// The kept error body is a cut of a longer one.
  [[nodiscard]] bool error_body_cut() const noexcept { return error_body_cut_; }

  /// f(ev), or f(ev) != false for a callback returning a value.
  template <class F> static bool invoke_continue(F& f, const result<stream_event>& ev) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const result<stream_event>&>>) {
      f(ev);
      return true;
    } else {
      return static_cast<bool>(f(ev));
    }
  }

private:
  std::size_t keep_;
  response_head head_;
  std::string error_body_;
  bool error_body_cut_ = false;
  bool got_bytes_ = false;
  bool got_event_ = false;
  bool stopped_ = false;
  std::optional<error> decode_error_;
};

/// GET /v1/runs/{runId}/stream, resuming after the last event `decoder` saw (Last-Event-ID).
[[nodiscard]] PHRONY_DECL result<http_request>
resume_stream_request(const api_config& cfg, std::string_view run_id,
                      const event_stream_decoder& decoder);

/// Bounds of an event_stream_session (client_options holds the same fields).
struct stream_session_options {
  retry_policy retry;     ///< for refused connections (429, 503, ...)
  int max_reconnects = 5; ///< consecutive reconnects that bring no event, then give up
  std::chrono::milliseconds reconnect_fallback{1000}; ///< used until the stream sends retry
  std::chrono::milliseconds max_retry{30'000};        ///< cap on the stream's `retry:`
  std::size_t max_error_body = 64 * 1024;
};

/// GET /v1/runs/{runId}/stream until the session ends, across connections: each reconnect
/// resumes with Last-Event-ID after the stream's retry delay, so no event is lost or repeated.
/// For each connection: send request(), feed on_head()/on_data() as the response arrives, then
/// on_end() with how the transport ended; do what the step says.
class event_stream_session {
public:
  /// What to do once a connection ended.
  struct step {
    /// Set: connect again (request()) after this wait. Else `outcome` is the end: success when
    /// the session ended, or why the stream stopped.
    std::optional<std::chrono::milliseconds> reconnect_in;
    result<void> outcome;
  };

  event_stream_session(const api_config& cfg, std::string run_id,
                       stream_session_options options = {})
      : cfg_(cfg), run_id_(std::move(run_id)), options_(std::move(options)),
        conn_(options_.max_error_body, cfg_.api_key.size()) {}

  /// The next connection's request (with Last-Event-ID once the stream sent an id).
  [[nodiscard]] result<http_request> request() const {
    return resume_stream_request(cfg_, run_id_, decoder_);
  }

  /// The connection's status line and headers arrived.
  void on_head(const response_head& h) { conn_.on_head(h); }

  /// Body bytes; each event goes to `on_event(const result<stream_event>&)` (return false to
  /// stop: the session then ends with errc::cancelled). False: stop reading this connection.
  template <class F> bool on_data(std::string_view chunk, F&& on_event) {
    return conn_.on_data(chunk, decoder_, [&](const result<stream_event>& ev) {
      if (ev && ends_session(*ev)) {
        session_ended_ = true;
      }
      return stream_connection::invoke_continue(on_event, ev);
    });
  }

  /// The connection ended with `transport_result` (the transport's stream() result; a stop
  /// asked by on_data's false may come back as errc::cancelled).
  [[nodiscard]] PHRONY_DECL step on_end(result<void> transport_result, double random01,
                                        std::chrono::system_clock::time_point now);

  /// The stream's reconnect delay: its `retry:`, else the fallback, capped.
  [[nodiscard]] std::chrono::milliseconds retry_delay() const noexcept {
    return reconnect_delay(decoder_, options_.reconnect_fallback, options_.max_retry);
  }
  [[nodiscard]] const event_stream_decoder& decoder() const noexcept { return decoder_; }

private:
  api_config cfg_;
  std::string run_id_;
  stream_session_options options_;
  event_stream_decoder decoder_;
  stream_connection conn_;
  int fruitless_ = 0;
  int failures_ = 0; // refused tries since the last connection that delivered bytes
  bool session_ended_ = false;
};

/// The event stream of a run_follower (client::follow_run_streaming's): while the follower
/// listens, read a connection, feeding it the events; it closes the connection when it wants to
/// act, and the next connection resumes with Last-Event-ID. For each connection: wait
/// resume_wait() if any, send request() (with your idle bound as its timeout), feed on_head() /
/// on_data() as the response arrives, then on_end(). When usable() turns false, follow by
/// polling instead.
class follow_stream {
public:
  /// What to do once a connection ended.
  struct step {
    /// The stream was cancelled by the transport's owner: stop following with this error.
    std::optional<error> failed;
    /// Set: connect again after this wait (a refused connection, 429/503); a caller out of time
    /// calls abandon() instead. Else go back to the follower's next().
    std::optional<std::chrono::milliseconds> retry_in;
  };

  follow_stream(const api_config& cfg, std::string run_id, stream_session_options options = {})
      : cfg_(cfg), run_id_(std::move(run_id)), options_(std::move(options)),
        conn_(options_.max_error_body, cfg_.api_key.size()) {}

  /// False once the stream cannot be kept (refused for good, undecodable, no event ids, too many
  /// fruitless reconnects): follow by polling.
  [[nodiscard]] bool usable() const noexcept { return usable_; }

  /// The wait before the next connection when the last one ended on its own (the stream's
  /// retry delay); asked once per connection.
  [[nodiscard]] PHRONY_DECL std::optional<std::chrono::milliseconds> resume_wait() noexcept;

  /// The next connection's request (Last-Event-ID once the stream sent an id); on an error,
  /// call abandon().
  [[nodiscard]] result<http_request> request() const {
    return resume_stream_request(cfg_, run_id_, decoder_);
  }

  /// The connection's status line and headers arrived.
  void on_head(const response_head& h) { conn_.on_head(h); }

  /// Body bytes: each event goes to `on_event` (display; may be empty) and, as a hint, to the
  /// follower. False: stop reading (the follower wants to act, or the body does not decode).
  PHRONY_DECL bool on_data(std::string_view chunk, run_follower& follower,
                           const std::function<void(const result<stream_event>&)>& on_event,
                           std::chrono::system_clock::time_point now);

  /// The connection ended with `transport_result` (a stop asked by on_data's false may come
  /// back as errc::cancelled).
  [[nodiscard]] PHRONY_DECL step on_end(result<void> transport_result, run_follower& follower,
                                        double random01, std::chrono::system_clock::time_point now);

  /// Give the stream up (no time left to retry it, or no request): follow by polling.
  PHRONY_DECL void abandon(run_follower& follower, std::chrono::system_clock::time_point now);

private:
  api_config cfg_;
  std::string run_id_;
  stream_session_options options_;
  event_stream_decoder decoder_;
  stream_connection conn_;
  bool usable_ = true;
  bool resumes_ = false;
  int failures_ = 0; // failed connections since the last one that delivered bytes
};

/// The request the follower's current step needs: GET status (get_status, wait_for_dashboard),
/// GET the slim conversation, POST the handler's answer to a task (to the task's own run: a
/// sub-agent's task goes through the sub-agent) or its text, POST skip-agent-wait. nullopt when
/// the step needs no call (done, failed), or when the handler declined: the follower has then
/// failed (follow_end::declined) and next() says so. Feed the outcome to follow_apply().
[[nodiscard]] PHRONY_DECL std::optional<result<http_request>>
follow_request(run_follower& follower, const follow_handler& handler, const api_config& cfg);

/// Feeds the outcome of follow_request()'s request (after its exchange) to the follower; the
/// error that should end following, if any. `scratch` holds the polled conversation (reused
/// across polls). A 400 to skip-agent-wait means the timer fired meanwhile: not an error.
PHRONY_LAZY [[nodiscard]] PHRONY_DECL std::optional<error>
follow_apply(run_follower& follower, const result<http_response>& outcome, conversation& scratch);

/// The run_outcome of a follower that is done or failed.
[[nodiscard]] PHRONY_DECL run_outcome outcome_of(const follow_action& action);

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>

namespace phrony {

PHRONY_DECL error response_error(const http_request& req, http_response r, std::string_view api_key,
                                 std::size_t max_error_body, bool more_follows) {
  r.body = detail::scrub_then_cut(r.body, api_key, max_error_body, more_follows).text;
  const std::string* retry_after = r.header("Retry-After");
  return http_error(r.status, req, std::move(r.body),
                    retry_after ? std::optional<std::string_view>(*retry_after) : std::nullopt);
}

PHRONY_DECL exchange::step exchange::on_response(result<http_response> response, double random01,
                                                 std::chrono::system_clock::time_point now) {
  ++tries_;
  if (response && options_.max_response_body > 0 &&
      response->body.size() > options_.max_response_body) {
    // The transport should have stopped reading; the bound holds all the same.
    return {std::nullopt,
            make_error(errc::limit_exceeded, "",
                       "the response body of " + request_.method + " " + request_.route() +
                           " is longer than the max_response_body bound (" +
                           std::to_string(options_.max_response_body) + " bytes)")};
  }
  step s{options_.retry.next_delay(tries_, response, idempotent_, random01, now),
         std::move(response)};
  if (s.outcome && (s.outcome->status < 200 || s.outcome->status > 299)) {
    s.outcome = response_error(request_, std::move(*s.outcome), api_key_, options_.max_error_body);
  }
  return s;
}

PHRONY_DECL bool ends_session(const stream_event& e) {
  return e.kind_enum() == event_kind::session &&
         (e.subject == "engine.session.completed" ||
          (e.status && is_terminal(parse_run_state(*e.status))));
}

PHRONY_DECL http_response stream_connection::refusal() const {
  http_response r;
  static_cast<response_head&>(r) = head_;
  r.body = error_body_;
  return r;
}

PHRONY_DECL result<http_request> resume_stream_request(const api_config& cfg,
                                                       std::string_view run_id,
                                                       const event_stream_decoder& decoder) {
  const auto last_id = reconnect_last_event_id(decoder);
  return stream_request(cfg, run_id,
                        last_id ? std::optional<std::string_view>(*last_id) : std::nullopt);
}

PHRONY_DECL event_stream_session::step
event_stream_session::on_end(result<void> transport_result, double random01,
                             std::chrono::system_clock::time_point now) {
  stream_connection conn =
      std::exchange(conn_, stream_connection(options_.max_error_body, cfg_.api_key.size()));
  if (conn.stopped()) {
    return {std::nullopt, make_error(errc::cancelled, "", "stream stopped by the caller")};
  }
  if (conn.decode_error()) {
    return {std::nullopt, *conn.decode_error()};
  }
  if (transport_result && conn.refused()) {
    const auto delay = options_.retry.next_delay(++failures_, result<http_response>(conn.refusal()),
                                                 true, random01, now);
    if (!delay) {
      auto req = request();
      if (!req) {
        return {std::nullopt, std::move(req).error()};
      }
      return {std::nullopt, response_error(*req, conn.refusal(), cfg_.api_key,
                                           options_.max_error_body, conn.error_body_cut())};
    }
    return {delay, {}};
  }
  if (!transport_result && transport_result.error().code == errc::cancelled) {
    return {std::nullopt, std::move(transport_result)};
  }
  // The connection ended: the stream's unterminated last event is dropped, ids are kept.
  (void)decoder_.finish();
  if (session_ended_) {
    return {std::nullopt, {}};
  }
  if (conn.got_bytes()) {
    failures_ = 0;
  }
  fruitless_ = conn.got_event() ? 0 : fruitless_ + 1;
  if (fruitless_ > options_.max_reconnects) {
    if (transport_result) {
      return {std::nullopt,
              make_error(errc::transport, "", "the stream keeps ending without events")};
    }
    return {std::nullopt, std::move(transport_result)};
  }
  return {retry_delay(), {}};
}

PHRONY_DECL std::optional<std::chrono::milliseconds> follow_stream::resume_wait() noexcept {
  if (!std::exchange(resumes_, false)) {
    return std::nullopt;
  }
  return reconnect_delay(decoder_, options_.reconnect_fallback, options_.max_retry);
}

PHRONY_DECL bool
follow_stream::on_data(std::string_view chunk, run_follower& follower,
                       const std::function<void(const result<stream_event>&)>& on_event,
                       std::chrono::system_clock::time_point now) {
  return conn_.on_data(chunk, decoder_, [&](const result<stream_event>& ev) {
    if (on_event) {
      on_event(ev);
    }
    return !(ev && follower.on_event(*ev, now)); // stop: the follower looks
  });
}

PHRONY_DECL follow_stream::step follow_stream::on_end(result<void> transport_result,
                                                      run_follower& follower, double random01,
                                                      std::chrono::system_clock::time_point now) {
  stream_connection conn =
      std::exchange(conn_, stream_connection(options_.max_error_body, cfg_.api_key.size()));
  (void)decoder_.finish();
  if (conn.stopped()) {
    // Without event ids a new connection cannot resume where this one stopped.
    usable_ = !decoder_.last_event_id().empty();
    failures_ = 0;
    return {};
  }
  // The transport reports our own stop after a decode error as cancelled too.
  if (!transport_result && transport_result.error().code == errc::cancelled &&
      !conn.decode_error()) {
    return {std::move(transport_result).error(), std::nullopt};
  }
  if (transport_result && conn.refused()) {
    const auto delay = options_.retry.next_delay(++failures_, result<http_response>(conn.refusal()),
                                                 true, random01, now);
    if (delay) {
      return {std::nullopt, delay};
    }
    usable_ = false; // polling surfaces a lasting error itself
  } else if (conn.decode_error()) {
    usable_ = false;
  } else {
    // Ended by the server, a drop, or the idle bound: what did we miss?
    failures_ = conn.got_bytes() ? 0 : failures_ + 1;
    usable_ = failures_ <= options_.max_reconnects;
    resumes_ = true;
  }
  follower.on_stream_gap(now);
  return {};
}

PHRONY_DECL void follow_stream::abandon(run_follower& follower,
                                        std::chrono::system_clock::time_point now) {
  usable_ = false;
  follower.on_stream_gap(now);
}

PHRONY_DECL std::optional<result<http_request>>
follow_request(run_follower& follower, const follow_handler& handler, const api_config& cfg) {
  const follow_action& action = follower.next();
  const std::string& run_id = follower.run_id();
  switch (action.what) {
  case follow_action::kind::get_status:
  case follow_action::kind::wait_for_dashboard: return get_run_request(cfg, run_id);
  case follow_action::kind::get_conversation:
    return get_conversation_request(cfg, run_id, step_content::slim);
  case follow_action::kind::answer_task: {
    const pending_user_task& task = *action.task;
    auto answer = handler.answer_task ? handler.answer_task(task) : std::nullopt;
    if (!answer) {
      follower.fail("no answer for user task " + task.user_task_id + " (" +
                    task.kind.value_or("unknown kind") + ")");
      return std::nullopt;
    }
    return send_message_request(cfg, task.run_id, *answer);
  }
  case follow_action::kind::send_text: {
    auto text = handler.send_text ? handler.send_text(run_id) : std::nullopt;
    if (!text) {
      follower.fail("the run waits for a response and no text was given");
      return std::nullopt;
    }
    return send_message_request(cfg, run_id, *text);
  }
  case follow_action::kind::skip_timer: return skip_agent_wait_request(cfg, run_id);
  case follow_action::kind::done:
  case follow_action::kind::failed: break;
  }
  return std::nullopt;
}

PHRONY_LAZY_DEF PHRONY_DECL std::optional<error>
follow_apply(run_follower& follower, const result<http_response>& outcome, conversation& scratch) {
  const auto kind = follower.next().what;
  if (kind == follow_action::kind::skip_timer && !outcome &&
      outcome.error().code == errc::http_status && outcome.error().status == 400) {
    follower.on_answered();
    return std::nullopt;
  }
  if (!outcome) {
    return outcome.error();
  }
  if (outcome->status < 200 || outcome->status > 299) { // not from an exchange: still an error
    error e = make_error(errc::http_status, "", "unexpected status");
    e.status = outcome->status;
    return e;
  }
  switch (kind) {
  case follow_action::kind::get_status:
  case follow_action::kind::wait_for_dashboard: {
    auto st = parse_run_status(outcome->body);
    if (!st) {
      return std::move(st).error();
    }
    follower.on_status(*st);
    return std::nullopt;
  }
  case follow_action::kind::get_conversation: {
    if (auto c = parse_conversation(outcome->body, scratch); !c) {
      return std::move(c).error();
    }
    follower.on_conversation(scratch);
    return std::nullopt;
  }
  case follow_action::kind::answer_task:
  case follow_action::kind::send_text:
  case follow_action::kind::skip_timer: {
    if (auto accepted = parse_accept(outcome->body); !accepted) {
      return std::move(accepted).error();
    }
    follower.on_answered();
    return std::nullopt;
  }
  case follow_action::kind::done:
  case follow_action::kind::failed: break;
  }
  return std::nullopt;
}

PHRONY_DECL run_outcome outcome_of(const follow_action& action) {
  run_outcome o;
  o.completed = action.what == follow_action::kind::done;
  o.end = action.end;
  o.status = action.status;
  o.output = action.output;
  o.error = action.error;
  return o;
}

} // namespace phrony
#endif
