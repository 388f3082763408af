// phrony-emulator: the engine. Runs execute their script one step per tick; every step appends
// conversation rows and stream events exactly as the service's timeline shows them (the shapes
// follow SPEC.md and /work/shared/fixtures/README.md).
#include "world.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include <phrony/json_writer.hpp>

namespace emu {

namespace {

using phrony::json_writer;
using phrony::raw_json;

std::string raw_or_null(const std::optional<std::string>& s) {
  json_writer w;
  if (s) {
    w.value(*s);
  } else {
    w.null();
  }
  return w.str();
}

// "{a}" + "{b}" -> "{a,b}": the stanza and the step content are written separately.
std::string splice(std::string head, std::string_view tail) {
  if (tail.size() <= 2) {
    return head;
  }
  if (head.size() <= 2) {
    return std::string(tail);
  }
  head.pop_back();
  head += ',';
  head.append(tail.substr(1));
  return head;
}

// The first 120 characters with whitespace folded, as the reasoning row's `preview`.
std::string preview_of(std::string_view message) {
  std::string out;
  std::size_t chars = 0;
  bool space = false;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const auto c = static_cast<unsigned char>(message[i]);
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    const bool starts_char = (c & 0xC0) != 0x80; // UTF-8 continuation bytes belong to the last
    if (starts_char) {
      if (chars + (space ? 1 : 0) >= 120) {
        return out + "\u2026";
      }
      if (space) {
        out += ' ';
        ++chars;
        space = false;
      }
      ++chars;
    }
    out += static_cast<char>(c);
  }
  return out;
}

std::string_view title_of(std::string_view kind) {
  if (kind == "approval") {
    return "Approval required";
  }
  if (kind == "multi_option") {
    return "Choose an option";
  }
  if (kind == "number") {
    return "Number needed";
  }
  if (kind == "aitl_escalation") {
    return "A sub-agent needs help";
  }
  if (kind == "anomaly_review" || kind == "anomaly_alert") {
    return "Firewall review";
  }
  return "Input needed";
}

// An approval step need not script its prompt; the service words one from the tool.
std::string prompt_of(const user_task& t) {
  if (t.origin->prompt.empty() && t.kind == "approval") {
    return "Allow `" + t.origin->name + "` to run with the arguments shown?";
  }
  return t.origin->prompt;
}

std::string_view subject_of(std::string_view type) {
  if (type == "llm_request_prepared") {
    return "engine.step.llm_request_prepared";
  }
  if (type == "reasoning") {
    return "engine.step.reasoning";
  }
  if (type == "ToolCall") {
    return "engine.step.tool_call";
  }
  if (type == "ToolResult") {
    return "engine.step.tool_result";
  }
  if (type == "output") {
    return "engine.step.output";
  }
  if (type == "UserTaskReq") {
    return "engine.step.user_task_req";
  }
  return "engine.step.user_message";
}

} // namespace

std::int64_t session::total_tokens() const {
  std::int64_t t = 0;
  for (const run* r : runs) {
    t += r->tokens;
  }
  return t;
}

world::world(scenario sc, steady::duration tick, std::uint64_t seed)
    : scenario_(std::move(sc)), tick_(tick), ids_(seed) {}

session& world::start_session(const agent_def& agent, const api_key& key, std::string input_json) {
  auto s = std::make_unique<session>();
  s->id = ids_.next();
  s->agent = &agent;
  s->key = &key;
  s->input = std::move(input_json);
  s->started_at = iso_now();
  auto r = std::make_unique<run>();
  r->id = ids_.next();
  r->sess = s.get();
  r->agent = &agent;
  r->input = s->input;
  r->started_at = s->started_at;
  r->next_due = steady::now() + tick_;
  s->root = r.get();
  s->runs.push_back(r.get());

  json_writer w;
  w.begin_object().key("session_id").value(s->id).key("tenant_id").value(scenario_.tenant_id);
  w.key("agent_id").value(agent.id).key("agent_version_id").value(agent.version_id);
  w.key("trigger_type").value("api").key("trigger_id").value(agent.trigger_id);
  w.key("status").value("Running").key("input").raw(raw_json{s->input}).end_object();
  emit(*s, "session", "engine.session.started", w.str());
  json_writer extra;
  extra.begin_object().key("input").raw(raw_json{r->input}).key("llm_model").value(agent.model);
  extra.end_object();
  emit(*s, "run", "engine.run.started", run_data(*r, "Running", extra.str()));

  active_.push_back(s.get());
  runs_.push_back(std::move(r));
  sessions_.push_back(std::move(s));
  return *sessions_.back();
}

