// Structure-aware fuzzing of every response parser: the first byte picks the endpoint, the rest
// is a program for api_shapes.hpp, which builds an API-shaped body of that endpoint (every item
// and content type, nulls where the docs allow them and where they do not, unknown fields,
// wrong types, odd strings and numbers, corruptions); the body then gets the very checks the raw
// target of that endpoint runs (checks.hpp), the JSON oracle included.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api_shapes.hpp"
#include "checks.hpp"
#include "conversation_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using phrony_fuzz::shapes::endpoint;
  if (size == 0) {
    return 0;
  }
  const auto e = static_cast<endpoint>(data[0] % static_cast<std::uint8_t>(endpoint::count));
  FuzzedDataProvider in(data + 1, size - 1);
  const std::string body = phrony_fuzz::shapes::make_body(e, in);
  switch (e) {
  case endpoint::run_status: phrony_fuzz::check_run_status(body); break;
  case endpoint::start_run: phrony_fuzz::check_start_run(body); break;
  case endpoint::accept: phrony_fuzz::check_accept(body); break;
  case endpoint::sessions: phrony_fuzz::check_sessions(body); break;
  case endpoint::presign: phrony_fuzz::check_presign(body); break;
  case endpoint::finalize: phrony_fuzz::check_finalize(body); break;
  case endpoint::error_body: phrony_fuzz::check_error_body(body); break;
  case endpoint::stream_event: phrony_fuzz::check_stream_event(body); break;
  case endpoint::event_stream: phrony_fuzz::check_event_stream(body); break;
  case endpoint::conversation: phrony_fuzz::check_conversation(body); break;
  case endpoint::count: break;
  }
  return 0;
}
