"""Maintenance windows: a time during which incidents of some services, or with some
labels, are expected and nobody should be woken for them.

A window is in scope for an incident when the incident's service is one of ``services``
(if any are given) and every one of ``labels`` has that value on the incident (if any are
given); it is in force from ``start`` (included) to ``end`` (excluded), or until it was
ended early (``ended_at``). Pure: no I/O, no clock (the caller says when ``at`` is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints, model_validator

from workflows.text import Model, Slug, clean_text

MAX_SERVICES = 50
MAX_LABELS = 20
MAX_DURATION = timedelta(days=7)
FIRST_YEAR, LAST_YEAR = 1970, 2200
# Refused in label keys and values: control characters and lone surrogates (PostgreSQL's
# JSON cannot hold NUL or a lone surrogate, and neither belongs in a label).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _sane_year(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"a date between {FIRST_YEAR} and {LAST_YEAR}, please")
    return value


def _no_surrogates(value: str) -> str:
    if re.search(r"[\ud800-\udfff]", value):
        raise ValueError("the text holds an invalid character (a lone surrogate)")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_sane_year)]
Reason = Annotated[
    str,
    BeforeValidator(clean_text),
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_no_surrogates),
]


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if not 1 <= len(key) <= 64 or len(value) > 256:
            raise ValueError(f"label {key[:64]!r}: keys are 1-64 and values 0-256 characters")
        if _UNSAFE.search(key) or _UNSAFE.search(value):
            raise ValueError("a label key or value holds a control character")
    return labels


Labels = Annotated[dict[str, str], Field(max_length=MAX_LABELS), AfterValidator(_check_labels)]


class MaintenanceWindowSpec(Model):
    """What a caller sends: the scope (services, labels or both), the time (at most 7 days)
    and why. ``suppress_all``: the incidents already open in scope are paused too."""

    services: list[Slug] = Field(default_factory=list, max_length=MAX_SERVICES)
    labels: Labels = Field(default_factory=dict)
    start: Instant
    end: Instant
    reason: Reason
    suppress_all: bool = False

    @model_validator(mode="after")
    def _scope_and_time(self) -> MaintenanceWindowSpec:
        if not self.services and not self.labels:
            raise ValueError("a maintenance window names at least one service or one label")
        if self.end <= self.start:
            raise ValueError("a maintenance window's end must be after its start")
        if self.end - self.start > MAX_DURATION:
            raise ValueError(f"a maintenance window lasts at most {MAX_DURATION.days} days")
        self.services = list(dict.fromkeys(self.services))
        return self


class MaintenanceWindow(MaintenanceWindowSpec):
    """A stored window. ``ended_at``: when someone ended it early (it is no longer in
    force from then on; before its start, it never was)."""

    id: str
    created_by: str
    created_at: AwareDatetime
    ended_at: AwareDatetime | None = None

    @property
    def until(self) -> datetime:
        """When it stops being in force: its end, or when it was ended early."""
        return self.end if self.ended_at is None else min(self.end, self.ended_at)


def in_scope(window: MaintenanceWindowSpec, service: str, labels: dict[str, str]) -> bool:
    """The incident's service is listed (if the window lists any) and every label of the
    window has its value on the incident (if the window has any)."""
    return scope_covers(window.services, window.labels, service, labels)


def scope_covers(services: list[str], wanted: dict[str, str], service: str, labels: dict[str, str]) -> bool:
    """``service`` is one of ``services`` (when any) and ``labels`` has each ``wanted`` value."""
    if services and service not in services:
        return False
    return all(labels.get(key) == value for key, value in wanted.items())


def covers(window: MaintenanceWindowSpec, service: str, labels: dict[str, str], at: datetime) -> bool:
    """True when ``window`` is in force at ``at`` for an incident of ``service`` with ``labels``."""
    end = window.until if isinstance(window, MaintenanceWindow) else window.end
    return in_scope(window, service, labels) and window.start <= at < end


def in_force(
    windows: Iterable[MaintenanceWindow], service: str, labels: dict[str, str], at: datetime
) -> list[MaintenanceWindow]:
    """The windows in force at ``at`` for an incident of ``service`` with ``labels``, the
    one that ends last first (its end is how long the incident is held)."""
    found = [w for w in windows if covers(w, service, labels, at)]
    return sorted(found, key=lambda w: (w.until, w.id), reverse=True)


def describe(window: MaintenanceWindowSpec) -> str:
    """The scope in a few words: ``checkout, payments; env=prod``."""
    parts = [", ".join(window.services)] if window.services else []
    if window.labels:
        parts.append(", ".join(f"{key}={value}" for key, value in sorted(window.labels.items())))
    return "; ".join(parts)
