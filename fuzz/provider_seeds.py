#!/usr/bin/env python3
"""Writes the hand-written seeds of the FuzzedDataProvider targets fuzz_request and
fuzz_retry_after into fuzz/corpus/request/ and fuzz/corpus/retry_after/.

A FuzzedDataProvider input is not readable text: strings come from the front of the bytes,
integers from the back. `Provider` below writes the bytes that make the provider hand out the
values a seed names, in the order the target asks for them, so each seed here reads as what it
builds (which builder, which values). The calls mirror the targets' code: when a target changes
the order or the ranges it asks for, change the matching helper here and run this again
(`fuzz/provider_seeds.py`); a seed that no longer means what it says is still a valid input.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Provider:
    """The bytes that make LLVM's FuzzedDataProvider return the values asked for."""

    def __init__(self):
        self.front = bytearray()  # ConsumeRandomLengthString reads these, from the start
        self.back = []  # ConsumeIntegral* read these, from the end: back[0] is the last byte

    def int_range(self, value, lo, hi, bits=64):
        """ConsumeIntegralInRange<T>(lo, hi) == value, T of `bits` bits."""
        assert lo <= value <= hi, (value, lo, hi)
        rng = hi - lo
        n = 0
        while n * 8 < bits and (rng >> (n * 8)) > 0:
            n += 1
        v = value - lo
        # The first byte read becomes the most significant one.
        self.back.extend((v >> (8 * (n - 1 - i))) & 0xFF for i in range(n))
        return self

    def int32(self, value, lo, hi):
        return self.int_range(value, lo, hi, 32)

    def size(self, value, lo, hi):
        return self.int_range(value, lo, hi, 64)

    def int64(self, value):
        return self.int_range(value, -(1 << 63), (1 << 63) - 1)

    def int_full(self, value):
        return self.int_range(value, -(1 << 31), (1 << 31) - 1, 32)

    def char(self, c):
        """ConsumeIntegral<char>() (signed char on x86)."""
        v = c if isinstance(c, int) else ord(c)
        return self.int_range(v - 256 if v > 127 else v, -128, 127, 8)

    def boolean(self, b):
        self.back.append(1 if b else 0)
        return self

    def double_zero(self):
        """ConsumeFloatingPoint<double>() == 0.0."""
        self.boolean(True)
        return self.int_range(0, 0, (1 << 64) - 1)

    def string(self, s, max_length):
        """ConsumeRandomLengthString(max_length) == s."""
        b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        assert len(b) <= max_length, (s, max_length)
        for ch in b:
            self.front += b"\\\\" if ch == 0x5C else bytes([ch])
        if len(b) < max_length:
            self.front += b"\\X"  # a backslash and another character end the string
        return self

    def data(self):
        return bytes(self.front) + bytes(reversed(self.back))


# ---- fuzz_request ------------------------------------------------------------------------------

BASES = ["https://api.phrony.com", "http://localhost:8080/", "https://[::1]:443/prefix/",
         "HTTPS://h.test/p//", "https://h.test/a%20b", "https://h.test:65535", "http://h.test?q",
         "https://user:pw@h.test", "ftp://h.test", "https://", "https://h.test:", "https://[]",
         "https://h.test/\xC3\xA9", "https://h.test/<x>", "https://h.test/%zz",
         "https://h.test:99999", "https://[::1]x", "https://h_t~e%st/a:b@c!$&'()*+,;=/"]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SAMPLES = ["{}", "[]", "null", "true", "false", "0", "-1.5e3", "\"s\"", " {\"a\":1} ",
           "{\"a\":[1,{}]}", "{\"a\":1,\"a\":2}", "{", "[1,]", "{\"a\":}", "01", "nul",
           "\"\\u00e9\"", "1 2", "{\"a\":\"\\ud800\"}", "\t[ ]\n"]
EDGES = ["", " ", "a", "\xC3", "\xC3\xA9", "\xED\xA0\x80", "\xF0\x9F\x98\x80", "\x7F", "%", "%zz",
         "a b", "?&=#", "../", "null", "\"", "\\", "\n", "\0", "[redacted]", "phk_"]
