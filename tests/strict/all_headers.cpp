// The strict-flags program (issue 10, item 5): includes every public header, instantiates every
// request builder, every parse_* overload, json_writer, the SSE and event decoders, the retry
// policy, the run follower and client<T> (every call, the streaming ones too) over a fake
// server, the testing transports (scripted, recording, replay), and checks a few results.
// tests/strict/CMakeLists.txt compiles it with g++ and clang++ at -O0, -O2 and -O3 under -Werror
// and a long warning list, then runs it. A header added to include/phrony must be added to the list
// below (test strict_all_headers_listed checks it).
//
// Usage: all_headers <tests/fixtures directory>
#include <phrony/client.hpp>
#include <phrony/conversation.hpp>
#include <phrony/error.hpp>
#include <phrony/events.hpp>
#include <phrony/exchange.hpp>
#include <phrony/files.hpp>
#include <phrony/follow.hpp>
#include <phrony/http_error.hpp>
#include <phrony/indirect.hpp>
#include <phrony/json_writer.hpp>
#include <phrony/phrony.hpp>
#include <phrony/raw_json.hpp>
#include <phrony/request.hpp>
#include <phrony/retry.hpp>
#include <phrony/runs.hpp>
#include <phrony/sessions.hpp>
#include <phrony/sse.hpp>
#include <phrony/testing.hpp>
#include <phrony/text.hpp>
#include <phrony/transport.hpp>
#include <phrony/version.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_server.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "all_headers.cpp:%d: check failed: %s\n", line, what);
    ++failures;
  }
}

#define STRICT_CHECK(...) check(static_cast<bool>(__VA_ARGS__), #__VA_ARGS__, __LINE__)

using namespace phrony;
using phrony_strict::agent_id;
using phrony_strict::run_id;
constexpr const char* task_id = "6fa18cbc-b379-4533-a0ef-85de18bd2b66";

/// Every overload of one parse_* object: string_view, padded_string, padded_string_view, each
/// fresh and into an existing value, tolerant and strict; then a bad body, and the round trip
/// through to_json.
template <class T, class Parser>
void exercise_parser(const Parser& parse, const std::string& good, std::string_view bad) {
  const auto fresh = parse(std::string_view(good));
  STRICT_CHECK(fresh.has_value());
  if (!fresh) {
    std::fprintf(stderr, "  %s\n", fresh.error().what().c_str());
    return;
  }
  const simdjson::padded_string padded(good);
  const simdjson::padded_string_view view(padded);
  STRICT_CHECK(parse(padded).value_or(T{}) == *fresh);
  STRICT_CHECK(parse(view).value_or(T{}) == *fresh);
  STRICT_CHECK(parse(std::string_view(good), parse_options{true}).has_value());

  T into;
  STRICT_CHECK(parse(std::string_view(good), into).has_value());
  STRICT_CHECK(into == *fresh);
  STRICT_CHECK(parse(padded, into).has_value());
  STRICT_CHECK(parse(view, into, parse_options{false}).has_value());
  STRICT_CHECK(into == *fresh);

  const auto failed = parse(bad);
  STRICT_CHECK(!failed.has_value());
  STRICT_CHECK(!parse(bad, into).has_value());
  STRICT_CHECK(!failed.error().message.empty());

  const auto again = parse(to_json(*fresh));
  STRICT_CHECK(again.has_value() && *again == *fresh);
}

