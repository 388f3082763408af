// phrony-emulator: start-run, sessions, run status, conversation, messages, skip-agent-wait.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <phrony/json_writer.hpp>

#include "api.hpp"
#include "render.hpp"

namespace emu {

namespace {

using phrony::json_writer;
using phrony::raw_json;
using lock_t = std::unique_lock<std::mutex>;

// A non-negative integer query parameter; nullopt when present but not one.
std::optional<std::uint64_t> uint_param(const httplib::Request& req, const char* name,
                                        std::uint64_t fallback) {
  if (!req.has_param(name)) {
    return fallback;
  }
  const std::string v = req.get_param_value(name);
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) {
    return std::nullopt;
  }
  return out;
}

// The answer to a user task, checked against the task's kind; empty `error` means valid.
struct task_answer {
  std::string outcome; // the UserTaskReq row's `outcome` object
  std::string saved;   // the value output templates see as "{{save_as}}"
  std::string error;
};

task_answer check_answer(const user_task& t, dom::object body) {
  dom::element approved, option_id, text_value, number_value;
  const bool has_approved = get_field(body, "approved", approved) == field::ok;
  const bool has_option = get_field(body, "selectedOptionId", option_id) == field::ok;
  const bool has_text = get_field(body, "textValue", text_value) == field::ok;
  const bool has_number = get_field(body, "numberValue", number_value) == field::ok;
  // Exactly one answer field, the one of the task's kind: a client sending textValue to an
  // approval has a bug worth a 400, not a silent default.
  const int given = int(has_approved) + int(has_option) + int(has_text) + int(has_number);
  task_answer a;
  json_writer out;
  json_writer saved;
  if (t.kind == "approval") {
    bool v = false;
    if (!has_approved || given != 1 || approved.get_bool().get(v) != simdjson::SUCCESS) {
      a.error = "An approval task is answered with a boolean `approved` (and nothing else)";
      return a;
    }
    out.begin_object().key("approved").value(v).end_object();
    saved.value(v);
  } else if (t.kind == "multi_option") {
    std::string_view v;
    if (!has_option || given != 1 || option_id.get_string().get(v) != simdjson::SUCCESS) {
      a.error = "A multi_option task is answered with a string `selectedOptionId`";
      return a;
    }
    const auto& opts = t.origin->options;
    if (std::none_of(opts.begin(), opts.end(), [&](const option& o) { return o.id == v; })) {
      a.error = "selectedOptionId is not one of the task's options";
      return a;
    }
    out.begin_object().key("selected_option_id").value(v).end_object();
    saved.value(v);
  } else if (t.kind == "text") {
    std::string_view v;
    if (!has_text || given != 1 || text_value.get_string().get(v) != simdjson::SUCCESS ||
        v.empty()) {
      a.error = "A text task is answered with a non-empty string `textValue`";
      return a;
    }
    out.begin_object().key("text_value").value(v).end_object();
    saved.value(v);
  } else {
    double v = 0;
    if (!has_number || given != 1 || number_value.get_double().get(v) != simdjson::SUCCESS) {
      a.error = "A number task is answered with a numeric `numberValue`";
      return a;
    }
    if ((t.origin->min && v < *t.origin->min) || (t.origin->max && v > *t.origin->max)) {
      a.error = "numberValue is outside the task's min/max";
      return a;
    }
    const std::string text = simdjson::minify(number_value);
    out.begin_object().key("number_value").raw(raw_json{text}).end_object();
    saved.raw(raw_json{text});
  }
  a.outcome = out.str();
  a.saved = saved.str();
  return a;
}

// Checks message `files` (each a finalized upload); returns an error message or "".
std::string check_files(dom::array files, const world& w) {
  for (dom::element f : files) {
    dom::object o;
    bool marker = false;
    std::string_view key;
    if (f.get_object().get(o) != simdjson::SUCCESS ||
        o["phronyFile"].get_bool().get(marker) != simdjson::SUCCESS || !marker ||
        get_string(o, "objectKey", key) != field::ok) {
      return R"(Each file must be {"phronyFile": true, "objectKey": ...})";
    }
    auto it = w.uploads.find(key);
    if (it == w.uploads.end() || !it->second.finalized) {
      return "File " + std::string(key) + " has not been uploaded and finalized";
    }
  }
  return {};
}

} // namespace