RUN = "77fa34b4-12d6-4fd6-8c23-77526537307d"
AGENT = "c963cfe0-afae-4a3b-b909-6a04e7d80068"
TASK = "26B563B1-E794-4E14-A145-4C40C439F34A"
KEY = "phk_live7f3c9a1e5b2d"


class Request(Provider):
    """The calls of fuzz_request.cpp's gen and builders."""

    def text(self, s):
        """A caller string: str is written as UTF-8, bytes as they are."""
        s = s.encode("utf-8") if isinstance(s, str) else s
        n = len(s)
        if n <= 64:
            return self.int32(0, 0, 8).string(s, 64)
        return self.int32(7, 0, 8).string(s, 600)

    def key_text(self):
        return self.int32(3, 0, 8)

    def key_inside(self, before, after):
        return self.int32(4, 0, 8).string(before, 16).string(after, 16)

    def edge(self, s):
        return self.int32(5, 0, 8).size(EDGES.index(s), 0, len(EDGES) - 1)

    def long_text(self, piece, times, key_at=None):
        self.int32(6, 0, 8).string(piece, 8).size(times, 0, 1200).boolean(key_at is not None)
        if key_at is not None:
            self.size(key_at, 0, len(piece) * times)
        return self

    def maybe(self, s):
        self.boolean(s is not None)
        if s is not None:
            self.text(s)
        return self

    def uuid(self, u):
        hexes = "0123456789abcdefABCDEF"
        for i, c in enumerate(u):
            if i not in (8, 13, 18, 23):
                self.size(hexes.index(c), 0, len(hexes) - 1)
        return self

    def id(self, u):
        """The target's `fdp.ConsumeBool() ? g.uuid() : g.text()`."""
        return self.boolean(False).text(u)

    def json(self, s):
        if s in SAMPLES:
            return self.int32(0, 0, 3).size(SAMPLES.index(s), 0, len(SAMPLES) - 1)
        return self.int32(2, 0, 3).text(s)

    def start(self, op, key=KEY, base=0, user_agent=None):
        """The config and the operation: `key` phk_... is written as a realistic key."""
        if key is not None and key.startswith("phk_") and all(c in ALNUM for c in key[4:]):
            self.boolean(True).size(len(key) - 4, 0, 40)
            for c in key[4:]:
                self.size(ALNUM.index(c), 0, len(ALNUM) - 1)
            self.size(len(key), 0, len(key))
        else:
            self.boolean(False).string(key.encode("latin-1"), 40)
        if isinstance(base, int):
            self.int32(0, 0, 2).size(base, 0, len(BASES) - 1)
        else:
            self.int32(2, 0, 2).string(base, 48)
        self.maybe(user_agent)
        return self.int32(op, 0, 10)


def message(seed, run=RUN, helper=7, helper_args=(), route_input=False, **fields):
    """send_message_request: `helper` picks the run_message helper, `fields` set members."""
    seed.id(run).int32(helper, 0, 7)
    if helper in (0,):
        seed.uuid(helper_args[0])
    elif helper == 1:
        seed.text(helper_args[0])
    elif helper in (2, 3):
        seed.uuid(helper_args[0]).text(helper_args[1])
    elif helper == 4:
        seed.uuid(helper_args[0]).double_zero()
    elif helper == 5:
        seed.text(helper_args[0])
    elif helper == 6:
        f = helper_args[0]
        seed.text(f[0]).maybe(f[1]).maybe(f[2])
    order = ["user_task_id", "approved", "selected_option_id", "text_value", "number_value",
             "metadata", "text", "message", "files", "completed_by_email", "skip_agent_wait",
             "extra"]
    flags = sum(1 << i for i, name in enumerate(order) if name in fields)
    seed.int_range(flags, 0, 65535, 16)
    for name in order:
        if name not in fields:
            continue
        v = fields[name]
        if name == "user_task_id":
            seed.id(v)
        elif name in ("approved", "skip_agent_wait"):
            seed.boolean(v)
        elif name in ("selected_option_id", "text_value", "text", "message",
                      "completed_by_email"):
            seed.text(v)
        elif name == "number_value":
            # 0: infinity, 1: NaN, 2: -0.0, 3: the provider's double (0.0 here)
            seed.int32(v, 0, 3)
            if v == 3:
                seed.double_zero()
        elif name == "metadata":
            seed.json(v)
        elif name == "files":
            seed.int32(len(v), 1, 3)
            for f in v:
                seed.text(f[0]).maybe(f[1]).maybe(f[2])
        elif name == "extra":
            seed.int32(len(v), 1, 3)
            names = ["runId", "text", "skipAgentWait", "x", "files"]
            for k, j in v:
                if k in names:
                    seed.boolean(True).size(names.index(k), 0, 4)
                else:
                    seed.boolean(False).text(k)
                seed.json(j)
    seed.boolean(route_input)
    return seed