run* world::find_run(std::string_view id) {
  for (const auto& r : runs_) {
    if (r->id == id) {
      return r.get();
    }
  }
  return nullptr;
}

std::size_t world::active_sessions(const api_key& key) const {
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(),
                    [&](const auto& s) { return s->key == &key && !s->root->done; }));
}

// ---- timeline and events -----------------------------------------------------------------

item& world::add_item(run& r, std::string type, std::string content, row_extras extras) {
  session& s = *r.sess;
  item it;
  it.owner = &r;
  it.id = ids_.next();
  it.type = std::move(type);
  it.sequence = ++r.seq;
  it.iteration = std::max(1, r.iteration);
  it.event_id = ids_.next();
  it.synthetic = extras.synthetic;
  it.content = std::move(content);
  it.tokens_used = extras.tokens_used;
  it.error = std::move(extras.error);
  it.started_at = iso_now();
  it.finished_at = it.started_at;
  s.items.push_back(std::move(it));
  item& added = s.items.back();
  if (!added.synthetic) {
    json_writer w;
    w.begin_object().key("step_id").value(added.id).key("run_id").value(r.id);
    w.key("session_id").value(s.id).key("type").value(added.type);
    w.key("sequence").value(added.sequence).key("tokens_used");
    if (added.tokens_used) {
      w.value(*added.tokens_used);
    } else {
      w.null();
    }
    w.key("error").raw(raw_json{raw_or_null(added.error)});
    w.key("content").raw(raw_json{content_json(added, false)}).end_object();
    emit(s, "step", std::string(subject_of(added.type)), w.str());
  }
  return added;
}

void world::emit(session& s, std::string kind, std::string subject, std::string data_json) {
  s.events.push_back(
      {s.events.size() + 1, std::move(kind), std::move(subject), iso_now(), std::move(data_json)});
}

std::string world::run_data(const run& r, std::string_view status,
                            std::string_view extra_members) const {
  json_writer w;
  w.begin_object().key("run_id").value(r.id).key("session_id").value(r.sess->id);
  w.key("tenant_id").value(scenario_.tenant_id).key("agent_id").value(r.agent->id);
  w.key("agent_version_id").value(r.agent->version_id).key("parent_run_id");
  if (r.parent != nullptr) {
    w.value(r.parent->id);
  } else {
    w.null();
  }
  w.key("depth").value(r.depth).key("status").value(status).end_object();
  return splice(w.str(), extra_members);
}

std::string world::content_json(const item& it, bool slim) const {
  const run& r = *it.owner;
  json_writer w;
  w.begin_object();
  if (it.synthetic) {
    // SessionCompleted / RunCompleted carry only their own id, which slim mode drops too.
    if (!slim) {
      w.key(it.type == "SessionCompleted" ? "session_id" : "run_id");
      w.value(it.type == "SessionCompleted" ? r.sess->id : r.id);
    }
    w.end_object();
    return splice(w.str(), it.content);
  }
  if (!slim) {
    w.key("run_id").value(r.id).key("session_id").value(r.sess->id);
    w.key("tenant_id").value(scenario_.tenant_id).key("agent_id").value(r.agent->id);
    w.key("agent_version_id").value(r.agent->version_id).key("event_id").value(it.event_id);
  }
  w.key("sequence").value(it.sequence).key("step_kind").value(it.type);
  w.key("iteration").value(it.iteration).end_object();
  return splice(w.str(), it.content);
}

// ---- the engine --------------------------------------------------------------------------

