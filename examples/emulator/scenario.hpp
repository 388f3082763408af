// phrony-emulator: the scenario model. A scenario lists API keys and scripted agents; each
// agent's steps say what a run of it does (see scenarios/default.json for every step type).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emu {

/// What one scripted step does when a run reaches it.
enum class step_kind {
  reasoning,    // llm_request_prepared + reasoning items
  tool_call,    // ToolCall (+ approval task when requires_approval) + ToolResult
  multi_option, // user task: pick one option (WaitingForHITL)
  text,         // user task: enter text (WaitingForHITL)
  number,       // user task: enter a number (WaitingForHITL)
  dashboard,    // user task only a person in the dashboard completes (aitl_escalation, ...)
  ask_user,     // wants chat text or files (WaitingForResponse)
  timer,        // phrony_wait (WaitingForTimer)
  subagent,     // child run at depth 1
  output,       // sets the run's output
  fail,         // ends the run as Failed
};

struct agent_def;

/// One option of a multi_option task.
struct option {
  std::string id;
  std::string label;
};

/// One step of an agent's script. JSON values are kept as compact JSON text.
struct step {
  step_kind kind = step_kind::reasoning;
  std::string message;              // reasoning, ask_user, fail
  std::string name;                 // tool_call: tool name
  std::string operation_name;       // tool_call: display name
  std::string arguments = "{}";     // tool_call
  std::string result = "{}";        // tool_call: ToolResult data on success
  std::optional<std::string> error; // tool_call: the tool fails with this message
  bool requires_approval = false;   // tool_call
  std::string prompt;               // user tasks (and the approval prompt)
  std::string task_kind;            // dashboard: the task's kind (aitl_escalation, anomaly_review)
  std::string wait_status;          // dashboard: the run's status while it waits
  std::vector<option> options;      // multi_option
  std::optional<double> min, max;   // number
  double seconds = 0;               // timer
  std::string value = "null";       // output: may hold "{{name}}" placeholders
  std::string input = "{}";         // subagent: the child's run input
  std::shared_ptr<agent_def> child; // subagent: the child agent and its steps
  std::string save_as;              // name under which the answer (or child output) is kept
};

/// A scripted agent (or a sub-agent, which has no API trigger of its own).
struct agent_def {
  std::string id;
  std::string version_id;
  std::string trigger_id;
  std::string name;
  std::string model = "gpt-4.1";
  std::string instructions;
  bool hide_timeline = false; // the API trigger hides the timeline: redacted mode
  std::vector<step> steps;
};

/// An API key: its secret, a public id (for triggeredBy) and its scope.
struct api_key {
  std::string key; // the secret; never printed
  std::string id;
  std::vector<std::string> agents;
  bool uploads = false;
};

/// Everything the emulator serves.
struct scenario {
  std::string tenant_id;
  std::vector<api_key> keys;
  std::vector<std::shared_ptr<agent_def>> agents;

  [[nodiscard]] const api_key* find_key(std::string_view secret) const;
  [[nodiscard]] const agent_def* find_agent(std::string_view id) const;
};

/// Parses a scenario document; on failure returns nullopt and sets `why` (with a JSON path).
[[nodiscard]] std::optional<scenario> parse_scenario(std::string_view json, std::string& why);

/// The built-in scenario (the text of scenarios/default.json, compiled in).
[[nodiscard]] std::string_view default_scenario_json();

} // namespace emu
