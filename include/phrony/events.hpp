// phrony: the typed events of GET /v1/runs/{runId}/stream, decoded from the SSE data payloads.
//
// Each event's data is one JSON object {ts, kind, subject, data}. `data` depends on kind and
// subject and the service adds subjects over time, so it stays verbatim; the keys most callers
// want (run_id, session_id, status) are picked out of it in the same pass. The docs do not fix
// those keys' spelling, so runId and sessionId (camelCase, as the REST bodies spell them) are
// picked too.
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "phrony/detail/chrono.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/error.hpp"
#include "phrony/raw_json.hpp"
#include "phrony/sse.hpp"

namespace phrony {

/// What a stream event is about. The set is open: new kinds map to `unknown` and keep their
/// wire string in stream_event::kind.
enum class event_kind { step, session, run, user_task, aitl, unknown };

/// Maps a wire kind ("user_task") to an event_kind; unknown strings give event_kind::unknown.
[[nodiscard]] constexpr event_kind parse_event_kind(std::string_view wire) noexcept {
  if (wire == "step") return event_kind::step;
  if (wire == "session") return event_kind::session;
  if (wire == "run") return event_kind::run;
  if (wire == "user_task") return event_kind::user_task;
  if (wire == "aitl") return event_kind::aitl;
  return event_kind::unknown;
}

/// The wire string of a known kind ("" for unknown: keep the original string instead).
[[nodiscard]] constexpr std::string_view to_string(event_kind k) noexcept {
  switch (k) {
  case event_kind::step: return "step";
  case event_kind::session: return "session";
  case event_kind::run: return "run";
  case event_kind::user_task: return "user_task";
  case event_kind::aitl: return "aitl";
  case event_kind::unknown: return "";
  }
  return "";
}

/// One event of a run's stream: the JSON object carried by an SSE event's data.
struct stream_event {
  text ts;       ///< ISO-8601 time, as sent
  text kind;     ///< wire string; see kind_enum()
  text subject;  ///< e.g. "engine.run.completed"
  raw_json data; ///< the payload, verbatim (an object for every documented subject)
  // Picked from data's top-level string members when present (never written back: they are
  // data's, and data is kept whole). Either spelling counts; when both are there as strings,
  // the snake_case one wins, wherever it stands.
  std::optional<text> run_id;     ///< data's "run_id", else its "runId"
  std::optional<text> session_id; ///< data's "session_id", else its "sessionId"
  std::optional<text> status;     ///< a run state for run/session events; see parse_run_state
  extra_fields extra;

  /// The kind as an enum (event_kind::unknown for kinds this library does not know).
  [[nodiscard]] event_kind kind_enum() const noexcept { return parse_event_kind(kind); }
  friend bool operator==(const stream_event&, const stream_event&) = default;
};

} // namespace phrony

#if PHRONY_WITH_IMPL
#include "phrony/detail/json.hpp"

