#include <phrony/testing.hpp>

#include <doctest/doctest.h>

#include <phrony/client.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace testing_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace phrony::testing;

namespace {

constexpr const char* run_id = "77fa34b4-12d6-4fd6-8c23-77526537307d";
constexpr const char* key = "phk_testing_secret_0042";
const api_config config{"http://127.0.0.1:9", key, "test"};

std::string run_body(const char* status) {
  return std::string(R"({"runId":")") + run_id + R"(","status":")" + status + R"(","output":null})";
}

std::string frame(int id, const char* status) {
  return "id: " + std::to_string(id) +
         "\ndata: {\"ts\":\"2026-01-01T00:00:00Z\",\"kind\":\"run\",\"subject\":\"engine.run.x\","
         "\"data\":{\"run_id\":\"" +
         run_id + "\",\"status\":\"" + status + "\"}}\n\n";
}

/// A file under the temp directory, removed when the test ends.
struct temp_file {
  std::string path;
  explicit temp_file(const char* name)
      : path((std::filesystem::temp_directory_path() / name).string()) {
    std::remove(path.c_str());
  }
  ~temp_file() { std::remove(path.c_str()); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

http_request request(std::string method, std::string url, std::string body = {}) {
  http_request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = {{"X-API-Key", key}, {"Accept", "application/json"}};
  r.body = std::move(body);
  return r;
}

} // namespace

TEST_CASE("scripted_transport answers in order through a client it was moved into, and keeps "
          "every request with the key redacted") {
  scripted_transport script;
  script.respond(200, run_body("Running")).respond(200, run_body("Completed"));
  client c(script, config); // a copy: `script` still sees the shared queue and log
  CHECK(c.get_run(run_id)->status == "Running");
  CHECK(c.get_run(run_id)->status == "Completed");
  REQUIRE(script.verify().has_value());
  REQUIRE(script.requests().size() == 2);
  const auto& sent = script.requests()[0];
  CHECK(sent.method == "GET");
  CHECK(sent.url == std::string("http://127.0.0.1:9/v1/runs/") + run_id);
  REQUIRE(sent.header("X-API-Key") != nullptr);
  CHECK(*sent.header("X-API-Key") == "[redacted]");
  CHECK(script.log().find(key) == std::string::npos);
  CHECK(script.log().find("#2 GET") != std::string::npos);
  CHECK(&c.transport() != &script);
  CHECK(c.transport().requests().size() == 2);
}

TEST_CASE("the key is scrubbed from a kept request's URL, body and other headers too, and "
          "on_request alone sees it") {
  scripted_transport script;
  std::string seen_key;
  script.on_request([&](const http_request& r) { seen_key = *r.header("X-API-Key"); });
  script.respond(200, "{}");
  auto req = request("POST", std::string("http://h/x?note=") + key,
                     std::string("{\"k\":\"") + key + "\"}");
  req.headers.push_back({"X-Echo", std::string("Bearer ") + key});
  req.headers.push_back({"Authorization", std::string("Bearer ") + key});
  REQUIRE(script.send(req).has_value());
  CHECK(seen_key == key);
  const auto& kept = script.requests().at(0);
  CHECK(kept.url == "http://h/x?note=[redacted]");
  CHECK(kept.body == "{\"k\":\"[redacted]\"}");
  CHECK(*kept.header("X-Echo") == "Bearer [redacted]");
  CHECK(*kept.header("Authorization") == "[redacted]");
}

TEST_CASE("a request finding its queue empty is an error naming it, not a crash, and verify "
          "reports it with every answer left unused") {
  scripted_transport script;
  client c(script, config);
  const auto r = c.get_run(run_id);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::invalid_argument); // never retried: one request only
  CHECK(r.error().message.find(std::string("no response queued for GET /v1/runs/") + run_id) !=
        std::string::npos);
  CHECK(script.requests().size() == 1);

  script.respond(201, "{}").respond_stream(200, {"a", "b"}).fail(transport_error("reset"));
  const auto problems = script.unused();
  REQUIRE(problems.size() == 4);
  CHECK(problems[0].find("GET /v1/runs/") != std::string::npos);
  CHECK(problems[1] == "unused response: status 201, 2 body bytes");
  CHECK(problems[2] == "unused send error: reset");
  CHECK(problems[3] == "unused stream: status 200, 2 chunks");
  const auto v = script.verify();
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message.find("unused stream") != std::string::npos);
  CHECK(v.error().message.find(key) == std::string::npos);
}

TEST_CASE("scripted streams hand over their chunks, end cleanly or with their error, and stop "
          "when a callback says so") {
  scripted_transport script;
  script.respond_stream(200, {"data: 1\n", "\n"});
  script.respond_stream(scripted_stream{503, {"busy"}, transport_error("dropped"), {{"A", "b"}}});
  script.fail_stream(transport_error("refused"));
  script.respond_stream(200, {"x", "y"});
  std::vector<std::string> got;
  int status = 0;
  std::string header;
  stream_handler h;
  h.on_head = [&](const response_head& head) {
    status = head.status;
    header = head.header("a") != nullptr ? *head.header("a") : "";
    return true;
  };
  h.on_data = [&](std::string_view c) {
    got.emplace_back(c);
    return c != "x";
  };
  const auto req = request("GET", "http://h/v1/runs/x/stream");
  CHECK(script.stream(req, h).has_value());
  CHECK(got == std::vector<std::string>{"data: 1\n", "\n"});
  const auto dropped = script.stream(req, h);
  REQUIRE_FALSE(dropped.has_value());
  CHECK(dropped.error().message == "dropped");
  CHECK(status == 503);
  CHECK(header == "b");
  const auto refused = script.stream(req, h);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == errc::transport);
  const auto stopped = script.stream(req, h);
  REQUIRE_FALSE(stopped.has_value());
  CHECK(stopped.error().code == errc::cancelled);
  CHECK(got.back() == "x");
  CHECK(script.verify().has_value());
}

