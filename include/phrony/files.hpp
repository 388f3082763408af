// phrony: the file library: presign and finalize bodies, their parameters, and file references
// for run input and messages.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "phrony/config.hpp"
#include "phrony/detail/parse.hpp"
#include "phrony/detail/url.hpp"
#include "phrony/error.hpp"
#include "phrony/json_writer.hpp"
#include "phrony/raw_json.hpp"

namespace phrony {

/// A file attached to a run message: one entry of `files[]` in POST .../messages.
struct message_file {
  std::string object_key;
  std::optional<std::string> filename;   ///< display name
  std::optional<std::string> media_type; ///< e.g. "application/pdf"

  friend bool operator==(const message_file&, const message_file&) = default;
};

/// Parameters of POST /v1/file-library/presign.
struct presign_params {
  std::string filename;                ///< 1-512 characters
  std::string media_type;              ///< e.g. "application/pdf"; not empty
  std::int64_t max_content_length = 0; ///< upper bound of the upload in bytes; > 0
};

/// Parameters of POST /v1/file-library/finalize.
struct finalize_params {
  std::string object_key;              ///< from the presign response
  std::int64_t max_content_length = 0; ///< the same bound as in presign; > 0
  std::optional<std::string> filename;
  std::optional<std::string> media_type;
};

/// Header name/value pairs in document order (names may repeat; none is dropped).
using header_pairs = std::vector<std::pair<std::string, std::string>>;

/// Body of POST /v1/file-library/presign: where and how to upload the bytes.
struct presign_response {
  text object_key;
  text upload_url;               ///< presigned; carries credentials in its query
  text http_method;              ///< "PUT"
  header_pairs required_headers; ///< send every one of these with the upload
  std::int64_t expires_in_seconds = 0;
  extra_fields extra;

  friend bool operator==(const presign_response&, const presign_response&) = default;
};

/// Body of POST /v1/file-library/finalize.
struct finalize_response {
  text object_key;
  std::uint64_t size_bytes = 0; ///< the wire sends a decimal string, so sizes above 2^53 survive
  bool already_finalized = false;
  extra_fields extra;

  friend bool operator==(const finalize_response&, const finalize_response&) = default;
};

/// The media type a run-input file reference names when none was given (any bytes).
inline constexpr std::string_view default_media_type = "application/octet-stream";

/// A finalized file, ready to go into a run's input or a message's files.
class file_ref {
public:
  /// Builds a reference from a finalize response; `filename` and `media_type` are the ones given
  /// to presign. Rejects (errc::invalid_argument) an object key without a leaf after its last '/',
  /// and names that are empty, too long or not UTF-8.
  [[nodiscard]] static result<file_ref> from(const finalize_response& finalized,
                                             std::optional<std::string> filename = std::nullopt,
                                             std::optional<std::string> media_type = std::nullopt);

  /// The full object key.
  [[nodiscard]] const std::string& object_key() const noexcept { return object_key_; }
  /// The part of the object key after its last '/'.
  [[nodiscard]] std::string_view leaf() const noexcept {
    return std::string_view(object_key_).substr(object_key_.rfind('/') + 1);
  }
  [[nodiscard]] const std::optional<std::string>& filename() const noexcept { return filename_; }
  [[nodiscard]] const std::optional<std::string>& media_type() const noexcept {
    return media_type_;
  }
  [[nodiscard]] std::uint64_t size_bytes() const noexcept { return size_bytes_; }

  /// The value to put into a run's input: {"phronyFile":true,"filename":<leaf>,"mediaType":...}.
  /// file-library.mdx requires mediaType there: without one it is default_media_type.
  [[nodiscard]] PHRONY_DECL raw_json input_value() const;

  /// The entry to put into a message's `files`.
  [[nodiscard]] message_file as_message_file() const {
    return message_file{object_key_, filename_, media_type_};
  }