def request_seeds():
    s = {}
    R = Request
    s["start_run_no_input"] = R().start(0).id(AGENT).boolean(False)
    s["start_run_input_object"] = R().start(0).id(AGENT).boolean(True).json(
        "{\"q\":\"caf\u00e9\",\"n\":[1,2.5,null],\"o\":{}}")
    s["start_run_input_array"] = R().start(0).id(AGENT).boolean(True).json("[]")
    s["start_run_bad_agent"] = R().start(0).id("../" + AGENT).boolean(False)
    s["start_run_key_in_input_field"] = R().start(0).id(AGENT).boolean(True).json(
        "{\"a\":{\"" + KEY + "\":tru}}")
    s["start_run_uuid_from_bytes"] = R().start(0).boolean(True).uuid(AGENT).boolean(False)
    s["list_sessions_all_filters"] = (R().start(1).id(AGENT).boolean(True).int64(20)
                                      .boolean(True).int64(50).maybe("v 1/\u00e9&x=y")
                                      .maybe("Completed"))
    s["list_sessions_negative_skip"] = (R().start(1).id(AGENT).boolean(True).int64(-1)
                                        .boolean(False).maybe(None).maybe(None))
    s["list_sessions_zero_take"] = (R().start(1).id(AGENT).boolean(False).boolean(True)
                                    .int64(0).maybe(None).maybe(None))
    s["list_sessions_empty_status"] = (R().start(1).id(AGENT).boolean(False).boolean(False)
                                       .maybe(None).maybe(""))
    s["get_run"] = R().start(2).id(RUN)
    s["get_run_base_prefix"] = R(); s["get_run_base_prefix"].start(2, base=2).id(TASK)
    s["get_run_base_not_rfc3986"] = R().start(2, base=14).id(RUN)
    s["get_run_base_non_ascii"] = R().start(2, base=12).id(RUN)
    s["get_run_base_credentials"] = R().start(2, base=7).id(RUN)
    s["get_run_base_ipv6_bad_char"] = R().start(2, base="https://[::g]/").id(RUN)
    s["get_run_base_ipv6_empty_port"] = R().start(2, base="https://[::1]:").id(RUN)
    s["get_run_short_key"] = R().start(2, key="phk_ab").id(RUN)
    s["get_run_key_with_newline"] = R().start(2, key="phk_abc\n").id(RUN)
    s["get_run_user_agent_ctl"] = R().start(2, user_agent="ua\r\nX: y").id(RUN)
    s["get_conversation_slim"] = R().start(3).id(RUN).boolean(True)
    s["get_conversation_full"] = R().start(3).id(RUN).boolean(False)
    s["skip_agent_wait"] = R().start(4).id(RUN)
    s["stream_last_event_id"] = R().start(5).id(RUN).boolean(True).text("1747206437497-2")
    s["stream_last_event_id_crlf"] = R().start(5).id(RUN).boolean(True).text("1\r\nX: y")
    s["message_approve"] = message(R().start(6), helper=0, helper_args=[TASK])
    s["message_reject_bad_task"] = message(R().start(6), helper=1, helper_args=["task"])
    s["message_choose_option"] = message(R().start(6), helper=2, helper_args=[TASK, "opt-1"])
    s["message_answer_text_input_route"] = message(R().start(6), helper=3,
                                                   helper_args=[TASK, "t\u00e9xt \"q\"\n"],
                                                   route_input=True)
    s["message_answer_number"] = message(R().start(6), helper=4, helper_args=[TASK])
    s["message_chat"] = message(R().start(6), helper=5, helper_args=["hello"])
    s["message_with_files"] = message(R().start(6), helper=6,
                                      helper_args=[("obj/k", "a.pdf", "application/pdf")])
    s["message_every_field"] = message(
        R().start(6), user_task_id=TASK, approved=True, selected_option_id="o",
        text_value="tv", number_value=2, metadata="{\"a\":[1,{}]}", text="t", message="m",
        files=[("k1", None, None), ("k2", "f", "text/plain")], completed_by_email="a@b.c",
        skip_agent_wait=True, extra=[("x", "null"), ("custom", "{\"a\":1,\"a\":2}")])
    s["message_answer_without_task"] = message(R().start(6), approved=False, text="t")
    s["message_nan"] = message(R().start(6), user_task_id=TASK, number_value=1)
    s["message_infinity"] = message(R().start(6), user_task_id=TASK, number_value=0)
    s["message_empty_option"] = message(R().start(6), user_task_id=TASK,
                                        selected_option_id="")
    s["message_metadata_not_object"] = message(R().start(6), text="t", metadata="[]")
    s["message_metadata_invalid"] = message(R().start(6), text="t", metadata="{\"a\":}")
    s["message_extra_documented_name"] = message(R().start(6), text="t",
                                                 extra=[("runId", "1")])
    s["message_extra_invalid_json"] = message(R().start(6), text="t", extra=[("x", "[1,]")])
    s["message_nothing_to_send"] = message(R().start(6), text="")
    s["message_empty_file_key"] = message(R().start(6), files=[("", None, None)])
    s["message_invalid_utf8_text"] = message(R().start(6), text=b"\xC3")
    s["presign"] = (R().start(7).text("r\u00e9sum\u00e9.pdf").text("application/pdf")
                    .int64(1 << 20).boolean(False))
    s["presign_too_long_length"] = (R().start(7).text("a").text("b").int64(1 << 53)
                                    .boolean(False))
    s["presign_empty_filename"] = R().start(7).text("").text("b").int64(1).boolean(False)
    s["finalize"] = (R().start(8).text("uploads/k").int64(42).boolean(False).maybe("a.txt")
                     .maybe("text/plain"))
    s["finalize_no_optionals"] = (R().start(8).text("uploads/k").int64(1).boolean(False)
                                  .maybe(None).maybe(None))
    s["finalize_zero_length"] = (R().start(8).text("k").int64(0).boolean(False).maybe(None)
                                 .maybe(None))

    def upload(url_index, suffix, method, headers, body):
        r = R().start(9).text("obj")
        r.boolean(True).size(url_index, 0, 5).string(suffix, 24)
        if method == "PUT":
            r.boolean(True)
        else:
            r.boolean(False).string(method, 8)
        r.int32(len(headers), 0, 4)
        names = ["Content-Type", "x-amz-security-token", "x-ms-blob-type", "Authorization",
                 "X-API-Key"]
        for name, value in headers:
            if name in names:
                r.boolean(True).size(names.index(name), 0, 4)
            else:
                r.boolean(False).string(name, 12)
            r.text(value)
        return r.text(body)

    s["upload_s3"] = upload(0, "", "PUT", [("Content-Type", "application/pdf"),
                                           ("x-amz-security-token", "SESSIONTOKEN123")],
                            "%PDF-1.7")
    s["upload_azure_sig"] = upload(1, "&x=1", "PUT", [("x-ms-blob-type", "BlockBlob")], "b")
    s["upload_fragment_token"] = upload(4, "", "POST", [], "")
    s["upload_bad_method"] = upload(2, "", "P UT", [], "")
    s["upload_bad_header_value"] = upload(3, "", "PUT", [("Authorization", "a\nb")], "")
    s["upload_bad_url"] = upload(2, "x:", "PUT", [], "")

    def helper(i):
        return R().start(10).int32(i, 0, 4)

    s["join_url_path"] = helper(0).int32(0, 0, 2).size(3, 0, len(BASES) - 1).boolean(False) \
        .text("v1/a?b=%C3%A9")
    s["join_url_bad_path"] = helper(0).int32(0, 0, 2).size(0, 0, len(BASES) - 1) \
        .boolean(False).text("/v1/a#f")
    s["validate_id_near_miss"] = helper(1).text(RUN[:-1] + "g")
    s["validate_id_uuid"] = helper(1).text(TASK)
    s["percent_encode"] = helper(2).text("a b/\u00e9?&=#%~._-\0")
    s["parse_raw_json_string"] = helper(3).json("\"\\u00e9\"")
    s["parse_raw_json_trailing"] = helper(3).json("1 2")
    s["parse_raw_json_null_spaces"] = helper(3).json(" null \n")
    s["parse_raw_json_bad_surrogate"] = helper(3).json("{\"a\":\"\\ud800\"}")
    for i, text in enumerate(["\"\\x\"", "x", "-", "tru", "\"abc", "true ", "1e999", "\"\\ud800\""]):
        s["parse_raw_json_scalar_%d" % i] = helper(3).json(text)

    def printed(url, headers, body, cut):
        r = helper(4).string("GET", 8).boolean(False).text(url).int32(len(headers), 0, 4)
        names = ["X-API-Key", "Cookie", "X-Session-Token", "Accept", "proxy-authorization"]
        for name, value in headers:
            if name in names:
                r.boolean(True).size(names.index(name), 0, 4)
            else:
                r.boolean(False).string(name, 12)
            if value is None:
                r.boolean(True)  # the key
            else:
                r.boolean(False).text(value)
        if isinstance(body, tuple):
            r.long_text(*body)
        else:
            r.text(body)
        return r.size(cut, 0, 5000)

    s["printed_secret_headers"] = printed(
        "https://h.test/p?token=abc&sig=x&a=b#frag",
        [("X-API-Key", None), ("Cookie", "session=abcdefgh"), ("Accept", "x")],
        "key " + KEY + " in a body", 12)
    s["printed_key_across_cut"] = printed("/v1/x?X-Amz-Credential=c", [("X-API-Key", None)],
                                          ("abcd", 1100, 4090), 4096)
    s["printed_no_path"] = printed("https://h.test", [("X-Session-Token", "tok12345678")],
                                   "tok12345678tok12345678", 5)
    return s