TEST_CASE("a recording replays offline: the same answers, chunks and errors, in order") {
  temp_file file("phrony_testing_roundtrip.jsonl");
  scripted_transport server;
  server.respond(200, run_body("Running"), {{"Content-Type", "application/json"}})
      .respond(200, run_body("Completed"))
      .fail(transport_error("connection reset"))
      .respond(404, std::string("\xFF\xFE binary", 9));
  server.respond_stream(scripted_stream{
      200, {frame(1, "Running"), frame(2, "Completed")}, transport_error("dropped"), {}});
  recording_transport rec(server, file.path);
  const auto get = request("GET", std::string("http://127.0.0.1:9/v1/runs/") + run_id);
  const auto post = request("POST", "http://127.0.0.1:9/v1/agents/a/runs", "{\"x\":1}");
  std::vector<result<http_response>> live;
  live.push_back(rec.send(get));
  live.push_back(rec.send(get));
  live.push_back(rec.send(post));
  live.push_back(rec.send(post));
  std::vector<std::string> live_chunks;
  stream_handler h;
  h.on_head = [](const response_head&) { return true; };
  h.on_data = [&](std::string_view c) {
    live_chunks.emplace_back(c);
    return true;
  };
  const auto stream_req =
      request("GET", std::string("http://127.0.0.1:9/v1/runs/") + run_id + "/stream");
  const auto live_end = rec.stream(stream_req, h);
  REQUIRE(rec.verify().has_value());
  REQUIRE(server.verify().has_value());

  auto loaded = replay_transport::load(file.path);
  REQUIRE_MESSAGE(loaded, loaded.error().what());
  auto replay = *loaded;
  CHECK(replay.size() == 5);
  // Another host and key: neither is matched on.
  auto get2 = get;
  get2.url = std::string("https://elsewhere.example/v1/runs/") + run_id;
  get2.headers[0].value = "phk_other_key_777";
  const std::vector<const http_request*> order = {&get2, &get, &post, &post};
  for (std::size_t i = 0; i < order.size(); ++i) {
    CAPTURE(i);
    const auto r = replay.send(*order[i]);
    REQUIRE(r.has_value() == live[i].has_value());
    if (r) {
      CHECK(r->status == live[i]->status);
      CHECK(r->body == live[i]->body);
      CHECK(r->headers == live[i]->headers);
    } else {
      CHECK(r.error().code == live[i].error().code);
      CHECK(r.error().message == live[i].error().message);
    }
  }
  std::vector<std::string> replayed_chunks;
  h.on_data = [&](std::string_view c) {
    replayed_chunks.emplace_back(c);
    return true;
  };
  const auto end = replay.stream(stream_req, h);
  CHECK(replayed_chunks == live_chunks);
  REQUIRE_FALSE(end.has_value());
  CHECK(end.error().message == live_end.error().message);
  CHECK(end.error().code == errc::transport);
  CHECK(replay.verify().has_value());
}

