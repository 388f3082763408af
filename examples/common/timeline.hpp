// The timeline phrony-run and phrony-coro print (one format, so the same end-to-end scripts read
// both): a line per stream event, task and decision, each prefixed with "[N] " when several runs
// share the terminal; the command-line answers to tasks; the exit status a run's end deserves.
#pragma once

#include <phrony/events.hpp>
#include <phrony/follow.hpp>
#include <phrony/request.hpp>

#include <simdjson.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace phrony_examples {

/// The answers the command line gives.
struct answers {
  std::optional<bool> approve; // --approve / --reject
  std::optional<std::string> option, text;
  std::optional<double> number;
};

// `text` with control characters shown as \xNN: whatever a server sends must not drive the
// terminal (escape sequences) or forge lines.
inline std::string printable(std::string_view text) {
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

/// Prints one run's lines.
class timeline {
public:
  /// `program` names error lines; `tag` starts every line ("" for a single run).
  explicit timeline(std::string program, std::string tag = {})
      : program_(std::move(program)), tag_(std::move(tag)) {}

  // One timeline line: a time column (from the event, or blank), a label, the detail (cut to
  // about two lines, never inside a UTF-8 sequence).
  void line(std::string_view time, std::string_view label, std::string_view text) const {
    std::string detail = printable(text);
    if (detail.size() > 160) {
      std::size_t cut = 157;
      while (cut > 0 && (static_cast<unsigned char>(detail[cut]) & 0xC0) == 0x80) {
        --cut;
      }
      detail = detail.substr(0, cut) + "...";
    }
    std::printf("%s%-12.12s  %-14s %.*s\n", tag_.c_str(), printable(time).c_str(),
                printable(label).c_str(), static_cast<int>(detail.size()), detail.data());
    std::fflush(stdout);
  }

  /// An error line on stderr: "<program>: [N] why"; 1, the exit status of an error.
  int fail(std::string_view why) const {
    std::fprintf(stderr, "%s: %s%s\n", program_.c_str(), tag_.c_str(), printable(why).c_str());
    return 1;
  }

  // One line per stream event; the step payloads are the conversation's item contents.
  void event(const phrony::stream_event& e) const {
    static simdjson::dom::parser parser;
    simdjson::dom::element d;
    if (parser.parse(e.data.text.str()).get(d) != simdjson::SUCCESS) {
      return line("", "?", e.subject);
    }
    const std::string time = e.ts.size() >= 23 ? e.ts.substr(11, 12) : e.ts.str();
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
  std::optional<phrony::run_message> answer(const answers& o,
                                            const phrony::pending_user_task& t) const {
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

  /// The handler following asks for decisions (and tells about dashboard-only tasks).
  phrony::follow_handler handler(const answers& o) const {
    phrony::follow_handler h;
    h.answer_task = [this, &o](const phrony::pending_user_task& t) { return answer(o, t); };
    h.send_text = [this, &o](const std::string&) -> std::optional<phrony::run_message> {
      line("", "? response", "the agent waits for a message");
      line("", "> decision", o.text ? "send \"" + *o.text + "\"" : "none (use --text)");
      return o.text ? std::optional(phrony::run_message::chat(*o.text)) : std::nullopt;
    };
    h.on_dashboard_task = [this](const phrony::pending_user_task& t) {
      line("", "? " + t.kind.value_or("task"), t.prompt.value_or(""));
      line("", "> decision", "waiting for a person in the dashboard (the API cannot answer this)");
    };
    return h;
  }

  // The end of following: 0 completed, 2 failed or cancelled, 3 still waiting for a person in
  // the dashboard, 1 when we stopped following for another reason.
  int report(const phrony::run_outcome& out) const {
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
    return fail("stopped (" + out.status + "): " + out.error);
  }

private:
  // A string (or, for other values, the compact JSON) at `pointer` in `doc`, "" when absent.
  static std::string at(simdjson::dom::element doc, std::string_view pointer) {
    simdjson::dom::element v;
    if (doc.at_pointer(pointer).get(v) != simdjson::SUCCESS || v.is_null()) {
      return "";
    }
    return v.is_string() ? std::string(v.get_string().value()) : simdjson::minify(v);
  }

  std::string program_;
  std::string tag_;
};

} // namespace phrony_examples
