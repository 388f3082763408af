// End-to-end tests: phrony's client over real loopback HTTP, through both example transports
// (libcurl and cpp-httplib), against phrony-emulator processes this program starts itself, one
// per set of fault-injection flags. Every test runs under a watchdog, every loop is bounded.
#include "transports/curl_transport.hpp"
#include "transports/httplib_transport.hpp"

#include <phrony/client.hpp>

#include "emulator_process.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace phrony;
using namespace std::chrono_literals;
using phrony_examples::curl_transport;
using phrony_examples::httplib_transport;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using phrony_e2e::emulator;

namespace {

// The keys and agents of examples/emulator/scenarios/default.json.
constexpr const char* key_all = "phk_emulator_all";
constexpr const char* key_no_uploads = "phk_emulator_no_uploads";
constexpr const char* key_approval_only = "phk_emulator_approval_only";
constexpr const char* unknown_id = "00000000-0000-4000-8000-000000000000";
enum agent_no { refund = 1, questions, chat, poller, orchestrator, flaky, instant, widget, echo };
std::string agent(agent_no n) { return "a1000000-0000-4000-8000-00000000000" + std::to_string(n); }

/// The emulator started with `flags`, started on first use and shared by later tests.
const emulator& emulator_with(const std::vector<std::string>& flags = {}) {
  static std::map<std::vector<std::string>, std::unique_ptr<emulator>> running;
  auto& e = running[flags];
  if (!e) {
    e = std::make_unique<emulator>(flags);
  }
  return *e;
}

/// Ends the program when a test outlives `limit`: a hung exchange fails the suite, not stalls it.
class watchdog {
public:
  explicit watchdog(std::chrono::seconds limit = 60s)
      : thread_([this, limit] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "e2e: a test ran longer than %llds; giving up\n",
                         static_cast<long long>(limit.count()));
            std::_Exit(3);
          }
        }) {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

template <class T> T make_transport();
template <> curl_transport make_transport<curl_transport>() {
  return curl_transport(phrony_examples::curl_options{5s, 15s, 10s});
}
template <> httplib_transport make_transport<httplib_transport>() { return httplib_transport(10s); }

/// A transport that counts its streams and records how each ended ("ok", "transport" ...).
template <class T> struct recording : T {
  std::vector<std::string> stream_ends;
  result<void> stream(const http_request& req, const stream_handler& h) {
    auto r = T::stream(req, h);
    stream_ends.emplace_back(r ? "ok" : to_string(r.error().code));
    return r;
  }
};

/// Client options that record every sleep (and still sleep, at most `cap`).
client_options recorded_sleeps(std::shared_ptr<std::vector<milliseconds>> log,
                               milliseconds cap = 2000ms) {
  client_options o;
  o.sleep = [log, cap](milliseconds d) {
    log->push_back(d);
    std::this_thread::sleep_for(std::min(d, cap));
  };
  return o;
}

template <class T>
client<T> make_client(const emulator& emu, std::string key = key_all, client_options o = {}) {
  api_config cfg;
  cfg.base_url = emu.base();
  cfg.api_key = std::move(key);
  return client<T>(make_transport<T>(), std::move(cfg), std::move(o));
}

template <class T>
client<recording<T>> make_recording_client(const emulator& emu, client_options o = {}) {
  api_config cfg;
  cfg.base_url = emu.base();
  cfg.api_key = key_all;
  return client<recording<T>>(recording<T>{make_transport<T>(), {}}, std::move(cfg), std::move(o));
}

constexpr follow_options fast_polls{50ms, 200ms, true, 20};

/// Polls GET /v1/runs/{runId} until its status is `want` (at most 5 s).
template <class C> run_status wait_for_status(C& c, const std::string& run_id, std::string want) {
  run_status last;
  for (int i = 0; i < 250; ++i) {
    auto s = c.get_run(run_id);
    REQUIRE_MESSAGE(s, s.error().what());
    last = *s;
    if (last.status == want) {
      return last;
    }
    std::this_thread::sleep_for(20ms);
  }
  FAIL("run " << run_id << " stayed " << last.status << ", wanted " << want);
  return last;
}

/// Answers tasks from a table keyed by kind and records each task it was shown.
struct task_answers {
  bool approve = true;
  std::string option = "store_credit";
  std::string text = "Sorry for the trouble";
  double number = 120;
  std::vector<pending_user_task> seen;

  std::optional<run_message> operator()(const pending_user_task& t) {
    seen.push_back(t);
    const std::string kind = t.kind.value_or("");
    if (kind == "approval") {
      return approve ? run_message::approve(t.user_task_id) : run_message::reject(t.user_task_id);
    }
    if (kind == "multi_option") {
      return run_message::choose_option(t.user_task_id, option);
    }
    if (kind == "text") {
      return run_message::answer_text(t.user_task_id, text);
    }
    if (kind == "number") {
      return run_message::answer_number(t.user_task_id, number);
    }
    return std::nullopt;
  }
};

/// A run followed to its end.
struct followed {
  std::string run_id;
  run_outcome out;
};

/// Starts agent `a` with `input` and follows it by polling, answering through `answers` (and
/// `chat_text`/`files` when it waits for a response).
template <class T>
followed start_and_follow(client<T>& c, agent_no a, task_answers& answers,
                          std::optional<std::string> chat_text = std::nullopt,
                          std::optional<raw_json> input = std::nullopt,
                          std::vector<message_file> files = {}) {
  auto started = c.start_run(agent(a), std::move(input));
  REQUIRE_MESSAGE(started, started.error().what());
  CHECK(started->status == "Running");
  follow_handler h;
  h.answer_task = std::ref(answers);
  h.send_text = [&](const std::string&) -> std::optional<run_message> {
    if (!chat_text && files.empty()) {
      return std::nullopt;
    }
    run_message m = run_message::with_files(files);
    m.text = chat_text;
    return m;
  };
  auto out = c.follow_run(started->run_id, h, fast_polls);
  REQUIRE_MESSAGE(out, out.error().what());
  return {started->run_id, *out};
}

/// The events of one run's stream as canonical JSON, answering its user tasks (through a second
/// client, on its own connection) as they come up.
template <class T, class U>
std::vector<std::string> stream_answering(client<T>& events, client<U>& calls,
                                          const std::string& run_id, task_answers& answers) {
  std::vector<std::string> got;
  std::optional<error> failed;
  auto r = events.stream_events(run_id, [&](const result<stream_event>& e) {
    REQUIRE_MESSAGE(e, e.error().what());
    got.push_back(to_json(*e));
    if (e->kind_enum() == event_kind::run && e->status && e->status->starts_with("Waiting") &&
        e->run_id == run_id) {
      auto conv = calls.get_conversation(run_id);
      REQUIRE_MESSAGE(conv, conv.error().what());
      for (const auto& t : pending_user_tasks(*conv)) {
        auto m = answers(t);
        REQUIRE(m);
        if (auto sent = calls.send_message(t.run_id, *m); !sent) {
          failed = sent.error();
          return false;
        }
      }
    }
    return true;
  });
  REQUIRE_MESSAGE(!failed, failed->what());
  REQUIRE_MESSAGE(r, r.error().what());
  return got;
}

/// Just the subjects of canonical-JSON events.
std::vector<std::string> subjects(const std::vector<std::string>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    auto parsed = parse_stream_event(e);
    REQUIRE(parsed);
    out.push_back(parsed->subject);
  }
  return out;
}

