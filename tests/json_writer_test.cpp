#include <phrony/json_writer.hpp>

#include <phrony/phrony.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace json_writer_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using namespace std::string_literals;

namespace {

namespace od = simdjson::ondemand;

// Reads `json` (an object {"<key>": "<value>"}) back with simdjson, independently of the writer.
struct read_back {
  bool ok = false;
  std::string key;
  std::string value;
};

read_back read_pair(const std::string& json) {
  read_back out;
  od::parser parser;
  const simdjson::padded_string padded(json);
  od::document doc;
  if (parser.iterate(padded).get(doc)) {
    return out;
  }
  od::object obj;
  if (doc.get_object().get(obj)) {
    return out;
  }
  for (auto field : obj) {
    std::string_view k;
    std::string_view v;
    if (field.unescaped_key().get(k) || field.value().get_string().get(v)) {
      return out;
    }
    out.key = std::string(k);
    out.value = std::string(v);
    out.ok = true;
  }
  return out;
}

std::string write_pair(std::string_view k, std::string_view v) {
  json_writer w;
  w.begin_object().key(k).value(v).end_object();
  return std::move(w).take().value();
}

} // namespace

TEST_CASE(
    "strings with every control character, quotes and non-ASCII round-trip through simdjson") {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) {
    controls += static_cast<char>(c);
  }
  const std::string samples[] = {
      "",
      controls,
      "\"",
      "\\",
      "\\\"",
      "/ </script>",
      "\x7f",
      "é ü ß",
      "中文テキスト",
      "😀 𝄞 \xf4\x8f\xbf\xbf",     // 4-byte UTF-8, U+10FFFF included
      "\xe2\x80\xa8\xe2\x80\xa9", // U+2028 and U+2029 are valid raw inside JSON strings
      "\xef\xbb\xbf bom",
      "C:\\path\\to\\file\n\ttab \"quoted\"",
      "nul \0 inside"s,
      controls + "\"\\😀" + controls,
  };
  for (const auto& s : samples) {
    CAPTURE(s);
    const std::string json = write_pair(s, s);
    const auto back = read_pair(json);
    REQUIRE(back.ok);
    CHECK(back.key == s);
    CHECK(back.value == s);
  }
  for (int c = 0; c < 0x80; ++c) {
    const std::string one(1, static_cast<char>(c));
    CAPTURE(c);
    const auto back = read_pair(write_pair("k", one));
    REQUIRE(back.ok);
    CHECK(back.value == one);
  }
}

