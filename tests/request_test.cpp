#include <phrony/request.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"

namespace request_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::string_literals;
using namespace std::string_view_literals;
using phrony_test::fixture;

namespace {

const std::string key = "phk_live_7f3c9a1e5b2d4c6e8a0b1d3f5e7a9c1b";
const std::string run = "77fa34b4-12d6-4fd6-8c23-77526537307d";
const std::string agent = "c963cfe0-afae-4a3b-b909-6a04e7d80068";
const std::string task = "26B563B1-E794-4E14-A145-4C40C439F34A"; // upper case is a UUID too

api_config config(std::string base = "https://api.phrony.com") {
  api_config c;
  c.base_url = std::move(base);
  c.api_key = key;
  return c;
}

const std::string user_agent = "phrony-cpp/" PHRONY_VERSION_STRING; // the default
const std::vector<http_header> get_headers = {
    {"X-API-Key", key}, {"Accept", "application/json"}, {"User-Agent", user_agent}};
const std::vector<http_header> json_headers = {{"X-API-Key", key},
                                               {"Accept", "application/json"},
                                               {"User-Agent", user_agent},
                                               {"Content-Type", "application/json"}};
const std::vector<http_header> stream_headers = {{"X-API-Key", key},
                                                 {"Accept", "text/event-stream"},
                                                 {"User-Agent", user_agent},
                                                 {"Cache-Control", "no-cache"}};

std::vector<http_header> with(std::vector<http_header> base, http_header extra) {
  base.push_back(std::move(extra));
  return base;
}

run_message full_message() {
  run_message m;
  m.user_task_id = task;
  m.approved = true;
  m.selected_option_id = "opt_2";
  m.text_value = "t";
  m.number_value = 2.5;
  m.metadata = raw_json{R"({"source":"cli"})"};
  m.text = "hi";
  m.message = "hello";
  m.files = {{"tenant/a/file-library/b.pdf", "b.pdf", "application/pdf"}};
  m.completed_by_email = "ops@example.com";
  m.skip_agent_wait = false;
  m.extra = {{"clientRef", raw_json{R"([1,{"z":null}])"}}};
  return m;
}

// Every builder that takes an id, with the id in the place under test.
struct id_builder {
  std::string_view name;
  std::string_view what;
  std::function<result<http_request>(const std::string&)> build;
};

std::vector<id_builder> id_builders() {
  const auto cfg = config();
  return {
      {"start_run", "agentId", [=](const std::string& id) { return start_run_request(cfg, id); }},
      {"list_sessions", "agentId",
       [=](const std::string& id) { return list_sessions_request(cfg, id, {}); }},
      {"get_run", "runId", [=](const std::string& id) { return get_run_request(cfg, id); }},
      {"get_conversation", "runId",
       [=](const std::string& id) { return get_conversation_request(cfg, id); }},
      {"stream", "runId", [=](const std::string& id) { return stream_request(cfg, id); }},
      {"send_message", "runId",
       [=](const std::string& id) {
         return send_message_request(cfg, id, run_message::chat("hi"));
       }},
      {"send_input", "runId",
       [=](const std::string& id) {
         return send_message_request(cfg, id, run_message::chat("hi"), message_route::input);
       }},
      {"skip_agent_wait", "runId",
       [=](const std::string& id) { return skip_agent_wait_request(cfg, id); }},
      {"message userTaskId", "userTaskId",
       [=](const std::string& id) {
         return send_message_request(cfg, run, run_message::approve(id));
       }},
  };
}

const std::string hostile_ids[] = {
    "../x",
    "a/b",
    "?x",
    "#",
    "%2e%2e",
    "%2F",
    "",
    " ",
    "77fa34b4-12d6-4fd6-8c23-77526537307d0", // 37 characters
    "77fa34b4-12d6-4fd6-8c23-77526537307",   // 35 characters
    "77fa34b4-12d6-4fd6-8c23-77526537307ü",  // 36 characters, 37 bytes
    "77fa34b4-12d6-4fd6-8c23-7752653730ü",   // 36 bytes, not hex
    "77fa34b4-12d6-4fd6-8c23-77526537307g",
    "77fa34b4/12d6-4fd6-8c23-77526537307d",
    "77fa34b412d64fd68c2377526537307d",
    "77fa34b4-12d6-4fd6-8c23-77526537307d/../../agents",
    "77fa34b4-12d6-4fd6-8c23-77526537307d?x",
    "77fa34b4-12d6-4fd6-8c23-77526537307d#",
    "77fa34b4-12d6-4fd6-8c23-77526537307d\n",
    " 77fa34b4-12d6-4fd6-8c23-77526537307d",
    "77fa34b4-12d6-4fd6-8c23-7752653\0"
    "307d"s,
    "{77fa34b4-12d6-4fd6-8c23-77526537307}",
    "７７fa34b4-12d6-4fd6-8c23-775265373",
};

} // namespace