  friend bool operator==(const file_ref&, const file_ref&) = default;

private:
  file_ref() = default;

  std::string object_key_;
  std::optional<std::string> filename_;
  std::optional<std::string> media_type_;
  std::uint64_t size_bytes_ = 0;
};

namespace detail {

/// The presign endpoint's filename rule (1-512 characters, counted as code points).
[[nodiscard]] PHRONY_DECL maybe_error check_filename(std::string_view name,
                                                     std::string_view pointer);

/// A caller-supplied string that must be non-empty UTF-8.
[[nodiscard]] PHRONY_DECL maybe_error check_nonempty_text(std::string_view s,
                                                          std::string_view pointer,
                                                          std::string_view what);

} // namespace detail

} // namespace phrony

#if PHRONY_WITH_IMPL
#include "phrony/detail/json.hpp"

namespace phrony::detail {

/// requiredHeaders: an object of string values, kept in document order.
template <> struct codec<header_pairs> {
  static read_status read(od::value& v, const path& p, read_context& ctx, header_pairs& out) {
    out.clear(); // a reused value
    return for_each_field(v, p, [&](std::string_view k, od::value& fv, const path& fp) {
      if (out.capacity() == 0) {
        out.reserve(4); // room for the usual few at once, not one growth per header
      }
      auto& slot = out.emplace_back();
      slot.first.assign(k);
      return read_value(fv, fp, ctx, slot.second);
    });
  }
  static void write(json_writer& w, const header_pairs& headers) {
    w.begin_object();
    for (const auto& [name, value] : headers) {
      w.key(name).value(value);
    }
    w.end_object();
  }
};

template <std::same_as<presign_response> T> struct schema<T> {
  static constexpr auto fields = std::make_tuple(
      req("objectKey", &T::object_key), req("uploadUrl", &T::upload_url),
      req("httpMethod", &T::http_method), req("requiredHeaders", &T::required_headers),
      req("expiresInSeconds", &T::expires_in_seconds));
};

/// True when `s` is one or more ASCII digits.
[[nodiscard]] inline bool all_digits(std::string_view s) noexcept {
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return !s.empty();
}

/// sizeBytes: an unsigned decimal string ("7249238"), read without going through a double.
[[nodiscard]] inline read_status read_decimal_u64(od::value& v, const path& p, std::uint64_t& out) {
  std::string_view s;
  if (auto ec = read_string(v, s)) {
    return fail_read(ec, v, p, "a decimal string");
  }
  if (s.size() > 1 && s[0] == '-' && all_digits(s.substr(1))) {
    return fail_at(errc::out_of_range, p, "expected a size >= 0");
  }
  if (!all_digits(s)) {
    return fail_at(errc::wrong_type, p, "expected a decimal string of digits");
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return fail_at(errc::out_of_range, p, "size does not fit in 64 bits");
  }
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return fail_at(errc::wrong_type, p, "expected a decimal string of digits");
  }
  return {};
}

// Hand-written rather than a schema: sizeBytes is a number in C++ but a string on the wire.
template <std::same_as<finalize_response> T> struct codec<T> {
  static read_status read(od::value& v, const path& p, read_context& ctx, T& out) {
    bool has_key = false;
    bool has_size = false;
    bool has_already = false;
    out.extra.clear(); // a reused value
    PHRONY_CHECK(
        for_each_field(v, p, [&](std::string_view k, od::value& fv, const path& fp) -> read_status {
          if (key_is(k, "objectKey")) {
            has_key = true;
            return read_value(fv, fp, ctx, out.object_key);
          }
          if (key_is(k, "sizeBytes")) {
            has_size = true;
            return read_decimal_u64(fv, fp, out.size_bytes);
          }
          if (key_is(k, "alreadyFinalized")) {
            has_already = true;
            return read_value(fv, fp, ctx, out.already_finalized);
          }
          auto& slot = out.extra.emplace_back();
          detail::assign_string(slot.first, k);
          return read_value(fv, fp, ctx, slot.second);
        }));
    const std::pair<bool, std::string_view> required[] = {
        {has_key, "objectKey"}, {has_size, "sizeBytes"}, {has_already, "alreadyFinalized"}};
    for (const auto& [seen, name] : required) {
      if (!seen) {
        return fail_at(errc::missing_field, p.field(name), "missing required field");
      }
    }
    return {};
  }
  static void write(json_writer& w, const finalize_response& f) {
    w.begin_object();
    w.key("objectKey").value(f.object_key);
    w.key("sizeBytes").value(std::to_string(f.size_bytes));
    w.key("alreadyFinalized").value(f.already_finalized);
    for (const auto& [k, v] : f.extra) {
      w.key(k).raw(v);
    }
    w.end_object();
  }
};
} // namespace phrony::detail
#endif

