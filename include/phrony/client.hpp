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
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "phrony/conversation.hpp"
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

/// The client's clock, randomness and limits. Tests replace sleep/now/random to run instantly.
struct client_options {
  retry_policy retry;
  std::function<void(std::chrono::milliseconds)> sleep = [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
  };
  std::function<double()> random = [] {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
  };
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
    return call<start_run_response>(start_run_request(config(), agent_id, std::move(input)),
                                    parse_start_run);
  }
  /// GET /v1/runs/{runId}.
  result<run_status> get_run(std::string_view run_id) {
    return call<run_status>(get_run_request(config(), run_id), parse_run_status);
  }
  /// GET /v1/runs/{runId}/conversation.
  result<conversation> get_conversation(std::string_view run_id,
                                        step_content content = step_content::full) {
    return call<conversation>(get_conversation_request(config(), run_id, content),
                              parse_conversation);
  }
  /// The same into `out`, reusing its storage: a poller that keeps one conversation allocates
  /// almost nothing per poll. On failure `out` is left partly read.
  result<void> get_conversation(std::string_view run_id, conversation& out,
                                step_content content = step_content::full) {
    auto response = exchange(get_conversation_request(config(), run_id, content));
    if (!response) {
      return std::move(response).error();
    }
    return parse_conversation(response->body, out);
  }
  /// GET /v1/agents/{agentId}/sessions (one page).
  result<sessions_page> list_sessions(std::string_view agent_id, const sessions_query& query = {}) {
    return call<sessions_page>(list_sessions_request(config(), agent_id, query),
                               parse_sessions_page);
  }
  /// POST /v1/runs/{runId}/messages (or /input). Not retried unless asked (see start_run).
  result<accept_response> send_message(std::string_view run_id, const run_message& message,
                                       message_route route = message_route::messages) {
    return call<accept_response>(send_message_request(config(), run_id, message, route),
                                 parse_accept);
  }
  /// POST /v1/runs/{runId}/skip-agent-wait (400 unless the run is WaitingForTimer).
  result<accept_response> skip_agent_wait(std::string_view run_id) {
    return call<accept_response>(skip_agent_wait_request(config(), run_id), parse_accept);
  }
  /// POST /v1/file-library/presign.
  result<presign_response> presign(const presign_params& params) {
    return call<presign_response>(presign_request(config(), params), parse_presign);
  }
  /// POST /v1/file-library/finalize (idempotent on the server: alreadyFinalized).
  result<finalize_response> finalize(const finalize_params& params) {
    return call<finalize_response>(finalize_request(config(), params), parse_finalize);
  }

  /// Presign, PUT the bytes to the upload URL with every required header, finalize: the
  /// reference to put into a run's input (input_value()) or a message's files.
  result<file_ref> upload_file(std::string filename, std::string media_type, std::string bytes) {
    const auto size = static_cast<std::int64_t>(bytes.size());
    auto presigned = presign(presign_params{filename, media_type, size});
    if (!presigned) {
      return std::move(presigned).error();
    }
    auto put = exchange(upload_request(*presigned, std::move(bytes)));
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
    event_stream_decoder decoder;
    int fruitless = 0;
    int failures = 0; // failed tries since the last connection that delivered bytes
    for (;;) {
      const auto last_id = reconnect_last_event_id(decoder);
      auto req = stream_request(s.config, run_id,
                                last_id ? std::optional<std::string_view>(*last_id) : std::nullopt);
      if (!req) {
        return std::move(req).error();
      }
      stream_state st;
      const stream_handler handler = feed_handler(st, decoder, [&](const result<stream_event>& ev) {
        st.got_event = true;
        if (ev && ends_session(*ev)) {
          st.session_ended = true;
        }
        return invoke_continue(on_event, ev);
      });
      auto res = s.transport.stream(*req, handler);
      if (st.stopped) {
        return make_error(errc::cancelled, "", "stream stopped by the caller");
      }
      if (st.decode_error) {
        return std::move(*st.decode_error);
      }
      if (res && st.head.status != 200) {
        http_response r;
        static_cast<response_head&>(r) = st.head;
        r.body = std::move(st.error_body);
        const auto delay =
            s.options.retry.next_delay(++failures, r, true, s.options.random(), s.options.now());
        if (!delay) {
          return to_http_error(*req, std::move(r), st.error_body_cut);
        }
        s.options.sleep(*delay);
        continue;
      }
      if (!res && res.error().code == errc::cancelled) {
        return std::move(res).error();
      }
      // The connection ended: the stream's unterminated last event is dropped, ids are kept.
      (void)decoder.finish();
      if (st.session_ended) {
        return {};
      }
      if (st.got_bytes) {
        failures = 0;
      }
      fruitless = st.got_event ? 0 : fruitless + 1;
      if (fruitless > s.options.max_stream_reconnects) {
        return res ? make_error(errc::transport, "", "the stream keeps ending without events")
                   : std::move(res).error();
      }
      s.options.sleep(stream_retry_delay(decoder));
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

  struct stream_state {
    response_head head;
    std::string error_body;
    bool error_body_cut = false; // more arrived than error_body kept
    bool got_bytes = false;
    bool got_event = false;
    bool session_ended = false;
    bool stopped = false; ///< our on_event asked to stop
    std::optional<error> decode_error;
  };

  /// The stream of follow_run_streaming, kept across its connections.
  struct follow_stream {
    event_stream_decoder decoder;
    bool usable = false;  ///< false: following by polling
    bool resumes = false; ///< the last connection ended on its own: wait the stream's retry
    int failures = 0;     ///< failed connections since the last one that delivered bytes
  };

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

  static bool ends_session(const stream_event& e) {
    return e.kind_enum() == event_kind::session &&
           (e.subject == "engine.session.completed" ||
            (e.status && is_terminal(parse_run_state(*e.status))));
  }

  template <class F> static bool invoke_continue(F& f, const result<stream_event>& ev) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const result<stream_event>&>>) {
      f(ev);
      return true;
    } else {
      return static_cast<bool>(f(ev));
    }
  }

  std::chrono::milliseconds stream_retry_delay(const event_stream_decoder& d) const {
    return std::min(reconnect_delay(d, state_->options.stream_reconnect_fallback),
                    state_->options.max_stream_retry);
  }

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

  /// The handler of one stream connection: a 200 body goes to `decoder`, whose events go to
  /// `on_event` (returning false stops the stream: st.stopped), any other body is kept, bounded,
  /// in st.error_body.
  template <class F>
  stream_handler feed_handler(stream_state& st, event_stream_decoder& decoder, F on_event) const {
    stream_handler h;
    h.on_head = [&st](const response_head& head) {
      st.head = head;
      return true;
    };
    h.on_data = [this, &st, &decoder, on_event](std::string_view chunk) mutable {
      if (st.head.status != 200) {
        append_bounded(st, chunk);
        return true;
      }
      st.got_bytes = st.got_bytes || !chunk.empty();
      auto fed = decoder.feed(chunk, [&](const result<stream_event>& ev) {
        if (!on_event(ev)) {
          st.stopped = true;
          return false;
        }
        return true;
      });
      if (!fed && !st.stopped) {
        st.decode_error = std::move(fed).error();
      }
      return fed.has_value();
    };
    return h;
  }

  void append_bounded(stream_state& st, std::string_view chunk) const {
    // Room for a key straddling the bound, which to_http_error scrubs before it cuts.
    const std::size_t keep = state_->options.max_error_body + state_->config.api_key.size();
    const std::size_t room = keep - std::min(st.error_body.size(), keep);
    st.error_body_cut = st.error_body_cut || chunk.size() > room;
    st.error_body.append(chunk.substr(0, room));
  }

  /// `more_follows`: r.body is a bounded read of a longer body (a secret's beginning at its end
  /// is dropped too).
  error to_http_error(const http_request& req, http_response r, bool more_follows = false) const {
    r.body = detail::scrub_then_cut(r.body, state_->config.api_key, state_->options.max_error_body,
                                    more_follows)
                 .text;
    const std::string* retry_after = r.header("Retry-After");
    return http_error(r.status, req, std::move(r.body),
                      retry_after ? std::optional<std::string_view>(*retry_after) : std::nullopt);
  }

  /// Sends `req` with retries; a 2xx response, or the error (http_status for other statuses).
  result<http_response> exchange(result<http_request> req) {
    if (!req) {
      return std::move(req).error();
    }
    state& s = *state_;
    if (req->max_response_body == 0) {
      req->max_response_body = s.options.max_response_body;
    }
    const bool idempotent = is_idempotent(req->method);
    for (int attempt = 1;; ++attempt) {
      const auto timeout = bounded_timeout(s.options.request_timeout);
      if (!timeout) {
        return make_error(errc::transport, "",
                          "follow_options::max_duration ended before " + req->method + " " +
                              req->route() + " was sent");
      }
      req->timeout = *timeout;
      s.cut_by_deadline = s.deadline && *timeout != s.options.request_timeout;
      auto response = s.transport.send(*req);
      if (response && s.options.max_response_body > 0 &&
          response->body.size() > s.options.max_response_body) {
        // The transport should have stopped reading; the bound holds all the same.
        return make_error(errc::limit_exceeded, "",
                          "the response body of " + req->method + " " + req->route() +
                              " is longer than client_options::max_response_body (" +
                              std::to_string(s.options.max_response_body) + " bytes)");
      }
      const auto delay = s.options.retry.next_delay(attempt, response, idempotent,
                                                    s.options.random(), s.options.now());
      if (delay && sleep_within_deadline(*delay)) {
        continue;
      }
      if (!response) {
        return std::move(response).error();
      }
      if (response->status < 200 || response->status > 299) {
        return to_http_error(*req, std::move(*response));
      }
      return response;
    }
  }

  template <class T> result<T> call(result<http_request> req, detail::body_parser<T> parse) {
    auto response = exchange(std::move(req));
    if (!response) {
      return std::move(response).error();
    }
    return parse(response->body);
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
    follow_stream stream;
    stream.usable = streaming;
    const deadline_scope scope(s, fo.max_duration.count() > 0
                                      ? std::optional(s.options.now() + fo.max_duration)
                                      : std::nullopt);
    for (;;) {
      const follow_action& action = follower.next();
      const bool ends =
          action.what == follow_action::kind::done || action.what == follow_action::kind::failed;
      const bool listens = stream.usable && action.listen;
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
        run_outcome o;
        o.completed = action.what == follow_action::kind::done;
        o.end = action.end;
        o.status = action.status;
        o.output = action.output;
        o.error = action.error;
        return o;
      }
      if (action.what == follow_action::kind::wait_for_dashboard && handler.on_dashboard_task) {
        handler.on_dashboard_task(*action.task);
      }
      if (listens) {
        if constexpr (streaming_transport<Transport>) {
          if (auto failed = listen(run_id, follower, stream, fo, handler)) {
            return std::move(*failed);
          }
          continue;
        }
      }
      if (action.delay.count() > 0) {
        s.options.sleep(action.delay);
      }
      if (auto failed = act(run_id, follower, polled, handler)) {
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
  std::optional<error> act(std::string_view run_id, run_follower& follower, conversation& polled,
                           const follow_handler& handler) {
    const follow_action& action = follower.next();
    switch (action.what) {
    case follow_action::kind::get_status:
    case follow_action::kind::wait_for_dashboard: {
      auto st = get_run(run_id);
      if (!st) {
        return std::move(st).error();
      }
      follower.on_status(*st);
      return std::nullopt;
    }
    case follow_action::kind::get_conversation: {
      if (auto c = get_conversation(run_id, polled, step_content::slim); !c) {
        return std::move(c).error();
      }
      follower.on_conversation(polled);
      return std::nullopt;
    }
    case follow_action::kind::answer_task: {
      const pending_user_task& task = *action.task;
      auto answer = handler.answer_task ? handler.answer_task(task) : std::nullopt;
      if (!answer) {
        follower.fail("no answer for user task " + task.user_task_id + " (" +
                      task.kind.value_or("unknown kind") + ")");
        return std::nullopt;
      }
      // A sub-agent's task is answered through the sub-agent's run.
      if (auto sent = send_message(task.run_id, *answer); !sent) {
        return std::move(sent).error();
      }
      follower.on_answered();
      return std::nullopt;
    }
    case follow_action::kind::send_text: {
      auto text = handler.send_text ? handler.send_text(std::string(run_id)) : std::nullopt;
      if (!text) {
        follower.fail("the run waits for a response and no text was given");
        return std::nullopt;
      }
      if (auto sent = send_message(run_id, *text); !sent) {
        return std::move(sent).error();
      }
      follower.on_answered();
      return std::nullopt;
    }
    case follow_action::kind::skip_timer: {
      auto skipped = skip_agent_wait(run_id);
      // 400 means the timer fired meanwhile: just look again.
      if (!skipped &&
          !(skipped.error().code == errc::http_status && skipped.error().status == 400)) {
        return std::move(skipped).error();
      }
      follower.on_answered();
      return std::nullopt;
    }
    case follow_action::kind::done:
    case follow_action::kind::failed: break;
    }
    return std::nullopt;
  }

  /// Reads the stream while the follower listens, feeding it the events, until it wants to act
  /// (the stream is then closed, to be resumed later), the deadline passes, or the stream is
  /// given up for polling. Only a transport cancelled by the caller is an error.
  std::optional<error>
  listen(std::string_view run_id, run_follower& follower, follow_stream& fs,
         const follow_options& fo,
         const follow_handler& handler) requires streaming_transport<Transport> {
    state& s = *state_;
    for (;;) {
      if (std::exchange(fs.resumes, false) &&
          !sleep_within_deadline(stream_retry_delay(fs.decoder))) {
        return std::nullopt;
      }
      const auto timeout = bounded_timeout(fo.idle_timeout);
      if (!timeout) {
        return std::nullopt;
      }
      const auto last_id = reconnect_last_event_id(fs.decoder);
      auto req = stream_request(s.config, run_id,
                                last_id ? std::optional<std::string_view>(*last_id) : std::nullopt);
      if (!req) {
        fs.usable = false;
        follower.on_stream_gap(s.options.now());
        return std::nullopt;
      }
      req->timeout = *timeout;
      stream_state st;
      const stream_handler h = feed_handler(st, fs.decoder, [&](const result<stream_event>& ev) {
        if (handler.on_event) {
          handler.on_event(ev);
        }
        return !(ev && follower.on_event(*ev, s.options.now())); // stop: the follower looks
      });
      auto res = s.transport.stream(*req, h);
      (void)fs.decoder.finish();
      if (st.stopped) {
        // Without event ids a new connection cannot resume where this one stopped.
        fs.usable = !fs.decoder.last_event_id().empty();
        fs.failures = 0;
        return std::nullopt;
      }
      // The transport reports our own stop after a decode error as cancelled too.
      if (!res && res.error().code == errc::cancelled && !st.decode_error) {
        return std::move(res).error();
      }
      if (res && st.head.status != 200) {
        http_response r;
        static_cast<response_head&>(r) = st.head;
        const auto delay =
            s.options.retry.next_delay(++fs.failures, r, true, s.options.random(), s.options.now());
        if (delay && sleep_within_deadline(*delay)) {
          continue;
        }
        fs.usable = false; // polling surfaces a lasting error itself
      } else if (st.decode_error) {
        fs.usable = false;
      } else {
        // Ended by the server, a drop, or the idle bound: what did we miss?
        fs.failures = st.got_bytes ? 0 : fs.failures + 1;
        fs.usable = fs.failures <= s.options.max_stream_reconnects;
        fs.resumes = true;
      }
      follower.on_stream_gap(s.options.now());
      return std::nullopt;
    }
  }

  std::shared_ptr<state> state_;
};

} // namespace phrony
