// phrony-emulator: JSON bodies of the API's responses, rendered from the world's state.
// The caller holds world::mu.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "world.hpp"

namespace emu {

/// A NestJS-style error body: {"statusCode","message","error"} (the API documents no schema).
[[nodiscard]] std::string error_body(int status, std::string_view message);
/// The reason phrase NestJS puts in "error".
[[nodiscard]] std::string_view reason_of(int status);

/// 202 body of POST /v1/agents/{agentId}/runs.
[[nodiscard]] std::string start_run_body(const session& s);
/// GET /v1/runs/{runId}.
[[nodiscard]] std::string run_status_body(const run& r);
/// GET /v1/agents/{agentId}/sessions: `page` is already filtered and sliced.
[[nodiscard]] std::string
sessions_page_body(const world& w, const std::vector<const session*>& page, std::size_t total);
/// GET /v1/runs/{runId}/conversation of the session holding `r`.
[[nodiscard]] std::string conversation_body(const world& w, const run& r, bool slim);
/// 202 body of messages, input and skip-agent-wait.
[[nodiscard]] std::string accept_body(std::string_view status);

} // namespace emu