TEST_CASE("a recording holds neither the key nor a presigned query, wherever they appeared") {
  temp_file file("phrony_testing_scrub.jsonl");
  const std::string presigned =
      "https://bucket.s3.example/uploads/u1/a.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
      "&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeefcafe";
  scripted_transport server;
  server.respond(
      200,
      R"({"objectKey":"uploads/u1/a.txt","uploadUrl":")" + presigned +
          R"(","httpMethod":"PUT",)"
          R"("requiredHeaders":{"Content-Type":"text/plain","x-amz-server-side-encryption-)"
          R"(customer-key" : "Y3VzdG9tZXIta2V5LTEyMw=="},"expiresInSeconds":900,"echo":")" +
          key + R"("})",
      {{"Location", presigned}, {"Set-Cookie", "session=s3cr3t"}});
  server.respond(200, "");
  server.fail(transport_error(std::string("proxy said no to ") + key));
  const std::string half = std::string(key).substr(0, 7);
  server.respond_stream(200, {"data: " + half, std::string(key).substr(7) + "\n\n", "tail"});
  recording_transport rec(server, file.path);
  (void)rec.send(request("POST", "http://127.0.0.1:9/v1/file-library/presign", "{}"));
  auto put = request("PUT", presigned, "bytes");
  put.headers = {{"Content-Type", "text/plain"}};
  (void)rec.send(put);
  (void)rec.send(request("GET", std::string("http://127.0.0.1:9/v1/x?key=") + key));
  stream_handler h;
  h.on_head = [](const response_head&) { return true; };
  h.on_data = [](std::string_view) { return true; };
  (void)rec.stream(request("GET", "http://127.0.0.1:9/v1/runs/x/stream"), h);
  REQUIRE(rec.verify().has_value());

  const std::string text = phrony_test::read_file(file.path);
  CHECK(text.find(key) == std::string::npos);
  CHECK(text.find(half) == std::string::npos); // not even across chunks
  CHECK(text.find("X-Amz-Signature") == std::string::npos);
  CHECK(text.find("X-Amz-Credential") == std::string::npos);
  CHECK(text.find("s3cr3t") == std::string::npos);
  CHECK(text.find("Y3VzdG9tZXIta2V5LTEyMw==") == std::string::npos);
  CHECK(text.find(R"(customer-key\" : \"[redacted]\"})") != std::string::npos);
  CHECK(text.find(R"({\"Content-Type\":\"text/plain\")") != std::string::npos);
  CHECK(text.find("https://bucket.s3.example/uploads/u1/a.txt\"") != std::string::npos);
  CHECK(text.find(R"("target":"/uploads/u1/a.txt")") != std::string::npos);

  // The scrubbed upload URL is what a replayed client PUTs to, and that is recorded.
  auto replay = replay_transport::load(file.path);
  REQUIRE(replay);
  const auto presign =
      replay->send(request("POST", "http://127.0.0.1:9/v1/file-library/presign", "{}"));
  REQUIRE(presign);
  auto parsed = parse_presign(presign->body);
  REQUIRE_MESSAGE(parsed, parsed.error().what());
  CHECK(parsed->upload_url == "https://bucket.s3.example/uploads/u1/a.txt");
  CHECK(replay->send(request("PUT", parsed->upload_url, "bytes")).has_value());
}

