// The program every consumer test builds (tests/consumer/CMakeLists.txt), whichever way it took
// phrony: it parses a response, builds a request and checks both; non-zero exit on any failure.
#include <phrony/phrony.hpp>

#include <cstdio>
#include <string>
#include <string_view>

// The compiled mode's promise: its users' translation units do not see simdjson.
#if defined(PHRONY_SEPARATE_COMPILATION) && defined(SIMDJSON_H)
#error "phrony/phrony.hpp included simdjson.h in the compiled mode"
#endif

static_assert(PHRONY_VERSION ==
              PHRONY_VERSION_MAJOR * 10000 + PHRONY_VERSION_MINOR * 100 + PHRONY_VERSION_PATCH);

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return 1;
}

constexpr std::string_view run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";

} // namespace

int main() {
  const auto run = phrony::parse_run_status(
      R"({"runId":"77fa34b4-12d6-4fd6-8c23-77526537307d","status":"Completed",)"
      R"("output":{"resolution":"escalated","confidence":0.59},"totalTokensUsed":66545})");
  if (!run) {
    return fail(run.error().message.c_str());
  }
  if (run->run_id != run_id || run->state() != phrony::run_state::completed ||
      run->output.text != R"({"resolution":"escalated","confidence":0.59})") {
    return fail("parse_run_status: unexpected fields");
  }

  phrony::api_config cfg;
  cfg.api_key = "phk_consumer_secret";
  const auto req = phrony::get_run_request(cfg, run_id);
  if (!req) {
    return fail(req.error().message.c_str());
  }
  if (req->method != "GET" || req->url != "https://api.phrony.com/v1/runs/" + std::string(run_id)) {
    return fail("get_run_request: unexpected method or URL");
  }
  if (phrony::to_string(*req).find("phk_consumer_secret") != std::string::npos) {
    return fail("the API key appears in the printed request");
  }
  if (phrony::get_run_request(cfg, "../admin")) {
    return fail("get_run_request accepted a run id that is not a UUID");
  }

  std::printf("consumer: ok (phrony %s)\n", PHRONY_VERSION_STRING);
  return 0;
}
