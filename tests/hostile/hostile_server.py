#!/usr/bin/env python3
"""A hostile stand-in for the Phrony API: just enough of it (start a run, its status, its event
stream) for phrony-run to start a run and follow it, with one misbehaviour chosen by --mode.

  hostile_server.py --mode MODE [--port-file FILE] [--report FILE] [--lifetime SECONDS]

It listens on 127.0.0.1 on a free port, writes the port to --port-file (and stdout), and exits by
itself after --lifetime seconds. Every request is appended to --report as a JSON line; a request
that shows the client misbehaving (a raw control character in the request line or a header value,
an injected header) is recorded there with "violation". Error bodies echo the request's
X-API-Key, so a client that prints error bodies unscrubbed prints the key.

The run reads "Running" at the first GET /v1/runs/{id}, so that a client following over the
stream opens the stream before anything else; from the second GET on, the run status misbehaves
as the mode says (modes that leave it alone answer "Completed" once the stream has done its part,
or from the fourth GET on, for a client that only polls).

Modes (the "data response" is GET /v1/runs/{id} after the first, and GET .../stream):
  control        well behaved; the run completes
  endless-header a data response whose header line never ends
  endless-line   a data response whose body is one line that never ends (JSON, SSE data line)
  huge-retry     the first stream says "retry: 9999999999999" and drops the connection
  ctl-run-id     start-run answers a runId with \\u0001 and \\r\\n in it
  ctl-event-id   the first stream's event id holds control characters, then the connection drops
  gigantic       the run status claims a 1 GiB body and sends it; the stream answers 500 likewise
  trickle        data responses arrive one byte per second
  bad-chunk-neg / bad-chunk-0x / bad-chunk-zz / bad-chunk-overflow / bad-chunk-huge
                 data responses in chunked encoding with the chunk size "-1", "0x10", "zz",
                 twenty hex digits, or 2^63-ish followed by too few bytes
  invalid-utf8   invalid UTF-8 in the run status JSON and in a stream event's data
  flood          the stream sends 200,000 tiny events, then the session's completion
  reset          data responses are reset (RST) in the middle of a chunk (a stream's first one
                 after an event, its reconnects after half an event)
"""
import argparse
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time

RUN_ID = "5b0e7c1e-0000-4000-8000-000000000001"
SESSION_ID = "5b0e7c1e-0000-4000-8000-0000000000aa"
BAD_RUN_ID = "5b0e7c1e-0000\u0001-4000\r\nX-Injected: 1"
TS = "2026-01-01T00:00:00.000Z"
GIB = 1 << 30
MODES = ["control", "endless-header", "endless-line", "huge-retry", "ctl-run-id", "ctl-event-id",
         "gigantic", "trickle", "bad-chunk-neg", "bad-chunk-0x", "bad-chunk-zz",
         "bad-chunk-overflow", "bad-chunk-huge", "invalid-utf8", "flood", "reset"]
# Caps on what one response may send, so the server stays bounded whatever the client does.
MAX_ENDLESS = 2 * GIB
# GETs of the run status that read "Running" for a client that never opens the stream.
POLLS_RUNNING = 3
MAX_TRICKLE_SECONDS = 120


class Gone(Exception):
    """The client closed the connection."""


