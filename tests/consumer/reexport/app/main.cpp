// Uses acme_agents, and phrony directly through acme's public header (a PUBLIC dependency).
#include <acme/agents.hpp>

#include <cstdio>
#include <string>

int main() {
  const std::string line = acme::describe_run(
      R"({"runId":"77fa34b4-12d6-4fd6-8c23-77526537307d","status":"Completed","output":null})");
  if (line != "77fa34b4-12d6-4fd6-8c23-77526537307d Completed") {
    std::fprintf(stderr, "acme_app: describe_run gave '%s'\n", line.c_str());
    return 1;
  }
  const phrony::result<phrony::http_request> req =
      acme::poll_run("phk_acme_secret", "77fa34b4-12d6-4fd6-8c23-77526537307d");
  if (!req || req->method != "GET" || req->url.find("/v1/runs/77fa34b4-") == std::string::npos) {
    std::fprintf(stderr, "acme_app: poll_run failed\n");
    return 1;
  }
  std::puts("acme_app: ok");
  return 0;
}
