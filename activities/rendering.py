"""The one Jinja2 environment for emails and reports.

HTML templates are autoescaped; undefined variables are errors, not blanks,
so a template typo fails a test instead of an email at 3 a.m.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def markdown_text(value: object) -> str:
    """Escape text for Markdown so a title cannot inject markup or HTML into a report."""
    return _MD_SPECIAL.sub(r"\\\1", str(value)).replace("\r", " ").replace("\n", " ")


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def local(value: datetime | None, zone: str) -> str:
    """An instant as the reader's wall clock, with UTC beside it: ``Mon 30 Nov 09:00 CET (08:00 UTC)``."""
    if value is None:
        return "-"
    try:
        there = value.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        there = value.astimezone(UTC)
    return f"{there:%a %d %b %Y %H:%M} {there.tzname()} ({value.astimezone(UTC):%H:%M} UTC)"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def build_environment(package: str, **filters: Callable) -> Environment:
    """The project's Jinja2 settings for ``<package>/templates``: HTML autoescaped, strict."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env


TEMPLATES = build_environment("activities", md=markdown_text, when=when, duration=duration, local=local)
