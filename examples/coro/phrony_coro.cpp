// phrony-coro: phrony-run on an asynchronous stack. One thread runs one Boost.Asio io_context;
// C++20 coroutines (asio::awaitable) start runs, follow them (polling, or reading the run's event
// stream with reconnection), answer their tasks from the command line and print the timeline
// phrony-run prints. Boost.Beast speaks HTTP/1.1 over TCP (http:// bases) or TLS (https://,
// OpenSSL, certificate and host-name verification on).
//
//   phrony-coro [--base URL] [--key KEY] --agent ID [--input JSON] [--approve | --reject]
//               [--option ID] [--text TEXT] [--number N] [--stream | --poll]
//               [--timeout SECONDS] [--ca-file PEM] [--runs N] [--help] [--version]
//
// phrony decides everything through its sans-IO layer (phrony/exchange.hpp): the requests, what
// an answer means (status -> http_error with Retry-After, body -> value), whether and when to
// retry, what a stream event means, when to reconnect and what to do next (run_follower). This
// file and net.hpp only move bytes and run the timers, as docs/async.md describes.
#include "common/timeline.hpp"
#include "net.hpp"

#include <phrony/exchange.hpp>
#include <phrony/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace {

using namespace phrony_coro;
using phrony_examples::answers;
using phrony_examples::printable;
using phrony_examples::timeline;
using std::chrono::milliseconds;

struct options {
  phrony::api_config api;
  std::string agent_id;
  std::optional<phrony::raw_json> input;
  answers given;
  bool stream = true;
  std::chrono::seconds timeout{600}; // 0: none
  std::string ca_file;
  int runs = 1;
};

/// What the runs share: options, the network environment, the clock and randomness.
struct app {
  app(const options& opts, io_env e) : o(opts), env(e) {}

  const options& o;
  io_env env;
  phrony::exchange_options exchange;
  phrony::follow_options follow;
  milliseconds request_timeout{60'000};
  std::string stopped_by; ///< why everything was stopped: "--timeout (N s)" or the signal
  std::mt19937_64 random{std::random_device{}()};

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }
  static std::chrono::system_clock::time_point now() { return std::chrono::system_clock::now(); }
  [[nodiscard]] bool stopped() const { return env.stop.stopped(); }
};

phrony::error stopped_error(const app& a) {
  return phrony::make_error(phrony::errc::cancelled, "", "stopped by " + a.stopped_by);
}

/// One request through its retries (phrony's exchange decides; we send and wait).
awaitable<phrony::result<phrony::http_response>>
exchange_all(app& a, phrony::result<phrony::http_request> req) {
  if (!req) {
    co_return std::move(req).error();
  }
  phrony::exchange ex(std::move(*req), a.o.api, a.exchange);
  for (;;) {
    ex.request().timeout = a.request_timeout;
    auto response = co_await phrony_coro::send(a.env, ex.request());
    if (a.stopped()) {
      co_return stopped_error(a);
    }
    auto step = ex.on_response(std::move(response), a.random01(), app::now());
    if (!step.retry_in) {
      co_return std::move(step.outcome);
    }
    if (!co_await sleep_for(a.env, *step.retry_in)) {
      co_return stopped_error(a);
    }
  }
}

template <class T> awaitable<phrony::result<T>> call(app& a, phrony::api_call<T> c) {
  const auto outcome = co_await exchange_all(a, std::move(c.request));
  co_return c.finish(outcome);
}

/// Reads the stream while the follower listens, feeding it the events, until it wants to act
/// (phrony::follow_stream closes the connection, to be resumed with Last-Event-ID), the
/// connection ends (a gap: the follower looks; the next connection waits the stream's retry
/// delay), or the stream is given up (following goes on by polling). Only an error of the
/// stream's owner (none here: --timeout is checked by the caller) ends following.
awaitable<void> listen(app& a, phrony::run_follower& follower, phrony::follow_stream& fs,
                       const phrony::follow_handler& handler) {
  for (;;) {
    if (const auto wait = fs.resume_wait(); wait && !co_await sleep_for(a.env, *wait)) {
      co_return;
    }
    auto req = fs.request();
    if (!req) {
      fs.abandon(follower, app::now());
      co_return;
    }
    req->timeout = a.follow.idle_timeout; // a silent stream costs at most this long
    phrony::stream_handler h;
    h.on_head = [&fs](const phrony::response_head& head) {
      fs.on_head(head);
      return head.status == 200; // a refusal's status says it all: its body is not read
    };
    h.on_data = [&](std::string_view chunk) {
      return fs.on_data(chunk, follower, handler.on_event, app::now());
    };
    auto res = co_await phrony_coro::stream(a.env, *req, h);
    if (a.stopped()) {
      co_return;
    }
    if (!res && res.error().code == phrony::errc::cancelled) {
      res = {}; // we stopped reading: a refusal, the follower wants to act, or undecodable
    }
    const auto step = fs.on_end(std::move(res), follower, a.random01(), app::now());
    if (!step.retry_in) {
      co_return; // step.failed cannot be set: no cancelled result reaches on_end
    }
    if (!co_await sleep_for(a.env, *step.retry_in)) {
      co_return;
    }
  }
}

