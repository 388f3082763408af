// The invariants of the parser targets, one function per endpoint, shared by the raw targets
// (fuzz_<endpoint>.cpp: the input is the body) and the structure-aware one (fuzz_shaped.cpp:
// the input is a program that api_shapes.hpp turns into an API-shaped body).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <phrony/conversation.hpp>
#include <phrony/error.hpp>
#include <phrony/events.hpp>
#include <phrony/files.hpp>
#include <phrony/http_error.hpp>
#include <phrony/runs.hpp>
#include <phrony/sessions.hpp>

#include "fuzz_check.hpp"
#include "json_oracle.hpp"

namespace phrony_fuzz {

/// A control byte (C0 or DEL): error::what() writes each as \u00XX.
inline bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }

/// `text` as error::what() shows it (written here independently of phrony).
inline std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (is_control(c)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

/// result<T>'s own promises (error.hpp), for any parse result: value() throws
/// phrony::exception carrying the error exactly when there is one; error() of a value says
/// "no error"; an error has a known code, a message, and what() shows its path and message.
template <class T> void check_result_api(const phrony::result<T>& r) {
  check(static_cast<bool>(r) == r.has_value(), "operator bool is has_value");
  if (r) {
    check(r.error().code == phrony::errc::invalid_argument && !r.error().message.empty(),
          "error() of a value says there is none");
    phrony::result<void> ok;
    check(ok.has_value() && std::move(ok).error().code == phrony::errc::invalid_argument,
          "error() && of a success says there is none");
    (void)r.value();
    auto copy = r;
    check(copy.operator->() != nullptr && *std::move(copy) == *r, "a value moves out whole");
    return;
  }
  const phrony::error& e = r.error();
  check(!e.message.empty(), "an error has a message");
  check(phrony::to_string(e.code) != "unknown", "an error's code has a name");
  const std::string what = e.what();
  check(std::none_of(what.begin(), what.end(), is_control), "what() holds no control byte");
  const std::string message = escaped(e.message);
  check(what.ends_with(message), "what() ends with the message");
  check(what.starts_with(escaped(e.path)), "what() starts with the path");
  check(e.path.empty() || e.path.front() == '/', "an error path is a JSON Pointer");
  bool threw = false;
  try {
    (void)r.value();
  } catch (const phrony::exception& ex) {
    threw = true;
    check(ex.error() == e && ex.what() == what, "value() throws the error");
  }
  check(threw, "value() of an error throws");
  phrony::result<void> failed = e;
  check(!failed && failed.error() == e, "result<void> holds an error");
  threw = false;
  try {
    failed.value();
  } catch (const phrony::exception&) {
    threw = true;
  }
  check(threw, "result<void>::value() of an error throws");
  check(std::move(failed).error() == e, "error() && hands out the error");
  auto copy = r;
  check(std::move(copy).error() == e, "error() && of a result hands out the error");
  static const bool names_checked = [] {
    for (int c = 0; c <= static_cast<int>(phrony::errc::cancelled); ++c) {
      check(phrony::to_string(static_cast<phrony::errc>(c)) != "unknown", "every errc has a name");
    }
    return true;
  }();
  (void)names_checked;
}

/// For each mode: the verdict agrees with the JSON oracle, and the result keeps its API.
template <class Parse>
void check_parse_modes(std::string_view body, Parse parse, oracle_rules rules = {}) {
  for (const bool strict : {false, true}) {
    const auto r = parse(body, phrony::parse_options{.strict = strict});
    oracle_rules mode_rules = rules;
    mode_rules.empty_body_ok = rules.empty_body_ok && !strict;
    agree_with_oracle_on(body, r, mode_rules);
    check_result_api(r);
  }
}

/// The checks every small-body parser gets: round_trip (fuzz_check.hpp) and check_parse_modes.
template <class Parse>
void check_body(std::string_view body, Parse parse, oracle_rules rules = {}) {
  round_trip(body, parse);
  check_parse_modes(body, parse, rules);
}

template <class = void> void check_run_status(std::string_view body) {
  check_body(body, phrony::parse_run_status);
  if (const auto r = phrony::parse_run_status(body)) {
    check(r->state() == phrony::parse_run_state(r->status), "state() maps the wire status");
    const auto s = r->state();
    check(phrony::to_string(s).empty() == (s == phrony::run_state::unknown),
          "known states have a wire name");
    check(s == phrony::run_state::unknown || phrony::to_string(s) == r->status,
          "a known state's wire name is the status");
    check(!(phrony::is_terminal(s) && phrony::is_waiting(s)), "terminal runs do not wait");
    check((phrony::needs(s) == phrony::run_need::nothing) ==
              (s == phrony::run_state::running || phrony::is_terminal(s)),
          "only running and terminal runs need nothing");
  }
}

template <class = void> void check_start_run(std::string_view body) {
  check_body(body, phrony::parse_start_run);
  if (const auto r = phrony::parse_start_run(body)) {
    check(r->state() == phrony::parse_run_state(r->status), "state() maps the wire status");
  }
}

template <class = void> void check_accept(std::string_view body) {
  check_body(body, phrony::parse_accept, {.empty_body_ok = true});
  if (const auto r = phrony::parse_accept(body)) {
    check(r->state() == phrony::parse_run_state(r->status), "state() maps the wire status");
  }
}

template <class = void> void check_sessions(std::string_view body) {
  check_body(body, phrony::parse_sessions_page);
  if (const auto r = phrony::parse_sessions_page(body)) {
    for (const auto& row : r->items) {
      check(row.state() == phrony::parse_run_state(row.status), "a row's state() maps its status");
      check(row.start_context.is_null() || row.start_context.text.front() == '{',
            "a row's startContext is an object or null");
    }
  }
}

template <class = void> void check_presign(std::string_view body) {
  check_body(body, phrony::parse_presign);
}

template <class = void> void check_finalize(std::string_view body) {
  check_body(body, phrony::parse_finalize);
  if (const auto r = phrony::parse_finalize(body)) {
    // file_ref::from accepts exactly the object keys with a leaf.
    const auto ref = phrony::file_ref::from(*r);
    check_result_api(ref);
    if (ref) {
      check(!ref->leaf().empty() && ref->leaf().find('/') == std::string_view::npos,
            "a file_ref's leaf is the object key after its last '/'");
      check(ref->size_bytes() == r->size_bytes, "a file_ref keeps the size");
      check(ref->as_message_file().object_key == r->object_key, "a message file names the key");
      check(ref->input_value().text.starts_with(R"({"phronyFile":true,"filename":)"),
            "an input file reference is a phronyFile object");
    }
    // The object key as file name and media type too: from() checks them (1-512 code points,
    // non-empty UTF-8).
    // Pieces of the object key as file name and media type: from() checks them (1-512 code
    // points, non-empty UTF-8; a cut may split a UTF-8 sequence).
    const std::string& key = r->object_key;
    const std::string filename = key.substr(0, r->size_bytes % (key.size() + 1));
    const std::string media_type = key.substr(key.size() / 2);
    const auto named = phrony::file_ref::from(*r, filename, media_type);
    check_result_api(named);
    check(!named || (ref && named->object_key() == key && named->filename() == filename &&
                     named->media_type() == media_type),
          "a named file_ref keeps its name and media type");
    if (named) {
      agree_with_oracle_on(named->input_value().text,
                           phrony::parse_finalize(named->input_value().text));
    }
  }
}

/// The error-body checks; the bytes also go through parse_retry_after as a header value.
template <class = void> void check_error_body(std::string_view body) {
  check_body(body, phrony::parse_error_body);
  if (const auto parsed = phrony::parse_error_body(body)) {
    const auto text = parsed->message_text();
    check(text.has_value() == (parsed->message && !parsed->message->is_null()),
          "a present, non-null message has a text");
  }
  // A fixed `now` keeps runs reproducible (it only matters for rfc850's two-digit years).
  const std::chrono::system_clock::time_point now{};
  if (const auto parsed = phrony::parse_error_body(body)) {
    // What http_error makes of it: the message in what() after "HTTP <status> from ...".
    phrony::error e =
        phrony::make_error(phrony::errc::http_status, "", parsed->message_text().value_or(""));
    e.status = static_cast<int>(parsed->status_code.value_or(500) % 1000);
    e.method = "GET";
    e.route = "/v1/runs/r";
    const std::string what = e.what();
    check(what.starts_with("HTTP " + std::to_string(e.status) + " from GET /v1/runs/r") &&
              what.ends_with(escaped(e.message)),
          "an HTTP error's what() names status, method, route and message");
  }
  if (const auto hint = phrony::parse_retry_after(body, now)) {
    check(*hint == *hint, "a retry hint equals itself");
    check(hint->delay_from(now) >= std::chrono::seconds{0},
          "a Retry-After delay is never negative");
    if (std::holds_alternative<std::chrono::system_clock::time_point>(hint->value)) {
      check(hint->delay_from(std::chrono::system_clock::time_point::max()) ==
                std::chrono::seconds{0},
            "a Retry-After date's delay runs out");
    }
  }
}

/// The conversation checks: round trip in both modes, the padded overload, kept contents,
/// pending tasks and sorting.
/// A parsed text behaves as the std::string_view of its bytes: every query agrees with the
/// view's, and copies, moves and clear() leave the original as it was. `other` is a second text
/// of the same value (a needle and an operand).
template <class = void> void check_text(const phrony::text& t, const phrony::text& other) {
  const std::string_view v = t;
  const std::string_view o = other;
  check(std::string_view(t.data(), t.size()) == v && t.c_str()[t.size()] == '\0' &&
            t.length() == v.size() && t.empty() == v.empty() &&
            std::string_view(t.begin(), static_cast<std::size_t>(t.end() - t.begin())) == v &&
            (v.empty() || (t[0] == v[0] && t.front() == v.front() && t.back() == v.back())),
        "a text's bytes are its view's");
  const std::string_view needle = o.substr(0, std::min<std::size_t>(o.size(), 3));
  const char c = needle.empty() ? '"' : needle.front();
  const std::size_t pos = v.size() / 2;
  check(t.find(needle) == v.find(needle) && t.find(needle, pos) == v.find(needle, pos) &&
            t.find(c, pos) == v.find(c, pos) && t.rfind(needle) == v.rfind(needle) &&
            t.rfind(c, pos) == v.rfind(c, pos) &&
            t.find_first_of(needle) == v.find_first_of(needle) &&
            t.find_last_of(needle) == v.find_last_of(needle),
        "a text's find, rfind, find_first_of and find_last_of are its view's");
  check(t.starts_with(needle) == v.starts_with(needle) && t.starts_with(c) == v.starts_with(c) &&
            t.ends_with(needle) == v.ends_with(needle) && t.ends_with(c) == v.ends_with(c) &&
            t.contains(needle) == (v.find(needle) != std::string_view::npos) &&
            t.contains(c) == (v.find(c) != std::string_view::npos),
        "a text's starts_with, ends_with and contains are its view's");
  check((t.compare(o) < 0) == (v.compare(o) < 0) && (t.compare(o) == 0) == (v == o) &&
            ((t <=> other) < 0) == (v < o) && (t == other) == (v == o) && (t == o) == (v == o),
        "texts compare as their views");
  check(t.substr(pos) == v.substr(pos) && t + other == std::string(v).append(o) &&
            t + o == std::string(v).append(o) && o + t == std::string(o).append(v),
        "substr and + give the views' strings");
  check(std::hash<phrony::text>{}(t) == std::hash<std::string_view>{}(v), "texts hash as views");
  phrony::text copy = t;
  check(copy == v && (v.empty() || copy.data() != t.data()), "a copied text has bytes of its own");
  phrony::text moved = std::move(copy);
  check(moved == v && copy.empty(),
        "a moved-from text is empty"); // NOLINT(bugprone-use-after-move)
  moved.clear();
  check(moved.empty() && t == v, "clearing a copy leaves the original");
}

/// One /stream payload: round trip in both modes, the oracle, and the picked ids.
template <class = void> void check_stream_event(std::string_view payload) {
  check_body(payload, phrony::parse_stream_event);
  if (const auto e = phrony::parse_stream_event(payload)) {
    check(e->kind_enum() == phrony::parse_event_kind(e->kind), "kind_enum maps the wire kind");
    const auto wire = phrony::to_string(e->kind_enum());
    check(wire.empty() == (e->kind_enum() == phrony::event_kind::unknown) &&
              (wire.empty() || wire == e->kind),
          "a known event kind's wire name is the kind");
    check(!(e->run_id || e->session_id || e->status) || e->data.text.front() == '{',
          "ids are picked from an object only");
    check_text(e->data.text, e->subject);
    check_text(e->kind, e->data.text);
    check_text(e->ts, e->run_id.value_or(e->kind));
  }
}

namespace detail {

// One event as compared: canonical JSON when good, else "error <code> <path>".
template <class = void> std::string describe(const phrony::result<phrony::stream_event>& r) {
  if (!r) {
    return "error " + std::string(phrony::to_string(r.error().code)) + " " + r.error().path;
  }
  return phrony::to_json(*r);
}

template <class = void>
std::vector<std::string> decode(const std::vector<std::string_view>& pieces,
                                phrony::sse_limits limits) {
  phrony::event_stream_decoder d(limits);
  std::vector<std::string> out;
  for (const auto piece : pieces) {
    const auto fed = d.feed(piece, [&](const phrony::result<phrony::stream_event>& r) {
      if (r) {
        round_trip(phrony::to_json(*r), phrony::parse_stream_event);
        const auto again = phrony::parse_stream_event(phrony::to_json(*r));
        check(again && *again == *r, "a decoded event survives to_json -> parse");
      } else {
        check(!r.error().message.empty(), "an event error has a message");
      }
      out.push_back(describe(r));
    });
    check(fed.has_value(), "limits as large as the input hold");
  }
  check(d.finish().has_value(), "finish succeeds");
  return out;
}

inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

} // namespace detail

/// A whole /stream body through event_stream_decoder: each good event survives
/// parse -> to_json -> parse; a bad payload is an error with a message and decoding goes on;
/// the events are the same fed whole, byte by byte and in pieces derived from a hash of the
/// input, and the same as sse_decoder + parse_stream_event; each payload's verdict agrees with
/// the JSON oracle.
template <class = void> void check_event_stream(std::string_view input) {
  // The default limits, with max_line raised to the input's size (only non-data lines need it).
  phrony::sse_limits limits;
  limits.max_line = std::max(limits.max_line, input.size());
  const auto whole = detail::decode({input}, limits);

  std::vector<std::string> layered;
  phrony::sse_decoder sse(limits);
  (void)sse.feed(input, [&](const phrony::sse_event& e) {
    const auto parsed = phrony::parse_stream_event(e.data);
    agree_with_oracle_on(e.data, parsed);
    layered.push_back(detail::describe(parsed));
  });
  check(layered == whole, "event_stream_decoder == sse_decoder + parse_stream_event");
  {
    phrony::event_stream_decoder d(limits);
    (void)d.feed(input, [](const phrony::result<phrony::stream_event>&) {});
    check(d.last_event_id() == sse.last_event_id() && d.retry() == sse.retry() &&
              d.sse().consumed() == sse.consumed(),
          "the decoder's SSE state is sse_decoder's");
    const std::chrono::milliseconds fallback{1000};
    check(phrony::reconnect_delay(d, fallback) == phrony::reconnect_delay(sse, fallback) &&
              phrony::reconnect_last_event_id(d) == phrony::reconnect_last_event_id(sse),
          "reconnecting from the decoder is reconnecting from its sse_decoder");
    d.reset();
    std::vector<std::string> again;
    (void)d.feed(input, [&](const phrony::result<phrony::stream_event>& r) {
      again.push_back(detail::describe(r));
    });
    check(again == layered, "a reset decoder decodes the same events");
  }

  if (input.size() <= 4096) { // big inputs: the random pieces below suffice, and stay fast
    std::vector<std::string_view> bytewise;
    for (std::size_t i = 0; i < input.size(); ++i) {
      bytewise.push_back(input.substr(i, 1));
    }
    check(detail::decode(bytewise, limits) == whole, "byte by byte == whole");
  }

  std::uint64_t h = detail::fnv1a(input);
  std::vector<std::string_view> pieces;
  for (std::size_t at = 0; at < input.size();) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t n = (h >> 33) % 64;
    pieces.push_back(input.substr(at, n));
    at += n;
  }
  check(detail::decode(pieces, limits) == whole, "random pieces == whole");
}

} // namespace phrony_fuzz
