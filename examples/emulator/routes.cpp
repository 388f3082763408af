// phrony-emulator: the route table (SPEC.md's endpoints) and server-wide behaviour.
#include "routes.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "api.hpp"
#include "render.hpp"

namespace emu {

void install_routes(httplib::Server& server, world& w, http_options& opt) {
  // Shared by the handlers the server keeps, so it lives as long as they do.
  auto a = std::make_shared<api>(w, opt);
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

  server.set_pre_routing_handler([&w, &opt](req_t, res_t) {
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
  if (opt.verbose) {
    server.set_logger([](req_t req, const httplib::Response& res) {
      // Method, path and status only: the headers carry the API key.
      std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }
}

} // namespace emu
