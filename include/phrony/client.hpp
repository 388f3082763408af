// phrony: client<Transport>, the convenient calls: build the request, send it through your
// transport (with the retry policy), turn non-2xx answers into http errors, parse the body.
#pragma once

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
#include "phrony/detail/chrono.hpp"
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

namespace detail {

/// A transport seen through plain function pointers: what the client's calls (client_core) go
/// through, so that their logic is compiled once, whatever the transport's type (in compiled
/// mode: in the library).
struct transport_ref {
  void* self = nullptr;
  result<http_response> (*send)(void* self, const http_request& req) = nullptr;
  /// nullptr when the transport does not stream.
  result<void> (*stream)(void* self, const http_request& req, const stream_handler& h) = nullptr;

  template <transport T> [[nodiscard]] static transport_ref to(T& t) noexcept {
    transport_ref r;
    r.self = &t;
    r.send = [](void* p, const http_request& req) { return static_cast<T*>(p)->send(req); };
    if constexpr (streaming_transport<T>) {
      r.stream = [](void* p, const http_request& req, const stream_handler& h) {
        return static_cast<T*>(p)->stream(req, h);
      };
    }
    return r;
  }
};

/// A callback for the events of client::stream_events, seen through a function pointer.
struct event_sink {
  void* self = nullptr;
  bool (*call)(void* self, const result<stream_event>& ev) = nullptr;
};

/// A client's config, options and follow deadline, and the logic of its calls: sending with
/// retries within the deadline, following a run (by polling or over its stream).
struct client_core {
  using time_point = std::chrono::system_clock::time_point;

  api_config config;
  client_options options;
  /// While following a run: the end of follow_options::max_duration, bounding every call.
  std::optional<time_point> deadline;
  /// The last call's timeout was the time left: its transport error means the deadline came.
  bool cut_by_deadline = false;

  /// Sends `req` through phrony::exchange's tries, each bounded by the follow deadline; a 2xx
  /// response, or the error (http_status for other statuses).
  PHRONY_LAZY PHRONY_DECL result<http_response> roundtrip(transport_ref t,
                                                          result<http_request> req);
  /// client::stream_events.
  PHRONY_LAZY PHRONY_DECL result<void> stream_events(transport_ref t, std::string_view run_id,
                                                     event_sink on_event);
  /// client::follow_run (streaming false) and client::follow_run_streaming (true).
  PHRONY_LAZY PHRONY_DECL result<run_outcome> follow(transport_ref t, std::string_view run_id,
                                                     const follow_handler& handler,
                                                     const follow_options& fo, bool streaming);

private:
  /// The bounds of one exchange and of one event stream, taken from `options`.
  [[nodiscard]] PHRONY_DECL exchange_options exchange_opts() const;
  [[nodiscard]] PHRONY_DECL stream_session_options stream_options() const;
  /// How much earlier than ours a transport's clock may end an exchange cut to the deadline.
  static constexpr std::chrono::milliseconds deadline_slack{250};

  /// The outcome when max_duration ends first; `last` is the error of a call it cut short.
  [[nodiscard]] PHRONY_DECL static run_outcome
  given_up(const run_follower& f, const follow_options& fo, const std::optional<error>& last);
  /// The time left before the follow deadline (none: no deadline), at least 0 ms while any.
  [[nodiscard]] PHRONY_DECL std::optional<std::chrono::milliseconds> time_left() const;
  /// `base` cut to the time left (0 in, 0 out, when there is no deadline); nullopt when the
  /// deadline has passed.
  [[nodiscard]] PHRONY_DECL std::optional<std::chrono::milliseconds>
  bounded_timeout(std::chrono::milliseconds base) const;
  /// Sleeps `d`, but never past the deadline; false when the deadline cut it short.
  PHRONY_DECL bool sleep_within_deadline(std::chrono::milliseconds d) const;
  /// Does the follower's current step (a call); the error of a call that failed.
  PHRONY_LAZY PHRONY_DECL std::optional<error>
  act(transport_ref t, run_follower& follower, conversation& polled, const follow_handler& handler);
  /// Reads the stream while the follower listens, feeding it the events, until it wants to act
  /// (the stream is then closed, to be resumed later), the deadline passes, or the stream is
  /// given up for polling. Only a transport cancelled by the caller is an error.
  PHRONY_LAZY PHRONY_DECL std::optional<error> listen(transport_ref t, run_follower& follower,
                                                      follow_stream& fs, const follow_options& fo,
                                                      const follow_handler& handler);
};

} // namespace detail

