// Fuzzes the sans-IO protocol logic of exchange.hpp with FuzzedDataProvider-chosen sequences.
//
// exchange: every endpoint's request (GET, POST and the other methods) through tries whose
// outcomes (status, Retry-After, body, transport error) and retry_policy / exchange_options the
// input chooses. A POST is retried only when the policy allows it, a wait never exceeds the
// policy's caps, tries are bounded by max_attempts, a 2xx ends the exchange as it came, other
// statuses are http_status errors carrying the status with a bounded body, a body over
// max_response_body is limit_exceeded, and no error holds the API key.
//
// event_stream_session: connections (heads, refusals with Retry-After, SSE bodies with ids and
// retry: fields, drops) until it ends. Every request carries the key only in its auth header
// and, as Last-Event-ID, the last event id the stream set; a reconnect waits at most max_retry
// (a refused one the policy's caps); fruitless reconnects are bounded by max_reconnects and
// refusals in a row by max_attempts; the session-ending event ends it with success.
#include <phrony/exchange.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "FuzzedDataProvider.h"
#include "flow_fuzz.hpp"
#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;
using std::chrono::milliseconds;

const std::string run_id = "c98cd9df-f9ef-4b3c-b11e-281cf7ab62a8";
const std::string agent_id = "7b87a9e2-5fef-4911-bf22-a27b02c7bff2";

/// A call of some endpoint (or another method): its request, a well-formed 2xx body, and
/// api_call::finish of an outcome (as a result<void>).
struct call {
  phrony::result<phrony::http_request> request;
  std::string good;
  std::function<phrony::result<void>(const phrony::result<phrony::http_response>&)> finish;
};

template <class T> call make_call(phrony::api_call<T> c, std::string good) {
  auto req = c.request;
  return {std::move(req), std::move(good),
          [c = std::move(c)](const phrony::result<phrony::http_response>& o) {
            auto r = c.finish(o);
            return r ? phrony::result<void>{} : phrony::result<void>(std::move(r).error());
          }};
}

call request_of(FuzzedDataProvider& in) {
  namespace calls = phrony::calls;
  const auto& cfg = phrony_fuzz::fuzz_config;
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
  case 0:
    return make_call(calls::get_run(cfg, run_id),
                     R"({"runId":")" + run_id + R"(","status":"Running","output":null})");
  case 1: return make_call(calls::get_conversation(cfg, run_id, phrony::step_content::slim), "{}");
  case 2: return make_call(calls::list_sessions(cfg, agent_id, {}), R"({"items":[]})");
  case 3:
    return make_call(calls::start_run(cfg, agent_id, phrony::raw_json{R"({"a":1})"}),
                     R"({"sessionId":"s","runId":")" + run_id +
                         R"(","status":"Running","totalTokensUsed":0,"output":null})");
  case 4:
    return make_call(calls::send_message(cfg, run_id, phrony::run_message::chat("hi")),
                     R"({"status":"Running"})");
  case 5: return make_call(calls::skip_agent_wait(cfg, run_id), "");
  case 6: return {phrony::stream_request(cfg, run_id), "", nullptr};
  case 7:
    return make_call(calls::presign(cfg, {"f.pdf", "application/pdf", 1024}),
                     R"({"uploadUrl":"https://b.example.test/u","objectKey":"k"})");
  case 8: return make_call(calls::finalize(cfg, {"k", 1024, std::nullopt, std::nullopt}), "{}");
  default: {
    static constexpr std::array<std::string_view, 6> methods = {"HEAD",    "PUT",   "DELETE",
                                                                "OPTIONS", "PATCH", "post"};
    auto req = phrony::get_run_request(cfg, run_id);
    req->method =
        std::string(methods[in.ConsumeIntegralInRange<std::size_t>(0, methods.size() - 1)]);
    return {std::move(req), "{}", nullptr};
  }
  }
}

