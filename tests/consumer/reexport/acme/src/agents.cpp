#include <acme/agents.hpp>

namespace acme {

std::string describe_run(std::string_view body) {
  const auto run = phrony::parse_run_status(body);
  if (!run) {
    return run.error().message;
  }
  return run->run_id + " " + run->status;
}

phrony::result<phrony::http_request> poll_run(const std::string& api_key, std::string_view run_id) {
  phrony::api_config cfg;
  cfg.api_key = api_key;
  return phrony::get_run_request(cfg, run_id);
}

} // namespace acme
