// Fuzzes json_writer: the input is a little program (one op byte, then its operands) that builds
// a document of strings, keys, numbers, literals and nested arrays/objects. Invariants: a string
// or key that is not valid UTF-8, or a non-finite double, makes the writer fail with
// invalid_argument instead of writing it; otherwise the text parses with simdjson and gives back
// the same keys, strings and numbers, in order.
#include <phrony/json_writer.hpp>

#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using phrony_fuzz::check;

// What the document holds, in document order, as the writer was told it.
struct token {
  enum kind_t { key, string, int64, uint64, real, boolean, null, open_object, open_array, close };
  kind_t kind;
  std::string text;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;
};

struct reader {
  std::string_view in;
  bool empty() const { return in.empty(); }
  std::uint8_t byte() {
    if (in.empty()) {
      return 0;
    }
    const auto b = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return b;
  }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, in.size());
    const auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
  template <class T> T pod() {
    T v{};
    const auto s = bytes(sizeof v);
    std::memcpy(&v, s.data(), s.size());
    return v;
  }
};

// Flattens a parsed document to the same token list.
void flatten(simdjson::dom::element e, std::vector<token>& out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
  case element_type::OBJECT: {
    out.push_back({token::open_object, {}});
    // The object and array are copied out first: value_unsafe() refers into the temporary result.
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (const auto field : object) {
      out.push_back({token::key, std::string(field.key)});
      flatten(field.value, out);
    }
    out.push_back({token::close, {}});
    break;
  }
  case element_type::ARRAY: {
    out.push_back({token::open_array, {}});
    const simdjson::dom::array array = e.get_array().value_unsafe();
    for (const auto v : array) {
      flatten(v, out);
    }
    out.push_back({token::close, {}});
    break;
  }
  case element_type::STRING:
    out.push_back({token::string, std::string(e.get_string().value_unsafe())});
    break;
  case element_type::INT64: {
    token t{token::int64, {}};
    t.i = e.get_int64().value_unsafe();
    out.push_back(t);
    break;
  }
  case element_type::UINT64: {
    token t{token::uint64, {}};
    t.u = e.get_uint64().value_unsafe();
    out.push_back(t);
    break;
  }
  case element_type::DOUBLE: {
    token t{token::real, {}};
    t.d = e.get_double().value_unsafe();
    out.push_back(t);
    break;
  }
  case element_type::BOOL: {
    token t{token::boolean, {}};
    t.b = e.get_bool().value_unsafe();
    out.push_back(t);
    break;
  }
  case element_type::NULL_VALUE: out.push_back({token::null, {}}); break;
  }
}

// A number as written and as read back: the writer picks the shortest form, so 3.0 comes back as
// the integer 3 and a whole double past 2^63 may come back as an unsigned integer.
bool same_number(const token& want, const token& got) {
  if (want.kind == token::int64 && got.kind == token::int64) {
    return want.i == got.i;
  }
  if (want.kind == token::uint64 && (got.kind == token::uint64 || got.kind == token::int64)) {
    return got.kind == token::uint64 ? want.u == got.u
                                     : got.i >= 0 && want.u == static_cast<std::uint64_t>(got.i);
  }
  if (want.kind != token::real) {
    return false;
  }
  const double back = got.kind == token::real     ? got.d
                      : got.kind == token::int64  ? static_cast<double>(got.i)
                      : got.kind == token::uint64 ? static_cast<double>(got.u)
                                                  : NAN;
  return back == want.d; // to_chars' shortest form reads back exactly
}

bool same(const token& want, const token& got) {
  switch (want.kind) {
  case token::int64:
  case token::uint64:
  case token::real: return same_number(want, got);
  case token::key:
  case token::string: return got.kind == want.kind && got.text == want.text;
  case token::boolean: return got.kind == token::boolean && got.b == want.b;
  default: return got.kind == want.kind;
  }
}

