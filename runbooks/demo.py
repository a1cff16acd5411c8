"""A three-tier ladder with 10-second timeouts: watch a whole escalation in under a minute.

Tier one pages whoever the ``first-line`` schedule has on call (``runbooks/schedules.yaml``
seeds it with Alice); the timeline says who the schedule answered and why."""

from datetime import timedelta

from workflows.models import Incident, OnEmpty
from workflows.runbook import PlanSpec, Runbook, TierSpec

TEN_SECONDS = timedelta(seconds=10)


class DemoRunbook(Runbook):
    name = "demo"
    description = "Three tiers, 10 seconds each, for trying the product and for checks."
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec(
                    "first-line",
                    ("schedule:first-line",),
                    TEN_SECONDS,
                    on_empty=OnEmpty.FALLBACK,  # nobody on call: Alice
                    fallback=("person:alice",),
                ),
                TierSpec("team-lead", ("person:bob",), TEN_SECONDS),
                TierSpec("management", ("person:carol",), TEN_SECONDS),
            ],
            management=("person:carol",),
            last_resort=("person:carol",),
            sla="demo",  # second-scale targets: a warning and a breach to watch
        )
