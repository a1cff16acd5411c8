"""Runbooks for the acknowledgement-timeout and snooze tests (a registry of their own)."""

from datetime import timedelta

from workflows.models import Incident, Severity
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

MODULE = __name__
TEN_MINUTES = timedelta(minutes=10)


class Plain(Runbook):
    name = "plain"
    auto_match = False
    ack_timeout: timedelta | None = None

    def plan(self, incident: Incident) -> PlanSpec:
        tiers = [
            TierSpec("primary", ("person:alice",), TEN_MINUTES),
            TierSpec("backup", ("person:bob",), TEN_MINUTES),
        ]
        return PlanSpec(tiers=tiers, ack_timeout=self.ack_timeout)


class AckTimeout(Plain):
    """Acknowledged but not resolved within 30 minutes: back to triggered."""

    name = "ack-timeout"
    ack_timeout = timedelta(minutes=30)


REGISTRY = Registry(default="plain")
REGISTRY.register(Plain(), AckTimeout())


class RaiseJumps(Plain):
    """A raise to SEV1 pages the next tier at once."""

    name = "raise-jumps"

    def on_severity_change(self, esc, before: Severity, after: Severity) -> None:
        if after == Severity.SEV1:
            esc.escalate_now(f"raised from {before} to {after}: the next tier now")


class BrokenHook(Plain):
    name = "broken-hook"

    def on_severity_change(self, esc, before: Severity, after: Severity) -> None:
        raise RuntimeError("a mistake in the hook")


REGISTRY.register(RaiseJumps(), BrokenHook())