/// The calls of the Phrony API over a user-supplied transport. The transport, config and
/// options live on the heap, shared with the pagers the client hands out: moving the client
/// keeps them valid. Copying a client (when Transport is copyable) gives an independent one.
/// Like its transport, a client serves one thread at a time.
template <transport Transport> class client {
  struct state {
    Transport transport;
    detail::client_core core;
  };

public:
  client(Transport transport, api_config config, client_options options = {})
      : state_(std::make_shared<state>(
            state{std::move(transport), detail::client_core{std::move(config), std::move(options),
                                                            std::nullopt, false}})) {}

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
  [[nodiscard]] const api_config& config() const noexcept { return state_->core.config; }

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
    using callback = std::remove_reference_t<F>;
    const detail::event_sink sink{
        const_cast<std::remove_const_t<callback>*>(std::addressof(on_event)),
        [](void* f, const result<stream_event>& ev) {
          return stream_connection::invoke_continue(*static_cast<callback*>(f), ev);
        }};
    return state_->core.stream_events(ref(), run_id, sink);
  }

  /// Drives run `run_id` to its end by polling: answers user tasks (each at most once) and text
  /// requests through `handler`, skips timers (per `options`), waits for tasks only the
  /// dashboard completes (telling handler.on_dashboard_task once), and sleeps through
  /// options.sleep between polls. options.max_duration bounds the whole call (see there): it
  /// then returns end timed_out or waiting_for_dashboard. Errors of the calls it makes end it
  /// with that error.
  result<run_outcome> follow_run(std::string_view run_id, const follow_handler& handler,
                                 follow_options options = {}) {
    return state_->core.follow(ref(), run_id, handler, options, false);
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
    return state_->core.follow(ref(), run_id, handler, options, true);
  }

private:
  explicit client(std::shared_ptr<state> s) : state_(std::move(s)) {}

  detail::transport_ref ref() { return detail::transport_ref::to(state_->transport); }

  result<http_response> roundtrip(result<http_request> req) {
    return state_->core.roundtrip(ref(), std::move(req));
  }

  template <class T> result<T> call(api_call<T> c) {
    return c.finish(roundtrip(std::move(c.request)));
  }

  std::shared_ptr<state> state_;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>
#include <random>
#include <thread>

namespace phrony::detail {

PHRONY_DECL void sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

PHRONY_DECL double random01() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

PHRONY_DECL exchange_options client_core::exchange_opts() const {
  return {options.retry, options.max_error_body, options.max_response_body};
}

PHRONY_DECL stream_session_options client_core::stream_options() const {
  return {options.retry, options.max_stream_reconnects, options.stream_reconnect_fallback,
          options.max_stream_retry, options.max_error_body};
}

PHRONY_DECL std::optional<std::chrono::milliseconds> client_core::time_left() const {
  if (!deadline) {
    return std::nullopt;
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - options.now());
  return std::max(left, std::chrono::milliseconds{0});
}

PHRONY_DECL std::optional<std::chrono::milliseconds>
client_core::bounded_timeout(std::chrono::milliseconds base) const {
  const auto left = time_left();
  if (!left) {
    return base;
  }
  if (left->count() <= 0) {
    return std::nullopt;
  }
  return base.count() > 0 ? std::min(base, *left) : *left;
}

PHRONY_DECL bool client_core::sleep_within_deadline(std::chrono::milliseconds d) const {
  const auto left = time_left();
  if (left && *left <= d) {
    if (left->count() > 0) {
      options.sleep(*left);
    }
    return false;
  }
  options.sleep(d);
  return true;
}

PHRONY_LAZY_DEF PHRONY_DECL result<void>
client_core::stream_events(transport_ref t, std::string_view run_id, event_sink on_event) {
  event_stream_session session(config, std::string(run_id), stream_options());
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
    handler.on_data = [&session, on_event](std::string_view chunk) {
      return session.on_data(chunk, [on_event](const result<stream_event>& ev) {
        return on_event.call(on_event.self, ev);
      });
    };
    auto step = session.on_end(t.stream(t.self, *req, handler), options.random(), options.now());
    if (!step.reconnect_in) {
      return std::move(step.outcome);
    }
    options.sleep(*step.reconnect_in);
  }
}