class State:
    def __init__(self, mode, report):
        self.mode = mode
        self.report_path = report
        self.lock = threading.Lock()
        self.streams = 0  # stream requests so far
        self.status_gets = 0  # GET /v1/runs/{id} so far
        self.stream_done = False  # a stream has sent all its mode has to send

    def next_status_get(self):
        with self.lock:
            self.status_gets += 1
            return self.status_gets

    def completed(self, gets):
        with self.lock:
            return self.stream_done or gets > POLLS_RUNNING

    def stream_has_done(self):
        with self.lock:
            self.stream_done = True

    def record(self, entry):
        if not self.report_path:
            return
        with self.lock, open(self.report_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def next_stream(self):
        with self.lock:
            self.streams += 1
            return self.streams


def event(kind, subject, data, event_id=None):
    frame = b""
    if event_id is not None:
        frame += b"id: " + (event_id if isinstance(event_id, bytes) else event_id.encode()) + b"\n"
    body = {"ts": TS, "kind": kind, "subject": subject, "data": data}
    return frame + b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


STARTED = event("run", "engine.run.started", {"runId": RUN_ID, "status": "Running"}, "1")
COMPLETED = (event("run", "engine.run.completed", {"runId": RUN_ID, "status": "Completed"}, "2") +
             event("session", "engine.session.completed",
                   {"sessionId": SESSION_ID, "status": "Completed", "output": {"text": "done"}},
                   "3"))
RUN_RUNNING = json.dumps({"runId": RUN_ID, "status": "Running", "output": None}).encode()
RUN_COMPLETED = json.dumps({"runId": RUN_ID, "status": "Completed",
                            "output": {"text": "hostile control done"}}).encode()
START_RUN = {"sessionId": SESSION_ID, "runId": RUN_ID, "status": "Running",
             "totalTokensUsed": 0, "output": None}


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.settimeout(10)
        self.buf = b""

    # ---- reading requests --------------------------------------------------------------------
    def read_request(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 64 * 1024:
                raise Gone()
            data = self.request.recv(65536)
            if not data:
                raise Gone()
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        request_line = lines[0]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().decode("latin-1"), value.strip()))
        length = 0
        for name, value in headers:
            if name.lower() == "content-length":
                length = int(value)
        while len(self.buf) < length:
            data = self.request.recv(65536)
            if not data:
                raise Gone()
            self.buf += data
        body, self.buf = self.buf[:length], self.buf[length:]
        return request_line, headers, body

    def check(self, request_line, headers):
        problems = []
        if any(b < 0x20 or b == 0x7F for b in request_line):
            problems.append("control character in the request line")
        for name, value in headers:
            if name.lower() == "x-injected":
                problems.append("injected header X-Injected")
            if any((b < 0x20 and b != 0x09) or b == 0x7F for b in value):
                problems.append("control character in header " + name)
        return problems

    # ---- writing responses -------------------------------------------------------------------
    def send(self, data):
        try:
            self.request.sendall(data)
        except OSError:
            raise Gone()

    def respond(self, status, body, content_type="application/json", extra=b""):
        reason = {200: b"OK", 202: b"Accepted", 404: b"Not Found", 500: b"Internal Server Error"}
        self.send(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" %
                  (status, reason.get(status, b"X"), content_type.encode(), len(body), extra) +
                  body)

    def stream_head(self, extra=b""):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache"
                  b"\r\nConnection: close\r\n" + extra + b"\r\n")

    def endless(self, prefix, filler=b"a", limit=MAX_ENDLESS):
        self.send(prefix)
        block = filler * 65536
        sent = 0
        while sent + len(block) <= limit:
            self.send(block)
            sent += len(block)

    def trickle(self, data):
        deadline = time.monotonic() + MAX_TRICKLE_SECONDS
        for i in range(len(data)):
            if time.monotonic() > deadline:
                return
            self.send(data[i:i + 1])
            time.sleep(1)

    def reset(self):
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()

    def bad_chunks(self, content_type, payload):
        variant = self.server.state.mode[len("bad-chunk-"):]
        self.send(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
                  b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        size = {"neg": b"-1", "0x": b"0x10", "zz": b"zz", "overflow": b"1" + b"0" * 19,
                "huge": b"7ffffffffffffff0"}[variant]
        self.send(size + b"\r\n" + payload + b"\r\n")
        if variant == "huge":
            self.send(b"b" * (4 << 20))  # far fewer bytes than announced, then the end
        else:
            self.send(b"0\r\n\r\n")

    # ---- the API -----------------------------------------------------------------------------
    def handle(self):
        state = self.server.state
        try:
            while True:
                request_line, headers, _ = self.read_request()
                problems = self.check(request_line, headers)
                entry = {"request": request_line.decode("latin-1")}
                last_id = [v for n, v in headers if n.lower() == "last-event-id"]
                if last_id:
                    entry["last_event_id"] = last_id[0].decode("latin-1")
                if problems:
                    entry["violation"] = problems
                state.record(entry)
                key = b"".join(v for n, v in headers if n.lower() == "x-api-key")
                if not self.route(request_line, key, last_id):
                    return
        except (Gone, ConnectionError, socket.timeout, OSError):
            return

    def not_found(self, key):
        # Echo the key, as a careless server might: the client must not print it.
        self.respond(404, b'{"error":"not found","yourKey":"' + key + b'"}')
        return True

    def route(self, request_line, key, last_id):
        """Answers one request; False closes the connection."""
        mode = self.server.state.mode
        parts = request_line.split(b" ")
        if len(parts) != 3:
            return self.not_found(key) and False
        method, target = parts[0], parts[1].split(b"?")[0]
        run = b"/v1/runs/" + RUN_ID.encode()
        if method == b"POST" and target.startswith(b"/v1/agents/") and target.endswith(b"/runs"):
            start = dict(START_RUN)
            if mode == "ctl-run-id":
                start["runId"] = BAD_RUN_ID
            self.respond(202, json.dumps(start).encode())
            return True
        if method == b"GET" and target == run:
            return self.run_status(mode, key)
        if method == b"GET" and target == run + b"/stream":
            return self.stream(mode, key, last_id)
        return self.not_found(key)

    def run_status(self, mode, key):
        state = self.server.state
        gets = state.next_status_get()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        partial = b'{"runId":"' + RUN_ID.encode() + b'","status":"Running","output":"'
        if gets == 1:
            self.respond(200, RUN_RUNNING)
            return True
        if mode == "endless-header":
            self.endless(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        elif mode == "endless-line":
            self.endless(head + b"Connection: close\r\n\r\n" + partial)
        elif mode == "gigantic":
            self.endless(head + b"Content-Length: %d\r\n\r\n" % GIB + partial, b"a",
                         GIB - len(partial))
        elif mode == "trickle":
            self.send(head + b"Content-Length: %d\r\n\r\n" % len(RUN_COMPLETED))
            self.trickle(RUN_COMPLETED)
        elif mode.startswith("bad-chunk-"):
            self.bad_chunks(b"application/json", RUN_COMPLETED)
        elif mode == "invalid-utf8":
            self.respond(200, RUN_COMPLETED.replace(b"hostile", b"host\xff\xfeile\xc3("))
            return True
        elif mode == "reset":
            self.send(head + b"Transfer-Encoding: chunked\r\n\r\n1000\r\n" + RUN_COMPLETED[:40])
            time.sleep(0.05)  # let the bytes leave before the RST
            self.reset()
        else:
            self.respond(200, RUN_COMPLETED if state.completed(gets) else RUN_RUNNING)
            return True
        return False

    def stream(self, mode, key, last_id):
        n = self.server.state.next_stream()
        if mode == "endless-header":
            self.endless(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        elif mode == "endless-line":
            self.stream_head()
            self.endless(b"data: ")
        elif mode == "huge-retry" and n == 1:
            self.stream_head()
            self.send(b"retry: 9999999999999\n\n" + STARTED)
        elif mode == "ctl-event-id" and n == 1:
            self.stream_head()
            self.send(event("run", "engine.run.started", {"runId": RUN_ID, "status": "Running"},
                            b"ev\x01\x1b[31m\x7f1"))
        elif mode == "gigantic":
            self.endless(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n" % GIB, b"x", GIB)
        elif mode == "trickle":
            self.stream_head()
            self.trickle(b":\n" * MAX_TRICKLE_SECONDS)
        elif mode.startswith("bad-chunk-"):
            self.bad_chunks(b"text/event-stream", STARTED + COMPLETED)
        elif mode == "invalid-utf8":
            self.stream_head()
            self.send(STARTED + b'data: {"ts":"' + TS.encode() +
                      b'","kind":"step","subject":"engine.step.x\xff\xfe","data":{}}\n\n' +
                      COMPLETED)
        elif mode == "flood":
            self.stream_head()
            self.send(STARTED)
            tiny = event("step", "engine.step.x", {"type": "llm_request_prepared"}) * 1000
            for _ in range(200):
                self.send(tiny)
            self.server.state.stream_has_done()
            self.send(COMPLETED)
        elif mode == "reset":
            # The first connection brings an event; reconnects only half of one, so a client
            # that counts reconnects without progress gives up.
            self.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n1000\r\n" +
                      (STARTED if n == 1 else COMPLETED[:30]))
            time.sleep(0.05)
            self.reset()
        else:
            self.stream_head()
            # A reconnect with Last-Event-ID gets what follows it, as a real stream would.
            self.server.state.stream_has_done()
            self.send((STARTED if not last_id else b"") + COMPLETED)
        return False


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--port-file")
    ap.add_argument("--report")
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(args.mode, args.report)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    time.sleep(args.lifetime)
    os._exit(0)  # daemon handler threads may be mid-send; a bounded lifetime ends them all


if __name__ == "__main__":
    main()
