"""A simulated incident's timeline as its author reads it: rows, totals, a table and JSON.

Each row is one thing the incident did or had done to it, at an offset from its start
and at the wall time of the chosen zone: who was paged in which tier and why (the tier,
and for a schedule the layer or override that put them on call), acknowledgements,
escalations, targets warned and breached. Nothing in a timeline depends on the machine
or the run, so the same scenario gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from runbooks.directory import Directory
from simulation.script import Step, spoken
from workflows.models import IncidentView, TimelineEntry
from workflows.vocabulary import Actor, EventKind

if TYPE_CHECKING:
    from simulation.engine import Scenario

_PAGING = re.compile(r"^(?P<who>.+) \(tier (?P<tier>\d+): (?P<name>.+)\)$")
_PAGED = re.compile(r"^(?P<who>.+) \(tier (?P<tier>\d+)\)")
_SENT_TO = re.compile(r" -> (?P<who>[^>]+)$")
# Written by the workflow beside a row that says the same thing better.
# Entries that end with who was told: `` -> Alice Martin, Bob Chen``.
_TOLD = {EventKind.STOOD_DOWN.value, EventKind.STAKEHOLDER_UPDATE.value, EventKind.EXHAUSTED.value}
_SKIPPED = {EventKind.PAGING.value, EventKind.CONTINUED.value}


@dataclass(frozen=True)
class Row:
    offset: timedelta
    at: datetime  # in the scenario's zone
    tier: int | None
    action: str
    who: str
    why: str

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """The row as a table shows it: offset, wall time, tier, action, who, why."""
        at = self.at.strftime("%a %Y-%m-%d %H:%M:%S %Z")
        return f"+{spoken(self.offset)}", at, str(self.tier or ""), self.action, self.who, self.why

    def as_json(self) -> dict[str, Any]:
        return {
            "offset": spoken(self.offset),
            "offset_seconds": int(self.offset.total_seconds()),
            "at": self.at.isoformat(),
            "tier": self.tier,
            "action": self.action,
            "who": self.who,
            "why": self.why,
        }


@dataclass(frozen=True)
class Totals:
    time_to_acknowledge: timedelta | None
    time_to_resolve: timedelta | None
    tiers_reached: int
    escalations: int
    pages_per_person: dict[str, int] = field(default_factory=dict)
    state: str = "triggered"

    def words(self, length: timedelta) -> list[tuple[str, str]]:
        """The totals in words, as ``(label, value)``, for a run of at most ``length``."""
        pages = ", ".join(f"{who} {count}" for who, count in self.pages_per_person.items()) or "nobody"
        return [
            ("state at the end", f"{self.state} (after {spoken(length)} at most)"),
            ("time to acknowledge", _maybe(self.time_to_acknowledge)),
            ("time to resolve", _maybe(self.time_to_resolve)),
            ("tiers reached", str(self.tiers_reached)),
            ("escalations", str(self.escalations)),
            ("pages per person", pages),
        ]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("time_to_acknowledge", "time_to_resolve"):
            data[key] = None if data[key] is None else spoken(data[key])
        return data


@dataclass(frozen=True)
class Timeline:
    """What one simulated incident did; ``title`` names its scenario."""

    title: str
    runbook: str
    severity: str
    service: str
    start: datetime
    zone: str
    length: timedelta
    rows: tuple[Row, ...]
    totals: Totals

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": {
                "title": self.title,
                "runbook": self.runbook,
                "severity": self.severity,
                "service": self.service,
                "start": self.start.isoformat(),
                "zone": self.zone,
                "length": spoken(self.length),
            },
            "rows": [row.as_json() for row in self.rows],
            "totals": self.totals.as_json(),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"

    def pages(self, tier: int | None = None) -> list[Row]:
        """The pages delivered (of one tier), in order."""
        return [r for r in self.rows if r.action == EventKind.PAGED.value and tier in (None, r.tier)]

    def paged(self, tier: int | None = None) -> list[str]:
        """Who was paged (in one tier), in order, once each."""
        return list(dict.fromkeys(row.who for row in self.pages(tier)))

    def when(self, action: str, who: str | None = None, tier: int | None = None) -> timedelta | None:
        """The offset of the first row of ``action`` (by ``who``, in ``tier``); None if none."""
        for row in self.rows:
            if row.action == action and who in (None, row.who) and tier in (None, row.tier):
                return row.offset
        return None

    def table(self) -> str:
        """The timeline as a plain-text table with its totals under it."""
        header = ("offset", f"time ({self.zone})", "tier", "action", "who", "why")
        lines = [row.cells() for row in self.rows]
        widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header) - 1)]
        text = [f"{self.title}: runbook {self.runbook}, {self.severity} on {self.service}"]
        for cells in [header, *lines]:
            text.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + cells[-1])
        text.append("")
        text += [f"{label}: {value}" for label, value in self.totals.words(self.length)]
        return "\n".join(line.rstrip() for line in text) + "\n"


def _second(at: datetime) -> datetime:
    """``at`` to the nearest second: what a row shows (workflow times carry microseconds)."""
    return (at + timedelta(microseconds=500_000)).replace(microsecond=0)


def _maybe(delta: timedelta | None) -> str:
    return "never" if delta is None else spoken(delta)


def build_timeline(
    scenario: Scenario,
    view: IncidentView,
    archive: list[TimelineEntry],
    acted: list[tuple[Step, str]],
    directory: Directory,
    length: timedelta,
) -> Timeline:
    """Rows from the incident's whole timeline (archived entries first) and the script's
    outcome (a step skipped or refused is a row of its own)."""
    zone = ZoneInfo(scenario.zone)
    start = scenario.start.astimezone(UTC)
    names = {p.id: p.name for p in directory.people}
    tiers: dict[str, tuple[int, str, int]] = {}  # who -> tier, its name, the paging's place
    oncall: dict[str, str] = {}  # who -> the schedule answer that put them on call
    rows: list[tuple[datetime, int, Row]] = []
    tier: int | None = None
    for order, entry in enumerate([*archive, *view.timeline]):
        at = _second(entry.at)
        offset = at - start
        who, why, shown = _actor(entry, names), entry.detail, tier
        if entry.kind == EventKind.ONCALL.value:
            for person in _on_call(entry.detail):
                oncall[person] = entry.detail.split(": ", 1)[0] + _layer(entry.detail)
        if entry.kind == EventKind.PAGING.value and (found := _PAGING.match(entry.detail)):
            tiers[found["who"]] = (int(found["tier"]), found["name"], order)
            tier = int(found["tier"])  # the incident's tier: in the order the workflow paged
        if entry.kind in _SKIPPED:
            continue
        if entry.kind == EventKind.PAGED.value and (found := _PAGED.match(entry.detail)):
            who = found["who"]
            # Emails sent together are delivered in any order: a page takes its paging's place.
            shown, name, order = tiers.get(who, (int(found["tier"]), "", order))
            why = "; ".join(part for part in (name, oncall.get(who, "")) if part)
        elif entry.kind in _TOLD and (found := _SENT_TO.search(entry.detail)):
            who, why = found["who"], entry.detail[: found.start()]
        row = Row(offset, at.astimezone(zone), shown, entry.kind, who, why)
        rows.append((at, order, row))
    for order, (step, outcome) in enumerate(acted):
        if outcome:
            at = start + step.at
            row = Row(step.at, at.astimezone(zone), None, "script", step.by or "", f"{step}: {outcome}")
            rows.append((at, len(rows) + order, row))
    ordered = tuple(row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1])))
    return Timeline(
        title=scenario.script.name,
        runbook=view.runbook,
        severity=str(scenario.severity),
        service=view.service,
        start=scenario.start.astimezone(zone),
        zone=scenario.zone,
        length=length,
        rows=ordered,
        totals=_totals(view, start, ordered),
    )


def _actor(entry: TimelineEntry, names: dict[str, str]) -> str:
    if entry.actor in (Actor.RUNBOOK, "api", "simulation", "alertmanager"):
        return ""
    return names.get(entry.actor, entry.actor)


def _on_call(detail: str) -> list[str]:
    """The names a schedule answer put on call: ``schedule x (revision 1): A, B; layer …``."""
    if ": " not in detail:
        return []
    people = detail.split(": ", 1)[1].split(";", 1)[0]
    return [name.strip() for name in people.split(",") if name.strip() and name.strip() != "nobody on call"]


def _layer(detail: str) -> str:
    parts = [p.strip() for p in detail.split(";")[1:] if p.strip().startswith(("layer", "override"))]
    return f", {', '.join(parts)}" if parts else ""


def _totals(view: IncidentView, start: datetime, rows: tuple[Row, ...]) -> Totals:
    paged = Counter(row.who for row in rows if row.action == EventKind.PAGED.value)
    return Totals(
        time_to_acknowledge=_second(view.acknowledged_at) - start if view.acknowledged_at else None,
        time_to_resolve=_second(view.resolved_at) - start if view.resolved_at else None,
        tiers_reached=max((row.tier or 0 for row in rows if row.action == EventKind.PAGED.value), default=0),
        escalations=sum(1 for row in rows if row.action == EventKind.ESCALATED.value),
        pages_per_person=dict(sorted(paged.items())),
        state=view.state.value,
    )