/// The canonical JSON of an output, for comparison with the literal a test expects.
std::string canonical(std::string_view json) {
  auto v = parse_raw_json(json);
  REQUIRE_MESSAGE(v, v.error().what());
  return v->text;
}

} // namespace

#define TRANSPORTS curl_transport, httplib_transport

TEST_CASE_TEMPLATE("an approval task is approved or rejected, and the run completes with the "
                   "matching output",
                   T, TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  struct row {
    bool approve;
    const char* output;
    const char* refund_result; // what the gated tool call's ToolResult holds
  };
  const row rows[] = {
      {true, R"({"refundApproved":true,"charge":"ch_EMU2","amount":12999})", R"("re_EMU1")"},
      {false, R"({"refundApproved":false,"charge":"ch_EMU2","amount":12999})", "Rejected by user"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.approve);
    task_answers answers;
    answers.approve = r.approve;
    const auto [run_id, out] = start_and_follow(c, refund, answers);
    CHECK(out.completed);
    CHECK(out.status == "Completed");
    CHECK(out.output.text == canonical(r.output));
    REQUIRE(answers.seen.size() == 1);
    CHECK(answers.seen[0].kind == "approval");
    CHECK(answers.seen[0].prompt == "Refund €129.99 (charge ch_EMU2) to the customer?");
    CHECK(answers.seen[0].run_id == run_id);
    auto conv = c.get_conversation(run_id);
    REQUIRE(conv);
    CHECK(pending_user_tasks(*conv).empty());
    CHECK(to_json(*conv).find(r.refund_result) != std::string::npos);
    CHECK(conv->items.back().type == "SessionCompleted");
  }
}