void parsers(const phrony_strict::fake_server& fx) {
  exercise_parser<run_status>(parse_run_status, fx.fixture("run_completed.json"), "{\"runId\":");
  exercise_parser<start_run_response>(parse_start_run, fx.fixture("start_run.json"), "[1]");
  exercise_parser<accept_response>(parse_accept, fx.fixture("accept.json"), "{\"status\":1}");
  exercise_parser<conversation>(parse_conversation, fx.fixture("conversation_waiting.json"),
                                "{\"items\":[}");
  exercise_parser<sessions_page>(parse_sessions_page, fx.fixture("sessions_page.json"), "null");
  exercise_parser<presign_response>(parse_presign, fx.fixture("presign.json"), "{}");
  exercise_parser<finalize_response>(parse_finalize, fx.fixture("finalize.json"),
                                     R"({"objectKey":"k","sizeBytes":"-1"})");
  exercise_parser<api_error_body>(parse_error_body, fx.fixture("error_401.json"), "\"x\"");
  exercise_parser<stream_event>(parse_stream_event,
                                phrony_strict::run_event("engine.run.x", "Running"), "{\"kind\":");

  const auto run = parse_run_status(fx.fixture("run_completed.json"));
  STRICT_CHECK(run && run->state() == run_state::completed && is_terminal(run->state()));
  STRICT_CHECK(to_string(run_state::waiting_for_hitl) == "WaitingForHITL");
  STRICT_CHECK(needs(run_state::waiting_for_timer) == run_need::skip_timer);

  auto convo = parse_conversation(fx.fixture("conversation_waiting.json"));
  STRICT_CHECK(convo.has_value());
  if (convo) {
    convo->sort_by_ordinal();
    const auto tasks = pending_user_tasks(*convo);
    STRICT_CHECK(tasks.size() == 1);
    STRICT_CHECK(!tasks.empty() && tasks[0].api_can_answer());
    std::size_t typed = 0;
    for (const auto& item : convo->items) {
      typed += item.content_as<unknown_content>() == nullptr ? 1U : 0U;
      STRICT_CHECK(!to_string(item.kind()).empty());
    }
    STRICT_CHECK(typed == convo->items.size());
  }
  const auto wrong = parse_run_status(R"({"runId":1,"status":"Running","output":null})");
  STRICT_CHECK(!wrong && wrong.error().code == errc::wrong_type && wrong.error().path == "/runId");
  STRICT_CHECK(parse_raw_json(" [1, {\"a\": null}] ").value_or(raw_json{}).text ==
               "[1, {\"a\": null}]");
  STRICT_CHECK(!parse_json_object("[1]").has_value());
  release_thread_buffers();
}

/// The string and heap-value types of parsed values, through every member a user calls.
void value_types() {
  text a = "run";
  const text b{std::string("run-2")};
  text c = a;
  STRICT_CHECK(c == a && (c <=> b) == std::strong_ordering::less);
  c = b;
  text moved = std::move(a);
  STRICT_CHECK(moved == "run" && a.empty()); // NOLINT(bugprone-use-after-move): moved-from is empty
  STRICT_CHECK(c == "run-2" && "run-2" == c && c == std::string_view("run-2") && c == b);
  STRICT_CHECK(c.starts_with("run") && c.contains('-'));
  STRICT_CHECK(c.size() == 5 && c.c_str()[5] == '\0' && c.substr(4) == "2" && c.rfind('-') == 3);
  const std::string joined = "x" + c + std::string("y");
  STRICT_CHECK(joined == "xrun-2y" && std::hash<text>{}(c) == std::hash<std::string_view>{}(c));
  c.clear();
  STRICT_CHECK(c.empty() && std::string(c).empty());

  indirect<item_content> content = reasoning_content{};
  indirect<item_content> copy = content;
  STRICT_CHECK(copy == content && copy->index() == 2);
  copy->emplace<std::monostate>();
  STRICT_CHECK(!(copy == content));
  optional_indirect<error> why;
  STRICT_CHECK(!why);
  why = error{};
  optional_indirect<error> why_copy = why;
  STRICT_CHECK(why_copy.has_value() && why_copy == why && why->code == errc::invalid_json);
  why.reset();
  STRICT_CHECK(!why.has_value());
}

