// phrony: a sans-IO, incremental text/event-stream decoder that follows the WHATWG HTML
// "event stream interpretation" exactly, whatever the chunking of its input.
//
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
//
// The decoder works on bytes and never rescans them: every byte is looked at a bounded number of
// times (one scan for the line end, memchr for the field colon, then one append), so feeding a
// 16 MiB event one byte at a time is linear. Line ends, ':' and ' ' are ASCII, and the WHATWG UTF-8
// decoder never swallows an ASCII byte into a replacement, so splitting lines on bytes and decoding
// each value afterwards gives exactly what decoding first and splitting afterwards gives. Values
// are validated once, when they are used (data at dispatch, event and id at the end of their
// line); the line scan notes where a line's first non-ASCII byte is, so data that is ASCII up to
// some point is validated from there on only.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "phrony/detail/chrono.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/json_writer.hpp"

namespace phrony {

/// Bounds on what one stream may make the decoder buffer (a remote peer must not grow it freely).
/// A data line is bounded by max_event alone, so an event may come as one line (a large tool
/// output does); only the other lines, which carry no bulk, have the smaller max_line.
struct sse_limits {
  /// bytes in one line other than a data line (event, id, retry, comment, unknown field), line
  /// end excluded; past it the stream fails, so an endless line cannot stall it unseen
  std::size_t max_line = std::size_t{64} << 10;
  /// bytes of one event's data as received (its lines joined with LF); replacing ill-formed
  /// UTF-8 may make what is dispatched up to three times as long
  std::size_t max_event = std::size_t{16} << 20;
};

/// One dispatched event; the views are valid only during the on_event call.
struct sse_event {
  std::string_view type;          ///< the `event` field, or "message" when none was given
  std::string_view data;          ///< `data` lines joined with LF
  std::string_view last_event_id; ///< the stream's last event ID at dispatch (may be empty)
};

namespace detail {

/// Appends `in` to `out` as the WHATWG UTF-8 decoder reads it: each maximal subpart of an
/// ill-formed sequence becomes one U+FFFD, as does a truncated sequence at the end.
PHRONY_DECL void append_utf8_replacing(std::string_view in, std::string& out);

/// Sets `out` to `in` decoded as WHATWG UTF-8 (a plain copy when `in` is well-formed).
PHRONY_DECL void assign_utf8_replacing(std::string_view in, std::string& out);

/// What scan_line found in [p, end).
struct line_scan {
  const char* eol;        ///< the first CR or LF, or end
  const char* first_high; ///< the first byte >= 0x80 before eol, or eol when there is none
};

/// Finds the end of the line that starts at p in one pass (a block at a time where SIMD
/// compiles, reading nothing outside [p, end)), noting its first non-ASCII byte on the way.
[[nodiscard]] PHRONY_DECL line_scan scan_line(const char* p, const char* end) noexcept;

} // namespace detail

class event_stream_decoder;

/// Decodes text/event-stream bytes as they arrive; never reads, writes or blocks.
class sse_decoder {
public:
  /// A decoder at the start of a stream.
  explicit sse_decoder(sse_limits limits = {}) : limits_(limits) {}

  /// Consumes `bytes`, calling `on_event(const sse_event&)` once per dispatched event. When
  /// on_event returns false, feed stops right after that event and returns errc::cancelled
  /// (consumed() says how much was used; feed the rest to go on). A limit breach returns
  /// errc::limit_exceeded and every later feed returns it again, until finish() or reset().
  template <std::invocable<const sse_event&> F>
  result<void> feed(std::string_view bytes, F&& on_event) {
    if (feed_fast(bytes)) {
      return success();
    }
    fast_end_ = 0; // and so it stays if on_event throws
    result<void> r = feed_checked(bytes, on_event);
    update_fast_room();
    return r;
  }

private:
  // Parses each event's data in place, without copying it to a padded buffer.
  friend class event_stream_decoder;