void api::start_run(const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& reader) {
  const std::string text = optional_body(req, reader);
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  const std::string agent_id = req.matches[1].str();
  const agent_def* agent = w_.scene().find_agent(agent_id);
  if (agent == nullptr) {
    return fail(res, 404, "Agent not found");
  }
  if (!in_scope(*key, agent_id)) {
    return fail(res, 403, "This API key is not scoped to this agent");
  }
  dom::parser parser;
  dom::object body;
  if (!read_object(text, res, parser, body, true)) {
    return;
  }
  dom::element input;
  std::string input_json = "{}";
  if (get_field(body, "input", input) == field::ok) {
    if (!input.is_object()) {
      return fail(res, 400, "input must be an object");
    }
    input_json = simdjson::minify(input);
  }
  lock_t lock(w_.mu);
  if (opt_.max_concurrent > 0 && w_.active_sessions(*key) >= opt_.max_concurrent) {
    res.set_header("Retry-After", "1");
    return fail(res, 429,
                "Too many concurrent runs for this API key (limit " +
                    std::to_string(opt_.max_concurrent) + ")");
  }
  const session& s = w_.start_session(*agent, *key, std::move(input_json));
  send(res, 202, start_run_body(s));
}

void api::list_sessions(const httplib::Request& req, httplib::Response& res) {
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  const std::string agent_id = req.matches[1].str();
  if (w_.scene().find_agent(agent_id) == nullptr) {
    return fail(res, 404, "Agent not found");
  }
  if (!in_scope(*key, agent_id)) {
    return fail(res, 403, "This API key is not scoped to this agent");
  }
  const auto skip = uint_param(req, "skip", 0);
  const auto take = uint_param(req, "take", 20);
  if (!skip) {
    return fail(res, 400, "skip must be an integer >= 0");
  }
  if (!take || *take < 1 || *take > 100) {
    return fail(res, 400, "take must be an integer from 1 to 100");
  }
  const std::string version = req.get_param_value("versionId");
  const std::string status = req.get_param_value("status");
  lock_t lock(w_.mu);
  std::vector<const session*> matching;
  for (auto it = w_.sessions().rbegin(); it != w_.sessions().rend(); ++it) { // newest first
    const session& s = **it;
    if (s.agent->id == agent_id && (version.empty() || s.agent->version_id == version) &&
        (status.empty() || s.root->status == status)) {
      matching.push_back(&s);
    }
  }
  std::vector<const session*> page;
  for (std::size_t i = *skip; i < matching.size() && page.size() < *take; ++i) {
    page.push_back(matching[i]);
  }
  send(res, 200, sessions_page_body(w_, page, matching.size()));
}

void api::get_run(const httplib::Request& req, httplib::Response& res) {
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  lock_t lock(w_.mu);
  if (const run* r = find_scoped_run(req, res, *key)) {
    send(res, 200, run_status_body(*r));
  }
}

void api::get_conversation(const httplib::Request& req, httplib::Response& res) {
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  const std::string mode =
      req.has_param("stepContent") ? req.get_param_value("stepContent") : "full";
  if (mode != "full" && mode != "slim") {
    return fail(res, 400, "stepContent must be slim or full");
  }
  lock_t lock(w_.mu);
  if (const run* r = find_scoped_run(req, res, *key)) {
    send(res, 200, conversation_body(w_, *r, mode == "slim"));
  }
}

