"""Runbooks that page schedules, for the on-call paging tests (a registry of their own,
run on a task queue mapped to this module with ``registry_on``)."""

from datetime import timedelta

from workflows.models import Incident
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec
from workflows.vocabulary import OnEmpty, OnHandoff

MODULE = __name__
TEN_MINUTES = timedelta(minutes=10)


def _rota(name: str, first: TierSpec, **plan) -> Runbook:
    class _Runbook(Runbook):
        auto_match = False

        def plan(self, incident: Incident) -> PlanSpec:
            return PlanSpec(tiers=[first, TierSpec("backup", ("person:bob",), TEN_MINUTES)], **plan)

    _Runbook.name = name
    return _Runbook()


REGISTRY = Registry(default="rota")
REGISTRY.register(
    _rota("rota", TierSpec("primary", ("schedule:rota",), TEN_MINUTES)),
    _rota("rota-keep", TierSpec("primary", ("schedule:rota",), TEN_MINUTES, on_handoff=OnHandoff.KEEP)),
    _rota("empty-skip", TierSpec("primary", ("schedule:nobody",), TEN_MINUTES)),
    _rota("empty-wait", TierSpec("primary", ("schedule:nobody",), TEN_MINUTES, on_empty=OnEmpty.WAIT)),
    _rota(
        "empty-fallback",
        TierSpec(
            "primary", ("schedule:nobody",), TEN_MINUTES, on_empty=OnEmpty.FALLBACK, fallback=("person:dave",)
        ),
    ),
    _rota("twice", TierSpec("primary", ("schedule:rota",), TEN_MINUTES)),
)


class NobodyAnywhere(Runbook):
    """Every tier is an empty schedule: the last resort is paged."""

    name = "nobody-anywhere"
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("primary", ("schedule:nobody",), TEN_MINUTES),
                TierSpec("secondary", ("schedule:missing",), TEN_MINUTES),
            ],
            last_resort=("person:carol",),
        )


class SameScheduleTwice(Runbook):
    """Two tiers page the same schedule: an override made during tier one shows at tier two."""

    name = "same-schedule-twice"
    auto_match = False

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(
            tiers=[
                TierSpec("primary", ("schedule:steady",), TEN_MINUTES),
                TierSpec("secondary", ("schedule:steady",), TEN_MINUTES),
            ]
        )


REGISTRY.register(NobodyAnywhere(), SameScheduleTwice())