TEST_CASE("an unrecorded request fails naming its method and target, and the nearest recorded "
          "one") {
  const std::string recording =
      R"({"v":1,"kind":"send","request":{"method":"POST","target":"/v1/runs/r1/messages","headers":[],"body":"{\"a\":1}"},"response":{"status":202,"headers":[]},"body":"{}"})"
      "\n"
      R"({"v":1,"kind":"send","request":{"method":"GET","target":"/v1/runs/r1","headers":[],"body":""},"response":{"status":200,"headers":[]},"body":"{}"})"
      "\n";
  auto replay = replay_transport::parse(recording);
  REQUIRE_MESSAGE(replay, replay.error().what());
  struct row {
    const char* method;
    const char* url;
    const char* body;
    const char* want;
  };
  const row rows[] = {
      {"POST", "http://h/v1/runs/r1/messages", "{\"a\":2}",
       "no recorded exchange for POST /v1/runs/r1/messages; nearest recorded: line 1: POST "
       "/v1/runs/r1/messages (another body)"},
      {"GET", "http://h/v1/runs/r2", "",
       "no recorded exchange for GET /v1/runs/r2; nearest recorded: line 2: GET /v1/runs/r1"},
      {"DELETE", "http://h/v1/runs/r1", "",
       "no recorded exchange for DELETE /v1/runs/r1; nearest recorded: line 2: GET /v1/runs/r1"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.want);
    const auto got = replay->send(request(r.method, r.url, r.body));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().message == std::string("replay_transport: ") + r.want);
  }
  REQUIRE(replay->send(request("GET", "http://h/v1/runs/r1")).has_value());
  const auto again = replay->send(request("GET", "http://h/v1/runs/r1"));
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().message.find("each recorded one was replayed already (first: line 2") !=
        std::string::npos);
  const auto left = replay->verify();
  REQUIRE_FALSE(left.has_value());
  CHECK(left.error().message ==
        "replay_transport: 1 recorded exchanges not replayed: line 1: POST /v1/runs/r1/messages");
}

TEST_CASE("a malformed recording is an error naming the line") {
  const std::string good =
      R"({"v":1,"kind":"send","request":{"method":"GET","target":"/","headers":[],"body":""},"error":{"code":"transport","message":"x"}})";
  struct row {
    std::string line;
    errc code;
  };
  const row rows[] = {
      {"{", errc::invalid_json},
      {"[]", errc::invalid_json},
      {R"({"v":2})", errc::invalid_json},
      {R"({"v":1,"kind":"poll"})", errc::invalid_json},
      {R"({"v":1,"kind":"send","request":{"method":"GET","target":"/","body":""}})",
       errc::invalid_json},
      {R"({"v":1,"kind":"send","request":{"method":"GET","target":"/","headers":[],"body":{"base64":"@@"}},"error":{"code":"transport","message":"x"}})",
       errc::invalid_json},
      {R"({"v":1,"kind":"send","request":{"method":"GET","target":"/","headers":[],"body":""},"error":{"code":"nope","message":"x"}})",
       errc::invalid_json},
      {R"({"v":1,"kind":"stream","request":{"method":"GET","target":"/","headers":[],"body":""},"response":{"status":200,"headers":[["a"]]},"chunks":[]})",
       errc::invalid_json},
  };
  for (const auto& r : rows) {
    CAPTURE(r.line);
    const auto t = replay_transport::parse(good + "\n\n" + r.line + "\n" + good, "rec.jsonl");
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().code == r.code);
    CHECK(t.error().message.starts_with("replay_transport: rec.jsonl:3: "));
  }
  REQUIRE(replay_transport::parse(good + "\n\n" + good + "\n").has_value());

  // From a file: lines are bounded while they are read.
  temp_file file("phrony_testing_long.jsonl");
  {
    std::FILE* f = std::fopen(file.path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const std::string text = good + "\n" + good + std::string(200'000, ' ') + "\n";
    CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
  }
  REQUIRE(replay_transport::load(file.path).has_value());
  replay_options small;
  small.max_line = 100'000;
  const auto too_long = replay_transport::load(file.path, small);
  REQUIRE_FALSE(too_long.has_value());
  CHECK(too_long.error().code == errc::limit_exceeded);
  CHECK(too_long.error().message.find("phrony_testing_long.jsonl:2: ") != std::string::npos);
  const auto missing = replay_transport::load(file.path + ".none");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("cannot open") != std::string::npos);
}