# ---- fuzz_retry_after --------------------------------------------------------------------------

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class Retry(Provider):
    def case_raw(self, text):
        return self.int32(0, 0, 4).string(text, 48)

    def case_delta(self, digits, blanks=None, mutate=None):
        self.int32(1, 0, 4).size(len(digits), 1, 30)
        for d in digits:
            self.int32(int(d), 0, 9)
        return self.tail(blanks, mutate)

    def case_date(self, form, wd, mo, d, h, mi, s, year, pad_space=False, out_of_range=False,
                  blanks=None, mutate=None):
        """form 2: IMF-fixdate, 3: rfc850 (year = two digits), 4: asctime."""
        self.int32(form, 0, 4).int32(wd, 0, 6).int32(mo, 1, 12)
        if out_of_range:
            self.int32(1, 1, 31).int32(0, 0, 23).int32(0, 0, 59).int32(0, 0, 60)
            self.boolean(True).int32(d, 0, 39).int32(h, 0, 29).int32(mi, 0, 69).int32(s, 0, 69)
        else:
            self.int32(d, 1, 31).int32(h, 0, 23).int32(mi, 0, 59).int32(s, 0, 60)
            self.boolean(False)
        if form == 3:
            self.int32(year, 0, 99)
        else:
            self.int32(year, 0, 9999)
            if form == 4 and d < 10:
                self.boolean(pad_space)
        return self.tail(blanks, mutate)

    def tail(self, blanks, mutate):
        self.boolean(blanks is not None)
        if blanks is not None:
            self.size(blanks[0], 0, 2).size(blanks[1], 0, 2)
        if mutate is None:
            return self.int32(1, 0, 7)
        self.int32(0, 0, 7)
        at, c, length = mutate
        return self.size(at, 0, length - 1).char(c)

    def retry_after(self, now_s):
        return self.int32(0, 0, 2).int_range(now_s, 0, 9_000_000_000)


