// phrony: client<Transport>, the convenient calls: build the request, send it through your
// transport (with the retry policy), turn non-2xx answers into http errors, parse the body.
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "phrony/config.hpp"
#include "phrony/conversation.hpp"
#include "phrony/error.hpp"
#include "phrony/events.hpp"
#include "phrony/exchange.hpp"
#include "phrony/files.hpp"
#include "phrony/follow.hpp"
#include "phrony/http_error.hpp"
#include "phrony/request.hpp"
#include "phrony/retry.hpp"
#include "phrony/runs.hpp"
#include "phrony/sessions.hpp"
#include "phrony/transport.hpp"

namespace phrony {

namespace detail {
/// client_options' defaults: std::this_thread::sleep_for, and a per-thread mt19937_64.
PHRONY_DECL void sleep_for(std::chrono::milliseconds d);
[[nodiscard]] PHRONY_DECL double random01();
} // namespace detail

/// The client's clock, randomness and limits. Tests replace sleep/now/random to run instantly.
struct client_options {
  retry_policy retry;
  std::function<void(std::chrono::milliseconds)> sleep = detail::sleep_for;
  std::function<double()> random = detail::random01; ///< uniform in [0, 1)
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  int max_stream_reconnects = 5; ///< consecutive reconnects that bring no event, then give up
  std::chrono::milliseconds stream_reconnect_fallback{1000}; ///< used until the stream sends retry
  /// Cap on the stream's `retry:` (a server must not park the client for centuries).
  std::chrono::milliseconds max_stream_retry{30'000};
  std::size_t max_error_body = 64 * 1024; ///< error bodies longer than this are cut
  /// Each call's http_request::timeout (0: the transport's own default); while following a run
  /// it is further cut to what is left of follow_options::max_duration. Streams get none.
  std::chrono::milliseconds request_timeout{60'000};
  /// Each call's http_request::max_response_body, checked again on the body the transport
  /// returns: a longer body is errc::limit_exceeded (0: no bound). 64 MiB holds a conversation
  /// of ~60,000 full timeline items.
  std::size_t max_response_body = std::size_t{64} << 20;
};

/// The calls of the Phrony API over a user-supplied transport. The transport, config and
/// options live on the heap, shared with the pagers the client hands out: moving the client
/// keeps them valid. Copying a client (when Transport is copyable) gives an independent one.
/// Like its transport, a client serves one thread at a time.
template <transport Transport> class client {
  struct state {
    Transport transport;
    api_config config;
    client_options options;
    /// While following a run: the end of follow_options::max_duration, bounding every call.
    std::optional<std::chrono::system_clock::time_point> deadline;
    /// The last call's timeout was the time left: its transport error means the deadline came.
    bool cut_by_deadline = false;
  };

public:
  client(Transport transport, api_config config, client_options options = {})
      : state_(std::make_shared<state>(state{std::move(transport), std::move(config),
                                             std::move(options), std::nullopt, false})) {}

  /// An independent client with a copy of `o`'s transport, config and options.
  client(const client& o) requires std::copy_constructible<Transport>
      : state_(std::make_shared<state>(*o.state_)) {}
  /// Becomes an independent copy of `o`.
  client& operator=(const client& o) requires std::copy_constructible<Transport> {
    if (this != &o) {
      state_ = std::make_shared<state>(*o.state_);
    }
    return *this;
  }
  /// Takes `o`'s state (pagers made by `o` keep working); `o` may then only be assigned or
  /// destroyed.
  client(client&& o) noexcept = default;
  /// See the move constructor.
  client& operator=(client&& o) noexcept = default;
  ~client() = default;

  /// The transport the calls go through.
  [[nodiscard]] Transport& transport() noexcept { return state_->transport; }
  /// Base URL, key and user agent of the calls.
  [[nodiscard]] const api_config& config() const noexcept { return state_->config; }

  /// POST /v1/agents/{agentId}/runs. Not retried unless options.retry.retry_non_idempotent.
  result<start_run_response> start_run(std::string_view agent_id,
                                       std::optional<raw_json> input = std::nullopt) {
    return call(calls::start_run(config(), agent_id, std::move(input)));
  }
  /// GET /v1/runs/{runId}.
  result<run_status> get_run(std::string_view run_id) {
    return call(calls::get_run(config(), run_id));
  }
  /// GET /v1/runs/{runId}/conversation.
  result<conversation> get_conversation(std::string_view run_id,
                                        step_content content = step_content::full) {
    return call(calls::get_conversation(config(), run_id, content));
  }
  /// The same into `out`, reusing its storage: a poller that keeps one conversation allocates
  /// almost nothing per poll. On failure `out` is left partly read.
  result<void> get_conversation(std::string_view run_id, conversation& out,
                                step_content content = step_content::full) {
    auto response = roundtrip(get_conversation_request(config(), run_id, content));
    if (!response) {
      return std::move(response).error();
    }
    return parse_conversation(response->body, out);
  }
  /// GET /v1/agents/{agentId}/sessions (one page).
  result<sessions_page> list_sessions(std::string_view agent_id, const sessions_query& query = {}) {
    return call(calls::list_sessions(config(), agent_id, query));
  }
  /// POST /v1/runs/{runId}/messages (or /input). Not retried unless asked (see start_run).
  result<accept_response> send_message(std::string_view run_id, const run_message& message,
                                       message_route route = message_route::messages) {
    return call(calls::send_message(config(), run_id, message, route));
  }
  /// POST /v1/runs/{runId}/skip-agent-wait (400 unless the run is WaitingForTimer).
  result<accept_response> skip_agent_wait(std::string_view run_id) {
    return call(calls::skip_agent_wait(config(), run_id));
  }
  /// POST /v1/file-library/presign.
  result<presign_response> presign(const presign_params& params) {
    return call(calls::presign(config(), params));
  }
  /// POST /v1/file-library/finalize (idempotent on the server: alreadyFinalized).
  result<finalize_response> finalize(const finalize_params& params) {
    return call(calls::finalize(config(), params));
  }

  /// Presign, PUT the bytes to the upload URL with every required header, finalize: the
  /// reference to put into a run's input (input_value()) or a message's files.
  result<file_ref> upload_file(std::string filename, std::string media_type, std::string bytes) {
    const auto size = static_cast<std::int64_t>(bytes.size());
    auto presigned = presign(presign_params{filename, media_type, size});
    if (!presigned) {
      return std::move(presigned).error();
    }
    auto put = roundtrip(upload_request(*presigned, std::move(bytes)));
    if (!put) {
      return std::move(put).error();
    }
    auto done = finalize(finalize_params{presigned->object_key, size, filename, media_type});
    if (!done) {
      return std::move(done).error();
    }
    return file_ref::from(*done, std::move(filename), std::move(media_type));
  }

  /// Pages through GET /v1/agents/{agentId}/sessions: next() gives each page, then nullopt.
  /// It shares the client's transport (valid after the client moves or is destroyed), so use
  /// it on the client's thread.
  class sessions_pager {
  public:
    /// The next page, nullopt after the last one, or the error that stopped paging.
    result<std::optional<sessions_page>> next() {
      if (done_) {
        return std::optional<sessions_page>{};
      }
      auto page = client(state_).list_sessions(agent_id_, query_);
      if (!page) {
        done_ = true;
        return std::move(page).error();
      }
      const auto got = static_cast<std::int64_t>(page->items.size());
      query_.skip = query_.skip.value_or(0) + got;
      done_ = got == 0 || *query_.skip >= page->total;
      return std::optional<sessions_page>{std::move(*page)};
    }

  private:
    friend class client;
    sessions_pager(std::shared_ptr<state> s, std::string agent_id, sessions_query query)
        : state_(std::move(s)), agent_id_(std::move(agent_id)), query_(std::move(query)) {}
    std::shared_ptr<state> state_;
    std::string agent_id_;
    sessions_query query_;
    bool done_ = false;
  };

  /// A pager over all sessions of `agent_id` matching `query`, `page_size` rows at a time.
  sessions_pager sessions(std::string agent_id, sessions_query query = {},
                          std::int64_t page_size = 100) {
    query.take = page_size;
    return sessions_pager(state_, std::move(agent_id), std::move(query));
  }

  /// Follows GET /v1/runs/{runId}/stream until the session completes, calling
  /// `on_event(const result<stream_event>&)` for each event (return false to stop: the call
  /// then returns errc::cancelled). A dropped connection is resumed with Last-Event-ID after the
  /// stream's retry delay (at most options.max_stream_retry), so no event is lost or repeated;
  /// options.max_stream_reconnects consecutive reconnects without an event end it with
  /// errc::transport. Error statuses are retried per options.retry, its tries counted from the
  /// last connection that delivered bytes.
  template <class F>
  requires streaming_transport<Transport> && std::invocable < F&, const result<stream_event>
  & > result<void> stream_events(std::string_view run_id, F&& on_event) {
    state& s = *state_;
    event_stream_session session(s.config, std::string(run_id), stream_options());
    for (;;) {
      auto req = session.request();
      if (!req) {
        return std::move(req).error();
      }
      stream_handler handler;
      handler.on_head = [&session](const response_head& head) {
        session.on_head(head);
        return true;
      };
      handler.on_data = [&session, &on_event](std::string_view chunk) {
        return session.on_data(chunk, on_event);
      };
      auto step =
          session.on_end(s.transport.stream(*req, handler), s.options.random(), s.options.now());
      if (!step.reconnect_in) {
        return std::move(step.outcome);
      }
      s.options.sleep(*step.reconnect_in);
    }
  }

  /// Drives run `run_id` to its end by polling: answers user tasks (each at most once) and text
  /// requests through `handler`, skips timers (per `options`), waits for tasks only the
  /// dashboard completes (telling handler.on_dashboard_task once), and sleeps through
  /// options.sleep between polls. options.max_duration bounds the whole call (see there): it
  /// then returns end timed_out or waiting_for_dashboard. Errors of the calls it makes end it
  /// with that error.
  result<run_outcome> follow_run(std::string_view run_id, const follow_handler& handler,
                                 follow_options options = {}) {
    return follow(run_id, handler, options, false);
  }

  /// follow_run over the run's event stream: while the run works, the stream is read instead of
  /// polling, and every event that may mean a change is confirmed with GET /v1/runs/{runId}
  /// (debounced, follow_options::hint_debounce); events are never trusted on their own, so odd
  /// payload keys cannot stall it. To make calls on the one transport, the stream is closed
  /// while the follower acts and resumed with Last-Event-ID (nothing is lost or repeated); a
  /// connection lasts at most follow_options::idle_timeout. When the stream cannot be kept (it
  /// fails, sends no event ids, or an undecodable body) following goes on by polling.
  result<run_outcome>
  follow_run_streaming(std::string_view run_id, const follow_handler& handler,
                       follow_options options = {}) requires streaming_transport<Transport> {
    return follow(run_id, handler, options, true);
  }

private:
  using time_point = std::chrono::system_clock::time_point;

  explicit client(std::shared_ptr<state> s) : state_(std::move(s)) {}

  /// Sets the follow deadline for the calls made while it lives.
  class deadline_scope {
  public:
    deadline_scope(state& s, std::optional<time_point> d) : s_(s), saved_(s.deadline) {
      s_.deadline = d;
    }
    ~deadline_scope() { s_.deadline = saved_; }
    deadline_scope(const deadline_scope&) = delete;
    deadline_scope& operator=(const deadline_scope&) = delete;

  private:
    state& s_;
    std::optional<time_point> saved_;
  };

  /// The time left before the follow deadline (none: no deadline), at least 1 ms while any.
  std::optional<std::chrono::milliseconds> time_left() const {
    if (!state_->deadline) {
      return std::nullopt;
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(*state_->deadline - state_->options.now());
    return std::max(left, std::chrono::milliseconds{0});
  }

  /// `base` cut to the time left (0 in, 0 out, when there is no deadline); nullopt when the
  /// deadline has passed.
  std::optional<std::chrono::milliseconds> bounded_timeout(std::chrono::milliseconds base) const {
    const auto left = time_left();
    if (!left) {
      return base;
    }
    if (left->count() <= 0) {
      return std::nullopt;
    }
    return base.count() > 0 ? std::min(base, *left) : *left;
  }

  /// Sleeps `d`, but never past the deadline; false when the deadline cut it short.
  bool sleep_within_deadline(std::chrono::milliseconds d) const {
    const auto left = time_left();
    if (left && *left <= d) {
      if (left->count() > 0) {
        state_->options.sleep(*left);
      }
      return false;
    }
    state_->options.sleep(d);
    return true;
  }

  exchange_options exchange_opts() const {
    const client_options& o = state_->options;
    return {o.retry, o.max_error_body, o.max_response_body};
  }

  stream_session_options stream_options() const {
    const client_options& o = state_->options;
    return {o.retry, o.max_stream_reconnects, o.stream_reconnect_fallback, o.max_stream_retry,
            o.max_error_body};
  }

  /// Sends `req` through phrony::exchange's tries, each bounded by the follow deadline; a 2xx
  /// response, or the error (http_status for other statuses).
  result<http_response> roundtrip(result<http_request> req) {
    if (!req) {
      return std::move(req).error();
    }
    state& s = *state_;
    phrony::exchange ex(std::move(*req), s.config, exchange_opts());
    for (;;) {
      const auto timeout = bounded_timeout(s.options.request_timeout);
      if (!timeout) {
        return make_error(errc::transport, "",
                          "follow_options::max_duration ended before " + ex.request().method + " " +
                              ex.request().route() + " was sent");
      }
      ex.request().timeout = *timeout;
      s.cut_by_deadline = s.deadline && *timeout != s.options.request_timeout;
      auto step =
          ex.on_response(s.transport.send(ex.request()), s.options.random(), s.options.now());
      if (!step.retry_in || !sleep_within_deadline(*step.retry_in)) {
        return std::move(step.outcome);
      }
    }
  }

  template <class T> result<T> call(api_call<T> c) {
    return c.finish(roundtrip(std::move(c.request)));
  }

  /// How much earlier than ours a transport's clock may end an exchange cut to the deadline.
  static constexpr std::chrono::milliseconds deadline_slack{250};

  /// The outcome when max_duration ends first; `last` is the error of a call it cut short.
  static run_outcome given_up(const run_follower& f, const follow_options& fo,
                              const std::optional<error>& last) {
    run_outcome o;
    o.status = f.next().status;
    o.end = f.dashboard_task() ? follow_end::waiting_for_dashboard : follow_end::timed_out;
    o.task = f.dashboard_task();
    o.error = "gave up: the run did not end within follow_options::max_duration (" +
              std::to_string(fo.max_duration.count()) + " ms)";
    if (last) {
      o.error += "; " + last->what();
    }
    return o;
  }

  result<run_outcome> follow(std::string_view run_id, const follow_handler& handler,
                             const follow_options& fo, bool streaming) {
    state& s = *state_;
    run_follower follower{std::string(run_id), fo};
    conversation polled; // read over at every poll
    follow_stream stream(s.config, std::string(run_id), stream_options());
    const deadline_scope scope(s, fo.max_duration.count() > 0
                                      ? std::optional(s.options.now() + fo.max_duration)
                                      : std::nullopt);
    for (;;) {
      const follow_action& action = follower.next();
      const bool ends =
          action.what == follow_action::kind::done || action.what == follow_action::kind::failed;
      const bool listens = streaming && stream.usable() && action.listen;
      if (const auto left = time_left();
          !ends && left && (left->count() <= 0 || (!listens && action.delay > *left))) {
        // The next step would come after the deadline: use the time left, then give up.
        (void)sleep_within_deadline(action.delay);
        return given_up(follower, fo, std::nullopt);
      }
      if (handler.on_action) {
        handler.on_action(action);
      }
      if (ends) {
        return outcome_of(action);
      }
      if (action.what == follow_action::kind::wait_for_dashboard && handler.on_dashboard_task) {
        handler.on_dashboard_task(*action.task);
      }
      if (listens) {
        if constexpr (streaming_transport<Transport>) {
          if (auto failed = listen(follower, stream, fo, handler)) {
            return std::move(*failed);
          }
          continue;
        }
      }
      if (action.delay.count() > 0) {
        s.options.sleep(action.delay);
      }
      if (auto failed = act(follower, polled, handler)) {
        // A transport's clock may end the exchange a little before ours says the time is up.
        if (const auto left = time_left();
            left && (left->count() <= 0 || (failed->code == errc::transport && s.cut_by_deadline &&
                                            *left <= deadline_slack))) {
          return given_up(follower, fo, failed);
        }
        return std::move(*failed);
      }
    }
  }

  /// Does the follower's current step (a call); the error of a call that failed.
  std::optional<error> act(run_follower& follower, conversation& polled,
                           const follow_handler& handler) {
    auto req = follow_request(follower, handler, state_->config);
    if (!req) {
      return std::nullopt;
    }
    return follow_apply(follower, roundtrip(std::move(*req)), polled);
  }

  /// Reads the stream while the follower listens, feeding it the events, until it wants to act
  /// (the stream is then closed, to be resumed later), the deadline passes, or the stream is
  /// given up for polling. Only a transport cancelled by the caller is an error.
  std::optional<error>
  listen(run_follower& follower, follow_stream& fs, const follow_options& fo,
         const follow_handler& handler) requires streaming_transport<Transport> {
    state& s = *state_;
    for (;;) {
      if (const auto wait = fs.resume_wait(); wait && !sleep_within_deadline(*wait)) {
        return std::nullopt;
      }
      const auto timeout = bounded_timeout(fo.idle_timeout);
      if (!timeout) {
        return std::nullopt;
      }
      auto req = fs.request();
      if (!req) {
        fs.abandon(follower, s.options.now());
        return std::nullopt;
      }
      req->timeout = *timeout;
      stream_handler h;
      h.on_head = [&fs](const response_head& head) {
        fs.on_head(head);
        return true;
      };
      h.on_data = [&](std::string_view chunk) {
        return fs.on_data(chunk, follower, handler.on_event, s.options.now());
      };
      auto step =
          fs.on_end(s.transport.stream(*req, h), follower, s.options.random(), s.options.now());
      if (step.failed) {
        return std::move(step.failed);
      }
      if (step.retry_in) {
        if (sleep_within_deadline(*step.retry_in)) {
          continue;
        }
        fs.abandon(follower, s.options.now());
      }
      return std::nullopt;
    }
  }

  std::shared_ptr<state> state_;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <random>
#include <thread>

namespace phrony::detail {

PHRONY_DECL void sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

PHRONY_DECL double random01() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

} // namespace phrony::detail
#endif