namespace phrony::detail {

/// Reads a stream event's `data` verbatim and picks run_id (or runId), session_id (or sessionId)
/// and status from it in the same walk. Non-object values are kept verbatim too: the payload's
/// shape is the server's.
[[nodiscard]] inline read_status read_stream_event_data(od::value& v, const path& p,
                                                        read_context& ctx, stream_event& out) {
  // `out` may be a reused event (event_stream_decoder): picked texts are overwritten in place,
  // keeping their storage, and the slots not found are reset at the end.
  // A slot emptied for one event lends its text to a spare, which the next event that has
  // the key takes back, so alternating kinds of events do not allocate either. Only an id-sized
  // text of its own storage is lent: the spares live as long as the thread, and a server's
  // 16 MiB "run_id" must not stay resident after its decoder is gone.
  constexpr std::size_t max_spare_capacity = 1024;
  thread_local text spares[3];
  std::optional<text>* const slots[] = {&out.run_id, &out.session_id, &out.status};
  // What each slot holds from this event: 0 nothing yet, 1 a camelCase key's string, 2 a
  // snake_case key's (which a camelCase one never replaces).
  int found[3] = {0, 0, 0};
  const auto release = [&](std::size_t i) {
    if (*slots[i]) {
      text& held = **slots[i];
      if (text_access::own_capacity(held) <= max_spare_capacity) {
        spares[i] = std::move(held);
      } else if (spares[i].empty() && held.size() < max_spare_capacity) {
        text_access::own(spares[i], held); // it shares a parse's block: a copy of its own
      }
      slots[i]->reset();
    }
  };
  const auto reset_missing = [&] {
    for (std::size_t i = 0; i < 3; ++i) {
      if (found[i] == 0) {
        release(i);
      }
    }
  };
  const char* const start = v.raw_json_token().data();
  od::json_type t{};
  if (auto ec = v.type().get(t)) {
    return fail_json(ec, p, "a JSON value");
  }
  if (t != od::json_type::object) {
    reset_missing();
    return read_raw(v, p, out.data.text, ctx);
  }
  const std::size_t depth = p.depth();
  if (depth > max_json_depth) {
    return fail_at(errc::limit_exceeded, p, "JSON nested too deeply");
  }
  // The first backslash from here to the document's end (one memchr an event, the document being
  // one event): the strings before it are read and checked without a scan for their ends.
  const char* const plain_until = ctx.plain_until(start);
  PHRONY_CHECK(for_each_field(
      v, p,
      [&](std::string_view k, od::value& fv, const path& fp) -> read_status {
        std::size_t i = 3;
        int rank = 2;
        if (key_is(k, "run_id")) {
          i = 0;
        } else if (key_is(k, "session_id")) {
          i = 1;
        } else if (key_is(k, "status")) {
          i = 2;
        } else if (key_is(k, "runId")) {
          i = 0;
          rank = 1;
        } else if (key_is(k, "sessionId")) {
          i = 1;
          rank = 1;
        }
        if (i < 3 && rank >= found[i]) {
          od::json_type ft{};
          if (auto ec = fv.type().get(ft)) {
            return fail_json(ec, fp, "a JSON value");
          }
          // Any other type (e.g. "status": null) picks nothing; the verbatim data still has it.
          if (ft == od::json_type::string) {
            std::string_view s;
            if (auto ec = read_string(fv, s, plain_until)) {
              return fail_json(ec, fp, "string");
            }
            if (!*slots[i]) {
              slots[i]->emplace(std::move(spares[i]));
            }
            assign_string(**slots[i], s);
            found[i] = rank;
            return {};
          }
        }
        return validate_child(fv, fp, depth + 1, plain_until);
      },
      no_expected_key, plain_until));
  reset_missing();
  assign_string(out.data.text, consumed_text(v, start, ctx.doc_end));
  return {};
}

template <std::same_as<stream_event> T> struct schema<T> {
  // "data" is read by read_special (so it is listed as opt: the table's required-check never sees
  // it) and its presence is checked in finish; the table still drives writing.
  static constexpr auto fields = std::make_tuple(
      req("ts", &T::ts), req("kind", &T::kind), req("subject", &T::subject), opt("data", &T::data));

  static read_status read_special(T& out, std::string_view key, od::value& v, const path& p,
                                  read_context& ctx, bool& handled) {
    if (key != "data") {
      return {};
    }
    handled = true;
    return read_stream_event_data(v, p, ctx, out);
  }

  static read_status finish(T& out, const path& p, read_context&) {
    if (out.data.text.empty()) { // verbatim JSON is never empty, so data was absent
      return fail_at(errc::missing_field, p.field("data"), "missing required field");
    }
    return {};
  }
};

} // namespace phrony::detail
#endif

PHRONY_DETAIL_VALUE(stream_event)

