// Fuzzes the request builders (request.hpp) and the URL helpers behind them (detail/url.hpp) with
// caller values chosen by FuzzedDataProvider: base URL, API key, user agent, ids, query values,
// message fields, file parameters, presigned uploads and raw JSON. Each builder either fails with
// invalid_argument and a message that never holds the key, exactly when an independent reading
// of its rules says it must, or builds a request whose
//   - URL is the base joined with the documented path, every byte of path and query in RFC 3986's
//     allowed set, ids and percent-decoded query values giving back the caller's strings;
//   - headers are the documented ones (X-API-Key, Accept, User-Agent, Content-Type);
//   - body parses with simdjson's DOM parser and gives back the caller's strings, numbers and
//     JSON values (compared as DOM serialisations, so "the same JSON" means the same values);
//   - printing (to_string, operator<<, route()) never shows the key: every occurrence left in
//     the text lies across a "[redacted]" mask the scrub wrote. Keys shorter than
//     detail::min_scrubbed_secret are only hidden in their own header line: the rest of the
//     text is printed verbatim (url.hpp: scrubbing such short values would garble text).
#include <phrony/request.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "FuzzedDataProvider.h"
#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;

constexpr std::string_view mask = "[redacted]";

// ---- Generating caller values ------------------------------------------------------------------

struct gen {
  FuzzedDataProvider& fdp;
  std::string key; // the API key of this input, pasted into values now and then

  /// A UUID (either case) made of the provider's bytes.
  std::string uuid() {
    static constexpr char hex[] = "0123456789abcdefABCDEF";
    std::string s(36, '-');
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i != 8 && i != 13 && i != 18 && i != 23) {
        s[i] = hex[fdp.ConsumeIntegralInRange<std::size_t>(0, sizeof hex - 2)];
      }
    }
    return s;
  }

  /// Any caller string: random bytes, a UUID or a near miss, the key (alone or inside text),
  /// one of a few edge cases, or a long repetition that crosses the printed-body cut.
  std::string text() {
    static constexpr std::string_view edge[] = {"",
                                                " ",
                                                "a",
                                                "\xC3",
                                                "\xC3\xA9",
                                                "\xED\xA0\x80",
                                                "\xF0\x9F\x98\x80",
                                                "\x7F",
                                                "%",
                                                "%zz",
                                                "a b",
                                                "?&=#",
                                                "../",
                                                "null",
                                                "\"",
                                                "\\",
                                                "\n",
                                                std::string_view("\0", 1),
                                                "[redacted]",
                                                "phk_"};
    switch (fdp.ConsumeIntegralInRange(0, 8)) {
    case 0: return fdp.ConsumeRandomLengthString(64);
    case 1: return uuid();
    case 2: {
      auto s = uuid();
      const auto at = fdp.ConsumeIntegralInRange<std::size_t>(0, s.size());
      const auto c = fdp.ConsumeIntegral<char>();
      if (at == s.size()) {
        s += c;
      } else if (fdp.ConsumeBool()) {
        s[at] = c;
      } else {
        s.erase(at, 1);
      }
      return s;
    }
    case 3: return key;
    case 4: {
      auto s = fdp.ConsumeRandomLengthString(16);
      s += key;
      s += fdp.ConsumeRandomLengthString(16);
      return s;
    }
    case 5:
      return std::string(edge[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(edge) - 1)]);
    case 6: {
      // A long text: a short piece repeated past detail::max_printed_body, the key somewhere.
      const auto piece = fdp.ConsumeRandomLengthString(8);
      const auto times = fdp.ConsumeIntegralInRange<std::size_t>(0, 1200);
      std::string s;
      for (std::size_t i = 0; i < times && !piece.empty(); ++i) {
        s += piece;
      }
      if (fdp.ConsumeBool()) {
        s.insert(fdp.ConsumeIntegralInRange<std::size_t>(0, s.size()), key);
      }
      return s;
    }
    case 7: return fdp.ConsumeRandomLengthString(600);
    default: return fdp.ConsumeRandomLengthString(8);
    }
  }

  std::optional<std::string> maybe_text() {
    if (fdp.ConsumeBool()) {
      return text();
    }
    return std::nullopt;
  }

  /// Raw JSON: mostly valid (written from caller strings or picked), sometimes any text.
  std::string json() {
    static constexpr std::string_view samples[] = {"{}",
                                                   "[]",
                                                   "null",
                                                   "true",
                                                   "false",
                                                   "0",
                                                   "-1.5e3",
                                                   "\"s\"",
                                                   " {\"a\":1} ",
                                                   "{\"a\":[1,{}]}",
                                                   "{\"a\":1,\"a\":2}",
                                                   "{",
                                                   "[1,]",
                                                   "{\"a\":}",
                                                   "01",
                                                   "nul",
                                                   "\"\\u00e9\"",
                                                   "1 2",
                                                   "{\"a\":\"\\ud800\"}",
                                                   "\t[ ]\n"};
    switch (fdp.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return std::string(
          samples[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(samples) - 1)]);
    case 1: {
      // An object written from caller strings (the key among them now and then).
      phrony::json_writer w;
      w.begin_object();
      const auto n = fdp.ConsumeIntegralInRange(0, 3);
      for (int i = 0; i < n; ++i) {
        w.key(text());
        switch (fdp.ConsumeIntegralInRange(0, 3)) {
        case 0: w.value(text()); break;
        case 1: w.value(fdp.ConsumeIntegral<std::int64_t>()); break;
        case 2: w.value(fdp.ConsumeFloatingPoint<double>()); break;
        default: w.begin_array().value(fdp.ConsumeBool()).null().end_array(); break;
        }
      }
      w.end_object();
      return w.str(); // when !w.ok() the text is not JSON: the builder must refuse it
    }
    case 2: return text();
    default: return fdp.ConsumeRandomLengthString(128);
    }
  }

  std::string base_url() {
    static constexpr std::string_view bases[] = {"https://api.phrony.com",
                                                 "http://localhost:8080/",
                                                 "https://[::1]:443/prefix/",
                                                 "HTTPS://h.test/p//",
                                                 "https://h.test/a%20b",
                                                 "https://h.test:65535",
                                                 "http://h.test?q",
                                                 "https://user:pw@h.test",
                                                 "ftp://h.test",
                                                 "https://",
                                                 "https://h.test:",
                                                 "https://[]",
                                                 "https://h.test/\xC3\xA9",
                                                 "https://h.test/<x>",
                                                 "https://h.test/%zz",
                                                 "https://h.test:99999",
                                                 "https://[::1]x",
                                                 "https://h_t~e%st/a:b@c!$&'()*+,;=/"};
    switch (fdp.ConsumeIntegralInRange(0, 2)) {
    case 0:
      return std::string(bases[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(bases) - 1)]);
    case 1: return std::string(bases[0]) + fdp.ConsumeRandomLengthString(16);
    default: return fdp.ConsumeRandomLengthString(48);
    }
  }
};