void api::post_message(const httplib::Request& req, httplib::Response& res) {
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  dom::parser parser;
  dom::object body;
  lock_t lock(w_.mu);
  run* r = find_scoped_run(req, res, *key);
  if (r == nullptr || !read_object(req.body, res, parser, body)) {
    return;
  }
  std::string_view run_id, task_id, text, message;
  if (get_string(body, "runId", run_id) != field::ok || run_id != r->id) {
    return fail(res, 400, "runId must be present and equal the runId in the path");
  }
  const field task_f = get_string(body, "userTaskId", task_id);
  const field text_f = get_string(body, "text", text);
  const field message_f = get_string(body, "message", message);
  dom::element files_e, metadata_e;
  dom::array files;
  const field files_f = get_field(body, "files", files_e);
  if (task_f == field::wrong_type || text_f == field::wrong_type ||
      message_f == field::wrong_type ||
      (files_f == field::ok && files_e.get_array().get(files) != simdjson::SUCCESS) ||
      (get_field(body, "metadata", metadata_e) == field::ok && !metadata_e.is_object())) {
    return fail(res, 400,
                "userTaskId, text and message must be strings, files an array, metadata an object");
  }
  const std::string_view chat = !text.empty() ? text : message; // `message` is text's alias
  const bool has_files = files_f == field::ok && files.size() > 0;
  if (task_f == field::absent && chat.empty() && !has_files) {
    return fail(res, 400, "Provide userTaskId, a non-empty text/message, or at least one file");
  }

  if (task_f == field::ok) {
    if (!r->task) {
      // A sub-agent's task is answered through the sub-agent's run: say so, it is a common slip.
      for (const run* c = r->child; c != nullptr; c = c->child) {
        if (c->task && c->task->id == task_id) {
          return fail(res, 400,
                      "User task " + std::string(task_id) + " belongs to sub-agent run " + c->id +
                          "; send the answer to /v1/runs/" + c->id + "/messages");
        }
      }
      return fail(res, 400, "Run is not waiting for a user task (status " + r->status + ")");
    }
    if (r->task->id != task_id) {
      return fail(res, 400, "userTaskId does not match the run's pending user task");
    }
    if (r->task->origin->kind == step_kind::dashboard) {
      // user-task.mdx: escalations and firewall steps are completed in the dashboard only. The
      // run keeps waiting, as it does on the service.
      return fail(res, 400,
                  "User task " + r->task->id + " (" + r->task->kind +
                      ") can only be completed in the Phrony dashboard");
    }
    task_answer a = check_answer(*r->task, body);
    if (!a.error.empty()) {
      return fail(res, 400, a.error);
    }
    w_.answer_task(*r, std::move(a.outcome), std::move(a.saved));
    return send(res, 202, accept_body("Running"));
  }

  if (r->status != "WaitingForResponse" || r->child != nullptr) {
    return fail(res, 400,
                "Run is not waiting for a response (status " + r->status +
                    "); user tasks are answered with userTaskId");
  }
  if (has_files) {
    if (std::string why = check_files(files, w_); !why.empty()) {
      return fail(res, 400, why);
    }
  }
  std::optional<std::string> chat_text;
  if (!chat.empty()) {
    chat_text = std::string(chat);
  }
  w_.reply(*r, chat_text, has_files ? simdjson::minify(files) : "[]");
  send(res, 202, accept_body("Running"));
}

void api::dashboard_answer(const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
  const std::string text = optional_body(req, reader);
  dom::parser parser;
  dom::object body;
  if (!read_object(text, res, parser, body, true)) {
    return;
  }
  const std::string outcome = text.empty() ? R"({"resolved":true})" : simdjson::minify(body);
  lock_t lock(w_.mu);
  run* r = w_.find_run(req.matches[1].str());
  if (r == nullptr) {
    return fail(res, 404, "Run not found");
  }
  while (!r->task && r->child != nullptr) { // the person answers where the task is
    r = r->child;
  }
  if (!r->task || r->task->origin->kind != step_kind::dashboard) {
    return fail(res, 400, "Run has no pending dashboard-only task (status " + r->status + ")");
  }
  w_.answer_task(*r, outcome, outcome, "dashboard");
  send(res, 202, accept_body("Running"));
}

void api::skip_agent_wait(const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
  (void)optional_body(req, reader); // no body is expected, but a framed one must be consumed
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  lock_t lock(w_.mu);
  run* r = find_scoped_run(req, res, *key);
  if (r == nullptr) {
    return;
  }
  if (!w_.skip_timer(*r)) {
    return fail(res, 400, "Run is not waiting for a timer (status " + r->status + ")");
  }
  send(res, 202, accept_body("Running"));
}

} // namespace emu