TEST_CASE_TEMPLATE("multi-option, text and number tasks are answered by their kind", T,
                   TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  task_answers answers;
  answers.option = "escalate";
  answers.text = "We are on it — ünïcode too";
  answers.number = 42.5;
  const auto out = start_and_follow(c, questions, answers).out;
  CHECK(out.completed);
  CHECK(
      out.output.text ==
      canonical(R"({"resolution":"escalate","note":"We are on it — ünïcode too","points":42.5})"));
  REQUIRE(answers.seen.size() == 3);
  CHECK(answers.seen[0].kind == "multi_option");
  CHECK(answers.seen[1].kind == "text");
  CHECK(answers.seen[2].kind == "number");
  std::vector<std::string> option_ids;
  for (const auto& o : answers.seen[0].options) {
    option_ids.push_back(o.id);
  }
  CHECK(option_ids == std::vector<std::string>{"refund", "store_credit", "escalate"});
}

TEST_CASE_TEMPLATE("an answer that does not fit the task is a 400 and leaves the task pending", T,
                   TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  auto started = c.start_run(agent(questions));
  REQUIRE(started);
  const std::string run_id = started->run_id;
  wait_for_status(c, run_id, "WaitingForHITL");
  auto conv = c.get_conversation(run_id);
  REQUIRE(conv);
  const auto tasks = pending_user_tasks(*conv);
  REQUIRE(tasks.size() == 1);
  const std::string id = tasks[0].user_task_id;
  const run_message wrong[] = {
      run_message::approve(id),
      run_message::choose_option(id, "not-an-option"),
      run_message::answer_text(id, "text for a multi-option task"),
      run_message::answer_number(id, 3),
  };
  for (const auto& m : wrong) {
    CAPTURE(to_string(*send_message_request(c.config(), run_id, m)));
    auto sent = c.send_message(run_id, m);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == errc::http_status);
    CHECK(sent.error().status == 400);
    CHECK(sent.error().route == "/v1/runs/" + run_id + "/messages");
  }
  CHECK(wait_for_status(c, run_id, "WaitingForHITL").status == "WaitingForHITL");
  // The right answers still go through afterwards (and the run ends, freeing its slot).
  task_answers answers;
  follow_handler h;
  h.answer_task = std::ref(answers);
  auto out = c.follow_run(run_id, h, fast_polls);
  REQUIRE(out);
  CHECK(out->completed);
  CHECK(answers.seen.size() == 3);
}

