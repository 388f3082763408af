#!/usr/bin/env python3
"""Load on one phrony-emulator: N clients at once, each starting a run of the Refund Approver,
following its event stream and approving its refund (issue 12: 300 concurrent
`phrony-run --stream --approve` once hung 56 of them behind a full thread pool).

First it holds --held-streams event streams open and checks that a short request beside them is
still answered (a fixed pool of fewer threads starves it). Then it starts N clients at once and
checks that every client exited 0 within the deadline and that the emulator received exactly
N x RUNS answers (POST /v1/runs/{id}/messages answered 202, one per run, per
GET /_emulator/requests), and prints the wall time, the emulator's peak RSS and the count.
Under AddressSanitizer (a sanitized client binary) it runs at most 50 clients: each takes far
more memory and time there.

  emulator_load.py --emulator PATH --phrony-run PATH [--clients N] [--runs-per-client R]
                   [--client-cmd TEMPLATE] [--deadline SECONDS] [--emulator-arg ARG ...]

--client-cmd replaces the client command line; it is split like a shell line and these fields
are filled in: {phrony_run} {base} {agent} {timeout}. The key comes from PHRONY_API_KEY. A client
that follows several runs on one thread (phrony-coro --runs R) is driven as
  --runs-per-client R --client-cmd '.../phrony-coro --runs R --base {base} --agent {agent}
  --stream --approve --timeout {timeout}'
so that N x R answers are expected.
"""
import argparse
import json
import os
import re
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

KEY = "phk_emulator_all"
AGENT = "a1000000-0000-4000-8000-000000000001"  # Refund Approver: one approval per run
DEFAULT_CMD = ("{phrony_run} --base {base} --agent {agent} --stream --approve "
               "--timeout {timeout}")


def peak_rss_kib(pid):
    """The process's peak RSS so far (VmHWM), in KiB; 0 when unreadable."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def is_sanitized(binary):
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def start_emulator(exe, extra, workdir):
    port_file = os.path.join(workdir, "port")
    log = open(os.path.join(workdir, "emulator.log"), "wb")
    proc = subprocess.Popen([exe, "--port", "0", "--port-file", port_file] + extra,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for _ in range(500):  # at most 5 s
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, "http://127.0.0.1:%d" % int(f.read())
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    sys.exit("phrony-emulator did not start:\n" + open(log.name).read())


def answers(base):
    """The emulator's answered POST .../messages requests: (count with 202, distinct run ids)."""
    with urllib.request.urlopen(base + "/_emulator/requests", timeout=30) as r:
        log = json.load(r)
    runs = []
    for e in log["requests"]:
        m = re.fullmatch(r"/v1/runs/([^/]+)/messages", e["path"])
        if e["method"] == "POST" and m and e["status"] == 202:
            runs.append(m.group(1))
    return len(runs), len(set(runs)), log["total"], len(log["requests"])


def api(base, method, path, timeout):
    req = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None,
                                 headers={"X-API-Key": KEY})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.load(r)


