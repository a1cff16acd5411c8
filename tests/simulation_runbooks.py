"""The registry the simulation tests run (``Simulator(world, module=MODULE)``): the shipped
runbooks, the very same classes, and one a runbook author got wrong.

A simulator runs one registry, so the broken runbook sits beside the shipped ones here
rather than in ``runbooks/``."""

from datetime import timedelta

from runbooks.default import DefaultRunbook
from runbooks.demo import DemoRunbook
from runbooks.security_breach import SecurityBreachRunbook
from workflows.escalation import Escalation
from workflows.models import Incident
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

MODULE = __name__
FIVE_MINUTES = timedelta(minutes=5)


class BrokenRunbook(Runbook):
    """Pages its first tier, waits in vain, then trips over a typo in a tier's name."""

    name = "broken"
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("primary", ("person:alice",), FIVE_MINUTES),
                TierSpec("backup", ("person:bob",), FIVE_MINUTES),
            ],
        )

    async def run(self, esc: Escalation) -> None:
        await esc.page(esc.tier("primary"))
        if not await esc.wait_for_ack(FIVE_MINUTES):
            await esc.page(esc.tier("bakcup"))


REGISTRY = Registry(default=DefaultRunbook.name)
REGISTRY.register(DefaultRunbook(), DemoRunbook(), SecurityBreachRunbook(), BrokenRunbook())
