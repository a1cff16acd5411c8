"""Security breach: not a ladder.

Security and legal are paged together; if nobody acknowledges within five
minutes the CISO is paged; stakeholders hear every 30 minutes until the
incident is resolved, whoever is handling it.
"""

from datetime import timedelta

from workflows.escalation import Escalation
from workflows.models import Incident
from workflows.runbook import PlanSpec, Runbook, TierSpec

FIVE_MINUTES = timedelta(minutes=5)
UPDATE_EVERY = timedelta(minutes=30)


class SecurityBreachRunbook(Runbook):
    name = "security-breach"
    description = "Security + legal in parallel, CISO after 5 min, stakeholder updates every 30 min."
    services = frozenset({"security"})

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("security", ("team:security",), FIVE_MINUTES),
                TierSpec("legal", ("team:legal",), FIVE_MINUTES),
                TierSpec("ciso", ("person:ciso",), timedelta(minutes=15)),
            ],
            repeat=1,
            stakeholders=("team:stakeholders",),
            management=("person:ciso", "team:management"),
            stakeholder_interval=UPDATE_EVERY,
        )

    async def run(self, esc: Escalation) -> None:
        esc.every(esc.plan.stakeholder_interval or UPDATE_EVERY, esc.notify_stakeholders)
        await esc.page(esc.tier("security"), esc.tier("legal"))
        if await esc.wait_for_ack(FIVE_MINUTES, "from security or legal "):
            return
        esc.record("escalated", "no acknowledgement from security or legal within 5 min")
        await esc.escalate([esc.tier("ciso")], resumable=True)  # the scenario's last step
