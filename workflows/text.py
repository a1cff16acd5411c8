"""The basic value types every model is made of: ids, cleaned text, email addresses, and
the base model that refuses unknown fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

# A service name, label key or person/team id: short, lowercase, URL- and query-safe.
SERVICE_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
Slug = Annotated[str, StringConstraints(pattern=SERVICE_PATTERN)]
# Removed from a short text (title, name), not refused (an alert must not be dropped for
# its summary): controls other than whitespace (NUL, BEL, ESC, DEL, C1) and bidi controls
# ("invoice \u202egnp.exe" shows as "invoice exe.png"). CR/LF/tab stay: subjects and the
# report fold them. Empty once cleaned: a 422.
_DROPPED = dict.fromkeys(
    [c for c in range(0xA0) if (c < 0x20 or c >= 0x7F) and not chr(c).isspace()]
    + [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def clean_text(value: object) -> object:
    """A string without the invisible and bidi control characters above; anything
    else unchanged (pydantic then refuses a wrong type)."""
    return value.translate(_DROPPED) if isinstance(value, str) else value


ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), BeforeValidator(clean_text)
]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Model(BaseModel):
    """Base for every model: unknown fields are refused rather than dropped silently."""

    model_config = ConfigDict(extra="forbid", frozen=False)


def human(delta: timedelta) -> str:
    """A duration as people write it on a timeline: ``15 min``, ``2 h``, ``90 s``."""
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
