// phrony-emulator: the handlers of the public API. One member function per route, defined in
// api_runs.cpp (runs and sessions), api_stream.cpp (SSE) and api_files.cpp (file library);
// the shared plumbing (auth, bodies, sending, faults) is in api_common.cpp.
//
// Each handler authenticates, validates as the service does (NestJS-style 400/401/403/404/429
// bodies), then reads or changes the world under world::mu.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <httplib.h>
#include <simdjson.h>

#include "routes.hpp"
#include "world.hpp"

namespace emu {

namespace dom = simdjson::dom;

/// Whether an optional body member is there and of the right type.
enum class field { absent, ok, wrong_type };

/// `key` of `o`; JSON null counts as absent, as class-validator's @IsOptional() treats it.
field get_field(dom::object o, const char* key, dom::element& out);
/// A string member.
field get_string(dom::object o, const char* key, std::string_view& out);
/// A positive integer member (maxContentLength).
field get_positive_int(dom::object o, const char* key, std::uint64_t& out);

/// The route handlers, bound to one world and one set of options.
class api {
public:
  api(world& w, http_options& options) : w_(w), opt_(options) {}

  // api_runs.cpp
  void start_run(const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader);
  void list_sessions(const httplib::Request& req, httplib::Response& res);
  void get_run(const httplib::Request& req, httplib::Response& res);
  void get_conversation(const httplib::Request& req, httplib::Response& res);
  void post_message(const httplib::Request& req, httplib::Response& res);
  void skip_agent_wait(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader);
  /// Not the API: POST /_emulator/runs/{runId}/dashboard-answer, a person in the dashboard
  /// completing the run's (or its waiting sub-agent's) dashboard-only task.
  void dashboard_answer(const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader);
  // api_stream.cpp
  void stream(const httplib::Request& req, httplib::Response& res);
  // api_files.cpp
  void presign(const httplib::Request& req, httplib::Response& res);
  void put_upload(const httplib::Request& req, httplib::Response& res);
  void finalize(const httplib::Request& req, httplib::Response& res);

  /// Sends a JSON body (trickled when --trickle-ms asks).
  void send(httplib::Response& res, int status, std::string body) const;
  /// Sends a NestJS-style error body.
  void fail(httplib::Response& res, int status, std::string_view message) const;
  /// Writes streaming bytes, trickled when asked; false once the peer is gone or we stop.
  bool write_out(httplib::DataSink& sink, std::string_view bytes) const;

private:
  // The caller's key, or nullptr after answering 401.
  const api_key* authenticate(const httplib::Request& req, httplib::Response& res) const;
  // authenticate(), and the key must allow file uploads (403 otherwise, as the service does).
  const api_key* authenticate_uploads(const httplib::Request& req, httplib::Response& res) const;
  // The path's run if the key may see it, or nullptr after answering 404/403. Holds world::mu.
  run* find_scoped_run(const httplib::Request& req, httplib::Response& res, const api_key& key);
  // Parses a JSON object body, or answers 400; an empty body reads as {} when allowed.
  bool read_object(std::string_view body, httplib::Response& res, dom::parser& parser,
                   dom::object& out, bool empty_is_object = false) const;
  // True the first time a run's stream is cut by --drop-stream-after ("once per run").
  bool claim_drop(const std::string& run_id);

  world& w_;
  http_options& opt_;
  std::mutex drops_mu_;
  std::set<std::string> dropped_runs_;
};

/// Whether the key's scope includes the agent.
[[nodiscard]] bool in_scope(const api_key& key, std::string_view agent_id);

/// A body the route reads itself only when the request frames one (see api_common.cpp).
[[nodiscard]] std::string optional_body(const httplib::Request& req,
                                        const httplib::ContentReader& reader);

} // namespace emu