NOW = 1_780_000_000  # 2026-05-28


def retry_seeds():
    s = {}
    R = Retry

    def ra(name, now=NOW, late=0):
        s[name] = R().retry_after(now)
        return s[name]

    # The hint's delay from other instants: a few seconds later.
    def done(r, late=5):
        return r.int32(late, -100000, 100000)

    done(ra("delta_120").case_delta("120"))
    done(ra("delta_zero").case_delta("0"))
    done(ra("delta_clamped_30_digits").case_delta("9" * 30))
    done(ra("delta_blanks").case_delta("7", blanks=(2, 1)))
    ra("delta_sign_mutated").case_delta("12", mutate=(0, "-", 2))
    done(ra("imf_fixdate").case_date(2, 6, 11, 6, 8, 49, 37, 1994))
    done(ra("imf_fixdate_future").case_date(2, 3, 1, 1, 0, 0, 0, 2027))
    done(ra("imf_fixdate_leap_day").case_date(2, 3, 2, 29, 12, 0, 60, 2028))
    ra("imf_fixdate_feb_30").case_date(2, 0, 2, 30, 0, 0, 0, 2027, out_of_range=True)
    ra("imf_fixdate_hour_24").case_date(2, 0, 5, 1, 24, 0, 0, 2027, out_of_range=True)
    done(ra("imf_fixdate_year_9999").case_date(2, 4, 12, 31, 23, 59, 59, 9999))
    done(ra("imf_fixdate_year_0").case_date(2, 5, 1, 1, 0, 0, 0, 0))
    done(ra("rfc850").case_date(3, 6, 11, 6, 8, 49, 37, 94))
    done(ra("rfc850_next_century").case_date(3, 0, 1, 1, 0, 0, 0, 76))
    done(ra("rfc850_this_century").case_date(3, 0, 1, 1, 0, 0, 0, 75))
    done(ra("rfc850_1999_from_2050", now=2_540_000_000).case_date(3, 4, 12, 31, 0, 0, 0, 99))
    done(ra("asctime").case_date(4, 6, 11, 6, 8, 49, 37, 1994, pad_space=True))
    done(ra("asctime_zero_padded_day").case_date(4, 6, 11, 6, 8, 49, 37, 2030))
    done(ra("asctime_two_digit_day").case_date(4, 6, 11, 16, 8, 49, 37, 2030))
    ra("asctime_mutated").case_date(4, 6, 11, 16, 8, 49, 37, 2030, mutate=(3, "x", 24))
    ra("raw_lowercase_gmt").case_raw("Sun, 06 Nov 1994 08:49:37 gmt")
    ra("raw_plus_sign").case_raw("+5")
    ra("raw_empty").case_raw("")
    ra("raw_tabs").case_raw("\t \t")
    done(ra("imf_now_at_start", now=0).case_date(2, 3, 1, 1, 0, 0, 0, 1969))

    def err(name, req_kind, status_kind, status, body, retry=None, key_letters="abcdefghijkl",
            hand=None):
        r = R().int32(1, 0, 2).size(len(key_letters), 0, 24)
        for c in key_letters:
            r.int32(ord(c) - ord("a"), 0, 25)
        r.int32(req_kind, 0, 4)
        statuses = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 599, 200,
                    302]
        if status_kind == 0:
            r.int32(0, 0, 2).size(statuses.index(status), 0, 15)
        elif status_kind == 1:
            r.int32(1, 0, 2).int32(status, 100, 699)
        else:
            r.int32(2, 0, 2).int_full(status)
        kind, args = body
        r.int32(kind, 0, 3)
        if kind == 0:
            text, as_string, with_key, after, error = args
            r.string(text, 32).boolean(as_string)
            if as_string:
                r.boolean(with_key).string(after, 8)
            r.string(error, 16)
        elif kind == 1:
            r.string(args[0], 256).string(args[1], 64)
        elif kind == 3:
            r.string(args, 512)
        r.boolean(retry is not None)
        if retry is not None:
            retry(r)
        r.boolean(hand is not None)
        if hand is not None:
            r.string(hand, 64)
        s[name] = r

    err("error_401_echoes_key", 0, 0, 401, (0, ("bad key ", True, True, "!", "Unauthorized")))
    err("error_403_upload", 3, 0, 403, (3, "<Error>AccessDenied</Error>"))
    err("error_403_files", 2, 0, 403, (2, None))
    err("error_403_run", 0, 0, 403, (2, None))
    err("error_400_skip_wait", 1, 0, 400, (0, ("not waiting", False, False, "", "Bad Request")))
    err("error_400", 0, 0, 400, (2, None))
    err("error_404_upload", 3, 0, 404, (2, None))
    err("error_404", 0, 0, 404, (2, None))
    err("error_413_upload", 3, 0, 413, (2, None))
    err("error_413", 2, 0, 413, (2, None))
    for st in (408, 409, 422, 500, 502, 504, 599, 200, 302):
        err("error_%d" % st, 0, 0, st, (2, None))
    err("error_429_retry_after", 0, 0, 429, (2, None),
        retry=lambda r: r.case_delta("30"))
    err("error_503_retry_date", 4, 0, 503, (1, ("down ", " for maintenance")),
        retry=lambda r: r.case_date(2, 0, 1, 1, 0, 0, 0, 2027))
    err("error_status_any", 0, 2, -7, (3, "x"))
    err("error_status_1xx", 0, 1, 150, (3, ""))
    err("error_short_key", 0, 0, 401, (0, ("k", True, True, "", "")), key_letters="")
    err("error_message_null", 0, 0, 500, (3, "{\"message\":null}"))
    # message_text() of a hand-made body, whatever its message holds
    for i, text in enumerate(["[\"a\",1,{\"b\":[2]},null]", "[1,", "\"\\x\"", "{", "[\"a\",tru]",
                              "[\"\\x\"]", "nul", "\"ok\"", "7", "[]", "null", "", b"\xff",
                              "[,1]", "[1 2]", "[\"a\"\"b\"]", "[1,,2]"]):
        err("hand_message_%d" % i, 0, 0, 500, (2, None), hand=text)

    def pol(name, attempts, method, attempt, outcome, status=None, retry=None,
            non_idem=False, base=250, max_delay=20000, max_after=120):
        r = R().int32(2, 0, 2).int32(attempts, 0, 10).int_range(base, 0, 1 << 20)
        r.int_range(max_delay, 0, 1 << 30).int_range(max_after, 0, 1 << 20).boolean(non_idem)
        methods = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH", "get"]
        r.size(methods.index(method), 0, 7).int32(attempt, -2, 40).double_zero()
        r.int_range(NOW, 0, 8_000_000_000).int32(outcome, 0, 2)
        if outcome == 2:
            r.int32(1, 0, 2).int32(status, 100, 699)
            r.boolean(retry is not None)
            if retry is not None:
                retry(r)
                r.boolean(True)
        s[name] = r

    pol("policy_transport_error", 4, "GET", 1, 0)
    pol("policy_other_error", 4, "GET", 1, 1)
    pol("policy_last_attempt", 2, "GET", 2, 0)
    pol("policy_post_not_retried", 4, "POST", 1, 2, status=503)
    pol("policy_post_retried", 4, "POST", 1, 2, status=503, non_idem=True)
    pol("policy_final_status", 4, "PUT", 1, 2, status=404)
    pol("policy_retry_after_delta", 4, "DELETE", 1, 2, status=429,
        retry=lambda r: r.case_delta("3"))
    pol("policy_retry_after_too_long", 4, "HEAD", 1, 2, status=503,
        retry=lambda r: r.case_delta("3600"))
    pol("policy_retry_after_date", 4, "OPTIONS", 1, 2, status=503,
        retry=lambda r: r.case_date(2, 0, 5, 28, 20, 0, 0, 2026))
    pol("policy_retry_after_unparsable", 4, "GET", 1, 2, status=502,
        retry=lambda r: r.case_raw("soon"))
    pol("policy_backoff_capped", 10, "GET", 9, 2, status=500, base=1 << 20, max_delay=1000)
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, p in seeds.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(p.data())
    print("%s: %d seeds" % (target, len(seeds)), file=sys.stderr)


if __name__ == "__main__":
    write("request", request_seeds())
    write("retry_after", retry_seeds())