TEST_CASE("every builder produces the documented method, URL, headers and body") {
  const auto cfg = config();
  const std::string base = "https://api.phrony.com";
  sessions_query all;
  all.skip = 0;
  all.take = 25;
  all.version_id = "v 1/ü&x=y";
  all.status = "WaitingForHITL";
  presign_params presign;
  presign.filename = "report Q1 \"final\".pdf";
  presign.media_type = "application/pdf";
  presign.max_content_length = 10485760;
  finalize_params finalize;
  finalize.object_key = "tenant/t/file-library/f.pdf";
  finalize.max_content_length = 10485760;
  finalize_params finalize_named = finalize;
  finalize_named.filename = "Q1.pdf";
  finalize_named.media_type = "application/pdf";

  struct row {
    std::string_view name;
    result<http_request> got;
    std::string method;
    std::string url;
    std::vector<http_header> headers;
    std::string body;
  };
  const row rows[] = {
      {"start run without input", start_run_request(cfg, agent), "POST",
       base + "/v1/agents/" + agent + "/runs", json_headers, R"({"input":{}})"},
      {"start run with input",
       start_run_request(cfg, agent, raw_json{" {\"q\": [1, \"ü\"], \"n\": null}\n"}), "POST",
       base + "/v1/agents/" + agent + "/runs", json_headers,
       R"({"input":{"q": [1, "ü"], "n": null}})"},
      {"list sessions", list_sessions_request(cfg, agent, {}), "GET",
       base + "/v1/agents/" + agent + "/sessions", get_headers, ""},
      {"list sessions with every filter", list_sessions_request(cfg, agent, all), "GET",
       base + "/v1/agents/" + agent +
           "/sessions?skip=0&take=25&versionId=v%201%2F%C3%BC%26x%3Dy&status=WaitingForHITL",
       get_headers, ""},
      {"get run", get_run_request(cfg, run), "GET", base + "/v1/runs/" + run, get_headers, ""},
      {"get run, upper-case id", get_run_request(cfg, task), "GET", base + "/v1/runs/" + task,
       get_headers, ""},
      {"conversation", get_conversation_request(cfg, run), "GET",
       base + "/v1/runs/" + run + "/conversation?stepContent=full", get_headers, ""},
      {"slim conversation", get_conversation_request(cfg, run, step_content::slim), "GET",
       base + "/v1/runs/" + run + "/conversation?stepContent=slim", get_headers, ""},
      {"stream", stream_request(cfg, run), "GET", base + "/v1/runs/" + run + "/stream",
       stream_headers, ""},
      {"stream resumed", stream_request(cfg, run, "1715588100000-17"), "GET",
       base + "/v1/runs/" + run + "/stream",
       with(stream_headers, {"Last-Event-ID", "1715588100000-17"}), ""},
      {"stream with an empty last id", stream_request(cfg, run, ""), "GET",
       base + "/v1/runs/" + run + "/stream", stream_headers, ""},
      {"message", send_message_request(cfg, run, run_message::approve(task)), "POST",
       base + "/v1/runs/" + run + "/messages", json_headers,
       R"({"runId":")" + run + R"(","userTaskId":")" + task + R"(","approved":true})"},
      {"input", send_message_request(cfg, run, run_message::chat("go"), message_route::input),
       "POST", base + "/v1/runs/" + run + "/input", json_headers,
       R"({"runId":")" + run + R"(","text":"go"})"},
      {"skip agent wait", skip_agent_wait_request(cfg, run), "POST",
       base + "/v1/runs/" + run + "/skip-agent-wait", get_headers, ""},
      {"presign", presign_request(cfg, presign), "POST", base + "/v1/file-library/presign",
       json_headers,
       R"({"filename":"report Q1 \"final\".pdf","mediaType":"application/pdf",)"
       R"("maxContentLength":10485760})"},
      {"finalize", finalize_request(cfg, finalize), "POST", base + "/v1/file-library/finalize",
       json_headers, R"({"objectKey":"tenant/t/file-library/f.pdf","maxContentLength":10485760})"},
      {"finalize with names", finalize_request(cfg, finalize_named), "POST",
       base + "/v1/file-library/finalize", json_headers,
       R"({"objectKey":"tenant/t/file-library/f.pdf","maxContentLength":10485760,)"
       R"("filename":"Q1.pdf","mediaType":"application/pdf"})"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    REQUIRE(r.got.has_value());
    CHECK(r.got->method == r.method);
    CHECK(r.got->url == r.url);
    CHECK(r.got->headers == r.headers);
    CHECK(r.got->body == r.body);
  }
}

TEST_CASE("the upload goes to the presigned URL with every required header and no API key") {
  const std::string body = fixture("presign.json");
  const auto presigned = parse_presign(body);
  REQUIRE(presigned.has_value());
  const std::string bytes("%PDF-1.7\0\xff\x01"
                          "binary",
                          17);
  const auto up = upload_request(*presigned, bytes);
  REQUIRE(up.has_value());
  CHECK(up->method == "PUT");
  CHECK(up->url == presigned->upload_url);
  CHECK(up->url.starts_with("https://phrony-files-eu.s3.eu-central-1.amazonaws.com/tenant/"));
  const std::vector<http_header> want = {{"Content-Type", "application/pdf"},
                                         {"x-amz-server-side-encryption", "AES256"}};
  CHECK(up->headers == want);
  CHECK(up->header("X-API-Key") == nullptr);
  CHECK(up->body == bytes);
}