void writer() {
  json_writer w;
  w.begin_object().key("i").value(-42).key("i64").value(std::int64_t{-9007199254740993});
  w.key("u64").value(std::uint64_t{18446744073709551615U}).key("d").value(0.5);
  w.key("b").value(true).key("n").null().key("s").value("quote \" back \\ tab \t");
  w.key("str").value(std::string("x")).key("raw").raw(raw_json{"[1,2]"});
  w.key("a").begin_array().value(1).value(2).end_array().end_object();
  STRICT_CHECK(w.ok());
  STRICT_CHECK(w.str() == R"({"i":-42,"i64":-9007199254740993,"u64":18446744073709551615,)"
                          R"("d":0.5,"b":true,"n":null,"s":"quote \" back \\ tab \t",)"
                          R"("str":"x","raw":[1,2],"a":[1,2]})");
  json_writer bad_utf8;
  bad_utf8.begin_array().value(std::string_view("\xff")).end_array();
  const auto taken = std::move(bad_utf8).take();
  STRICT_CHECK(!taken && taken.error().code == errc::invalid_argument);
  json_writer not_finite;
  not_finite.value(std::numeric_limits<double>::infinity());
  STRICT_CHECK(!not_finite.ok());
  STRICT_CHECK(is_valid_utf8("h\xc3\xa9"));
}

void builders() {
  const api_config cfg{"https://api.example.test/base", std::string(phrony_strict::api_key),
                       "strict"};
  const auto start = start_run_request(cfg, agent_id, raw_json{R"({"a":1})"});
  STRICT_CHECK(start && start->method == "POST" && start->body == R"({"input":{"a":1}})");
  STRICT_CHECK(get_run_request(cfg, run_id).has_value());
  STRICT_CHECK(get_conversation_request(cfg, run_id, step_content::slim)
                   .value_or(http_request{})
                   .url.ends_with("?stepContent=slim"));
  const auto resumed = stream_request(cfg, run_id, std::string_view("41"));
  STRICT_CHECK(resumed && resumed->header("Last-Event-ID") != nullptr);
  STRICT_CHECK(!stream_request(cfg, run_id, std::string_view("a\nb")).has_value());
  sessions_query q;
  q.take = 10;
  q.status = "Completed";
  STRICT_CHECK(list_sessions_request(cfg, agent_id, q).has_value());
  run_message m = run_message::choose_option(task_id, "opt");
  m.files.push_back(message_file{"k/f.pdf", "f.pdf", "application/pdf"});
  STRICT_CHECK(send_message_request(cfg, run_id, m, message_route::input).has_value());
  STRICT_CHECK(
      send_message_request(cfg, run_id, run_message::answer_number(task_id, 2.5)).has_value());
  STRICT_CHECK(
      send_message_request(cfg, run_id, run_message::answer_text(task_id, "v")).has_value());
  STRICT_CHECK(send_message_request(cfg, run_id, run_message::reject(task_id)).has_value());
  STRICT_CHECK(send_message_request(cfg, run_id, run_message::chat("hi")).has_value());
  STRICT_CHECK(!send_message_request(cfg, run_id, run_message{}).has_value());
  STRICT_CHECK(skip_agent_wait_request(cfg, run_id).has_value());
  STRICT_CHECK(presign_request(cfg, presign_params{"a.pdf", "application/pdf", 10}).has_value());
  STRICT_CHECK(finalize_request(cfg, finalize_params{"k/a.pdf", 10, "a.pdf", std::nullopt}));
  presign_response p;
  p.upload_url = "https://bucket.example.test/k/a.pdf?X-Amz-Signature=abc";
  p.http_method = "PUT";
  p.required_headers = {{"Content-Type", "application/pdf"}};
  const auto upload = upload_request(p, "bytes");
  STRICT_CHECK(upload && upload->header("X-API-Key") == nullptr);
  STRICT_CHECK(!get_run_request(cfg, "no/such id").has_value());
  // Printing a request never shows the key.
  STRICT_CHECK(start && to_string(*start).find(phrony_strict::api_key) == std::string::npos);
}

