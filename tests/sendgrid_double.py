"""A local stand-in for SendGrid's v3 mail API, for tests (and the benchmark) that drive the
real ``sendgrid`` library over HTTP.

It listens on a free 127.0.0.1 port in a background thread, records every
``POST /v3/mail/send`` (headers, JSON body, arrival time) and answers from a script;
once the script is used up the last answer repeats. A script entry is a status code,
``HANG`` (hold that one request open for longer than any client timeout a test uses,
then close without an answer) or an :class:`Answer` (a status after a delay, with extra
headers such as ``Retry-After``). ``delay`` delays every answer that does not set its own.

Like SendGrid, the double accepts a message when the request arrives: a 202 counts as
delivered even when the client has given up waiting for the answer. ``deliveries()``
counts accepted messages per notification id (the ``notification_id`` custom arg),
``duplicates()`` the surplus, and ``max_in_flight`` the most requests held at once.

    with SendGridDouble([429, 202]) as sendgrid:
        ... sendgrid_client("SG.test", sendgrid.url, timeout=1) ...
        assert sendgrid.statuses() == [429, 202]

    with SendGridDouble([Answer(202, delay=2.0)]) as slow:  # answers after the client gave up
        ...
        assert slow.deliveries()["inc-0001-alice"] <= 2
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
HANG_SECONDS = 30.0  # far beyond any client timeout in the tests; released early on stop()


@dataclass(frozen=True)
class Answer:
    """One scripted answer: ``status`` after ``delay`` seconds (None: the double's delay),
    with ``headers`` added, e.g. ``Answer(429, headers={"Retry-After": "7"})``."""

    status: int | str
    delay: float | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """One request as the double saw it, and what it answered."""

    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict
    status: int | str
    message_id: str | None
    arrived: float = 0.0  # time.time() when the request arrived (and, if 202, was accepted)

    @property
    def recipient(self) -> str:
        return self.body["personalizations"][0]["to"][0]["email"]

    @property
    def notification_id(self) -> str:
        args = self.body.get("custom_args") or self.body["personalizations"][0].get("custom_args", {})
        return args.get("notification_id", "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many senders at once (the default backlog is 5)


class SendGridDouble:
    def __init__(self, script: list[int | str | Answer] | None = None, *, delay: float = 0.0) -> None:
        self.script = [a if isinstance(a, Answer) else Answer(a) for a in (script or [202])]
        self.delay = delay
        self.requests: list[Received] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sendgrid-double", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status == 202]

    def statuses(self) -> list[int | str]:
        return [r.status for r in self.requests]

    def deliveries(self) -> Counter[str]:
        """Accepted messages per notification id."""
        return Counter(r.notification_id for r in self.accepted())

    def duplicates(self) -> int:
        """Accepted messages beyond the first of each notification."""
        return sum(count - 1 for count in self.deliveries().values())

    def start(self) -> SendGridDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake any request held by HANG or a delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SendGridDouble:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _next(self, path: str, headers: dict[str, str], body: dict) -> tuple[Received, Answer]:
        with self._lock:
            index = len(self.requests)
            answer = self.script[min(index, len(self.script) - 1)]
            message_id = f"msg-{index + 1}" if answer.status == 202 else None
            received = Received(path, headers, body, answer.status, message_id, time.time())
            self.requests.append(received)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return received, answer

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != "/v3/mail/send":
                    self._answer(404, {"errors": [{"message": f"no route {self.path}"}]})
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                received, answer = double._next(self.path, headers, json.loads(raw or b"{}"))
                with contextlib.suppress(OSError):  # the client gave up: SendGrid does not care
                    self._reply(received, answer)

            def _reply(self, received: Received, answer: Answer) -> None:
                delay = double.delay if answer.delay is None else answer.delay
                try:
                    if received.status == HANG:
                        double._release.wait(HANG_SECONDS)
                    elif delay > 0:
                        double._release.wait(delay)
                finally:
                    double._done()  # no longer held once the answer starts: in_flight is exact
                if received.status == HANG:
                    return  # the client gave up long ago; close without an answer
                if received.status == 202:
                    headers = {"X-Message-Id": received.message_id or "", **answer.headers}
                    self._answer(202, None, headers)
                else:
                    self._answer(
                        int(received.status),
                        {"errors": [{"message": f"scripted {received.status}", "field": None, "help": None}]},
                        answer.headers,
                    )

            def _answer(self, status: int, body: dict | None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:  # keep test output quiet
                pass

        return Handler