/// The outcome when --timeout (or a signal) ended following first.
phrony::run_outcome given_up(const phrony::run_follower& f, const app& a) {
  phrony::run_outcome out;
  out.status = f.next().status;
  out.end = f.dashboard_task() ? phrony::follow_end::waiting_for_dashboard
                               : phrony::follow_end::timed_out;
  out.task = f.dashboard_task();
  out.error = "gave up: the run did not end before " + a.stopped_by;
  return out;
}

/// Starts one run and follows it to its end; the exit status it deserves.
awaitable<int> one_run(app& a, std::string tag) {
  const options& o = a.o;
  const timeline out("phrony-coro", std::move(tag));
  auto started = co_await call(a, phrony::calls::start_run(o.api, o.agent_id, o.input));
  if (!started) {
    co_return out.fail(a.stopped() ? a.stopped_by + " ended it before the run started"
                                   : started.error().what());
  }
  out.line("", "started", "run " + started->run_id + " (session " + started->session_id + ")");
  phrony::run_follower follower{started->run_id, a.follow};
  phrony::follow_handler handler = out.handler(o.given);
  std::string shown;
  if (o.stream) {
    handler.on_event = [&out](const phrony::result<phrony::stream_event>& e) {
      e ? out.event(*e) : out.line("", "?", "undecodable event: " + e.error().what());
    };
  } else {
    handler.on_action = [&out, &shown](const phrony::follow_action& act) {
      if (act.status != shown && !act.status.empty()) {
        out.line("", "status", act.status);
        shown = act.status;
      }
    };
  }
  phrony::follow_stream stream(o.api, started->run_id);
  phrony::conversation scratch; // read over at every poll
  for (;;) {
    if (a.stopped()) {
      co_return out.report(given_up(follower, a));
    }
    const phrony::follow_action& action = follower.next();
    if (handler.on_action) {
      handler.on_action(action);
    }
    using kind = phrony::follow_action::kind;
    if (action.what == kind::done || action.what == kind::failed) {
      co_return out.report(phrony::outcome_of(action));
    }
    if (action.what == kind::wait_for_dashboard) {
      handler.on_dashboard_task(*action.task);
    }
    if (o.stream && stream.usable() && action.listen) {
      co_await listen(a, follower, stream, handler);
      continue;
    }
    if (action.delay.count() > 0 && !co_await sleep_for(a.env, action.delay)) {
      continue;
    }
    auto req = phrony::follow_request(follower, handler, o.api);
    if (!req) {
      continue; // declined: the follower failed
    }
    auto outcome = co_await exchange_all(a, std::move(*req));
    if (a.stopped()) {
      continue;
    }
    if (auto failed = phrony::follow_apply(follower, outcome, scratch)) {
      co_return out.fail(failed->what());
    }
  }
}

/// How bad an exit status is, to report the worst of several runs: an error, a failed run, a
/// run waiting for the dashboard, a completed one.
int severity(int code) {
  switch (code) {
  case 0: return 0;
  case 3: return 1;
  case 2: return 2;
  default: return 3;
  }
}

void print_usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: phrony-coro [--base URL] [--key KEY] --agent ID [--input JSON]\n"
      "         [--approve | --reject] [--option ID] [--text TEXT] [--number N]\n"
      "         [--stream | --poll] [--timeout SECONDS] [--ca-file PEM] [--runs N]\n"
      "         [--help] [--version]\n"
      "Starts a run of an agent (N runs with --runs, followed concurrently on one thread) and\n"
      "follows it to its end, answering its tasks from the command line. The base defaults to\n"
      "https://api.phrony.com; the key may come from PHRONY_API_KEY and is never printed.\n"
      "https bases are verified against the system's CAs, or the CA in --ca-file. --timeout\n"
      "bounds the whole command (default 600 s, 0 = none).\n"
      "Exit status (the worst of the runs): 0 the run completed; 1 an error (HTTP, transport,\n"
      "bad response, no answer given, --timeout without a dashboard task); 2 the run failed or\n"
      "was cancelled; 3 --timeout ended while a task waited for a person in the dashboard;\n"
      "64 a usage error.\n");
}

int usage(const std::string& why) {
  std::fprintf(stderr, "phrony-coro: %s\n", why.c_str());
  print_usage(stderr);
  return 64;
}

