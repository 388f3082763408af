// The hand-written baseline of phrony-bench: what a user writing simdjson On-Demand by hand would
// parse a conversation into. Owning structs of std::string members with the shape of phrony's
// types (the same fields, optionals where phrony has them), except that an item's content, like
// the other opaque values, is kept as its raw JSON text instead of being typed. Keys are matched
// with unescaped_key() and an if-chain, as simdjson's documentation does; unknown keys are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace handwritten {

namespace od = simdjson::ondemand;

struct session {
  std::string id, tenant_id, agent_id, agent_version_id;
  std::optional<std::string> llm_model;
  std::string trigger_type;
  std::optional<std::string> triggered_by, trigger_id, trigger_name;
  std::string status;
  std::int64_t total_tokens_used = 0;
  std::string output;
  std::optional<std::string> error;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::string input, start_context;
};

struct run {
  std::string id, session_id, agent_id, agent_version_id;
  std::optional<std::string> parent_run_id;
  std::int64_t depth = 0;
  std::string status;
  std::int64_t total_tokens_used = 0;
  std::string output;
  std::optional<std::string> error, started_at, finished_at;
  std::string trigger_type;
  std::optional<std::string> triggered_by, trigger_id, trigger_name;
  std::string input;
  std::optional<std::string> llm_model, agent_name, version_label;
};

struct item {
  std::string run_id, id;
  std::int64_t sequence = 0, ordinal = 0;
  std::string type;
  std::string content; ///< raw JSON
  std::optional<std::int64_t> tokens_used;
  std::optional<std::string> error, started_at, finished_at;
};

struct conversation {
  session s;
  std::vector<run> runs;
  std::vector<item> items;
};

/// Thrown on anything unexpected (the bench only feeds it well-formed bodies).
struct bad_body {};

inline void check(simdjson::error_code ec) {
  if (ec != simdjson::SUCCESS) {
    throw bad_body{};
  }
}

inline void str(od::value v, std::string& out) {
  std::string_view s;
  check(v.get_string().get(s));
  out.assign(s);
}

inline void opt_str(od::value v, std::optional<std::string>& out) {
  bool null = false;
  check(v.is_null().get(null));
  if (null) {
    out.reset();
  } else {
    str(v, out.emplace());
  }
}

inline void int64(od::value v, std::int64_t& out) { check(v.get_int64().get(out)); }

inline void opt_int64(od::value v, std::optional<std::int64_t>& out) {
  bool null = false;
  check(v.is_null().get(null));
  if (null) {
    out.reset();
  } else {
    check(v.get_int64().get(out.emplace()));
  }
}

/// Any value's JSON text.
inline void raw(od::value v, std::string& out) {
  od::json_type t{};
  check(v.type().get(t));
  std::string_view s;
  if (t == od::json_type::object) {
    od::object o;
    check(v.get_object().get(o));
    check(o.raw_json().get(s));
  } else if (t == od::json_type::array) {
    od::array a;
    check(v.get_array().get(a));
    check(a.raw_json().get(s));
  } else {
    s = v.raw_json_token();
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
      s.remove_suffix(1);
    }
  }
  out.assign(s);
}

inline void read(od::value v, session& out) {
  od::object o;
  check(v.get_object().get(o));
  for (auto f : o) {
    std::string_view k;
    check(f.unescaped_key().get(k));
    od::value x = f.value();
    if (k == "id")
      str(x, out.id);
    else if (k == "tenantId")
      str(x, out.tenant_id);
    else if (k == "agentId")
      str(x, out.agent_id);
    else if (k == "agentVersionId")
      str(x, out.agent_version_id);
    else if (k == "llmModel")
      opt_str(x, out.llm_model);
    else if (k == "triggerType")
      str(x, out.trigger_type);
    else if (k == "triggeredBy")
      opt_str(x, out.triggered_by);
    else if (k == "triggerId")
      opt_str(x, out.trigger_id);
    else if (k == "triggerName")
      opt_str(x, out.trigger_name);
    else if (k == "status")
      str(x, out.status);
    else if (k == "totalTokensUsed")
      int64(x, out.total_tokens_used);
    else if (k == "output")
      raw(x, out.output);
    else if (k == "error")
      opt_str(x, out.error);
    else if (k == "startedAt")
      str(x, out.started_at);
    else if (k == "finishedAt")
      opt_str(x, out.finished_at);
    else if (k == "input")
      raw(x, out.input);
    else if (k == "startContext")
      raw(x, out.start_context);
  }
}

