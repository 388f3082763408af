// The nlohmann::json side of the fuzz targets' oracle (json_oracle.hpp), compiled once.
#include "json_oracle.hpp"

#if PHRONY_FUZZ_ORACLE

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"

namespace phrony_fuzz {
namespace {

/// What nlohmann::json's SAX parser saw of a body: whether it is JSON, and, when it is not,
/// which values (as JSON Pointers) it had started and which containers it had closed before
/// the error, so a phrony error found earlier in document order can be told from a bad verdict.
class oracle_trace : public nlohmann::json_sax<nlohmann::json> {
public:
  bool accepted = false;
  int error_id = 0; ///< nlohmann's exception id: 101 parse error, 406 number overflow ...
  std::size_t max_depth = 0;
  std::vector<std::string> started; ///< pointers of values begun (scalars: read whole)
  std::vector<std::string> closed;  ///< pointers of containers closed
  /// Per object, its pointer and the keys seen twice (for the duplicate-"type" rule).
  std::vector<std::string> duplicate_type_at;

  static oracle_trace of(std::string_view body) {
    oracle_trace t;
    t.accepted = nlohmann::json::sax_parse(body.begin(), body.end(), &t,
                                           nlohmann::json::input_format_t::json, true, false);
    return t;
  }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    expecting_value_ = true;
    auto& f = frames_.back();
    f.key = k; // first, so pointer_of names this key ("/items/2/type"), not the one before it
    if (k == "type") {
      if (f.has_type) {
        duplicate_type_at.push_back(pointer_of(frames_.size()));
      }
      f.has_type = true;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_id = e.id;
    if (expecting_value_) {
      failed_value = current();
    }
    return false;
  }
  /// The pointer of the value whose text nlohmann failed to read, if it failed inside one.
  std::optional<std::string> failed_value;

private:
  struct frame {
    bool is_array = false;
    std::size_t index = 0;
    std::string key;
    bool has_type = false;
  };

  /// The pointer of the value now starting inside the first `n` frames.
  std::string pointer_of(std::size_t n) const {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
      out += '/';
      if (frames_[i].is_array) {
        out += std::to_string(frames_[i].index);
        continue;
      }
      for (const char c : frames_[i].key) {
        out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
      }
    }
    return out;
  }
  std::string current() const { return pointer_of(frames_.size()); }
  void advance() {
    expecting_value_ = !frames_.empty() && frames_.back().is_array;
    if (expecting_value_) {
      ++frames_.back().index;
    }
  }
  bool value() {
    started.push_back(current());
    advance();
    return true;
  }
  bool open(bool is_array) {
    started.push_back(current());
    frames_.push_back(frame{is_array, 0, {}, false});
    expecting_value_ = is_array;
    max_depth = std::max(max_depth, frames_.size());
    return true;
  }
  bool close() {
    frames_.pop_back();
    closed.push_back(current());
    advance();
    return true;
  }

  std::vector<frame> frames_;
  bool expecting_value_ = true; ///< the next token is a value (not a key, comma or bracket)
};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v) {
    if (x == s) {
      return true;
    }
  }
  return false;
}

/// The JSON Pointer of the object holding the member `pointer` names ("" for the root).
std::string_view parent_of(std::string_view pointer) {
  const auto slash = pointer.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : pointer.substr(0, slash);
}

} // namespace

void agree_with_oracle(std::string_view body, const phrony::error* err, oracle_rules rules) {
  using phrony::errc;
  // The plain verdict first (fast); the trace only when the verdicts need explaining.
  // Difference of nlohmann's, not phrony's: its lexer takes a NUL byte for the end of the input,
  // so "1\0x" is JSON to it. A raw NUL is JSON nowhere (RFC 8259: not between tokens, not in a
  // string), so a body holding one is not JSON.
  const bool has_nul = body.find('\0') != std::string_view::npos;
  const bool nlohmann_accepts = nlohmann::json::accept(body.begin(), body.end());
  const bool accepted = nlohmann_accepts && !has_nul;
  if (accepted ? err == nullptr || err->code != errc::invalid_json
               : err != nullptr && err->code == errc::invalid_json) {
    return;
  }
  const auto t = oracle_trace::of(body);
  check(t.accepted == nlohmann_accepts, "nlohmann's accept and sax_parse agree");
  const auto blank = [&] {
    for (const char c : body) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return false;
      }
    }
    return true;
  };
  if (t.accepted) {
    if (err == nullptr || err->code != errc::invalid_json) {
      return;
    }
    // Difference: nlohmann skips a UTF-8 byte order mark before the value (RFC 8259 lets a
    // parser ignore one); phrony refuses it, as the API never sends one.
    if (body.starts_with("\xEF\xBB\xBF") && err->path.empty()) {
      return;
    }
    // Difference: a second "type" in a timeline item.
    if (rules.duplicate_item_type_refused && err->message == "duplicate key" &&
        contains(t.duplicate_type_at, err->path)) {
      return;
    }
    std::fprintf(stderr, "oracle: nlohmann accepts, phrony says invalid_json at '%s': %s\n",
                 err->path.c_str(), err->message.c_str());
    check(false, "phrony's invalid_json agrees with nlohmann::json (accepted)");
  }
  if (err == nullptr) {
    if (rules.empty_body_ok && blank()) {
      return; // difference: tolerant parse_accept of an empty body
    }
    std::fprintf(stderr, "oracle: nlohmann rejects (id %d), phrony parses\n", t.error_id);
    check(false, "a body phrony parses is JSON to nlohmann::json");
  }
  switch (err->code) {
  case errc::invalid_json: return;
  case errc::wrong_type:
  case errc::out_of_range:
    // Phrony reads in document order and stops at the first problem: a value of the wrong type
    // (or range) that nlohmann read whole before the malformed byte.
    if (contains(t.started, err->path)) {
      return;
    }
    // Difference: phrony types a value by its first byte, so a string where an object or number
    // belongs is wrong_type without its escapes being read ("session":"\ud800"); nlohmann
    // fails inside that very value.
    if (err->code == errc::wrong_type && t.failed_value == err->path) {
      return;
    }
    // Difference: a number beyond double's range (1e400) is out_of_range to phrony and no
    // number (406) to nlohmann.
    if (err->code == errc::out_of_range && t.error_id == 406) {
      return;
    }
    break;
  case errc::missing_field:
    // The object lacking the field was read to its end before the malformed byte.
    if (contains(t.closed, parent_of(err->path))) {
      return;
    }
    break;
  case errc::limit_exceeded:
    // Nesting deeper than phrony's max_json_depth, before the malformed byte.
    if (t.max_depth > 256) {
      return;
    }
    break;
  default: break;
  }
  std::fprintf(stderr, "oracle: nlohmann rejects (id %d), phrony says %s at '%s': %s\n", t.error_id,
               std::string(phrony::to_string(err->code)).c_str(), err->path.c_str(),
               err->message.c_str());
  check(false, "phrony's error on a malformed body is invalid_json or an earlier one");
}

} // namespace phrony_fuzz

#endif
