// phrony-emulator: response bodies. Field order follows SPEC.md and the shared fixtures, so a
// body from the emulator reads like one from the service.
#include "render.hpp"

#include <phrony/json_writer.hpp>

namespace emu {

namespace {

using phrony::json_writer;
using phrony::raw_json;

void optional_string(json_writer& w, std::string_view key, const std::optional<std::string>& v) {
  w.key(key);
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

// Redacted mode (the API trigger hides the timeline): inputs and the start context are withheld.
bool redacted(const session& s) { return s.agent->hide_timeline; }

void start_context(json_writer& w, const session& s) {
  const agent_def& a = *s.agent;
  bool has_subagents = false;
  for (const step& st : a.steps) {
    has_subagents = has_subagents || st.kind == step_kind::subagent;
  }
  w.begin_object().key("version").value(1).key("userInput").raw(raw_json{s.input});
  w.key("llmModel").value(a.model).key("temperature").value(0);
  w.key("maxTokensPerRun").value(200000).key("maxSessionTokens").value(1000000);
  w.key("maxSessionDurationSec").value(3600).key("maxIterations").value(40);
  w.key("maxToolCalls").value(60).key("instructions").value(a.instructions);
  w.key("subAgentExecutionModel").value("sequential");
  w.key("canExecuteSubAgents").value(has_subagents).key("topP").null().key("topK").null();
  w.key("agentExecutionMode").value("HITL").key("rootAgentExecutionMode").value("HITL");
  w.key("maxDepth").value(1).end_object();
}

// The members sessions rows and the conversation's `session` share, up to "error".
void session_head(json_writer& w, const world& wd, const session& s) {
  const run& root = *s.root;
  w.key("id").value(s.id).key("tenantId").value(wd.scene().tenant_id);
  w.key("agentId").value(s.agent->id).key("agentVersionId").value(s.agent->version_id);
  w.key("llmModel").value(s.agent->model).key("triggerType").value("api");
  w.key("triggeredBy").value("apiKey:" + s.key->id).key("triggerId").value(s.agent->trigger_id);
  w.key("triggerName").value("API");
  w.key("status").value(root.status).key("totalTokensUsed").value(s.total_tokens());
  w.key("output").raw(raw_json{root.output});
  optional_string(w, "error", root.error);
}

void item_row(json_writer& w, const world& wd, const item& it, std::size_t ordinal, bool slim) {
  w.begin_object().key("runId").value(it.owner->id).key("id").value(it.id);
  w.key("sequence").value(it.sequence).key("ordinal").value(static_cast<std::uint64_t>(ordinal));
  w.key("type").value(it.type).key("content").raw(raw_json{wd.content_json(it, slim)});
  w.key("tokensUsed");
  if (it.tokens_used) {
    w.value(*it.tokens_used);
  } else {
    w.null();
  }
  optional_string(w, "error", it.error);
  w.key("startedAt").value(it.started_at);
  optional_string(w, "finishedAt", it.finished_at);
  w.end_object();
}

} // namespace

std::string_view reason_of(int status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 413: return "Payload Too Large";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  default: return "Error";
  }
}

std::string error_body(int status, std::string_view message) {
  json_writer w;
  w.begin_object().key("statusCode").value(status).key("message").value(message);
  w.key("error").value(reason_of(status)).end_object();
  return w.str();
}

std::string start_run_body(const session& s) {
  json_writer w;
  w.begin_object().key("sessionId").value(s.id).key("runId").value(s.root->id);
  w.key("status").value("Running").key("totalTokensUsed").value(0).key("output").null();
  w.key("agentId").value(s.agent->id).key("triggerId").value(s.agent->trigger_id).end_object();
  return w.str();
}

std::string run_status_body(const run& r) {
  json_writer w;
  w.begin_object().key("runId").value(r.id).key("status").value(r.status);
  w.key("output").raw(raw_json{r.output});
  if (r.error) {
    w.key("error").value(*r.error);
  }
  // Not documented, but "may include other fields": the same extras the fixtures carry.
  w.key("sessionId").value(r.sess->id).key("totalTokensUsed").value(r.tokens).end_object();
  return w.str();
}

std::string sessions_page_body(const world& wd, const std::vector<const session*>& page,
                               std::size_t total) {
  json_writer w;
  w.begin_object().key("items").begin_array();
  for (const session* s : page) {
    w.begin_object();
    session_head(w, wd, *s);
    const bool hide = redacted(*s);
    w.key("input");
    hide ? w.null() : w.raw(raw_json{s->input});
    w.key("startContext");
    if (hide) {
      w.null();
    } else {
      start_context(w, *s);
    }
    w.key("rootRunId").value(s->root->id).key("startedAt").value(s->started_at);
    optional_string(w, "finishedAt", s->root->finished_at);
    w.key("runCount").value(static_cast<std::uint64_t>(s->runs.size()));
    w.key("entryRunId").value(s->root->id).end_object();
  }
  w.end_array().key("total").value(static_cast<std::uint64_t>(total)).end_object();
  return w.str();
}

std::string conversation_body(const world& wd, const run& r, bool slim) {
  const session& s = *r.sess;
  const bool hide = redacted(s);
  json_writer w;
  w.begin_object().key("session").begin_object();
  session_head(w, wd, s);
  w.key("startedAt").value(s.started_at);
  optional_string(w, "finishedAt", s.root->finished_at);
  w.key("input");
  hide ? w.null() : w.raw(raw_json{s.input});
  w.key("startContext");
  if (hide) {
    w.null();
  } else {
    start_context(w, s);
  }
  w.end_object().key("runs").begin_array();
  for (const run* x : s.runs) {
    if (hide && x->depth > 0) {
      continue;
    }
    w.begin_object().key("id").value(x->id).key("sessionId").value(s.id);
    w.key("agentId").value(x->agent->id).key("agentVersionId").value(x->agent->version_id);
    w.key("parentRunId");
    x->parent != nullptr ? w.value(x->parent->id) : w.null();
    w.key("depth").value(x->depth).key("status").value(x->status);
    w.key("totalTokensUsed").value(x->tokens).key("output").raw(raw_json{x->output});
    optional_string(w, "error", x->error);
    w.key("startedAt").value(x->started_at);
    optional_string(w, "finishedAt", x->finished_at);
    w.key("triggerType").value("api").key("triggeredBy").value("apiKey:" + s.key->id);
    w.key("triggerId").value(s.agent->trigger_id).key("triggerName").value("API");
    w.key("input");
    hide ? w.null() : w.raw(raw_json{x->input});
    w.key("llmModel").value(x->agent->model).key("agentName").value(x->agent->name);
    w.key("versionLabel").value("v1").end_object();
  }
  w.end_array().key("items").begin_array();
  std::size_t ordinal = 0;
  for (const item& it : s.items) {
    // Redacted mode keeps only SessionCompleted and the root run's RunCompleted; ordinals
    // number what is returned, so they stay 1-based and gap-free.
    if (hide &&
        !(it.type == "SessionCompleted" || (it.type == "RunCompleted" && it.owner->depth == 0))) {
      continue;
    }
    item_row(w, wd, it, ++ordinal, slim);
  }
  w.end_array().end_object();
  return w.str();
}

std::string accept_body(std::string_view status) {
  json_writer w;
  w.begin_object().key("status").value(status).end_object();
  return w.str();
}

} // namespace emu
