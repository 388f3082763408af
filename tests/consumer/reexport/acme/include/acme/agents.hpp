// acme_agents: a library built on phrony; its API hands out phrony types, so its users need
// phrony's headers too (acme::acme_agents links phrony::phrony PUBLIC).
#pragma once

#include <phrony/request.hpp>
#include <phrony/runs.hpp>

#include <string>
#include <string_view>

namespace acme {

/// The run's status as one line, e.g. "77fa... Completed"; the error's message when `body` is
/// not a run.
[[nodiscard]] std::string describe_run(std::string_view body);

/// GET of the run, for the given key.
[[nodiscard]] phrony::result<phrony::http_request> poll_run(const std::string& api_key,
                                                            std::string_view run_id);

} // namespace acme
