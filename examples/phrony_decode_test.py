#!/usr/bin/env python3
"""ctest driver for phrony-decode: samples decode to canonical JSON that is stable under a second
decode and keeps every field of the input; malformed bodies exit 1 with a one-line JSON-path message;
`sse` and `events` give the same NDJSON whatever --chunk, matching a plain Python transcription of
the WHATWG event-stream steps; the usage line lists every kind; a bad command line exits 64 with
the usage on stderr, --help prints it on stdout and --version the version (both exit 0). The issue's three conversation
variants parse by default (a kept item content reported on stderr with its path) and the first
fails under --strict with its path.
usage: phrony_decode_test.py PHRONY_DECODE FIXTURES_DIR"""
import json
import os
import re
import subprocess
import sys

exe, fixtures = sys.argv[1], sys.argv[2]
USAGE = 64  # the exit status of a usage error (sysexits.h's EX_USAGE)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "phrony",
                       "version.hpp"), encoding="utf-8") as f:
    VERSION = re.search(r'#define PHRONY_VERSION_STRING "([^"]+)"', f.read()).group(1)

SAMPLES = {
    "start-run": ["start_run.json"],
    "run": ["run_completed.json", "run_failed.json", "run_waiting_hitl.json"],
    "accept": ["accept.json"],
    "sessions": ["sessions_page.json"],
    "conversation": ["conversation_small.json", "conversation_slim.json", "conversation_waiting.json",
                     "conversation_options_strings.json", "conversation_tool_error_object.json",
                     "conversation_started_null.json"],
    "presign": ["presign.json"],
    "finalize": ["finalize.json"],
    "error": ["error_401.json"],
}

MALFORMED = [
    ("run", '{"runId":"r","status":"Running"}', "/output: missing required field"),
    ("run", '{"runId":1,"status":"Running","output":null}', "/runId: expected string"),
    ("start-run", '{"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":-3,"output":null}',
     "/totalTokensUsed: expected a number >= 0"),
    ("conversation", None, "/items/3/ordinal: expected integer"),
    ("sessions", '{"items":[{}],"total":1}', "/items/0/id: missing required field"),
    ("error", '{"statusCode":"401"}', "/statusCode: expected integer"),
    ("presign", '[]', "expected object"),
]

# Known losses, reported to the lead: start_context keeps topK/topP as std::optional<double>,
# so an explicit null comes out absent. Listed here (printed on every run, not hidden) so the
# rest of the check stays strict; delete an entry once canonical JSON keeps the null.
failures = 0


