// phrony-emulator: routes. Each handler authenticates, validates like the service (NestJS-style
// 400/401/403/404/429 bodies), then reads or changes the world under its mutex.
#include "routes.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <simdjson.h>

#include <phrony/json_writer.hpp>

#include "render.hpp"

namespace emu {

namespace {

namespace dom = simdjson::dom;
using phrony::json_writer;
using phrony::raw_json;
using lock_t = std::unique_lock<std::mutex>;

constexpr std::size_t piece = 16; // trickle granularity, bytes

// ---- sending -----------------------------------------------------------------------------

bool pause_ms(const world& w, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return !w.stopping();
}

// Writes bytes to a streaming body, trickled when asked; false once the peer is gone.
bool write_out(httplib::DataSink& sink, std::string_view bytes, const world& w,
               const http_options& opt) {
  if (opt.trickle_ms <= 0) {
    return sink.write(bytes.data(), bytes.size());
  }
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    const std::size_t n = std::min(piece, bytes.size() - i);
    if (!sink.write(bytes.data() + i, n) || !pause_ms(w, opt.trickle_ms)) {
      return false;
    }
  }
  return true;
}

void send_json(httplib::Response& res, int status, std::string body, const world& w,
               const http_options& opt) {
  res.status = status;
  if (opt.trickle_ms <= 0) {
    res.set_content(std::move(body), "application/json; charset=utf-8");
    return;
  }
  // Trickled bodies go out chunked: a slow server that still sends a well-formed response.
  auto text = std::make_shared<std::string>(std::move(body));
  res.set_chunked_content_provider("application/json; charset=utf-8",
                                   [text, &w, &opt](std::size_t, httplib::DataSink& sink) {
                                     if (!write_out(sink, *text, w, opt)) {
                                       return false;
                                     }
                                     sink.done();
                                     return true;
                                   });
}

void fail(httplib::Response& res, int status, std::string_view message, const world& w,
          const http_options& opt) {
  send_json(res, status, error_body(status, message), w, opt);
}

// ---- request bodies ----------------------------------------------------------------------

enum class field { absent, ok, wrong_type };

// JSON null counts as absent, as class-validator's @IsOptional() treats it.
field get_field(dom::object o, const char* key, dom::element& out) {
  if (o[key].get(out) != simdjson::SUCCESS || out.is_null()) {
    return field::absent;
  }
  return field::ok;
}

field get_string(dom::object o, const char* key, std::string_view& out) {
  dom::element e;
  if (get_field(o, key, e) == field::absent) {
    return field::absent;
  }
  return e.get_string().get(out) == simdjson::SUCCESS ? field::ok : field::wrong_type;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// A positive integer, as `maxContentLength` must be.
field get_positive_int(dom::object o, const char* key, std::uint64_t& out) {
  dom::element e;
  if (get_field(o, key, e) == field::absent) {
    return field::absent;
  }
  std::int64_t i = 0;
  std::uint64_t u = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) {
    out = i > 0 ? static_cast<std::uint64_t>(i) : 0;
  } else if (e.get_uint64().get(u) == simdjson::SUCCESS) {
    out = u;
  } else {
    return field::wrong_type;
  }
  return out > 0 ? field::ok : field::wrong_type;
}

// cpp-httplib 0.11 reads a POST without Content-Length or chunked encoding until the client
// closes, though HTTP/1.1 says such a request has no body (RFC 9112, 6.3). Routes whose body is
// optional (start-run, skip-agent-wait) therefore read it themselves, only when one was framed.
std::string optional_body(const httplib::Request& req, const httplib::ContentReader& reader) {
  std::string body;
  if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
    reader([&](const char* data, std::size_t n) {
      body.append(data, n);
      return true;
    });
  }
  return body;
}

/// Parses a JSON object body into `out`; answers 400 itself otherwise. An empty body reads
/// as {} where the route allows it (start-run's body is optional).
bool read_object(std::string_view body, httplib::Response& res, dom::parser& parser,
                 dom::object& out, bool empty_is_object, const world& w, const http_options& opt) {
  if (empty_is_object && body.empty()) {
    body = "{}";
  }
  dom::element e;
  if (parser.parse(simdjson::padded_string(body)).get(e) != simdjson::SUCCESS) {
    fail(res, 400, "Malformed JSON in request body", w, opt);
    return false;
  }
  if (e.get_object().get(out) != simdjson::SUCCESS) {
    fail(res, 400, "Request body must be a JSON object", w, opt);
    return false;
  }
  return true;
}

