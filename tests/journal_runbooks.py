"""Runbooks for the tests of the safety net and the scenario journal, in a registry
of their own: tests run them on a task queue mapped to this module
(``workflows.scenario_registry.registry_on``), in the same sandbox as shipped runbooks."""

import asyncio
from datetime import timedelta

from workflows.escalation import Escalation
from workflows.models import Incident
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

MODULE = __name__
TEN_SECONDS = timedelta(seconds=10)
SIX_HOURS = timedelta(hours=6)


class _Plan(Runbook):
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("first-line", ("person:alice",), TEN_SECONDS),
                TierSpec("team-lead", ("person:bob",), TEN_SECONDS),
            ],
            stakeholders=("person:carol",),
        )


class TypoRunbook(_Plan):
    """Pages tier one, then asks for a tier it never planned (a typo)."""

    name = "typo"

    async def run(self, esc: Escalation) -> None:
        await esc.page(esc.tier("first-line"))
        await esc.wait_for_ack(TEN_SECONDS)
        await esc.page(esc.tier("team-laed"))


class LoopForeverRunbook(_Plan):
    """Written the way the docs allow, with no thought for history length:
    page the first line every six hours until someone acknowledges."""

    name = "loop-forever"

    async def run(self, esc: Escalation) -> None:
        rounds = 0
        while True:
            rounds += 1
            await esc.page(esc.tier("first-line"))
            esc.record("round", f"round {rounds}")
            if await esc.wait_for_ack(SIX_HOURS):
                return


class ParallelRunbook(_Plan):
    """Two loops at once: pages every 12 hours, stakeholder notes every 8 hours."""

    name = "parallel"

    async def run(self, esc: Escalation) -> None:
        async def pages() -> None:
            while True:
                await esc.page(esc.tier("first-line"))
                if await esc.wait_for_ack(timedelta(hours=12)):
                    return

        async def updates() -> None:
            for number in range(1, 1_000):
                await esc.sleep(timedelta(hours=8))
                await esc.notify(esc.plan.stakeholders, f"update {number}")

        await asyncio.gather(pages(), updates())


REGISTRY = Registry(default=TypoRunbook.name)
REGISTRY.register(TypoRunbook(), LoopForeverRunbook(), ParallelRunbook())
