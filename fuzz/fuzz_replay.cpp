// Fuzzes the recording and replay transports of testing.hpp.
//
// Raw bytes as a recording: replay_transport::parse never crashes; a bad line is an error naming
// its line number, and every line before it parses; a parsed recording holds at most one
// exchange per line, none replayed yet, and a request it lacks fails naming its method and
// target.
//
// Round trip (FuzzedDataProvider): sends and streams of the input's choosing (bodies and chunks
// holding the API key, a Bearer token, presigned URLs in both JSON spellings, secret-named members,
// bytes that are not UTF-8; responses, errors, refused and dropped streams) go through
// scripted_transport wrapped in recording_transport; the written text holds neither secret nor a
// presigned query's signature; it parses back, and replaying the requests in order gives the
// responses the recording promised (the same status, headers, body, chunks and errors once
// scrubbed), verify() then passes, and an unrecorded request fails naming itself. The recording
// goes to a memfd (Linux; in memory), so no file is touched; elsewhere only raw bytes are fuzzed.
#include <phrony/testing.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "FuzzedDataProvider.h"
#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;
namespace pt = phrony::testing;

std::size_t count_lines(std::string_view text) {
  std::size_t n = 0;
  while (!text.empty()) {
    ++n;
    const auto nl = text.find('\n');
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return n;
}

/// The first `lines` lines of `text`.
std::string_view first_lines(std::string_view text, std::size_t lines) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < lines && at < text.size(); ++i) {
    const auto nl = text.find('\n', at);
    at = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return text.substr(0, at);
}

void fuzz_parse(std::string_view text) {
  const auto t = pt::replay_transport::parse(text, "rec");
  if (!t) {
    const auto& m = t.error().message;
    check(m.starts_with("replay_transport: rec:"), "a parse error names the recording");
    const auto colon = m.find(':', 22);
    check(colon != std::string::npos, "a parse error names the line");
    const auto number = std::stoul(m.substr(22, colon - 22));
    check(number >= 1 && number <= count_lines(text), "the line named is one of the text's");
    check(pt::replay_transport::parse(first_lines(text, number - 1)).has_value(),
          "every line before the one named parses");
    return;
  }
  check(t->size() <= count_lines(text), "at most one exchange per line");
  check(t->unused().size() == t->size(), "nothing is replayed yet");
  check(t->verify().has_value() == (t->size() == 0), "verify names what was not replayed");
  phrony::http_request req;
  req.method = "GET";
  req.url = "https://api.example.test/v1/never-recorded/0";
  auto copy = *t; // copies share the exchanges
  if (auto r = copy.send(req); !r) {
    check(r.error().code == phrony::errc::invalid_argument &&
              r.error().message.find("GET /v1/never-recorded/0") != std::string::npos,
          "an unrecorded request fails naming itself");
  }
}

#if defined(__linux__)

const std::string key = "phk_live_REPLAY_fuzz_key_0123456789";
const std::string token = "tok_REPLAY_bearer_9876543210abcdef";
const std::string signature = "SIGreplayfuzz0123456789abcdef";

/// Fuzz bytes without quotes or backslashes, so that the JSON around them stays JSON.
std::string plain(FuzzedDataProvider& in, std::size_t max) {
  std::string s = in.ConsumeRandomLengthString(max);
  for (auto& c : s) {
    if (c == '"' || c == '\\') {
      c = '_';
    }
  }
  return s;
}

/// A fuzz string with, at a fuzz-chosen place, one of the things a recording must not keep.
std::string text_with_secrets(FuzzedDataProvider& in, bool& raw_has_signature) {
  std::string out = plain(in, 48);
  const int n = in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < n; ++i) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: out += key; break;
    case 1: out += token; break;
    case 2:
      out += " https://bucket.s3.example.test/up/f.pdf?X-Amz-Signature=" + signature + " ";
      break;
    case 3: out += R"({"uploadUrl":"https:\/\/b.example.test\/u?sig=)" + signature + R"("})"; break;
    case 4: out += R"({"X-API-Key": ")" + key + R"("})"; break;
    case 5:
      out += R"({"requiredHeaders":{"x-amz-server-side-encryption-customer-key":")" + signature +
             R"("}})";
      break;
    case 6: out += std::string("\xff\xfe", 2); break;
    default: out += plain(in, 16);
    }
    out += plain(in, 16);
  }
  raw_has_signature = raw_has_signature || out.find(signature) != std::string::npos;
  return out;
}