void stream_decoders(const phrony_strict::fake_server& fx) {
  const std::string sse = fx.fixture("stream_small.sse");
  STRICT_CHECK(!sse.empty());
  sse_decoder raw;
  std::size_t frames = 0;
  for (std::size_t at = 0; at < sse.size(); at += 97) {
    const auto fed = raw.feed(std::string_view(sse).substr(at, 97),
                              [&](const sse_event& e) { frames += e.data.empty() ? 0U : 1U; });
    STRICT_CHECK(fed.has_value());
  }
  STRICT_CHECK(raw.finish().has_value());
  STRICT_CHECK(frames > 10);
  STRICT_CHECK(reconnect_delay(raw, std::chrono::milliseconds{5}) ==
               std::chrono::milliseconds{3000});

  event_stream_decoder events(sse_limits{});
  std::size_t parsed = 0;
  std::size_t with_frame = 0;
  STRICT_CHECK(events
                   .feed(sse,
                         [&](const result<stream_event>& e) {
                           parsed += e && !to_string(e->kind_enum()).empty() ? 1U : 0U;
                         })
                   .has_value());
  STRICT_CHECK(parsed == frames);
  events.reset();
  STRICT_CHECK(events
                   .feed(sse,
                         [&](const result<stream_event>&, const sse_event& f) {
                           ++with_frame;
                           return !f.data.empty();
                         })
                   .has_value());
  STRICT_CHECK(with_frame == frames);
  STRICT_CHECK(events.retry() == std::chrono::milliseconds{3000});
  STRICT_CHECK(reconnect_last_event_id(events) == std::nullopt || !events.last_event_id().empty());
  STRICT_CHECK(parse_event_kind("session") == event_kind::session);
}

void retry_and_errors() {
  retry_policy policy;
  http_response busy;
  busy.status = 429;
  busy.headers.push_back({"Retry-After", "7"});
  const auto now = std::chrono::system_clock::now();
  STRICT_CHECK(policy.next_delay(1, busy, true, 0.5, now) == std::chrono::milliseconds{7000});
  STRICT_CHECK(policy.next_delay(1, busy, false, 0.5, now) == std::nullopt);
  STRICT_CHECK(policy.backoff(3, 0.0) == std::chrono::milliseconds{500});
  STRICT_CHECK(is_idempotent("GET") && !is_idempotent("POST"));
  const auto date = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT");
  STRICT_CHECK(date && date->delay_from(now) == std::chrono::seconds{0});

  const api_config cfg{"https://api.example.test", std::string(phrony_strict::api_key), ""};
  const auto req = get_run_request(cfg, run_id);
  STRICT_CHECK(req.has_value());
  if (req) {
    const error e = http_error(
        401, *req, R"({"message":"bad key )" + std::string(phrony_strict::api_key) + R"("})",
        std::string_view("120"));
    STRICT_CHECK(e.code == errc::http_status && e.status == 401);
    STRICT_CHECK(e.what().find(phrony_strict::api_key) == std::string::npos);
    STRICT_CHECK(e.retry_after && e.retry_after->delay_from(now) == std::chrono::seconds{120});
  }
  result<int> ok = 3;
  result<int> bad = make_error(errc::missing_field, "/x", "missing");
  STRICT_CHECK(ok.value() == 3 && *ok == 3 && bad.value_or(4) == 4);
  STRICT_CHECK(bad.error().what() == "/x: missing" &&
               to_string(bad.error().code) == "missing_field");
  STRICT_CHECK(ok.error().code == errc::invalid_argument); // "no error"
  result<void> done;
  STRICT_CHECK(done.has_value());
  done.value();
#if defined(__cpp_exceptions)
  bool thrown = false;
  try {
    (void)bad.value();
  } catch (const phrony::exception& e) {
    thrown = e.error().path == "/x" && std::string_view(e.what()) == "/x: missing";
  }
  STRICT_CHECK(thrown);
#endif
}