TEST_CASE("escapes use the short forms where JSON has them and \\u00XX otherwise") {
  struct row {
    std::string in;
    std::string_view want;
  };
  const row rows[] = {
      {"\n", R"("\n")"},       {"\r", R"("\r")"},
      {"\t", R"("\t")"},       {"\b", R"("\b")"},
      {"\f", R"("\f")"},       {"\"", R"("\"")"},
      {"\\", R"("\\")"},       {"\0"s, R"("\u0000")"},
      {"\x01", R"("\u0001")"}, {"\x1b[32m", R"("\u001b[32m")"},
      {"\x1f", R"("\u001f")"}, {"/", R"("/")"},
      {"\x7f", "\"\x7f\""},    {"ü😀", "\"ü😀\""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    json_writer w;
    w.value(r.in);
    CHECK(std::move(w).take().value() == r.want);
  }
}

TEST_CASE("invalid UTF-8 in a string or key is invalid_argument, not bad output") {
  const std::string bad[] = {
      "\xff",
      "\xc3",             // cut after the lead byte
      "a\x80z",           // lone continuation byte
      "\xc0\xaf",         // overlong '/'
      "\xe0\x80\xaf",     // overlong, three bytes
      "\xed\xa0\x80",     // UTF-16 surrogate
      "\xf4\x90\x80\x80", // above U+10FFFF
      "\xf8\x88\x80\x80\x80",
      "ok \xe2\x82",
  };
  for (const auto& s : bad) {
    CAPTURE(s);
    json_writer as_value;
    as_value.begin_object().key("k").value(s).end_object();
    CHECK_FALSE(as_value.ok());
    const auto v = std::move(as_value).take();
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code == errc::invalid_argument);

    json_writer as_key;
    as_key.begin_object().key(s).value(1).end_object();
    const auto k = std::move(as_key).take();
    REQUIRE_FALSE(k.has_value());
    CHECK(k.error().code == errc::invalid_argument);
  }
}

TEST_CASE("non-finite numbers are rejected; finite ones round-trip") {
  for (double d :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    json_writer w;
    w.begin_array().value(d).end_array();
    const auto got = std::move(w).take();
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
  }
  for (double d :
       {0.0, 0.1, -2.5, 1e300, 5e-324, 123456789.125, 1e21, std::numeric_limits<double>::max()}) {
    CAPTURE(d);
    json_writer w;
    w.value(d);
    const std::string text = std::move(w).take().value();
    od::parser parser;
    const simdjson::padded_string padded(text);
    od::document doc;
    REQUIRE_FALSE(parser.iterate(padded).get(doc));
    double back = 0;
    REQUIRE_FALSE(doc.get_double().get(back));
    CHECK(back == d);
  }
  struct row {
    std::function<void(json_writer&)> write;
    std::string_view want;
  };
  const row rows[] = {
      {[](json_writer& w) { w.value(std::numeric_limits<std::int64_t>::min()); },
       "-9223372036854775808"},
      {[](json_writer& w) { w.value(std::numeric_limits<std::int64_t>::max()); },
       "9223372036854775807"},
      {[](json_writer& w) { w.value(std::numeric_limits<std::uint64_t>::max()); },
       "18446744073709551615"},
      {[](json_writer& w) { w.value(-1); }, "-1"},
      {[](json_writer& w) { w.value(true); }, "true"},
      {[](json_writer& w) { w.null(); }, "null"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.want);
    json_writer w;
    r.write(w);
    CHECK(std::move(w).take().value() == r.want);
  }
}

TEST_CASE("commas go between members and elements at every nesting level, never elsewhere") {
  struct row {
    std::string_view name;
    std::function<void(json_writer&)> write;
    std::string_view want;
  };
  const row rows[] = {
      {"empty object", [](json_writer& w) { w.begin_object().end_object(); }, "{}"},
      {"empty array", [](json_writer& w) { w.begin_array().end_array(); }, "[]"},
      {"nested empties",
       [](json_writer& w) {
         w.begin_array().begin_array().end_array().begin_object().end_object().begin_array();
         w.begin_array().end_array().end_array().end_array();
       },
       "[[],{},[[]]]"},
      {"object of everything",
       [](json_writer& w) {
         w.begin_object()
             .key("a")
             .begin_array()
             .value(1)
             .value(2)
             .begin_object()
             .end_object()
             .begin_array()
             .end_array()
             .end_array()
             .key("b")
             .begin_object()
             .key("c")
             .null()
             .key("d")
             .value("x")
             .end_object()
             .key("e")
             .value(false)
             .end_object();
       },
       R"({"a":[1,2,{},[]],"b":{"c":null,"d":"x"},"e":false})"},
      {"raw values",
       [](json_writer& w) {
         w.begin_array().raw(raw_json{R"({"x":1})"}).value(2).raw(raw_json{"[3]"}).end_array();
       },
       R"([{"x":1},2,[3]])"},
      {"raw member",
       [](json_writer& w) {
         w.begin_object().key("in").raw(raw_json{"{}"}).key("n").value(1).end_object();
       },
       R"({"in":{},"n":1})"},
      {"deep",
       [](json_writer& w) {
         for (int i = 0; i < 3; ++i) {
           w.begin_object().key("k");
         }
         w.begin_array().value(1).value(2).end_array();
         for (int i = 0; i < 3; ++i) {
           w.end_object();
         }
       },
       R"({"k":{"k":{"k":[1,2]}}})"},
      {"array of objects",
       [](json_writer& w) {
         w.begin_array();
         for (int i = 0; i < 3; ++i) {
           w.begin_object().key("i").value(i).end_object();
         }
         w.end_array();
       },
       R"([{"i":0},{"i":1},{"i":2}])"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    json_writer w;
    r.write(w);
    CHECK(w.ok());
    CHECK(std::move(w).take().value() == r.want);
  }
}

TEST_CASE("whole doubles past the integer range are written in a form simdjson reads back") {
  for (const double d : {18446744073709551616.0, -12345678901234567168.0, 9.9e20}) {
    phrony::json_writer w;
    w.value(d);
    CAPTURE(w.str());
    simdjson::dom::parser parser;
    double back = 0;
    REQUIRE(parser.parse(w.str()).get_double().get(back) == simdjson::SUCCESS);
    CHECK(back == d);
  }
}

TEST_CASE("an empty raw_json is written as null, so default-constructed values give valid JSON") {
  json_writer w;
  w.begin_array().raw(raw_json{}).raw(raw_json{"[1]"}).end_array();
  CHECK(w.str() == "[null,[1]]");

  const auto is_json = [](const std::string& text) {
    simdjson::dom::parser parser;
    return parser.parse(simdjson::padded_string(text)).error() == simdjson::SUCCESS;
  };
  conversation with_members;
  with_members.runs.emplace_back();
  with_members.items.emplace_back();
  with_members.items.back().type = "ToolResult";
  with_members.items.back().content->emplace<tool_result_content>();
  with_members.extra.emplace_back("x", raw_json{});
  sessions_page page;
  page.items.emplace_back();
  const std::string texts[] = {
      to_json(run_status{}),
      to_json(start_run_response{}),
      to_json(accept_response{}),
      to_json(sessions_page{}),
      to_json(page),
      to_json(conversation{}),
      to_json(with_members),
      to_json(presign_response{}),
      to_json(finalize_response{}),
      to_json(api_error_body{}),
      to_json(stream_event{}),
  };
  for (const auto& text : texts) {
    CAPTURE(text);
    CHECK(is_json(text));
  }
  CHECK(to_json(run_status{}) == R"({"runId":"","status":"","output":null})");
}

} // namespace json_writer_test