struct planned {
  bool stream = false;
  phrony::http_request req;
  std::optional<phrony::http_response> response;   // send: response, else error
  std::optional<pt::scripted_stream> stream_reply; // stream: the stream, else a failure
  std::optional<phrony::error> failure;
  std::size_t stop_at = SIZE_MAX; // stream: the handler stops at this chunk
};

int recording_fd() {
  static const int fd = memfd_create("phrony_fuzz_replay", 0);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  off_t at = 0;
  for (;;) {
    const auto got = pread(fd, buf, sizeof buf, at);
    if (got <= 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(got));
    at += got;
  }
  return out;
}

phrony::error some_error(FuzzedDataProvider& in, bool& raw_sig) {
  static constexpr phrony::errc codes[] = {phrony::errc::transport, phrony::errc::cancelled,
                                           phrony::errc::http_status, phrony::errc::invalid_json};
  const auto code = codes[in.ConsumeIntegralInRange<int>(0, 3)];
  if (code == phrony::errc::transport) {
    return pt::transport_error(text_with_secrets(in, raw_sig));
  }
  return phrony::make_error(code, "", text_with_secrets(in, raw_sig));
}

void fuzz_round_trip(FuzzedDataProvider& in) {
  const int fd = recording_fd();
  if (fd < 0 || ftruncate(fd, 0) != 0) {
    return;
  }
  bool raw_sig = false;
  std::vector<planned> plan;
  pt::scripted_transport script;
  std::size_t keyed = 0; // requests on_request saw, each with its key
  script.on_request([&](const phrony::http_request& r) {
    const auto* k = r.header("X-API-Key");
    keyed += k != nullptr && *k == key ? 1 : 0;
  });
  const int n = in.ConsumeIntegralInRange<int>(1, 6);
  for (int i = 0; i < n; ++i) {
    planned p;
    p.stream = in.ConsumeBool();
    static constexpr std::string_view methods[] = {"GET", "POST", "PUT", "DELETE"};
    p.req.method = std::string(methods[in.ConsumeIntegralInRange<int>(0, 3)]);
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: p.req.url = "https://api.example.test/v1/runs/r" + std::to_string(i % 3); break;
    case 1:
      p.req.url =
          "https://bucket.example.test/up/f?X-Amz-Credential=c&X-Amz-Signature=" + signature;
      break;
    case 2: p.req.url = "https://api.example.test/v1/q?token=" + signature + "&a=1"; break;
    default: p.req.url = "https://api.example.test/v1/" + in.ConsumeRandomLengthString(12);
    }
    // Every request carries both secrets: a secret is scrubbed from the exchanges it is sent in.
    p.req.headers = {{"X-API-Key", key}, {"Accept", "application/json"}};
    p.req.headers.insert(p.req.headers.begin() + (in.ConsumeBool() ? 0 : 1),
                         {"Authorization", "Bearer " + token});
    p.req.body = in.ConsumeBool() ? text_with_secrets(in, raw_sig) : "";
    if (!p.stream) {
      if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
        p.failure = some_error(in, raw_sig);
        script.fail(*p.failure);
      } else {
        phrony::http_response r;
        r.status = in.ConsumeIntegralInRange<int>(100, 599);
        r.headers = {{"Content-Type", "application/json"}};
        if (in.ConsumeBool()) {
          r.headers.push_back({"Set-Cookie", "session=" + key});
        }
        if (in.ConsumeBool()) {
          r.headers.push_back({"Location", text_with_secrets(in, raw_sig)});
        }
        r.body = text_with_secrets(in, raw_sig);
        p.response = r;
        if (in.ConsumeBool()) {
          script.respond(std::move(r));
        } else {
          script.respond(r.status, r.body, r.headers);
        }
      }
    } else if (in.ConsumeIntegralInRange<int>(0, 4) == 0) {
      p.failure = some_error(in, raw_sig);
      script.fail_stream(*p.failure);
    } else {
      pt::scripted_stream s;
      s.status = in.ConsumeIntegralInRange<int>(100, 599);
      const int chunks = in.ConsumeIntegralInRange<int>(0, 4);
      for (int c = 0; c < chunks; ++c) {
        // A secret cut across two chunks must not survive either.
        s.chunks.push_back(in.ConsumeBool() ? key.substr(0, 10)
                                            : key.substr(10) + text_with_secrets(in, raw_sig));
      }
      if (in.ConsumeBool()) {
        s.end_error = some_error(in, raw_sig);
      }
      if (in.ConsumeBool()) {
        s.headers.push_back({"X-Request-Id", text_with_secrets(in, raw_sig)});
      }
      p.stop_at = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 4) : SIZE_MAX;
      p.stream_reply = s;
      if (!s.end_error && s.headers.empty() && in.ConsumeBool()) {
        script.respond_stream(s.status, s.chunks);
      } else {
        script.respond_stream(std::move(s));
      }
    }
    plan.push_back(std::move(p));
  }

  check(script.unused().size() == plan.size(), "every queued answer is unused at first");
  // Record.
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  pt::recording_transport<pt::scripted_transport> rec(script, path);
  struct got {
    phrony::result<phrony::http_response> send = phrony::http_response{};
    std::optional<phrony::response_head> head;
    std::vector<std::string> chunks;
    phrony::result<void> end;
  };
  const auto play = [](auto& transport, const planned& p) {
    got g;
    if (!p.stream) {
      g.send = transport.send(p.req);
      return g;
    }
    std::size_t k = 0;
    phrony::stream_handler h;
    h.on_head = [&](const phrony::response_head& head) {
      g.head = head;
      return true;
    };
    h.on_data = [&](std::string_view chunk) {
      g.chunks.emplace_back(chunk);
      return k++ != p.stop_at;
    };
    g.end = transport.stream(p.req, h);
    return g;
  };
  for (const auto& p : plan) {
    (void)play(rec, p);
  }
  check(rec.verify().has_value(), "every exchange was written");
  check(script.verify().has_value() && script.unused().empty() && keyed == plan.size(),
        "the script was used up, each request seen with its key");
  check(script.requests().size() == plan.size() && script.log().find(key) == std::string::npos &&
            script.log().find(token) == std::string::npos,
        "the script's log is scrubbed");
  // One request too many: an error naming it, and verify() says so.
  const auto over = script.send(plan.front().req);
  check(!over && over.error().code == phrony::errc::invalid_argument &&
            script.unanswered().size() == 1 && !script.verify(),
        "a request finding the queue empty is named");
  check(over.error().message.find(key) == std::string::npos, "an unanswered request is scrubbed");
  const std::string text = read_all(fd);
  check(text.find(key) == std::string::npos, "a recording never holds the API key");
  check(text.find(token) == std::string::npos, "a recording never holds a Bearer token");
  if (!raw_sig) {
    check(text.find(signature) == std::string::npos,
          "a recording never holds a presigned query or secret-named member");
  }

  // Parse back and replay; first a request the recording lacks (another body, the other kind).
  auto replay = pt::replay_transport::parse(text, "recorded");
  check(replay.has_value(), "a recording parses back");
  check(replay->size() == plan.size(), "one exchange per call");
  {
    // load() reads the same text (from the memfd), within its line bound.
    std::size_t longest = 0;
    for (std::size_t at = 0; at < text.size();) {
      const auto nl = std::min(text.find('\n', at), text.size());
      longest = std::max(longest, nl - at);
      at = nl + 1;
    }
    pt::replay_options bound;
    bound.max_line = in.ConsumeIntegralInRange<std::size_t>(0, longest + 1);
    const auto loaded = pt::replay_transport::load(path, bound);
    if (bound.max_line >= longest) {
      check(loaded.has_value() && loaded->size() == plan.size(), "load() reads what parse() does");
    } else {
      check(!loaded && loaded.error().code == phrony::errc::limit_exceeded,
            "a line over max_line is limit_exceeded");
    }
  }
  {
    planned probe = plan[in.ConsumeIntegralInRange<std::size_t>(0, plan.size() - 1)];
    probe.req.body += "~not recorded~";
    probe.stream = in.ConsumeBool();
    const got g = play(*replay, probe);
    const auto& e = probe.stream
                        ? g.end
                        : phrony::result<void>(g.send ? phrony::result<void>{}
                                                      : phrony::result<void>(g.send.error()));
    check(!e && e.error().code == phrony::errc::invalid_argument &&
              e.error().message.find("no recorded exchange for") != std::string::npos &&
              e.error().message.find(key) == std::string::npos,
          "an unrecorded request fails naming itself and the nearest, scrubbed");
    check(replay->unused().size() == plan.size(), "a request the recording lacks uses nothing");
  }
  for (const auto& p : plan) {
    const auto secrets = pt::detail::secrets_of(p.req);
    const auto scrub = [&](std::string_view s) { return pt::detail::scrub_text(s, secrets); };
    const got g = play(*replay, p);
    if (!p.stream) {
      if (p.failure) {
        check(!g.send && g.send.error().code == p.failure->code &&
                  g.send.error().message == scrub(p.failure->message),
              "a recorded send error replays");
        continue;
      }
      check(g.send.has_value() && g.send->status == p.response->status &&
                g.send->body == scrub(p.response->body) &&
                g.send->headers.size() == p.response->headers.size(),
            "a recorded response replays");
      for (std::size_t i = 0; i < p.response->headers.size(); ++i) {
        const auto& h = p.response->headers[i];
        check(g.send->headers[i].name == h.name &&
                  (h.name == "Set-Cookie" ? g.send->headers[i].value == "[redacted]"
                                          : g.send->headers[i].value == scrub(h.value)),
              "recorded response headers replay scrubbed");
      }
      continue;
    }
    if (!p.stream_reply) {
      check(!g.head && !g.end && g.end.error().code == p.failure->code,
            "a stream that failed before a head replays its failure");
      continue;
    }
    check(g.head && g.head->status == p.stream_reply->status, "a recorded stream head replays");
    std::vector<std::string> want(
        p.stream_reply->chunks.begin(),
        p.stream_reply->chunks.begin() +
            static_cast<std::ptrdiff_t>(std::min(
                p.stream_reply->chunks.size(), p.stop_at == SIZE_MAX ? SIZE_MAX : p.stop_at + 1)));
    std::string want_all;
    for (const auto& c : pt::detail::join_split_secrets(want, secrets)) {
      want_all += scrub(c);
    }
    std::string got_all;
    for (const auto& c : g.chunks) {
      got_all += c;
    }
    // The recording holds the chunks up to the stop, so the replay stops there too.
    check(got_all == want_all, "a recorded stream's chunks replay");
    if (p.stop_at < p.stream_reply->chunks.size()) {
      check(!g.end && g.end.error().code == phrony::errc::cancelled,
            "a stopped stream replays stopped");
    } else {
      if (p.stream_reply->end_error) {
        check(!g.end && g.end.error().code == p.stream_reply->end_error->code,
              "a recorded stream's end replays");
      } else {
        check(g.end.has_value(), "a recorded clean end replays");
      }
    }
  }
  check(replay->verify().has_value(), "every recorded exchange replayed once");
  phrony::http_request extra;
  extra.method = "PATCH";
  extra.url = "https://api.example.test/v1/unrecorded";
  const auto r = replay->send(extra);
  check(!r && r.error().code == phrony::errc::invalid_argument &&
            r.error().message.find("PATCH /v1/unrecorded") != std::string::npos,
        "an unrecorded request fails naming itself");
}

#endif

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size == 0 || data[0] != 0xF1) { // a recording's text (it starts with '{' or a blank)
    fuzz_parse(text);
    return 0;
  }
#if defined(__linux__)
  FuzzedDataProvider in(data + 1, size - 1);
  fuzz_round_trip(in);
#endif
  return 0;
}