// ---- Independent readings of the rules ---------------------------------------------------------

bool utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool uuid_shape(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' : !hex) {
      return false;
    }
  }
  return true;
}

bool nonempty_text(std::string_view s) { return !s.empty() && utf8(s); }

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

bool filename_ok(std::string_view s) {
  return utf8(s) && code_points(s) >= 1 && code_points(s) <= 512;
}

bool content_length_ok(std::int64_t n) { return n > 0 && n <= (std::int64_t{1} << 53) - 1; }

bool header_ctl(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      return true;
    }
  }
  return false;
}

bool config_ok(const phrony::api_config& cfg) {
  const std::string& k = cfg.api_key;
  return !k.empty() && !header_ctl(k) && k.front() != ' ' && k.front() != '\t' && k.back() != ' ' &&
         k.back() != '\t' && !header_ctl(cfg.user_agent);
}

/// The DOM serialisation of `text` if it is one JSON value (simdjson's DOM parser as the
/// second reader of the raw JSON the ondemand-based parse_raw_json accepted).
std::optional<std::string> dom_json(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(text.data(), text.size(), true).get(e)) {
    return std::nullopt;
  }
  return simdjson::to_string(e);
}

bool dom_object(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  return !parser.parse(text.data(), text.size(), true).get(e) && e.is_object();
}

// ---- Checks on built requests ------------------------------------------------------------------

/// RFC 3986: unreserved / sub-delims / ":" / "@" / "/" / "?" or a %HH triplet.
void check_target_bytes(std::string_view target) {
  constexpr std::string_view allowed_marks = "-._~!$&'()*+,;=:@/?";
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '%') {
      check(i + 2 < target.size() && phrony::detail::is_hex_digit(target[i + 1]) &&
                phrony::detail::is_hex_digit(target[i + 2]),
            "a '%' in a built URL starts a %HH triplet");
      i += 2;
      continue;
    }
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    check(alnum || allowed_marks.find(c) != std::string_view::npos,
          "a built URL holds only RFC 3986 characters");
  }
}