void fuzz_exchange(FuzzedDataProvider& in) {
  const auto opts = phrony_fuzz::exchange_options_from(in);
  auto [req, good, finish] = request_of(in);
  check(req.has_value(), "a valid request builds");
  phrony_fuzz::check_key_only_in_auth(*req);
  const std::size_t own_bound =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(1, 1024) : 0;
  req->max_response_body = own_bound;
  const std::string method = req->method;
  phrony::exchange ex(std::move(*req), phrony_fuzz::fuzz_config, opts);
  check(ex.request().max_response_body == (own_bound != 0 ? own_bound : opts.max_response_body),
        "the request gets the options' body bound unless it has one");
  const auto now = phrony_fuzz::t0 + milliseconds(in.ConsumeIntegralInRange<int>(0, 1 << 30));
  for (int i = 0; i < 8; ++i) {
    auto response = phrony_fuzz::outcome(in, good, in.ConsumeIntegral<std::uint8_t>());
    const auto copy = response;
    const auto s =
        ex.on_response(std::move(response), in.ConsumeProbability<double>() * 0.999, now);
    check(ex.tries() == i + 1, "each response is a try");
    phrony_fuzz::check_step(s, copy, method, ex.tries(), opts);
    if (!s.retry_in) {
      if (finish) {
        const auto value = finish(s.outcome);
        check(s.outcome || (!value && value.error() == s.outcome.error()),
              "a call's value is its exchange's error");
      }
      return;
    }
  }
  check(false, "an exchange ends within max_attempts tries"); // max_attempts <= 5 here
}

/// One SSE event: maybe an id (or an empty id, which clears it) and a retry: field, then data
/// of some kind. `id` is set to the id this event leaves when it is dispatched.
std::string sse_event(FuzzedDataProvider& in, std::optional<std::string>& id, bool& ends) {
  std::string out;
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
  case 0:
    id = "e" + std::to_string(in.ConsumeIntegralInRange<int>(0, 999));
    out += "id: " + *id + "\n";
    break;
  case 1:
    id = "";
    out += "id\n";
    break;
  default: id.reset();
  }
  if (in.ConsumeIntegralInRange<int>(0, 2) == 0) {
    out += "retry: " + std::to_string(in.ConsumeIntegral<std::uint32_t>()) + "\n";
  }
  static constexpr std::array<std::string_view, 5> subjects = {
      "engine.step.reasoning", "engine.run.started", "engine.session.completed",
      "engine.session.started", "engine.other"};
  const auto subject = subjects[in.ConsumeIntegralInRange<std::size_t>(0, subjects.size() - 1)];
  const bool session = subject.starts_with("engine.session");
  std::string status = in.ConsumeBool() ? "Running" : in.ConsumeBool() ? "Failed" : "Completed";
  ends = session && (subject == "engine.session.completed" || status != "Running");
  out += R"(data: {"ts":"2026-05-13T12:52:33.138Z","kind":")" +
         std::string(session ? "session" : "step") + R"(","subject":")" + std::string(subject) +
         R"(","data":{"status":")" + status + "\"}}\n\n";
  return out;
}

