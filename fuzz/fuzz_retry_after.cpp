// Fuzzes http_error.hpp and retry.hpp with FuzzedDataProvider: Retry-After values (delay-seconds
// and the three HTTP-date forms, built from fuzzer-chosen fields or any bytes, with an injected
// "now"), statuses, response headers and bodies. (fuzz_error_body owns the error body parser and
// its round trip; this target is about headers, statuses and dates.) It checks that
//   - parse_retry_after accepts delay-seconds exactly as digits (clamped to
//     max_retry_after_seconds) and each date form exactly when its fields make a valid date and
//     time, giving the time an independent civil-date computation gives (clamped to 1970..2200,
//     rfc850's two-digit year placed in the century `now` picks);
//   - a hint's delay from any now is never negative, never above max_retry_after_seconds, 0 for a
//     date in the past and the number itself for delay-seconds;
//   - http_error keeps status, method and route, parses Retry-After, takes the server's message or
//     the documented phrase for the status, and never shows the API key (route, message, body);
//   - retry_policy::next_delay follows its documented rules and backoff stays within its bounds.
#include <phrony/http_error.hpp>
#include <phrony/retry.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzedDataProvider.h"
#include "fuzz_check.hpp"

namespace {

using phrony::detail::max_retry_after_seconds;
using phrony_fuzz::check;
using std::chrono::seconds;
using std::chrono::system_clock;

// ---- An independent civil calendar (H. Hinnant's days_from_civil) ------------------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t year_of_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  return static_cast<std::int64_t>(yoe) + era * 400 + (mp >= 10 ? 1 : 0);
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned month_days(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

constexpr std::string_view day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view long_day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string two(int n) {
  return std::string(1, static_cast<char>('0' + n / 10)) + static_cast<char>('0' + n % 10);
}

std::string four(int n) { return two(n / 100) + two(n % 100); }

/// A Retry-After value and what parse_retry_after must make of it (for a generated one).
struct case_t {
  std::string text;
  bool known = false;                // the expectation below is set
  std::optional<std::int64_t> delta; // delay-seconds, clamped
  std::optional<std::int64_t> at;    // a date, in seconds since the epoch, clamped
  bool valid = false;
};

case_t make_case(FuzzedDataProvider& fdp, std::int64_t now_s) {
  case_t c;
  const auto form = fdp.ConsumeIntegralInRange(0, 4);
  if (form == 0) {
    c.text = fdp.ConsumeRandomLengthString(48);
    return c;
  }
  c.known = true;
  if (form == 1) {
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 30);
    std::int64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const int digit = fdp.ConsumeIntegralInRange(0, 9);
      c.text += static_cast<char>('0' + digit);
      value = value > max_retry_after_seconds ? value : value * 10 + digit;
    }
    c.delta = value > max_retry_after_seconds ? max_retry_after_seconds : value;
    c.valid = true;
  } else {
    // A date from fields: most valid, some just out of range (day 0-39, hour up to 29, ...).
    const int wd = fdp.ConsumeIntegralInRange(0, 6);
    const int mo = fdp.ConsumeIntegralInRange(1, 12);
    int d = fdp.ConsumeIntegralInRange(1, 31);
    int h = fdp.ConsumeIntegralInRange(0, 23);
    int mi = fdp.ConsumeIntegralInRange(0, 59);
    int s = fdp.ConsumeIntegralInRange(0, 60);
    if (fdp.ConsumeBool()) {
      d = fdp.ConsumeIntegralInRange(0, 39);
      h = fdp.ConsumeIntegralInRange(0, 29);
      mi = fdp.ConsumeIntegralInRange(0, 69);
      s = fdp.ConsumeIntegralInRange(0, 69);
    }
    std::int64_t year = 0;
    if (form == 2) {
      // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      year = fdp.ConsumeIntegralInRange(0, 9999);
      c.text = std::string(day_names[wd]) + ", " + two(d) + " " + std::string(month_names[mo - 1]) +
               " " + four(static_cast<int>(year)) + " " + two(h) + ":" + two(mi) + ":" + two(s) +
               " GMT";
    } else if (form == 3) {
      // rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT; the century is the one within 50 years of
      // now's year, in the future, or else the previous one.
      const int yy = fdp.ConsumeIntegralInRange(0, 99);
      const std::int64_t this_year = year_of_days(floor_div(now_s, 86400));
      year = this_year - this_year % 100 + yy;
      if (year > this_year + 50) {
        year -= 100;
      }
      c.text = std::string(long_day_names[wd]) + ", " + two(d) + "-" +
               std::string(month_names[mo - 1]) + "-" + two(yy) + " " + two(h) + ":" + two(mi) +
               ":" + two(s) + " GMT";
    } else {
      // asctime-date: Sun Nov  6 08:49:37 1994 (a one-digit day padded with a space or a zero)
      year = fdp.ConsumeIntegralInRange(0, 9999);
      const std::string day = d < 10 && fdp.ConsumeBool() ? " " + std::to_string(d) : two(d);
      c.text = std::string(day_names[wd]) + " " + std::string(month_names[mo - 1]) + " " + day +
               " " + two(h) + ":" + two(mi) + ":" + two(s) + " " + four(static_cast<int>(year));
    }
    c.valid = d >= 1 && static_cast<unsigned>(d) <= month_days(year, static_cast<unsigned>(mo)) &&
              h <= 23 && mi <= 59 && s <= 60;
    if (c.valid) {
      const std::int64_t t =
          days_from_civil(year, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
          h * 3600 + mi * 60 + s;
      const std::int64_t lo = 0;
      const std::int64_t hi = days_from_civil(2200, 1, 1) * 86400;
      c.at = t < lo ? lo : t > hi ? hi : t;
    }
  }
  // Optional surrounding blanks (trimmed) and, now and then, one byte changed (no expectation).
  if (fdp.ConsumeBool()) {
    const auto before = fdp.ConsumeIntegralInRange<std::size_t>(0, 2);
    const auto after = fdp.ConsumeIntegralInRange<std::size_t>(0, 2);
    c.text = std::string(before, ' ') + c.text + std::string(after, '\t');
  }
  if (fdp.ConsumeIntegralInRange(0, 7) == 0 && !c.text.empty()) {
    const auto at = fdp.ConsumeIntegralInRange<std::size_t>(0, c.text.size() - 1);
    c.text[at] = fdp.ConsumeIntegral<char>();
    c.known = false;
  }
  return c;
}

/// A hint's delay from `now`: never negative, never above the clamp.
void check_delay(const phrony::retry_hint& hint, system_clock::time_point now) {
  const auto d = hint.delay_from(now);
  check(d >= seconds{0}, "a Retry-After delay is never negative");
  check(d <= seconds{max_retry_after_seconds}, "a Retry-After delay is never above the clamp");
  if (const auto* at = std::get_if<system_clock::time_point>(&hint.value)) {
    check((*at <= now) == (d == seconds{0}), "a date in the past (only) means no delay");
  }
}

void fuzz_retry_after(FuzzedDataProvider& fdp) {
  // now: any instant from 1970 to 2255 (system_clock::now() is never earlier; the same range
  // for every clock resolution, so an input means the same with libstdc++ and libc++).
  const auto now_s = fdp.ConsumeIntegralInRange<std::int64_t>(0, 9'000'000'000);
  const system_clock::time_point now{seconds{now_s}};
  const auto c = make_case(fdp, now_s);
  const auto hint = phrony::parse_retry_after(c.text, now);
  if (hint) {
    check_delay(*hint, now);
    // The delay from other instants too, the clock's ends included.
    check_delay(*hint, system_clock::time_point{});
    check_delay(*hint, system_clock::time_point::min());
    check_delay(*hint, system_clock::time_point::max());
    check_delay(*hint, now + seconds{fdp.ConsumeIntegralInRange(-100000, 100000)});
  }
  if (!c.known) {
    return;
  }
  check(hint.has_value() == c.valid, "a generated Retry-After parses exactly when valid");
  if (!hint) {
    return;
  }
  if (c.delta) {
    const auto* s = std::get_if<seconds>(&hint->value);
    check(s != nullptr && s->count() == *c.delta, "delay-seconds is the number, clamped");
    check(hint->delay_from(now) == seconds{*c.delta}, "a delay-seconds delay is the number");
  } else {
    const auto* at = std::get_if<system_clock::time_point>(&hint->value);
    check(at != nullptr && *at == system_clock::time_point{seconds{*c.at}},
          "an HTTP-date is the civil date and time, clamped to 1970..2200");
    if (*c.at <= now_s) {
      check(hint->delay_from(now) == seconds{0}, "a date in the past means no delay");
    } else {
      const auto want = *c.at - now_s;
      check(hint->delay_from(now).count() ==
                (want > max_retry_after_seconds ? max_retry_after_seconds : want),
            "a date in the future is that far away, clamped");
    }
  }
}

// ---- http_error and status_phrase --------------------------------------------------------------

bool realistic_key(std::string_view k) { return k.starts_with("phk_") && k.size() >= 12; }

void check_hidden(std::string_view text, std::string_view secret, const char* what) {
  constexpr std::string_view mask = "[redacted]";
  for (auto at = text.find(secret); at != std::string_view::npos; at = text.find(secret, at + 1)) {
    bool across_mask = false;
    const std::size_t from = at >= mask.size() ? at - mask.size() : 0;
    for (auto m = text.find(mask, from); m != std::string_view::npos && m < at + secret.size();
         m = text.find(mask, m + 1)) {
      across_mask = across_mask || m + mask.size() > at;
    }
    check(across_mask, what);
  }
}

std::string expected_phrase(int status, bool api, std::string_view route) {
  const bool files = route.find("/v1/file-library/") != std::string_view::npos;
  switch (status) {
  case 400:
    return route.ends_with("/skip-agent-wait")
               ? "bad request: the run is not WaitingForTimer"
               : "bad request: the server rejected the request as invalid";
  case 401: return "unauthorized: missing or invalid API key (X-API-Key)";
  case 403:
    return !api    ? "forbidden by object storage: the upload URL may have expired, or a required "
                     "header is missing or different"
           : files ? "forbidden: file uploads are not allowed for this API key (enable \"Allow "
                     "file uploads\" on the key)"
                   : "forbidden: the API key's scope does not include this agent, trigger or run";
  case 404:
    return api ? "not found: unknown run or agent, or one this API key cannot see" : "not found";
  case 408: return "request timeout";
  case 409: return "conflict";
  case 413:
    return api ? "payload too large" : "payload too large: the file exceeds maxContentLength";
  case 429: return "too many requests: rate or concurrency limit reached; retry later";
  case 500: return "internal server error";
  case 502: return "bad gateway";
  case 503: return "service unavailable";
  case 504: return "gateway timeout";
  default: break;
  }
  return status >= 400 && status < 500   ? "client error"
         : status >= 500 && status < 600 ? "server error"
                                         : "unexpected HTTP status";
}

int pick_status(FuzzedDataProvider& fdp) {
  static constexpr int statuses[] = {400, 401, 403, 404, 408, 409, 413, 422,
                                     429, 500, 502, 503, 504, 599, 200, 302};
  switch (fdp.ConsumeIntegralInRange(0, 2)) {
  case 0: return statuses[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(statuses) - 1)];
  case 1: return fdp.ConsumeIntegralInRange(100, 699);
  default: return fdp.ConsumeIntegral<int>();
  }
}

void fuzz_http_error(FuzzedDataProvider& fdp) {
  std::string key = "phk_";
  const auto n = fdp.ConsumeIntegralInRange<std::size_t>(0, 24);
  for (std::size_t i = 0; i < n; ++i) {
    key += static_cast<char>('a' + fdp.ConsumeIntegralInRange(0, 25));
  }
  phrony::api_config cfg;
  cfg.api_key = key;
  const std::string run = "77fa34b4-12d6-4fd6-8c23-77526537307d";
  phrony::http_request req;
  switch (fdp.ConsumeIntegralInRange(0, 4)) {
  case 0: req = *phrony::get_run_request(cfg, run); break;
  case 1: req = *phrony::skip_agent_wait_request(cfg, run); break;
  case 2: req = *phrony::presign_request(cfg, {"a.pdf", "application/pdf", 10}); break;
  case 3: {
    phrony::presign_response p;
    p.upload_url = "https://b.s3.test/k?X-Amz-Signature=" + key + "&a=" + key;
    p.http_method = "PUT";
    req = *phrony::upload_request(p, "bytes");
    break;
  }
  default:
    cfg.base_url = "https://h.test/" + key; // a key pasted into the base path: scrubbed from route
    req = *phrony::get_run_request(cfg, run);
    break;
  }
  const int status = pick_status(fdp);
  // The body: an error body whose message may echo the key, or any bytes.
  std::string body;
  switch (fdp.ConsumeIntegralInRange(0, 3)) {
  case 0: {
    phrony::json_writer w;
    w.begin_object().key("statusCode").value(status).key("message");
    const auto text = fdp.ConsumeRandomLengthString(32);
    if (fdp.ConsumeBool()) {
      // (One call a statement: the order of operands is unspecified.)
      auto message = text + (fdp.ConsumeBool() ? key : "");
      message += fdp.ConsumeRandomLengthString(8);
      w.value(message);
    } else {
      w.begin_array().value(text).value(key).end_array();
    }
    w.key("error").value(fdp.ConsumeRandomLengthString(16)).end_object();
    body = w.str();
    break;
  }
  case 1:
    body = fdp.ConsumeRandomLengthString(256) + key;
    body += fdp.ConsumeRandomLengthString(64);
    break;
  case 2: body = "{\"message\":\"\"}"; break;
  default: body = fdp.ConsumeRandomLengthString(512); break;
  }
  std::optional<std::string> retry_after;
  if (fdp.ConsumeBool()) {
    retry_after = make_case(fdp, 1'780'000'000).text;
  }
  const auto e = phrony::http_error(status, req, body, retry_after);
  check(e.code == phrony::errc::http_status && e.status == status && e.method == req.method,
        "http_error keeps code, status and method");
  const bool api = req.header("X-API-Key") != nullptr;
  const std::string_view secret = api ? std::string_view(key) : std::string_view{};
  check(e.route == phrony::detail::scrub(req.route(), secret), "the route is route(), scrubbed");
  check(e.body == phrony::detail::scrub(body, secret), "the body is kept, scrubbed");
  check(e.body.size() <= body.size() + body.size() / 4 + 2,
        "the kept body is no larger than the scrub makes it");
  check(!e.message.empty(), "an HTTP error has a message");
  if (retry_after) {
    const auto want = phrony::parse_retry_after(*retry_after);
    check(e.retry_after.has_value() == want.has_value(), "Retry-After is parsed");
    if (want && std::holds_alternative<seconds>(want->value)) {
      check(*e.retry_after == *want, "Retry-After delay-seconds are kept");
    }
  } else {
    check(!e.retry_after, "no Retry-After, no hint");
  }
  std::optional<std::string> server;
  if (const auto parsed = phrony::parse_error_body(body)) {
    server = parsed->message_text();
  }
  const auto phrase = phrony::detail::status_phrase(status, req, e.route);
  check(phrase == expected_phrase(status, api, e.route), "the documented phrase for a status");
  check(e.message == phrony::detail::scrub(server && !server->empty() ? *server : phrase, secret),
        "the message is the server's, or the phrase");
  if (api && realistic_key(key)) {
    check_hidden(e.message, key, "an HTTP error's message never shows the key");
    check_hidden(e.body, key, "an HTTP error's body never shows the key");
    check_hidden(e.route, key, "an HTTP error's route never shows the key");
    check_hidden(e.what(), key, "an HTTP error's what() never shows the key");
  }
  check(e.route.find("X-Amz-Signature=" + key) == std::string::npos,
        "presigned credentials are redacted from the route");

  // An error body made by hand (api_error_body is a plain aggregate): message_text() copes with
  // any text in message, valid JSON or not. (Read last, so earlier inputs keep their meaning.)
  if (fdp.ConsumeBool()) {
    phrony::api_error_body hand;
    hand.message = phrony::raw_json{fdp.ConsumeRandomLengthString(64)};
    const auto text = hand.message_text();
    check(text.has_value() == !hand.message->is_null(), "a non-null message has a text");
  }
}

// ---- retry_policy ------------------------------------------------------------------------------

void fuzz_retry_policy(FuzzedDataProvider& fdp) {
  phrony::retry_policy policy;
  policy.max_attempts = fdp.ConsumeIntegralInRange(0, 10);
  policy.base_delay =
      std::chrono::milliseconds{fdp.ConsumeIntegralInRange<std::int64_t>(0, 1 << 20)};
  policy.max_delay =
      std::chrono::milliseconds{fdp.ConsumeIntegralInRange<std::int64_t>(0, 1 << 30)};
  policy.max_retry_after = seconds{fdp.ConsumeIntegralInRange<std::int64_t>(0, 1 << 20)};
  policy.retry_non_idempotent = fdp.ConsumeBool();
  static constexpr std::string_view methods[] = {"GET",     "HEAD", "PUT",   "DELETE",
                                                 "OPTIONS", "POST", "PATCH", "get"};
  const auto method = methods[fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(methods) - 1)];
  const bool idempotent = phrony::is_idempotent(method);
  check(idempotent == (method == "GET" || method == "HEAD" || method == "PUT" ||
                       method == "DELETE" || method == "OPTIONS"),
        "is_idempotent is RFC 9110's list");
  const int attempt = fdp.ConsumeIntegralInRange(-2, 40);
  const double random01 = fdp.ConsumeFloatingPoint<double>();
  const system_clock::time_point now{
      seconds{fdp.ConsumeIntegralInRange<std::int64_t>(0, 8'000'000'000)}};
  phrony::result<phrony::http_response> outcome = phrony::http_response{};
  std::optional<phrony::retry_hint> hint;
  switch (fdp.ConsumeIntegralInRange(0, 2)) {
  case 0: outcome = phrony::make_error(phrony::errc::transport, "", "connection reset"); break;
  case 1: outcome = phrony::make_error(phrony::errc::invalid_json, "", "bad"); break;
  default: {
    phrony::http_response r;
    r.status = pick_status(fdp);
    if (fdp.ConsumeBool()) {
      const auto value =
          make_case(fdp, std::chrono::duration_cast<seconds>(now.time_since_epoch()).count()).text;
      r.headers.push_back({fdp.ConsumeBool() ? "Retry-After" : "retry-after", value});
      hint = phrony::parse_retry_after(value);
    }
    outcome = r;
    break;
  }
  }
  const auto got = policy.next_delay(attempt, outcome, idempotent, random01, now);
  const auto step =
      std::min<std::int64_t>(policy.max_delay.count(),
                             policy.base_delay.count() << std::min(std::max(attempt - 1, 0), 20));
  const auto in_backoff = [&](std::chrono::milliseconds d) {
    return d.count() >= step / 2 && d.count() <= step / 2 + step / 2 && d <= policy.max_delay;
  };
  const auto b = policy.backoff(attempt, random01);
  check(in_backoff(b), "backoff is half fixed, half random, at most max_delay");
  if (attempt >= policy.max_attempts || (!idempotent && !policy.retry_non_idempotent)) {
    check(!got, "no retry after the last attempt or for a non-idempotent request");
    return;
  }
  if (!outcome) {
    check(got.has_value() == (outcome.error().code == phrony::errc::transport),
          "only transport errors are retried");
    check(!got || *got == b, "a transport error waits the backoff");
    return;
  }
  if (!phrony::retry_policy::retryable_status(outcome->status)) {
    check(!got, "a final status is not retried");
    return;
  }
  if (hint) {
    const auto wait = hint->delay_from(now);
    check(got.has_value() == (wait <= policy.max_retry_after), "a long Retry-After gives up");
    check(!got || *got == std::chrono::milliseconds(wait), "Retry-After sets the wait");
    return;
  }
  check(got.has_value() && *got == b, "otherwise the backoff");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of the input, so ASan sees any read past what the provider handed out.
  const std::vector<std::uint8_t> bytes(data, data + size);
  FuzzedDataProvider fdp(bytes.data(), bytes.size());
  switch (fdp.ConsumeIntegralInRange(0, 2)) {
  case 0: fuzz_retry_after(fdp); break;
  case 1: fuzz_http_error(fdp); break;
  default: fuzz_retry_policy(fdp); break;
  }
  return 0;
}
