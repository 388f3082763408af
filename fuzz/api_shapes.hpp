// A FuzzedDataProvider generator of API-shaped bodies (SPEC.md, "Response bodies", "Stream"):
// every endpoint's fields with realistic values, each field now and then left out, null, of
// the wrong type, duplicated, preceded by an unknown field or given an odd value (escapes,
// non-ASCII, invalid UTF-8, big or malformed numbers), and the finished body now and then
// corrupted (truncated, a byte inserted, trailing bytes, a BOM, deep nesting). Random bytes
// rarely make a conversation whose items reach the typed contents and pending-task discovery;
// these bodies do, and fuzz_shaped.cpp runs the same checks on them as the raw targets.
//
// Every decision takes input bytes; an exhausted provider reads as zeros, which always choose
// the plain, well-formed path, so a short input already gives a valid body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzedDataProvider.h"

namespace phrony_fuzz::shapes {

/// The bodies the generator makes, one per parser (stream: one payload, or a whole SSE body).
enum class endpoint : std::uint8_t {
  run_status,
  start_run,
  accept,
  sessions,
  presign,
  finalize,
  error_body,
  stream_event,
  event_stream,
  conversation,
  count,
};

/// What a string stands for, so the plain path picks a realistic value.
enum class text {
  id,
  time,
  words,
  model,
  status,
  trigger_type,
  item_type,
  task_kind,
  task_status,
  event_kind,
  subject,
  url,
  key,
  decimal,
  method,
  mode,
};

class writer {
public:
  explicit writer(FuzzedDataProvider& in) : in_(in) {}

  [[nodiscard]] std::string take() && { return std::move(out_); }
  [[nodiscard]] const std::string& body() const { return out_; }
  /// A writer for a part written apart (and spliced in with raw()), reading the same input.
  [[nodiscard]] writer part() const { return writer(in_); }

  // ---- decisions ------------------------------------------------------------------------------

  std::uint8_t byte() { return in_.ConsumeIntegral<std::uint8_t>(); }
  /// 0 .. n-1; 0 when the input is exhausted.
  std::size_t pick(std::size_t n) { return n <= 1 ? 0 : byte() % n; }
  /// True with about `percent` % when bytes are random; false when exhausted.
  bool sometimes(unsigned percent) { return byte() >= 256 - percent * 256 / 100; }

  /// What happens to one field.
  enum class how { plain, omit, null, wrong, duplicate, unknown_before, odd };
  how mutation() {
    const std::uint8_t b = byte();
    if (b < 160) {
      return how::plain;
    }
    return static_cast<how>(1 + (b - 160) % 6);
  }

  // ---- JSON text ------------------------------------------------------------------------------

  void open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    out_ += c;
    if (!first_.empty()) {
      first_.pop_back();
    }
  }
  void key(std::string_view k) {
    separate();
    quote(k);
    out_ += ':';
    after_key_ = true;
  }
  void raw(std::string_view v) {
    separate();
    out_ += v;
  }
  void null() { raw("null"); }
  void boolean() { raw(sometimes(50) ? "false" : "true"); }

  /// A string of kind `t`: a realistic one, or (now and then, or in an odd field) an odd one.
  void str(text t) {
    if (odd_ || sometimes(6)) {
      odd_string(t);
      return;
    }
    separate();
    quote(plain_string(t));
  }
  void str_or_null(text t) {
    if (sometimes(25)) {
      null();
    } else {
      str(t);
    }
  }
  /// A count: small and plain, or odd (negative, fractional, huge, malformed).
  void count() {
    if (odd_ || sometimes(6)) {
      odd_number();
      return;
    }
    raw(std::to_string(in_.ConsumeIntegralInRange<std::uint32_t>(0, 100000)));
  }
  void count_or_null() {
    if (sometimes(25)) {
      null();
    } else {
      count();
    }
  }
  void real() {
    static constexpr std::string_view plain[] = {"0", "0.5", "1", "0.9", "2.0", "1e-3", "40"};
    if (odd_ || sometimes(6)) {
      odd_number();
      return;
    }
    raw(plain[pick(std::size(plain))]);
  }