  /// feed's fast path: more bytes of a data line, with room for them under every limit (the case
  /// of a stream read in tiny pieces), taken with one counter and no other check. Returns false,
  /// having changed nothing, when the rest of feed must take `bytes`.
  bool feed_fast(std::string_view bytes) noexcept {
    const std::size_t n = bytes.size();
    if (n == 1) {
      // One byte, the worst case, apart: one compare for CR and LF and a store (a call to
      // memcpy costs more than the byte).
      const char c = bytes.front();
      if (pending_size_ >= fast_end_ || c == '\r' || c == '\n') {
        return false;
      }
      pending_[pending_size_] = c;
      ++pending_size_;
      consumed_ = 1;
      return true;
    }
    // n - 1 < sizeof pending_: 2 to 64 bytes in one compare, which also shows the compiler that
    // the copy below stays inside pending_ (g++ 12 -O2 -Warray-bounds flagged it, in a user's
    // TU, when it knew the feed to be larger than pending_ but not that fast_end_ <= 64).
    if (n - 1 >= sizeof pending_ || pending_size_ + n > fast_end_ || holds_line_end(bytes)) {
      return false;
    }
    std::memcpy(pending_ + pending_size_, bytes.data(), n);
    pending_size_ += n;
    consumed_ = n;
    return true;
  }

  // Out of line: inlined, it made g++ keep the loop counter of a caller feeding one byte at a
  // time in memory.
  template <class F>
  PHRONY_NOINLINE result<void> feed_checked(std::string_view bytes, F& on_event) {
    consumed_ = 0;
    if (failed_) {
      return *failed_;
    }
    if (bytes.size() <= short_feed && bom_matched_ == bom.size() && !after_cr_ &&
        !holds_line_end(bytes)) {
      // A few bytes inside a line (a stream read in tiny pieces) only extend that line: skip
      // the line-end searches, so feeding one byte at a time stays within a small factor of
      // feeding everything at once.
      const std::size_t n = bytes.size();
      if (phase_ == phase::value && kind_ == field_kind::data &&
          data_.size() + pending_size_ + n <= limits_.max_event) {
        // Data bytes gather in pending_ and reach data_ in blocks: std::string's append is
        // an out-of-line call, too dear per byte.
        if (pending_size_ + n > sizeof pending_) {
          flush_pending();
        }
        std::memcpy(pending_ + pending_size_, bytes.data(), n);
        pending_size_ += n;
      } else {
        flush_pending();
        if (auto e = append_to_line(bytes.data(), bytes.data() + n, true)) {
          return fail(std::move(*e));
        }
      }
      consumed_ = n;
      return success();
    }
    flush_pending();
    return feed_lines(bytes, on_event);
  }

  template <class F> result<void> feed_lines(std::string_view bytes, F& on_event) {
    const char* const begin = bytes.data();
    const char* p = begin;
    const char* const end = begin + bytes.size();
    if (bom_matched_ < bom.size() && p != end) {
      // Only the stream's first bytes can be the BOM, and they may come one chunk at a time.
      while (p != end && bom_matched_ < bom.size() && *p == bom[bom_matched_]) {
        ++p;
        ++bom_matched_;
      }
      if (p == end && bom_matched_ < bom.size()) {
        consumed_ = bytes.size();
        return success();
      }
      if (bom_matched_ < bom.size()) {
        // Not a BOM after all: the bytes held back start the first line (they hold no line end).
        const std::size_t held = bom_matched_;
        bom_matched_ = bom.size();
        if (auto e = append_to_line(bom.data(), bom.data() + held, true)) {
          return fail(std::move(*e));
        }
      }
    }
    while (p != end) {
      if (after_cr_) {
        after_cr_ = false;
        if (*p == '\n') {
          ++p; // the LF of a CRLF split across two chunks
          continue;
        }
      }
      // Each byte is scanned once: the scan stops at the line end, and the next starts past it.
      const detail::line_scan line = detail::scan_line(p, end);
      const char* const eol = line.eol;
      if (eol != end && phase_ == phase::name && line_size_ == 0 && data_.empty() &&
          take_inline_data(p, line, end)) {
        // An event of one data line, whole in this chunk: dispatched from the chunk itself.
      } else if (auto e = append_to_line(p, eol, line.first_high != eol)) {
        return fail(std::move(*e));
      }
      if (eol == end) {
        break;
      }
      p = eol + 1;
      if (*eol == '\r') {
        if (p == end) {
          after_cr_ = true;
        } else if (*p == '\n') {
          ++p;
        }
      }
      bool keep_going = true;
      if (auto e = end_line(on_event, keep_going)) {
        return fail(std::move(*e));
      }
      if (!keep_going) {
        consumed_ = static_cast<std::size_t>(p - begin);
        return make_error(errc::cancelled, "", "stopped by the event callback");
      }
    }
    consumed_ = bytes.size();
    return success();
  }

public:
  /// Ends the stream: an unterminated last event is dropped, as the WHATWG spec says. Returns
  /// the error that stopped the stream, if any. The decoder is then ready for the next
  /// connection's stream, keeping the last event ID and reconnection time (as browsers do).
  PHRONY_DECL result<void> finish();