// Known writer bug (reported to the lead with a fix; json_writer.hpp is not ours to edit): a whole
// double past the int64/uint64 range, e.g. 2^64, is printed as a 20-digit integer that simdjson
// rejects. While the writer still does that, such doubles are left out (written as null) so the
// campaign can look for other bugs; once fixed, this turns itself off and they are checked too.
const bool big_whole_doubles_broken = [] {
  phrony::json_writer w;
  w.value(18446744073709551616.0);
  return w.str() == "18446744073709551616";
}();

bool skipped_double(double d) {
  return big_whole_doubles_broken && std::isfinite(d) && d == std::trunc(d) &&
         (d >= 18446744073709551616.0 || d < -9223372036854775808.0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in{std::string_view(reinterpret_cast<const char*>(data), size)};
  phrony::json_writer w;
  std::vector<token> want;
  std::vector<bool> in_object; // one entry per open container
  bool bad = false;            // a value the writer must refuse was given

  const auto write_string = [&](token::kind_t kind) {
    const std::string_view s = in.bytes(in.byte());
    bad = bad || !phrony::is_valid_utf8(s);
    if (kind == token::key) {
      w.key(s);
    } else {
      w.value(s);
    }
    want.push_back({kind, std::string(s)});
  };

  // Writes one value (a container is opened and left for later ops to fill and close).
  const auto write_value = [&](std::uint8_t op) {
    token t{token::null, {}};
    switch (op % 9) {
    case 0:
      w.begin_object();
      in_object.push_back(true);
      want.push_back({token::open_object, {}});
      return;
    case 1:
      w.begin_array();
      in_object.push_back(false);
      want.push_back({token::open_array, {}});
      return;
    case 2:
    case 3: write_string(token::string); return;
    case 4:
      t.kind = token::int64;
      t.i = in.pod<std::int64_t>();
      w.value(t.i);
      break;
    case 5:
      t.kind = token::uint64;
      t.u = in.pod<std::uint64_t>();
      w.value(t.u);
      break;
    case 6:
      t.d = in.pod<double>();
      if (skipped_double(t.d)) {
        w.null();
        break; // t stays a null token
      }
      t.kind = token::real;
      bad = bad || !std::isfinite(t.d);
      w.value(t.d);
      break;
    case 7:
      t.kind = token::boolean;
      t.b = (in.byte() & 1) != 0;
      w.value(t.b);
      break;
    default: w.null(); break;
    }
    want.push_back(t);
  };

  write_value(in.byte() % 2 == 0 ? 0 : 1); // the root is a container, so ops can fill it
  while (!in.empty() && !in_object.empty()) {
    const std::uint8_t op = in.byte();
    if (op >= 0xF0 || (in_object.size() > 64 && op % 9 < 2)) {
      (in_object.back() ? w.end_object() : w.end_array());
      in_object.pop_back();
      want.push_back({token::close, {}});
      continue;
    }
    if (in_object.back()) {
      write_string(token::key);
    }
    write_value(op);
  }
  while (!in_object.empty()) {
    (in_object.back() ? w.end_object() : w.end_array());
    in_object.pop_back();
    want.push_back({token::close, {}});
  }

  check(w.ok() == !bad, "the writer fails exactly when given invalid UTF-8 or a non-finite number");
  auto taken = std::move(w).take();
  if (bad) {
    check(!taken && taken.error().code == phrony::errc::invalid_argument,
          "a refused value is an invalid_argument error");
    return 0;
  }
  check(taken.has_value(), "take() gives the text");
  const std::string& text = *taken;
  check(phrony::is_valid_utf8(text), "the text is valid UTF-8");

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto ec = parser.parse(text).get(root);
  if (ec) {
    std::fprintf(stderr, "simdjson: %s\ntext: %s\n", simdjson::error_message(ec), text.c_str());
  }
  check(!ec, "written JSON parses");
  std::vector<token> got;
  flatten(root, got);
  check(got.size() == want.size(), "as many tokens come back as were written");
  for (std::size_t i = 0; i < want.size(); ++i) {
    check(same(want[i], got[i]), "the same keys, strings and numbers come back");
  }
  return 0;
}