void world::run_engine() {
  while (!stopping_) {
    {
      std::lock_guard lock(mu);
      const auto now = steady::now();
      std::size_t before = 0;
      std::size_t after = 0;
      for (session* s : active_) {
        before += s->events.size();
        // Index loop: a step may spawn a child run, growing s->runs.
        for (std::size_t i = 0; i < s->runs.size(); ++i) {
          advance(*s->runs[i], now);
        }
        after += s->events.size();
      }
      std::erase_if(active_, [](const session* s) { return s->root->done; });
      if (after != before) {
        changed.notify_all();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void world::stop() {
  {
    std::lock_guard lock(mu);
    stopping_ = true;
  }
  changed.notify_all();
}

void world::advance(run& r, steady::time_point now) {
  if (r.done) {
    return;
  }
  if (r.status == "WaitingForTimer" && r.child == nullptr && now >= r.timer_deadline) {
    // The timer fired on its own: the same resumption as skip-agent-wait, minus "skipped".
    json_writer w;
    w.begin_object().key("waited_seconds").value(r.waiting_step->seconds);
    w.key("skipped").value(false).end_object();
    r.pending_result = tool_outcome{r.waiting_call_id, "phrony_wait", w.str(), std::nullopt};
    resume(r);
    return;
  }
  if (r.status != "Running" || r.child != nullptr || now < r.next_due) {
    return;
  }
  r.next_due = now + tick_;
  if (r.pending_result) {
    tool_outcome o = std::move(*r.pending_result);
    r.pending_result.reset();
    json_writer w;
    w.begin_object().key("tool_call_id").value(o.tool_call_id).key("name").value(o.name);
    w.key("result").begin_object().key("data").raw(raw_json{o.error ? "null" : o.data});
    w.key("error").raw(raw_json{raw_or_null(o.error)}).key("log_id").value(ids_.next());
    w.key("successful").value(!o.error).end_object().end_object();
    // The row's own `error` mirrors the result's, as the service's timeline does.
    add_item(r, "ToolResult", w.str(),
             {.tokens_used = std::nullopt, .error = o.error, .synthetic = false});
    return;
  }
  if (r.pc >= r.agent->steps.size()) {
    complete(r, "Completed", std::nullopt);
    return;
  }
  const step& st = r.agent->steps[r.pc++];
  execute(r, st, now);
}

void world::execute(run& r, const step& st, steady::time_point now) {
  switch (st.kind) {
  case step_kind::reasoning: {
    ++r.iteration;
    json_writer llm;
    llm.begin_object().key("model").value(r.agent->model);
    llm.key("message_count").value(2 * r.iteration + 2).key("tool_count").value(3);
    llm.key("max_output_tokens").value(4096).end_object();
    add_item(r, "llm_request_prepared", llm.str());
    // Deterministic "usage": a function of the text, so totals are reproducible.
    const auto tokens = static_cast<std::int64_t>(40 + st.message.size() / 3);
    r.tokens += tokens;
    json_writer w;
    w.begin_object().key("message").value(st.message).key("preview").value(preview_of(st.message));
    w.key("tokens_used").value(tokens).end_object();
    add_item(r, "reasoning", w.str(),
             {.tokens_used = tokens, .error = std::nullopt, .synthetic = false});
    return;
  }
  case step_kind::tool_call: {
    const std::string call_id = ids_.next_token("call_");
    json_writer w;
    w.begin_object().key("name").value(st.name).key("arguments").raw(raw_json{st.arguments});
    w.key("tool_call_id").value(call_id).key("operation_name").value(st.operation_name);
    w.end_object();
    add_item(r, "ToolCall", w.str());
    if (st.requires_approval) {
      open_task(r, st, "approval", call_id);
    } else {
      r.pending_result = tool_outcome{call_id, st.name, st.result, st.error};
    }
    return;
  }
  case step_kind::multi_option: open_task(r, st, "multi_option", {}); return;
  case step_kind::text: open_task(r, st, "text", {}); return;
  case step_kind::number: open_task(r, st, "number", {}); return;
  case step_kind::dashboard: open_task(r, st, st.task_kind, {}); return;
  case step_kind::ask_user: {
    // The question shows in the timeline as the model's message; the run then waits for chat.
    json_writer w;
    w.begin_object().key("message").value(st.message).key("preview").value(preview_of(st.message));
    w.key("tokens_used").value(0).end_object();
    add_item(r, "reasoning", w.str(),
             {.tokens_used = 0, .error = std::nullopt, .synthetic = false});
    r.waiting_step = &st;
    set_waiting(r, "WaitingForResponse", {});
    return;
  }
  case step_kind::timer: {
    r.waiting_call_id = ids_.next_token("call_");
    json_writer w;
    w.begin_object().key("name").value("phrony_wait").key("arguments").begin_object();
    w.key("seconds").value(st.seconds).end_object().key("tool_call_id").value(r.waiting_call_id);
    w.key("operation_name").value("Wait").end_object();
    add_item(r, "ToolCall", w.str());
    r.waiting_step = &st;
    r.timer_started = now;
    r.timer_deadline = now + std::chrono::duration_cast<steady::duration>(
                                 std::chrono::duration<double>(st.seconds));
    set_waiting(r, "WaitingForTimer", {});
    return;
  }
  case step_kind::subagent: {
    const agent_def& child_agent = *st.child;
    auto c = std::make_unique<run>();
    c->id = ids_.next();
    c->sess = r.sess;
    c->agent = &child_agent;
    c->parent = &r;
    c->depth = r.depth + 1;
    c->input = st.input;
    c->spawn = &st;
    c->spawn_call_id = ids_.next_token("call_");
    json_writer w;
    w.begin_object().key("name").value("phrony_subagent").key("arguments").begin_object();
    w.key("agent_id").value(child_agent.id).key("agent_name").value(child_agent.name);
    w.key("input").raw(raw_json{c->input}).end_object();
    w.key("tool_call_id").value(c->spawn_call_id);
    w.key("operation_name").value("Run sub-agent: " + child_agent.name).end_object();
    add_item(r, "ToolCall", w.str());
    c->started_at = iso_now();
    c->next_due = now + tick_;
    json_writer spawned;
    spawned.begin_object().key("parent_run_id").value(r.id).key("run_id").value(c->id);
    spawned.key("agent_id").value(child_agent.id).key("agent_name").value(child_agent.name);
    spawned.key("depth").value(c->depth).key("tool_call_id").value(c->spawn_call_id).end_object();
    emit(*r.sess, "run", "engine.subagent.spawned", spawned.str());
    json_writer extra;
    extra.begin_object().key("input").raw(raw_json{c->input});
    extra.key("llm_model").value(child_agent.model).end_object();
    emit(*r.sess, "run", "engine.run.started", run_data(*c, "Running", extra.str()));
    r.child = c.get();
    r.sess->runs.push_back(c.get());
    runs_.push_back(std::move(c));
    return;
  }
  case step_kind::output: {
    r.output = fill_template(r, st.value);
    json_writer w;
    w.begin_object().key("output").raw(raw_json{r.output}).key("tokens_used").null();
    w.key("total_tokens_used").value(r.tokens).end_object();
    add_item(r, "output", w.str());
    return;
  }
  case step_kind::fail: complete(r, "Failed", st.message); return;
  }
}

// ---- user tasks, waiting and resuming ----------------------------------------------------

std::string world::task_content(const run& r, const user_task& t, bool completed,
                                std::string_view outcome, std::string_view completed_by) const {
  const step& st = *t.origin;
  json_writer w;
  w.begin_object().key("user_task_id").value(t.id).key("kind").value(t.kind);
  w.key("title").value(title_of(t.kind)).key("prompt").value(prompt_of(t));
  if (t.kind == "multi_option") {
    w.key("options").begin_array();
    for (const option& o : st.options) {
      w.begin_object().key("id").value(o.id).key("label").value(o.label).end_object();
    }
    w.end_array();
  }
  if (t.kind == "number") {
    if (st.min) {
      w.key("min").value(*st.min);
    }
    if (st.max) {
      w.key("max").value(*st.max);
    }
  }
  if (t.kind == "approval") {
    w.key("tool_call_id").value(t.tool_call_id).key("operation_name").value(st.operation_name);
    w.key("arguments").raw(raw_json{st.arguments});
  }
  w.key("status").value(completed ? "completed" : "pending");
  if (completed) {
    w.key("outcome").raw(raw_json{std::string(outcome)}).key("completed_by").value(completed_by);
    w.key("completed_at").value(r.sess->items[t.item_index].finished_at.value_or(iso_now()));
  }
  w.end_object();
  return w.str();
}

void world::open_task(run& r, const step& st, std::string kind, std::string tool_call_id) {
  user_task t;
  t.id = ids_.next();
  t.kind = std::move(kind);
  t.origin = &st;
  t.tool_call_id = std::move(tool_call_id);
  t.item_index = r.sess->items.size();
  item& row = add_item(r, "UserTaskReq", task_content(r, t, false, {}));
  row.finished_at.reset(); // a pending task's row is still open
  json_writer w;
  w.begin_object().key("user_task_id").value(t.id).key("run_id").value(r.id);
  w.key("session_id").value(r.sess->id).key("kind").value(t.kind);
  w.key("title").value(title_of(t.kind)).key("prompt").value(prompt_of(t));
  w.key("status").value("pending");
  if (t.kind == "multi_option") {
    w.key("options").begin_array();
    for (const option& o : st.options) {
      w.begin_object().key("id").value(o.id).key("label").value(o.label).end_object();
    }
    w.end_array();
  }
  w.end_object();
  emit(*r.sess, "user_task", "engine.user_task.created", w.str());
  if (t.kind == "aitl_escalation") {
    json_writer q;
    q.begin_object().key("run_id").value(r.id).key("user_task_id").value(t.id);
    q.key("question").value(prompt_of(t)).key("status").value("pending").end_object();
    emit(*r.sess, "aitl", "engine.aitl.requested", q.str());
  }
  r.waiting_step = &st;
  const std::string id = t.id;
  r.task = std::move(t);
  set_waiting(r, st.kind == step_kind::dashboard ? st.wait_status : "WaitingForHITL", id);
}

void world::set_waiting(run& r, std::string_view status, std::string_view user_task_id) {
  // A waiting sub-agent puts its ancestors (up to the root, hence the session) in the same state,
  // but the task is still answered through the child's runId.
  for (run* x = &r; x != nullptr; x = x->parent) {
    x->status = std::string(status);
    std::string extra;
    if (!user_task_id.empty()) {
      json_writer w;
      w.begin_object().key("user_task_id").value(user_task_id).end_object();
      extra = w.str();
    }
    emit(*r.sess, "run", "engine.run.waiting", run_data(*x, status, extra));
  }
}

void world::resume(run& r) {
  for (run* x = &r; x != nullptr; x = x->parent) {
    x->status = "Running";
    emit(*r.sess, "run", "engine.run.resumed", run_data(*x, "Running"));
  }
  r.waiting_step = nullptr;
  r.next_due = steady::now() + tick_;
  changed.notify_all();
}

void world::answer_task(run& r, std::string outcome_json, std::string saved_value_json,
                        std::string_view completed_by) {
  user_task t = std::move(*r.task);
  r.task.reset();
  item& row = r.sess->items[t.item_index];
  row.finished_at = iso_now();
  row.content = task_content(r, t, true, outcome_json, completed_by);
  json_writer w;
  w.begin_object().key("user_task_id").value(t.id).key("run_id").value(r.id);
  w.key("session_id").value(r.sess->id).key("kind").value(t.kind);
  w.key("title").value(title_of(t.kind)).key("prompt").value(prompt_of(t));
  w.key("status").value("completed").key("outcome").raw(raw_json{outcome_json});
  w.key("completed_by").value(completed_by).end_object();
  emit(*r.sess, "user_task", "engine.user_task.completed", w.str());
  if (t.kind == "aitl_escalation") {
    json_writer a;
    a.begin_object().key("run_id").value(r.id).key("user_task_id").value(t.id);
    a.key("answer").raw(raw_json{outcome_json}).key("status").value("answered").end_object();
    emit(*r.sess, "aitl", "engine.aitl.answered", a.str());
  }
  if (!t.origin->save_as.empty()) {
    r.answers[t.origin->save_as] = saved_value_json;
  }
  if (t.kind == "approval") {
    const step& st = *t.origin;
    if (saved_value_json == "true") {
      r.pending_result = tool_outcome{t.tool_call_id, st.name, st.result, st.error};
    } else {
      r.pending_result =
          tool_outcome{t.tool_call_id, st.name, "null", std::string("Rejected by user")};
    }
  }
  resume(r);
}

void world::reply(run& r, std::optional<std::string> text, std::string files_json) {
  // Not a documented row type: the service adds types over time, and clients must keep unknown
  // ones, so the user's reply appears as a "UserMessage" row.
  json_writer w;
  w.begin_object().key("text").raw(raw_json{raw_or_null(text)});
  w.key("files").raw(raw_json{files_json}).end_object();
  add_item(r, "UserMessage", w.str());
  if (r.waiting_step != nullptr && !r.waiting_step->save_as.empty()) {
    r.answers[r.waiting_step->save_as] = w.str();
  }
  resume(r);
}

bool world::skip_timer(run& r) {
  run* waiting = &r;
  while (waiting->child != nullptr) {
    waiting = waiting->child;
  }
  if (waiting->status != "WaitingForTimer") {
    return false;
  }
  const double waited =
      std::chrono::duration<double>(steady::now() - waiting->timer_started).count();
  json_writer w;
  w.begin_object().key("waited_seconds").value(static_cast<std::int64_t>(waited));
  w.key("skipped").value(true).end_object();
  waiting->pending_result =
      tool_outcome{waiting->waiting_call_id, "phrony_wait", w.str(), std::nullopt};
  resume(*waiting);
  return true;
}

void world::complete(run& r, std::string_view status, std::optional<std::string> error) {
  r.status = std::string(status);
  r.error = std::move(error);
  r.done = true;
  r.finished_at = iso_now();
  json_writer w;
  w.begin_object().key("status").value(status).key("output").raw(raw_json{r.output});
  w.key("error").raw(raw_json{raw_or_null(r.error)});
  w.key("total_tokens_used").value(r.tokens).end_object();
  add_item(r, "RunCompleted", w.str(),
           {.tokens_used = std::nullopt, .error = r.error, .synthetic = true});
  json_writer extra;
  extra.begin_object().key("output").raw(raw_json{r.output});
  extra.key("error").raw(raw_json{raw_or_null(r.error)});
  extra.key("total_tokens_used").value(r.tokens).end_object();
  emit(*r.sess, "run", "engine.run.completed", run_data(r, status, extra.str()));

  if (r.parent != nullptr) {
    run& p = *r.parent;
    p.child = nullptr;
    json_writer data;
    data.begin_object().key("run_id").value(r.id).key("status").value(status);
    data.key("output").raw(raw_json{r.output}).key("total_tokens_used").value(r.tokens);
    data.end_object();
    p.pending_result = tool_outcome{r.spawn_call_id, "phrony_subagent", data.str(), r.error};
    if (!r.spawn->save_as.empty()) {
      p.answers[r.spawn->save_as] = r.output;
    }
    p.next_due = steady::now() + tick_;
    return;
  }
  session& s = *r.sess;
  json_writer sc;
  sc.begin_object().key("status").value(status).key("output").raw(raw_json{r.output});
  sc.key("error").raw(raw_json{raw_or_null(r.error)});
  sc.key("total_tokens_used").value(s.total_tokens()).end_object();
  add_item(r, "SessionCompleted", sc.str(),
           {.tokens_used = std::nullopt, .error = r.error, .synthetic = true});
  json_writer ev;
  ev.begin_object().key("session_id").value(s.id).key("status").value(status);
  ev.key("output").raw(raw_json{r.output}).key("error").raw(raw_json{raw_or_null(r.error)});
  ev.key("total_tokens_used").value(s.total_tokens()).end_object();
  emit(s, "session", "engine.session.completed", ev.str());
  changed.notify_all();
}

// Output templates: a string value that is exactly "{{name}}" becomes the saved answer `name`
// (or the run input for "{{input}}"), as JSON: a bool, a number, a string, an object ...
std::string world::fill_template(const run& r, std::string_view tmpl) const {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = tmpl.find("\"{{", pos);
    if (open == std::string_view::npos) {
      break;
    }
    const std::size_t close = tmpl.find("}}\"", open + 3);
    if (close == std::string_view::npos) {
      break;
    }
    const std::string_view name = tmpl.substr(open + 3, close - open - 3);
    const bool escaped = open > 0 && tmpl[open - 1] == '\\'; // inside a longer string
    if (escaped || name.find('"') != std::string_view::npos) {
      out.append(tmpl.substr(pos, open + 1 - pos));
      pos = open + 1;
      continue;
    }
    out.append(tmpl.substr(pos, open - pos));
    if (name == "input") {
      out += r.input;
    } else if (auto it = r.answers.find(std::string(name)); it != r.answers.end()) {
      out += it->second;
    } else {
      out += "null";
    }
    pos = close + 3;
  }
  out.append(tmpl.substr(pos));
  return out;
}

} // namespace emu