void follower(const phrony_strict::fake_server& fx) {
  run_follower f(std::string(run_id), follow_options{});
  STRICT_CHECK(f.next().what == follow_action::kind::get_status);
  run_status waiting;
  waiting.run_id = std::string(run_id);
  waiting.status = "WaitingForHITL";
  waiting.output = raw_json{"null"};
  f.on_status(waiting);
  STRICT_CHECK(f.next().what == follow_action::kind::get_conversation);
  const auto c = parse_conversation(fx.fixture("conversation_waiting.json"));
  STRICT_CHECK(c.has_value());
  if (!c) {
    return;
  }
  f.on_conversation(*c);
  STRICT_CHECK(f.next().what == follow_action::kind::answer_task);
  const std::string task = f.next().task ? f.next().task->user_task_id.str() : std::string();
  f.on_answered();
  STRICT_CHECK(f.answered(task));
  (void)f.on_event(stream_event{}, std::chrono::system_clock::now());
  (void)f.on_stream_gap(std::chrono::system_clock::now());
  run_status completed = waiting;
  completed.status = "Completed";
  f.on_status(completed);
  STRICT_CHECK(f.next().what == follow_action::kind::done && f.next().end == follow_end::completed);
}

client_options instant_options() {
  client_options o;
  o.sleep = [](std::chrono::milliseconds) {};
  o.random = [] { return 0.0; };
  return o;
}

