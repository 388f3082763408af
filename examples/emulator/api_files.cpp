// phrony-emulator: the file library. presign hands out an upload URL on the emulator itself
// (PUT /upload/<objectKey>), which checks the presigned signature and every required header
// as S3 would; finalize then records the object, idempotently.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <phrony/json_writer.hpp>

#include "api.hpp"

namespace emu {

namespace {

using phrony::json_writer;
using lock_t = std::unique_lock<std::mutex>;

constexpr int expires_in_seconds = 900;

std::string hex128(std::uint64_t a, std::uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(mix64(a)),
                static_cast<unsigned long long>(mix64(b)));
  return buf;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The extension of `filename` if it looks like one (".pdf"), for a realistic objectKey.
std::string extension_of(std::string_view filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos || filename.size() - dot > 10) {
    return {};
  }
  const std::string_view ext = filename.substr(dot + 1);
  const bool alnum = !ext.empty() && std::all_of(ext.begin(), ext.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
  return alnum ? "." + std::string(ext) : std::string();
}

// S3 answers presigned-URL failures in XML, not with the API's JSON.
void s3_error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                      "</Code><Message>" + std::string(message) + "</Message></Error>",
                  "application/xml");
}

} // namespace

const api_key* api::authenticate_uploads(const httplib::Request& req,
                                         httplib::Response& res) const {
  const api_key* key = authenticate(req, res);
  if (key != nullptr && !key->uploads) {
    fail(res, 403, "File uploads are not allowed for this API key");
    return nullptr;
  }
  return key;
}

void api::presign(const httplib::Request& req, httplib::Response& res) {
  if (authenticate_uploads(req, res) == nullptr) {
    return;
  }
  dom::parser parser;
  dom::object body;
  if (!read_object(req.body, res, parser, body)) {
    return;
  }
  std::string_view filename, media_type;
  std::uint64_t max_length = 0;
  if (get_string(body, "filename", filename) != field::ok || filename.empty() ||
      utf8_length(filename) > 512) {
    return fail(res, 400, "filename must be a string of 1 to 512 characters");
  }
  // mediaType comes back as a header value in requiredHeaders: no control characters.
  if (get_string(body, "mediaType", media_type) != field::ok || media_type.empty() ||
      std::any_of(media_type.begin(), media_type.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return fail(res, 400, "mediaType must be a non-empty media type");
  }
  if (get_positive_int(body, "maxContentLength", max_length) != field::ok) {
    return fail(res, 400, "maxContentLength must be a positive integer");
  }
  lock_t lock(w_.mu);
  upload u;
  u.object_key = "tenant/" + w_.scene().tenant_id + "/file-library/" + w_.ids().next() +
                 extension_of(filename);
  u.filename = filename;
  u.media_type = media_type;
  u.max_length = max_length;
  const std::uint64_t n = w_.uploads.size();
  u.signature = hex128(2 * n + 1, 2 * n + 2) + hex128(n + 77, max_length);
  u.expires = steady::now() + std::chrono::seconds(expires_in_seconds);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(opt_.port.load()) + "/upload/" + u.object_key +
      "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=" + std::to_string(expires_in_seconds) +
      "&X-Amz-Signature=" + u.signature + "&X-Amz-SignedHeaders=content-type%3Bhost";
  json_writer out;
  out.begin_object().key("objectKey").value(u.object_key).key("uploadUrl").value(url);
  out.key("httpMethod").value("PUT").key("requiredHeaders").begin_object();
  out.key("Content-Type").value(u.media_type);
  out.key("x-amz-meta-phrony-signature").value(u.signature.substr(0, 32)).end_object();
  out.key("expiresInSeconds").value(expires_in_seconds).end_object();
  w_.uploads.emplace(u.object_key, std::move(u));
  send(res, 200, out.str());
}

void api::put_upload(const httplib::Request& req, httplib::Response& res) {
  lock_t lock(w_.mu);
  auto it = w_.uploads.find(req.matches[1].str());
  if (it == w_.uploads.end() || req.get_param_value("X-Amz-Signature") != it->second.signature) {
    return s3_error(res, 403, "SignatureDoesNotMatch", "The request signature does not match");
  }
  upload& u = it->second;
  if (steady::now() > u.expires) {
    return s3_error(res, 403, "AccessDenied", "Request has expired");
  }
  const std::pair<const char*, std::string> required[] = {
      {"Content-Type", u.media_type},
      {"x-amz-meta-phrony-signature", u.signature.substr(0, 32)},
  };
  for (const auto& [name, value] : required) {
    if (req.get_header_value(name) != value) {
      return s3_error(res, 403, "SignatureDoesNotMatch",
                      std::string("Header ") + name +
                          " is missing or differs from requiredHeaders");
    }
  }
  if (req.body.size() > u.max_length) {
    return s3_error(res, 400, "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size");
  }
  u.size = req.body.size();
  res.status = 200;
  // Built by appending: GCC 12 -O2 reports a false -Wrestrict for "\"" + std::string.
  std::string etag(1, '"');
  etag += hex128(req.body.size(), u.max_length);
  etag += '"';
  res.set_header("ETag", etag);
}

void api::finalize(const httplib::Request& req, httplib::Response& res) {
  if (authenticate_uploads(req, res) == nullptr) {
    return;
  }
  dom::parser parser;
  dom::object body;
  if (!read_object(req.body, res, parser, body)) {
    return;
  }
  std::string_view object_key, ignored;
  std::uint64_t max_length = 0;
  if (get_string(body, "objectKey", object_key) != field::ok) {
    return fail(res, 400, "objectKey must be a string");
  }
  if (get_positive_int(body, "maxContentLength", max_length) != field::ok) {
    return fail(res, 400, "maxContentLength must be a positive integer");
  }
  if (get_string(body, "filename", ignored) == field::wrong_type ||
      get_string(body, "mediaType", ignored) == field::wrong_type) {
    return fail(res, 400, "filename and mediaType must be strings");
  }
  lock_t lock(w_.mu);
  auto it = w_.uploads.find(object_key);
  if (it == w_.uploads.end() || !it->second.size) {
    return fail(res, 400, "Nothing was uploaded for this objectKey");
  }
  upload& u = it->second;
  if (*u.size > max_length) {
    return fail(res, 400, "The uploaded object is larger than maxContentLength");
  }
  const bool already = u.finalized;
  u.finalized = true;
  json_writer out;
  // sizeBytes is a decimal string on the wire (a 64-bit size does not fit a JS number).
  out.begin_object().key("objectKey").value(u.object_key);
  out.key("sizeBytes").value(std::to_string(*u.size)).key("alreadyFinalized").value(already);
  out.end_object();
  send(res, 200, out.str());
}

} // namespace emu
