"""Server-rendered HTML: one Jinja2 environment, autoescaped, strict about undefined names."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi.responses import HTMLResponse

from activities.rendering import build_environment, duration, markdown_text, when
from workflows.models import SERVICE_PATTERN, Severity

# Pages that carry a token or act on an incident must not be cached, framed or
# leak their address to another site.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def local_time(value: datetime | None, timezone: str = "UTC") -> str:
    if value is None:
        return "-"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({timezone})"


def markdown_block(value: object) -> str:
    """Prose for a Markdown document: each line escaped, the line breaks kept."""
    return "\n".join(markdown_text(line) for line in str(value).strip().splitlines())


def seconds(value: float | None) -> str:
    return duration(timedelta(seconds=value)) if value is not None else "-"


PAGES = build_environment(
    "api", local_time=local_time, md=markdown_text, md_block=markdown_block, when=when, seconds=seconds
)


SERVICE_HELP = (
    "Service: lowercase letters, digits, '.', '_' or '-' (at most 63), starting with a letter or digit."
)


def filter_problems(severity: str, service: str) -> list[str]:
    """What is wrong with a page's severity and service filters (empty: nothing)."""
    problems = []
    if severity and severity not in {s.value for s in Severity}:
        problems.append("Unknown severity.")
    if service and not re.fullmatch(SERVICE_PATTERN, service):
        problems.append(SERVICE_HELP)
    return problems


def render(template: str, status_code: int = 200, **context) -> HTMLResponse:
    html = PAGES.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
