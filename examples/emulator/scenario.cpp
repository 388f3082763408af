// phrony-emulator: reading a scenario document (simdjson DOM: it is small and read once).
#include "scenario.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include <simdjson.h>

#include "ids.hpp"

namespace emu {

namespace {

namespace dom = simdjson::dom;

// A scenario error: a JSON Pointer and what is wrong there.
struct bad {
  std::string path;
  std::string what;
};

std::string str_or(dom::object o, const char* key, std::string fallback, const std::string& path) {
  auto v = o[key];
  if (v.error() == simdjson::NO_SUCH_FIELD) {
    return fallback;
  }
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    throw bad{path + "/" + key, "expected a string"};
  }
  return std::string(s);
}

std::string required_str(dom::object o, const char* key, const std::string& path) {
  if (o[key].error() == simdjson::NO_SUCH_FIELD) {
    throw bad{path + "/" + key, "missing"};
  }
  return str_or(o, key, {}, path);
}

std::optional<double> num_or_none(dom::object o, const char* key, const std::string& path) {
  auto v = o[key];
  if (v.error() == simdjson::NO_SUCH_FIELD) {
    return std::nullopt;
  }
  double d = 0;
  if (v.get_double().get(d) != simdjson::SUCCESS) {
    throw bad{path + "/" + key, "expected a number"};
  }
  return d;
}

// Opaque JSON (arguments, results, output templates) is kept as compact text.
std::string json_or(dom::object o, const char* key, std::string fallback) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) {
    return fallback;
  }
  return simdjson::minify(e);
}

dom::object object_at(dom::element e, const std::string& path) {
  dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) {
    throw bad{path, "expected an object"};
  }
  return o;
}

dom::array array_at(dom::object o, const char* key, const std::string& path) {
  dom::array a;
  if (o[key].get_array().get(a) != simdjson::SUCCESS) {
    throw bad{path + "/" + key, "expected an array"};
  }
  return a;
}

std::vector<step> parse_steps(dom::array arr, const std::string& path, int depth);

step parse_step(dom::element e, const std::string& path, int depth) {
  static constexpr std::array<std::pair<std::string_view, step_kind>, 11> kinds{{
      {"reasoning", step_kind::reasoning},
      {"tool_call", step_kind::tool_call},
      {"multi_option", step_kind::multi_option},
      {"text", step_kind::text},
      {"number", step_kind::number},
      {"dashboard_task", step_kind::dashboard},
      {"ask_user", step_kind::ask_user},
      {"timer", step_kind::timer},
      {"subagent", step_kind::subagent},
      {"output", step_kind::output},
      {"fail", step_kind::fail},
  }};
  const dom::object o = object_at(e, path);
  const std::string type = required_str(o, "type", path);
  step s;
  bool known = false;
  for (const auto& [name, kind] : kinds) {
    if (name == type) {
      s.kind = kind;
      known = true;
    }
  }
  if (!known) {
    throw bad{path + "/type", "unknown step type \"" + type + "\""};
  }
  s.message = str_or(o, "message", {}, path);
  s.name = str_or(o, "name", {}, path);
  s.operation_name = str_or(o, "operation_name", s.name, path);
  s.arguments = json_or(o, "arguments", "{}");
  s.result = json_or(o, "result", "{}");
  if (o["error"].error() != simdjson::NO_SUCH_FIELD) {
    s.error = str_or(o, "error", {}, path);
  }
  bool approval = false;
  if (o["requires_approval"].get_bool().get(approval) == simdjson::SUCCESS) {
    s.requires_approval = approval;
  }
  s.prompt = str_or(o, "prompt", {}, path);
  s.min = num_or_none(o, "min", path);
  s.max = num_or_none(o, "max", path);
  s.seconds = num_or_none(o, "seconds", path).value_or(0);
  s.value = json_or(o, "value", "null");
  s.input = json_or(o, "input", "{}");
  s.save_as = str_or(o, "save_as", {}, path);

  switch (s.kind) {
  case step_kind::tool_call:
    if (s.name.empty()) {
      throw bad{path + "/name", "a tool_call needs a name"};
    }
    break;
  case step_kind::multi_option: {
    const dom::array opts = array_at(o, "options", path);
    std::size_t i = 0;
    for (dom::element oe : opts) {
      const std::string p = path + "/options/" + std::to_string(i++);
      const dom::object oo = object_at(oe, p);
      s.options.push_back({required_str(oo, "id", p), str_or(oo, "label", {}, p)});
    }
    if (s.options.empty()) {
      throw bad{path + "/options", "a multi_option task needs options"};
    }
    break;
  }
  case step_kind::dashboard:
    s.task_kind = required_str(o, "kind", path);
    if (s.task_kind == "approval" || s.task_kind == "hitl" || s.task_kind == "multi_option" ||
        s.task_kind == "text" || s.task_kind == "number") {
      throw bad{path + "/kind", "API-answerable kinds are their own step types"};
    }
    // SPEC.md: escalations put the run in WaitingForAITL; firewall steps are HITL-like.
    s.wait_status = str_or(
        o, "status", s.task_kind == "aitl_escalation" ? "WaitingForAITL" : "WaitingForHITL", path);
    break;
  case step_kind::timer:
    if (!(s.seconds > 0)) {
      throw bad{path + "/seconds", "a timer needs seconds > 0"};
    }
    break;
  case step_kind::subagent: {
    // SPEC.md allows deeper trees, but the emulator scripts depth 1 only: enough to exercise
    // parentRunId, per-run sequences and waiting states that propagate to the root.
    if (depth > 0) {
      throw bad{path, "sub-agents cannot spawn sub-agents in the emulator"};
    }
    auto child = std::make_shared<agent_def>();
    child->name = s.name.empty() ? "Sub-agent" : s.name;
    child->id = str_or(o, "agent_id", derived_uuid("agent:" + path), path);
    child->version_id = derived_uuid("version:" + child->id);
    child->model = str_or(o, "model", "gpt-4.1-mini", path);
    child->steps = parse_steps(array_at(o, "steps", path), path + "/steps", depth + 1);
    s.child = std::move(child);
    break;
  }
  default: break;
  }
  return s;
}