TEST_CASE_TEMPLATE("a run waiting for a response takes chat text", T, TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  task_answers none;
  const auto out = start_and_follow(c, chat, none, "It is order #1234").out;
  CHECK(out.completed);
  CHECK(out.output.text == canonical(R"({"reply":{"text":"It is order #1234","files":[]}})"));
  CHECK(none.seen.empty());
}

TEST_CASE_TEMPLATE("a timer is skipped, so the run ends long before the timer would fire", T,
                   TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  task_answers none;
  const auto t0 = steady_clock::now();
  const auto [run_id, out] = start_and_follow(c, poller, none);
  const auto took = steady_clock::now() - t0;
  CHECK(out.completed);
  CHECK(out.output.text == canonical(R"({"tracking":"delivered"})"));
  CHECK(took < 10s); // the scripted timer is 60 s
  auto conv = c.get_conversation(run_id);
  REQUIRE(conv);
  CHECK(to_json(*conv).find(R"("skipped":true)") != std::string::npos);
  // Skipping outside WaitingForTimer is a validation error.
  auto skipped = c.skip_agent_wait(run_id);
  REQUIRE_FALSE(skipped);
  CHECK(skipped.error().status == 400);
}

TEST_CASE_TEMPLATE("an uploaded file goes into a run's input and into a message's files", T,
                   TRANSPORTS) {
  watchdog dog;
  const auto& emu = emulator_with();
  auto c = make_client<T>(emu);
  const std::string bytes = "invoice INV-2026-0042\nline 1: 45.00 EUR\n";
  auto ref = c.upload_file("invoice.txt", "text/plain", bytes);
  REQUIRE_MESSAGE(ref, ref.error().what());
  CHECK(ref->size_bytes() == bytes.size());
  CHECK(ref->object_key().ends_with(".txt"));
  CHECK(ref->leaf() == ref->object_key().substr(ref->object_key().rfind('/') + 1));

  SUBCASE("in run input") {
    task_answers none;
    const std::string input = R"({"doc":)" + ref->input_value().text + "}";
    const auto out = start_and_follow(c, echo, none, std::nullopt, raw_json{input}).out;
    CHECK(out.completed);
    CHECK(out.output.text ==
          canonical(R"({"input":{"doc":{"phronyFile":true,"filename":")" +
                    std::string(ref->leaf()) + R"(","mediaType":"text/plain"}}})"));
  }
  SUBCASE("in message files") {
    task_answers none;
    const auto out = start_and_follow(c, chat, none, "Here is the invoice", std::nullopt,
                                      {ref->as_message_file()})
                         .out;
    CHECK(out.completed);
    CHECK(out.output.text.find(R"("objectKey":")" + ref->object_key() + "\"") != std::string::npos);
    CHECK(out.output.text.find(R"("text":"Here is the invoice")") != std::string::npos);
  }
  SUBCASE("finalizing again is idempotent") {
    auto again = c.finalize(
        finalize_params{ref->object_key(), static_cast<std::int64_t>(bytes.size()), {}, {}});
    REQUIRE(again);
    CHECK(again->already_finalized);
    CHECK(again->size_bytes == bytes.size());
  }
  SUBCASE("a key without uploads gets 403 from presign") {
    auto other = make_client<T>(emu, key_no_uploads);
    auto denied = other.upload_file("a.txt", "text/plain", "x");
    REQUIRE_FALSE(denied);
    CHECK(denied.error().status == 403);
    CHECK(denied.error().route == "/v1/file-library/presign");
  }
}

TEST_CASE_TEMPLATE("a dropped stream is resumed with Last-Event-ID: no event lost, none repeated",
                   T, TRANSPORTS) {
  watchdog dog;
  // The emulator cuts each run's first stream in the middle of its 4th event.
  const auto& emu = emulator_with({"--drop-stream-after", "3"});
  const agent_no agents[] = {refund, questions, instant};
  for (const agent_no a : agents) {
    CAPTURE(agent(a));
    auto sleeps = std::make_shared<std::vector<milliseconds>>();
    auto events = make_recording_client<T>(emu, recorded_sleeps(sleeps));
    auto calls = make_client<T>(emu);
    auto started = calls.start_run(agent(a));
    REQUIRE(started);
    task_answers answers;
    const auto resumed = stream_answering(events, calls, started->run_id, answers);
    const auto& ends = events.transport().stream_ends;
    REQUIRE(ends.size() == 2);
    CHECK(ends[0] == "transport"); // the cut
    CHECK(ends[1] == "ok");
    REQUIRE(sleeps->size() == 1);
    CHECK(sleeps->front() == 1000ms); // the stream's own `retry: 1000`

    // The same run's stream read again in one piece, now that the run has ended.
    auto whole = make_client<T>(emu);
    task_answers unused;
    const auto full = stream_answering(whole, calls, started->run_id, unused);
    CHECK(resumed == full);
    CHECK(std::set<std::string>(full.begin(), full.end()).size() == full.size());
    CHECK(full.size() > 4);
    CHECK(subjects(full).back() == "engine.session.completed");
  }
}