  /// Any JSON value (opaque fields: output, input, arguments ...), `depth` levels at most.
  void any(int depth = 3) {
    switch (pick(depth > 0 ? 9 : 5)) {
    case 0: null(); break;
    case 1: str(text::words); break;
    case 2: count(); break;
    case 3: boolean(); break;
    case 4: real(); break;
    case 5:
    case 6: {
      open('{');
      const std::size_t n = pick(4);
      for (std::size_t i = 0; i < n; ++i) {
        if (sometimes(10)) {
          separate();
          odd_key();
        } else {
          key(plain_string(text::key));
        }
        any(depth - 1);
      }
      close('}');
      break;
    }
    case 7: {
      open('[');
      const std::size_t n = pick(4);
      for (std::size_t i = 0; i < n; ++i) {
        any(depth - 1);
      }
      close(']');
      break;
    }
    default: deep(); break;
    }
  }

  /// A value of some type, usually not the one a field wants.
  void wrong_value() {
    static constexpr std::string_view values[] = {
        "null",  "0",     "true",       "\"\"",      "{}",    "[]",          "-1",
        "1.5",   "\"x\"", "[null]",     "{\"a\":1}", "false", "\"Running\"", "[\"a\",\"b\"]",
        "1e999", "tru",   "\"\\ud800\""};
    raw(values[pick(std::size(values))]);
  }

  /// An unknown field: the server adds some; the library must keep them.
  void unknown_field() {
    static constexpr std::string_view names[] = {"newField",   "x-extra", "meta",  "schemaVersion",
                                                 "deprecated", "é",       "a/b~c", ""};
    key(names[pick(std::size(names))]);
    any(2);
  }

  /// Writes field `name` through `value`, mutated as mutation() says.
  template <class F> void field(std::string_view name, F&& value) {
    auto m = mutation();
    if (m == how::unknown_before) {
      unknown_field();
      m = how::plain;
    }
    switch (m) {
    case how::omit: return;
    case how::null:
      key(name);
      null();
      return;
    case how::wrong:
      key(name);
      wrong_value();
      return;
    case how::odd:
      key(name);
      odd_ = true;
      value();
      odd_ = false;
      return;
    default: break;
    }
    key(name);
    value();
    if (m == how::duplicate) {
      key(name);
      value();
    }
  }
  /// Unknown fields at the end of an object, now and then.
  void extras() {
    while (sometimes(12)) {
      unknown_field();
    }
  }

