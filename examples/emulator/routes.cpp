// phrony-emulator: the route table (SPEC.md's endpoints) and server-wide behaviour.
#include "routes.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <phrony/json_writer.hpp>

#include "api.hpp"
#include "render.hpp"

namespace emu {

namespace {

/// Every API request the server received, for GET /_emulator/requests: tests check there what
/// a client sent (or did not send), which its own output cannot prove.
class request_log {
public:
  /// Records a request as it arrives (status 0 until answered).
  void arrived(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    if (entries_.size() == max_entries) {
      entries_.pop_front();
      ++first_;
    }
    entries_.push_back({req.method, req.path, 0});
    in_flight_[&req] = first_ + entries_.size() - 1;
  }
  /// Fills in the status once the response is written (a stream: once it ended).
  void answered(const httplib::Request& req, int status) {
    std::lock_guard lock(mu_);
    const auto it = in_flight_.find(&req);
    if (it == in_flight_.end()) {
      return;
    }
    if (it->second >= first_) {
      entries_[it->second - first_].status = status;
    }
    in_flight_.erase(it);
  }
  /// {"total": N, "requests": [{"method", "path", "status"}, ...]}, oldest first.
  [[nodiscard]] std::string json() const {
    std::lock_guard lock(mu_);
    phrony::json_writer w;
    w.begin_object().key("total").value(first_ + entries_.size()).key("requests").begin_array();
    for (const entry& e : entries_) {
      w.begin_object().key("method").value(e.method).key("path").value(e.path);
      w.key("status").value(e.status).end_object();
    }
    w.end_array().end_object();
    return w.str();
  }

private:
  struct entry {
    std::string method;
    std::string path; // without the query: no header or body is kept, so no key either
    int status = 0;
  };
  static constexpr std::size_t max_entries = 100000;
  mutable std::mutex mu_;
  std::deque<entry> entries_;
  std::uint64_t first_ = 0; // the index of entries_.front() among all requests
  std::map<const httplib::Request*, std::uint64_t> in_flight_;
};

bool is_emulator_route(const httplib::Request& req) {
  return req.path.rfind("/_emulator/", 0) == 0;
}

} // namespace

void install_routes(httplib::Server& server, world& w, http_options& opt) {
  // Shared by the handlers the server keeps, so it lives as long as they do.
  auto a = std::make_shared<api>(w, opt);
  auto log = std::make_shared<request_log>();
  using req_t = const httplib::Request&;
  using res_t = httplib::Response&;
  using reader_t = const httplib::ContentReader&;
  // Ids never hold '/', so "([^/]+)" also keeps "../" and similar from reaching another route.
  server.Post(R"(/v1/agents/([^/]+)/runs)",
              [a](req_t req, res_t res, reader_t rd) { a->start_run(req, res, rd); });
  server.Get(R"(/v1/agents/([^/]+)/sessions)",
             [a](req_t req, res_t res) { a->list_sessions(req, res); });
  server.Get(R"(/v1/runs/([^/]+))", [a](req_t req, res_t res) { a->get_run(req, res); });
  server.Get(R"(/v1/runs/([^/]+)/conversation)",
             [a](req_t req, res_t res) { a->get_conversation(req, res); });
  server.Get(R"(/v1/runs/([^/]+)/stream)", [a](req_t req, res_t res) { a->stream(req, res); });
  server.Post(R"(/v1/runs/([^/]+)/(?:messages|input))",
              [a](req_t req, res_t res) { a->post_message(req, res); });
  server.Post(R"(/v1/runs/([^/]+)/skip-agent-wait)",
              [a](req_t req, res_t res, reader_t rd) { a->skip_agent_wait(req, res, rd); });
  server.Post("/v1/file-library/presign", [a](req_t req, res_t res) { a->presign(req, res); });
  server.Post("/v1/file-library/finalize", [a](req_t req, res_t res) { a->finalize(req, res); });
  // Not part of the API: where presigned upload URLs point (S3's role).
  server.Put(R"(/upload/(.+))", [a](req_t req, res_t res) { a->put_upload(req, res); });
  // Not part of the API either: what tests ask of the emulator itself (README.md).
  server.Get("/_emulator/requests", [log](req_t, res_t res) {
    res.set_content(log->json(), "application/json; charset=utf-8");
  });
  server.Post(R"(/_emulator/runs/([^/]+)/dashboard-answer)",
              [a](req_t req, res_t res, reader_t rd) { a->dashboard_answer(req, res, rd); });

  server.set_pre_routing_handler([&w, &opt, log](req_t req, res_t) {
    if (!is_emulator_route(req)) {
      log->arrived(req);
    }
    if (opt.delay_ms > 0 && !w.stopping()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(opt.delay_ms));
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Unmatched routes answer as NestJS does ("Cannot GET /v1/x"), in JSON.
  server.set_error_handler(httplib::Server::HandlerWithResponse([](req_t req, res_t res) {
    if (res.body.empty() && !res.is_chunked_content_provider_) {
      const std::string message = res.status == 404 ? "Cannot " + req.method + " " + req.path
                                                    : std::string(reason_of(res.status));
      res.set_content(error_body(res.status, message), "application/json; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](req_t, res_t res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body(500, "Internal server error"), "application/json; charset=utf-8");
  });
  server.set_logger([log, verbose = opt.verbose](req_t req, const httplib::Response& res) {
    log->answered(req, res.status);
    if (verbose) {
      // Method, path and status only: the headers carry the API key.
      std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    }
  });
}

} // namespace emu