  /// Back to the state of a new decoder (limits kept).
  void reset() { *this = sse_decoder(limits_); }

  /// The last event ID: what a reconnection sends as Last-Event-ID (when not empty). Set when
  /// an event block ends, whether or not it dispatched an event.
  [[nodiscard]] std::string_view last_event_id() const noexcept { return last_event_id_; }
  /// The reconnection time the stream asked for with `retry`, if it did.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }
  /// Bytes the last feed() used: all on success, through the dispatching line end when
  /// cancelled (feed the rest to go on), none when it failed.
  [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
  /// The limits this decoder enforces.
  [[nodiscard]] const sse_limits& limits() const noexcept { return limits_; }

private:
  /// The bytes readable from the start of `data` (an sse_event's data during on_event) when at
  /// least simdjson's padding follows it, else 0.
  [[nodiscard]] std::size_t padded_capacity(std::string_view data) const noexcept {
    std::size_t capacity = 0;
    if (data.data() == inline_data_) {
      capacity = data.size() + inline_room_;
    } else if (data.data() == data_.data()) {
      capacity = data_.capacity();
    }
    return capacity - data.size() >= detail::json_padding ? capacity : 0;
  }

  /// At the start of a line [p, line.eol) whose end is in this chunk (which ends at end): when
  /// the line is `data:` and the next line is empty (so the line is the event's only data line),
  /// notes its value as the event's data, to be dispatched as a view into the chunk (no copy),
  /// and returns true; else false, and nothing changed. The value passes through the same
  /// limit as an appended one; the blank line then dispatches as usual (end_line).
  bool take_inline_data(const char* p, const detail::line_scan& line, const char* end) noexcept {
    const char* const eol = line.eol;
    // Byte compares: g++ calls memcmp for these five bytes, which costs more than the compares.
    if (eol - p < 5 || p[0] != 'd' || p[1] != 'a' || p[2] != 't' || p[3] != 'a' || p[4] != ':') {
      return false;
    }
    const char* next = eol + 1;
    if (*eol == '\r' && next != end && *next == '\n') {
      ++next;
    }
    if (next == end || (*next != '\r' && *next != '\n')) {
      return false; // more data lines may follow, or the chunk ends before we can tell
    }
    const char* value = p + 5;
    if (value != eol && *value == ' ') {
      ++value;
    }
    const auto size = static_cast<std::size_t>(eol - value);
    if (size > limits_.max_event) {
      return false; // append_to_line reports it
    }
    inline_data_ = value;
    inline_size_ = size;
    inline_high_ = line.first_high; // at or past value: "data:" and ' ' are ASCII
    inline_room_ = static_cast<std::size_t>(end - eol);
    kind_ = field_kind::data;
    phase_ = phase::value;
    return true;
  }

  /// `data` decoded as WHATWG UTF-8 (ill-formed sequences replaced), in scratch_.
  PHRONY_DECL std::string_view replace_invalid_utf8(std::string_view data);

  static constexpr std::string_view bom = "\xEF\xBB\xBF";

  enum class phase : std::uint8_t { name, value_start, value };
  enum class field_kind : std::uint8_t { ignored, data, event, id, retry };

  static constexpr std::size_t short_feed = 16;

  /// Sets how far pending_ may fill with no check at all: beyond pending_size_ only inside the
  /// value of a data line, below max_event (the one limit a data line has).
  void update_fast_room() noexcept {
    fast_end_ = 0;
    if (failed_ || bom_matched_ != bom.size() || after_cr_ || phase_ != phase::value ||
        kind_ != field_kind::data) {
      return;
    }
    const std::size_t data = data_.size() + pending_size_;
    if (data >= limits_.max_event) {
      return;
    }
    const std::size_t below_limit = limits_.max_event - data;
    const std::size_t in_buffer = sizeof pending_ - pending_size_;
    fast_end_ = pending_size_ + (below_limit < in_buffer ? below_limit : in_buffer);
  }

  void flush_pending() {
    if (pending_size_ != 0) {
      data_.append(pending_, pending_size_);
      data_high_ = true;           // not scanned: validated at dispatch
      line_size_ += pending_size_; // counted here, not per byte
      pending_size_ = 0;
    }
  }

  // Default-initialised, not value-initialised as `return {}` would be: that zeroes the whole
  // (large, disengaged) error on every call, which a feed of one byte cannot afford.
  static result<void> success() noexcept {
    result<void> ok;
    return ok;
  }

  static bool holds_line_end(std::string_view bytes) noexcept {
    bool found = false;
    for (const char c : bytes) {
      found |= (c == '\r') | (c == '\n');
    }
    return found;
  }

  static const char* find(const char* p, const char* end, char c) noexcept {
    const void* hit = std::memchr(p, c, static_cast<std::size_t>(end - p));
    return hit != nullptr ? static_cast<const char*>(hit) : end;
  }

  PHRONY_DECL error fail(error e);

  PHRONY_DECL void start_stream();

  void clear_line() {
    phase_ = phase::name;
    kind_ = field_kind::ignored;
    name_size_ = 0;
    line_size_ = 0;
    value_.clear();
  }

  [[nodiscard]] field_kind classify() const noexcept {
    if (name_size_ > sizeof name_) {
      return field_kind::ignored;
    }
    const std::string_view name(name_, name_size_);
    if (name == "data") return field_kind::data;
    if (name == "event") return field_kind::event;
    if (name == "id") return field_kind::id;
    if (name == "retry") return field_kind::retry;
    return field_kind::ignored;
  }

  /// Takes the bytes [p, e) of the current line (no line end among them); `high`: they may hold
  /// a byte >= 0x80.
  [[nodiscard]] PHRONY_DECL std::optional<error> append_to_line(const char* p, const char* e,
                                                                bool high);

  /// True while the name read so far (no colon yet) could still be "data": a line "data" with
  /// no colon is a data line too, and max_line does not bound data lines.
  [[nodiscard]] bool may_name_data() const noexcept {
    return name_size_ <= 4 &&
           std::string_view(name_, name_size_) == std::string_view("data").substr(0, name_size_);
  }

  [[nodiscard]] PHRONY_DECL error line_too_long() const;

  [[nodiscard]] PHRONY_DECL error event_too_large() const;

  /// Processes the line just ended; keep_going turns false when on_event asks to stop.
  template <class F> [[nodiscard]] std::optional<error> end_line(F& on_event, bool& keep_going) {
    if (phase_ == phase::name) {
      if (line_size_ == 0) {
        clear_line();
        keep_going = dispatch(on_event);
        return {};
      }
      // No colon: the whole line is the field name and the value is empty.
      kind_ = classify();
      if (kind_ != field_kind::data && line_size_ > limits_.max_line) {
        return line_too_long();
      }
    }
    switch (kind_) {
    case field_kind::data:
      if (inline_data_ != nullptr) {
        break; // take_inline_data: the next line is empty and dispatches it
      }
      if (data_.size() > limits_.max_event) {
        return event_too_large();
      }
      data_ += '\n';
      break;
    case field_kind::event: detail::assign_utf8_replacing(value_, type_); break;
    case field_kind::id:
      if (value_.find('\0') == std::string::npos) {
        detail::assign_utf8_replacing(value_, id_buffer_);
        id_changed_ = true;
      }
      break;
    case field_kind::retry: set_retry(); break;
    case field_kind::ignored: break;
    }
    clear_line();
    return {};
  }

  PHRONY_DECL void set_retry();

  /// The WHATWG "dispatch the event" steps; returns what on_event returned (true for void).
  template <class F> [[nodiscard]] bool dispatch(F& on_event) {
    if (id_changed_) {
      last_event_id_ = id_buffer_;
      id_changed_ = false;
    }
    if (data_.empty() && inline_data_ == nullptr) {
      type_.clear();
      return true;
    }
    // Clears the buffers even when on_event throws, so the next event starts clean.
    struct clear_on_exit {
      sse_decoder& d;
      ~clear_on_exit() {
        d.data_.clear();
        d.data_high_ = false;
        d.type_.clear();
        d.inline_data_ = nullptr;
      }
    } guard{*this};
    std::string_view data;
    std::string_view unchecked; // the part of data that may hold a byte >= 0x80
    if (inline_data_ != nullptr) {
      data = std::string_view(inline_data_, inline_size_);
      unchecked = data.substr(static_cast<std::size_t>(inline_high_ - inline_data_));
    } else {
      data_.pop_back(); // every data line appended an LF; the last one is not part of the data
      // Grows with the largest event only, and lets event_stream_decoder parse in place.
      data_.reserve(data_.size() + detail::json_padding);
      data = data_;
      if (data_high_) {
        unchecked = data;
      }
    }
    // An ASCII prefix is valid UTF-8 on its own and cannot end inside a sequence: what follows
    // it decides.
    if (!defer_utf8_ && !unchecked.empty() && !is_valid_utf8(unchecked)) {
      data = replace_invalid_utf8(data);
    }
    const sse_event ev{type_.empty() ? std::string_view("message") : std::string_view(type_), data,
                       last_event_id_};
    using ret = std::invoke_result_t<F&, const sse_event&>;
    if constexpr (std::is_void_v<ret>) {
      std::invoke(on_event, ev);
      return true;
    } else {
      return static_cast<bool>(std::invoke(on_event, ev));
    }
  }

  sse_limits limits_;
  std::optional<error> failed_;
  std::size_t consumed_ = 0;

  // The stream's state.
  std::size_t bom_matched_ = 0; // == bom.size() once past the BOM or sure there is none
  bool after_cr_ = false;       // the last chunk ended with CR: an LF next is that line's end

  // The current line.
  phase phase_ = phase::name;
  field_kind kind_ = field_kind::ignored;
  char name_[5] = {}; // long enough for "retry" and "event"
  std::size_t name_size_ = 0;
  std::size_t line_size_ = 0;
  std::string value_; // of an event, id or retry line (data goes straight to data_)

  // The WHATWG buffers.
  std::string data_;
  bool data_high_ = false; // data_ may hold a byte >= 0x80 (else it is ASCII: valid UTF-8)
  std::string type_;
  std::string id_buffer_;
  bool id_changed_ = false;
  // Set by event_stream_decoder, which parses every event's data with simdjson (its stage 1
  // validates UTF-8 anyway) and replaces ill-formed UTF-8 itself when that parse fails.
  bool defer_utf8_ = false;
  std::string last_event_id_;
  std::optional<std::chrono::milliseconds> retry_;
  // The data of an event with one data line whole in the chunk being fed (take_inline_data):
  // the value's start in the chunk, its size, and the chunk's bytes from the value's end on.
  const char* inline_data_ = nullptr;
  std::size_t inline_size_ = 0;
  const char* inline_high_ = nullptr; // its first byte >= 0x80, or its end
  std::size_t inline_room_ = 0;
  std::string scratch_;   // data with invalid UTF-8 replaced
  char pending_[64] = {}; // data bytes of short feeds not yet appended to data_
  std::size_t pending_size_ = 0;
  std::size_t fast_end_ = 0; // see update_fast_room
};

/// The longest reconnect_delay returns by default, whatever the stream's `retry` says: a
/// server's `retry: 9999999999999` must not park its client for centuries.
inline constexpr std::chrono::milliseconds default_max_reconnect_delay{30'000};

/// How long to wait before reconnecting: the stream's `retry`, else `fallback`, capped at `max`
/// (the cap holds for the fallback too) and never negative.
[[nodiscard]] PHRONY_DECL std::chrono::milliseconds
reconnect_delay(const sse_decoder& d, std::chrono::milliseconds fallback,
                std::chrono::milliseconds max = default_max_reconnect_delay) noexcept;

/// The Last-Event-ID to send when reconnecting, or nullopt when there is none (WHATWG sends the
/// header only for a non-empty ID). An ID that detail::is_sendable_last_event_id refuses (a
/// control character, or longer than detail::max_last_event_id) is dropped, not sent: the stream
/// resumes as if it had sent no ID, so a hostile server can neither inject header bytes nor
/// make the reconnect request fail.
[[nodiscard]] PHRONY_DECL std::optional<std::string> reconnect_last_event_id(const sse_decoder& d);

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).
#include <algorithm>
#include <bit>

#include "phrony/detail/simd.hpp"

namespace phrony::detail {

PHRONY_DECL void append_utf8_replacing(std::string_view in, std::string& out) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = i;
    while (i < n && s[i] < 0x80) {
      ++i;
    }
    out.append(in.data() + run, i - run);
    if (i == n) {
      break;
    }
    const unsigned char lead = s[i];
    std::size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      lo = lead == 0xE0 ? 0xA0 : 0x80; // no overlong forms
      hi = lead == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      lo = lead == 0xF0 ? 0x90 : 0x80;
      hi = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
      out += replacement;
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    std::size_t got = 0;
    while (got < need && j < n && s[j] >= lo && s[j] <= hi) {
      lo = 0x80;
      hi = 0xBF;
      ++j;
      ++got;
    }
    if (got == need) {
      out.append(in.data() + i, j - i);
    } else {
      // The byte that broke the sequence is not consumed: the decoder looks at it afresh.
      out += replacement;
    }
    i = j;
  }
}

PHRONY_DECL void assign_utf8_replacing(std::string_view in, std::string& out) {
  if (is_valid_utf8(in)) {
    out.assign(in);
    return;
  }
  out.clear();
  append_utf8_replacing(in, out);
}

PHRONY_DECL line_scan scan_line(const char* p, const char* const end) noexcept {
  const char* high = nullptr;
#if defined(PHRONY_SIMD_AVX2) || defined(PHRONY_SIMD_SSE2) || defined(PHRONY_SIMD_NEON)
  // Whole blocks first, as `lane`-byte vectors. Each platform gives the vector operations;
  // high_bytes(b) sets the top bit of each byte >= 0x80, and mask(v) gives bits_per_byte bits for
  // each byte of v whose top bit is set (NEON has no movemask: 4 bits a byte).
#if defined(PHRONY_SIMD_AVX2)
  using vec = __m256i;
  constexpr int block = 64;
  constexpr int lane = 32;
  constexpr int bits_per_byte = 1;
  const auto load = [](const char* q) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  };
  const auto splat = [](char c) { return _mm256_set1_epi8(c); };
  const auto equal = [](vec x, vec y) { return _mm256_cmpeq_epi8(x, y); };
  const auto either = [](vec x, vec y) { return _mm256_or_si256(x, y); };
  const auto high_bytes = [](vec b) { return b; }; // a byte >= 0x80 has its top bit set
  // Signed bytes below 14: the controls up to CR and every byte >= 0x80, in one compare.
  const auto low_or_high = [](vec b) { return _mm256_cmpgt_epi8(_mm256_set1_epi8(14), b); };
  const auto mask = [](vec v) {
    return std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(v))};
  };