  /// The finished body, now and then corrupted: truncated, a byte inserted or replaced,
  /// trailing bytes, a BOM, nesting past the depth limit, or not an object at all.
  void corrupt() {
    const std::uint8_t b = byte();
    if (b < 224 || out_.empty()) {
      return;
    }
    const std::size_t at = pick(out_.size() + 1);
    switch (b % 10) {
    case 0: out_.resize(at); break;
    case 1: out_.insert(at, 1, static_cast<char>(byte())); break;
    case 2:
      if (at < out_.size()) {
        out_[at] = static_cast<char>(byte());
      }
      break;
    case 3: out_ += std::string_view(" x\0{}", 1 + pick(5)); break;
    case 4: out_.insert(0, "\xEF\xBB\xBF"); break;
    case 5: out_ = std::string(300, '[') + out_ + std::string(300, ']'); break;
    case 6: out_ = "[" + out_ + "]"; break;
    case 7: out_ += out_; break;
    case 8: out_.insert(at, "\n\t "); break;
    default: out_ = std::string(" \r\n") + out_ + "\r\n "; break;
    }
  }

private:
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) {
        out_ += ',';
      }
      first_.back() = false;
    }
  }

  /// `s` as a JSON string: quotes, backslashes and control bytes escaped; other bytes (also
  /// invalid UTF-8) as they are.
  void quote(std::string_view s) {
    out_ += '"';
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += c;
      } else if (u < 0x20) {
        static constexpr char hex[] = "0123456789abcdef";
        out_ += "\\u00";
        out_ += hex[u >> 4];
        out_ += hex[u & 15];
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }

  std::string_view plain_string(text t) {
    static constexpr std::string_view ids[] = {"2f1c9a52-6a0b-4c41-9a57-0d3c2b1e7f10",
                                               "87751d4c-a850-4e2c-84dc-da6a797d76de",
                                               "6c3e2b9d-1f4a-4e8b-9c7d-5a2b1c0d9e8f",
                                               "run-1",
                                               "r",
                                               ""};
    static constexpr std::string_view times[] = {"2026-05-13T23:08:50.318Z", "2026-05-13T23:09:01Z",
                                                 "2026-05-13T23:08:50.318+02:00", ""};
    static constexpr std::string_view words[] = {
        "Refund approved",
        "Tried the link 3\xC3\x97 and got \"403\" \xF0\x9F\x98\xA4",
        "ok",
        "Kein Problem.",
        "line\nbreak",
        ""};
    static constexpr std::string_view models[] = {"gemini-2.5-pro", "o4-mini", "gpt-4.1"};
    static constexpr std::string_view statuses[] = {"Running",
                                                    "Completed",
                                                    "Failed",
                                                    "Cancelled",
                                                    "WaitingForHITL",
                                                    "WaitingForAITL",
                                                    "WaitingForResponse",
                                                    "WaitingForTimer",
                                                    "Hibernating",
                                                    "running",
                                                    ""};
    static constexpr std::string_view triggers[] = {"api", "scheduled", "manual", "webhook"};
    static constexpr std::string_view item_types[] = {
        "llm_request_prepared", "reasoning",       "Reasoning",   "ToolCall",
        "ToolResult",           "output",          "UserTaskReq", "RunCompleted",
        "SessionCompleted",     "SubAgentSpawned", "toolcall",    ""};
    static constexpr std::string_view task_kinds[] = {
        "approval",        "hitl",           "multi_option",  "text",  "number",
        "aitl_escalation", "anomaly_review", "anomaly_alert", "survey"};
    static constexpr std::string_view task_statuses[] = {"pending", "Pending", "completed",
                                                         "Completed", "cancelled"};
    static constexpr std::string_view event_kinds[] = {"step",      "session", "run",
                                                       "user_task", "aitl",    "metric"};
    static constexpr std::string_view subjects[] = {
        "engine.session.started", "engine.run.completed",     "engine.subagent.spawned",
        "engine.step.completed",  "engine.user_task.created", "engine.run.status_changed"};
    static constexpr std::string_view urls[] = {
        "https://files.example.com/t/8a88c067.pdf?X-Amz-Signature=abc&X-Amz-Expires=900",
        "https://s3.eu-central-1.amazonaws.com/bucket/key", "/relative", ""};
    static constexpr std::string_view keys[] = {"id",    "amount", "tags",   "message",
                                                "runId", "run_id", "status", "phronyFile"};
    static constexpr std::string_view decimals[] = {
        "7249238", "0", "18446744073709551615", "18446744073709551616", "-1", "12a", ""};
    static constexpr std::string_view methods[] = {"PUT", "POST"};
    static constexpr std::string_view modes[] = {"HITL", "autonomous", "sequential", "parallel"};
    const auto one = [&](const auto& list) { return list[pick(std::size(list))]; };
    switch (t) {
    case text::id: return one(ids);
    case text::time: return one(times);
    case text::words: return one(words);
    case text::model: return one(models);
    case text::status: return one(statuses);
    case text::trigger_type: return one(triggers);
    case text::item_type: return one(item_types);
    case text::task_kind: return one(task_kinds);
    case text::task_status: return one(task_statuses);
    case text::event_kind: return one(event_kinds);
    case text::subject: return one(subjects);
    case text::url: return one(urls);
    case text::key: return one(keys);
    case text::decimal: return one(decimals);
    case text::method: return one(methods);
    case text::mode: return one(modes);
    }
    return "";
  }

  /// An odd string: escapes, non-ASCII, surrogates (paired and lone), invalid UTF-8, raw
  /// control bytes, a long one, or bytes from the input.
  void odd_string(text t) {
    static constexpr std::string_view odd[] = {R"("\u00e9\u4e2d")",
                                               R"("\ud83d\ude00")",
                                               R"("\ud800")",
                                               R"("\udc00x")",
                                               R"("\/\\\"\b\f\n\r\t")",
                                               "\"\xC3\xA9\xF0\x9F\x98\x80\"",
                                               "\"\xFF\"",
                                               "\"\xC3\"",
                                               "\"\xED\xA0\x80\"",
                                               "\"a\x01b\"",
                                               R"("\u0000")",
                                               R"("\x")",
                                               R"("\u12")",
                                               "\"unterminated",
                                               "\"\xEF\xBB\xBF\""};
    separate();
    switch (pick(4)) {
    case 0: out_ += odd[pick(std::size(odd))]; break;
    case 1: quote(std::string(300 + pick(200), 'a')); break;
    case 2: {
      std::string s(plain_string(t));
      s += in_.ConsumeRandomLengthString(16);
      quote(s);
      break;
    }
    default: quote(in_.ConsumeRandomLengthString(24)); break;
    }
  }
  void odd_key() {
    static constexpr std::string_view keys[] = {R"("\u0074ype")", R"("run\u005fid")", R"("")",
                                                "\"\xC3\xA9\"", R"("\ud800")"};
    out_ += keys[pick(std::size(keys))];
    out_ += ':';
    after_key_ = true;
  }
  void odd_number() {
    static constexpr std::string_view numbers[] = {"-1",
                                                   "0",
                                                   "-0",
                                                   "1.5",
                                                   "1E2",
                                                   "1e-400",
                                                   "1e400",
                                                   "-1e400",
                                                   "9007199254740993",
                                                   "9223372036854775807",
                                                   "9223372036854775808",
                                                   "18446744073709551616",
                                                   "-9223372036854775809",
                                                   "123456789012345678901234567890",
                                                   "3e0000000000000000000000000000000003",
                                                   "1.7976931348623157e308",
                                                   "4.9e-324",
                                                   "00",
                                                   "01",
                                                   "-",
                                                   "1.",
                                                   "+1",
                                                   ".5",
                                                   "1e",
                                                   "NaN",
                                                   "Infinity",
                                                   "0x10",
                                                   "1_000"};
    raw(numbers[pick(std::size(numbers))]);
  }
  /// Nesting past phrony's depth limit (256), now and then well-formed.
  void deep() {
    const std::size_t n = 200 + pick(120);
    raw(std::string(n, '['));
    out_ += std::string(n - (sometimes(10) ? 1 : 0), ']');
  }

  FuzzedDataProvider& in_;
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
  bool odd_ = false;
};

