// phrony-emulator: GET /v1/runs/{runId}/stream, text/event-stream over chunked transfer.
//
// The stream replays the session's events (with `id:` lines, after a `retry:` block), then
// waits for new ones, sending a `: keepalive` comment every 250 ms of silence, and ends after
// the session's last event. A reconnect with Last-Event-ID gets only the events after it.
// --camel-case-events and --no-event-status respell each event's `data` as it is framed.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <phrony/json_writer.hpp>

#include "api.hpp"

namespace emu {

namespace {

/// Per-connection stream state.
struct stream_state {
  session* sess = nullptr;
  std::string run_id;
  std::uint64_t cursor = 0; // events[0, cursor) were sent or skipped
  bool began = false;
  int sent = 0;       // events written on this connection
  dom::parser parser; // for respell_data
};

// SPEC.md: redacted mode drops step, user_task and aitl events and engine.subagent.spawned.
bool hidden_in_redacted_mode(const event& e) {
  return e.kind == "step" || e.kind == "user_task" || e.kind == "aitl" ||
         e.subject == "engine.subagent.spawned";
}

// "run_id" -> "runId": how a server written from the docs alone may spell the payload keys.
std::string camel_case(std::string_view key) {
  std::string out;
  bool upper = false;
  for (const char c : key) {
    if (c == '_') {
      upper = !out.empty();
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// The event's `data` as this server spells it. Only the top level is respelt: nested values
// (`content`, `input`, `output`, `outcome`, ...) are item contents and user data, which a
// server passes on as they are.
std::string respell_data(const event& e, const http_options& opt, dom::parser& parser) {
  const bool drop_status = !opt.event_status && (e.kind == "run" || e.kind == "session");
  if (!opt.camel_case_events && !drop_status) {
    return e.data;
  }
  dom::object data;
  if (parser.parse(e.data).get_object().get(data) != simdjson::SUCCESS) {
    return e.data; // the world writes objects; never reached
  }
  phrony::json_writer w;
  w.begin_object();
  for (const auto field : data) {
    if (drop_status && field.key == "status") {
      continue;
    }
    w.key(opt.camel_case_events ? camel_case(field.key) : std::string(field.key));
    w.raw(phrony::raw_json{simdjson::minify(field.value)});
  }
  w.end_object();
  return w.str();
}

std::string frame(const event& e, const http_options& opt, dom::parser& parser) {
  phrony::json_writer w;
  w.begin_object().key("ts").value(e.ts).key("kind").value(e.kind).key("subject").value(e.subject);
  w.key("data").raw(phrony::raw_json{respell_data(e, opt, parser)}).end_object();
  std::string f = "id: " + std::to_string(e.id) + "\ndata: " + w.str() + "\n\n";
  if (opt.cr_line_ends) {
    std::replace(f.begin(), f.end(), '\n', '\r');
  }
  return f;
}

} // namespace

void api::stream(const httplib::Request& req, httplib::Response& res) {
  const api_key* key = authenticate(req, res);
  if (key == nullptr) {
    return;
  }
  auto st = std::make_shared<stream_state>();
  {
    std::lock_guard lock(w_.mu);
    const run* r = find_scoped_run(req, res, *key);
    if (r == nullptr) {
      return;
    }
    st->sess = r->sess;
    st->run_id = r->id;
    // Ids are 1-based per session, so "Last-Event-ID: n" means events[n...] are still due.
    const std::string last = req.get_header_value("Last-Event-ID");
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), id);
    if (!last.empty() && ec == std::errc{} && end == last.data() + last.size()) {
      st->cursor = std::min<std::uint64_t>(id, r->sess->events.size());
    }
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  // httplib calls this until it returns false (connection dropped) or sink.done() is called;
  // each call waits at most 250 ms, so a stop or a keepalive is never later than that.
  res.set_chunked_content_provider(
      "text/event-stream", [this, st](std::size_t, httplib::DataSink& sink) {
        const char* eol = opt_.cr_line_ends ? "\r" : "\n";
        if (!st->began) {
          st->began = true;
          return write_out(sink, std::string("retry: 1000") + eol + eol);
        }
        std::vector<event> due; // copied under the lock, framed after it
        bool finished = false;
        bool advanced = false;
        {
          std::unique_lock lock(w_.mu);
          const session& s = *st->sess;
          w_.changed.wait_for(lock, std::chrono::milliseconds(250), [&] {
            return w_.stopping() || st->cursor < s.events.size() || s.root->done;
          });
          if (w_.stopping()) {
            return false;
          }
          for (; st->cursor < s.events.size(); ++st->cursor) {
            const event& e = s.events[st->cursor];
            advanced = true;
            if (!(s.agent->hide_timeline && hidden_in_redacted_mode(e))) {
              due.push_back(e);
            }
          }
          finished = s.root->done; // session.completed is the session's last event
        }
        for (const event& e : due) {
          const std::string f = frame(e, opt_, st->parser);
          if (opt_.drop_stream_after >= 0 && st->sent == opt_.drop_stream_after &&
              claim_drop(st->run_id)) {
            // A connection lost mid-event: half a frame, then no terminating chunk.
            write_out(sink, std::string_view(f).substr(0, f.size() / 2));
            return false;
          }
          if (!write_out(sink, f)) {
            return false;
          }
          ++st->sent;
        }
        if (finished) {
          sink.done();
          return true;
        }
        if (!advanced) {
          return write_out(sink, std::string(": keepalive") + eol + eol);
        }
        return true;
      });
}

} // namespace emu
