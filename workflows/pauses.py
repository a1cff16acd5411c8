"""Pauses of an incident, and what each stops.

* A **maintenance** pause (a maintenance window covers the incident): nobody is paged, the
  tier's acknowledgement timer and the SLA clocks stand still. When it ends, a tier that
  was waiting for an acknowledgement is paged again with a fresh timer; a page the
  scenario was about to send goes out then. Acknowledge and resolve work throughout.
* A **waiting** pause ("waiting on a vendor"): the SLA clocks stand still (each open
  deadline moves by the paused time); paging goes on.

A pause is in force from ``since`` until ``until`` (None: until lifted). The pauses live on
the incident's view, so a continued run picks them up; ``Pausing`` lifts each at its end.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from workflows.text import Model, Slug


class PauseKind(StrEnum):
    MAINTENANCE = "maintenance"
    WAITING = "waiting"


class Pause(Model):
    """One pause: ``maintenance:<window id>`` or ``waiting`` (``key``), why, and when."""

    key: str
    kind: PauseKind
    reason: str = ""
    by: str = ""
    since: datetime
    until: datetime | None = None
    begun: bool = False  # its start is on the timeline


class MaintenanceNotice(Model):
    """What an incident is told of a maintenance window: it is in force (``lifted`` False;
    the incident pauses itself when the window's scope covers it) or it was ended early."""

    window: Slug
    services: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    start: AwareDatetime
    until: AwareDatetime
    reason: str = ""
    lifted: bool = False

    @property
    def key(self) -> str:
        return f"maintenance:{self.window}"

    def pause(self) -> Pause:
        """The pause this window puts on an incident it covers."""
        return Pause(
            key=self.key,
            kind=PauseKind.MAINTENANCE,
            reason=self.reason,
            by="maintenance",
            since=self.start,
            until=self.until,
        )


def in_force(pause: Pause, now: datetime) -> bool:
    return pause.since <= now and (pause.until is None or now < pause.until)


def paging_paused(pauses: list[Pause], now: datetime) -> bool:
    """A maintenance pause is in force: nobody is paged."""
    return any(p.kind is PauseKind.MAINTENANCE and in_force(p, now) for p in pauses)


def clocks_paused(pauses: list[Pause], now: datetime) -> bool:
    """Any pause is in force: the SLA clocks stand still."""
    return any(in_force(p, now) for p in pauses)


def next_change(pauses: list[Pause], now: datetime) -> datetime | None:
    """The next time a pause begins or ends by itself."""
    times = [t for p in pauses for t in (p.since, p.until) if t is not None and t > now]
    return min(times, default=None)


def describe(pause: Pause, on: bool) -> str:
    what = "maintenance: nobody is paged" if pause.kind is PauseKind.MAINTENANCE else "SLA clocks paused"
    if not on:
        what = "maintenance over" if pause.kind is PauseKind.MAINTENANCE else "SLA clocks run again"
    why = f" ({pause.reason})" if pause.reason else ""
    until = f" until {pause.until:%Y-%m-%d %H:%M:%S} UTC" if on and pause.until is not None else ""
    return f"{what}{why}{until}"