PHRONY_DETAIL_VALUE(presign_response)
PHRONY_DETAIL_VALUE(finalize_response)

namespace phrony {

/// Parses the body of POST /v1/file-library/presign.
inline constexpr detail::body_parser<presign_response> parse_presign{};
/// Parses the body of POST /v1/file-library/finalize (sizeBytes from its decimal string);
/// to_json writes sizeBytes back as a decimal string, as the server sends it.
inline constexpr detail::body_parser<finalize_response> parse_finalize{};

} // namespace phrony

#if PHRONY_WITH_IMPL
// Definitions: compiled in the library in compiled mode (see config.hpp).

namespace phrony {

PHRONY_DECL raw_json file_ref::input_value() const {
  json_writer w;
  w.begin_object().key("phronyFile").value(true).key("filename").value(leaf());
  w.key("mediaType").value(media_type_ ? std::string_view(*media_type_) : default_media_type);
  w.end_object();
  // from() checked every string, so the writer cannot have failed.
  return raw_json{text(std::move(w).take().value_or(std::string{}))};
}
} // namespace phrony

namespace phrony::detail {

PHRONY_DECL maybe_error check_filename(std::string_view name, std::string_view pointer) {
  if (!is_valid_utf8(name)) {
    return make_error(errc::invalid_argument, std::string(pointer), "filename is not UTF-8");
  }
  const auto n = utf8_length(name);
  if (n == 0 || n > 512) {
    return make_error(errc::invalid_argument, std::string(pointer),
                      "filename must be 1-512 characters");
  }
  return {};
}

PHRONY_DECL maybe_error check_nonempty_text(std::string_view s, std::string_view pointer,
                                            std::string_view what) {
  if (s.empty()) {
    return make_error(errc::invalid_argument, std::string(pointer),
                      std::string(what) + " must not be empty");
  }
  if (!is_valid_utf8(s)) {
    return make_error(errc::invalid_argument, std::string(pointer),
                      std::string(what) + " is not UTF-8");
  }
  return {};
}

} // namespace phrony::detail

namespace phrony {

PHRONY_DECL result<file_ref> file_ref::from(const finalize_response& finalized,
                                            std::optional<std::string> filename,
                                            std::optional<std::string> media_type) {
  PHRONY_TRY(detail::check_nonempty_text(finalized.object_key, "/objectKey", "objectKey"));
  if (finalized.object_key.back() == '/') {
    return make_error(errc::invalid_argument, "/objectKey",
                      "objectKey has no file name after its last '/'");
  }
  if (filename) {
    PHRONY_TRY(detail::check_filename(*filename, "/filename"));
  }
  if (media_type) {
    PHRONY_TRY(detail::check_nonempty_text(*media_type, "/mediaType", "mediaType"));
  }
  file_ref out;
  out.object_key_ = finalized.object_key;
  out.filename_ = std::move(filename);
  out.media_type_ = std::move(media_type);
  out.size_bytes_ = finalized.size_bytes;
  return out;
}

} // namespace phrony
#endif