def held_streams(base, count, within=10.0):
    """Opens `count` event streams on one waiting run, then asks for the run's status on a new
    connection: every stream must get its response head and the status request its answer
    within `within` seconds (a fixed pool of fewer threads serves neither). None, or why not."""
    _, started = api(base, "POST", "/v1/agents/%s/runs" % AGENT, within)
    run = started["runId"]
    host, port = base.rsplit("/", 1)[1].split(":")
    deadline = time.monotonic() + within
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection((host, int(port)), timeout=within)
            socks.append(s)
            s.sendall(("GET /v1/runs/%s/stream HTTP/1.1\r\nHost: %s:%s\r\nX-API-Key: %s\r\n"
                       "Accept: text/event-stream\r\n\r\n" % (run, host, port, KEY)).encode())
        for i, s in enumerate(socks):
            head = b""
            while b"\r\n\r\n" not in head:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    chunk = b""
                if not chunk:
                    return "stream %d of %d got no response head within %.0f s" % (i + 1, count,
                                                                                     within)
                head += chunk
            if not head.startswith(b"HTTP/1.1 200"):
                return "stream %d of %d: %r" % (i + 1, count, head.split(b"\r\n")[0])
        try:
            status, body = api(base, "GET", "/v1/runs/" + run, max(0.1, deadline - time.monotonic()))
        except OSError as e:
            return "GET /v1/runs/{id} beside %d open streams: %s" % (count, e)
        if status != 200 or body.get("status") is None:
            return "GET /v1/runs/{id} beside %d open streams: %d %r" % (count, status, body)
        return None
    finally:
        for s in socks:
            s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--emulator", required=True)
    p.add_argument("--phrony-run", default="phrony-run")
    p.add_argument("--clients", "-n", type=int, default=100)
    p.add_argument("--runs-per-client", type=int, default=1)
    p.add_argument("--client-cmd", default=DEFAULT_CMD)
    p.add_argument("--deadline", type=float, default=60.0,
                   help="seconds for all clients together; stragglers are killed and fail")
    p.add_argument("--emulator-arg", action="append", default=[])
    p.add_argument("--held-streams", type=int, default=150,
                   help="streams held open while a short request must still be answered "
                   "(before the clients start; 0: skip)")
    args = p.parse_args()
    if is_sanitized(args.phrony_run) and args.clients > 50:
        print("%s is built with AddressSanitizer: 50 clients, not %d" % (args.phrony_run,
                                                                          args.clients))
        args.clients = 50

    # Each client holds a few descriptors of ours (its output file) and the emulator's sockets.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        emulator, base = start_emulator(args.emulator, args.emulator_arg, tmp)
        if args.held_streams > 0:
            t = time.monotonic()
            why = held_streams(base, args.held_streams)
            if why:
                failures.append("streams starve short requests: " + why)
            else:
                print("%d streams held open: a short request beside them answered (%.1f s)"
                      % (args.held_streams, time.monotonic() - t))
        env = dict(os.environ, PHRONY_API_KEY=KEY)
        fields = {"phrony_run": args.phrony_run, "base": base, "agent": AGENT,
                  "timeout": str(int(args.deadline))}
        argv = [a.format(**fields) for a in shlex.split(args.client_cmd)]
        # Every client waits at a barrier (a read on a pipe only we can write to) until all are
        # launched: launching 1000 processes takes seconds, and a staggered start is no burst.
        gate_r, gate_w = os.pipe()
        launch_start = time.monotonic()
        clients = {}
        for i in range(args.clients):
            out = os.path.join(tmp, "client%d.out" % i)
            with open(out, "wb") as f:
                proc = subprocess.Popen(["/bin/sh", "-c", 'read _; exec "$@" </dev/null', "sh"]
                                        + argv, env=env, stdin=gate_r, stdout=f,
                                        stderr=subprocess.STDOUT)
            # The Popen is kept: one dropped would be reaped by the next Popen, not by us.
            clients[proc.pid] = (i, out, proc)
        os.close(gate_r)
        launched = time.monotonic() - launch_start
        start = time.monotonic()
        os.close(gate_w)  # every read sees end of file: go
        exits = {}
        took = []  # seconds from the start to each client's exit, in exit order
        killed = False
        while len(exits) < len(clients):
            if not killed and time.monotonic() - start > args.deadline:
                for pid in clients.keys() - exits.keys():
                    clients[pid][2].kill()
                killed = True
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.02)
            elif pid in clients:
                exits[pid] = os.waitstatus_to_exitcode(status)
                took.append(time.monotonic() - start)
                clients[pid][2].returncode = exits[pid]  # reaped here
        wall = time.monotonic() - start

        rss = peak_rss_kib(emulator.pid)
        try:
            got, distinct, total, kept = answers(base)
        except OSError as e:
            got, distinct, total, kept = -1, -1, -1, -1
            failures.append("GET /_emulator/requests failed: %s" % e)
        emulator.send_signal(signal.SIGTERM)
        cpu = 0.0
        try:
            _, status, usage = os.wait4(emulator.pid, 0)
            emulator.returncode = status  # reaped here
            rss = max(rss, usage.ru_maxrss)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            pass

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = sum(1 for code in exits.values() if code == 0)
        want = args.clients * args.runs_per_client
        print("clients: %d (x %d runs), launched in %.1f s, then started at once"
              % (args.clients, args.runs_per_client, launched))
        print("wall time: %.1f s (from the start to the last exit); clients took %s"
              % (wall, ", ".join("p%d %.1f s" % (q, took[min(len(took) - 1, len(took) * q // 100)])
                                  for q in (10, 50, 90)) if took else "-"))
        print("emulator peak RSS: %.1f MiB, CPU time %.1f s; all processes' CPU time %.1f s"
              % (rss / 1024.0, cpu, children.ru_utime + children.ru_stime))
        print("clients exited 0: %d of %d%s" % (completed, args.clients,
                                                "; stragglers killed" if killed else ""))
        print("answers received: %d (distinct runs %d, want %d); requests logged: %d"
              % (got, distinct, want, total))
        if completed != args.clients:
            bad = sorted((clients[pid][0], code) for pid, code in exits.items() if code != 0)
            failures.append("%d client(s) did not exit 0: %s" % (len(bad), bad[:10]))
            with open(clients[next(pid for pid, c in exits.items() if c != 0)][1], "rb") as f:
                failures.append("first failing client's output:\n" +
                                f.read().decode(errors="replace")[-2000:])
        if kept != total and got != want:
            failures.append("the request log kept only the last %d of %d requests" % (kept, total))
        elif got != want or distinct != want:
            failures.append("the emulator got %d answers for %d runs, want %d" % (got, distinct,
                                                                                  want))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
