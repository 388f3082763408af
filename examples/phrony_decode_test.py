#!/usr/bin/env python3
"""ctest driver for phrony-decode: samples decode to canonical JSON that is stable under a second
decode and keeps every field of the input; malformed bodies exit 1 with a one-line JSON-path message.
usage: phrony_decode_test.py PHRONY_DECODE FIXTURES_DIR"""
import json
import subprocess
import sys

exe, fixtures = sys.argv[1], sys.argv[2]

SAMPLES = {
    "start-run": ["start_run.json"],
    "run": ["run_completed.json", "run_failed.json", "run_waiting_hitl.json"],
    "accept": ["accept.json"],
    "sessions": ["sessions_page.json"],
    "conversation": ["conversation_small.json", "conversation_slim.json", "conversation_waiting.json"],
    "presign": ["presign.json"],
    "finalize": ["finalize.json"],
}

MALFORMED = [
    ("run", '{"runId":"r","status":"Running"}', "/output: missing required field"),
    ("run", '{"runId":1,"status":"Running","output":null}', "/runId: expected string"),
    ("start-run", '{"sessionId":"s","runId":"r","status":"Running","totalTokensUsed":-3,"output":null}',
     "/totalTokensUsed: expected a number >= 0"),
    ("conversation", None, "/items/3/ordinal: expected integer"),
]

failures = 0


def decode(kind, body):
    return subprocess.run([exe, kind], input=body.encode(), capture_output=True, timeout=60)


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
        if first.returncode == 2 and b"usage" in first.stderr:
            print(f"skip {kind}: not built into this phrony-decode yet")
            continue
        checked += 1
        if first.returncode != 0:
            fail(f"{kind} {name}: exit {first.returncode}: {first.stderr.decode()}")
            continue
        out = first.stdout.decode()
        if not same_json(json.loads(out), json.loads(body)):
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
    if got.returncode == 2 and b"usage" in got.stderr:
        continue
    checked += 1
    lines = got.stderr.decode().splitlines()
    if got.returncode != 1 or lines != [want]:
        fail(f"{kind} malformed: exit {got.returncode}, stderr {lines!r}, want {want!r}")

print(f"{checked - failures} passed, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