// ---- auth and scope ----------------------------------------------------------------------

const api_key* authenticate(const httplib::Request& req, httplib::Response& res, world& w,
                            const http_options& opt) {
  const api_key* key = w.scene().find_key(req.get_header_value("X-API-Key"));
  if (key == nullptr) {
    fail(res, 401, "Invalid or missing API key", w, opt);
  }
  return key;
}

bool in_scope(const api_key& key, std::string_view agent_id) {
  return std::find(key.agents.begin(), key.agents.end(), agent_id) != key.agents.end();
}

// Finds the path's run and checks the key may see it; answers 404/403 itself.
run* find_scoped_run(const httplib::Request& req, httplib::Response& res, world& w,
                     const api_key& key, const http_options& opt) {
  run* r = w.find_run(req.matches[1].str());
  if (r == nullptr) {
    fail(res, 404, "Run not found", w, opt);
    return nullptr;
  }
  if (!in_scope(key, r->sess->agent->id)) {
    fail(res, 403, "This API key is not scoped to the agent of this run", w, opt);
    return nullptr;
  }
  return r;
}

// ---- SSE ---------------------------------------------------------------------------------

/// Per-connection stream state.
struct stream_state {
  session* sess = nullptr;
  std::string run_id;
  std::uint64_t cursor = 0; // last event id sent (or replayed past)
  bool began = false;
  int sent = 0;
};

/// Runs whose stream was already cut by --drop-stream-after ("once per run").
struct drop_registry {
  std::mutex mu;
  std::set<std::string> dropped;
  bool claim(const std::string& run_id) {
    std::lock_guard lock(mu);
    return dropped.insert(run_id).second;
  }
};

bool hidden_in_redacted_mode(const event& e) {
  return e.kind == "step" || e.kind == "user_task" || e.kind == "aitl" ||
         e.subject == "engine.subagent.spawned";
}

std::string frame(const event& e, bool cr) {
  std::string f = "id: " + std::to_string(e.id) + "\ndata: " + e.json + "\n\n";
  if (cr) {
    std::replace(f.begin(), f.end(), '\n', '\r');
  }
  return f;
}

// One call of httplib's chunked content provider: wait up to 250 ms for new events, send them
// (or a keepalive comment), and finish after the session's last event.
bool stream_step(stream_state& st, httplib::DataSink& sink, world& w, const http_options& opt,
                 drop_registry& drops) {
  const char* eol = opt.cr_line_ends ? "\r" : "\n";
  if (!st.began) {
    st.began = true;
    return write_out(sink, std::string("retry: 1000") + eol + eol, w, opt);
  }
  std::vector<std::string> frames;
  bool finished = false;
  bool advanced = false;
  {
    lock_t lock(w.mu);
    session& s = *st.sess;
    w.changed.wait_for(lock, std::chrono::milliseconds(250),
                       [&] { return w.stopping() || st.cursor < s.events.size() || s.root->done; });
    if (w.stopping()) {
      return false;
    }
    for (; st.cursor < s.events.size(); ++st.cursor) {
      const event& e = s.events[st.cursor];
      advanced = true;
      if (!(s.agent->hide_timeline && hidden_in_redacted_mode(e))) {
        frames.push_back(frame(e, opt.cr_line_ends));
      }
    }
    finished = s.root->done;
  }
  for (const std::string& f : frames) {
    if (opt.drop_stream_after >= 0 && st.sent == opt.drop_stream_after && drops.claim(st.run_id)) {
      // A connection lost mid-event: half a frame, then no terminating chunk.
      write_out(sink, std::string_view(f).substr(0, f.size() / 2), w, opt);
      return false;
    }
    if (!write_out(sink, f, w, opt)) {
      return false;
    }
    ++st.sent;
  }
  if (finished) {
    sink.done();
    return true;
  }
  if (!advanced) {
    return write_out(sink, std::string(": keepalive") + eol + eol, w, opt);
  }
  return true;
}

// ---- messages ----------------------------------------------------------------------------

// The answer to a user task, checked against the task's kind; empty `error` means valid.
struct task_answer {
  std::string outcome; // UserTaskReq outcome object
  std::string saved;   // the value output templates see
  std::string error;
};