TEST_CASE_TEMPLATE("CR-only line ends and a trickling server yield the same events", T,
                   TRANSPORTS) {
  watchdog dog(90s);
  const std::vector<std::string> faults[] = {{"--cr-line-ends"}, {"--trickle-ms", "1"}};
  const agent_no agents[] = {refund, instant};
  for (const agent_no a : agents) {
    auto plain_calls = make_client<T>(emulator_with());
    auto plain_events = make_client<T>(emulator_with());
    auto started = plain_calls.start_run(agent(a));
    REQUIRE(started);
    task_answers answers;
    const auto want =
        subjects(stream_answering(plain_events, plain_calls, started->run_id, answers));
    for (const auto& flags : faults) {
      CAPTURE(agent(a));
      CAPTURE(flags[0]);
      const auto& emu = emulator_with(flags);
      auto calls = make_client<T>(emu);
      auto events = make_client<T>(emu);
      auto s = calls.start_run(agent(a));
      REQUIRE(s);
      task_answers again;
      CHECK(subjects(stream_answering(events, calls, s->run_id, again)) == want);
      auto status = calls.get_run(s->run_id); // a whole JSON body, even when trickled
      REQUIRE(status);
      CHECK(status->status == "Completed");
    }
  }
  // The SSE framing itself, read through the bare transport: retry and ids survive CR endings.
  const auto& emu = emulator_with({"--cr-line-ends"});
  auto calls = make_client<T>(emu);
  auto s = calls.start_run(agent(instant));
  REQUIRE(s);
  wait_for_status(calls, s->run_id, "Completed");
  auto transport = make_transport<T>();
  event_stream_decoder decoder;
  int n = 0;
  stream_handler h;
  h.on_data = [&](std::string_view bytes) {
    return decoder.feed(bytes, [&](const result<stream_event>& e) { n += e ? 1 : 1000; })
        .has_value();
  };
  auto req = stream_request(calls.config(), s->run_id);
  REQUIRE(req);
  REQUIRE(transport.stream(*req, h));
  CHECK(decoder.retry() == std::optional<milliseconds>(1000ms));
  CHECK(decoder.last_event_id() == std::to_string(n));
  CHECK(n >= 4);
}

