// phrony-emulator: plumbing shared by the route handlers.
#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "api.hpp"
#include "render.hpp"

namespace emu {

namespace {

constexpr std::size_t trickle_piece = 16; // bytes per write under --trickle-ms

} // namespace

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

bool in_scope(const api_key& key, std::string_view agent_id) {
  return std::find(key.agents.begin(), key.agents.end(), agent_id) != key.agents.end();
}

// cpp-httplib 0.11 reads a POST without Content-Length or chunked encoding until the client
// closes, though HTTP/1.1 says such a request has no body (RFC 9112, 6.3). Routes whose body is
// optional (start-run, skip-agent-wait) therefore read it themselves, only when one is framed.
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

bool api::write_out(httplib::DataSink& sink, std::string_view bytes) const {
  if (opt_.trickle_ms <= 0) {
    return !w_.stopping() && sink.write(bytes.data(), bytes.size());
  }
  for (std::size_t i = 0; i < bytes.size(); i += trickle_piece) {
    const std::size_t n = std::min(trickle_piece, bytes.size() - i);
    if (!sink.write(bytes.data() + i, n)) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(opt_.trickle_ms));
    if (w_.stopping()) {
      return false;
    }
  }
  return true;
}

void api::send(httplib::Response& res, int status, std::string body) const {
  res.status = status;
  if (opt_.trickle_ms <= 0) {
    res.set_content(std::move(body), "application/json; charset=utf-8");
    return;
  }
  // Trickled bodies go out chunked: a slow server that still sends a well-formed response.
  auto text = std::make_shared<std::string>(std::move(body));
  res.set_chunked_content_provider("application/json; charset=utf-8",
                                   [this, text](std::size_t, httplib::DataSink& sink) {
                                     if (!write_out(sink, *text)) {
                                       return false;
                                     }
                                     sink.done();
                                     return true;
                                   });
}

void api::fail(httplib::Response& res, int status, std::string_view message) const {
  send(res, status, error_body(status, message));
}

const api_key* api::authenticate(const httplib::Request& req, httplib::Response& res) const {
  const api_key* key = w_.scene().find_key(req.get_header_value("X-API-Key"));
  if (key == nullptr) {
    fail(res, 401, "Invalid or missing API key");
  }
  return key;
}

run* api::find_scoped_run(const httplib::Request& req, httplib::Response& res, const api_key& key) {
  run* r = w_.find_run(req.matches[1].str());
  if (r == nullptr) {
    fail(res, 404, "Run not found");
    return nullptr;
  }
  if (!in_scope(key, r->sess->agent->id)) {
    fail(res, 403, "This API key is not scoped to the agent of this run");
    return nullptr;
  }
  return r;
}

bool api::read_object(std::string_view body, httplib::Response& res, dom::parser& parser,
                      dom::object& out, bool empty_is_object) const {
  if (empty_is_object && body.empty()) {
    body = "{}";
  }
  dom::element e;
  if (parser.parse(simdjson::padded_string(body)).get(e) != simdjson::SUCCESS) {
    fail(res, 400, "Malformed JSON in request body");
    return false;
  }
  if (e.get_object().get(out) != simdjson::SUCCESS) {
    fail(res, 400, "Request body must be a JSON object");
    return false;
  }
  return true;
}

bool api::claim_drop(const std::string& run_id) {
  std::lock_guard lock(drops_mu_);
  return dropped_runs_.insert(run_id).second;
}

} // namespace emu