void client_calls(const std::string& fixtures) {
  const api_config cfg{"https://api.example.test", std::string(phrony_strict::api_key), "strict"};
  client<phrony_strict::fake_server> c(phrony_strict::fake_server(fixtures), cfg,
                                       instant_options());
  STRICT_CHECK(c.config().user_agent == "strict");

  const auto started = c.start_run(agent_id, raw_json{"{}"});
  STRICT_CHECK(started && started->state() == run_state::running);
  STRICT_CHECK(c.get_run(run_id).value_or(run_status{}).output.text == R"({"n":1})");
  const auto convo = c.get_conversation(run_id, step_content::slim);
  STRICT_CHECK(convo && !convo->items.empty());
  conversation kept;
  STRICT_CHECK(c.get_conversation(run_id, kept).has_value() && convo && kept == *convo);
  STRICT_CHECK(c.list_sessions(agent_id).value_or(sessions_page{}).items.size() == 5);
  auto pager = c.sessions(std::string(agent_id), {}, 50);
  const auto page = pager.next();
  STRICT_CHECK(page && page->has_value() && (*page)->total == 5);
  const auto end = pager.next();
  STRICT_CHECK(end && !end->has_value());
  STRICT_CHECK(
      c.send_message(run_id, run_message::approve(task_id)).value_or(accept_response{}).status ==
      "Running");
  const auto skipped = c.skip_agent_wait(run_id);
  STRICT_CHECK(!skipped && skipped.error().status == 400);
  STRICT_CHECK(!skipped &&
               skipped.error().what().find(phrony_strict::api_key) == std::string::npos);
  STRICT_CHECK(c.presign(presign_params{"a.pdf", "application/pdf", 7}).has_value());
  STRICT_CHECK(c.finalize(finalize_params{"k/a.pdf", 7, std::nullopt, std::nullopt}).has_value());
  const auto file = c.upload_file("a.pdf", "application/pdf", "%PDF-1");
  STRICT_CHECK(file && file->size_bytes() == 7249238 &&
               file->input_value().text.find("phronyFile") != std::string::npos);
  STRICT_CHECK(file && file->as_message_file().object_key == file->object_key());

  // Streams: a drop mid-event, resumed with Last-Event-ID; then the session ends.
  const std::string e1 =
      phrony_strict::sse_frame("1", phrony_strict::run_event("engine.run.started", "Running"));
  const std::string e2 = phrony_strict::sse_frame("2", phrony_strict::session_completed());
  c.transport().streams.push_back({"retry: 5\n\n" + e1, e2.substr(0, 9)});
  c.transport().streams.push_back({e2});
  std::vector<std::string> subjects;
  const auto streamed = c.stream_events(run_id, [&](const result<stream_event>& e) {
    subjects.push_back(e ? e->subject.str() : e.error().message);
  });
  STRICT_CHECK(streamed.has_value());
  STRICT_CHECK(subjects ==
               std::vector<std::string>{"engine.run.started", "engine.session.completed"});
  STRICT_CHECK(c.transport().sent.back().header("Last-Event-ID") != nullptr);

  // follow_run: waits for a task, answers it, completes.
  client<phrony_strict::fake_server> copy = c; // an independent client
  copy.transport().run_states = {"WaitingForHITL"};
  int asked = 0;
  follow_handler handler;
  handler.answer_task = [&](const pending_user_task& t) -> std::optional<run_message> {
    ++asked;
    return run_message::approve(t.user_task_id);
  };
  std::vector<follow_action::kind> steps;
  handler.on_action = [&](const follow_action& a) { steps.push_back(a.what); };
  const auto followed = copy.follow_run(run_id, handler);
  STRICT_CHECK(followed && followed->end == follow_end::completed &&
               followed->output.text == R"({"n":1})");
  STRICT_CHECK(asked == 1 && steps.size() == 5);

  // follow_run_streaming: the stream's event makes it look, and the look finds the run done.
  client<phrony_strict::fake_server> moved = std::move(copy);
  moved.transport().run_states = {"Running"};
  moved.transport().streams.push_back({phrony_strict::sse_frame(
      "9", phrony_strict::run_event("engine.run.completed", "Completed"))});
  int events = 0;
  handler.on_event = [&](const result<stream_event>&) { ++events; };
  follow_options fo;
  fo.max_duration = std::chrono::milliseconds{60'000};
  const auto streamed_follow = moved.follow_run_streaming(run_id, handler, fo);
  STRICT_CHECK(streamed_follow && streamed_follow->completed);
  STRICT_CHECK(events == 1);
  STRICT_CHECK(moved.transport().log.back() == "GET /v1/runs/" + std::string(run_id));
}

/// phrony/testing.hpp: a client over scripted_transport; its exchanges recorded through
/// recording_transport, then replayed by replay_transport.
void testing_transports() {
  using namespace phrony::testing;
  const api_config cfg{"https://api.example.test", std::string(phrony_strict::api_key), "strict"};
  const std::string run_body =
      R"({"runId":")" + std::string(run_id) + R"(","status":"Running","output":null})";
  const std::string path =
      (std::filesystem::temp_directory_path() / "phrony_strict_recording.jsonl").string();
  std::remove(path.c_str());

  scripted_transport script;
  script.respond(200, run_body).fail(transport_error("reset")).respond(200, run_body);
  script.respond_stream(200, {phrony_strict::sse_frame("2", phrony_strict::session_completed())});
  script.respond_stream(scripted_stream{200, {"retry: 5\n\n"}, transport_error("drop"), {}});
  script.fail_stream(transport_error("refused"));
  client<recording_transport<scripted_transport>> c(
      recording_transport<scripted_transport>(script, path), cfg, instant_options());
  STRICT_CHECK(c.get_run(run_id).has_value()); // the second answer is retried
  STRICT_CHECK(c.get_run(run_id).has_value());
  int events = 0;
  STRICT_CHECK(c.stream_events(run_id, [&](const result<stream_event>&) { ++events; }).has_value());
  stream_handler h;
  h.on_head = [](const response_head&) { return true; };
  h.on_data = [](std::string_view) { return true; };
  http_request req = stream_request(cfg, run_id).value_or(http_request{});
  STRICT_CHECK(!c.transport().stream(req, h) && !c.transport().stream(req, h));
  STRICT_CHECK(c.transport().verify().has_value() && c.transport().inner().verify().has_value());
  STRICT_CHECK(script.verify().has_value() && script.unused().empty() && events == 1);
  STRICT_CHECK(script.requests().size() == 6 &&
               script.log().find(phrony_strict::api_key) == std::string::npos);
  STRICT_CHECK(!script.send(req) && !script.verify()); // nothing was queued for it

  auto replay = replay_transport::load(path);
  STRICT_CHECK(replay && replay->size() == 6);
  if (replay) {
    client<replay_transport> offline(*replay, cfg, instant_options());
    STRICT_CHECK(offline.get_run(run_id).has_value() && offline.get_run(run_id).has_value());
    STRICT_CHECK(offline.stream_events(run_id, [](const result<stream_event>&) {}).has_value());
    STRICT_CHECK(!offline.transport().stream(req, h) && !offline.transport().stream(req, h));
    STRICT_CHECK(replay->verify().has_value() && replay->unused().empty());
    STRICT_CHECK(!offline.get_run(run_id)); // not recorded
  }
  STRICT_CHECK(!replay_transport::parse("{}\n"));
  std::remove(path.c_str());
}

} // namespace