TEST_CASE_TEMPLATE("401, 403 and 404 are http errors with status, route and body, never the key", T,
                   TRANSPORTS) {
  watchdog dog;
  const auto& emu = emulator_with();
  auto good = make_client<T>(emu);
  auto started = good.start_run(agent(instant));
  REQUIRE(started);
  const std::string run_id = started->run_id;
  const std::string secret = "phk_wrong_secret_0123456789";
  auto wrong = make_client<T>(emu, secret);
  auto scoped = make_client<T>(emu, key_approval_only);
  auto no_uploads = make_client<T>(emu, key_no_uploads);
  struct row {
    const char* what;
    std::function<error()> call;
    int status;
    std::string route;
  };
  auto err = [](auto r) { return r ? error{} : r.error(); };
  const row rows[] = {
      {"wrong key", [&] { return err(wrong.get_run(run_id)); }, 401, "/v1/runs/" + run_id},
      {"wrong key on the stream",
       [&] { return err(wrong.stream_events(run_id, [](const auto&) {})); }, 401,
       "/v1/runs/" + run_id + "/stream"},
      {"agent out of scope", [&] { return err(scoped.start_run(agent(questions))); }, 403,
       "/v1/agents/" + agent(questions) + "/runs"},
      {"run of an agent out of scope", [&] { return err(scoped.get_run(run_id)); }, 403,
       "/v1/runs/" + run_id},
      {"uploads not allowed",
       [&] {
         return err(no_uploads.presign(presign_params{"a.txt", "text/plain", 1}));
       },
       403, "/v1/file-library/presign"},
      {"unknown run", [&] { return err(good.get_run(unknown_id)); }, 404,
       std::string("/v1/runs/") + unknown_id},
      {"unknown run's conversation", [&] { return err(good.get_conversation(unknown_id)); }, 404,
       std::string("/v1/runs/") + unknown_id + "/conversation?stepContent=full"},
      {"unknown run's stream",
       [&] { return err(good.stream_events(unknown_id, [](const auto&) {})); }, 404,
       std::string("/v1/runs/") + unknown_id + "/stream"},
      {"unknown agent", [&] { return err(good.start_run(unknown_id)); }, 404,
       std::string("/v1/agents/") + unknown_id + "/runs"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const error e = r.call();
    CHECK(e.code == errc::http_status);
    CHECK(e.status == r.status);
    CHECK(e.route == r.route);
    CHECK(e.body.find("\"statusCode\":" + std::to_string(r.status)) != std::string::npos);
    const std::string everything = e.what() + e.body + e.route + e.message + e.path;
    CHECK(everything.find("phk_") == std::string::npos);
  }
}

TEST_CASE_TEMPLATE("429 carries Retry-After, and a start retried on request waits exactly that", T,
                   TRANSPORTS) {
  watchdog dog;
  const auto& emu = emulator_with({"--max-concurrent", "1"});
  auto c = make_client<T>(emu);
  auto first = c.start_run(agent(refund)); // stays WaitingForHITL: the key's one slot is taken
  REQUIRE_MESSAGE(first, first.error().what());
  wait_for_status(c, first->run_id, "WaitingForHITL");

  auto refused = c.start_run(agent(instant));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().status == 429);
  REQUIRE(refused.error().retry_after);
  CHECK(refused.error().retry_after->delay_from(std::chrono::system_clock::now()) == 1s);

  // The policy on the raw response: POST is not retried unless asked, then after Retry-After.
  auto raw = c.transport().send(*start_run_request(c.config(), agent(instant)));
  REQUIRE(raw);
  CHECK(raw->status == 429);
  retry_policy policy;
  const auto now = std::chrono::system_clock::now();
  CHECK_FALSE(policy.next_delay(1, raw, false, 0.5, now));
  CHECK(policy.next_delay(1, raw, true, 0.5, now) == std::optional<milliseconds>(1000ms));

  // A client told to retry starts: its sleep frees the slot (approving the first run), so the
  // second try succeeds, after exactly the server's Retry-After.
  auto sleeps = std::make_shared<std::vector<milliseconds>>();
  client_options o;
  o.retry.retry_non_idempotent = true;
  o.sleep = [&, sleeps](milliseconds d) {
    sleeps->push_back(d);
    task_answers approve;
    follow_handler h;
    h.answer_task = std::ref(approve);
    auto out = c.follow_run(first->run_id, h, fast_polls);
    REQUIRE(out);
    REQUIRE(out->completed);
  };
  auto retrying = make_client<T>(emu, key_all, o);
  auto second = retrying.start_run(agent(instant));
  REQUIRE_MESSAGE(second, second.error().what());
  CHECK(*sleeps == std::vector<milliseconds>{1000ms});
  wait_for_status(c, second->run_id, "Completed"); // frees the slot for the next test
}