task_answer check_answer(const user_task& t, dom::object body) {
  dom::element approved, option_id, text_value, number_value;
  const bool has_approved = get_field(body, "approved", approved) == field::ok;
  const bool has_option = get_field(body, "selectedOptionId", option_id) == field::ok;
  const bool has_text = get_field(body, "textValue", text_value) == field::ok;
  const bool has_number = get_field(body, "numberValue", number_value) == field::ok;
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
      return "Each file must be {\"phronyFile\": true, \"objectKey\": ...}";
    }
    auto it = w.uploads.find(key);
    if (it == w.uploads.end() || !it->second.finalized) {
      return "File " + std::string(key) + " has not been uploaded and finalized";
    }
  }
  return {};
}

void post_message(const httplib::Request& req, httplib::Response& res, world& w,
                  const http_options& opt) {
  const api_key* key = authenticate(req, res, w, opt);
  if (key == nullptr) {
    return;
  }
  dom::parser parser;
  dom::object body;
  lock_t lock(w.mu);
  run* r = find_scoped_run(req, res, w, *key, opt);
  if (r == nullptr || !read_object(req.body, res, parser, body, false, w, opt)) {
    return;
  }
  std::string_view run_id, task_id, text, message;
  if (get_string(body, "runId", run_id) != field::ok || run_id != r->id) {
    return fail(res, 400, "runId must be present and equal the runId in the path", w, opt);
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
                "userTaskId, text and message must be strings, files an array, metadata an object",
                w, opt);
  }
  const std::string_view chat = !text.empty() ? text : message;
  const bool has_files = files_f == field::ok && files.size() > 0;
  if (task_f == field::absent && chat.empty() && !has_files) {
    return fail(res, 400, "Provide userTaskId, a non-empty text/message, or at least one file", w,
                opt);
  }
  if (task_f == field::ok) {
    if (!r->task) {
      for (run* c = r->child; c != nullptr; c = c->child) {
        if (c->task && c->task->id == task_id) {
          return fail(res, 400,
                      "User task " + std::string(task_id) + " belongs to sub-agent run " + c->id +
                          "; send the answer to /v1/runs/" + c->id + "/messages",
                      w, opt);
        }
      }
      return fail(res, 400, "Run is not waiting for a user task (status " + r->status + ")", w,
                  opt);
    }
    if (r->task->id != task_id) {
      return fail(res, 400, "userTaskId does not match the run's pending user task", w, opt);
    }
    task_answer a = check_answer(*r->task, body);
    if (!a.error.empty()) {
      return fail(res, 400, a.error, w, opt);
    }
    w.answer_task(*r, std::move(a.outcome), std::move(a.saved));
  } else {
    if (r->status != "WaitingForResponse" || r->child != nullptr) {
      return fail(res, 400,
                  "Run is not waiting for a response (status " + r->status +
                      "); user tasks are answered with userTaskId",
                  w, opt);
    }
    if (has_files) {
      if (std::string why = check_files(files, w); !why.empty()) {
        return fail(res, 400, why, w, opt);
      }
    }
    std::optional<std::string> chat_text;
    if (!chat.empty()) {
      chat_text = std::string(chat);
    }
    w.reply(*r, chat_text, has_files ? simdjson::minify(files) : "[]");
  }
  send_json(res, 202, accept_body("Running"), w, opt);
}

// ---- file library ------------------------------------------------------------------------

std::string hex64(std::uint64_t a, std::uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(mix64(a)),
                static_cast<unsigned long long>(mix64(b)));
  return buf;
}

// S3 answers presigned-URL failures with XML, not the API's JSON.
void s3_error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                      "</Code><Message>" + std::string(message) + "</Message></Error>",
                  "application/xml");
}

