#include <phrony/transport.hpp>

#include <doctest/doctest.h>

#include <string>

namespace transport_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;

namespace {

struct fake_sync {
  result<http_response> send(const http_request&) { return http_response{}; }
};
struct fake_streaming {
  result<http_response> send(const http_request&) { return http_response{}; }
  result<void> stream(const http_request&, const stream_handler&) { return {}; }
};
struct returns_string {
  std::string send(const http_request&) { return {}; }
};
struct takes_mutable_request {
  result<http_response> send(http_request&) { return http_response{}; }
};
struct stream_only {
  result<void> stream(const http_request&, const stream_handler&) { return {}; }
};
struct stream_without_result {
  result<http_response> send(const http_request&) { return http_response{}; }
  void stream(const http_request&, const stream_handler&) {}
};

} // namespace

static_assert(transport<fake_sync>);
static_assert(!streaming_transport<fake_sync>);
static_assert(transport<fake_streaming>);
static_assert(streaming_transport<fake_streaming>);
static_assert(!transport<returns_string>);
static_assert(!transport<takes_mutable_request>);
static_assert(!transport<stream_only>);
static_assert(!streaming_transport<stream_only>);
static_assert(!streaming_transport<stream_without_result>);
static_assert(!transport<int>);

TEST_CASE("response headers are found case-insensitively, first one wins") {
  http_response r;
  r.status = 429;
  r.headers = {{"Retry-After", "7"}, {"retry-after", "9"}, {"Content-Type", "application/json"}};
  REQUIRE(r.header("retry-after") != nullptr);
  CHECK(*r.header("RETRY-AFTER") == "7");
  CHECK(*r.header("content-type") == "application/json");
  CHECK(r.header("X-Missing") == nullptr);
}

} // namespace transport_test
