"""What the API refuses before a route reads a request.

- Size: bodies over ``MAX_BODY_BYTES`` get a 413, read or not. Integration webhooks
  (``/api/integrations/``) carry whole alert groups and get the larger
  ``MAX_ALERT_BODY_BYTES``: Alertmanager drops a group answered with a 4xx.
- Wrong keys: past ``AUTH_FAILURE_LIMIT`` per ``AUTH_FAILURE_WINDOW`` seconds, a client
  address is throttled (``FailureThrottle``; the routes answer 429 with Retry-After).
- JSON objects with a key given twice get a 400 (``RefuseDuplicateKeys``).
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, integration_bytes: int) -> None:
        self.app, self.default, self.integration = app, max_bytes, integration_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.integration if scope["path"].startswith("/api/integrations/") else self.default
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(HTTPException):
    """Raised while the body streams in. An HTTPException, so FastAPI's body reading
    passes it on (anything else there becomes a 400) and it is answered as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


async def _too_large(send: Send, limit: int) -> None:
    await _answer(send, 413, f"request body over {limit} bytes")


# -- failed credentials: a per-client throttle ------------------------------------------


def client_address(request: Request) -> str:
    """Who to count failures against: the peer's address (uvicorn puts the forwarded client
    there for trusted proxies, ``FORWARDED_ALLOW_IPS``), an IPv6 address by its /64."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class FailureThrottle:
    """Wrong keys per client address over a sliding window, held in this API process.

    Past ``limit`` failures in ``window`` seconds the client is refused (429) without its
    key being checked, until its oldest failure leaves the window: a guesser gets at most
    ``limit`` tries a window. Only failures count, so a client that sends right keys is
    never throttled, nor is anyone by another client's failures. Each API replica counts
    on its own: with N replicas behind a balancer, a client gets up to N x ``limit``.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it is not throttled."""
        failures = self._failures.get(client)
        if not self.limit or not failures:
            return None
        now = self.clock()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - now))

    def fail(self, client: str) -> None:
        """Count one wrong key from ``client``."""
        if not self.limit:
            return
        failures = self._failures.pop(client, None) or deque(maxlen=self.limit)
        failures.append(self.clock())
        self._failures[client] = failures  # re-inserted: least recently failing client first
        if len(self._failures) > self.MAX_CLIENTS:
            self._forget(self.clock() - self.window)

    def _forget(self, horizon: float) -> None:
        for client in [c for c, f in self._failures.items() if f[-1] <= horizon]:
            del self._failures[client]
        while len(self._failures) > self.MAX_CLIENTS:  # still full: drop the longest quiet
            del self._failures[next(iter(self._failures))]


def throttle(request: Request) -> FailureThrottle:
    return request.app.state.auth_failures


# -- JSON bodies: a key given twice is refused, not silently "last wins" -----------------


class RefuseDuplicateKeys:
    """A JSON body (``application/json`` or ``+json``, as FastAPI reads them) in which an
    object repeats a key gets a 400 naming the key. Behind ``BodyLimit``, so the body it
    buffers is already bounded; a body that is not JSON at all goes on to FastAPI, which
    answers it as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(dict(scope["headers"]).get(b"content-type")):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        duplicate = first_duplicate_key(body)
        if duplicate is not None:
            detail = f"duplicate key {duplicate[:64]!r} in the JSON body: give each key once"
            await _answer(send, 400, detail)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def first_duplicate_key(body: bytes) -> str | None:
    """The first key some object of ``body`` repeats; None if none does or it is not JSON."""
    found: list[str] = []

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict:
        result = dict(pairs)
        if len(result) != len(pairs) and not found:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    found.append(key)
                    break
                seen.add(key)
        return result

    try:
        json.loads(body, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None


def _is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return False
    media = content_type.decode("latin-1").split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _answer(send: Send, code: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