bool parse_count(const char* v, long max, long& out) {
  char* end = nullptr;
  out = std::strtol(v, &end, 10);
  return end != v && *end == '\0' && out >= 0 && out <= max;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (const char* k = std::getenv("PHRONY_API_KEY")) {
    o.api.api_key = k;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help") {
      print_usage(stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("phrony-coro %s\n", PHRONY_VERSION_STRING);
      return 0;
    }
    if (a == "--approve" || a == "--reject") {
      o.given.approve = a == "--approve";
      continue;
    }
    if (a == "--stream" || a == "--poll") {
      o.stream = a == "--stream";
      continue;
    }
    static constexpr std::string_view with_value[] = {"--base", "--key",   "--agent",   "--option",
                                                      "--text", "--input", "--timeout", "--ca-file",
                                                      "--runs", "--number"};
    if (std::find(std::begin(with_value), std::end(with_value), a) == std::end(with_value)) {
      return usage("unknown option " + a);
    }
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) {
      return usage("missing value after " + a);
    }
    ++i;
    long n = 0;
    if (a == "--base") {
      o.api.base_url = v;
    } else if (a == "--key") {
      o.api.api_key = v;
    } else if (a == "--agent") {
      o.agent_id = v;
    } else if (a == "--option") {
      o.given.option = v;
    } else if (a == "--text") {
      o.given.text = v;
    } else if (a == "--ca-file") {
      o.ca_file = v;
    } else if (a == "--input") {
      auto input = phrony::parse_json_object(v);
      if (!input) {
        return usage("--input is not a JSON object: " + input.error().what());
      }
      o.input = *input;
    } else if (a == "--timeout") {
      if (!parse_count(v, 100L * 365 * 24 * 3600, n)) {
        return usage("--timeout wants a number of seconds");
      }
      o.timeout = std::chrono::seconds(n);
    } else if (a == "--runs") {
      if (!parse_count(v, 10'000, n) || n == 0) {
        return usage("--runs wants a number from 1 to 10000");
      }
      o.runs = static_cast<int>(n);
    } else if (a == "--number") {
      char* end = nullptr;
      o.given.number = std::strtod(v, &end);
      if (end == v || *end != '\0') {
        return usage("--number wants a number");
      }
    } else {
      return usage("unknown option " + a);
    }
  }
  if (o.agent_id.empty() || o.api.api_key.empty()) {
    return usage(o.agent_id.empty() ? "--agent is required" : "no key (--key or PHRONY_API_KEY)");
  }
  o.api.user_agent = "phrony-coro/" PHRONY_VERSION_STRING;

  // TLS: the peer's certificate verified against --ca-file or the system store; net.cpp sets
  // SNI and checks the host name per connection.
  std::string why;
  const auto tls = make_tls_context(o.ca_file, why);
  if (!tls) {
    std::fprintf(stderr, "phrony-coro: %s\n", printable(why).c_str());
    return 1;
  }

  // Each run holds a connection or two at once: lift the soft descriptor limit (often 1024) to
  // the hard one, so --runs in the thousands does not run out of sockets.
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &lim);
  }

  net::io_context io(1);
  stopper stop;
  app a(o, io_env{*tls, stop});
  std::vector<int> codes(static_cast<std::size_t>(o.runs), 1);
  int left = o.runs;
  // The runs end early on --timeout or on Ctrl-C / SIGTERM: stop() closes every socket and
  // cancels every timer; each run then reports where it stood.
  net::steady_timer deadline(io);
  net::signal_set signals(io, SIGINT, SIGTERM);
  for (int i = 0; i < o.runs; ++i) {
    std::string tag = o.runs > 1 ? "[" + std::to_string(i + 1) + "] " : "";
    net::co_spawn(io, one_run(a, std::move(tag)), [&, i](std::exception_ptr e, int code) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::fprintf(stderr, "phrony-coro: %s\n", x.what());
        } catch (...) {
          std::fprintf(stderr, "phrony-coro: an unknown exception\n");
        }
        code = 1;
      }
      codes[static_cast<std::size_t>(i)] = code;
      if (--left == 0) {
        deadline.cancel(); // nothing else keeps io.run() going
        signals.cancel();
      }
    });
  }
  if (o.timeout.count() > 0) {
    deadline.expires_after(o.timeout);
    deadline.async_wait([&](const boost::system::error_code& e) {
      if (!e && !stop.stopped()) {
        a.stopped_by = "--timeout (" + std::to_string(o.timeout.count()) + " s)";
        stop.stop();
      }
    });
  }
  signals.async_wait([&](const boost::system::error_code& e, int signal) {
    if (!e && !stop.stopped()) {
      a.stopped_by = signal == SIGINT ? "an interrupt (SIGINT)" : "SIGTERM";
      stop.stop();
    }
  });
  io.run();
  if (stop.open() != 0) {
    std::fprintf(stderr, "phrony-coro: %zu connections or timers were left open\n", stop.open());
    return 1;
  }
  int worst = 0;
  for (const int c : codes) {
    worst = severity(c) > severity(worst) ? c : worst;
  }
  return worst;
}