void fuzz_session(FuzzedDataProvider& in) {
  phrony::stream_session_options o;
  o.retry = phrony_fuzz::exchange_options_from(in).retry;
  o.max_reconnects = in.ConsumeIntegralInRange<int>(0, 4);
  o.reconnect_fallback = milliseconds(in.ConsumeIntegralInRange<int>(-10, 5000));
  o.max_retry = milliseconds(in.ConsumeIntegralInRange<int>(0, 60'000));
  o.max_error_body = in.ConsumeIntegralInRange<std::size_t>(0, 512);
  phrony::event_stream_session session(phrony_fuzz::fuzz_config, run_id, o);
  std::string last_id; // the last event id the stream set ("" when none or cleared)
  bool exact = true;   // every byte fed came from sse_event (raw bytes may set ids too)
  int fruitless = 0;
  bool session_over = false; // an event ending the session was delivered (it stays so)
  int refusals = 0;
  const auto now = phrony_fuzz::t0;
  for (int connection = 0; connection < 24; ++connection) {
    auto req = session.request();
    check(req.has_value(), "the stream request builds");
    phrony_fuzz::check_key_only_in_auth(*req);
    const std::string* sent = req->header("Last-Event-ID");
    const auto want = phrony::reconnect_last_event_id(session.decoder());
    check((sent != nullptr) == want.has_value() && (!sent || *sent == *want),
          "Last-Event-ID is the decoder's last event id");
    if (exact) {
      check(sent ? *sent == last_id : last_id.empty(), "Last-Event-ID is the last id seen");
    }
    const int shape = in.ConsumeIntegralInRange<int>(0, 5);
    bool refused = false;
    bool got_bytes = false;
    bool got_event = false;
    bool stopped = false;
    phrony::result<void> end;
    if (shape == 5) { // the connection failed before a head
      end = phrony::make_error(phrony::errc::transport, "", "connection refused");
    } else {
      phrony::response_head head;
      head.status = shape == 4 ? phrony_fuzz::statuses[in.ConsumeIntegralInRange<std::size_t>(
                                     0, phrony_fuzz::statuses.size() - 1)]
                               : 200;
      if (in.ConsumeBool()) {
        head.headers.push_back({"Retry-After", phrony_fuzz::retry_after_value(in)});
      }
      refused = head.status != 200;
      session.on_head(head);
      const int pieces = in.ConsumeIntegralInRange<int>(0, 4);
      for (int p = 0; p < pieces && !stopped; ++p) {
        std::string chunk;
        std::optional<std::string> id;
        bool ends = false;
        if (in.ConsumeIntegralInRange<int>(0, 9) == 9) {
          chunk = in.ConsumeRandomLengthString(64);
          if (chunk.starts_with("~")) { // a line past sse_limits::max_line: the body fails
            chunk = ":" + std::string(std::size_t{70} << 10, 'x');
          }
          exact = exact && refused;
        } else if (refused && in.ConsumeBool()) {
          chunk = R"({"message":"slow down )" + phrony_fuzz::api_key + "\"}";
        } else {
          chunk = sse_event(in, id, ends);
        }
        got_bytes = got_bytes || (!refused && !chunk.empty());
        const bool stop = in.ConsumeIntegralInRange<int>(0, 15) == 15;
        int events = 0;
        bool ending = false; // an event delivered ends the session
        const bool more =
            session.on_data(chunk, [&](const phrony::result<phrony::stream_event>& ev) {
              ++events;
              ending = ending || (ev && phrony::ends_session(*ev));
              return !stop;
            });
        if (refused) {
          check(more && events == 0, "a refused connection's body is kept, not decoded");
          continue;
        }
        got_event = got_event || events > 0;
        if (stop && events > 0) {
          check(!more, "a stop asked stops reading");
          stopped = true;
          break;
        }
        if (!more) { // the body does not decode
          stopped = true;
          exact = false;
          break;
        }
        if (exact && id) {
          last_id = *id;
        }
        if (exact) { // else raw bytes fed before may have merged with this event
          check(ending == (ends && events > 0), "the session-ending event is the one sent");
        }
        session_over = session_over || ending;
      }
      switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 1: end = phrony::make_error(phrony::errc::transport, "", "connection reset"); break;
      case 2: end = phrony::make_error(phrony::errc::cancelled, "", "cancelled"); break;
      default: break;
      }
    }
    const bool cancelled = !end && end.error().code == phrony::errc::cancelled;
    const auto step = session.on_end(end, in.ConsumeProbability<double>() * 0.999, now);
    if (!step.outcome) {
      phrony_fuzz::check_keyless(step.outcome.error());
    }
    if (stopped) {
      check(!step.reconnect_in, "a stopped stream does not reconnect");
      return;
    }
    if (step.reconnect_in) {
      check(step.reconnect_in->count() >= 0, "a reconnect wait is never negative");
      check(!session_over, "the session's end is not followed by a reconnect");
      check(!cancelled, "a cancelled stream does not reconnect");
    }
    if (!cancelled && end && refused) {
      ++refusals;
      check(refusals < std::max(o.retry.max_attempts, 1) || !step.reconnect_in,
            "refusals in a row are bounded by max_attempts");
      if (step.reconnect_in) {
        check(*step.reconnect_in <=
                  std::max<milliseconds>(o.retry.max_retry_after, o.retry.max_delay),
              "a refused stream waits within the policy's caps");
      } else {
        check(!step.outcome && step.outcome.error().code == phrony::errc::http_status &&
                  step.outcome.error().body.size() <= o.max_error_body,
              "a refusal given up is an http_status error with a bounded body");
      }
    } else if (!cancelled) {
      if (session_over) {
        check(!step.reconnect_in && step.outcome.has_value(), "the session's end ends it");
        return;
      }
      if (got_bytes) {
        refusals = 0;
      }
      fruitless = got_event ? 0 : fruitless + 1;
      check((fruitless > o.max_reconnects) != step.reconnect_in.has_value(),
            "fruitless reconnects are bounded by max_reconnects");
      if (step.reconnect_in) {
        check(*step.reconnect_in <= std::max(o.max_retry, milliseconds(0)),
              "a reconnect waits at most max_retry");
      }
    }
    if (!step.reconnect_in) {
      return;
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    fuzz_session(in);
  } else {
    fuzz_exchange(in);
  }
  return 0;
}