std::string percent_decode(std::string_view s) {
  std::string out;
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(nibble(s[i + 1]) * 16 + nibble(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Every occurrence of `secret` in `text` lies across a "[redacted]" the scrub wrote, so the
/// text shows no secret the caller gave it (a pathological secret such as "cted]xyz" can be
/// re-formed by a mask and the text after it, which reveals nothing).
void check_hidden(std::string_view text, std::string_view secret, const char* what) {
  if (secret.size() < phrony::detail::min_scrubbed_secret) {
    return;
  }
  for (auto at = text.find(secret); at != std::string_view::npos; at = text.find(secret, at + 1)) {
    bool across_mask = false;
    const std::size_t from = at >= mask.size() ? at - mask.size() : 0;
    for (auto m = text.find(mask, from); m != std::string_view::npos && m < at + secret.size();
         m = text.find(mask, m + 1)) {
      if (m + mask.size() > at) {
        across_mask = true;
        break;
      }
    }
    check(across_mask, what);
  }
}

/// A key shaped like a real one (phk_ and at least four letters or digits): no fixed text of the
/// library (a message, "Accept: application/json") can contain it, so finding it in printed
/// text means a caller's value was echoed. Any other key may be part of fixed text (" empty st").
bool realistic_key(std::string_view k) {
  if (!k.starts_with("phk_") || k.size() < 8) {
    return false;
  }
  for (char c : k.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

void check_error(const phrony::error& e, const phrony::api_config& cfg) {
  check(e.code == phrony::errc::invalid_argument, "a refused value is invalid_argument");
  check(!e.message.empty(), "an error has a message");
  check(e.path.empty() || e.path.front() == '/', "an error path is a JSON Pointer");
  if (realistic_key(cfg.api_key)) {
    check_hidden(e.message, cfg.api_key, "an error message never shows the API key");
    check_hidden(e.path, cfg.api_key, "an error path never shows the API key");
  }
}

/// The printed forms of `r` hide every secret header value (`secrets`); a short key is hidden in
/// its own line only.
void check_printed(const phrony::http_request& r, const std::vector<std::string>& secrets) {
  const auto text = phrony::to_string(r);
  std::ostringstream os;
  os << r;
  check(os.str() == text, "operator<< prints to_string");
  const auto route = r.route();
  check(!route.empty() && route.front() == '/', "route() starts with '/'");
  for (const auto& s : secrets) {
    if (realistic_key(s)) {
      check_hidden(text, s, "a printed request never shows a secret header value");
    }
  }
  bool all_short = true;
  for (const auto& h : r.headers) {
    if (phrony::detail::is_secret_header(h.name)) {
      // (Unless a secret value is part of the line itself, as "Authorization" or ": [redac":
      // scrubbing masks it there too.)
      const std::string line = h.name + ": [redacted]";
      bool in_line = false;
      for (const auto& s : secrets) {
        in_line = in_line || (s.size() >= phrony::detail::min_scrubbed_secret &&
                              line.find(s) != std::string::npos);
      }
      check(in_line || text.find("\n" + line + "\n") != std::string::npos,
            "a secret header is printed as [redacted]");
      all_short = all_short && h.value.size() < phrony::detail::min_scrubbed_secret;
    }
  }
  if (all_short && !r.body.empty() && r.body.size() <= phrony::detail::max_printed_body &&
      utf8(r.body)) {
    // Secrets too short to scrub leave the body as it is.
    check(text.ends_with("\n\n" + r.body) || text.ends_with("\n" + r.body),
          "a body with no scrubbable secret is printed verbatim");
  }
  if (!r.body.empty() && r.body.size() > phrony::detail::max_printed_body && utf8(r.body)) {
    check(text.ends_with(" bytes in all]") || !all_short,
          "a long body is cut and says how long it was");
  }
}

/// `r` is an API request built from `cfg`: method, URL (base + `path`), headers, printing.
void check_api_request(const phrony::http_request& r, const phrony::api_config& cfg,
                       std::string_view method, std::string_view path, bool has_body,
                       std::string_view accept = "application/json") {
  check(config_ok(cfg), "a request is built only from a valid config");
  check(r.method == method, "the documented method");
  const auto url = phrony::join_url(cfg.base_url, path);
  check(url.has_value() && *url == r.url, "the URL is the base joined with the path");
  const auto split = phrony::detail::split_http_url(r.url, "url");
  check(split.has_value(), "a built URL splits");
  check_target_bytes(split->rest);
  check(split->rest.find('#') == std::string_view::npos, "a built URL has no fragment");
  const auto* k = r.header("X-API-Key");
  check(k != nullptr && *k == cfg.api_key, "X-API-Key carries the key");
  const auto* a = r.header("Accept");
  check(a != nullptr && *a == accept, "Accept names the expected type");
  const auto* ua = r.header("User-Agent");
  check(cfg.user_agent.empty() ? ua == nullptr : (ua != nullptr && *ua == cfg.user_agent),
        "User-Agent is sent exactly when configured");
  const auto* ct = r.header("Content-Type");
  check(has_body ? (ct != nullptr && *ct == "application/json") : ct == nullptr,
        "Content-Type is sent exactly with a body");
  check(has_body || r.body.empty(), "no body where none is documented");
  for (const auto& h : r.headers) {
    check(phrony::detail::is_token(h.name) && !header_ctl(h.value), "headers are well-formed");
  }
  check_printed(r, {cfg.api_key});
}

/// Checks a builder's outcome against the expected validity; returns the request on success.
const phrony::http_request* outcome(const phrony::result<phrony::http_request>& r, bool valid,
                                    const phrony::api_config& cfg, const char* what) {
  check(r.has_value() ==
            (valid && config_ok(cfg) && phrony::join_url(cfg.base_url, "/").has_value()),
        what);
  if (!r) {
    check_error(r.error(), cfg);
    return nullptr;
  }
  return &*r;
}

simdjson::dom::element parse_body(const std::string& body, simdjson::dom::parser& parser) {
  simdjson::dom::element e;
  check(!parser.parse(body).get(e), "a built body is JSON");
  check(e.is_object(), "a built body is an object");
  return e;
}

std::string field_string(simdjson::dom::element obj, std::string_view name) {
  std::string_view s;
  check(!obj[name].get_string().get(s), "a string field comes back");
  return std::string(s);
}

void check_same_json(simdjson::dom::element e, std::string_view caller_text) {
  const auto want = dom_json(caller_text);
  check(want.has_value(), "raw JSON a builder took is JSON to simdjson's DOM parser too");
  check(simdjson::to_string(e) == *want, "the body holds the caller's JSON value");
}

// ---- One case per builder ----------------------------------------------------------------------

void fuzz_start_run(gen& g, const phrony::api_config& cfg) {
  const auto agent = g.fdp.ConsumeBool() ? g.uuid() : g.text();
  std::optional<phrony::raw_json> input;
  if (g.fdp.ConsumeBool()) {
    input = phrony::raw_json{g.json()};
  }
  const bool valid = uuid_shape(agent) && (!input || dom_object(input->text));
  const auto r = phrony::start_run_request(cfg, agent, input);
  const auto* req = outcome(r, valid, cfg, "start_run_request succeeds exactly for valid values");
  if (req == nullptr) {
    return;
  }
  check_api_request(*req, cfg, "POST", "/v1/agents/" + agent + "/runs", true);
  simdjson::dom::parser parser;
  const auto body = parse_body(req->body, parser);
  simdjson::dom::element in;
  check(!body["input"].get(in), "the body has input");
  check_same_json(in, input ? std::string_view(input->text) : std::string_view("{}"));
}

void fuzz_list_sessions(gen& g, const phrony::api_config& cfg) {
  const auto agent = g.fdp.ConsumeBool() ? g.uuid() : g.text();
  phrony::sessions_query q;
  if (g.fdp.ConsumeBool()) {
    q.skip = g.fdp.ConsumeIntegral<std::int64_t>();
  }
  if (g.fdp.ConsumeBool()) {
    q.take = g.fdp.ConsumeIntegral<std::int64_t>();
  }
  q.version_id = g.maybe_text();
  q.status = g.maybe_text();
  const bool valid = uuid_shape(agent) && (!q.skip || *q.skip >= 0) && (!q.take || *q.take > 0) &&
                     (!q.version_id || nonempty_text(*q.version_id)) &&
                     (!q.status || nonempty_text(*q.status));
  const auto r = phrony::list_sessions_request(cfg, agent, q);
  const auto* req =
      outcome(r, valid, cfg, "list_sessions_request succeeds exactly for valid values");
  if (req == nullptr) {
    return;
  }
  const std::string path = "/v1/agents/" + agent + "/sessions";
  const auto q_at = req->url.find('?'); // a base has no query: this one is the builder's
  std::string expected_path = path;
  // The query: the set filters in SPEC order, each value percent-decoding to the caller's.
  std::vector<std::pair<std::string, std::string>> want;
  if (q.skip) {
    want.emplace_back("skip", std::to_string(*q.skip));
  }
  if (q.take) {
    want.emplace_back("take", std::to_string(*q.take));
  }
  if (q.version_id) {
    want.emplace_back("versionId", *q.version_id);
  }
  if (q.status) {
    want.emplace_back("status", *q.status);
  }
  std::string_view query;
  if (q_at != std::string::npos) {
    query = std::string_view(req->url).substr(q_at + 1);
    expected_path += '?';
    expected_path += query;
  }
  check(want.empty() == (q_at == std::string::npos), "a query exactly when a filter is set");
  std::size_t i = 0;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    const auto eq = param.find('=');
    check(eq != std::string_view::npos && i < want.size(), "each query parameter is name=value");
    check(param.substr(0, eq) == want[i].first, "query parameters in SPEC order");
    check(percent_decode(param.substr(eq + 1)) == want[i].second,
          "a query value decodes to the caller's string");
    check(param.substr(eq + 1) == phrony::percent_encode(want[i].second),
          "a query value is percent_encode of the caller's string");
    ++i;
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  check(i == want.size(), "every set filter is in the query");
  check_api_request(*req, cfg, "GET", expected_path, false);
}

void fuzz_run_route(gen& g, const phrony::api_config& cfg, int which) {
  const auto run = g.fdp.ConsumeBool() ? g.uuid() : g.text();
  const bool valid = uuid_shape(run);
  switch (which) {
  case 0: {
    const auto r = phrony::get_run_request(cfg, run);
    if (const auto* req = outcome(r, valid, cfg, "get_run_request: valid exactly for a UUID")) {
      check_api_request(*req, cfg, "GET", "/v1/runs/" + run, false);
    }
    break;
  }
  case 1: {
    const bool slim = g.fdp.ConsumeBool();
    const auto r = phrony::get_conversation_request(
        cfg, run, slim ? phrony::step_content::slim : phrony::step_content::full);
    if (const auto* req = outcome(r, valid, cfg, "get_conversation_request: valid for a UUID")) {
      check_api_request(*req, cfg, "GET",
                        "/v1/runs/" + run + "/conversation?stepContent=" + (slim ? "slim" : "full"),
                        false);
    }
    break;
  }
  case 2: {
    const auto r = phrony::skip_agent_wait_request(cfg, run);
    if (const auto* req = outcome(r, valid, cfg, "skip_agent_wait_request: valid for a UUID")) {
      check_api_request(*req, cfg, "POST", "/v1/runs/" + run + "/skip-agent-wait", false);
    }
    break;
  }
  default: {
    std::optional<std::string> last;
    if (g.fdp.ConsumeBool()) {
      last = g.text();
    }
    bool last_ok = true;
    if (last) {
      last_ok = last->size() <= phrony::detail::max_last_event_id;
      for (char c : *last) {
        const auto u = static_cast<unsigned char>(c);
        last_ok = last_ok && u >= 0x20 && u != 0x7F;
      }
    }
    const auto r = phrony::stream_request(
        cfg, run, last ? std::optional<std::string_view>(*last) : std::nullopt);
    if (const auto* req = outcome(r, valid && last_ok, cfg, "stream_request: valid exactly")) {
      check_api_request(*req, cfg, "GET", "/v1/runs/" + run + "/stream", false,
                        "text/event-stream");
      const auto* h = req->header("Last-Event-ID");
      check(last && !last->empty() ? (h != nullptr && *h == *last) : h == nullptr,
            "Last-Event-ID is sent exactly when given");
    }
    break;
  }
  }
}

phrony::message_file make_file(gen& g) {
  phrony::message_file f;
  f.object_key = g.text();
  f.filename = g.maybe_text();
  f.media_type = g.maybe_text();
  return f;
}

void fuzz_send_message(gen& g, const phrony::api_config& cfg) {
  const auto run = g.fdp.ConsumeBool() ? g.uuid() : g.text();
  phrony::run_message m;
  // Each field set or not; the helpers set the usual combinations.
  switch (g.fdp.ConsumeIntegralInRange(0, 7)) {
  case 0: m = phrony::run_message::approve(g.uuid()); break;
  case 1: m = phrony::run_message::reject(g.text()); break;
  case 2: {
    auto task = g.uuid(); // (one statement each: argument order is unspecified)
    m = phrony::run_message::choose_option(std::move(task), g.text());
    break;
  }
  case 3: {
    auto task = g.uuid(); // (one statement each: argument order is unspecified)
    m = phrony::run_message::answer_text(std::move(task), g.text());
    break;
  }
  case 4: {
    auto task = g.uuid();
    m = phrony::run_message::answer_number(std::move(task), g.fdp.ConsumeFloatingPoint<double>());
    break;
  }
  case 5: m = phrony::run_message::chat(g.text()); break;
  case 6: m = phrony::run_message::with_files({make_file(g)}); break;
  default: break;
  }
  const auto flags = g.fdp.ConsumeIntegral<std::uint16_t>();
  if (flags & 1) {
    m.user_task_id = g.fdp.ConsumeBool() ? g.uuid() : g.text();
  }
  if (flags & 2) {
    m.approved = g.fdp.ConsumeBool();
  }
  if (flags & 4) {
    m.selected_option_id = g.text();
  }
  if (flags & 8) {
    m.text_value = g.text();
  }
  if (flags & 16) {
    switch (g.fdp.ConsumeIntegralInRange(0, 3)) {
    case 0: m.number_value = std::numeric_limits<double>::infinity(); break;
    case 1: m.number_value = std::numeric_limits<double>::quiet_NaN(); break;
    case 2: m.number_value = -0.0; break;
    default: m.number_value = g.fdp.ConsumeFloatingPoint<double>(); break;
    }
  }
  if (flags & 32) {
    m.metadata = phrony::raw_json{g.json()};
  }
  if (flags & 64) {
    m.text = g.text();
  }
  if (flags & 128) {
    m.message = g.text();
  }
  if (flags & 256) {
    const auto n = g.fdp.ConsumeIntegralInRange(1, 3);
    for (int i = 0; i < n; ++i) {
      m.files.push_back(make_file(g));
    }
  }
  if (flags & 512) {
    m.completed_by_email = g.text();
  }
  if (flags & 1024) {
    m.skip_agent_wait = g.fdp.ConsumeBool();
  }
  if (flags & 2048) {
    const auto n = g.fdp.ConsumeIntegralInRange(1, 3);
    for (int i = 0; i < n; ++i) {
      static constexpr std::string_view names[] = {"runId", "text", "skipAgentWait", "x", "files"};
      auto name = g.fdp.ConsumeBool()
                      ? std::string(names[g.fdp.ConsumeIntegralInRange<std::size_t>(0, 4)])
                      : g.text();
      m.extra.emplace_back(std::move(name), phrony::raw_json{g.json()});
    }
  }

  // SPEC.md's body rule and each field's rule, read independently of check_message.
  bool valid = uuid_shape(run);
  if (m.user_task_id) {
    valid = valid && uuid_shape(*m.user_task_id);
  } else {
    valid = valid && !m.approved && !m.selected_option_id && !m.text_value && !m.number_value;
  }
  valid = valid && (!m.selected_option_id || nonempty_text(*m.selected_option_id));
  valid = valid && (!m.number_value || std::isfinite(*m.number_value));
  for (const auto* t : {&m.text_value, &m.text, &m.message, &m.completed_by_email}) {
    valid = valid && (!*t || utf8(**t));
  }
  valid = valid && (!m.metadata || dom_object(m.metadata->text));
  for (const auto& f : m.files) {
    valid = valid && nonempty_text(f.object_key) && (!f.filename || nonempty_text(*f.filename)) &&
            (!f.media_type || nonempty_text(*f.media_type));
  }
  for (const auto& [name, value] : m.extra) {
    bool known = false;
    for (auto k : phrony::detail::message_fields) {
      known = known || name == k;
    }
    valid = valid && utf8(name) && !known && dom_json(value.text).has_value();
  }
  const bool has_text = (m.text && !m.text->empty()) || (m.message && !m.message->empty());
  valid = valid && (m.user_task_id || has_text || !m.files.empty());

  const bool input = g.fdp.ConsumeBool();
  const auto r = phrony::send_message_request(
      cfg, run, m, input ? phrony::message_route::input : phrony::message_route::messages);
  // A refused message is refused before the config is looked at: check that first.
  if (!valid) {
    check(!r.has_value(), "send_message_request refuses an invalid message");
    check_error(r.error(), cfg);
    return;
  }
  const auto* req = outcome(r, valid, cfg, "send_message_request succeeds for a valid message");
  if (req == nullptr) {
    return;
  }
  check_api_request(*req, cfg, "POST", "/v1/runs/" + run + (input ? "/input" : "/messages"), true);

  // The body gives back every field the caller set, in the documented order, extras last.
  simdjson::dom::parser parser;
  const auto body = parse_body(req->body, parser);
  std::vector<std::string> keys;
  for (auto [k, v] : simdjson::dom::object(body)) {
    keys.emplace_back(k);
  }
  std::vector<std::string> want = {"runId"};
  check(field_string(body, "runId") == run, "runId is the run from the path");
  if (m.user_task_id) {
    want.emplace_back("userTaskId");
    check(field_string(body, "userTaskId") == *m.user_task_id, "userTaskId comes back");
  }
  if (m.approved) {
    want.emplace_back("approved");
    bool b = false;
    check(!body["approved"].get_bool().get(b) && b == *m.approved, "approved comes back");
  }
  if (m.selected_option_id) {
    want.emplace_back("selectedOptionId");
    check(field_string(body, "selectedOptionId") == *m.selected_option_id,
          "selectedOptionId comes back");
  }
  if (m.text_value) {
    want.emplace_back("textValue");
    check(field_string(body, "textValue") == *m.text_value, "textValue comes back");
  }
  if (m.number_value) {
    want.emplace_back("numberValue");
    double d = 0;
    check(!body["numberValue"].get_double().get(d) && d == *m.number_value,
          "numberValue comes back exactly");
  }
  if (m.metadata) {
    want.emplace_back("metadata");
    simdjson::dom::element e;
    check(!body["metadata"].get(e), "metadata is in the body");
    check_same_json(e, m.metadata->text);
  }
  if (m.text) {
    want.emplace_back("text");
    check(field_string(body, "text") == *m.text, "text comes back");
  }
  if (m.message) {
    want.emplace_back("message");
    check(field_string(body, "message") == *m.message, "message comes back");
  }
  if (!m.files.empty()) {
    want.emplace_back("files");
    simdjson::dom::array files;
    check(!body["files"].get_array().get(files) && files.size() == m.files.size(),
          "every file is in the body");
    std::size_t i = 0;
    for (auto f : files) {
      const auto& mf = m.files[i++];
      bool phrony_file = false;
      check(!f["phronyFile"].get_bool().get(phrony_file) && phrony_file, "a file is a phronyFile");
      check(field_string(f, "objectKey") == mf.object_key, "objectKey comes back");
      check(mf.filename ? field_string(f, "filename") == *mf.filename
                        : f["filename"].error() == simdjson::NO_SUCH_FIELD,
            "filename comes back exactly when set");
      check(mf.media_type ? field_string(f, "mediaType") == *mf.media_type
                          : f["mediaType"].error() == simdjson::NO_SUCH_FIELD,
            "mediaType comes back exactly when set");
    }
  }
  if (m.completed_by_email) {
    want.emplace_back("completedByEmail");
    check(field_string(body, "completedByEmail") == *m.completed_by_email,
          "completedByEmail comes back");
  }
  if (m.skip_agent_wait) {
    want.emplace_back("skipAgentWait");
    bool b = false;
    check(!body["skipAgentWait"].get_bool().get(b) && b == *m.skip_agent_wait,
          "skipAgentWait comes back");
  }
  auto it = simdjson::dom::object(body).begin();
  for (std::size_t i = 0; i < want.size(); ++i, ++it) {
    check(i < keys.size() && keys[i] == want[i], "documented fields in order");
  }
  for (const auto& [name, value] : m.extra) {
    check(it != simdjson::dom::object(body).end() && it.key() == name, "extras follow, in order");
    check_same_json(it.value(), value.text);
    ++it;
  }
  check(it == simdjson::dom::object(body).end(), "nothing else in the body");
}

void fuzz_presign(gen& g, const phrony::api_config& cfg) {
  phrony::presign_params p;
  p.filename = g.text();
  p.media_type = g.text();
  p.max_content_length = g.fdp.ConsumeIntegral<std::int64_t>();
  if (g.fdp.ConsumeBool()) {
    p.max_content_length &= (std::int64_t{1} << 54) - 1;
  }
  const bool valid = filename_ok(p.filename) && nonempty_text(p.media_type) &&
                     content_length_ok(p.max_content_length);
  const auto r = phrony::presign_request(cfg, p);
  const auto* req = outcome(r, valid, cfg, "presign_request succeeds exactly for valid values");
  if (req == nullptr) {
    return;
  }
  check_api_request(*req, cfg, "POST", "/v1/file-library/presign", true);
  simdjson::dom::parser parser;
  const auto body = parse_body(req->body, parser);
  check(field_string(body, "filename") == p.filename, "filename comes back");
  check(field_string(body, "mediaType") == p.media_type, "mediaType comes back");
  std::int64_t n = 0;
  check(!body["maxContentLength"].get_int64().get(n) && n == p.max_content_length,
        "maxContentLength comes back");
}

void fuzz_finalize(gen& g, const phrony::api_config& cfg) {
  phrony::finalize_params p;
  p.object_key = g.text();
  p.max_content_length = g.fdp.ConsumeIntegral<std::int64_t>();
  if (g.fdp.ConsumeBool()) {
    p.max_content_length &= (std::int64_t{1} << 54) - 1;
  }
  p.filename = g.maybe_text();
  p.media_type = g.maybe_text();
  const bool valid = nonempty_text(p.object_key) && content_length_ok(p.max_content_length) &&
                     (!p.filename || filename_ok(*p.filename)) &&
                     (!p.media_type || nonempty_text(*p.media_type));
  const auto r = phrony::finalize_request(cfg, p);
  const auto* req = outcome(r, valid, cfg, "finalize_request succeeds exactly for valid values");
  if (req == nullptr) {
    return;
  }
  check_api_request(*req, cfg, "POST", "/v1/file-library/finalize", true);
  simdjson::dom::parser parser;
  const auto body = parse_body(req->body, parser);
  check(field_string(body, "objectKey") == p.object_key, "objectKey comes back");
  std::int64_t n = 0;
  check(!body["maxContentLength"].get_int64().get(n) && n == p.max_content_length,
        "maxContentLength comes back");
  check(p.filename ? field_string(body, "filename") == *p.filename
                   : body["filename"].error() == simdjson::NO_SUCH_FIELD,
        "filename comes back exactly when set");
  check(p.media_type ? field_string(body, "mediaType") == *p.media_type
                     : body["mediaType"].error() == simdjson::NO_SUCH_FIELD,
        "mediaType comes back exactly when set");
}

/// The query of `url` redacted: the same parameters in order, credential values as [redacted].
void check_redacted_query(std::string_view url, std::string_view printed) {
  const auto hash = url.find('#');
  const auto q = url.substr(0, hash).find('?');
  const auto pq = printed.find('?');
  check((q == std::string_view::npos) == (pq == std::string_view::npos),
        "redaction keeps the query");
  check(printed.find('#') == std::string_view::npos, "redaction drops the fragment");
  if (q == std::string_view::npos) {
    return;
  }
  std::string_view in = url.substr(0, hash).substr(q + 1);
  std::string_view out = printed.substr(pq + 1);
  while (true) {
    const auto ia = in.find('&');
    const auto oa = out.find('&');
    const auto ip = in.substr(0, ia);
    const auto op = out.substr(0, oa);
    const auto eq = ip.find('=');
    if (eq != std::string_view::npos && phrony::detail::is_secret_query_name(ip.substr(0, eq))) {
      check(op.substr(0, eq + 1) == ip.substr(0, eq + 1) && op.substr(eq + 1) == mask,
            "a credential query value is [redacted]");
    } else {
      check(op == ip, "other query parameters are kept");
    }
    check((ia == std::string_view::npos) == (oa == std::string_view::npos),
          "redaction keeps every parameter");
    if (ia == std::string_view::npos) {
      break;
    }
    in = in.substr(ia + 1);
    out = out.substr(oa + 1);
  }
}

void fuzz_upload(gen& g) {
  phrony::presign_response p;
  p.object_key = g.text();
  static constexpr std::string_view urls[] = {
      "https://bucket.s3.test/k?X-Amz-Credential=AKIAXXXXXXXX&X-Amz-Signature=abcdef0123456789",
      "https://st.test/c/b?sv=1&sig=SECRETSECRET&se=2",
      "http://h.test",
      "https://h.test/#frag",
      "https://h.test/p?a&token=t0k3nt0k3n#x",
      "https://h.test/p?=&&X-Goog-Credential="};
  if (g.fdp.ConsumeBool()) {
    p.upload_url = std::string(urls[g.fdp.ConsumeIntegralInRange<std::size_t>(0, 5)]) +
                   g.fdp.ConsumeRandomLengthString(24);
  } else {
    p.upload_url = g.base_url();
  }
  p.http_method = g.fdp.ConsumeBool() ? std::string("PUT") : g.fdp.ConsumeRandomLengthString(8);
  const auto n = g.fdp.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < n; ++i) {
    static constexpr std::string_view names[] = {"Content-Type", "x-amz-security-token",
                                                 "x-ms-blob-type", "Authorization", "X-API-Key"};
    auto name = g.fdp.ConsumeBool()
                    ? std::string(names[g.fdp.ConsumeIntegralInRange<std::size_t>(0, 4)])
                    : g.fdp.ConsumeRandomLengthString(12);
    p.required_headers.emplace_back(std::move(name), g.text());
  }
  auto bytes = g.text();
  const bool url_ok = phrony::detail::split_http_url(p.upload_url, "uploadUrl").has_value();
  bool valid = url_ok && phrony::detail::is_token(p.http_method);
  for (const auto& [name, value] : p.required_headers) {
    valid = valid && phrony::detail::is_token(name) && !header_ctl(value);
  }
  const auto r = phrony::upload_request(p, bytes);
  check(r.has_value() == valid, "upload_request succeeds exactly for a valid presign answer");
  std::vector<std::string> secrets;
  for (const auto& [name, value] : p.required_headers) {
    if (phrony::detail::is_secret_header(name)) {
      secrets.push_back(value);
    }
  }
  if (!r) {
    check(r.error().code == phrony::errc::invalid_argument && !r.error().message.empty(),
          "a refused upload says why");
    for (const auto& s : secrets) {
      if (realistic_key(s)) {
        check_hidden(r.error().message, s, "an upload error never shows a secret header value");
      }
    }
    return;
  }
  check(r->method == p.http_method && r->url == p.upload_url && r->body == bytes,
        "the upload is the presigned method, URL and bytes");
  check(r->headers.size() == p.required_headers.size(), "every required header, nothing else");
  for (std::size_t i = 0; i < r->headers.size(); ++i) {
    check(r->headers[i].name == p.required_headers[i].first &&
              r->headers[i].value == p.required_headers[i].second,
          "required headers in order");
  }
  check_printed(*r, secrets);
  const auto text = phrony::to_string(*r);
  const auto first_line = std::string_view(text).substr(0, text.find('\n'));
  const auto redacted = phrony::detail::redact_url(p.upload_url);
  const std::string unscrubbed = r->method + " " + redacted;
  bool any_secret = false; // a secret header value in the method or URL is scrubbed there too
  for (const auto& s : secrets) {
    any_secret = any_secret || (s.size() >= phrony::detail::min_scrubbed_secret &&
                                unscrubbed.find(s) != std::string::npos);
  }
  if (!any_secret) {
    check(first_line == unscrubbed, "the print starts with the method and the redacted URL");
    check_redacted_query(p.upload_url, redacted);
    const auto split = phrony::detail::split_http_url(p.upload_url, "u");
    const auto rest = phrony::detail::redact_query(split->rest);
    check(r->route() == (rest.starts_with('/') ? rest : "/" + rest),
          "route() is the redacted path and query");
  }
}

void fuzz_helpers(gen& g, const phrony::api_config& cfg) {
  switch (g.fdp.ConsumeIntegralInRange(0, 4)) {
  case 0: {
    // join_url: a valid base keeps its prefix, loses trailing slashes, gains the path.
    const auto base = g.base_url();
    const auto path = g.fdp.ConsumeBool() ? std::string("/v1/runs") : g.text();
    const auto r = phrony::join_url(base, path);
    if (!r) {
      check(r.error().code == phrony::errc::invalid_argument && !r.error().message.empty(),
            "join_url says why");
      return;
    }
    check(phrony::detail::split_http_url(base, "b").has_value(), "join_url takes a valid base");
    std::string_view b = base;
    while (b.ends_with('/')) {
      b.remove_suffix(1);
    }
    check(r->starts_with(b), "the joined URL starts with the base");
    const std::string_view tail = std::string_view(*r).substr(b.size());
    check(tail == path || (tail.size() == path.size() + 1 && tail.front() == '/' &&
                           tail.substr(1) == path && !path.starts_with('/')),
          "the joined URL ends with the path");
    if (phrony::detail::split_http_url(*r, "u")) {
      check_target_bytes(phrony::detail::split_http_url(*r, "u")->rest);
    }
    break;
  }
  case 1: {
    const auto id = g.text();
    const auto r = phrony::validate_id(id, "runId");
    check(r.has_value() == uuid_shape(id), "validate_id accepts exactly the UUID shape");
    if (!r) {
      check(r.error().message.starts_with("runId "), "the error names the id");
      check(id.size() < 4 || r.error().message.find(id) == std::string::npos ||
                std::string_view("runId must be a UUID (8-4-4-4-12 hex digits), got ").find(id) !=
                    std::string_view::npos,
            "the error does not echo the value");
    }
    break;
  }
  case 2: {
    const auto s = g.text();
    const auto e = phrony::percent_encode(s);
    for (char c : e) {
      const bool unreserved = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                              (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_' ||
                              c == '~' || c == '%';
      check(unreserved, "percent_encode writes unreserved characters and %HH only");
    }
    check_target_bytes(e);
    check(percent_decode(e) == s, "percent_encode decodes back");
    break;
  }
  case 3: {
    const auto text = g.json();
    const auto raw = phrony::parse_raw_json(text);
    const auto dom = dom_json(text);
    check(raw.has_value() == dom.has_value(), "parse_raw_json and simdjson's DOM agree on JSON");
    if (raw) {
      check(std::string_view(text).find(raw->text) != std::string_view::npos,
            "the raw value is the text, verbatim");
      check(dom_json(raw->text) == dom, "the raw value is the same JSON");
    } else {
      check(!raw.error().message.empty(), "a parse error has a message");
    }
    const auto obj = phrony::parse_json_object(text);
    check(obj.has_value() == (dom && dom_object(text)), "parse_json_object takes objects only");
    if (raw && !obj) {
      check(obj.error().code == phrony::errc::wrong_type, "a non-object is wrong_type");
    }
    break;
  }
  default: {
    // An arbitrary request printed: any headers, secret ones hidden.
    phrony::http_request r;
    r.method = g.fdp.ConsumeRandomLengthString(8);
    r.url = g.fdp.ConsumeBool() ? g.base_url() : g.text();
    const auto n = g.fdp.ConsumeIntegralInRange(0, 4);
    std::vector<std::string> secrets;
    for (int i = 0; i < n; ++i) {
      static constexpr std::string_view names[] = {"X-API-Key", "Cookie", "X-Session-Token",
                                                   "Accept", "proxy-authorization"};
      auto name = g.fdp.ConsumeBool()
                      ? std::string(names[g.fdp.ConsumeIntegralInRange<std::size_t>(0, 4)])
                      : g.fdp.ConsumeRandomLengthString(12);
      auto value = g.fdp.ConsumeBool() ? cfg.api_key : g.text();
      if (phrony::detail::is_secret_header(name)) {
        secrets.push_back(value);
      }
      r.headers.push_back({std::move(name), std::move(value)});
    }
    r.body = g.text();
    const auto text = phrony::to_string(r);
    for (const auto& s : secrets) {
      if (realistic_key(s)) {
        check_hidden(text, s, "a printed request never shows a secret header value");
      }
    }
    // The scrub itself, with any secret: what is left of it lies across a mask, and
    // scrub_then_cut is scrub, then a cut at `max` that does not split UTF-8.
    const auto& secret = secrets.empty() ? cfg.api_key : secrets.front();
    const auto scrubbed = phrony::detail::scrub(r.body, secret);
    check_hidden(scrubbed, secret, "scrub leaves no secret of its own text");
    const auto max = g.fdp.ConsumeIntegralInRange<std::size_t>(0, 5000);
    const auto cut = phrony::detail::scrub_then_cut(r.body, secret, max);
    check(cut.text.size() <= max, "scrub_then_cut keeps at most max bytes");
    check(scrubbed.starts_with(cut.text), "scrub_then_cut is a beginning of scrub");
    check(cut.cut == (cut.text.size() < scrubbed.size()), "cut says whether text was left out");
    check(!utf8(r.body) || utf8(cut.text), "scrub_then_cut does not split UTF-8");
    const auto more = phrony::detail::scrub_then_cut(r.body, secret, max, true);
    check(more.cut && more.text.size() <= max && scrubbed.starts_with(more.text),
          "a bounded read is cut, a beginning of scrub");
    check_hidden(more.text, secret, "scrub_then_cut leaves no secret");
    if (secret.size() >= phrony::detail::min_scrubbed_secret && more.text == scrubbed) {
      // Nothing was dropped, so the text after the last mask (a mask and what follows it may
      // form a pathological secret's beginning) does not end with a secret's beginning.
      const auto last = more.text.rfind(mask);
      const std::string_view tail =
          std::string_view(more.text).substr(last == std::string::npos ? 0 : last + mask.size());
      for (std::size_t j = 1; j < secret.size() && j <= tail.size(); ++j) {
        check(!tail.ends_with(secret.substr(0, j)),
              "a bounded read does not end with the beginning of a secret");
      }
    }
    const auto redacted = phrony::detail::redact_url(r.url);
    const auto scheme = r.url.find("://");
    if (phrony::detail::split_http_url(r.url, "url") &&
        r.url.find_first_of("/?#", scheme + 3) != std::string::npos) {
      check_redacted_query(r.url, redacted);
    } else if (scheme != std::string::npos &&
               r.url.find_first_of("/?#", scheme + 3) == std::string::npos) {
      check(redacted == r.url, "a URL with nothing after the host is printed as it is");
    }
    const auto route = r.route();
    check(scheme == std::string::npos || route.starts_with('/'),
          "route() of an absolute URL starts with '/'");
    check(route.find('#') == std::string::npos, "route() drops the fragment");
    break;
  }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of the input, so ASan sees any read past what the provider handed out.
  const std::vector<std::uint8_t> bytes(data, data + size);
  FuzzedDataProvider fdp(bytes.data(), bytes.size());
  gen g{fdp, {}};
  // The key: realistic (phk_ + alphanumerics, any length, so also below min_scrubbed_secret)
  // or any bytes.
  if (fdp.ConsumeBool()) {
    static constexpr char alnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string k = "phk_";
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(0, 40);
    for (std::size_t i = 0; i < n; ++i) {
      k += alnum[fdp.ConsumeIntegralInRange<std::size_t>(0, sizeof alnum - 2)];
    }
    g.key = k.substr(0, fdp.ConsumeIntegralInRange<std::size_t>(0, k.size()));
  } else {
    g.key = fdp.ConsumeRandomLengthString(40);
  }
  phrony::api_config cfg;
  cfg.api_key = g.key;
  cfg.base_url = g.base_url();
  if (fdp.ConsumeBool()) {
    cfg.user_agent = g.text();
  }
  const auto op = fdp.ConsumeIntegralInRange(0, 10);
  switch (op) {
  case 0: fuzz_start_run(g, cfg); break;
  case 1: fuzz_list_sessions(g, cfg); break;
  case 2:
  case 3:
  case 4:
  case 5: fuzz_run_route(g, cfg, op - 2); break;
  case 6: fuzz_send_message(g, cfg); break;
  case 7: fuzz_presign(g, cfg); break;
  case 8: fuzz_finalize(g, cfg); break;
  case 9: fuzz_upload(g); break;
  default: fuzz_helpers(g, cfg); break;
  }
  return 0;
}
