"""Browser sessions for the web pages: sign in with an API key, a signed cookie, CSRF tokens.

The cookie holds an ``itsdangerous`` timed signature (12 h) over a random CSRF
token and a keyed fingerprint of the API key used to sign in, never the key
itself. Removing a key from ``API_KEYS`` ends the sessions opened with it;
rotating ``LINK_SECRET`` keeps them (every key verifies). Before sign-in the
same cookie carries an anonymous session, so the login form has a CSRF token too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.pages import SECURITY_HEADERS, render
from escalate.settings import Settings

COOKIE = "escalate_session"
MAX_AGE = 12 * 3600
SALT = "escalate-web-session"
# Where a sign-in may send the browser next: a path on this site, nothing else.
SAFE_NEXT = re.compile(r"/(?!/)[A-Za-z0-9/_.-]*")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class WebSession:
    csrf: str
    fingerprint: str | None = None

    def csrf_ok(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self.csrf.encode())


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with all (LINK_SECRET rotation).
    return URLSafeTimedSerializer(settings.link_secrets[::-1], salt=SALT)


def _fingerprint(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), b"web-session:" + key.encode(), hashlib.sha256).hexdigest()


def _key_accepted(settings: Settings, offered: str) -> bool:
    matches = [hmac.compare_digest(offered.encode(), key.encode()) for key in settings.api_key_list]
    return any(matches)


def _fingerprint_current(settings: Settings, fingerprint: str) -> bool:
    matches = [
        hmac.compare_digest(fingerprint, _fingerprint(secret, key))
        for secret in settings.link_secrets
        for key in settings.api_key_list
    ]
    return any(matches)


def load(request: Request) -> WebSession | None:
    """The session in the request's cookie, signed in or anonymous, if it is genuine and current."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(settings).loads(cookie, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    fingerprint = data.get("f")
    if not isinstance(fingerprint, str) or not _fingerprint_current(settings, fingerprint):
        fingerprint = None
    return WebSession(csrf=data["c"], fingerprint=fingerprint)


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
    return {"csrf": session.csrf, "outbox": request.app.state.settings.sendgrid_api_key is None}


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


def _set_cookie(response: Response, request: Request, session: WebSession) -> None:
    settings: Settings = request.app.state.settings
    value = _serializer(settings).dumps({"c": session.csrf, "f": session.fingerprint})
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
    session = load(request) or WebSession(csrf=secrets.token_urlsafe(32))
    return _login_page(request, session, _safe_next(next_path))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/incidents",
) -> Response:
    """Check the key in constant time; on success start a fresh session (new CSRF token)."""
    session = load(request)
    if session is None or not session.csrf_ok(csrf):
        return forbidden(request, None)
    settings: Settings = request.app.state.settings
    if not _key_accepted(settings, key):
        return _login_page(
            request, session, _safe_next(next_path), "That key is not accepted.", status.HTTP_401_UNAUTHORIZED
        )
    signed_in = WebSession(
        csrf=secrets.token_urlsafe(32), fingerprint=_fingerprint(settings.link_secrets[0], key)
    )
    response = RedirectResponse(_safe_next(next_path), status.HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)
    _set_cookie(response, request, signed_in)
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session (the cookie is dropped) and go back to the sign-in page."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
