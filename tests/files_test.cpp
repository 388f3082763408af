#include <phrony/files.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <phrony/request.hpp>

#include "test_util.hpp"

namespace files_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using phrony_test::fixture;
using phrony_test::generated;

namespace {

std::string finalize_body(std::string_view size_bytes) {
  return R"({"objectKey":"tenant/t/file-library/f.pdf","sizeBytes":)" + std::string(size_bytes) +
         R"(,"alreadyFinalized":false})";
}

} // namespace

TEST_CASE("the presign sample parses with its headers in document order") {
  const auto p = parse_presign(fixture("presign.json"));
  REQUIRE(p.has_value());
  CHECK(p->object_key == "tenant/c963cfe0-afae-4a3b-b909-6a04e7d80068/file-library/"
                         "26b563b1-e794-4e14-a145-4c40c439f34a.pdf");
  CHECK(p->upload_url.starts_with("https://phrony-files-eu.s3.eu-central-1.amazonaws.com/tenant/"
                                  "c963cfe0-afae-4a3b-b909-6a04e7d80068/file-library/"));
  CHECK(p->upload_url.ends_with("&x-id=PutObject"));
  CHECK(p->http_method == "PUT");
  const header_pairs want = {{"Content-Type", "application/pdf"},
                             {"x-amz-server-side-encryption", "AES256"}};
  CHECK(p->required_headers == want);
  CHECK(p->expires_in_seconds == 3600);
  CHECK(p->extra.empty());
}

TEST_CASE("presign keeps header order, repeated names and unknown fields, and round-trips") {
  const std::string body =
      R"({"objectKey":"k","uploadUrl":"https://b.test/k","httpMethod":"PUT",)"
      R"("requiredHeaders":{"x-z":"1","Content-Type":"text/plain","x-z":"2"},)"
      R"("expiresInSeconds":60,"region":"eu-central-1","limits":{"max":[1,2]}})";
  const auto p = parse_presign(body);
  REQUIRE(p.has_value());
  const header_pairs want = {{"x-z", "1"}, {"Content-Type", "text/plain"}, {"x-z", "2"}};
  CHECK(p->required_headers == want);
  REQUIRE(p->extra.size() == 2);
  CHECK(p->extra[0] == std::pair<phrony::text, raw_json>{"region", {"\"eu-central-1\""}});
  CHECK(p->extra[1] == std::pair<phrony::text, raw_json>{"limits", {R"({"max":[1,2]})"}});
  CHECK(to_json(*p) == body);

  const auto sample = parse_presign(fixture("presign.json"));
  REQUIRE(sample.has_value());
  CHECK(parse_presign(to_json(*sample)).value() == *sample);

  const auto none =
      parse_presign(R"({"objectKey":"k","uploadUrl":"u","httpMethod":"PUT","requiredHeaders":{},)"
                    R"("expiresInSeconds":0})");
  REQUIRE(none.has_value());
  CHECK(none->required_headers.empty());
}