#elif defined(PHRONY_SIMD_SSE2)
  using vec = __m128i;
  constexpr int block = 64;
  constexpr int lane = 16;
  constexpr int bits_per_byte = 1;
  const auto load = [](const char* q) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  };
  const auto splat = [](char c) { return _mm_set1_epi8(c); };
  const auto equal = [](vec x, vec y) { return _mm_cmpeq_epi8(x, y); };
  const auto either = [](vec x, vec y) { return _mm_or_si128(x, y); };
  const auto high_bytes = [](vec b) { return b; }; // a byte >= 0x80 has its top bit set
  const auto low_or_high = [](vec b) { return _mm_cmplt_epi8(b, _mm_set1_epi8(14)); };
  const auto mask = [](vec v) {
    return std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(v))};
  };
#else
  using vec = uint8x16_t;
  constexpr int block = 16;
  constexpr int lane = 16;
  constexpr int bits_per_byte = 4;
  const auto load = [](const char* q) {
    return vld1q_u8(reinterpret_cast<const std::uint8_t*>(q));
  };
  const auto splat = [](char c) { return vdupq_n_u8(static_cast<std::uint8_t>(c)); };
  const auto equal = [](vec x, vec y) { return vceqq_u8(x, y); };
  const auto either = [](vec x, vec y) { return vorrq_u8(x, y); };
  const auto high_bytes = [](vec b) { return vcgeq_u8(b, vdupq_n_u8(0x80)); };
  const auto low_or_high = [](vec b) { return vcltq_s8(vreinterpretq_s8_u8(b), vdupq_n_s8(14)); };
  // Shifting each 16-bit lane right by 4 and narrowing keeps 4 bits of every byte (0x0 or 0xf).
  const auto mask = [](vec v) {
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(v), 4)), 0);
  };
