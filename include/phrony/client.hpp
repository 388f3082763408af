// phrony: client<Transport>, the convenient calls: build the request, send it through your
// transport (with the retry policy), turn non-2xx answers into http errors, parse the body.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
  std::size_t max_error_body = 64 * 1024; ///< error bodies longer than this are cut
};

/// How a followed run ended.
struct run_outcome {
  bool completed = false; ///< true: Completed; false: Failed, Cancelled, or given up
  std::string status;     ///< last status seen (wire string)
  raw_json output{"null"};
  std::string error; ///< why, when !completed
};

/// The decisions follow_run asks the caller for. A callback left empty, or returning nullopt,
/// declines, and follow_run ends with that reason.
struct follow_handler {
  /// Answer a pending user task (approve, pick an option, give a value).
  std::function<std::optional<run_message>(const pending_user_task&)> answer_task;
  /// Text (or files) for a run that waits for a response.
  std::function<std::optional<run_message>(const std::string& run_id)> send_text;
  /// Told every step the follower takes (progress display, logging).
  std::function<void(const follow_action&)> on_action;
};

/// The calls of the Phrony API over a user-supplied transport.
template <transport Transport> class client {
public:
  client(Transport transport, api_config config, client_options options = {})
      : transport_(std::move(transport)), config_(std::move(config)), options_(std::move(options)) {
  }

  [[nodiscard]] Transport& transport() noexcept { return transport_; }
  [[nodiscard]] const api_config& config() const noexcept { return config_; }

  /// POST /v1/agents/{agentId}/runs. Not retried unless options.retry.retry_non_idempotent.
  result<start_run_response> start_run(std::string_view agent_id,
                                       std::optional<raw_json> input = std::nullopt) {
    return call<start_run_response>(start_run_request(config_, agent_id, std::move(input)),
                                    parse_start_run);
  }
  /// GET /v1/runs/{runId}.
  result<run_status> get_run(std::string_view run_id) {
    return call<run_status>(get_run_request(config_, run_id), parse_run_status);
  }
  /// GET /v1/runs/{runId}/conversation.
  result<conversation> get_conversation(std::string_view run_id,
                                        step_content content = step_content::full) {
    return call<conversation>(get_conversation_request(config_, run_id, content),
                              parse_conversation);
  }
  /// The same into `out`, reusing its storage: a poller that keeps one conversation allocates
  /// almost nothing per poll. On failure `out` is left partly read.
  result<void> get_conversation(std::string_view run_id, conversation& out,
                                step_content content = step_content::full) {
    auto response = exchange(get_conversation_request(config_, run_id, content));
    if (!response) {
      return std::move(response).error();
    }
    return parse_conversation(response->body, out);
  }
  /// GET /v1/agents/{agentId}/sessions (one page).
  result<sessions_page> list_sessions(std::string_view agent_id, const sessions_query& query = {}) {
    return call<sessions_page>(list_sessions_request(config_, agent_id, query),
                               parse_sessions_page);
  }
  /// POST /v1/runs/{runId}/messages (or /input). Not retried unless asked (see start_run).
  result<accept_response> send_message(std::string_view run_id, const run_message& message,
                                       message_route route = message_route::messages) {
    return call<accept_response>(send_message_request(config_, run_id, message, route),
                                 parse_accept);
  }
  /// POST /v1/runs/{runId}/skip-agent-wait (400 unless the run is WaitingForTimer).
  result<accept_response> skip_agent_wait(std::string_view run_id) {
    return call<accept_response>(skip_agent_wait_request(config_, run_id), parse_accept);
  }
  /// POST /v1/file-library/presign.
  result<presign_response> presign(const presign_params& params) {
    return call<presign_response>(presign_request(config_, params), parse_presign);
  }
  /// POST /v1/file-library/finalize (idempotent on the server: alreadyFinalized).
  result<finalize_response> finalize(const finalize_params& params) {
    return call<finalize_response>(finalize_request(config_, params), parse_finalize);
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
  class sessions_pager {
  public:
    /// The next page, nullopt after the last one, or the error that stopped paging.
    result<std::optional<sessions_page>> next() {
      if (done_) {
        return std::optional<sessions_page>{};
      }
      auto page = client_->list_sessions(agent_id_, query_);
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
    sessions_pager(client* c, std::string agent_id, sessions_query query)
        : client_(c), agent_id_(std::move(agent_id)), query_(std::move(query)) {}
    client* client_;
    std::string agent_id_;
    sessions_query query_;
    bool done_ = false;
  };

  /// A pager over all sessions of `agent_id` matching `query`, `page_size` rows at a time.
  sessions_pager sessions(std::string agent_id, sessions_query query = {},
                          std::int64_t page_size = 100) {
    query.take = page_size;
    return sessions_pager(this, std::move(agent_id), std::move(query));
  }

  /// Follows GET /v1/runs/{runId}/stream until the session completes, calling
  /// `on_event(const result<stream_event>&)` for each event (return false to stop: the call
  /// then returns errc::cancelled). A dropped connection is resumed with Last-Event-ID after the
  /// stream's retry delay, so no event is lost or repeated; options.max_stream_reconnects
  /// consecutive reconnects without an event end it with errc::transport.
  template <class F>
  requires streaming_transport<Transport> && std::invocable < F&, const result<stream_event>
  & > result<void> stream_events(std::string_view run_id, F&& on_event) {
    event_stream_decoder decoder;
    int fruitless = 0;
    for (int attempt = 1;; ++attempt) {
      const auto last_id = reconnect_last_event_id(decoder);
      auto req = stream_request(config_, run_id,
                                last_id ? std::optional<std::string_view>(*last_id) : std::nullopt);
      if (!req) {
        return std::move(req).error();
      }
      stream_state st;
      stream_handler handler;
      handler.on_head = [&](const response_head& head) {
        st.head = head;
        return true;
      };
      handler.on_data = [&](std::string_view chunk) {
        if (st.head.status != 200) {
          append_bounded(st.error_body, chunk);
          return true;
        }
        auto fed = decoder.feed(chunk, [&](const result<stream_event>& ev) {
          st.got_event = true;
          if (ev && ends_session(*ev)) {
            st.session_ended = true;
          }
          if (!invoke_continue(on_event, ev)) {
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
      auto res = transport_.stream(*req, handler);
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
            options_.retry.next_delay(attempt, r, true, options_.random(), options_.now());
        if (!delay) {
          return to_http_error(*req, std::move(r));
        }
        options_.sleep(*delay);
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
      fruitless = st.got_event ? 0 : fruitless + 1;
      if (fruitless > options_.max_stream_reconnects) {
        return res ? make_error(errc::transport, "", "the stream keeps ending without events")
                   : std::move(res).error();
      }
      options_.sleep(reconnect_delay(decoder, options_.stream_reconnect_fallback));
    }
  }

  /// Drives run `run_id` to its end by polling: answers user tasks and text requests through
  /// `handler`, skips timers (per `options`), and sleeps through options.sleep between polls.
  /// With options.max_duration set, it gives up (completed false, `error` says why) rather than
  /// wait past that long after the call began.
  result<run_outcome> follow_run(std::string_view run_id, const follow_handler& handler,
                                 follow_options options = {}) {
    run_follower follower{std::string(run_id), options};
    conversation polled; // read over at every poll
    const auto started = options_.now();
    for (;;) {
      const follow_action& action = follower.next();
      const bool ends =
          action.what == follow_action::kind::done || action.what == follow_action::kind::failed;
      if (!ends && options.max_duration.count() > 0 &&
          options_.now() + action.delay - started > options.max_duration) {
        return run_outcome{false, action.status, raw_json{"null"},
                           "gave up: the run did not end within follow_options::max_duration (" +
                               std::to_string(options.max_duration.count()) + " ms)"};
      }
      if (handler.on_action) {
        handler.on_action(action);
      }
      if (action.delay.count() > 0) {
        options_.sleep(action.delay);
      }
      switch (action.what) {
      case follow_action::kind::done:
      case follow_action::kind::failed:
        return run_outcome{action.what == follow_action::kind::done, action.status, action.output,
                           action.error};
      case follow_action::kind::get_status: {
        auto s = get_run(run_id);
        if (!s) {
          return std::move(s).error();
        }
        follower.on_status(*s);
        break;
      }
      case follow_action::kind::get_conversation: {
        if (auto c = get_conversation(run_id, polled, step_content::slim); !c) {
          return std::move(c).error();
        }
        follower.on_conversation(polled);
        break;
      }
      case follow_action::kind::answer_task: {
        const pending_user_task& task = *action.task;
        auto answer = handler.answer_task ? handler.answer_task(task) : std::nullopt;
        if (!answer) {
          follower.fail("no answer for user task " + task.user_task_id + " (" +
                        task.kind.value_or("unknown kind") + ")");
          break;
        }
        // A sub-agent's task is answered through the sub-agent's run.
        if (auto sent = send_message(task.run_id, *answer); !sent) {
          return std::move(sent).error();
        }
        follower.on_answered();
        break;
      }
      case follow_action::kind::send_text: {
        auto text = handler.send_text ? handler.send_text(std::string(run_id)) : std::nullopt;
        if (!text) {
          follower.fail("the run waits for a response and no text was given");
          break;
        }
        if (auto sent = send_message(run_id, *text); !sent) {
          return std::move(sent).error();
        }
        follower.on_answered();
        break;
      }
      case follow_action::kind::skip_timer: {
        auto skipped = skip_agent_wait(run_id);
        // 400 means the timer fired meanwhile: just look again.
        if (!skipped &&
            !(skipped.error().code == errc::http_status && skipped.error().status == 400)) {
          return std::move(skipped).error();
        }
        follower.on_answered();
        break;
      }
      }
    }
  }

private:
  struct stream_state {
    response_head head;
    std::string error_body;
    bool got_event = false;
    bool session_ended = false;
    bool stopped = false;
    std::optional<error> decode_error;
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

  void append_bounded(std::string& out, std::string_view chunk) const {
    const std::size_t room =
        options_.max_error_body - std::min(out.size(), options_.max_error_body);
    out.append(chunk.substr(0, room));
  }

  error to_http_error(const http_request& req, http_response r) const {
    if (r.body.size() > options_.max_error_body) {
      r.body.resize(options_.max_error_body);
    }
    const std::string* retry_after = r.header("Retry-After");
    return http_error(r.status, req, std::move(r.body),
                      retry_after ? std::optional<std::string_view>(*retry_after) : std::nullopt);
  }

  /// Sends `req` with retries; a 2xx response, or the error (http_status for other statuses).
  result<http_response> exchange(result<http_request> req) {
    if (!req) {
      return std::move(req).error();
    }
    const bool idempotent = is_idempotent(req->method);
    for (int attempt = 1;; ++attempt) {
      auto response = transport_.send(*req);
      const auto delay = options_.retry.next_delay(attempt, response, idempotent, options_.random(),
                                                   options_.now());
      if (delay) {
        options_.sleep(*delay);
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

  Transport transport_;
  api_config config_;
  client_options options_;
};

} // namespace phrony
