"""Browser sessions for the web pages: sign in with an API key, a signed cookie, CSRF tokens.

The cookie holds an ``itsdangerous`` timed signature (12 h) over a random session id, a
random CSRF token and a keyed fingerprint of the API key used to sign in, never the key
itself. Removing a key from ``API_KEYS`` ends the sessions opened with it; rotating
``LINK_SECRET`` keeps them (every key verifies). Before sign-in the same cookie carries an
anonymous session, so the login form has a CSRF token too. Only ``API_KEYS`` keys sign in:
an ``INTAKE_API_KEYS`` key is refused. The signed-in key's name (``name:secret`` in
``API_KEYS``) is what the pages record beside the person chosen in a form.

Signing out revokes the session id: a copy of the cookie taken before then is refused.
The revocations are held in the API process (there is no database yet) until the cookie
would have expired anyway; an API restart forgets them, and with several API replicas
only the replica that served the sign-out knows, so a copied cookie still works on the
others. To end every session everywhere at once, remove the key from ``API_KEYS`` (or
replace every ``LINK_SECRET``) and restart the replicas.

Wrong keys on the sign-in form count against the client's address like wrong bearer keys
(``api.limits.FailureThrottle``): past the limit the form answers 429 without checking.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.deps import match_key, record_failure
from api.limits import client_address, throttle
from api.pages import SECURITY_HEADERS, render
from services.settings import ConfiguredKey, Settings

COOKIE = "escalate_session"
MAX_AGE = 12 * 3600
SALT = "escalate-web-session"
# Where a sign-in may send the browser next: a path on this site, nothing else.
SAFE_NEXT = re.compile(r"/(?!/)[A-Za-z0-9/_.-]*")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class WebSession:
    csrf: str
    sid: str = ""
    fingerprint: str | None = None
    key_name: str | None = None

    def csrf_ok(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self.csrf.encode())

    @property
    def via(self) -> str:
        """What the timeline records beside the person chosen in a form."""
        return f"via the web, signed in with key {self.key_name}"


class Revocations:
    """Session ids signed out in this process, each kept until its cookie expires anyway."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def revoke(self, sid: str) -> None:
        now = time.time()
        for old in [s for s, until in self._until.items() if until <= now]:
            del self._until[old]
        self._until[sid] = now + MAX_AGE

    def __contains__(self, sid: str) -> bool:
        return self._until.get(sid, 0.0) > time.time()


def _new(fingerprint: str | None = None, key_name: str | None = None) -> WebSession:
    return WebSession(secrets.token_urlsafe(32), secrets.token_urlsafe(16), fingerprint, key_name)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with all (LINK_SECRET rotation).
    return URLSafeTimedSerializer(settings.link_secrets[::-1], salt=SALT)


def _fingerprint(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), b"web-session:" + key.encode(), hashlib.sha256).hexdigest()


def _signed_in_key(settings: Settings, fingerprint: str) -> ConfiguredKey | None:
    """The ``API_KEYS`` key a fingerprint stands for, if it is still configured."""
    found = None
    for key in settings.keys:
        for secret in settings.link_secrets:
            same = hmac.compare_digest(fingerprint, _fingerprint(secret, key.secret))
            if same and key.scope == "full" and found is None:
                found = key
    return found


def load(request: Request) -> WebSession | None:
    """The session in the request's cookie, signed in or anonymous, if it is genuine, current
    and not signed out."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(settings).loads(cookie, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "cs"):
        return None
    if data["s"] in request.app.state.revoked_sessions:
        return None
    fingerprint = data.get("f")
    key = _signed_in_key(settings, fingerprint) if isinstance(fingerprint, str) else None
    if key is None:
        return WebSession(csrf=data["c"], sid=data["s"])
    return WebSession(data["c"], data["s"], fingerprint, key.name)


def require_session(request: Request) -> WebSession:
    """The signed-in session, or a 303 to the sign-in page."""
    session = load(request)
    if session is not None and session.fingerprint is not None:
        return session
    target = "/login"
    if request.method == "GET" and SAFE_NEXT.fullmatch(request.url.path):
        target += "?next=" + quote(request.url.path, safe="/")
    raise HTTPException(
        status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": target, **SECURITY_HEADERS}
    )


SessionDep = Annotated[WebSession, Depends(require_session)]


def nav(request: Request, session: WebSession) -> dict:
    """What base.html needs for its navigation bar."""
    outbox = request.app.state.settings.sendgrid_api_key is None
    return {"csrf": session.csrf, "outbox": outbox, "key": session.key_name}


def forbidden(request: Request, session: WebSession | None) -> HTMLResponse:
    """The page for a form without a valid CSRF token: nothing was changed."""
    extra = {"nav": nav(request, session)} if session and session.fingerprint else {}
    return render(
        "result.html",
        status.HTTP_403_FORBIDDEN,
        ok=False,
        incident=None,
        headline="This form has expired",
        detail="Nothing was changed. Reload the page and try again.",
        **extra,
    )


def not_found(request: Request, session: WebSession, what: str) -> HTMLResponse:
    """The 404 page of a signed-in page (unknown incident, email, outbox)."""
    return render(
        "result.html",
        status.HTTP_404_NOT_FOUND,
        ok=False,
        incident=None,
        headline=f"No such {what}",
        detail="Check the address, or go back to the list.",
        nav=nav(request, session),
    )


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` (a path built by the app), after a form or to the home page."""
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)


def _set_cookie(response: Response, request: Request, session: WebSession) -> None:
    settings: Settings = request.app.state.settings
    value = _serializer(settings).dumps({"c": session.csrf, "s": session.sid, "f": session.fingerprint})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
    )


def _login_page(
    request: Request,
    session: WebSession,
    next_path: str,
    error: str = "",
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    response = render("login.html", status_code, csrf=session.csrf, next=next_path, error=error)
    _set_cookie(response, request, session)
    return response


def _safe_next(value: str) -> str:
    return value if SAFE_NEXT.fullmatch(value) else "/incidents"


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, next_path: Annotated[str, Query(alias="next")] = "/incidents"
) -> HTMLResponse:
    """The sign-in form: one field, an API key."""
    session = load(request) or _new()
    return _login_page(request, session, _safe_next(next_path))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/incidents",
) -> Response:
    """Check the key in constant time; on success start a fresh session (new id and CSRF token)."""
    session = load(request)
    if session is None or not session.csrf_ok(csrf):
        return forbidden(request, None)
    settings: Settings = request.app.state.settings
    next_path, client = _safe_next(next_path), client_address(request)
    wait = throttle(request).retry_after(client)
    if wait is not None:
        error = f"Too many wrong keys from your address. Try again in {wait} seconds."
        refused = _login_page(request, session, next_path, error, status.HTTP_429_TOO_MANY_REQUESTS)
        refused.headers["Retry-After"] = str(wait)
        return refused
    found = match_key(settings, key)
    if found is None:
        record_failure(request, client)
        error = "That key is not accepted."
        return _login_page(request, session, next_path, error, status.HTTP_401_UNAUTHORIZED)
    if found.scope != "full":
        error = "That key may only post alerts. Sign in with a key from API_KEYS."
        return _login_page(request, session, next_path, error, status.HTTP_403_FORBIDDEN)
    signed_in = _new(_fingerprint(settings.link_secrets[0], found.secret), found.name)
    response = redirect(next_path)
    _set_cookie(response, request, signed_in)
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session: its id is revoked (a copied cookie stops working) and the cookie dropped."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    request.app.state.revoked_sessions.revoke(session.sid)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