void presign(const httplib::Request& req, httplib::Response& res, world& w, http_options& opt) {
  const api_key* key = authenticate(req, res, w, opt);
  if (key == nullptr) {
    return;
  }
  if (!key->uploads) {
    return fail(res, 403, "File uploads are not allowed for this API key", w, opt);
  }
  dom::parser parser;
  dom::object body;
  if (!read_object(req.body, res, parser, body, false, w, opt)) {
    return;
  }
  std::string_view filename, media_type;
  std::uint64_t max_length = 0;
  if (get_string(body, "filename", filename) != field::ok || filename.empty() ||
      utf8_length(filename) > 512) {
    return fail(res, 400, "filename must be a string of 1 to 512 characters", w, opt);
  }
  // mediaType comes back as a header value in requiredHeaders: no control characters.
  if (get_string(body, "mediaType", media_type) != field::ok || media_type.empty() ||
      std::any_of(media_type.begin(), media_type.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return fail(res, 400, "mediaType must be a non-empty media type", w, opt);
  }
  if (get_positive_int(body, "maxContentLength", max_length) != field::ok) {
    return fail(res, 400, "maxContentLength must be a positive integer", w, opt);
  }
  lock_t lock(w.mu);
  std::string ext;
  if (const auto dot = filename.rfind('.'); dot != std::string_view::npos) {
    const std::string_view e = filename.substr(dot);
    if (e.size() <= 10 && std::all_of(e.begin() + 1, e.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        })) {
      ext = e;
    }
  }
  upload u;
  u.object_key = "tenant/" + w.scene().tenant_id + "/file-library/" + w.ids().next() + ext;
  u.filename = filename;
  u.media_type = media_type;
  u.max_length = max_length;
  u.signature = hex64(w.uploads.size() * 2 + 1, w.uploads.size() * 2 + 2) +
                hex64(w.uploads.size() + 77, max_length);
  u.expires = steady::now() + std::chrono::seconds(900);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(opt.port.load()) + "/upload/" + u.object_key +
      "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=" + u.signature +
      "&X-Amz-SignedHeaders=content-type%3Bhost";
  json_writer out;
  out.begin_object().key("objectKey").value(u.object_key).key("uploadUrl").value(url);
  out.key("httpMethod").value("PUT").key("requiredHeaders").begin_object();
  out.key("Content-Type").value(u.media_type);
  out.key("x-amz-meta-phrony-signature").value(u.signature.substr(0, 32)).end_object();
  out.key("expiresInSeconds").value(900).end_object();
  w.uploads.emplace(u.object_key, std::move(u));
  send_json(res, 200, out.str(), w, opt);
}

void put_upload(const httplib::Request& req, httplib::Response& res, world& w) {
  lock_t lock(w.mu);
  auto it = w.uploads.find(req.matches[1].str());
  if (it == w.uploads.end() || req.get_param_value("X-Amz-Signature") != it->second.signature) {
    return s3_error(res, 403, "SignatureDoesNotMatch", "The request signature does not match");
  }
  upload& u = it->second;
  if (steady::now() > u.expires) {
    return s3_error(res, 403, "AccessDenied", "Request has expired");
  }
  const std::pair<const char*, std::string> required[] = {
      {"Content-Type", u.media_type},
      {"x-amz-meta-phrony-signature", u.signature.substr(0, 32)},
  };
  for (const auto& [name, value] : required) {
    if (req.get_header_value(name) != value) {
      return s3_error(res, 403, "SignatureDoesNotMatch",
                      std::string("Header ") + name +
                          " is missing or differs from requiredHeaders");
    }
  }
  if (req.body.size() > u.max_length) {
    return s3_error(res, 400, "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size");
  }
  u.size = req.body.size();
  res.status = 200;
  res.set_header("ETag", "\"" + hex64(req.body.size(), u.max_length) + "\"");
}

void finalize(const httplib::Request& req, httplib::Response& res, world& w,
              const http_options& opt) {
  const api_key* key = authenticate(req, res, w, opt);
  if (key == nullptr) {
    return;
  }
  if (!key->uploads) {
    return fail(res, 403, "File uploads are not allowed for this API key", w, opt);
  }
  dom::parser parser;
  dom::object body;
  if (!read_object(req.body, res, parser, body, false, w, opt)) {
    return;
  }
  std::string_view object_key, ignored;
  std::uint64_t max_length = 0;
  if (get_string(body, "objectKey", object_key) != field::ok) {
    return fail(res, 400, "objectKey must be a string", w, opt);
  }
  if (get_positive_int(body, "maxContentLength", max_length) != field::ok) {
    return fail(res, 400, "maxContentLength must be a positive integer", w, opt);
  }
  if (get_string(body, "filename", ignored) == field::wrong_type ||
      get_string(body, "mediaType", ignored) == field::wrong_type) {
    return fail(res, 400, "filename and mediaType must be strings", w, opt);
  }
  lock_t lock(w.mu);
  auto it = w.uploads.find(object_key);
  if (it == w.uploads.end() || !it->second.size) {
    return fail(res, 400, "Nothing was uploaded for this objectKey", w, opt);
  }
  upload& u = it->second;
  if (*u.size > max_length) {
    return fail(res, 400, "The uploaded object is larger than maxContentLength", w, opt);
  }
  const bool already = u.finalized;
  u.finalized = true;
  json_writer out;
  // sizeBytes is a decimal string on the wire (a 64-bit size does not fit a JS number).
  out.begin_object().key("objectKey").value(u.object_key);
  out.key("sizeBytes").value(std::to_string(*u.size)).key("alreadyFinalized").value(already);
  out.end_object();
  send_json(res, 200, out.str(), w, opt);
}

