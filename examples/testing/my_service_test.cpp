// How a user tests their own code that calls Phrony, offline, with <phrony/testing.hpp>:
// request_refund() below is "my service"; its tests script the API with scripted_transport, and
// replay a real flow recorded once against phrony-emulator (refund_flow.jsonl, beside this file).
//
// Re-record: start `phrony-emulator --port 8080`, then run
//   PHRONY_RECORD_BASE=http://127.0.0.1:8080 my_service_test -tc="*record*"
// which writes refund_flow.jsonl through recording_transport<curl_transport> (key and presigned
// query strings scrubbed); commit it.
#include "transports/curl_transport.hpp"

#include <phrony/client.hpp>
#include <phrony/testing.hpp>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <simdjson.h> // the test reads recorded lines itself

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace my_service {

/// What the support desk tells a customer.
struct refund_decision {
  bool refunded = false;
  std::string detail;
};

/// Asks the refund agent about `order`, approving its refund task when `approve` says so.
template <phrony::transport T>
refund_decision request_refund(phrony::client<T>& api, const std::string& agent_id,
                               const std::string& order,
                               const std::function<bool(const phrony::pending_user_task&)>& approve,
                               const phrony::follow_options& fo = {}) {
  phrony::json_writer input;
  input.begin_object().key("order").value(order).end_object();
  auto started = api.start_run(agent_id, phrony::raw_json{input.str()});
  if (!started) {
    return {false, "could not start: " + started.error().what()};
  }
  phrony::follow_handler h;
  h.answer_task = [&](const phrony::pending_user_task& t) -> std::optional<phrony::run_message> {
    return approve(t) ? phrony::run_message::approve(t.user_task_id)
                      : phrony::run_message::reject(t.user_task_id);
  };
  auto outcome = api.follow_run(started->run_id, h, fo);
  if (!outcome) {
    return {false, "error: " + outcome.error().what()};
  }
  if (!outcome->completed) {
    return {false, "run ended: " + outcome->error};
  }
  simdjson::dom::parser parser;
  bool approved = false;
  if (parser.parse(outcome->output.text).at_key("refundApproved").get_bool().get(approved)) {
    return {false, "unexpected output: " + outcome->output.text};
  }
  return {approved, outcome->output.text};
}

} // namespace my_service

using namespace phrony;
using phrony::testing::replay_transport;
using phrony::testing::scripted_transport;
using std::chrono::milliseconds;

namespace {

const std::string refund_agent = "a1000000-0000-4000-8000-000000000001";
const std::string run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";

/// A clock only sleep moves, so polling takes the same path when recorded and when replayed;
/// only recording really sleeps (the server's run moves on meanwhile).
client_options test_clock(bool really_sleep) {
  auto at = std::make_shared<std::chrono::system_clock::time_point>();
  client_options o;
  o.sleep = [at, really_sleep](milliseconds d) {
    *at += d;
    if (really_sleep) {
      std::this_thread::sleep_for(d);
    }
  };
  o.now = [at] { return *at; };
  return o;
}

const follow_options fast{milliseconds(50), milliseconds(200)};
const auto always = [](const pending_user_task&) { return true; };

} // namespace

TEST_CASE("a scripted run that completes is reported with the agent's output") {
  scripted_transport api;
  api.respond(202, R"({"sessionId":"s-1","runId":")" + run_id +
                       R"(","status":"Running","totalTokensUsed":0,"output":null})")
      .respond(200, R"({"runId":")" + run_id + R"(","status":"Running","output":null})")
      .respond(200, R"({"runId":")" + run_id +
                        R"(","status":"Completed","output":{"refundApproved":true}})");
  client c(api, api_config{"https://api.phrony.com", "phk_test_key_123"}, test_clock(false));
  const auto d = my_service::request_refund(c, refund_agent, "A-1", always, fast);
  CHECK(d.refunded);
  CHECK(d.detail == R"({"refundApproved":true})");
  CHECK(api.verify().has_value()); // every scripted answer was asked for
  REQUIRE(api.requests().size() == 3);
  CHECK(api.requests()[0].body == R"({"input":{"order":"A-1"}})");
  CHECK(api.log().find("phk_test_key_123") == std::string::npos);
}

TEST_CASE("a refused key is reported, and the report never holds the key") {
  scripted_transport api;
  api.respond(401, R"({"statusCode":401,"message":"Invalid API key"})");
  client c(api, api_config{"https://api.phrony.com", "phk_test_key_123"});
  const auto d = my_service::request_refund(c, refund_agent, "A-1", always);
  CHECK_FALSE(d.refunded);
  CHECK(d.detail.find("HTTP 401") != std::string::npos);
  CHECK(d.detail.find("phk_test_key_123") == std::string::npos);
  CHECK(api.verify().has_value());
}

TEST_CASE("the recorded refund flow replays offline: the task is approved, the refund made") {
  auto replay = replay_transport::load(MY_SERVICE_RECORDING);
  REQUIRE_MESSAGE(replay, replay.error().what());
  client c(*replay, api_config{"https://api.phrony.com", "phk_test_key_123"}, test_clock(false));
  const auto d = my_service::request_refund(c, refund_agent, "A-1", always, fast);
  CHECK_MESSAGE(d.refunded, d.detail);
  CHECK(replay->verify().has_value()); // the service made every recorded call, no more
}

TEST_CASE("a rejection was never recorded: the replay says which request it lacks") {
  auto replay = replay_transport::load(MY_SERVICE_RECORDING);
  REQUIRE(replay);
  client c(*replay, api_config{"https://api.phrony.com", "phk_test_key_123"}, test_clock(false));
  const auto never = [](const pending_user_task&) { return false; };
  const auto d = my_service::request_refund(c, refund_agent, "A-1", never, fast);
  CHECK_FALSE(d.refunded);
  CHECK(d.detail.find("no recorded exchange for POST /v1/runs/") != std::string::npos);
}

TEST_CASE("record the refund flow against a server (only with PHRONY_RECORD_BASE set)") {
  const char* base = std::getenv("PHRONY_RECORD_BASE");
  if (base == nullptr) {
    MESSAGE("PHRONY_RECORD_BASE not set: not recording");
    return;
  }
  std::remove(MY_SERVICE_RECORDING);
  using recorder = phrony::testing::recording_transport<phrony_examples::curl_transport>;
  client c(recorder(phrony_examples::curl_transport{}, MY_SERVICE_RECORDING),
           api_config{base, "phk_emulator_all"}, test_clock(true));
  const auto d = my_service::request_refund(c, refund_agent, "A-1", always, fast);
  CHECK_MESSAGE(d.refunded, d.detail);
  CHECK(c.transport().verify().has_value());
}
