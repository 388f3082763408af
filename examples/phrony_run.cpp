// phrony-run: starts a run of an agent and follows it to its end, printing a live timeline and
// answering its human-in-the-loop tasks from the command line. Works against the hosted service
// and against phrony-emulator.
//
//   phrony-run [--base URL] [--key KEY] --agent ID [--input JSON] [--approve | --reject]
//              [--option ID] [--text TEXT] [--number N] [--stream | --poll]
//              [--transport curl | httplib]
//
// The key may come from PHRONY_API_KEY instead of --key; it is never printed. --stream (the
// default) prints each step as the SSE stream delivers it; --poll polls the run status.
// Exit status: 0 the run completed, 2 it failed or was cancelled, 1 any other error.
#include "transports/curl_transport.hpp"
#include "transports/httplib_transport.hpp"

#include <phrony/client.hpp>

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

struct options {
  phrony::api_config api;
  std::string agent_id;
  std::optional<phrony::raw_json> input;
  std::optional<bool> approve; // --approve / --reject
  std::optional<std::string> option, text;
  std::optional<double> number;
  bool stream = true;
  std::string transport = "curl";
};

// One timeline line: a time column (from the event, or blank), a label, the detail (cut to
// about two lines, never inside a UTF-8 sequence).
void line(std::string_view time, std::string_view label, std::string detail) {
  if (detail.size() > 160) {
    std::size_t cut = 157;
    while (cut > 0 && (static_cast<unsigned char>(detail[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    detail = detail.substr(0, cut) + "...";
  }
  std::printf("%-12.12s  %-14s %.*s\n", std::string(time).c_str(), std::string(label).c_str(),
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
    const bool sub = !at(d, "/parent_run_id").empty();
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
                         : m->selected_option_id.value_or(*m->text_value));
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
  return h;
}

// The run's end: 0 completed, 2 failed or cancelled, 1 when we stopped following it.
int report(const phrony::run_outcome& out) {
  if (out.completed) {
    line("", "completed", out.output.text);
    return 0;
  }
  const bool ended = phrony::is_terminal(phrony::parse_run_state(out.status));
  line("", ended ? "failed" : "stopped", out.status + ": " + out.error);
  return ended ? 2 : 1;
}

int fail(const phrony::error& e) {
  std::fprintf(stderr, "phrony-run: %s\n", e.what().c_str()); // errors never hold the key
  return 1;
}

// Polling: client::follow_run does the work; we print its status changes as progress.
template <class T>
int follow_by_polling(phrony::client<T>& c, const std::string& run_id, const options& o) {
  auto handler = make_handler(o);
  std::string shown;
  handler.on_action = [&](const phrony::follow_action& a) {
    if (a.status != shown && !a.status.empty()) {
      line("", "status", a.status);
      shown = a.status;
    }
  };
  auto out = c.follow_run(run_id, handler);
  return out ? report(*out) : fail(out.error());
}

// Streaming: the stream says when the run waits; a second client (its own connection) answers
// from inside the event callback while the stream stays open. The follower decides what to do.
template <class T>
int follow_by_streaming(phrony::client<T>& events, phrony::client<T>& calls,
                        const std::string& run_id, const options& o) {
  using k = phrony::follow_action::kind;
  const auto handler = make_handler(o);
  phrony::run_follower follower{run_id};
  std::optional<phrony::error> failure;
  // Does what the follower asks until the run works on its own again; false stops the stream.
  auto act = [&]() -> bool {
    for (;;) {
      const phrony::follow_action& a = follower.next();
      const bool waiting = phrony::is_waiting(phrony::parse_run_state(a.status));
      if (a.what == k::failed) { // a run that ended: the stream ends too, get_run says why
        return phrony::is_terminal(phrony::parse_run_state(a.status));
      }
      if (a.what == k::done || (a.what == k::get_status && !waiting)) {
        return true; // working or done: the stream tells what happens next
      }
      std::optional<phrony::error> err;
      if (a.what == k::get_status) { // waiting, but its task did not show yet: look again
        std::this_thread::sleep_for(a.delay);
        if (auto s = calls.get_run(run_id)) {
          follower.on_status(*s);
        } else {
          err = s.error();
        }
      } else if (a.what == k::get_conversation) {
        if (auto c = calls.get_conversation(run_id, phrony::step_content::slim)) {
          follower.on_conversation(*c);
        } else {
          err = c.error();
        }
      } else if (a.what == k::skip_timer) {
        line("", "> decision", "skip the timer");
        auto s = calls.skip_agent_wait(run_id);
        if (s || s.error().status == 400) { // 400: the timer fired meanwhile
          follower.on_answered();
        } else {
          err = s.error();
        }
      } else {
        auto m = a.task ? handler.answer_task(*a.task) : handler.send_text(run_id);
        if (!m) {
          follower.fail("no answer given on the command line");
          continue;
        }
        // A sub-agent's task is answered through the sub-agent's run.
        if (auto s = calls.send_message(a.task ? a.task->run_id : run_id, *m)) {
          follower.on_answered();
        } else {
          err = s.error();
        }
      }
      if (err) {
        failure = std::move(err);
        return false;
      }
    }
  };
  auto streamed = events.stream_events(run_id, [&](const phrony::result<phrony::stream_event>& e) {
    if (!e) {
      line("", "?", "undecodable event: " + e.error().what());
      return true;
    }
    print_event(*e);
    follower.on_event(*e);
    return act();
  });
  if (failure) {
    return fail(*failure);
  }
  if (const auto& a = follower.next();
      a.what == k::failed && !phrony::is_terminal(phrony::parse_run_state(a.status))) {
    return report({false, a.status, phrony::raw_json{"null"}, a.error});
  }
  if (!streamed) {
    return fail(streamed.error());
  }
  auto s = calls.get_run(run_id); // stream payloads are not the documented output
  if (!s) {
    return fail(s.error());
  }
  return report({s->state() == phrony::run_state::completed, s->status, s->output,
                 s->error.value_or(s->status)});
}

template <class T> int run(const options& o) {
  phrony::client<T> calls{T{}, o.api};
  auto started = calls.start_run(o.agent_id, o.input);
  if (!started) {
    return fail(started.error());
  }
  line("", "started", "run " + started->run_id + " (session " + started->session_id + ")");
  if (!o.stream) {
    return follow_by_polling(calls, started->run_id, o);
  }
  phrony::client<T> events{T{}, o.api};
  return follow_by_streaming(events, calls, started->run_id, o);
}

int usage(const std::string& why) {
  std::fprintf(
      stderr,
      "phrony-run: %s\nusage: phrony-run [--base URL] [--key KEY] --agent ID [--input JSON]"
      "\n         [--approve | --reject] [--option ID] [--text TEXT] [--number N]"
      "\n         [--stream | --poll] [--transport curl | httplib]\n"
      "The base defaults to https://api.phrony.com; the key may come from PHRONY_API_KEY.\n",
      why.c_str());
  return 1;
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
  o.api.user_agent = "phrony-run/0.1";
  if (o.transport == "httplib") {
    return run<phrony_examples::httplib_transport>(o);
  }
  return o.transport == "curl" ? run<phrony_examples::curl_transport>(o)
                               : usage("--transport is curl or httplib");
}
