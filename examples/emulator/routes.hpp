// phrony-emulator: the HTTP surface (cpp-httplib routes) over the world.
#pragma once

#include <atomic>
#include <cstddef>

#include <httplib.h>

#include "world.hpp"

namespace emu {

/// Server behaviour, including the fault injections tests use.
struct http_options {
  int trickle_ms = 0;             // > 0: send bodies in 16-byte pieces this many ms apart
  int drop_stream_after = -1;     // >= 0: cut a run's first stream mid-event after this many events
  bool cr_line_ends = false;      // SSE lines end with a lone CR (legal, and rarely handled)
  int delay_ms = 0;               // delay every response
  std::size_t max_concurrent = 0; // active sessions per key before 429; 0 = no limit
  bool verbose = false;           // log requests to stderr (never headers: they hold the key)
  bool camel_case_events = false; // stream `data` keys in camelCase (runId, sessionId, ...)
  bool event_status = true;       // false: run and session events carry no `status`
  std::atomic<int> port{0};       // the bound port, for presigned upload URLs
};

/// Registers every route of SPEC.md, plus PUT /upload/... for presigned uploads (api.hpp) and
/// the test-only /_emulator/... routes (README.md).
void install_routes(httplib::Server& server, world& w, http_options& options);

} // namespace emu