PHRONY_LAZY_DEF PHRONY_DECL result<http_response> client_core::roundtrip(transport_ref t,
                                                                         result<http_request> req) {
  if (!req) {
    return std::move(req).error();
  }
  phrony::exchange ex(std::move(*req), config, exchange_opts());
  for (;;) {
    const auto timeout = bounded_timeout(options.request_timeout);
    if (!timeout) {
      return make_error(errc::transport, "",
                        "follow_options::max_duration ended before " + ex.request().method + " " +
                            ex.request().route() + " was sent");
    }
    ex.request().timeout = *timeout;
    cut_by_deadline = deadline && *timeout != options.request_timeout;
    auto step = ex.on_response(t.send(t.self, ex.request()), options.random(), options.now());
    if (!step.retry_in || !sleep_within_deadline(*step.retry_in)) {
      return std::move(step.outcome);
    }
  }
}

PHRONY_DECL run_outcome client_core::given_up(const run_follower& f, const follow_options& fo,
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

PHRONY_LAZY_DEF PHRONY_DECL result<run_outcome>
client_core::follow(transport_ref t, std::string_view run_id, const follow_handler& handler,
                    const follow_options& fo, bool streaming) {
  streaming = streaming && t.stream != nullptr;
  run_follower follower{std::string(run_id), fo};
  conversation polled; // read over at every poll
  follow_stream stream(config, std::string(run_id), stream_options());
  struct deadline_scope { // sets the follow deadline for the calls made while it lives
    client_core& core;
    std::optional<time_point> saved;
    ~deadline_scope() { core.deadline = saved; }
  } const scope{*this, deadline};
  deadline =
      fo.max_duration.count() > 0 ? std::optional(options.now() + fo.max_duration) : std::nullopt;
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
      if (auto failed = listen(t, follower, stream, fo, handler)) {
        return std::move(*failed);
      }
      continue;
    }
    if (action.delay.count() > 0) {
      options.sleep(action.delay);
    }
    if (auto failed = act(t, follower, polled, handler)) {
      // A transport's clock may end the exchange a little before ours says the time is up.
      if (const auto left = time_left();
          left && (left->count() <= 0 || (failed->code == errc::transport && cut_by_deadline &&
                                          *left <= deadline_slack))) {
        return given_up(follower, fo, failed);
      }
      return std::move(*failed);
    }
  }
}

PHRONY_LAZY_DEF PHRONY_DECL std::optional<error> client_core::act(transport_ref t,
                                                                  run_follower& follower,
                                                                  conversation& polled,
                                                                  const follow_handler& handler) {
  auto req = follow_request(follower, handler, config);
  if (!req) {
    return std::nullopt;
  }
  return follow_apply(follower, roundtrip(t, std::move(*req)), polled);
}

PHRONY_LAZY_DEF PHRONY_DECL std::optional<error>
client_core::listen(transport_ref t, run_follower& follower, follow_stream& fs,
                    const follow_options& fo, const follow_handler& handler) {
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
      fs.abandon(follower, options.now());
      return std::nullopt;
    }
    req->timeout = *timeout;
    stream_handler h;
    h.on_head = [&fs](const response_head& head) {
      fs.on_head(head);
      return true;
    };
    h.on_data = [&](std::string_view chunk) {
      return fs.on_data(chunk, follower, handler.on_event, options.now());
    };
    auto step = fs.on_end(t.stream(t.self, *req, h), follower, options.random(), options.now());
    if (step.failed) {
      return std::move(step.failed);
    }
    if (step.retry_in) {
      if (sleep_within_deadline(*step.retry_in)) {
        continue;
      }
      fs.abandon(follower, options.now());
    }
    return std::nullopt;
  }
}

} // namespace phrony::detail
#endif