TEST_CASE("bodies that are not UTF-8 round-trip through base64") {
  for (const std::string& body : {std::string(""), std::string("\x80", 1), std::string("ab\xC3", 3),
                                  std::string("\x00\x01\xFF\xFE", 4), std::string("abc\xFF", 4)}) {
    CAPTURE(body.size());
    temp_file file("phrony_testing_binary.jsonl");
    scripted_transport server;
    server.respond(200, body);
    recording_transport rec(server, file.path);
    REQUIRE(rec.send(request("PUT", "http://h/u", body)).has_value());
    auto replay = replay_transport::load(file.path);
    REQUIRE_MESSAGE(replay, replay.error().what());
    const auto r = replay->send(request("PUT", "http://h/u", body));
    REQUIRE_MESSAGE(r, r.error().what());
    CHECK(r->body == body);
  }
}

TEST_CASE("header values, error messages and targets that are not UTF-8 are recorded and "
          "replay") {
  // Found by fuzz_replay: json_writer refuses such strings, so the whole exchange went
  // unrecorded (a header may carry obs-text, e.g. a Latin-1 filename).
  const std::string latin1("attachment; filename=\"caf\xE9.pdf\"", 31);
  const std::string message("connection reset (\xFF)", 20);
  const std::string url("http://h/u\xE9", 11);
  temp_file file("phrony_testing_binary_headers.jsonl");
  scripted_transport server;
  server.respond(200, "{}", {{"Content-Disposition", latin1}, {std::string("X-\xE9", 3), "v"}})
      .fail(transport_error(message));
  server.respond_stream(scripted_stream{200, {"data: x\n\n"}, std::nullopt, {{"X-Id", latin1}}});
  recording_transport rec(server, file.path);
  REQUIRE(rec.send(request("GET", url)).has_value());
  REQUIRE_FALSE(rec.send(request("POST", "http://h/m")).has_value());
  stream_handler h;
  std::optional<response_head> head;
  h.on_head = [&](const response_head& got) {
    head = got;
    return true;
  };
  REQUIRE(rec.stream(request("GET", "http://h/s"), h).has_value());
  REQUIRE_MESSAGE(rec.verify(), rec.verify().error().what());

  auto replay = replay_transport::load(file.path);
  REQUIRE_MESSAGE(replay, replay.error().what());
  CHECK(replay->size() == 3);
  const auto r = replay->send(request("GET", url));
  REQUIRE_MESSAGE(r, r.error().what());
  REQUIRE(r->headers.size() == 2);
  CHECK(r->headers[0].value == latin1);
  CHECK(r->headers[1].name == std::string("X-\xE9", 3));
  const auto failed = replay->send(request("POST", "http://h/m"));
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message == message);
  head.reset();
  REQUIRE(replay->stream(request("GET", "http://h/s"), h).has_value());
  REQUIRE(head.has_value());
  REQUIRE(head->headers.size() == 1);
  CHECK(head->headers[0].value == latin1);
  CHECK(replay->verify().has_value());
}

TEST_CASE("recording_transport reports a file it cannot write") {
  scripted_transport server;
  server.respond(200, "{}");
  recording_transport rec(server, "/nonexistent-dir/phrony/rec.jsonl");
  CHECK(rec.send(request("GET", "http://h/")).has_value()); // the exchange itself goes on
  const auto v = rec.verify();
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message.find("cannot append") != std::string::npos);
}

} // namespace testing_test
