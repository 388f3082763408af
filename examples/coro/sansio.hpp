// phrony-coro's sans-IO layer: what to send, what an answer means, whether to retry. Every
// decision comes from phrony (request builders, retry_policy, http_error, the parsers,
// run_follower); the coroutines in phrony_coro.cpp only move bytes and run the timers.
//
// TEMPORARY ADAPTER: these are the names and shapes of include/phrony/exchange.hpp (issue 12,
// item 2), written here over phrony's public pieces until that header lands on main. Then this
// file becomes `#include <phrony/exchange.hpp>` plus the few using-declarations below.
#pragma once

#include <phrony/client.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace phrony_coro::sansio {

using phrony::error;
using phrony::http_request;
using phrony::http_response;
using phrony::result;
using time_point = std::chrono::system_clock::time_point;

/// Retry policy and bounds of one exchange (as client_options has them).
struct exchange_options {
  phrony::retry_policy retry;
  std::size_t max_error_body = 64 * 1024;
  std::size_t max_response_body = std::size_t{64} << 20;
};

/// A request and the parser of its 2xx body.
template <class T> struct api_call {
  result<http_request> request;
  phrony::detail::body_parser<T> parser;
  [[nodiscard]] result<T> parse(const http_response& r) const { return parser(r.body); }
};

namespace calls {
inline api_call<phrony::start_run_response> start_run(const phrony::api_config& cfg,
                                                      std::string_view agent_id,
                                                      std::optional<phrony::raw_json> input) {
  return {phrony::start_run_request(cfg, agent_id, std::move(input)), phrony::parse_start_run};
}
inline api_call<phrony::run_status> get_run(const phrony::api_config& cfg,
                                            std::string_view run_id) {
  return {phrony::get_run_request(cfg, run_id), phrony::parse_run_status};
}
} // namespace calls

/// One request through its retries: send request(), feed what came back to on_response().
class exchange {
public:
  exchange(http_request req, const phrony::api_config& cfg, const exchange_options& o)
      : req_(std::move(req)), cfg_(cfg), o_(o) {
    if (req_.max_response_body == 0) {
      req_.max_response_body = o_.max_response_body;
    }
  }

  http_request& request() { return req_; }

  struct step {
    std::optional<std::chrono::milliseconds> retry_in; ///< set: wait, send request() again
    result<http_response> outcome;                     ///< else: a 2xx response or the error
  };

  step on_response(result<http_response> r, double random01, time_point now) {
    ++attempt_;
    if (r && o_.max_response_body > 0 && r->body.size() > o_.max_response_body) {
      return {std::nullopt, phrony::make_error(phrony::errc::limit_exceeded, "",
                                               "the response body of " + req_.method + " " +
                                                   req_.route() + " is too long")};
    }
    if (auto d =
            o_.retry.next_delay(attempt_, r, phrony::is_idempotent(req_.method), random01, now)) {
      return {d, std::move(r)};
    }
    if (!r) {
      return {std::nullopt, std::move(r)};
    }
    if (r->status < 200 || r->status > 299) {
      return {std::nullopt, to_http_error(std::move(*r))};
    }
    return {std::nullopt, std::move(r)};
  }

private:
  error to_http_error(http_response r) const {
    r.body = phrony::detail::scrub_then_cut(r.body, cfg_.api_key, o_.max_error_body, false).text;
    const std::string* retry_after = r.header("Retry-After");
    return phrony::http_error(r.status, req_, std::move(r.body),
                              retry_after ? std::optional<std::string_view>(*retry_after)
                                          : std::nullopt);
  }

  http_request req_;
  const phrony::api_config& cfg_;
  exchange_options o_;
  int attempt_ = 0;
};

/// Bounds of event_stream_session.
struct stream_session_options {
  phrony::retry_policy retry;
  int max_reconnects = 5; ///< consecutive connections without bytes, then give the stream up
  std::chrono::milliseconds fallback_retry{1000}; ///< until the stream sends `retry:`
  std::chrono::milliseconds max_retry{30'000};    ///< cap on the stream's `retry:`
};

/// GET /v1/runs/{runId}/stream across its connections: Last-Event-ID on every reconnection,
/// the stream's retry delay (capped), error statuses retried per the policy.
class event_stream_session {
public:
  event_stream_session(const phrony::api_config& cfg, std::string run_id,
                       stream_session_options o = {})
      : cfg_(cfg), run_id_(std::move(run_id)), o_(o) {}

  /// The next connection's request.
  [[nodiscard]] result<http_request> request() const {
    const auto last = phrony::reconnect_last_event_id(decoder_);
    return phrony::stream_request(cfg_, run_id_,
                                  last ? std::optional<std::string_view>(*last) : std::nullopt);
  }

  void on_head(const phrony::response_head& head) {
    head_ = head;
    got_bytes_ = stopped_ = false;
    decode_error_.reset();
  }

