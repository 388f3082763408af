// phrony-run: starts a run of an agent and follows it to its end, printing a live timeline and
// answering its human-in-the-loop tasks from the command line. Works against the hosted service
// and against phrony-emulator.
//
//   phrony-run [--base URL] [--key KEY] --agent ID [--input JSON] [--approve | --reject]
//              [--option ID] [--text TEXT] [--number N] [--stream | --poll]
//              [--timeout SECONDS] [--transport curl | httplib] [--help] [--version]
//
// The key may come from PHRONY_API_KEY instead of --key; it is never printed. --stream (the
// default) prints each step as the SSE stream delivers it (and confirms each with the run's
// status); --poll polls the run status. --timeout bounds the whole command (default 600 s;
// 0: none). A task only the dashboard can complete is never answered here: phrony-run says so
// and waits. Exit status (also in the usage text): 0 the run completed, 1 an error (HTTP,
// transport, a bad response, no answer given, --timeout ended), 2 the run failed or was
// cancelled, 3 --timeout ended while a task waited for a person in the dashboard, 64 a usage
// error.
#include "common/timeline.hpp"
#include "transports/curl_transport.hpp"
#include "transports/httplib_transport.hpp"

#include <phrony/client.hpp>
#include <phrony/version.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct options {
  phrony::api_config api;
  std::string agent_id;
  std::optional<phrony::raw_json> input;
  phrony_examples::answers given;
  bool stream = true;
  std::chrono::seconds timeout{600}; // the whole command; 0: until the run ends
  std::string transport = "curl";
};

// client::follow_run(_streaming) does the work: it answers through the handler and confirms
// every stream event with the run's status, so odd event payloads cannot stall it.
template <class T> int run(const options& o) {
  // --timeout bounds the whole command: the start call gets at most all of it, the follow what
  // is left.
  const auto begin = std::chrono::steady_clock::now();
  phrony::client_options co;
  if (o.timeout.count() > 0) {
    co.request_timeout = std::min<std::chrono::milliseconds>(co.request_timeout, o.timeout);
  }
  phrony::client<T> api{T{}, o.api, co};
  const phrony_examples::timeline out("phrony-run");
  auto started = api.start_run(o.agent_id, o.input);
  if (!started) {
    return out.fail(started.error().what()); // errors never hold the key
  }
  out.line("", "started", "run " + started->run_id + " (session " + started->session_id + ")");
  auto handler = out.handler(o.given);
  phrony::follow_options fo;
  if (o.timeout.count() > 0) {
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begin);
    fo.max_duration = std::max(o.timeout - spent, std::chrono::milliseconds{1});
  }
  if (o.stream) {
    handler.on_event = [&out](const phrony::result<phrony::stream_event>& e) {
      e ? out.event(*e) : out.line("", "?", "undecodable event: " + e.error().what());
    };
  } else {
    std::string shown;
    handler.on_action = [&out, shown](const phrony::follow_action& a) mutable {
      if (a.status != shown && !a.status.empty()) {
        out.line("", "status", a.status);
        shown = a.status;
      }
    };
  }
  auto followed = o.stream ? api.follow_run_streaming(started->run_id, handler, fo)
                           : api.follow_run(started->run_id, handler, fo);
  return followed ? out.report(*followed) : out.fail(followed.error().what());
}

constexpr int exit_usage = 64; // sysexits.h's EX_USAGE

void print_usage(std::FILE* to) {
  std::fputs(
      "usage: phrony-run [--base URL] [--key KEY] --agent ID [--input JSON]\n"
      "         [--approve | --reject] [--option ID] [--text TEXT] [--number N]\n"
      "         [--stream | --poll] [--timeout SECONDS] [--transport curl | httplib]\n"
      "         [--help] [--version]\n"
      "Starts a run of the agent, follows it to its end and answers its tasks from the flags.\n"
      "  --base URL           the API (default https://api.phrony.com)\n"
      "  --key KEY            the API key (default: $PHRONY_API_KEY); never printed\n"
      "  --agent ID           the agent to run\n"
      "  --input JSON         the run's input, a JSON object\n"
      "  --approve, --reject  the answer to approval tasks\n"
      "  --option ID          the answer to multiple-choice tasks\n"
      "  --text TEXT          the answer to text tasks, and the reply when the agent asks\n"
      "  --number N           the answer to number tasks\n"
      "  --stream, --poll     follow the event stream (default), or poll the run's status\n"
      "  --timeout SECONDS    bound on the whole command (default 600; 0 = none)\n"
      "  --transport NAME     curl (default) or httplib\n"
      "Exit status:\n"
      "  0   the run completed\n"
      "  1   an error: HTTP, transport, a bad response, no answer given, --timeout ended\n"
      "  2   the run failed or was cancelled\n"
      "  3   --timeout ended while a task waited for a person in the dashboard\n"
      "  64  a usage error\n",
      to);
}

int usage(const std::string& why) {
  std::fprintf(stderr, "phrony-run: %s\n", why.c_str());
  print_usage(stderr);
  return exit_usage;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (const char* k = std::getenv("PHRONY_API_KEY")) {
    o.api.api_key = k;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("phrony-run %s\n", PHRONY_VERSION_STRING);
      return 0;
    }
    const bool flag = a == "--approve" || a == "--reject" || a == "--stream" || a == "--poll";
    if (!flag && v == nullptr) {
      return usage("missing value after " + a);
    }
    if (flag) {
      (a == "--approve" || a == "--reject" ? void(o.given.approve = a == "--approve")
                                           : void(o.stream = a == "--stream"));
      continue;
    }
    ++i;
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
    } else if (a == "--transport") {
      o.transport = v;
    } else if (a == "--input") {
      auto input = phrony::parse_json_object(v);
      if (!input) {
        return usage("--input is not a JSON object: " + input.error().what());
      }
      o.input = *input;
    } else if (a == "--timeout") {
      char* end = nullptr;
      const long seconds = std::strtol(v, &end, 10);
      // At most about four months: the deadline stays far from the clocks' limits.
      if (end == v || *end != '\0' || seconds < 0 || seconds > 10'000'000) {
        return usage("--timeout wants a number of seconds, at most 10000000 (0: none)");
      }
      o.timeout = std::chrono::seconds(seconds);
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
  o.api.user_agent = std::string("phrony-run/") + PHRONY_VERSION_STRING;
  if (o.transport == "httplib") {
    return run<phrony_examples::httplib_transport>(o);
  }
  return o.transport == "curl" ? run<phrony_examples::curl_transport>(o)
                               : usage("--transport is curl or httplib");
}