TEST_CASE("malformed presign bodies name the offending field") {
  const auto without = [](std::string_view field) {
    std::string body = R"({)";
    const std::pair<std::string_view, std::string_view> fields[] = {
        {"objectKey", R"("k")"},
        {"uploadUrl", R"("https://b.test/k")"},
        {"httpMethod", R"("PUT")"},
        {"requiredHeaders", R"({"a":"b"})"},
        {"expiresInSeconds", "60"}};
    for (const auto& [name, value] : fields) {
      if (name == field) {
        continue;
      }
      if (body.size() > 1) {
        body += ',';
      }
      body += '"' + std::string(name) + "\":" + std::string(value);
    }
    return body + "}";
  };
  REQUIRE(parse_presign(without("")).has_value());
  const std::string base = R"({"objectKey":"k","uploadUrl":"u","httpMethod":"PUT",)";
  struct row {
    std::string body;
    errc code;
    std::string_view path;
  };
  const row rows[] = {
      {without("objectKey"), errc::missing_field, "/objectKey"},
      {without("uploadUrl"), errc::missing_field, "/uploadUrl"},
      {without("httpMethod"), errc::missing_field, "/httpMethod"},
      {without("requiredHeaders"), errc::missing_field, "/requiredHeaders"},
      {without("expiresInSeconds"), errc::missing_field, "/expiresInSeconds"},
      {base + R"("requiredHeaders":{"Content-Type":5},"expiresInSeconds":1})", errc::wrong_type,
       "/requiredHeaders/Content-Type"},
      {base + R"("requiredHeaders":{"a/b":null},"expiresInSeconds":1})", errc::wrong_type,
       "/requiredHeaders/a~1b"},
      {base + R"("requiredHeaders":[],"expiresInSeconds":1})", errc::wrong_type,
       "/requiredHeaders"},
      {base + R"("requiredHeaders":{},"expiresInSeconds":-1})", errc::out_of_range,
       "/expiresInSeconds"},
      {base + R"("requiredHeaders":{},"expiresInSeconds":"60"})", errc::wrong_type,
       "/expiresInSeconds"},
      {base + R"("requiredHeaders":{},"expiresInSeconds":1.5})", errc::wrong_type,
       "/expiresInSeconds"},
      {R"({"objectKey":5})", errc::wrong_type, "/objectKey"},
      {"[]", errc::wrong_type, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const auto got = parse_presign(r.body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == r.code);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("finalize samples parse, sizeBytes read from its decimal string") {
  const auto f = parse_finalize(fixture("finalize.json"));
  REQUIRE(f.has_value());
  CHECK(f->object_key == "tenant/6b0404f2-b094-40b8-ab01-a1c12a3a2107/file-library/"
                         "d7e11b1b-7aa6-440d-8800-7596a28f5b37.pdf");
  CHECK(f->size_bytes == 7249238);
  CHECK_FALSE(f->already_finalized);
  CHECK(f->extra.empty());

  const auto again = parse_finalize(generated("finalize_already.json"));
  REQUIRE(again.has_value());
  CHECK(again->already_finalized);
  CHECK(again->size_bytes >= 1000); // gen.py draws sizes from 1000 .. 25e6
  CHECK(again->size_bytes <= 25'000'000);
  CHECK(again->object_key.starts_with("tenant/"));
}

TEST_CASE("sizeBytes edge cases") {
  struct row {
    std::string_view wire;
    bool ok;
    std::uint64_t want;
    errc code;
  };
  const row rows[] = {
      {R"("0")", true, 0, {}},
      {R"("007")", true, 7, {}},
      {R"("9007199254740993")", true, 9007199254740993ULL, {}}, // 2^53 + 1: no double on the way
      {R"("18446744073709551615")", true, std::numeric_limits<std::uint64_t>::max(), {}},
      {R"("18446744073709551616")", false, 0, errc::out_of_range},
      {R"("99999999999999999999999")", false, 0, errc::out_of_range},
      {R"("-1")", false, 0, errc::out_of_range},
      {R"("12a")", false, 0, errc::wrong_type},
      {R"("")", false, 0, errc::wrong_type},
      {R"("-")", false, 0, errc::wrong_type},
      {R"("+1")", false, 0, errc::wrong_type},
      {R"(" 1")", false, 0, errc::wrong_type},
      {R"("1 ")", false, 0, errc::wrong_type},
      {R"("1.0")", false, 0, errc::wrong_type},
      {R"("1e3")", false, 0, errc::wrong_type},
      {R"("0x10")", false, 0, errc::wrong_type},
      {R"("１")", false, 0, errc::wrong_type},
      {"12", false, 0, errc::wrong_type},
      {"null", false, 0, errc::wrong_type},
      {"true", false, 0, errc::wrong_type},
      {R"(["1"])", false, 0, errc::wrong_type},
  };
  for (const auto& r : rows) {
    CAPTURE(r.wire);
    const auto got = parse_finalize(finalize_body(r.wire));
    REQUIRE(got.has_value() == r.ok);
    if (r.ok) {
      CHECK(got->size_bytes == r.want);
    } else {
      CHECK(got.error().code == r.code);
      CHECK(got.error().path == "/sizeBytes");
    }
  }
}

TEST_CASE("malformed finalize bodies name the offending field") {
  struct row {
    std::string_view body;
    errc code;
    std::string_view path;
  };
  const row rows[] = {
      {R"({"sizeBytes":"1","alreadyFinalized":false})", errc::missing_field, "/objectKey"},
      {R"({"objectKey":"k","alreadyFinalized":false})", errc::missing_field, "/sizeBytes"},
      {R"({"objectKey":"k","sizeBytes":"1"})", errc::missing_field, "/alreadyFinalized"},
      {R"({"objectKey":null,"sizeBytes":"1","alreadyFinalized":false})", errc::wrong_type,
       "/objectKey"},
      {R"({"objectKey":"k","sizeBytes":"1","alreadyFinalized":"false"})", errc::wrong_type,
       "/alreadyFinalized"},
      {R"({"objectKey":"k","sizeBytes":"1","alreadyFinalized":false,"x":[tru]})",
       errc::invalid_json, "/x/0"},
      {R"({"objectKey":"k","sizeBytes":"1","alreadyFinalized":false} x)", errc::invalid_json, ""},
      {R"("k")", errc::wrong_type, ""},
      {"", errc::invalid_json, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const auto got = parse_finalize(r.body);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == r.code);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("finalize writes sizeBytes back as a decimal string and round-trips") {
  const std::string body = R"({"objectKey":"k","sizeBytes":"18446744073709551615",)"
                           R"("alreadyFinalized":true,"etag":"\"abc\"","parts":[1,{"n":2}]})";
  const auto f = parse_finalize(body);
  REQUIRE(f.has_value());
  CHECK(f->extra.size() == 2);
  CHECK(to_json(*f) == body);

  finalize_response made;
  made.object_key = "tenant/x/ü.pdf";
  made.size_bytes = 0;
  CHECK(to_json(made) ==
        R"({"objectKey":"tenant/x/ü.pdf","sizeBytes":"0","alreadyFinalized":false})");

  for (const char* name : {"finalize.json"}) {
    const auto sample = parse_finalize(fixture(name));
    REQUIRE(sample.has_value());
    CHECK(parse_finalize(to_json(*sample)).value() == *sample);
  }
  const auto already = parse_finalize(generated("finalize_already.json"));
  REQUIRE(already.has_value());
  CHECK(parse_finalize(to_json(*already)).value() == *already);
}

TEST_CASE("a file reference gives the documented input value and message entry") {
  const auto finalized = parse_finalize(fixture("finalize.json")).value();
  const auto ref = file_ref::from(finalized, "Q1 report.pdf", "application/pdf");
  REQUIRE(ref.has_value());
  CHECK(ref->object_key() == finalized.object_key);
  CHECK(ref->leaf() == "d7e11b1b-7aa6-440d-8800-7596a28f5b37.pdf");
  CHECK(ref->size_bytes() == 7249238);
  CHECK(ref->input_value().text ==
        R"({"phronyFile":true,"filename":"d7e11b1b-7aa6-440d-8800-7596a28f5b37.pdf",)"
        R"("mediaType":"application/pdf"})");
  const message_file want{finalized.object_key, "Q1 report.pdf", "application/pdf"};
  CHECK(ref->as_message_file() == want);

  const auto bare = file_ref::from(finalized);
  REQUIRE(bare.has_value());
  // file-library.mdx requires mediaType in a run-input reference: unknown, it is any bytes.
  CHECK(bare->input_value().text ==
        R"({"phronyFile":true,"filename":"d7e11b1b-7aa6-440d-8800-7596a28f5b37.pdf",)"
        R"("mediaType":"application/octet-stream"})");
  CHECK(default_media_type == "application/octet-stream");
  CHECK(bare->as_message_file() == message_file{finalized.object_key, std::nullopt, std::nullopt});

  finalize_response flat;
  flat.object_key = "report \"v2\".pdf";
  const auto no_slash = file_ref::from(flat, std::nullopt, "application/pdf");
  REQUIRE(no_slash.has_value());
  CHECK(no_slash->leaf() == "report \"v2\".pdf");
  CHECK(no_slash->input_value().text ==
        R"({"phronyFile":true,"filename":"report \"v2\".pdf","mediaType":"application/pdf"})");
  CHECK(parse_json_object(no_slash->input_value().text).has_value());
}

TEST_CASE("a file reference goes into start-run input and message files") {
  const auto finalized = parse_finalize(fixture("finalize.json")).value();
  const auto ref = file_ref::from(finalized, "Q1.pdf", "application/pdf").value();
  api_config cfg;
  cfg.api_key = "phk_test_0123456789";
  const std::string agent = "c963cfe0-afae-4a3b-b909-6a04e7d80068";
  const std::string run = "77fa34b4-12d6-4fd6-8c23-77526537307d";

  const auto start =
      start_run_request(cfg, agent, raw_json{R"({"document":)" + ref.input_value().text + "}"});
  REQUIRE(start.has_value());
  CHECK(start->body == R"({"input":{"document":{"phronyFile":true,)"
                       R"("filename":"d7e11b1b-7aa6-440d-8800-7596a28f5b37.pdf",)"
                       R"("mediaType":"application/pdf"}}})");

  const auto msg = send_message_request(cfg, run, run_message::with_files({ref.as_message_file()}));
  REQUIRE(msg.has_value());
  CHECK(msg->body == R"({"runId":")" + run + R"(","files":[{"phronyFile":true,"objectKey":")" +
                         finalized.object_key +
                         R"(","filename":"Q1.pdf","mediaType":"application/pdf"}]})");
}

