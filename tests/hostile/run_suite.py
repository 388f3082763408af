#!/usr/bin/env python3
"""The hostile-server suite: phrony-run, through each transport and each way of following a run,
against hostile_server.py in each of its modes. For every run it checks that the client

  - ended by itself (no kill) within the mode's bound,
  - exited as expected: 0 when the run completed (control), 1 with a clear one-line error on
    stderr for the hostile modes (some may legitimately complete: they accept 0 too),
  - stayed under a peak RSS bound (the child's ru_maxrss, from os.wait4),
  - never printed the API key (or its secret part) nor a raw control character,
  - sent the server nothing it flags (a control character in a request line or header value),

prints a markdown table (mode | client | outcome | time | peak RSS | key printed? | checks) and
exits 1 when any check failed.

  run_suite.py --phrony-run PATH --server hostile_server.py [--modes a,b] [--jobs N]
               [--markdown FILE] [--transports curl,httplib | none]

--phrony-run may name another client with phrony-run's flags (phrony-coro): its errors are
expected as one "<program name>: ..." line, and --transports none leaves out --transport.
"""
import argparse
import concurrent.futures
import os
import signal
import subprocess
import sys
import tempfile
import time

KEY = "phk_hostile_SECRET_1234567890"
KEY_PARTS = [KEY, "SECRET_1234567890"]
AGENT = "a1000000-0000-4000-8000-000000000001"
# The overall deadline given to phrony-run when it has a flag for one (see probe_timeout_flag).
TIMEOUT_FLAG = "--timeout"
CLIENT_TIMEOUT = 10

BOTH = ("stream", "poll")
STREAM = ("stream",)


class Mode:
    def __init__(self, name, paths=BOTH, exits=(1,), bound=20.0, note="",
                 client_timeout=CLIENT_TIMEOUT):
        self.name, self.paths, self.exits, self.bound, self.note = name, paths, exits, bound, note
        self.client_timeout = client_timeout


# exits: the statuses that count as right. bound: seconds the client may take (before the ASan
# factor); the note names the library fix a failure most likely waits for. client_timeout: the
# TIMEOUT_FLAG value (also times the ASan factor where a mode must complete).
MODES = [
    Mode("control", exits=(0,)),
    Mode("endless-header"),
    Mode("endless-line"),
    Mode("huge-retry", STREAM, exits=(0, 1), bound=45.0, note="the SSE retry cap (sse.hpp)"),
    Mode("ctl-run-id", note="phrony-run escaping control characters it prints, or start_run "
         "refusing a runId that is no UUID"),
    Mode("ctl-event-id", STREAM, exits=(0, 1),
         note="Last-Event-ID with control characters dropped on reconnect (sse.hpp)"),
    Mode("gigantic"),
    Mode("trickle", bound=CLIENT_TIMEOUT + 10.0,
         note="phrony-run " + TIMEOUT_FLAG + " setting follow_options::max_duration and "
         "http_request::timeout"),
    Mode("bad-chunk-neg"),
    Mode("bad-chunk-0x"),
    Mode("bad-chunk-zz"),
    Mode("bad-chunk-overflow"),
    Mode("bad-chunk-huge"),
    Mode("invalid-utf8", exits=(0, 1)),
    # The flood takes 0.1 s in a Debug build and 4-5 s under ASan on idle cores, but over 10 s
    # under ASan sharing two cores with a compile (seen in CI), so its deadline is not 10 s.
    Mode("flood", STREAM, exits=(0,), bound=60.0, client_timeout=40),
    Mode("reset"),
]
TRANSPORTS = ("curl", "httplib")


