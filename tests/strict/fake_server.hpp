// A stand-in for the Phrony API for the strict-flags and -fno-exceptions consumer programs: it
// answers each request by method and path from tests/fixtures, and records what it was sent.
// It is compiled under the same warning flags as the headers, so it stays plain C++20.
#pragma once

#include <phrony/phrony.hpp>

#include <cstddef>
#include <cstdio>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phrony_strict {

inline constexpr std::string_view run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";
inline constexpr std::string_view agent_id = "8a4996ef-b447-40ce-b484-38b5c41f9dfd";
inline constexpr std::string_view api_key = "phk_strict_secret_4711";

/// The bytes of `path`, or "" when it cannot be read. (With <cstdio>: g++ 12 -O2 reports a
/// -Wnull-dereference inside libstdc++'s istreambuf_iterator.)
inline std::string read_file(const std::string& path) {
  std::string text;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
      text.append(buf, n);
    }
    std::fclose(f);
  }
  return text;
}

/// One SSE frame: `id: <id>` and one data line.
inline std::string sse_frame(std::string_view id, std::string_view json) {
  return "id: " + std::string(id) + "\ndata: " + std::string(json) + "\n\n";
}

/// The data of a run event of our run.
inline std::string run_event(std::string_view subject, std::string_view status) {
  return R"({"ts":"2026-01-01T00:00:00Z","kind":"run","subject":")" + std::string(subject) +
         R"(","data":{"run_id":")" + std::string(run_id) + R"(","status":")" + std::string(status) +
         R"("}})";
}

/// The data of the event that ends a session.
inline std::string session_completed() {
  return R"({"ts":"2026-01-01T00:00:01Z","kind":"session","subject":"engine.session.completed",)"
         R"("data":{"session_id":"s","status":"Completed"}})";
}

class fake_server {
public:
  explicit fake_server(std::string fixtures_dir) : dir_(std::move(fixtures_dir)) {}

  /// What GET /v1/runs/{runId} answers, in turn; "Completed" once these are used up.
  std::deque<std::string> run_states;
  /// The chunks of each GET .../stream connection, in turn; none left: a transport error.
  std::deque<std::vector<std::string>> streams;
  /// "METHOD /path" of every request, in order.
  std::vector<std::string> log;
  /// Every request as sent (to check headers and bodies).
  std::vector<phrony::http_request> sent;

  phrony::result<phrony::http_response> send(const phrony::http_request& req) {
    const std::string path = record(req);
    const std::string runs = "/v1/runs/";
    if (req.method == "POST" && path.starts_with("/v1/agents/") && path.ends_with("/runs")) {
      return reply(202, fixture("start_run.json"));
    }
    if (req.method == "GET" && path.starts_with("/v1/agents/") && path.ends_with("/sessions")) {
      // The fixture's page of 5 rows, as the only page.
      std::string body = fixture("sessions_page.json");
      const std::string total = "\"total\": 137";
      if (const auto at = body.rfind(total); at != std::string::npos) {
        body.replace(at, total.size(), "\"total\": 5");
      }
      return reply(200, std::move(body));
    }
    if (req.method == "GET" && path == runs + std::string(run_id)) {
      std::string state = "Completed";
      if (!run_states.empty()) {
        state = std::move(run_states.front());
        run_states.pop_front();
      }
      return reply(200, R"({"runId":")" + std::string(run_id) + R"(","status":")" + state +
                            R"(","output":{"n":1}})");
    }
    if (req.method == "GET" && path.starts_with(runs) && path.ends_with("/conversation")) {
      return reply(200, fixture("conversation_waiting.json"));
    }
    if (req.method == "POST" && path.starts_with(runs) && path.ends_with("/messages")) {
      return reply(202, R"({"status":"Running"})");
    }
    if (req.method == "POST" && path.ends_with("/skip-agent-wait")) {
      // Echoing the key, as a careless server might: the error must not repeat it.
      return reply(400, R"({"statusCode":400,"message":"Run is not waiting for a timer )" +
                            std::string(api_key) + R"(","error":"Bad Request"})");
    }
    if (req.method == "POST" && path == "/v1/file-library/presign") {
      return reply(200, fixture("presign.json"));
    }
    if (req.method == "PUT" && path.find("/file-library/") != std::string::npos) {
      return reply(200, "");
    }
    if (req.method == "POST" && path == "/v1/file-library/finalize") {
      return reply(200, fixture("finalize.json"));
    }
    return reply(404, fixture("error_401.json"));
  }

  phrony::result<void> stream(const phrony::http_request& req, const phrony::stream_handler& h) {
    record(req);
    if (streams.empty()) {
      return phrony::make_error(phrony::errc::transport, "", "connection refused");
    }
    const std::vector<std::string> chunks = std::move(streams.front());
    streams.pop_front();
    phrony::response_head head;
    head.status = 200;
    head.headers.push_back({"Content-Type", "text/event-stream"});
    if (!h.on_head(head)) {
      return phrony::make_error(phrony::errc::cancelled, "", "stopped");
    }
    for (const std::string& c : chunks) {
      if (!h.on_data(c)) {
        return phrony::make_error(phrony::errc::cancelled, "", "stopped");
      }
    }
    return {};
  }

  /// The text of tests/fixtures/<name>.
  [[nodiscard]] std::string fixture(std::string_view name) const {
    return read_file(dir_ + "/" + std::string(name));
  }

private:
  static phrony::http_response reply(int status, std::string body) {
    phrony::http_response r;
    r.status = status;
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::move(body);
    return r;
  }

  /// Logs `req`; its path without the query.
  std::string record(const phrony::http_request& req) {
    std::string path = req.route();
    if (const auto q = path.find('?'); q != std::string::npos) {
      path.resize(q);
    }
    log.push_back(req.method + " " + path);
    sent.push_back(req);
    return path;
  }

  std::string dir_;
};

static_assert(phrony::streaming_transport<fake_server>);

} // namespace phrony_strict
