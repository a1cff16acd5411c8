"""How the team did in a drill: for each tier paged, when it was paged and how long it
took to acknowledge (or how long it went unanswered).

Pure: it reads an incident view (its pages, and its acknowledgements from the timeline,
else from ``acknowledged_by``/``_at``) and the time to count an open wait up to. The
resolution email, the report file and ``GET /api/incidents/{id}/drill-report`` all
show what it returns.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, computed_field

from workflows.models import IncidentView, Model, Page
from workflows.vocabulary import EventKind


class TierOutcome(Model):
    """One tier of a drill: paged at an offset from the start; acknowledged or not."""

    tier: int
    paged_at: datetime
    paged_after_seconds: float  # since the drill was opened
    people: list[str] = Field(default_factory=list)  # person ids, in the order paged
    acknowledged_by: str | None = None
    # From the acknowledger's own page in this tier (the tier's first page when they had none).
    acknowledged_after_seconds: float | None = None
    # Not acknowledged: how long the tier was left waiting (until the next tier, the
    # resolution or ``now``); None when that is not known yet.
    unanswered_seconds: float | None = None
    summary: str


class DrillReport(Model):
    """The drill's report: the time to acknowledge overall and per tier paged."""

    incident: str
    title: str
    opened_at: datetime
    resolved: bool
    seconds_to_acknowledge: float | None = None
    seconds_to_resolve: float | None = None
    tiers: list[TierOutcome] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lines(self) -> list[str]:
        """One sentence per tier: ``tier 1 paged at +0s (alice): not acknowledged in 5m 00s``."""
        return [tier.summary for tier in self.tiers]


def span(seconds: float) -> str:
    """A duration as a drill report says it: ``0s``, ``45s``, ``2m 10s``, ``1h 05m``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _acknowledgements(view: IncidentView) -> list[tuple[str, datetime]]:
    acks = [(e.actor, e.at) for e in view.timeline if e.kind == EventKind.ACKNOWLEDGED]
    if not acks and view.acknowledged_by and view.acknowledged_at:
        acks = [(view.acknowledged_by, view.acknowledged_at)]
    return sorted(acks, key=lambda ack: ack[1])


def _answered_page(pages: list[Page], person: str, at: datetime) -> Page | None:
    """The page an acknowledgement at ``at`` answers: the person's latest page before it,
    else the latest page of anyone (a colleague who stepped in)."""
    before = [p for p in pages if p.at <= at]
    chosen = [p for p in before if p.person == person] or before
    return chosen[-1] if chosen else None


def drill_report(view: IncidentView, now: datetime | None = None) -> DrillReport:
    """How the team did: each tier paged, in the order first paged, with who acknowledged
    it how long after their page, or how long it went unanswered.

    ``now`` bounds the wait of the last tier of a drill still open (None: not counted).
    """
    opened = view.created_at
    pages = sorted(view.paged, key=lambda p: p.at)
    starts: dict[int, datetime] = {}
    people: dict[int, list[str]] = {}
    for page in pages:
        starts.setdefault(page.tier, page.at)
        if page.person not in people.setdefault(page.tier, []):
            people[page.tier].append(page.person)
    acks = _acknowledgements(view)
    answered: dict[int, tuple[str, float, str]] = {}
    for person, at in acks:
        answers = _answered_page(pages, person, at)
        if answers is not None and answers.tier not in answered:
            whose = "their page" if answers.person == person else f"{answers.person}'s page"
            answered[answers.tier] = (person, (at - answers.at).total_seconds(), whose)
    order = sorted(starts, key=lambda tier: (starts[tier], tier))
    first_ack = acks[0][1] if acks else None
    tiers = []
    for index, tier in enumerate(order):
        start = starts[tier]
        offset = (start - opened).total_seconds()
        heading = f"tier {tier} paged at +{span(offset)} ({', '.join(people[tier])})"
        outcome: dict[str, object] = {}
        if tier in answered:
            who, after, whose = answered[tier]
            said = f"acknowledged by {who} {span(after)} after {whose}"
            outcome = {"acknowledged_by": who, "acknowledged_after_seconds": after}
        else:
            later = [starts[t] for t in order[index + 1 :]]
            ends = [at for _, at in acks if at >= start] + [view.resolved_at or now]
            end = later[0] if later else next((at for at in ends if at is not None), None)
            waited = (end - start).total_seconds() if end is not None else None
            if waited is None:
                said = "not acknowledged yet"
            else:
                said = f"not acknowledged in {span(waited)}" + (" (next tier paged)" if later else "")
            outcome = {"unanswered_seconds": waited}
        tiers.append(
            TierOutcome.model_validate(
                {
                    "tier": tier,
                    "paged_at": start,
                    "paged_after_seconds": offset,
                    "people": people[tier],
                    "summary": f"{heading}: {said}",
                    **outcome,
                }
            )
        )
    return DrillReport(
        incident=view.id,
        title=view.title,
        opened_at=opened,
        resolved=view.resolved_at is not None,
        seconds_to_acknowledge=(first_ack - opened).total_seconds() if first_ack else None,
        seconds_to_resolve=(view.resolved_at - opened).total_seconds() if view.resolved_at else None,
        tiers=tiers,
    )