def is_sanitized(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def probe_timeout_flag(phrony_run):
    """Whether phrony-run takes TIMEOUT_FLAG (an overall deadline for the whole follow)."""
    env = dict(os.environ, PHRONY_API_KEY=KEY)
    p = subprocess.run([phrony_run, TIMEOUT_FLAG, "5", "--agent", AGENT, "--base",
                        "http://127.0.0.1:9"], env=env, capture_output=True, timeout=30)
    return b"unknown option" not in p.stderr


def start_server(server, mode, workdir, lifetime):
    port_file = os.path.join(workdir, "port")
    report = os.path.join(workdir, "report")
    proc = subprocess.Popen([sys.executable, server, "--mode", mode, "--port-file", port_file,
                             "--report", report, "--lifetime", str(lifetime)],
                            stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, int(f.read()), report
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    raise RuntimeError("hostile_server.py --mode %s did not start" % mode)


def run_client(argv, env, stdout, stderr, hard_limit):
    """Runs argv; returns (exit status or None when killed, signal, seconds, peak RSS in KiB)."""
    start = time.monotonic()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid != 0:
            break
        if not killed and time.monotonic() - start > hard_limit:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.01)
    proc.returncode = status  # reaped here; keeps Popen from waiting for it again
    took = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    return (None if killed else code), took, usage.ru_maxrss


def one_case(args, mode, transport, path, timeout_flag, factor, rss_bound_mb):
    bound = mode.bound * factor
    hard = bound + 10.0
    with tempfile.TemporaryDirectory(prefix="phrony-hostile-") as d:
        server, port, report = start_server(args.server, mode.name, d, hard + 20)
        try:
            argv = [args.phrony_run, "--base", "http://127.0.0.1:%d" % port, "--agent", AGENT,
                    "--" + path, "--approve"]
            if transport != "none":
                argv += ["--transport", transport]
            if timeout_flag:
                scale = factor if mode.client_timeout != CLIENT_TIMEOUT else 1.0
                argv += [TIMEOUT_FLAG, str(int(mode.client_timeout * scale))]
            env = dict(os.environ, PHRONY_API_KEY=KEY)
            out_path, err_path = os.path.join(d, "stdout"), os.path.join(d, "stderr")
            code, took, rss_kib = run_client(argv, env, out_path, err_path, hard)
        finally:
            server.terminate()
            server.wait()
        with open(out_path, "rb") as f:
            out = f.read()
        with open(err_path, "rb") as f:
            err = f.read()
        violations = []
        if os.path.exists(report):
            with open(report, encoding="utf-8") as f:
                violations = [line.strip() for line in f if '"violation"' in line]

    failures = []
    if code is None:
        failures.append("killed after %.0f s" % hard)
    else:
        if code not in mode.exits:
            failures.append("exit %d, expected %s" % (code, "/".join(map(str, mode.exits))))
        if took > bound:
            failures.append("took over %.0f s" % bound)
    err_lines = err.decode("utf-8", "replace").strip().splitlines()
    prefix = os.path.basename(args.phrony_run) + ": "
    if code == 1 and (len(err_lines) != 1 or not err_lines[0].startswith(prefix)):
        failures.append("stderr is not one '%s...' line" % prefix)
    if code not in (None, 1) and err_lines:
        failures.append("stderr not empty")
    key_printed = any(p.encode() in out or p.encode() in err for p in KEY_PARTS)
    if key_printed:
        failures.append("KEY PRINTED")
    if any((b < 0x20 and b not in (0x09, 0x0A)) or b == 0x7F for b in out + err):
        failures.append("raw control character printed")
    if rss_kib > rss_bound_mb * 1024:
        failures.append("peak RSS over %d MB" % rss_bound_mb)
    if violations:
        failures.append("server saw: " + violations[0][:120])

    if code is None:
        outcome = "killed (no exit)"
    else:
        first = err_lines[0] if err_lines else ""
        if code == 0:
            out_lines = out.decode("utf-8", "replace").strip().splitlines()
            first = out_lines[-1].strip() if out_lines else ""
        first = " ".join(first.split())
        outcome = "exit %d: %s" % (code, first[:110] + ("..." if len(first) > 110 else ""))
    return {
        "mode": mode.name,
        "client": "--%s" % path if transport == "none" else "%s --%s" % (transport, path),
        "outcome": outcome,
        "time": took, "rss_mb": rss_kib / 1024.0, "key": key_printed, "failures": failures,
        "note": mode.note,
    }


def cell(text):
    return text.replace("|", "\\|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phrony-run", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--modes", help="comma-separated subset of the modes")
    ap.add_argument("--transports", default=",".join(TRANSPORTS))
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rss-mb", type=int, default=256,
                    help="peak RSS bound (x3 under ASan): a 64 MiB body bound, a 16 MiB event, growth")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()

    sanitized = is_sanitized(args.phrony_run)
    factor = 3.0 if sanitized else 1.0
    rss_bound = args.rss_mb * (3 if sanitized else 1)
    timeout_flag = probe_timeout_flag(args.phrony_run)
    wanted = set(args.modes.split(",")) if args.modes else None
    modes = [m for m in MODES if wanted is None or m.name in wanted]
    cases = [(m, t, p) for m in modes for t in args.transports.split(",") for p in m.paths]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one_case, args, m, t, p, timeout_flag, factor, rss_bound)
                   for m, t, p in cases]
        rows = [f.result() for f in futures]

    lines = ["| mode | client | outcome | time | peak RSS | key printed? | checks |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        checks = "ok" if not r["failures"] else "FAIL: " + "; ".join(r["failures"])
        if r["failures"] and r["note"]:
            checks += " (needs: " + r["note"] + ")"
        lines.append("| %s | %s | %s | %.1f s | %.0f MB | %s | %s |" % (
            r["mode"], r["client"], cell(r["outcome"]), r["time"], r["rss_mb"],
            "YES" if r["key"] else "no", cell(checks)))
    failed = sum(1 for r in rows if r["failures"])
    lines.append("")
    lines.append("%d runs, %d failed, %.0f s%s%s" % (
        len(rows), failed, time.monotonic() - started, " (ASan build: bounds x3)" if sanitized
        else "", "" if timeout_flag else "; phrony-run has no %s flag" % TIMEOUT_FLAG))
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
