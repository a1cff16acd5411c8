"""Runbooks for the tests only, in a registry of their own (never the shipped one).

Each breaks one rule a runbook author could break; ``steady`` breaks none. Tests
run them on a worker whose task queue runs this module's ``REGISTRY``
(``workflows.scenario_registry.registry_on``), so they go through the same
sandbox as the shipped runbooks.
"""

import random
from datetime import datetime, timedelta
from pathlib import Path

from workflows.escalation import Escalation
from workflows.models import Incident
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

MODULE = __name__
MINUTE = timedelta(minutes=1)


class _TwoTiers(Runbook):
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("security", ("team:security",), MINUTE),
                TierSpec("ciso", ("person:ciso",), MINUTE),
            ],
        )


class SteadyRunbook(_TwoTiers):
    name = "steady"

    async def run(self, esc: Escalation) -> None:
        await esc.page(esc.tier("security"))
        if not await esc.wait_for_ack(MINUTE):
            await esc.escalate([esc.tier("ciso")])


class ClockRunbook(_TwoTiers):
    name = "clock"

    async def run(self, esc: Escalation) -> None:
        esc.record("note", f"started at {datetime.now()}")
        await esc.escalate()


class DiceRunbook(_TwoTiers):
    name = "dice"

    async def run(self, esc: Escalation) -> None:
        tiers = list(esc.plan.tiers)
        if random.random() < 0.5:
            tiers.reverse()
        await esc.escalate(tiers)


class ReaderRunbook(_TwoTiers):
    name = "reader"

    async def run(self, esc: Escalation) -> None:
        esc.record("note", Path(__file__).read_text()[:20])
        await esc.escalate()


class TypoRunbook(_TwoTiers):
    name = "typo"

    async def run(self, esc: Escalation) -> None:
        await esc.page(esc.tier("secuirty"))
        await esc.escalate()


class BranchesRunbook(_TwoTiers):
    """Each branch has its own bug: only a script that takes the branch can find it."""

    name = "branches"

    async def run(self, esc: Escalation) -> None:
        await esc.page(esc.tier("security"))
        if await esc.wait_for_ack(MINUTE):
            raise RuntimeError("reached only after an acknowledgement")
        await esc.escalate([esc.tier("ciso")])
        raise LookupError("reached only once every tier was paged in vain")


REGISTRY = Registry(default=SteadyRunbook.name)
REGISTRY.register(
    SteadyRunbook(), ClockRunbook(), DiceRunbook(), ReaderRunbook(), TypoRunbook(), BranchesRunbook()
)