TEST_CASE("malformed presign answers are rejected before uploading") {
  presign_response good;
  good.upload_url = "https://bucket.example.com/k?sig=1";
  good.http_method = "PUT";
  good.required_headers = {{"Content-Type", "application/pdf"}};
  REQUIRE(upload_request(good, "x").has_value());

  struct row {
    std::string_view name;
    std::function<void(presign_response&)> change;
    std::string_view path;
  };
  const row rows[] = {
      {"no scheme", [](presign_response& p) { p.upload_url = "bucket.example.com/k"; },
       "/uploadUrl"},
      {"ftp", [](presign_response& p) { p.upload_url = "ftp://bucket.example.com/k"; },
       "/uploadUrl"},
      {"empty url", [](presign_response& p) { p.upload_url.clear(); }, "/uploadUrl"},
      {"empty method", [](presign_response& p) { p.http_method.clear(); }, "/httpMethod"},
      {"method with space", [](presign_response& p) { p.http_method = "PU T"; }, "/httpMethod"},
      {"header name with space",
       [](presign_response& p) {
         p.required_headers.push_back({"Bad Name", "v"});
       },
       "/requiredHeaders/Bad Name"},
      {"header injection",
       [](presign_response& p) {
         p.required_headers.push_back({"X-A", "v\r\nX-Evil: 1"});
       },
       "/requiredHeaders/X-A"},
      {"NUL in header value",
       [](presign_response& p) {
         p.required_headers.push_back({"X-A/b", "v\0w"s});
       },
       "/requiredHeaders/X-A~1b"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    auto p = good;
    r.change(p);
    const auto got = upload_request(p, "x");
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("base URLs join without a double slash and keep their path prefix") {
  struct row {
    std::string base;
    std::string want;
  };
  const row rows[] = {
      {"https://api.phrony.com", "https://api.phrony.com/v1/runs/" + run},
      {"https://api.phrony.com/", "https://api.phrony.com/v1/runs/" + run},
      {"https://api.phrony.com///", "https://api.phrony.com/v1/runs/" + run},
      {"http://localhost:8080/", "http://localhost:8080/v1/runs/" + run},
      {"https://staging.example.com/phrony", "https://staging.example.com/phrony/v1/runs/" + run},
      {"https://staging.example.com/phrony/", "https://staging.example.com/phrony/v1/runs/" + run},
      {"HTTPS://API.PHRONY.COM", "HTTPS://API.PHRONY.COM/v1/runs/" + run},
      {"http://[::1]:3000", "http://[::1]:3000/v1/runs/" + run},
      {"http://10.0.0.7:65535/a/b", "http://10.0.0.7:65535/a/b/v1/runs/" + run},
      {"https://x.test/a%20b/~p!$&'()*+,;=:@",
       "https://x.test/a%20b/~p!$&'()*+,;=:@/v1/runs/" + run},
  };
  for (const auto& r : rows) {
    CAPTURE(r.base);
    const auto got = get_run_request(config(r.base), run);
    REQUIRE(got.has_value());
    CHECK(got->url == r.want);
  }
  CHECK(join_url("https://x.test/", "/v1/a").value() == "https://x.test/v1/a");
  CHECK(join_url("https://x.test", "v1/a").value() == "https://x.test/v1/a");
  CHECK(join_url("https://x.test/p/", "/v1/a?b=c").value() == "https://x.test/p/v1/a?b=c");
}

TEST_CASE("base URLs that are not http(s) with a host are invalid_argument") {
  const std::string bases[] = {
      "",
      "api.phrony.com",
      "//api.phrony.com",
      "ftp://api.phrony.com",
      "https://",
      "https:///v1",
      "https://user:pw@api.phrony.com",
      "https://api.phrony.com?x=1",
      "https://api.phrony.com/#f",
      "https://api.phrony.com/p?x",
      "https://api phrony.com",
      "https://api.phrony.com\n",
      "https://api.phrony.com:",
      "https://api.phrony.com:99999",
      "https://api.phrony.com:8a",
      "https://[::1",
      "https://[]",
      "https://[::1]x",
      "https://api.phrony.com/p\x7f",
      "https://ápi.phrony.com",
      // A path prefix that is not RFC 3986 text (found by fuzz_request: these went into the
      // request target byte for byte).
      "https://x.test/%zz",
      "https://x.test/a%2",
      "https://x.test/%",
      "https://x.test/\xc3\xa9",
      "https://x.test/<x>",
      "https://x.test/a\"b",
      "https://x.test/{a}|^`",
      "https://x.test/p\\q",
  };
  for (const auto& b : bases) {
    CAPTURE(b);
    const auto got = get_run_request(config(b), run);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().message.find("base_url") != std::string::npos);
    CHECK(got.error().message.find(key) == std::string::npos);
    CHECK_FALSE(join_url(b, "/v1").has_value());
  }
  CHECK(join_url("https://x.test", "/v1/a b").error().code == errc::invalid_argument);
}

TEST_CASE("a path that is not RFC 3986 text is invalid_argument, never sent") {
  CHECK(join_url("https://x.test", "/v1/%zz").error().code == errc::invalid_argument);
  CHECK(join_url("https://x.test", "/v1/\xc3\xa9").error().code == errc::invalid_argument);
  CHECK(join_url("https://x.test", "/v1/a#f").error().code == errc::invalid_argument);
  CHECK(join_url("https://x.test", "/v1/a%2Fb?c=%C3%A9").value() ==
        "https://x.test/v1/a%2Fb?c=%C3%A9");
  CHECK(detail::is_url_path_text("/a-b._~!$&'()*+,;=:@/?%00%fF"));
  CHECK_FALSE(detail::is_url_path_text("%0"));
  CHECK_FALSE(detail::is_url_path_text("#"));
  CHECK_FALSE(detail::is_url_path_text("[::1]"));
}

TEST_CASE("hostile ids are invalid_argument for every builder and never reach a URL") {
  for (const auto& b : id_builders()) {
    CAPTURE(b.name);
    REQUIRE(b.build(agent).has_value());
    REQUIRE(b.build(task).has_value());
    for (const auto& id : hostile_ids) {
      CAPTURE(id);
      const auto got = b.build(id);
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == errc::invalid_argument);
      CHECK(got.error().path == (b.what == "userTaskId" ? "/userTaskId" : ""));
      CHECK(got.error().message.find(b.what) != std::string::npos);
      if (id.size() > 2) {
        CHECK(got.error().message.find(id) == std::string::npos);
      }
    }
  }
  for (const auto& id : hostile_ids) {
    CAPTURE(id);
    const auto got = validate_id(id, "runId");
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().message.starts_with("runId "));
  }
  CHECK(validate_id(run, "runId").has_value());
  CHECK(validate_id("ABCDEF01-2345-6789-abcd-ef0123456789", "runId").has_value());
}