TEST_CASE("file references reject keys without a leaf and bad names") {
  const auto finalized = [](std::string key) {
    finalize_response f;
    f.object_key = std::move(key);
    return f;
  };
  struct row {
    std::string_view name;
    finalize_response f;
    std::optional<std::string> filename;
    std::optional<std::string> media_type;
    std::string_view path;
  };
  const row rows[] = {
      {"empty key", finalized(""), std::nullopt, std::nullopt, "/objectKey"},
      {"key ending in a slash", finalized("tenant/x/"), std::nullopt, std::nullopt, "/objectKey"},
      {"key not UTF-8", finalized("a/\xff"), std::nullopt, std::nullopt, "/objectKey"},
      {"empty filename", finalized("a/b"), "", std::nullopt, "/filename"},
      {"long filename", finalized("a/b"), std::string(513, 'n'), std::nullopt, "/filename"},
      {"filename not UTF-8", finalized("a/b"), "\xc3", std::nullopt, "/filename"},
      {"empty media type", finalized("a/b"), std::nullopt, "", "/mediaType"},
      {"media type not UTF-8", finalized("a/b"), std::nullopt, "\xff", "/mediaType"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto got = file_ref::from(r.f, r.filename, r.media_type);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().path == r.path);
  }
}

TEST_CASE("every truncation of a file-library sample is an error, never a crash") {
  for (const char* name : {"presign.json", "finalize.json"}) {
    const std::string body = fixture(name);
    for (std::size_t n = 0; n < body.size(); ++n) {
      const std::string_view cut(body.data(), n);
      if (cut.find_last_not_of(" \n") == body.find_last_not_of(" \n")) {
        continue;
      }
      CAPTURE(name);
      CAPTURE(n);
      CHECK_FALSE(parse_presign(cut).has_value());
      CHECK_FALSE(parse_finalize(cut).has_value());
    }
  }
}

} // namespace files_test