#endif
  const vec cr = splat('\r');
  const vec lf = splat('\n');
  const auto line_ends = [&](vec b) { return either(equal(b, cr), equal(b, lf)); };
  // marked(q): the block at q may hold a CR, an LF or a byte >= 0x80, in one compare a lane: it
  // holds a byte that is one of them or another control up to CR (a tab, rarely seen; the exact
  // tests below then find neither and the scan goes on). ends(q) and highs(q): the bits of its
  // line ends, and of its bytes >= 0x80.
  const auto marked = [&](const char* q) {
    vec any = low_or_high(load(q));
    for (int i = 1; i < block / lane; ++i) {
      any = either(any, low_or_high(load(q + lane * i)));
    }
    return mask(any) != 0;
  };
  const auto bits = [&](const char* q, const auto& pick) {
    std::uint64_t m = 0;
    for (int i = 0; i < block / lane; ++i) {
      m |= mask(pick(load(q + lane * i))) << (lane * bits_per_byte * i);
    }
    return m;
  };
  const auto ends = [&](const char* q) { return bits(q, line_ends); };
  const auto highs = [&](const char* q) { return bits(q, high_bytes); };
  const auto at = [&](std::uint64_t m) { return p + std::countr_zero(m) / bits_per_byte; };
  for (; end - p >= block; p += block) {
    if (!marked(p)) {
      continue;
    }
    const std::uint64_t h = highs(p);
    high = h != 0 ? at(h) : nullptr;
    if (const std::uint64_t e = ends(p); e != 0) {
      const char* const line_end = at(e);
      return {line_end, high != nullptr && high < line_end ? high : line_end};
    }
    if (high == nullptr) {
      continue; // another control byte
    }
    // A byte >= 0x80 and no line end: from here on only the line end is looked for.
    for (p += block; end - p >= block; p += block) {
      if (const std::uint64_t e2 = ends(p); e2 != 0) {
        return {at(e2), high};
      }
    }
    break;
  }