/// The sans-IO call layer the client and async stacks share: exchange, api_call, the stream
/// session, follow_stream and the follow steps, driven by hand.
void sans_io(const phrony_strict::fake_server& fx) {
  const api_config cfg{"https://api.example.test", "phk_strict_key", "strict/1"};
  const auto now = std::chrono::system_clock::now();
  const auto call = calls::get_run(cfg, run_id);
  STRICT_CHECK(call.request.has_value());
  if (!call.request) {
    return;
  }
  exchange ex(*call.request, cfg, exchange_options{});
  http_response busy;
  busy.status = 503;
  auto first = ex.on_response(busy, 0.5, now);
  STRICT_CHECK(first.retry_in.has_value() && !first.outcome.has_value());
  http_response ok;
  ok.status = 200;
  ok.body = fx.fixture("run_completed.json");
  const auto done = call.finish(ex.on_response(ok, 0.5, now).outcome);
  STRICT_CHECK(done.has_value() && done->status == "Completed");

  event_stream_session session(cfg, std::string(run_id));
  response_head head;
  head.status = 200;
  session.on_head(head);
  std::size_t events = 0;
  (void)session.on_data(fx.fixture("stream_small.sse"),
                        [&](const result<stream_event>& ev) { events += ev ? 1U : 0U; });
  STRICT_CHECK(events > 0);
  const auto step = session.on_end(result<void>{}, 0.5, now);
  STRICT_CHECK(step.reconnect_in.has_value() || step.outcome.has_value());

  run_follower f{std::string(run_id)};
  conversation scratch;
  follow_handler handler;
  auto req = follow_request(f, handler, cfg);
  STRICT_CHECK(req.has_value());
  STRICT_CHECK(!follow_apply(f, ok, scratch).has_value());
  STRICT_CHECK(outcome_of(f.next()).completed);

  follow_stream fs(cfg, std::string(run_id));
  fs.on_head(head);
  (void)fs.on_data(fx.fixture("stream_small.sse"), f, {}, now);
  (void)fs.on_end(result<void>{}, f, 0.5, now);
  STRICT_CHECK(fs.request().has_value());
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/fixtures directory>\n", argv[0]);
    return 2;
  }
  const std::string fixtures = argv[1];
  const phrony_strict::fake_server fx(fixtures);
  if (fx.fixture("run_completed.json").empty()) {
    std::fprintf(stderr, "no fixtures in %s\n", argv[1]);
    return 2;
  }
  parsers(fx);
  value_types();
  writer();
  builders();
  stream_decoders(fx);
  retry_and_errors();
  follower(fx);
  sans_io(fx);
  client_calls(fixtures);
  testing_transports();
  STRICT_CHECK(std::string_view(PHRONY_VERSION_STRING).size() >= 5);
  if (failures != 0) {
    std::fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  std::printf("all headers: every check passed (quote scan: %s)\n",
              std::string(detail::quote_scan_path).c_str());
  return 0;
}