// ---- bodies ---------------------------------------------------------------------------------

namespace detail {

inline void run_status(writer& w) {
  w.open('{');
  w.field("runId", [&] { w.str(text::id); });
  w.field("status", [&] { w.str(text::status); });
  w.field("output", [&] { w.any(); });
  if (w.sometimes(40)) {
    w.field("error", [&] { w.str(text::words); });
  }
  w.extras();
  w.close('}');
}

inline void start_run(writer& w) {
  w.open('{');
  w.field("sessionId", [&] { w.str(text::id); });
  w.field("runId", [&] { w.str(text::id); });
  w.field("status", [&] { w.str(text::status); });
  w.field("totalTokensUsed", [&] { w.count(); });
  w.field("output", [&] { w.any(); });
  w.field("error", [&] { w.str_or_null(text::words); });
  w.field("agentId", [&] { w.str(text::id); });
  w.field("triggerId", [&] { w.str_or_null(text::id); });
  w.field("duplicateDelivery", [&] { w.boolean(); });
  w.extras();
  w.close('}');
}

inline void accept(writer& w) {
  if (w.sometimes(5)) {
    w.raw(w.sometimes(50) ? "" : " \r\n");
    return;
  }
  w.open('{');
  w.field("status", [&] { w.str(text::status); });
  if (w.sometimes(40)) {
    w.field("error", [&] { w.str_or_null(text::words); });
  }
  w.extras();
  w.close('}');
}

/// session.startContext (SPEC.md: object|null, known keys, topP/topK nullable).
inline void start_context(writer& w) {
  if (w.sometimes(20)) {
    w.null();
    return;
  }
  w.open('{');
  w.field("version", [&] { w.count(); });
  w.field("userInput", [&] { w.any(); });
  w.field("llmModel", [&] { w.str(text::model); });
  w.field("temperature", [&] { w.real(); });
  w.field("maxTokensPerRun", [&] { w.count(); });
  w.field("maxSessionTokens", [&] { w.count(); });
  w.field("maxSessionDurationSec", [&] { w.count(); });
  w.field("maxIterations", [&] { w.count(); });
  w.field("maxToolCalls", [&] { w.count(); });
  w.field("instructions", [&] { w.str(text::words); });
  w.field("subAgentExecutionModel", [&] { w.str(text::mode); });
  w.field("canExecuteSubAgents", [&] { w.boolean(); });
  w.field("topP", [&] { w.sometimes(50) ? w.null() : w.real(); });
  w.field("topK", [&] { w.sometimes(50) ? w.null() : w.real(); });
  w.field("agentExecutionMode", [&] { w.str(text::mode); });
  w.field("rootAgentExecutionMode", [&] { w.str(text::mode); });
  w.field("maxDepth", [&] { w.count(); });
  w.extras();
  w.close('}');
}

/// The fields a session row and a conversation's session share, in SPEC.md's order.
inline void session_fields(writer& w, bool row) {
  w.field("id", [&] { w.str(text::id); });
  w.field("tenantId", [&] { w.str(text::id); });
  w.field("agentId", [&] { w.str(text::id); });
  w.field("agentVersionId", [&] { w.str(text::id); });
  w.field("llmModel", [&] { w.str_or_null(text::model); });
  w.field("triggerType", [&] { w.str(text::trigger_type); });
  w.field("triggeredBy", [&] { w.str_or_null(text::id); });
  w.field("triggerId", [&] { w.str_or_null(text::id); });
  w.field("triggerName", [&] { w.str_or_null(text::words); });
  w.field("status", [&] { w.str(text::status); });
  w.field("totalTokensUsed", [&] { w.count(); });
  w.field("output", [&] { w.any(); });
  w.field("error", [&] { w.str_or_null(text::words); });
  if (row) {
    w.field("input", [&] { w.any(); });
    w.field("startContext", [&] { w.sometimes(20) ? w.any() : start_context(w); });
    w.field("rootRunId", [&] { w.str_or_null(text::id); });
    w.field("startedAt", [&] { w.str(text::time); });
    w.field("finishedAt", [&] { w.str_or_null(text::time); });
    w.field("runCount", [&] { w.count(); });
    w.field("entryRunId", [&] { w.str_or_null(text::id); });
  } else {
    w.field("startedAt", [&] { w.str(text::time); });
    w.field("finishedAt", [&] { w.str_or_null(text::time); });
    w.field("input", [&] { w.any(); });
    w.field("startContext", [&] { start_context(w); });
  }
  w.extras();
}

inline void sessions(writer& w) {
  w.open('{');
  w.field("items", [&] {
    w.open('[');
    const std::size_t n = w.pick(4);
    for (std::size_t i = 0; i < n; ++i) {
      w.open('{');
      session_fields(w, true);
      w.close('}');
    }
    w.close(']');
  });
  w.field("total", [&] { w.count(); });
  w.extras();
  w.close('}');
}

inline void presign(writer& w) {
  w.open('{');
  w.field("objectKey", [&] { w.str(text::id); });
  w.field("uploadUrl", [&] { w.str(text::url); });
  w.field("httpMethod", [&] { w.str(text::method); });
  w.field("requiredHeaders", [&] {
    w.open('{');
    const std::size_t n = w.pick(4);
    static constexpr std::string_view names[] = {"Content-Type", "x-amz-meta-tenant",
                                                 "Content-Length", "content-type"};
    for (std::size_t i = 0; i < n; ++i) {
      w.field(names[w.pick(std::size(names))], [&] { w.str(text::words); });
    }
    w.close('}');
  });
  w.field("expiresInSeconds", [&] { w.count(); });
  w.extras();
  w.close('}');
}

inline void finalize(writer& w) {
  w.open('{');
  w.field("objectKey", [&] {
    static constexpr std::string_view keys[] = {"t/1/files/8a88c067.pdf", "leaf", "dir/", "/", ""};
    w.sometimes(80) ? w.raw("\"" + std::string(keys[w.pick(std::size(keys))]) + "\"")
                    : w.str(text::id);
  });
  w.field("sizeBytes", [&] { w.sometimes(10) ? w.count() : w.str(text::decimal); });
  w.field("alreadyFinalized", [&] { w.boolean(); });
  w.extras();
  w.close('}');
}

inline void error_body(writer& w) {
  w.open('{');
  w.field("statusCode", [&] { w.count(); });
  w.field("message", [&] {
    switch (w.pick(4)) {
    case 0: w.str(text::words); break;
    case 1:
      w.open('[');
      for (std::size_t i = w.pick(4); i > 0; --i) {
        w.sometimes(20) ? w.any(1) : w.str(text::words);
      }
      w.close(']');
      break;
    case 2: w.null(); break;
    default: w.any(); break;
    }
  });
  w.field("error", [&] { w.str(text::words); });
  w.extras();
  w.close('}');
}

/// One /stream payload: {ts, kind, subject, data}; data's ids in either spelling.
inline void stream_event(writer& w) {
  w.open('{');
  w.field("ts", [&] { w.str(text::time); });
  w.field("kind", [&] { w.str(text::event_kind); });
  w.field("subject", [&] { w.str(text::subject); });
  w.field("data", [&] {
    if (w.sometimes(10)) {
      w.any();
      return;
    }
    w.open('{');
    w.field(w.sometimes(50) ? "runId" : "run_id", [&] { w.str(text::id); });
    w.field(w.sometimes(50) ? "sessionId" : "session_id", [&] { w.str(text::id); });
    w.field("status", [&] { w.str(text::status); });
    if (w.sometimes(30)) {
      w.field(w.sometimes(50) ? "run_id" : "runId", [&] { w.str(text::id); });
    }
    w.extras();
    w.close('}');
  });
  w.extras();
  w.close('}');
}

/// A whole text/event-stream body of a few events, with the SSE framing's variants.
inline void event_stream(writer& w, FuzzedDataProvider& in) {
  static constexpr std::string_view ends[] = {"\n", "\r\n", "\r"};
  const std::string_view eol = ends[w.pick(3)];
  std::string out;
  if (w.sometimes(10)) {
    out += "\xEF\xBB\xBF";
  }
  for (std::size_t n = 1 + w.pick(4); n > 0; --n) {
    if (w.sometimes(20)) {
      out += ": keep-alive";
      out += eol;
    }
    if (w.sometimes(30)) {
      out += "id: " + std::to_string(w.byte());
      out += eol;
    }
    if (w.sometimes(15)) {
      out += "retry: " + std::to_string(w.byte() * 100);
      out += eol;
    }
    if (w.sometimes(20)) {
      out += "event: message";
      out += eol;
    }
    writer payload(in);
    stream_event(payload);
    payload.corrupt();
    const std::string data = std::move(payload).take();
    // Now and then split over data lines at a comma (joined with LF, still JSON) or anywhere.
    std::size_t cut = w.sometimes(20) ? data.find(',') : std::string::npos;
    if (cut != std::string::npos && w.sometimes(30)) {
      cut = w.pick(data.size());
    }
    if (cut == std::string::npos) {
      out += "data: " + data;
    } else {
      out += "data:" + data.substr(0, cut);
      out += eol;
      out += "data: " + data.substr(cut);
    }
    out += eol;
    out += eol;
  }
  w.raw(out);
}

/// The step stanza (full: the six ids too; slim: sequence, step_kind, iteration).
inline void stanza(writer& w, bool slim, std::string_view run_id) {
  if (!slim) {
    w.field("run_id", [&] { w.raw("\"" + std::string(run_id) + "\""); });
    w.field("session_id", [&] { w.str(text::id); });
    w.field("tenant_id", [&] { w.str(text::id); });
    w.field("agent_id", [&] { w.str(text::id); });
    w.field("agent_version_id", [&] { w.str(text::id); });
    w.field("event_id", [&] { w.str(text::id); });
  }
  w.field("sequence", [&] { w.count(); });
  w.field("step_kind", [&] { w.str(text::item_type); });
  if (w.sometimes(70)) {
    w.field("iteration", [&] { w.count(); });
  }
}

/// A UserTaskReq content: approval, choices, text or number; pending or answered.
inline void user_task(writer& w) {
  w.field("user_task_id", [&] { w.str(text::id); });
  const std::size_t kind = w.pick(8);
  static constexpr std::string_view kinds[] = {"approval",       "multi_option",    "text",
                                               "number",         "aitl_escalation", "hitl",
                                               "anomaly_review", "anomaly_alert"};
  w.field("kind", [&] {
    w.sometimes(10) ? w.str(text::task_kind) : w.raw("\"" + std::string(kinds[kind]) + "\"");
  });
  w.field("title", [&] { w.str(text::words); });
  w.field("prompt", [&] { w.str(text::words); });
  if (kind == 1 || w.sometimes(10)) {
    w.field("options", [&] {
      w.open('[');
      for (std::size_t i = 1 + w.pick(3); i > 0; --i) {
        switch (w.pick(4)) {
        case 0:
        case 1:
          w.open('{');
          w.field("id", [&] { w.str(text::key); });
          w.field("label", [&] { w.str(text::words); });
          w.extras();
          w.close('}');
          break;
        case 2: w.str(text::words); break; // plain strings: a shape error, read loosely
        default: w.any(1); break;
        }
      }
      w.close(']');
    });
  }
  if (kind == 3) {
    w.field("min", [&] { w.count(); });
    w.field("max", [&] { w.count(); });
  }
  const bool answered = w.sometimes(40);
  if (!w.sometimes(15)) { // no status: pending until the item finishes
    w.field("status", [&] {
      w.sometimes(20) ? w.str(text::task_status)
                      : w.raw(answered ? "\"completed\"" : "\"pending\"");
    });
  }
  if (answered) {
    w.field("outcome", [&] {
      w.open('{');
      switch (kind) {
      case 0: w.field("approved", [&] { w.boolean(); }); break;
      case 1: w.field("selected_option_id", [&] { w.str(text::key); }); break;
      case 3: w.field("number_value", [&] { w.real(); }); break;
      default: w.field("text_value", [&] { w.str(text::words); }); break;
      }
      w.close('}');
    });
    w.field("completed_by", [&] { w.str(text::words); });
  }
}

/// An item's content, shaped by its type (index into the item types of plain_string).
inline void content(writer& w, std::string_view type, bool slim, std::string_view run_id) {
  if (w.sometimes(5)) {
    w.null();
    return;
  }
  if (w.sometimes(4)) {
    w.any();
    return;
  }
  w.open('{');
  if (type != "RunCompleted" && type != "SessionCompleted") {
    stanza(w, slim, run_id);
  } else if (type == "RunCompleted") {
    w.field("run_id", [&] { w.raw("\"" + std::string(run_id) + "\""); });
  } else {
    w.field("session_id", [&] { w.str(text::id); });
  }
  if (type == "llm_request_prepared") {
    w.field("model", [&] { w.str(text::model); });
    w.field("message_count", [&] { w.count(); });
  } else if (type == "reasoning" || type == "Reasoning") {
    w.field("message", [&] { w.str(text::words); });
    w.field("preview", [&] { w.str(text::words); });
    w.field("tokens_used", [&] { w.count(); });
  } else if (type == "ToolCall") {
    w.field("name", [&] { w.raw(w.sometimes(20) ? "\"phrony_subagent\"" : "\"stripe.refund\""); });
    w.field("arguments", [&] { w.any(); });
    w.field("tool_call_id", [&] { w.str(text::id); });
    w.field("operation_name", [&] { w.str(text::words); });
  } else if (type == "ToolResult") {
    w.field("tool_call_id", [&] { w.str(text::id); });
    w.field("name", [&] { w.str(text::words); });
    w.field("result", [&] {
      w.open('{');
      w.field("data", [&] { w.any(); });
      w.field("error", [&] {
        switch (w.pick(3)) {
        case 0: w.null(); break;
        case 1: w.str(text::words); break;
        default: w.any(); break; // the docs do not fix it: an object is fine
        }
      });
      w.field("log_id", [&] { w.str(text::id); });
      w.field("successful", [&] { w.boolean(); });
      w.extras();
      w.close('}');
    });
  } else if (type == "output") {
    w.field("output", [&] { w.any(); });
    w.field("tokens_used", [&] { w.count_or_null(); });
    w.field("total_tokens_used", [&] { w.count_or_null(); });
  } else if (type == "UserTaskReq") {
    user_task(w);
  } else if (type == "RunCompleted" || type == "SessionCompleted") {
    w.field("status", [&] { w.str(text::status); });
    w.field("output", [&] { w.any(); });
    w.field("error", [&] { w.str_or_null(text::words); });
    w.field("total_tokens_used", [&] { w.count(); });
  } else {
    w.field("payload", [&] { w.any(); });
  }
  w.extras();
  w.close('}');
}

inline void conversation(writer& w) {
  const bool slim = w.sometimes(30);
  static constexpr std::string_view run_ids[] = {"run-root", "run-child-1", "run-child-2",
                                                 "run-unlisted"};
  const std::size_t runs = w.pick(4); // 0 .. 3 listed runs
  // The items first, so that short inputs reach them; spliced in after the runs.
  writer iw = w.part();
  {
    writer& w = iw;
    static constexpr std::string_view types[] = {
        "UserTaskReq", "llm_request_prepared", "reasoning",        "ToolCall",  "ToolResult",
        "output",      "RunCompleted",         "SessionCompleted", "Reasoning", "SubAgentSpawned",
        "UserTaskReq"};
    w.open('[');
    const std::size_t n = w.pick(8);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view type = types[w.pick(std::size(types))];
      const std::string_view run_id = run_ids[w.pick(runs + 1)];
      const bool content_first = w.sometimes(20); // read later, once "type" is known
      w.open('{');
      if (content_first) {
        w.field("content", [&] { content(w, type, slim, run_id); });
      }
      w.field("runId", [&] { w.raw("\"" + std::string(run_id) + "\""); });
      w.field("id", [&] { w.str(text::id); });
      w.field("sequence", [&] { w.count(); });
      w.field("ordinal", [&] { w.raw(std::to_string(w.pick(12))); });
      w.field("type", [&] { w.raw("\"" + std::string(type) + "\""); });
      if (!content_first) {
        w.field("content", [&] { content(w, type, slim, run_id); });
      }
      w.field("tokensUsed", [&] { w.count_or_null(); });
      w.field("error", [&] { w.str_or_null(text::words); });
      w.field("startedAt", [&] { w.str_or_null(text::time); });
      w.field("finishedAt", [&] { w.str_or_null(text::time); });
      w.extras();
      w.close('}');
    }
    w.close(']');
  }
  const std::string items = std::move(iw).take();
  w.open('{');
  w.field("session", [&] {
    w.open('{');
    session_fields(w, false);
    w.close('}');
  });
  w.field("runs", [&] {
    w.open('[');
    for (std::size_t r = 0; r < runs; ++r) {
      w.open('{');
      w.field("id", [&] { w.raw("\"" + std::string(run_ids[r]) + "\""); });
      w.field("sessionId", [&] { w.str(text::id); });
      w.field("agentId", [&] { w.str(text::id); });
      w.field("agentVersionId", [&] { w.str(text::id); });
      w.field("parentRunId",
              [&] { r == 0 ? w.null() : w.raw("\"" + std::string(run_ids[w.pick(r)]) + "\""); });
      w.field("depth", [&] { w.raw(std::to_string(r == 0 ? 0 : 1 + w.pick(2))); });
      w.field("status", [&] { w.str(text::status); });
      w.field("totalTokensUsed", [&] { w.count(); });
      w.field("output", [&] { w.any(); });
      w.field("error", [&] { w.str_or_null(text::words); });
      w.field("startedAt", [&] { w.str_or_null(text::time); });
      w.field("finishedAt", [&] { w.str_or_null(text::time); });
      w.field("triggerType", [&] { w.str(text::trigger_type); });
      w.field("triggeredBy", [&] { w.str_or_null(text::id); });
      w.field("triggerId", [&] { w.str_or_null(text::id); });
      w.field("triggerName", [&] { w.str_or_null(text::words); });
      w.field("input", [&] { w.any(); });
      w.field("llmModel", [&] { w.str_or_null(text::model); });
      w.field("agentName", [&] { w.str_or_null(text::words); });
      w.field("versionLabel", [&] { w.str_or_null(text::words); });
      w.extras();
      w.close('}');
    }
    w.close(']');
  });
  w.field("items", [&] { w.raw(items); });
  w.extras();
  w.close('}');
}

} // namespace detail

/// The body of `e` that the input in `in` describes.
inline std::string make_body(endpoint e, FuzzedDataProvider& in) {
  writer w(in);
  switch (e) {
  case endpoint::run_status: detail::run_status(w); break;
  case endpoint::start_run: detail::start_run(w); break;
  case endpoint::accept: detail::accept(w); break;
  case endpoint::sessions: detail::sessions(w); break;
  case endpoint::presign: detail::presign(w); break;
  case endpoint::finalize: detail::finalize(w); break;
  case endpoint::error_body: detail::error_body(w); break;
  case endpoint::stream_event: detail::stream_event(w); break;
  case endpoint::event_stream: detail::event_stream(w, in); return std::move(w).take();
  case endpoint::conversation: detail::conversation(w); break;
  case endpoint::count: break;
  }
  w.corrupt();
  return std::move(w).take();
}

} // namespace phrony_fuzz::shapes