def decode(kind, body, *args):
    data = body if isinstance(body, bytes) else body.encode()
    return subprocess.run([exe, kind, *args], input=data, capture_output=True, timeout=60)


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def same_json(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


checked = 0
for kind, names in SAMPLES.items():
    for name in names:
        with open(f"{fixtures}/{name}", encoding="utf-8") as f:
            body = f.read()
        first = decode(kind, body)
        if first.returncode == USAGE and b"usage" in first.stderr:
            print(f"skip {kind}: not built into this phrony-decode yet")
            continue
        checked += 1
        if first.returncode != 0:
            fail(f"{kind} {name}: exit {first.returncode}: {first.stderr.decode()}")
            continue
        out = first.stdout.decode()
        want = json.loads(body)
        if not same_json(json.loads(out), want):
            fail(f"{kind} {name}: canonical JSON differs from the input as a JSON value")
        second = decode(kind, out)
        if second.stdout.decode() != out:
            fail(f"{kind} {name}: decoding the canonical output changed it")

for kind, body, want in MALFORMED:
    if body is None:
        with open(f"{fixtures}/conversation_slim.json", encoding="utf-8") as f:
            doc = json.load(f)
        doc["items"][3]["ordinal"] = "four"
        body = json.dumps(doc)
    got = decode(kind, body)
    if got.returncode == USAGE and b"usage" in got.stderr:
        continue
    checked += 1
    lines = got.stderr.decode().splitlines()
    if got.returncode != 1 or lines != [want]:
        fail(f"{kind} malformed: exit {got.returncode}, stderr {lines!r}, want {want!r}")


# Tolerant by default, strict on request: (kind, fixture or body, default (exit, stderr lines),
# --strict (exit, stderr lines)). An empty stderr list means nothing printed.
KEPT = "/items/13/content/options/0: expected object (item content kept verbatim)"
MODES = [
    ("conversation", "conversation_options_strings.json", (0, [KEPT]),
     (1, ["/items/13/content/options/0: expected object"])),
    ("conversation", "conversation_tool_error_object.json", (0, []), (0, [])),
    ("conversation", "conversation_started_null.json", (0, []), (0, [])),
    ("conversation", "conversation_waiting.json", (0, []), (0, [])),
    ("accept", "", (0, []), (1, None)),
    ("accept", " \n", (0, []), (1, None)),
    ("run", '{"runId":"r","status":"Running","output":null,"error":tru}',
     (1, ["/error: invalid literal"]), (1, ["/error: invalid literal"])),
]
for kind, source, default, strict in MODES:
    body = source
    if source.endswith(".json"):
        with open(f"{fixtures}/{source}", encoding="utf-8") as f:
            body = f.read()
    for args, (want_exit, want_lines) in (([], default), (["--strict"], strict)):
        got = decode(kind, body, *args)
        checked += 1
        lines = got.stderr.decode().splitlines()
        if got.returncode != want_exit or (want_lines is not None and lines != want_lines):
            fail(f"{kind} {source[:40]!r} {args}: exit {got.returncode}, stderr {lines!r}, "
                 f"want exit {want_exit}, {want_lines!r}")
        if want_exit == 1 and (got.stdout or len(lines) != 1):
            fail(f"{kind} {source[:40]!r} {args}: a failure prints one line and no value")


def whatwg_events(raw):
    """The WHATWG event-stream steps, transcribed plainly: (events, last event id, retry)."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:-1]
    events, data, etype, id_buf, last_id, retry = [], "", "", "", "", None
    for line in lines:
        if line == "":
            last_id = id_buf
            if data:
                events.append({"type": etype or "message", "data": data[:-1], "id": last_id})
            data, etype = "", ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            etype = value
        elif field == "data":
            data += value + "\n"
        elif field == "id" and "\0" not in value:
            id_buf = value
        elif field == "retry" and value and all("0" <= c <= "9" for c in value):
            retry = int(value)
    return events, last_id, retry


STREAMS = {
    "stream_small.sse": open(f"{fixtures}/stream_small.sse", "rb").read(),
    # CR, LF and CRLF ends, a BOM, comments, ids, retry, a bad payload and an unknown kind.
    "hand-made": b"\xef\xbb\xbfretry: 250\r\n: keep-alive\r"
    b'id: 1\ndata: {"ts":"t","kind":"run","subject":"engine.run.completed",\r\n'
    b'data: "data":{"run_id":"r1","status":"Completed"}}\r\n\r\n'
    b"data: {not json\n\n"
    b'event: custom\ndata:{"ts":"t","kind":"brand_new","subject":"x","data":[1],"more":true}\n\n'
    b"data: dropped, never terminated",
}

for name, raw in STREAMS.items():
    events, last_id, retry = whatwg_events(raw)
    want_sse = [json.dumps(e) for e in events] + [
        json.dumps({"end": True, "lastEventId": last_id, "retry": retry})]
    for kind in ("sse", "events"):
        outputs = {}
        for chunk in (None, "1", "7"):
            got = decode(kind, raw, *(["--chunk", chunk] if chunk else []))
            checked += 1
            if got.returncode != 0:
                fail(f"{kind} {name} chunk {chunk}: exit {got.returncode}: {got.stderr.decode()}")
                continue
            outputs[chunk] = got.stdout.decode()
        if len(set(outputs.values())) != 1:
            fail(f"{kind} {name}: output depends on the chunk size")
        out = outputs.get(None, "").splitlines()
        if kind == "sse":
            got_sse = [json.dumps(json.loads(line)) for line in out]
            if got_sse != want_sse:
                fail(f"sse {name}: events differ from the WHATWG transcription")
            continue
        if len(out) != len(events):
            fail(f"events {name}: {len(out)} lines for {len(events)} events")
            continue
        for line, ev in zip(out, events):
            value = json.loads(line)
            try:
                payload = json.loads(ev["data"])
            except json.JSONDecodeError:
                payload = None
            if isinstance(payload, dict) and {"ts", "kind", "subject", "data"} <= payload.keys():
                if not same_json(value, payload):
                    fail(f"events {name}: line differs from the payload: {line[:200]}")
            elif list(value) != ["error"] or not value["error"]:
                fail(f"events {name}: want an error line for {ev['data'][:80]!r}, got {line[:200]}")

for bad in (["sse", "--chunk", "0"], ["events", "--chunk", "x"], ["run", "--chunk", "3"], ["nope"],
            ["sse", "--strict"], ["run", "--strict", "x"], ["run", "--lenient"]):
    got = subprocess.run([exe, *bad], input=b"", capture_output=True, timeout=60)
    checked += 1
    if got.returncode != USAGE or b"usage" not in got.stderr or got.stdout:
        fail(f"{bad}: want usage on stderr and exit {USAGE}, got exit {got.returncode}")

usage = subprocess.run([exe], capture_output=True, timeout=60).stderr.decode()
listed = usage.split("kinds:", 1)[-1].replace(",", " ").split()
for kind in list(SAMPLES) + ["sse", "events"]:
    accepted = decode(kind, "").returncode != USAGE
    checked += 1
    if accepted != (kind in listed):
        fail(f"usage lists {kind}: {kind in listed}, but phrony-decode accepts it: {accepted}")

# --help: the usage on stdout, exit 0; --version: "phrony-decode <PHRONY_VERSION_STRING>".
got = subprocess.run([exe, "--help"], capture_output=True, timeout=60)
checked += 1
if got.returncode != 0 or got.stderr or got.stdout.decode() != usage:
    fail(f"--help: exit {got.returncode}, want 0 and the usage on stdout (stderr: {got.stderr!r})")
got = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
checked += 1
if got.returncode != 0 or got.stdout.decode() != f"phrony-decode {VERSION}\n":
    fail(f"--version: exit {got.returncode}, printed {got.stdout!r}, want 'phrony-decode {VERSION}'")

print(f"{checked - failures} passed, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
