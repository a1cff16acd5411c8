"""Schedules in a tier: who is on call when the tier pages, and again at each hand-off.

A tier that names ``schedule:<id>`` asks the ``resolve_oncall`` activity at the
workflow's time (``workflow.now()``, never the activity's clock). Each answer goes on the
timeline (who, which layer, which overrides, which revision, until when), so "why was Bob
paged?" has an answer in the incident and in its Temporal history. A tier with nobody to
page follows its ``on_empty`` rule; a hand-off before the tier's timeout pages whoever
comes on call (``on_handoff``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows import contract
from workflows.activity_models import OnCallAnswer, OnCallQuestion
from workflows.models import OnEmpty, Person, Tier
from workflows.record import IncidentRecord
from workflows.vocabulary import Actor, EventKind

# A schedule that cannot be read in 30 s counts as nobody on call (the tier's on_empty
# rule and the last resort take over): a page is never held up waiting for a database.
ASK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=5))
ASK_LIMIT = timedelta(seconds=30)


@dataclass
class TierOnCall:
    """One paging of a tier: the people it paged, whether it had nobody, and the next
    instant a schedule of it may change hands."""

    paged: set[str] = field(default_factory=set)
    empty: bool = False
    handoff_at: datetime | None = None


async def ask(record: IncidentRecord, tier: Tier, at: datetime) -> tuple[list[Person], datetime | None]:
    """Who the tier's schedules put on call at ``at`` (in tier order, each once), and the
    next hand-off; every answer is written on the timeline."""
    try:
        answers = await workflow.execute_activity(
            contract.RESOLVE_ONCALL,
            OnCallQuestion(schedules=tier.schedules, at=at),
            result_type=list[OnCallAnswer],
            start_to_close_timeout=timedelta(seconds=10),
            schedule_to_close_timeout=ASK_LIMIT,
            retry_policy=ASK_RETRY,
            summary=f"who is on call for tier {tier.number}: {', '.join(tier.schedules)}",
        )
    except ActivityError as err:
        detail = f"tier {tier.number}: schedules {', '.join(tier.schedules)} could not be read ({err.cause})"
        record.add(workflow.now(), EventKind.ONCALL, Actor.RUNBOOK, detail[:1000])
        return [], None
    people: dict[str, Person] = {}
    for answer in answers:
        record.add(workflow.now(), EventKind.ONCALL, Actor.RUNBOOK, describe(answer))
        for person in answer.people:
            people.setdefault(person.id, person)
            record.oncall[person.id] = person
    ends = [a.valid_until for a in answers if a.valid_until is not None]
    return list(people.values()), min(ends, default=None)


def describe(answer: OnCallAnswer) -> str:
    """``schedule primary (revision 3): Bob Chen, layer weekly, override o-1a2b; until …``"""
    if not answer.found:
        return f"schedule {answer.schedule}: no such schedule"
    if answer.error:
        return f"schedule {answer.schedule}: could not answer ({answer.error})"
    who = ", ".join(p.name for p in answer.people) or "nobody on call"
    parts = [f"schedule {answer.schedule} (revision {answer.revision}): {who}"]
    if answer.layer:
        parts.append(f"layer {answer.layer}")
    if answer.overrides:
        parts.append(f"override {', '.join(answer.overrides)}")
    if answer.missing:
        parts.append(f"not in the directory: {', '.join(answer.missing)}")
    if answer.valid_until:
        parts.append(f"until {answer.valid_until.isoformat()}")
    if answer.source:
        parts.append(answer.source)
    return "; ".join(parts)


def when_empty(record: IncidentRecord, tier: Tier) -> list[Person]:
    """A tier with nobody to page: say so, and who its ``on_empty`` rule pages instead."""
    rule = tier.on_empty
    if rule is OnEmpty.FALLBACK and tier.fallback:
        names = ", ".join(p.name for p in tier.fallback)
        detail = f"nobody on call in tier {tier.number} ({tier.name}): paging the fallback, {names}"
        record.add(workflow.now(), EventKind.NO_ONE_ON_CALL, Actor.RUNBOOK, detail)
        return list(tier.fallback)
    then = "waiting out the tier's timeout" if rule is OnEmpty.WAIT else "escalating at once"
    detail = f"nobody on call in tier {tier.number} ({tier.name}): {then}"
    record.add(workflow.now(), EventKind.NO_ONE_ON_CALL, Actor.RUNBOOK, detail)
    return []


def last_resort_tier(tiers: list[Tier], people: list[Person]) -> Tier:
    """The pseudo-tier the last resort is paged in: the last tier's number, named so."""
    last = tiers[-1]
    return Tier(number=last.number, name="last resort", targets=people, ack_timeout=last.ack_timeout)
