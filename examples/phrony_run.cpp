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
#include "transports/curl_transport.hpp"
#include "transports/httplib_transport.hpp"

#include <phrony/client.hpp>
#include <phrony/version.hpp>

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct options {
  phrony::api_config api;
  std::string agent_id;
  std::optional<phrony::raw_json> input;
  std::optional<bool> approve; // --approve / --reject
  std::optional<std::string> option, text;
  std::optional<double> number;
  bool stream = true;
  std::chrono::seconds timeout{600}; // the whole command; 0: until the run ends
  std::string transport = "curl";
};

// `text` with control characters shown as \xNN: whatever a server sends must not drive the
// terminal (escape sequences) or forge lines.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      constexpr char hex[] = "0123456789abcdef";
      out += {'\\', 'x', hex[u >> 4], hex[u & 0xF]};
    } else {
      out += c;
    }
  }
  return out;
}

// One timeline line: a time column (from the event, or blank), a label, the detail (cut to
// about two lines, never inside a UTF-8 sequence).
void line(std::string_view time, std::string_view label, std::string_view text) {
  std::string detail = printable(text);
  if (detail.size() > 160) {
    std::size_t cut = 157;
    while (cut > 0 && (static_cast<unsigned char>(detail[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    detail = detail.substr(0, cut) + "...";
  }
  std::printf("%-12.12s  %-14s %.*s\n", printable(time).c_str(), printable(label).c_str(),
              static_cast<int>(detail.size()), detail.data());
  std::fflush(stdout);
}

// A string (or, for other values, the compact JSON) at `pointer` in `doc`, "" when absent.
std::string at(simdjson::dom::element doc, std::string_view pointer) {
  simdjson::dom::element v;
  if (doc.at_pointer(pointer).get(v) != simdjson::SUCCESS || v.is_null()) {
    return "";
  }
  return v.is_string() ? std::string(v.get_string().value()) : simdjson::minify(v);
}

// One line per stream event; the step payloads are the conversation's item contents.
void print_event(const phrony::stream_event& e) {
  static simdjson::dom::parser parser;
  simdjson::dom::element d;
  if (parser.parse(e.data.text).get(d) != simdjson::SUCCESS) {
    return line("", "?", e.subject);
  }
  const std::string time = e.ts.size() >= 23 ? e.ts.substr(11, 12) : e.ts;
  const std::string type = at(d, "/type");
  if (type == "reasoning") {
    line(time, "reasoning", at(d, "/content/message"));
  } else if (type == "ToolCall") {
    line(time, "tool call", at(d, "/content/name") + " " + at(d, "/content/arguments"));
  } else if (type == "ToolResult") {
    const std::string err = at(d, "/content/result/error");
    line(time, "tool result", at(d, "/content/name") + (err.empty() ? " ok" : " error: " + err));
  } else if (e.kind == "step") {
    if (type != "llm_request_prepared" && type != "UserTaskReq" && type != "output") { // noise
      line(time, type, "");
    }
  } else if (e.kind == "user_task") {
    line(time, "user task", at(d, "/kind") + " " + at(d, "/status") + ": " + at(d, "/prompt"));
  } else if (e.kind == "run" || e.kind == "session") {
    const bool sub = !at(d, "/parent_run_id").empty() || !at(d, "/parentRunId").empty();
    line(time, sub ? "sub-agent run" : e.kind,
         e.subject.substr(e.subject.rfind('.') + 1) + " " + at(d, "/status"));
  }
}

// The answer the command line gives to `task`, or nullopt (the run then stops waiting on us).
std::optional<phrony::run_message> answer(const options& o, const phrony::pending_user_task& t) {
  const std::string kind = t.kind.value_or("unknown");
  line("", "? " + kind, t.prompt.value_or(""));
  for (const auto& opt : t.options) {
    line("", "", "  - " + opt.id + " (" + opt.label + ")");
  }
  std::optional<phrony::run_message> m;
  if ((kind == "approval" || kind == "hitl") && o.approve) {
    m = *o.approve ? phrony::run_message::approve(t.user_task_id)
                   : phrony::run_message::reject(t.user_task_id);
  } else if (kind == "multi_option" && o.option) {
    m = phrony::run_message::choose_option(t.user_task_id, *o.option);
  } else if (kind == "text" && o.text) {
    m = phrony::run_message::answer_text(t.user_task_id, *o.text);
  } else if (kind == "number" && o.number) {
    m = phrony::run_message::answer_number(t.user_task_id, *o.number);
  }
  char number[32] = "";
  if (m && m->number_value) {
    std::snprintf(number, sizeof number, "%g", *m->number_value);
  }
  line("", "> decision",
       !m                ? "none given on the command line"
       : m->approved     ? (*m->approved ? "approve" : "reject")
       : m->number_value ? number
                         : m->selected_option_id.value_or(m->text_value.value_or("")));
  return m;
}

phrony::follow_handler make_handler(const options& o) {
  phrony::follow_handler h;
  h.answer_task = [&o](const phrony::pending_user_task& t) { return answer(o, t); };
  h.send_text = [&o](const std::string&) -> std::optional<phrony::run_message> {
    line("", "? response", "the agent waits for a message");
    line("", "> decision", o.text ? "send \"" + *o.text + "\"" : "none (use --text)");
    return o.text ? std::optional(phrony::run_message::chat(*o.text)) : std::nullopt;
  };
  h.on_dashboard_task = [](const phrony::pending_user_task& t) {
    line("", "? " + t.kind.value_or("task"), t.prompt.value_or(""));
    line("", "> decision", "waiting for a person in the dashboard (the API cannot answer this)");
  };
  return h;
}

// The end of following: 0 completed, 2 failed or cancelled, 3 still waiting for a person in
// the dashboard, 1 when we stopped following for another reason.
int report(const phrony::run_outcome& out) {
  using end = phrony::follow_end;
  switch (out.end) {
  case end::completed: line("", "completed", out.output.text); return 0;
  case end::failed: line("", "failed", out.status + ": " + out.error); return 2;
  case end::waiting_for_dashboard:
    line("", "stopped",
         "waiting for a person in the dashboard: " +
             (out.task ? out.task->prompt.value_or("") : ""));
    return 3;
  case end::declined:
    line("", "stopped", "no answer given on the command line (" + out.error + ")");
    return 1;
  case end::stuck:
  case end::timed_out: break;
  }
  std::fprintf(stderr, "phrony-run: stopped (%s): %s\n", printable(out.status).c_str(),
               printable(out.error).c_str());
  return 1;
}

int fail(const phrony::error& e) {
  // Errors never hold the key, but may quote what a server sent.
  std::fprintf(stderr, "phrony-run: %s\n", printable(e.what()).c_str());
  return 1;
}

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
  auto started = api.start_run(o.agent_id, o.input);
  if (!started) {
    return fail(started.error());
  }
  line("", "started", "run " + started->run_id + " (session " + started->session_id + ")");
  auto handler = make_handler(o);
  phrony::follow_options fo;
  if (o.timeout.count() > 0) {
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begin);
    fo.max_duration = std::max(o.timeout - spent, std::chrono::milliseconds{1});
  }
  if (o.stream) {
    handler.on_event = [](const phrony::result<phrony::stream_event>& e) {
      e ? print_event(*e) : line("", "?", "undecodable event: " + e.error().what());
    };
  } else {
    std::string shown;
    handler.on_action = [shown](const phrony::follow_action& a) mutable {
      if (a.status != shown && !a.status.empty()) {
        line("", "status", a.status);
        shown = a.status;
      }
    };
  }
  auto out = o.stream ? api.follow_run_streaming(started->run_id, handler, fo)
                      : api.follow_run(started->run_id, handler, fo);
  return out ? report(*out) : fail(out.error());
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
      (a == "--approve" || a == "--reject" ? void(o.approve = a == "--approve")
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
      o.option = v;
    } else if (a == "--text") {
      o.text = v;
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
      o.number = std::strtod(v, &end);
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