std::vector<step> parse_steps(dom::array arr, const std::string& path, int depth) {
  std::vector<step> out;
  std::size_t i = 0;
  for (dom::element e : arr) {
    out.push_back(parse_step(e, path + "/" + std::to_string(i++), depth));
  }
  return out;
}

scenario parse_doc(dom::element root) {
  const dom::object top = object_at(root, "");
  scenario sc;
  sc.tenant_id = str_or(top, "tenant_id", derived_uuid("tenant"), "");
  std::size_t i = 0;
  for (dom::element e : array_at(top, "agents", "")) {
    const std::string p = "/agents/" + std::to_string(i++);
    const dom::object o = object_at(e, p);
    auto a = std::make_shared<agent_def>();
    a->id = required_str(o, "id", p);
    if (sc.find_agent(a->id) != nullptr) {
      throw bad{p + "/id", "duplicate agent id"};
    }
    a->name = str_or(o, "name", "Agent", p);
    a->model = str_or(o, "model", "gpt-4.1", p);
    a->instructions = str_or(o, "instructions", "You are " + a->name + ", a scripted agent.", p);
    a->version_id = str_or(o, "version_id", derived_uuid("version:" + a->id), p);
    a->trigger_id = str_or(o, "trigger_id", derived_uuid("trigger:" + a->id), p);
    bool hide = false;
    if (o["hide_timeline"].get_bool().get(hide) == simdjson::SUCCESS) {
      a->hide_timeline = hide;
    }
    a->steps = parse_steps(array_at(o, "steps", p), p + "/steps", 0);
    sc.agents.push_back(std::move(a));
  }
  i = 0;
  for (dom::element e : array_at(top, "api_keys", "")) {
    const std::string p = "/api_keys/" + std::to_string(i++);
    const dom::object o = object_at(e, p);
    api_key k;
    k.key = required_str(o, "key", p);
    k.id = str_or(o, "id", derived_uuid("key:" + p), p);
    bool uploads = false;
    if (o["uploads"].get_bool().get(uploads) == simdjson::SUCCESS) {
      k.uploads = uploads;
    }
    std::size_t j = 0;
    for (dom::element ae : array_at(o, "agents", p)) {
      std::string_view id;
      if (ae.get_string().get(id) != simdjson::SUCCESS) {
        throw bad{p + "/agents/" + std::to_string(j), "expected an agent id"};
      }
      ++j;
      k.agents.emplace_back(id);
    }
    sc.keys.push_back(std::move(k));
  }
  return sc;
}

} // namespace

const api_key* scenario::find_key(std::string_view secret) const {
  for (const auto& k : keys) {
    if (k.key == secret) {
      return &k;
    }
  }
  return nullptr;
}

const agent_def* scenario::find_agent(std::string_view id) const {
  for (const auto& a : agents) {
    if (a->id == id) {
      return a.get();
    }
  }
  return nullptr;
}

std::optional<scenario> parse_scenario(std::string_view json, std::string& why) {
  dom::parser parser;
  dom::element root;
  const simdjson::padded_string padded(json);
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    why = std::string("invalid JSON: ") + simdjson::error_message(err);
    return std::nullopt;
  }
  try {
    return parse_doc(root);
  } catch (const bad& b) {
    why = (b.path.empty() ? "/" : b.path) + ": " + b.what;
    return std::nullopt;
  }
}

std::string_view default_scenario_json() {
  // Generated by CMake from scenarios/default.json, so the shipped file and the built-in
  // scenario can never disagree.
  static constexpr std::string_view text =
#include "default_scenario.inc"
      ;
  return text;
}

} // namespace emu