inline void read(od::value v, run& out) {
  od::object o;
  check(v.get_object().get(o));
  for (auto f : o) {
    std::string_view k;
    check(f.unescaped_key().get(k));
    od::value x = f.value();
    if (k == "id")
      str(x, out.id);
    else if (k == "sessionId")
      str(x, out.session_id);
    else if (k == "agentId")
      str(x, out.agent_id);
    else if (k == "agentVersionId")
      str(x, out.agent_version_id);
    else if (k == "parentRunId")
      opt_str(x, out.parent_run_id);
    else if (k == "depth")
      int64(x, out.depth);
    else if (k == "status")
      str(x, out.status);
    else if (k == "totalTokensUsed")
      int64(x, out.total_tokens_used);
    else if (k == "output")
      raw(x, out.output);
    else if (k == "error")
      opt_str(x, out.error);
    else if (k == "startedAt")
      opt_str(x, out.started_at);
    else if (k == "finishedAt")
      opt_str(x, out.finished_at);
    else if (k == "triggerType")
      str(x, out.trigger_type);
    else if (k == "triggeredBy")
      opt_str(x, out.triggered_by);
    else if (k == "triggerId")
      opt_str(x, out.trigger_id);
    else if (k == "triggerName")
      opt_str(x, out.trigger_name);
    else if (k == "input")
      raw(x, out.input);
    else if (k == "llmModel")
      opt_str(x, out.llm_model);
    else if (k == "agentName")
      opt_str(x, out.agent_name);
    else if (k == "versionLabel")
      opt_str(x, out.version_label);
  }
}

inline void read(od::value v, item& out) {
  od::object o;
  check(v.get_object().get(o));
  for (auto f : o) {
    std::string_view k;
    check(f.unescaped_key().get(k));
    od::value x = f.value();
    if (k == "runId")
      str(x, out.run_id);
    else if (k == "id")
      str(x, out.id);
    else if (k == "sequence")
      int64(x, out.sequence);
    else if (k == "ordinal")
      int64(x, out.ordinal);
    else if (k == "type")
      str(x, out.type);
    else if (k == "content")
      raw(x, out.content);
    else if (k == "tokensUsed")
      opt_int64(x, out.tokens_used);
    else if (k == "error")
      opt_str(x, out.error);
    else if (k == "startedAt")
      opt_str(x, out.started_at);
    else if (k == "finishedAt")
      opt_str(x, out.finished_at);
  }
}

template <class T> void read_array(od::value v, std::vector<T>& out) {
  od::array a;
  check(v.get_array().get(a));
  for (auto e : a) {
    od::value x;
    check(e.get(x));
    read(x, out.emplace_back());
  }
}

/// Parses `body` (copied into `buffer` with simdjson's padding, as a string_view API must) into
/// a fresh conversation.
inline conversation parse(od::parser& parser, std::string& buffer, std::string_view body) {
  buffer.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(body);
  od::document doc;
  check(parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc));
  od::object root;
  check(doc.get_object().get(root));
  conversation c;
  for (auto f : root) {
    std::string_view k;
    check(f.unescaped_key().get(k));
    od::value x = f.value();
    if (k == "session")
      read(x, c.s);
    else if (k == "runs")
      read_array(x, c.runs);
    else if (k == "items")
      read_array(x, c.items);
  }
  return c;
}

} // namespace handwritten
