// phrony-decode <kind>: reads one response body on stdin and prints the parsed value as canonical
// JSON (documented fields under their wire names, unknown fields kept, opaque values verbatim).
// On malformed input it prints one line naming the JSON path, e.g.
// "/items/3/ordinal: expected number", and exits 1. Outside checks drive the parsers through it.
// Bodies are read tolerantly (see README, "Strict and tolerant parsing"): a conversation item
// whose content was kept verbatim prints one line to stderr, e.g. "/items/13/content/options/0:
// expected object (item content kept verbatim)". `<kind> --strict` fails on those instead.
//
// `sse [--chunk N]` and `events [--chunk N]` read a text/event-stream body and feed it to the
// decoder in N-byte pieces (default: all at once), printing NDJSON: for sse one line per event
// {"type","data","id"} then {"end":true,"lastEventId":...,"retry":<ms or null>}; for events one
// line per event (its canonical JSON) or {"error":"<path>: <message>"} for a bad payload.
//
// `--help` prints the usage on stdout, `--version` "phrony-decode 0.1.0"; both exit 0. A bad
// command line prints the usage on stderr and exits 64.
#include <phrony/conversation.hpp>
#include <phrony/events.hpp>
#include <phrony/files.hpp>
#include <phrony/http_error.hpp>
#include <phrony/json_writer.hpp>
#include <phrony/runs.hpp>
#include <phrony/sessions.hpp>
#include <phrony/sse.hpp>
#include <phrony/version.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

// Says which items kept their content verbatim, and why (nothing for other kinds).
template <class T> void report_kept(const T&) {}
void report_kept(const phrony::conversation& c) {
  for (const auto& item : c.items) {
    if (item.content_error) {
      std::cerr << item.content_error->what() << " (item content kept verbatim)\n";
    }
  }
}

template <class Parse> int decode(std::string_view body, Parse parse, phrony::parse_options opts) {
  const auto parsed = parse(body, opts);
  if (!parsed) {
    std::cerr << parsed.error().what() << '\n';
    return 1;
  }
  report_kept(*parsed);
  std::cout << phrony::to_json(*parsed) << '\n';
  return 0;
}

// Prints one NDJSON line; the writer refuses nothing here (the decoders hand out valid UTF-8).
void print(phrony::json_writer&& w) { std::cout << std::move(w).take().value() << '\n'; }

// Feeds `body` to `decoder` in `chunk`-byte pieces (0: whole), then finishes the stream.
template <class Decoder, class F>
phrony::result<void> feed_all(Decoder& decoder, std::string_view body, std::size_t chunk, F f) {
  const std::size_t step = chunk == 0 ? body.size() : chunk;
  for (std::size_t at = 0; at < body.size(); at += step) {
    if (auto r = decoder.feed(body.substr(at, step), f); !r) {
      return r;
    }
  }
  return decoder.finish();
}

int sse(std::string_view body, std::size_t chunk) {
  phrony::sse_decoder d;
  const auto fed = feed_all(d, body, chunk, [](const phrony::sse_event& e) {
    phrony::json_writer w;
    w.begin_object().key("type").value(e.type).key("data").value(e.data);
    w.key("id").value(e.last_event_id).end_object();
    print(std::move(w));
  });
  if (!fed) {
    std::cerr << fed.error().what() << '\n';
    return 1;
  }
  phrony::json_writer w;
  w.begin_object().key("end").value(true).key("lastEventId").value(d.last_event_id());
  w.key("retry");
  if (d.retry()) {
    w.value(static_cast<std::int64_t>(d.retry()->count()));
  } else {
    w.null();
  }
  w.end_object();
  print(std::move(w));
  return 0;
}

int events(std::string_view body, std::size_t chunk) {
  phrony::event_stream_decoder d;
  const auto fed = feed_all(d, body, chunk, [](const phrony::result<phrony::stream_event>& e) {
    if (e) {
      std::cout << phrony::to_json(*e) << '\n';
      return;
    }
    phrony::json_writer w;
    w.begin_object().key("error").value(e.error().what()).end_object();
    print(std::move(w));
  });
  if (!fed) {
    std::cerr << fed.error().what() << '\n';
    return 1;
  }
  return 0;
}

// sysexits.h's EX_USAGE.
constexpr int exit_usage = 64;

void print_usage(std::ostream& to) {
  to << "usage: phrony-decode <kind> [--strict] < body\n"
        "       phrony-decode sse|events [--chunk N] < stream\n"
        "       phrony-decode --help | --version\n"
        "Prints the body as canonical JSON (streams: NDJSON, one line per event).\n"
        "Exit status: 0 decoded, 1 malformed input (one line naming the JSON path on stderr),\n"
        "64 a usage error.\n"
        "kinds: start-run, run, accept, sessions, conversation, presign, finalize, error, "
        "sse, events\n";
}

int usage() {
  print_usage(std::cerr);
  return exit_usage;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage();
  }
  const std::string_view kind = argv[1];
  if (argc == 2 && (kind == "--help" || kind == "-h")) {
    print_usage(std::cout);
    return 0;
  }
  if (argc == 2 && kind == "--version") {
    std::cout << "phrony-decode " << PHRONY_VERSION_STRING << '\n';
    return 0;
  }
  const bool stream = kind == "sse" || kind == "events";
  std::size_t chunk = 0;
  phrony::parse_options opts;
  if (!stream && argc == 3 && std::string_view(argv[2]) == "--strict") {
    opts.strict = true;
  } else if (stream && argc == 4 && std::string_view(argv[2]) == "--chunk") {
    const std::string_view n = argv[3];
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), chunk);
    if (ec != std::errc{} || end != n.data() + n.size() || chunk == 0) {
      return usage();
    }
  } else if (argc != 2) {
    return usage();
  }
  std::ios::sync_with_stdio(false);
  const std::string body{std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>()};

  if (kind == "start-run") return decode(body, phrony::parse_start_run, opts);
  if (kind == "run") return decode(body, phrony::parse_run_status, opts);
  if (kind == "accept") return decode(body, phrony::parse_accept, opts);
  if (kind == "sessions") return decode(body, phrony::parse_sessions_page, opts);
  if (kind == "conversation") return decode(body, phrony::parse_conversation, opts);
  if (kind == "presign") return decode(body, phrony::parse_presign, opts);
  if (kind == "finalize") return decode(body, phrony::parse_finalize, opts);
  if (kind == "error") return decode(body, phrony::parse_error_body, opts);
  if (kind == "sse") return sse(body, chunk);
  if (kind == "events") return events(body, chunk);
  return usage();
}
