"""``/outbox``: the emails written instead of sent (embedded mode, without SENDGRID_API_KEY).

Only names the notify activity writes are served (``OUTBOX_NAME``: lowercase letters,
digits and dashes, at most ``NAME_MAX`` characters, ``.json``), and only regular files
in the outbox folder: anything else is the 404 page, never a file system error.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.pages import SECURITY_HEADERS, render
from api.web_session import SessionDep, nav, not_found

router = APIRouter(include_in_schema=False)

NAME_MAX = 200  # well under every file system's 255-byte name limit
OUTBOX_NAME = re.compile(rf"[a-z0-9-]{{1,{NAME_MAX - 5}}}\.json")
OUTBOX_LIMIT = 200


def _outbox(request: Request) -> Path | None:
    settings = request.app.state.settings
    return settings.outbox if settings.sendgrid_api_key is None else None


def _read_email(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return {
            "name": path.name,
            "to": payload["personalizations"][0]["to"][0]["email"],
            "subject": payload["subject"],
            "html": next(c["value"] for c in payload["content"] if c["type"] == "text/html"),
            "at": datetime.fromtimestamp(path.stat().st_mtime, UTC),
        }
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile: _read_email skips it
        return 0.0


def _regular_file(path: Path) -> bool:
    try:
        return not path.is_symlink() and path.is_file()
    except OSError:  # a name the file system refuses (too long, ...) names no email
        return False


@router.get("/outbox", response_class=HTMLResponse)
async def outbox(request: Request, session: SessionDep) -> Response:
    """The emails written instead of sent, newest first."""
    folder = _outbox(request)
    if folder is None:
        return not_found(request, session, "outbox: email goes through SendGrid")
    files = [p for p in folder.glob("*.json") if OUTBOX_NAME.fullmatch(p.name)] if folder.is_dir() else []
    files.sort(key=lambda p: (_mtime(p), p.name), reverse=True)
    emails = [email for p in files[:OUTBOX_LIMIT] if (email := _read_email(p))]
    return render("outbox.html", nav=nav(request, session), emails=emails, folder=str(folder))


@router.get("/outbox/{name}", response_class=HTMLResponse)
async def outbox_email(request: Request, name: str, session: SessionDep) -> Response:
    """One email's HTML part, exactly as its recipient sees it (under a CSP without scripts)."""
    folder = _outbox(request)
    if folder is None or not OUTBOX_NAME.fullmatch(name):
        return not_found(request, session, "email")
    path = folder / name
    email = _read_email(path) if _regular_file(path) else None
    if email is None:
        return not_found(request, session, "email")
    return HTMLResponse(email["html"], headers=SECURITY_HEADERS)