TEST_CASE("query values are percent-encoded, keeping only RFC 3986 unreserved characters") {
  struct row {
    std::string in;
    std::string want;
  };
  const row rows[] = {
      {"", ""},
      {"AZaz09-._~", "AZaz09-._~"},
      {" ", "%20"},
      {"/?#&=+", "%2F%3F%23%26%3D%2B"},
      {"%", "%25"},
      {"a%2Fb", "a%252Fb"},
      {"ü", "%C3%BC"},
      {"😀", "%F0%9F%98%80"},
      {"\0"s, "%00"},
      {"\xff", "%FF"},
      {"!*'();:@$,[]", "%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    CHECK(percent_encode(r.in) == r.want);
  }
}

TEST_CASE("sessions query values are checked") {
  const auto cfg = config();
  struct row {
    std::string_view name;
    sessions_query q;
  };
  const auto make = [](auto change) {
    sessions_query q;
    change(q);
    return q;
  };
  const row rows[] = {
      {"negative skip", make([](sessions_query& q) { q.skip = -1; })},
      {"zero take", make([](sessions_query& q) { q.take = 0; })},
      {"negative take", make([](sessions_query& q) { q.take = -5; })},
      {"empty version", make([](sessions_query& q) { q.version_id = ""; })},
      {"empty status", make([](sessions_query& q) { q.status = ""; })},
      {"status not UTF-8", make([](sessions_query& q) { q.status = "\xff"; })},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = list_sessions_request(cfg, agent, r.q);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
  }
  const auto edge = list_sessions_request(cfg, agent, make([](sessions_query& q) {
                                            q.skip = 0;
                                            q.take = 1;
                                          }));
  REQUIRE(edge.has_value());
  CHECK(edge->url.ends_with("/sessions?skip=0&take=1"));
  const auto status_only =
      list_sessions_request(cfg, agent, make([](sessions_query& q) { q.status = "Completed"; }));
  REQUIRE(status_only.has_value());
  CHECK(status_only->url.ends_with("/sessions?status=Completed"));
}

TEST_CASE("each message helper writes its exact JSON body") {
  const auto cfg = config();
  const std::string head = R"({"runId":")" + run + R"(",)";
  const std::string t = R"("userTaskId":")" + task + R"(",)";
  struct row {
    std::string_view name;
    run_message m;
    std::string body;
  };
  const row rows[] = {
      {"approve", run_message::approve(task), head + t + R"("approved":true})"},
      {"reject", run_message::reject(task), head + t + R"("approved":false})"},
      {"choose", run_message::choose_option(task, "opt_2"),
       head + t + R"("selectedOptionId":"opt_2"})"},
      {"text answer", run_message::answer_text(task, "line1\nline \"2\""),
       head + t + R"("textValue":"line1\nline \"2\""})"},
      {"number answer", run_message::answer_number(task, 42.5),
       head + t + R"("numberValue":42.5})"},
      {"negative number", run_message::answer_number(task, -3), head + t + R"("numberValue":-3})"},
      {"tenth", run_message::answer_number(task, 0.1), head + t + R"("numberValue":0.1})"},
      {"big number", run_message::answer_number(task, 1e21), head + t + R"("numberValue":1e+21})"},
      {"chat", run_message::chat("hello ü 😀"), head + R"("text":"hello ü 😀"})"},
      {"files",
       run_message::with_files({{"tenant/a/file-library/b.pdf", "b.pdf", "application/pdf"},
                                {"tenant/a/file-library/c.png", std::nullopt, std::nullopt}}),
       head + R"("files":[{"phronyFile":true,"objectKey":"tenant/a/file-library/b.pdf",)"
              R"("filename":"b.pdf","mediaType":"application/pdf"},)"
              R"({"phronyFile":true,"objectKey":"tenant/a/file-library/c.png"}]})"},
      {"every field", full_message(),
       head + t +
           R"("approved":true,"selectedOptionId":"opt_2","textValue":"t","numberValue":2.5,)"
           R"("metadata":{"source":"cli"},"text":"hi","message":"hello",)"
           R"("files":[{"phronyFile":true,"objectKey":"tenant/a/file-library/b.pdf",)"
           R"("filename":"b.pdf","mediaType":"application/pdf"}],)"
           R"("completedByEmail":"ops@example.com","skipAgentWait":false,)"
           R"("clientRef":[1,{"z":null}]})"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = send_message_request(cfg, run, r.m);
    REQUIRE(got.has_value());
    CHECK(got->body == r.body);
  }
  run_message alias;
  alias.message = "hi";
  CHECK(send_message_request(cfg, run, alias).value().body == head + R"("message":"hi"})");
  run_message task_with_empty_text = run_message::approve(task);
  task_with_empty_text.text = "";
  CHECK(send_message_request(cfg, run, task_with_empty_text).has_value());
}

TEST_CASE("each invalid message is rejected before sending, at the offending field") {
  const auto make = [](auto change) {
    run_message m;
    change(m);
    return m;
  };
  struct row {
    std::string_view name;
    run_message m;
    std::string_view path;
  };
  const row rows[] = {
      {"empty", run_message{}, ""},
      {"empty text", make([](run_message& m) { m.text = ""; }), ""},
      {"empty message", make([](run_message& m) { m.message = ""; }), ""},
      {"both empty", make([](run_message& m) { m.text = m.message = ""; }), ""},
      {"metadata alone", make([](run_message& m) { m.metadata = raw_json{"{}"}; }), ""},
      {"email alone", make([](run_message& m) { m.completed_by_email = "a@b.c"; }), ""},
      {"skip flag alone", make([](run_message& m) { m.skip_agent_wait = true; }), ""},
      {"approved without task", make([](run_message& m) { m.approved = true; }), "/approved"},
      {"option without task", make([](run_message& m) {
         m.selected_option_id = "o";
         m.text = "x";
       }),
       "/selectedOptionId"},
      {"text value without task", make([](run_message& m) { m.text_value = "x"; }), "/textValue"},
      {"number without task", make([](run_message& m) { m.number_value = 1; }), "/numberValue"},
      {"empty task id", run_message::approve(""), "/userTaskId"},
      {"task id traversal", run_message::approve("../x"), "/userTaskId"},
      {"empty option", run_message::choose_option(task, ""), "/selectedOptionId"},
      {"NaN", run_message::answer_number(task, std::nan("")), "/numberValue"},
      {"infinity", run_message::answer_number(task, std::numeric_limits<double>::infinity()),
       "/numberValue"},
      {"minus infinity", run_message::answer_number(task, -std::numeric_limits<double>::infinity()),
       "/numberValue"},
      {"metadata array", make([](run_message& m) {
         m.text = "x";
         m.metadata = raw_json{"[1]"};
       }),
       "/metadata"},
      {"metadata not JSON", make([](run_message& m) {
         m.text = "x";
         m.metadata = raw_json{"{bad"};
       }),
       "/metadata"},
      {"metadata bad literal", make([](run_message& m) {
         m.text = "x";
         m.metadata = raw_json{R"({"a":[1,tru]})"};
       }),
       "/metadata/a/1"},
      {"text not UTF-8", run_message::chat("\xff"), "/text"},
      {"message cut in a sequence", make([](run_message& m) { m.message = "\xc3"; }), "/message"},
      {"text value overlong", run_message::answer_text(task, "\xc0\xaf"), "/textValue"},
      {"email surrogate", make([](run_message& m) {
         m.text = "x";
         m.completed_by_email = "\xed\xa0\x80";
       }),
       "/completedByEmail"},
      {"file without key", run_message::with_files({{"", std::nullopt, std::nullopt}}),
       "/files/0/objectKey"},
      {"file name not UTF-8",
       run_message::with_files({{"k", std::nullopt, std::nullopt}, {"k2", "\xff", std::nullopt}}),
       "/files/1/filename"},
      {"file with empty type", run_message::with_files({{"k", std::nullopt, ""}}),
       "/files/0/mediaType"},
      {"extra runId", make([](run_message& m) {
         m.text = "x";
         m.extra = {{"runId", raw_json{"\"other\""}}};
       }),
       "/runId"},
      {"extra text", make([](run_message& m) {
         m.text = "x";
         m.extra = {{"text", raw_json{"\"y\""}}};
       }),
       "/text"},
      {"extra not JSON", make([](run_message& m) {
         m.text = "x";
         m.extra = {{"a/b", raw_json{"nope"}}};
       }),
       "/a~1b"},
      {"extra empty", make([](run_message& m) {
         m.text = "x";
         m.extra = {{"z", raw_json{""}}};
       }),
       "/z"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = send_message_request(config(), run, r.m);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
    CHECK_FALSE(got.error().message.empty());
  }
}

TEST_CASE("presign and finalize parameters are checked") {
  const auto cfg = config();
  const auto presign = [](std::string filename, std::string media, std::int64_t max) {
    return presign_params{std::move(filename), std::move(media), max};
  };
  struct row {
    std::string_view name;
    presign_params p;
    std::string_view path; // "" means valid
  };
  std::string umlauts;
  for (int i = 0; i < 512; ++i) {
    umlauts += "ü";
  }
  const row rows[] = {
      {"one character", presign("a", "text/plain", 1), ""},
      {"512 characters", presign(std::string(512, 'a'), "text/plain", 1), ""},
      {"512 two-byte characters", presign(umlauts, "text/plain", 1), ""},
      {"largest safe length", presign("a", "text/plain", (std::int64_t{1} << 53) - 1), ""},
      {"empty filename", presign("", "text/plain", 1), "/filename"},
      {"513 characters", presign(std::string(513, 'a'), "text/plain", 1), "/filename"},
      {"513 two-byte characters", presign(umlauts + "ü", "text/plain", 1), "/filename"},
      {"filename not UTF-8", presign("a\xff", "text/plain", 1), "/filename"},
      {"empty media type", presign("a", "", 1), "/mediaType"},
      {"media type not UTF-8", presign("a", "\xff", 1), "/mediaType"},
      {"zero length", presign("a", "text/plain", 0), "/maxContentLength"},
      {"negative length", presign("a", "text/plain", -1), "/maxContentLength"},
      {"length beyond 2^53", presign("a", "text/plain", std::int64_t{1} << 53),
       "/maxContentLength"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = presign_request(cfg, r.p);
    if (r.path.empty()) {
      CHECK(got.has_value());
      continue;
    }
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
  }

  struct frow {
    std::string_view name;
    finalize_params p;
    std::string_view path;
  };
  const frow frows[] = {
      {"empty key", finalize_params{"", 1, std::nullopt, std::nullopt}, "/objectKey"},
      {"zero length", finalize_params{"k", 0, std::nullopt, std::nullopt}, "/maxContentLength"},
      {"empty filename", finalize_params{"k", 1, "", std::nullopt}, "/filename"},
      {"long filename", finalize_params{"k", 1, std::string(513, 'x'), std::nullopt}, "/filename"},
      {"empty media type", finalize_params{"k", 1, std::nullopt, ""}, "/mediaType"},
  };
  for (const auto& r : frows) {
    CAPTURE(r.name);
    const auto got = finalize_request(cfg, r.p);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("a start-run input must be one JSON object") {
  struct row {
    std::string input;
    std::string_view path;
  };
  const row rows[] = {
      {"[1]", "/input"},           {"null", "/input"},
      {"\"x\"", "/input"},         {"", "/input"},
      {"{bad", "/input"},          {"{} {}", "/input"},
      {"{\"a\":tru}", "/input/a"}, {"{\"a\":\"\xff\"}", "/input"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input);
    const auto got = start_run_request(config(), agent, raw_json{r.input});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("stream resumption ids with any control character or over 1 KiB are rejected") {
  std::vector<std::string> bad = {"\n"s, "\t"s, std::string(1025, '7')};
  for (int c = 0; c < 0x20; ++c) {
    bad.push_back(std::string{'a', static_cast<char>(c), 'b'}); // not "a" + ...: g++ 12 -Wrestrict
  }
  bad.push_back("a\x7F"
                "b");
  for (const std::string& id : bad) {
    CAPTURE(id);
    const auto got = stream_request(config(), run, id);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
  }
  for (const std::string& id : {"1747206437497-2"s, "a b"s, "\xC3\xA9"s, std::string(1024, '7')}) {
    const auto got = stream_request(config(), run, id);
    REQUIRE(got.has_value());
    CHECK(*got->header("Last-Event-ID") == id);
  }
}

TEST_CASE("a missing or malformed API key or user agent is invalid_argument everywhere") {
  struct row {
    std::string_view name;
    std::string key;
    std::string user_agent;
  };
  const row rows[] = {
      {"empty key", "", "phrony-cpp/0.1"},
      {"key with newline", key + "\n", "phrony-cpp/0.1"},
      {"key with CR LF", key + "\r\nX-Evil: 1", "phrony-cpp/0.1"},
      {"key with NUL", key + "\0"s, "phrony-cpp/0.1"},
      {"key with leading space", " " + key, "phrony-cpp/0.1"},
      {"key with trailing tab", key + "\t", "phrony-cpp/0.1"},
      {"user agent with newline", key, "ua\r\nX-Evil: 1"},
  };
  presign_params presign{"a.pdf", "application/pdf", 1};
  finalize_params finalize{"k", 1, std::nullopt, std::nullopt};
  for (const auto& r : rows) {
    CAPTURE(r.name);
    api_config cfg = config();
    cfg.api_key = r.key;
    cfg.user_agent = r.user_agent;
    const result<http_request> all[] = {
        start_run_request(cfg, agent),     list_sessions_request(cfg, agent, {}),
        get_run_request(cfg, run),         get_conversation_request(cfg, run),
        stream_request(cfg, run),          send_message_request(cfg, run, run_message::chat("x")),
        skip_agent_wait_request(cfg, run), presign_request(cfg, presign),
        finalize_request(cfg, finalize),
    };
    for (const auto& got : all) {
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == errc::invalid_argument);
      CHECK(got.error().message.find(key) == std::string::npos);
      CHECK(got.error().what().find(key) == std::string::npos);
    }
  }
  api_config no_agent = config();
  no_agent.user_agent.clear();
  const auto got = get_run_request(no_agent, run);
  REQUIRE(got.has_value());
  CHECK(got->header("User-Agent") == nullptr);
}

TEST_CASE("printed requests never show the API key") {
  const auto cfg = config();
  run_message echo = run_message::chat("my key is " + key);
  echo.extra = {{"k", raw_json{"\"" + key + "\""}}};
  const result<http_request> all[] = {
      start_run_request(cfg, agent, raw_json{"{\"apiKey\":\"" + key + "\"}"}),
      list_sessions_request(cfg, agent, {}),
      get_run_request(cfg, run),
      get_conversation_request(cfg, run, step_content::slim),
      stream_request(cfg, run, "7"),
      send_message_request(cfg, run, echo),
      skip_agent_wait_request(cfg, run),
      presign_request(cfg, {"a.pdf", "application/pdf", 1}),
      finalize_request(cfg, {"k", 1, std::nullopt, std::nullopt}),
  };
  for (const auto& r : all) {
    REQUIRE(r.has_value());
    CAPTURE(r->url);
    const std::string printed = to_string(*r);
    CHECK(printed.find(key) == std::string::npos);
    CHECK(printed.find("X-API-Key: [redacted]\n") != std::string::npos);
    CHECK(printed.starts_with(r->method + " " + r->url + "\n"));
    std::ostringstream os;
    os << *r;
    CHECK(os.str() == printed);
    REQUIRE(r->header("x-api-key") != nullptr);
    CHECK(*r->header("x-api-key") == key);
    CHECK(*r->header("X-API-KEY") == key);
  }

  http_request by_hand;
  by_hand.method = "GET";
  by_hand.url = "https://api.phrony.com/v1/runs/" + run;
  by_hand.headers = {{"x-api-key", key}, {"authorization", "Bearer abcdefghijkl"}};
  CHECK(to_string(by_hand) == "GET https://api.phrony.com/v1/runs/" + run +
                                  "\nx-api-key: [redacted]\nauthorization: [redacted]\n");
}

TEST_CASE("errors naming a caller's JSON field never show a key pasted into that field") {
  // Found by fuzz_request: extra field names and input/metadata keys went into the error's
  // path and message as they were.
  const auto hidden = [](const error& e) {
    CAPTURE(e.what());
    CHECK(e.code == errc::invalid_argument);
    CHECK(e.what().find(key) == std::string::npos);
    CHECK(e.what().find("[redacted]") != std::string::npos);
  };
  run_message m = run_message::chat("hi");
  m.extra = {{"x" + key, raw_json{"{"}}};
  hidden(send_message_request(config(), run, m).error());
  m.extra = {{key + "\xff", raw_json{"1"}}};
  const auto bad_name = send_message_request(config(), run, m);
  hidden(bad_name.error());
  CHECK(bad_name.error().message == "an extra field's name is not UTF-8");
  m.extra.clear();
  m.metadata = raw_json{"{\"" + key + "\":[1,}"};
  hidden(send_message_request(config(), run, m).error());
  hidden(start_run_request(config(), agent, raw_json{"{\"a\":{\"" + key + "\":tru}}"}).error());
}

TEST_CASE("printed requests have a fixed layout; binary and long bodies are summarised") {
  const auto got = start_run_request(config(), agent);
  REQUIRE(got.has_value());
  CHECK(to_string(*got) == "POST https://api.phrony.com/v1/agents/" + agent +
                               "/runs\nX-API-Key: [redacted]\nAccept: application/json\n"
                               "User-Agent: " +
                               user_agent +
                               "\nContent-Type: application/json\n"
                               "\n{\"input\":{}}");

  const auto presigned = parse_presign(fixture("presign.json")).value();
  const auto up = upload_request(presigned, std::string("\x00\xff\xfe", 3));
  REQUIRE(up.has_value());
  const std::string printed = to_string(*up);
  CHECK(printed.ends_with("\n\n[3 bytes of binary data]"));
  CHECK(printed.find("X-Amz-Signature=[redacted]&") != std::string::npos);
  CHECK(printed.find("X-Amz-Credential=[redacted]&") != std::string::npos);
  CHECK(printed.find("83a50dd234afed66") == std::string::npos);
  CHECK(printed.find("X-Amz-Algorithm=AWS4-HMAC-SHA256&") != std::string::npos);

  http_request big;
  big.method = "POST";
  big.url = "https://h.test/";
  big.body = std::string(4095, 'a') + "ü" + std::string(100, 'b');
  const std::string long_print = to_string(big);
  CHECK(long_print ==
        "POST https://h.test/\n\n" + std::string(4095, 'a') + "... [4197 bytes in all]");
}

namespace {

/// The first 8-byte piece of `secret` that `text` shows, or "" when none.
std::string leaked_part(std::string_view text, std::string_view secret) {
  for (std::size_t i = 0; i + 8 <= secret.size(); ++i) {
    if (text.find(secret.substr(i, 8)) != std::string_view::npos) {
      return std::string(secret.substr(i, 8));
    }
  }
  return "";
}

} // namespace

TEST_CASE("a printed request never shows part of the key, wherever the body cut falls") {
  // Issue 9: the body was cut at max_printed_body before the key was scrubbed, so a key across
  // the cut was printed in part.
  const std::size_t cut = detail::max_printed_body;
  for (const std::string_view filler : {"a"sv, "\xC3\xBC"sv, "\xE2\x82\xAC"sv}) {
    for (std::size_t at = cut - key.size() - 3; at <= cut + 1; ++at) {
      CAPTURE(filler.size());
      CAPTURE(at);
      http_request r;
      r.method = "POST";
      r.url = "https://h.test/v1/x?q=" + key + "&token=" + key;
      r.headers = {{"X-API-Key", key}, {"X-Trace", "k=" + key}, {"Accept", "*/*"}};
      std::string body;
      while (body.size() + filler.size() <= at) {
        body += filler;
      }
      body += std::string(at - body.size(), 'z');
      body += key;
      body += std::string(300, 'b');
      r.body = body;
      const std::string printed = to_string(r);
      CHECK(leaked_part(printed, key) == "");
      CHECK(is_valid_utf8(printed));
      CHECK(printed.ends_with("... [" + std::to_string(body.size()) + " bytes in all]"));
      CHECK(printed.find("X-Trace: k=[redacted]\n") != std::string::npos);
      CHECK(printed.starts_with("POST https://h.test/v1/x?q=[redacted]&token=[redacted]\n"));
    }
  }
}

TEST_CASE("scrub_then_cut scrubs every secret before it cuts, as scrub then cut would") {
  const std::string other = "Bearer 0123456789abcdef";
  struct row {
    std::string name;
    std::string text;
    std::size_t max;
    bool more_follows;
    std::string want;
    bool cut;
  };
  const row rows[] = {
      {"short text", "ab" + key + "cd", 100, false, "ab[redacted]cd", false},
      {"exactly max", "ab" + key, 12, false, "ab[redacted]", false},
      {"key across the cut", "ab" + key + "cd", 5, false, "ab[re", true},
      {"key right after the cut", "abcde" + key, 5, false, "abcde", true},
      {"UTF-8 kept whole", "ab\xC3\xBC" + key, 3, false, "ab", true},
      {"two secrets", other + "|" + key, 100, false, "[redacted]|[redacted]", false},
      {"short secrets are not scrubbed", "1234567", 100, false, "1234567", false},
      {"a read cut inside a key", "hello " + key.substr(0, 20), 100, true, "hello ", true},
      {"a read cut after a key", "a" + key, 100, true, "a[redacted]", true},
      // Each scrubbed key shortens the text, pulling the cut-off key's beginning below max.
      {"shrinking pulls a partial key in", key + key + key.substr(0, 30), 60, true,
       "[redacted][redacted]", true},
      {"no limit", "x" + key, std::string::npos, false, "x[redacted]", false},
  };
  const std::string_view secrets[] = {key, other, "1234567"};
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = detail::scrub_then_cut(r.text, secrets, r.max, r.more_follows);
    CHECK(got.text == r.want);
    CHECK(got.cut == r.cut);
  }

  // Against the plain definition (scrub the whole text, then cut at a UTF-8 boundary), at every
  // key position around the cut and every cut around the key.
  for (std::size_t at = 0; at < 60; ++at) {
    for (std::size_t max = 0; max < 80; ++max) {
      const std::string text = std::string(at, 'a') + key + "\xC3\xBC" + key + "z";
      std::string want = detail::scrub(text, key);
      const bool cut = want.size() > max;
      if (cut) {
        std::size_t n = max;
        while (n > 0 && (static_cast<unsigned char>(want[n]) & 0xC0) == 0x80) {
          --n;
        }
        want.resize(n);
      }
      CAPTURE(at);
      CAPTURE(max);
      const auto got = detail::scrub_then_cut(text, key, max);
      CHECK(got.text == want);
      CHECK(got.cut == cut);
    }
  }
}

TEST_CASE("route() is path and query without scheme, host or presigned credentials") {
  struct row {
    std::string url;
    std::string want;
  };
  const row rows[] = {
      {"https://api.phrony.com/v1/runs/x", "/v1/runs/x"},
      {"https://api.phrony.com", "/"},
      {"https://api.phrony.com/", "/"},
      {"https://h.test/p/v1/a?skip=1&take=2", "/p/v1/a?skip=1&take=2"},
      {"https://h.test?x=1", "/?x=1"},
      {"https://h.test/a#frag", "/a"},
      {"https://b.test/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab12&x-id=PutObject",
       "/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&x-id=PutObject"},
      {"https://b.test/k?X-Amz-Security-Token=t&sig=s&se=2026",
       "/k?X-Amz-Security-Token=[redacted]&sig=[redacted]&se=2026"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.url);
    http_request req;
    req.url = r.url;
    CHECK(req.route() == r.want);
  }
}

TEST_CASE("parse_raw_json keeps any one JSON value verbatim and rejects the rest") {
  struct row {
    std::string text;
    bool ok;
    std::string want; // the kept text, or the error path
    errc code = errc::invalid_json;
  };
  const row rows[] = {
      {"{}", true, "{}"},
      {" {\"a\": 1} \n", true, "{\"a\": 1}"},
      {"[1, [2, {}]]", true, "[1, [2, {}]]"},
      {"5", true, "5"},
      {" -0.5e3 ", true, "-0.5e3"},
      {"\"s\\u00fc\"", true, "\"s\\u00fc\""},
      {"true", true, "true"},
      {"null\n", true, "null"},
      {"", false, ""},
      {"   ", false, ""},
      {"{", false, ""},
      {"{} x", false, ""},
      {"[] []", false, ""},
      {"5 6", false, ""},
      {"\"a\" x", false, ""},
      {"tru", false, ""},
      {"nul", false, ""},
      {"null x", false, ""},
      {"nullx", false, ""},
      {"true x", false, ""},
      {"[1]]", false, ""},
      {"\"a\"\"b\"", false, ""},
      {"01", false, ""},
      {"\"\\x\"", false, ""},
      {"\"\xff\"", false, ""},
      {"{\"a\":[1,tru]}", false, "/a/1"},
      {"{\"a\":{\"b\":nul}}", false, "/a/b"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    const auto got = parse_raw_json(r.text);
    REQUIRE(got.has_value() == r.ok);
    if (r.ok) {
      CHECK(got->text == r.want);
    } else {
      CHECK(got.error().code == r.code);
      CHECK(got.error().path == r.want);
    }
  }
  CHECK(parse_json_object("{\"a\":1}").value().text == "{\"a\":1}");
  for (const char* text : {"[]", "5", "\"{}\"", "null"}) {
    CAPTURE(text);
    const auto got = parse_json_object(text);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::wrong_type);
    CHECK(got.error().path == "");
  }
}

} // namespace request_test
