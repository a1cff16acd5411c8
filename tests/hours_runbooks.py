"""A runbook that defers by business hours (tests of the runbook kit's calendar helpers)."""

from datetime import time, timedelta

from schedules.business_hours import BusinessHours, OpeningHours
from schedules.models import Weekday
from workflows.escalation import Escalation
from workflows.models import Incident, Severity
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

MODULE = __name__


def opening(start: time, end: time) -> BusinessHours:
    return BusinessHours(
        name="support hours",
        time_zone="UTC",
        hours=[OpeningHours(weekdays=list(Weekday), start=start, end=end)],
    )


class DeferOutsideHours(Runbook):
    """A SEV4 outside the hours in its labels waits for the next opening, then pages."""

    name = "defer-outside-hours"
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(tiers=[TierSpec("first-line", ("person:alice",), timedelta(minutes=10))])

    async def run(self, esc: Escalation) -> None:
        start, end = (time.fromisoformat(esc.incident.labels[k]) for k in ("opens", "closes"))
        hours = opening(start, end)
        if esc.incident.severity is Severity.SEV4 and not esc.is_open(hours):
            esc.record("deferred", "outside support hours: waiting for the next opening")
            await esc.wait_for_opening(hours)
        await esc.escalate()


REGISTRY = Registry(default="defer-outside-hours")
REGISTRY.register(DeferOutsideHours())