namespace phrony {

/// Parses one SSE data payload of GET /v1/runs/{runId}/stream; to_json(event) writes ts, kind,
/// subject, data (verbatim), then unknown fields verbatim.
inline constexpr detail::body_parser<stream_event> parse_stream_event{};

/// A callback for event_stream_decoder::feed: takes the parsed event (and, optionally, the SSE
/// event it came from); returns void, or false to stop.
template <class F>
concept stream_event_handler = (std::invocable<F&, const result<stream_event>&>) ||
                               (std::invocable<F&, const result<stream_event>&, const sse_event&>);

/// Decodes a /stream body into stream events as bytes arrive (sse_decoder underneath).
class event_stream_decoder {
public:
  /// A decoder at the start of a stream.
  explicit event_stream_decoder(sse_limits limits = {}) : sse_(limits) { sse_.defer_utf8_ = true; }

  /// Consumes `bytes`, calling `on_event(const result<stream_event>&)` (or, to see the SSE
  /// framing too, `on_event(const result<stream_event>&, const sse_event&)`) once per event. An
  /// undecodable payload arrives as an error and decoding goes on; returning false from
  /// on_event stops, as in sse_decoder::feed.
  template <stream_event_handler F> result<void> feed(std::string_view bytes, F&& on_event) {
    return sse_.feed(bytes, [this, &on_event](const sse_event& raw) -> bool {
      const result<stream_event>* parsed = &parse(raw.data);
      sse_event ev = raw;
      if (!parsed->has_value() && !is_valid_utf8(raw.data)) {
        // The data as WHATWG decodes it (sse_decoder left that to us: see defer_utf8_).
        ev.data = sse_.replace_invalid_utf8(raw.data);
        parsed = &parse(ev.data);
      }
      if constexpr (std::invocable<F&, const result<stream_event>&, const sse_event&>) {
        return call(on_event, *parsed, ev);
      } else {
        return call(on_event, *parsed);
      }
    });
  }

  /// Ends the stream (see sse_decoder::finish).
  result<void> finish() { return sse_.finish(); }
  /// Back to the state of a new decoder.
  PHRONY_DECL void reset();

  /// The SSE layer: last event ID, retry, consumed bytes.
  [[nodiscard]] const sse_decoder& sse() const noexcept { return sse_; }
  /// See sse_decoder::last_event_id.
  [[nodiscard]] std::string_view last_event_id() const noexcept { return sse_.last_event_id(); }
  /// See sse_decoder::retry.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry() const noexcept {
    return sse_.retry();
  }

private:
  /// Parses `data` into the event reused from the last call, so that in a steady stream its
  /// strings already have the capacity they need and nothing is allocated per event.
  PHRONY_DECL const result<stream_event>& parse(std::string_view data);

  template <class F, class... Args> static bool call(F& f, const Args&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const Args&...>>) {
      std::invoke(f, args...);
      return true;
    } else {
      return static_cast<bool>(std::invoke(f, args...));
    }
  }

  sse_decoder sse_;
  result<stream_event> current_;
};

/// How long to wait before reconnecting: the stream's `retry`, else `fallback`, capped at `max`.
[[nodiscard]] inline std::chrono::milliseconds
reconnect_delay(const event_stream_decoder& d, std::chrono::milliseconds fallback,
                std::chrono::milliseconds max = default_max_reconnect_delay) noexcept {
  return reconnect_delay(d.sse(), fallback, max);
}

/// The Last-Event-ID to send when reconnecting, or nullopt when there is none or it is not
/// header-safe (see the sse_decoder overload).
[[nodiscard]] inline std::optional<std::string>
reconnect_last_event_id(const event_stream_decoder& d) {
  return reconnect_last_event_id(d.sse());
}

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).

namespace phrony {

PHRONY_DECL void event_stream_decoder::reset() {
  sse_.reset();
  sse_.defer_utf8_ = true;
}

PHRONY_DECL const result<stream_event>& event_stream_decoder::parse(std::string_view data) {
  if (!current_.has_value()) {
    current_ = stream_event{};
  }
  stream_event& e = *current_;
  detail::text_access::clear(e.data.text); // finish() tells an absent "data" by its empty text
  e.extra.clear();
  auto err = detail::parse_text_into(data.data(), data.size(), sse_.padded_capacity(data), e, {});
  if (err) {
    current_ = std::move(*err);
  }
  return current_;
}

} // namespace phrony
#endif