// ---- query parameters --------------------------------------------------------------------

// A non-negative integer query parameter; nullopt when present but not one.
std::optional<std::uint64_t> uint_param(const httplib::Request& req, const char* name,
                                        std::uint64_t fallback) {
  if (!req.has_param(name)) {
    return fallback;
  }
  const std::string v = req.get_param_value(name);
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) {
    return std::nullopt;
  }
  return out;
}

} // namespace

void install_routes(httplib::Server& server, world& w, http_options& opt) {
  auto drops = std::make_shared<drop_registry>();

  server.Post(R"(/v1/agents/([^/]+)/runs)", [&](const httplib::Request& req, httplib::Response& res,
                                                const httplib::ContentReader& reader) {
    const std::string text = optional_body(req, reader);
    const api_key* key = authenticate(req, res, w, opt);
    if (key == nullptr) {
      return;
    }
    const agent_def* agent = w.scene().find_agent(req.matches[1].str());
    if (!in_scope(*key, req.matches[1].str())) {
      return fail(res, agent != nullptr ? 403 : 404,
                  agent != nullptr ? "This API key is not scoped to this agent" : "Agent not found",
                  w, opt);
    }
    if (agent == nullptr) {
      return fail(res, 404, "Agent not found", w, opt);
    }
    dom::parser parser;
    dom::object body;
    if (!read_object(text, res, parser, body, true, w, opt)) {
      return;
    }
    dom::element input;
    std::string input_json = "{}";
    if (get_field(body, "input", input) == field::ok) {
      if (!input.is_object()) {
        return fail(res, 400, "input must be an object", w, opt);
      }
      input_json = simdjson::minify(input);
    }
    lock_t lock(w.mu);
    if (opt.max_concurrent > 0 && w.active_sessions(*key) >= opt.max_concurrent) {
      res.set_header("Retry-After", "1");
      return fail(res, 429,
                  "Too many concurrent runs for this API key (limit " +
                      std::to_string(opt.max_concurrent) + ")",
                  w, opt);
    }
    const session& s = w.start_session(*agent, *key, std::move(input_json));
    send_json(res, 202, start_run_body(s), w, opt);
  });

  server.Get(R"(/v1/agents/([^/]+)/sessions)", [&](const httplib::Request& req,
                                                   httplib::Response& res) {
    const api_key* key = authenticate(req, res, w, opt);
    if (key == nullptr) {
      return;
    }
    const std::string agent_id = req.matches[1].str();
    if (!in_scope(*key, agent_id)) {
      const bool known = w.scene().find_agent(agent_id) != nullptr;
      return fail(res, known ? 403 : 404,
                  known ? "This API key is not scoped to this agent" : "Agent not found", w, opt);
    }
    const auto skip = uint_param(req, "skip", 0);
    const auto take = uint_param(req, "take", 20);
    if (!skip) {
      return fail(res, 400, "skip must be an integer >= 0", w, opt);
    }
    if (!take || *take < 1 || *take > 100) {
      return fail(res, 400, "take must be an integer from 1 to 100", w, opt);
    }
    const std::string version = req.get_param_value("versionId");
    const std::string status = req.get_param_value("status");
    lock_t lock(w.mu);
    std::vector<const session*> matching;
    // Newest first, as the dashboard lists them.
    for (auto it = w.sessions().rbegin(); it != w.sessions().rend(); ++it) {
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
    send_json(res, 200, sessions_page_body(w, page, matching.size()), w, opt);
  });

  server.Get(R"(/v1/runs/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
    const api_key* key = authenticate(req, res, w, opt);
    if (key == nullptr) {
      return;
    }
    lock_t lock(w.mu);
    if (const run* r = find_scoped_run(req, res, w, *key, opt)) {
      send_json(res, 200, run_status_body(*r), w, opt);
    }
  });

  server.Get(R"(/v1/runs/([^/]+)/conversation)",
             [&](const httplib::Request& req, httplib::Response& res) {
               const api_key* key = authenticate(req, res, w, opt);
               if (key == nullptr) {
                 return;
               }
               const std::string mode =
                   req.has_param("stepContent") ? req.get_param_value("stepContent") : "full";
               if (mode != "full" && mode != "slim") {
                 return fail(res, 400, "stepContent must be slim or full", w, opt);
               }
               lock_t lock(w.mu);
               if (const run* r = find_scoped_run(req, res, w, *key, opt)) {
                 send_json(res, 200, conversation_body(w, *r, mode == "slim"), w, opt);
               }
             });

  server.Get(R"(/v1/runs/([^/]+)/stream)", [&, drops](const httplib::Request& req,
                                                      httplib::Response& res) {
    const api_key* key = authenticate(req, res, w, opt);
    if (key == nullptr) {
      return;
    }
    auto st = std::make_shared<stream_state>();
    {
      lock_t lock(w.mu);
      run* r = find_scoped_run(req, res, w, *key, opt);
      if (r == nullptr) {
        return;
      }
      st->sess = r->sess;
      st->run_id = r->id;
      // Last-Event-ID: replay only what came after it (ids are 1-based per session).
      const std::string last = req.get_header_value("Last-Event-ID");
      std::uint64_t id = 0;
      const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), id);
      if (!last.empty() && ec == std::errc{} && end == last.data() + last.size()) {
        st->cursor = std::min<std::uint64_t>(id, r->sess->events.size());
      }
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider("text/event-stream",
                                     [st, drops, &w, &opt](std::size_t, httplib::DataSink& sink) {
                                       return stream_step(*st, sink, w, opt, *drops);
                                     });
  });

  auto messages = [&](const httplib::Request& req, httplib::Response& res) {
    post_message(req, res, w, opt);
  };
  server.Post(R"(/v1/runs/([^/]+)/messages)", messages);
  server.Post(R"(/v1/runs/([^/]+)/input)", messages);

  server.Post(R"(/v1/runs/([^/]+)/skip-agent-wait)", [&](const httplib::Request& req,
                                                         httplib::Response& res,
                                                         const httplib::ContentReader& reader) {
    (void)optional_body(req, reader); // no body is expected, but a framed one must be consumed
    const api_key* key = authenticate(req, res, w, opt);
    if (key == nullptr) {
      return;
    }
    lock_t lock(w.mu);
    run* r = find_scoped_run(req, res, w, *key, opt);
    if (r == nullptr) {
      return;
    }
    if (!w.skip_timer(*r)) {
      return fail(res, 400, "Run is not waiting for a timer (status " + r->status + ")", w, opt);
    }
    send_json(res, 202, accept_body("Running"), w, opt);
  });

  server.Post("/v1/file-library/presign", [&](const httplib::Request& req, httplib::Response& res) {
    presign(req, res, w, opt);
  });
  server.Post(
      "/v1/file-library/finalize",
      [&](const httplib::Request& req, httplib::Response& res) { finalize(req, res, w, opt); });
  server.Put(R"(/upload/(.+))",
             [&](const httplib::Request& req, httplib::Response& res) { put_upload(req, res, w); });

  server.set_pre_routing_handler([&](const httplib::Request&, httplib::Response&) {
    if (opt.delay_ms > 0) {
      pause_ms(w, opt.delay_ms);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Unknown routes answer as NestJS does, in JSON.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty() && !res.is_chunked_content_provider_) {
          res.set_content(error_body(res.status, res.status == 404
                                                     ? "Cannot " + req.method + " " + req.path
                                                     : std::string(reason_of(res.status))),
                          "application/json; charset=utf-8");
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([&](const httplib::Request&, httplib::Response& res,
                                   std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body(500, "Internal server error"), "application/json; charset=utf-8");
  });
  if (opt.verbose) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      // Method, path and status only: headers carry the API key.
      std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }
}

} // namespace emu