  /// Body bytes of the connection; on_event(const result<stream_event>&) returns false to stop
  /// reading (this then returns false too, as on an undecodable stream).
  template <class F> bool on_data(std::string_view chunk, F&& on_event) {
    if (head_.status != 200) {
      return true; // its body is not read: the status says it all
    }
    got_bytes_ = got_bytes_ || !chunk.empty();
    auto fed = decoder_.feed(chunk, [&](const result<phrony::stream_event>& ev) {
      if (!on_event(ev)) {
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

  struct step {
    /// Set: reconnect after this long. Else, `outcome` ok: the caller stopped (resume with
    /// request() whenever it likes), or an error: the stream is given up.
    std::optional<std::chrono::milliseconds> reconnect_in;
    result<void> outcome;
  };

  step on_end(result<void> transport_result, double random01, time_point now) {
    (void)decoder_.finish(); // an unterminated last event is dropped, ids are kept
    if (stopped_) {
      // Without event ids a new connection cannot resume where this one stopped.
      if (decoder_.last_event_id().empty()) {
        return {std::nullopt,
                phrony::make_error(phrony::errc::transport, "", "the stream sends no event ids")};
      }
      failures_ = 0;
      return {std::nullopt, {}};
    }
    if (decode_error_) {
      return {std::nullopt, std::move(*decode_error_)};
    }
    if (transport_result && head_.status != 200) {
      http_response r;
      static_cast<phrony::response_head&>(r) = head_;
      if (auto d = o_.retry.next_delay(++failures_, r, true, random01, now)) {
        return {d, {}};
      }
      return {std::nullopt,
              phrony::make_error(phrony::errc::http_status, "",
                                 "the stream answered HTTP " + std::to_string(head_.status))};
    }
    failures_ = got_bytes_ ? 0 : failures_ + 1;
    if (failures_ > o_.max_reconnects) {
      return {std::nullopt, transport_result ? phrony::make_error(phrony::errc::transport, "",
                                                                  "the stream keeps ending")
                                             : std::move(transport_result)};
    }
    return {std::min(phrony::reconnect_delay(decoder_, o_.fallback_retry), o_.max_retry), {}};
  }

private:
  const phrony::api_config& cfg_;
  std::string run_id_;
  stream_session_options o_;
  phrony::event_stream_decoder decoder_;
  phrony::response_head head_;
  bool got_bytes_ = false, stopped_ = false;
  int failures_ = 0;
  std::optional<error> decode_error_;
};

/// The request for the follower's current step (asking `h` for answers; telling it about a
/// dashboard-only task), or nullopt when there is none to send: the follower ended, or `h`
/// declined (the follower then fails with that reason).
inline std::optional<result<http_request>> follow_request(phrony::run_follower& f,
                                                          const phrony::follow_handler& h,
                                                          const phrony::api_config& cfg) {
  using k = phrony::follow_action::kind;
  const phrony::follow_action& a = f.next();
  const std::string& run_id = f.run_id();
  switch (a.what) {
  case k::wait_for_dashboard:
    if (h.on_dashboard_task) {
      h.on_dashboard_task(*a.task);
    }
    [[fallthrough]];
  case k::get_status: return phrony::get_run_request(cfg, run_id);
  case k::get_conversation:
    return phrony::get_conversation_request(cfg, run_id, phrony::step_content::slim);
  case k::answer_task: {
    auto m = h.answer_task ? h.answer_task(*a.task) : std::nullopt;
    if (!m) {
      f.fail("no answer for user task " + a.task->user_task_id + " (" +
             a.task->kind.value_or("unknown kind") + ")");
      return std::nullopt;
    }
    // A sub-agent's task is answered through the sub-agent's run.
    return phrony::send_message_request(cfg, a.task->run_id, *m);
  }
  case k::send_text: {
    auto m = h.send_text ? h.send_text(run_id) : std::nullopt;
    if (!m) {
      f.fail("the run waits for a response and no text was given");
      return std::nullopt;
    }
    return phrony::send_message_request(cfg, run_id, *m);
  }
  case k::skip_timer: return phrony::skip_agent_wait_request(cfg, run_id);
  case k::done:
  case k::failed: break;
  }
  return std::nullopt;
}

/// Feeds the outcome of follow_request's request (after its exchange) to the follower; the
/// error that ends following, if any. `scratch` holds conversations between polls.
inline std::optional<error> follow_apply(phrony::run_follower& f, result<http_response> outcome,
                                         phrony::conversation& scratch) {
  using k = phrony::follow_action::kind;
  const auto what = f.next().what;
  if (what == k::skip_timer && !outcome && outcome.error().code == phrony::errc::http_status &&
      outcome.error().status == 400) {
    f.on_answered(); // the timer fired meanwhile: look again
    return std::nullopt;
  }
  if (!outcome) {
    return std::move(outcome).error();
  }
  switch (what) {
  case k::get_status:
  case k::wait_for_dashboard: {
    auto st = phrony::parse_run_status(outcome->body);
    if (!st) {
      return std::move(st).error();
    }
    f.on_status(*st);
    break;
  }
  case k::get_conversation:
    if (auto c = phrony::parse_conversation(outcome->body, scratch); !c) {
      return std::move(c).error();
    }
    f.on_conversation(scratch);
    break;
  case k::answer_task:
  case k::send_text:
  case k::skip_timer:
    if (auto accepted = phrony::parse_accept(outcome->body); !accepted) {
      return std::move(accepted).error();
    }
    f.on_answered();
    break;
  case k::done:
  case k::failed: break;
  }
  return std::nullopt;
}

/// How following ended, for a done or failed action.
inline phrony::run_outcome outcome_of(const phrony::follow_action& a) {
  phrony::run_outcome o;
  o.completed = a.what == phrony::follow_action::kind::done;
  o.end = a.end;
  o.status = a.status;
  o.output = a.output;
  o.error = a.error;
  return o;
}

} // namespace phrony_coro::sansio