TEST_CASE_TEMPLATE("stopping a stream from its callback returns promptly", T, TRANSPORTS) {
  watchdog dog;
  const auto& emu = emulator_with();
  auto c = make_client<T>(emu);
  auto started = c.start_run(agent(refund)); // waits for approval: its stream stays open
  REQUIRE(started);
  steady_clock::time_point stopped_at{};
  int seen = 0;
  auto r = c.stream_events(started->run_id, [&](const result<stream_event>& e) {
    ++seen;
    if (e && e->subject == "engine.run.waiting") {
      stopped_at = steady_clock::now();
      return false;
    }
    return true;
  });
  const auto took = steady_clock::now() - stopped_at;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cancelled);
  CHECK(seen >= 3);
  MESSAGE("stream stopped from the callback returned after "
          << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us");
  CHECK(took < 2s);
  // The transport still works afterwards.
  auto s = c.get_run(started->run_id);
  REQUIRE_MESSAGE(s, s.error().what());
  CHECK(s->status == "WaitingForHITL");
  task_answers approve;
  follow_handler h;
  h.answer_task = std::ref(approve);
  REQUIRE(c.follow_run(started->run_id, h, fast_polls));
}

TEST_CASE("curl_transport::cancel stops an idle stream from another thread") {
  watchdog dog;
  auto c = make_client<curl_transport>(emulator_with());
  auto started = c.start_run(agent(refund));
  REQUIRE(started);
  std::atomic<bool> waiting{false};
  std::thread canceller;
  steady_clock::time_point cancelled_at{};
  auto r = c.stream_events(started->run_id, [&](const result<stream_event>& e) {
    if (e && e->subject == "engine.run.waiting" && !waiting.exchange(true)) {
      // Only keepalive comments follow now; cancel in the middle of that silence.
      canceller = std::thread([&] {
        std::this_thread::sleep_for(300ms);
        cancelled_at = steady_clock::now();
        c.transport().cancel();
      });
    }
    return true;
  });
  const auto returned_at = steady_clock::now();
  canceller.join();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cancelled);
  const auto took = returned_at - cancelled_at;
  MESSAGE("cancel() from another thread returned after "
          << std::chrono::duration_cast<milliseconds>(took).count() << " ms");
  CHECK(took < 2s);
  task_answers approve;
  follow_handler h;
  h.answer_task = std::ref(approve);
  REQUIRE(c.follow_run(started->run_id, h, fast_polls));
}

TEST_CASE_TEMPLATE("a sub-agent's approval is answered through the sub-agent's run", T,
                   TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  task_answers answers;
  const auto [run_id, out] = start_and_follow(c, orchestrator, answers);
  CHECK(out.completed);
  CHECK(out.output.text == canonical(R"({"analysis":{"creditNoteApproved":true}})"));
  REQUIRE(answers.seen.size() == 1);
  CHECK(answers.seen[0].prompt == "Issue credit note of €45.00 for INV-2026-0042?");
  CHECK(answers.seen[0].run_id != run_id); // the sub-agent's run
}

TEST_CASE_TEMPLATE("a redacted timeline shows only the completion rows and no step events", T,
                   TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  auto events = make_client<T>(emulator_with());
  auto started = c.start_run(agent(widget));
  REQUIRE(started);
  task_answers none;
  const auto got = subjects(stream_answering(events, c, started->run_id, none));
  for (const auto& s : got) {
    CAPTURE(s);
    CHECK_FALSE(s.starts_with("engine.step."));
  }
  auto conv = c.get_conversation(started->run_id);
  REQUIRE(conv);
  std::vector<std::string> types;
  for (const auto& item : conv->items) {
    types.push_back(item.type);
  }
  CHECK(types == std::vector<std::string>{"RunCompleted", "SessionCompleted"});
}

TEST_CASE_TEMPLATE("the sessions pager visits every session once", T, TRANSPORTS) {
  watchdog dog;
  auto c = make_client<T>(emulator_with());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.start_run(agent(instant)));
  }
  auto pager = c.sessions(agent(instant), {}, 2);
  std::set<std::string> ids;
  std::int64_t total = -1;
  int pages = 0;
  for (; pages < 100; ++pages) {
    auto page = pager.next();
    REQUIRE_MESSAGE(page, page.error().what());
    if (!*page) {
      break;
    }
    total = (*page)->total;
    for (const auto& s : (*page)->items) {
      CHECK(ids.insert(s.id).second);
    }
  }
  CHECK(total >= 3);
  CHECK(static_cast<std::int64_t>(ids.size()) == total);
  CHECK(pages == (total + 1) / 2);
}
