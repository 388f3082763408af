#!/usr/bin/env python3
"""phrony-emulator --seed: the same seed, scenario and requests give the same ids; another seed
gives other ids. Three emulators (--seed 7, --seed 7, --seed 8) each serve one approval flow
(start, wait, read the conversation, approve, wait, read it again, list sessions, presign an
upload); every UUID in the responses, in order, must be equal for the two seed-7 emulators, and
the ids the emulator handed out (session, run, user task, items, object key) must all differ
for seed 8. The agent's own ids come from the scenario and stay.

  emulator_seed_test.py PHRONY_EMULATOR
"""
import json
import os
import re
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulator_load import start_emulator  # noqa: E402 (beside this file)

KEY = "phk_emulator_all"
AGENT = "a1000000-0000-4000-8000-000000000001"  # Refund Approver
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, method=method, data=data,
                                 headers={"X-API-Key": KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def wait_status(base, run, status):
    for _ in range(250):  # at most 5 s
        if json.loads(call(base, "GET", "/v1/runs/" + run))["status"] == status:
            return
        time.sleep(0.02)
    sys.exit("run %s never reached %s" % (run, status))


def flow(base):
    """The UUIDs of every response of one approval flow, in order, and the named ones."""
    bodies = []
    started = call(base, "POST", "/v1/agents/%s/runs" % AGENT, {"input": {"ticket": "ZD-1"}})
    bodies.append(started)
    run = json.loads(started)["runId"]
    wait_status(base, run, "WaitingForHITL")
    conv = call(base, "GET", "/v1/runs/%s/conversation" % run)
    bodies.append(conv)
    task = re.findall(r'"user_task_id":"([^"]+)"', conv)[-1]
    bodies.append(call(base, "POST", "/v1/runs/%s/messages" % run,
                       {"runId": run, "userTaskId": task, "approved": True}))
    wait_status(base, run, "Completed")
    bodies.append(call(base, "GET", "/v1/runs/%s/conversation" % run))
    bodies.append(call(base, "GET", "/v1/agents/%s/sessions" % AGENT))
    presigned = call(base, "POST", "/v1/file-library/presign",
                     {"filename": "a.txt", "mediaType": "text/plain", "maxContentLength": 10})
    bodies.append(presigned)
    named = {"runId": run, "sessionId": json.loads(started)["sessionId"], "userTaskId": task,
             "objectKey": json.loads(presigned)["objectKey"]}
    return [u for b in bodies for u in UUID.findall(b)], named


def main():
    exe = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        try:
            results = {}
            for name, seed in (("a", 7), ("b", 7), ("c", 8)):
                workdir = os.path.join(tmp, name)
                os.mkdir(workdir)
                proc, base = start_emulator(exe, ["--seed", str(seed)], workdir)
                procs.append(proc)
                results[name] = flow(base)
        finally:
            for p in procs:
                p.terminate()
                p.wait()
    (ids_a, named_a), (ids_b, named_b), (ids_c, named_c) = results["a"], results["b"], results["c"]
    if len(ids_a) < 10:
        failures.append("only %d ids in the flow's responses" % len(ids_a))
    if ids_a != ids_b or named_a != named_b:
        diff = next((i for i, (x, y) in enumerate(zip(ids_a, ids_b)) if x != y), None)
        failures.append("seed 7 twice: the ids differ (%d vs %d ids, first difference at %s)"
                        % (len(ids_a), len(ids_b), diff))
    for field in named_a:
        if named_a[field] == named_c[field]:
            failures.append("seeds 7 and 8 gave the same %s: %s" % (field, named_a[field]))
    # Every id the emulator handed out differs; only the scenario's own ids (agent, version,
    # key, tenant) are shared.
    shared = set(ids_a) & set(ids_c)
    handed_out = set(ids_a) - shared
    if any(u in shared for u in named_a.values() if UUID.fullmatch(u)) or len(handed_out) < 8:
        failures.append("seeds 7 and 8 share %d of %d ids" % (len(shared), len(set(ids_a))))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if not failures:
        print("ok: seed 7 twice gave the same %d ids; seed 8 other ones (%d shared: the "
              "scenario's own)" % (len(ids_a), len(shared)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