#endif
  for (; p != end && *p != '\r' && *p != '\n'; ++p) {
    if (high == nullptr && static_cast<unsigned char>(*p) >= 0x80) {
      high = p;
    }
  }
  return {p, high != nullptr ? high : p};
}

} // namespace phrony::detail

namespace phrony {

PHRONY_DECL result<void> sse_decoder::finish() {
  std::optional<error> failed = std::move(failed_);
  failed_.reset();
  start_stream();
  if (failed) {
    return std::move(*failed);
  }
  return {};
}

PHRONY_DECL std::string_view sse_decoder::replace_invalid_utf8(std::string_view data) {
  scratch_.clear();
  detail::append_utf8_replacing(data, scratch_);
  return scratch_;
}

PHRONY_DECL error sse_decoder::fail(error e) {
  failed_ = e;
  return e;
}

PHRONY_DECL void sse_decoder::start_stream() {
  pending_size_ = 0;
  fast_end_ = 0;
  inline_data_ = nullptr;
  data_high_ = false;
  bom_matched_ = 0;
  after_cr_ = false;
  clear_line();
  data_.clear();
  type_.clear();
  // An id line in a block that never ended did not count (WHATWG sets the last event ID only
  // when a block ends).
  id_buffer_ = last_event_id_;
  id_changed_ = false;
}

PHRONY_DECL std::optional<error> sse_decoder::append_to_line(const char* p, const char* e,
                                                             bool high) {
  if (p == e) {
    return {};
  }
  const auto n = static_cast<std::size_t>(e - p);
  line_size_ += n;
  if (phase_ == phase::name) {
    const char* colon = find(p, e, ':');
    const auto k = static_cast<std::size_t>(colon - p);
    if (name_size_ < sizeof name_) {
      std::memcpy(name_ + name_size_, p, std::min(k, sizeof name_ - name_size_));
    }
    name_size_ += k; // past sizeof name_, the name is no field we know
    if (colon == e) {
      if (line_size_ > limits_.max_line && !may_name_data()) {
        return line_too_long();
      }
      return {};
    }
    // A line that starts with a colon is a comment: the empty name matches nothing.
    kind_ = classify();
    phase_ = phase::value_start;
    p = colon + 1;
  }
  if (kind_ != field_kind::data && line_size_ > limits_.max_line) {
    return line_too_long();
  }
  if (phase_ == phase::value_start && p != e) {
    if (*p == ' ') {
      ++p;
    }
    phase_ = phase::value;
  }
  switch (kind_) {
  case field_kind::data:
    if (data_.size() + static_cast<std::size_t>(e - p) > limits_.max_event) {
      return event_too_large();
    }
    data_.append(p, static_cast<std::size_t>(e - p));
    data_high_ = data_high_ || high;
    break;
  case field_kind::event:
  case field_kind::id:
  case field_kind::retry: value_.append(p, static_cast<std::size_t>(e - p)); break;
  case field_kind::ignored: break;
  }
  return {};
}

PHRONY_DECL error sse_decoder::line_too_long() const {
  return make_error(errc::limit_exceeded, "",
                    "SSE line (not data) longer than " + std::to_string(limits_.max_line) +
                        " bytes");
}

PHRONY_DECL error sse_decoder::event_too_large() const {
  return make_error(errc::limit_exceeded, "",
                    "SSE event data longer than " + std::to_string(limits_.max_event) + " bytes");
}

PHRONY_DECL void sse_decoder::set_retry() {
  if (value_.empty()) {
    return;
  }
  using rep = std::chrono::milliseconds::rep;
  constexpr rep most = std::numeric_limits<rep>::max();
  rep ms = 0;
  for (const char c : value_) {
    if (c < '0' || c > '9') {
      return;
    }
    const rep digit = c - '0';
    // An absurd value saturates rather than wrapping to something short.
    ms = ms > (most - digit) / 10 ? most : ms * 10 + digit;
  }
  retry_ = std::chrono::milliseconds(ms);
}

PHRONY_DECL std::chrono::milliseconds reconnect_delay(const sse_decoder& d,
                                                      std::chrono::milliseconds fallback,
                                                      std::chrono::milliseconds max) noexcept {
  const std::chrono::milliseconds wait = std::min(d.retry().value_or(fallback), max);
  return std::max(wait, std::chrono::milliseconds::zero());
}

PHRONY_DECL std::optional<std::string> reconnect_last_event_id(const sse_decoder& d) {
  if (d.last_event_id().empty() || !detail::is_sendable_last_event_id(d.last_event_id())) {
    return std::nullopt;
  }
  return std::string(d.last_event_id());
}

} // namespace phrony
#endif
