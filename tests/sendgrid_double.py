"""A local stand-in for SendGrid's v3 mail API, for tests that drive the real ``sendgrid``
library over HTTP.

It listens on a free 127.0.0.1 port in a background thread, records every
``POST /v3/mail/send`` (headers and JSON body) and answers from a script of
status codes, e.g. ``[429, 503, 202]``; once the script is used up the last
answer repeats. ``HANG`` in the script holds that one request open for longer
than any client timeout a test uses. A 202 carries an ``X-Message-Id`` header,
as SendGrid's does.

    with SendGridDouble([429, 202]) as sendgrid:
        ... sendgrid_client("SG.test", sendgrid.url, timeout=1) ...
        assert sendgrid.statuses() == [429, 202]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
HANG_SECONDS = 30.0  # far beyond any client timeout in the tests; released early on stop()


@dataclass(frozen=True)
class Received:
    """One request as the double saw it, and what it answered."""

    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict
    status: int | str
    message_id: str | None

    @property
    def recipient(self) -> str:
        return self.body["personalizations"][0]["to"][0]["email"]


class SendGridDouble:
    def __init__(self, script: list[int | str] | None = None) -> None:
        self.script = list(script or [202])
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
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

    def start(self) -> SendGridDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake any request held by HANG
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SendGridDouble:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _next(self, path: str, headers: dict[str, str], body: dict) -> Received:
        with self._lock:
            index = len(self.requests)
            status = self.script[min(index, len(self.script) - 1)]
            message_id = f"msg-{index + 1}" if status == 202 else None
            received = Received(path, headers, body, status, message_id)
            self.requests.append(received)
            return received

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
                received = double._next(self.path, headers, json.loads(raw or b"{}"))
                if received.status == HANG:
                    double._release.wait(HANG_SECONDS)
                    return  # the client gave up long ago; close without an answer
                if received.status == 202:
                    self._answer(202, None, {"X-Message-Id": received.message_id or ""})
                else:
                    self._answer(
                        int(received.status),
                        {"errors": [{"message": f"scripted {received.status}", "field": None, "help": None}]},
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
