// Record against phrony-emulator, replay offline (issue 12, item 3): a whole human-in-the-loop
// flow (an upload, a run followed by polling with an approving handler, one followed over its
// stream) goes through recording_transport<curl_transport> to a file; with the emulator gone,
// replay_transport answers the same calls from that file to the same outcomes. The file holds
// neither the key nor a presigned query, and a request it lacks fails naming itself.
#include "transports/curl_transport.hpp"

#include <phrony/client.hpp>
#include <phrony/testing.hpp>

#include "emulator_process.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace phrony;
using namespace std::chrono_literals;
using phrony::testing::recording_transport;
using phrony::testing::replay_transport;
using phrony_examples::curl_transport;
using std::chrono::milliseconds;

using phrony_e2e::emulator;

namespace {

// examples/emulator/scenarios/default.json: a key with every scope, the refund agent (one
// approval task before its gated tool call).
constexpr const char* emulator_key = "phk_emulator_all";
constexpr const char* refund_agent = "a1000000-0000-4000-8000-000000000001";

/// Client options whose clock only sleep moves: the follower's decisions (poll backoff, stream
/// hint debounce) then depend on the answers alone, so a replay takes the recorded path.
/// Recording sleeps for real (the emulator's runs move on meanwhile); a replay does not.
client_options sleep_driven_clock(bool really_sleep) {
  auto at = std::make_shared<std::chrono::system_clock::time_point>(std::chrono::hours(1000));
  client_options o;
  o.sleep = [at, really_sleep](milliseconds d) {
    *at += d;
    if (really_sleep) {
      std::this_thread::sleep_for(std::min(d, milliseconds(2000)));
    }
  };
  o.now = [at] { return *at; };
  o.random = [] { return 0.5; };
  return o;
}

/// What the flow produced, to compare the recording with its replay.
struct flow_result {
  std::string object_key;
  std::uint64_t size = 0;
  std::vector<run_outcome> outcomes;
  std::vector<std::string> tasks; // kind and prompt of each task the handler approved
};

/// The user's flow: upload a file, start the refund agent and follow it by polling, then start
/// it again and follow it over its stream, approving each task.
template <class T> flow_result run_flow(client<T>& c) {
  flow_result out;
  auto ref = c.upload_file("invoice.txt", "text/plain", "invoice INV-7\n45.00 EUR\n");
  REQUIRE_MESSAGE(ref, ref.error().what());
  out.object_key = ref->object_key();
  out.size = ref->size_bytes();
  follow_handler approve;
  approve.answer_task = [&](const pending_user_task& t) -> std::optional<run_message> {
    out.tasks.push_back(t.kind.value_or("") + ": " + t.prompt.value_or(""));
    return run_message::approve(t.user_task_id);
  };
  follow_options fo;
  fo.poll_interval = 50ms;
  fo.max_poll_interval = 200ms;
  fo.max_duration = 60s;
  for (const bool streaming : {false, true}) {
    CAPTURE(streaming);
    auto started =
        c.start_run(refund_agent, raw_json{R"({"doc":)" + ref->input_value().text + "}"});
    REQUIRE_MESSAGE(started, started.error().what());
    auto outcome = streaming ? c.follow_run_streaming(started->run_id, approve, fo)
                             : c.follow_run(started->run_id, approve, fo);
    REQUIRE_MESSAGE(outcome, outcome.error().what());
    out.outcomes.push_back(*outcome);
  }
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("a recorded HITL flow replays offline to the same outcomes, and the recording holds no "
          "key and no presigned query") {
  const std::string file = "/tmp/phrony-record-replay-" + std::to_string(getpid()) + ".jsonl";
  std::remove(file.c_str());
  flow_result recorded;
  std::string presigned_signature;
  {
    emulator emu;
    using recorder = recording_transport<curl_transport>;
    client<recorder> c(recorder(curl_transport(phrony_examples::curl_options{5s, 15s, 10s}), file),
                       api_config{emu.base(), emulator_key, "test"}, sleep_driven_clock(true));
    // The signature the emulator puts into upload URLs, to look for it in the file.
    auto presign = c.presign(presign_params{"probe.txt", "text/plain", 1});
    REQUIRE_MESSAGE(presign, presign.error().what());
    const auto at = presign->upload_url.find("X-Amz-Signature=");
    REQUIRE(at != std::string::npos);
    presigned_signature = presign->upload_url.substr(at + 16, 16);
    const auto start = std::chrono::steady_clock::now();
    recorded = run_flow(c);
    MESSAGE("recorded in " << std::chrono::duration_cast<milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()
                           << " ms");
    REQUIRE(c.transport().verify().has_value());
  } // the emulator is gone from here on
  REQUIRE(recorded.outcomes.size() == 2);
  for (const auto& o : recorded.outcomes) {
    CHECK(o.end == follow_end::completed);
    CHECK(o.output.text.find("\"refundApproved\":true") != std::string::npos);
  }
  REQUIRE(recorded.tasks.size() == 2);

  const std::string text = read_all(file);
  CHECK(text.find(emulator_key) == std::string::npos);
  CHECK(text.find("X-Amz-Signature") == std::string::npos);
  CHECK(text.find(presigned_signature) == std::string::npos);
  CHECK(text.find("[redacted]") != std::string::npos);
  CHECK(text.find(R"("kind":"stream")") != std::string::npos); // the streaming flow streamed
  CHECK(text.find(R"("method":"PUT","target":"/upload/)") != std::string::npos);

  // Offline: another base URL (nothing listens there) and another key; the recording's first
  // exchange (the probe presign) is asked for first, as when it was recorded.
  auto loaded = replay_transport::load(file);
  REQUIRE_MESSAGE(loaded, loaded.error().what());
  replay_transport replay = *loaded;
  client<replay_transport> c(replay, api_config{"http://127.0.0.1:9", "phk_replay_key_0", "test"},
                             sleep_driven_clock(false));
  REQUIRE(c.presign(presign_params{"probe.txt", "text/plain", 1}));
  const auto start = std::chrono::steady_clock::now();
  const flow_result replayed = run_flow(c);
  MESSAGE(
      "replayed in "
      << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count()
      << " ms, " << replay.size() << " exchanges");
  CHECK(replayed.object_key == recorded.object_key);
  CHECK(replayed.size == recorded.size);
  CHECK(replayed.tasks == recorded.tasks);
  REQUIRE(replayed.outcomes.size() == recorded.outcomes.size());
  for (std::size_t i = 0; i < recorded.outcomes.size(); ++i) {
    CAPTURE(i);
    const auto& a = recorded.outcomes[i];
    const auto& b = replayed.outcomes[i];
    CHECK(b.completed == a.completed);
    CHECK(b.end == a.end);
    CHECK(b.status == a.status);
    CHECK(b.output.text == a.output.text);
    CHECK(b.error == a.error);
    CHECK(b.task.has_value() == a.task.has_value());
  }
  const auto all_used = replay.verify();
  CHECK_MESSAGE(all_used.has_value(), all_used.error().what());

  // A request the recording lacks fails, naming it.
  const std::string unknown_run = "00000000-0000-4000-8000-000000000000";
  const auto missing = c.get_run(unknown_run);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == errc::invalid_argument);
  CHECK(missing.error().message.find("no recorded exchange for GET /v1/runs/" + unknown_run) !=
        std::string::npos);
  std::remove(file.c_str());
}
