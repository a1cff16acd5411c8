"""The SLA clock: a task of the incident workflow, beside the tier ladder.

It waits for the next warning or deadline of the incident's targets (``workflows/targets.py``),
and wakes early when one is met (acknowledged, first stakeholder update, resolved) or the
severity changes. A warning and a breach are each written once on the timeline; a breach
also flags the incident (``IncidentFlags``, ``SlaBreached``) and runs the policy's actions
(page management, email stakeholders). The clocks live on the incident's view, so a
continued run picks them up where they stood.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from workflows import patches
from workflows.escalation import Escalation
from workflows.models import IncidentFlag, NotificationKind, Severity, State, Tier
from workflows.record import IncidentRecord
from workflows.targets import SlaPolicy, SlaState, TargetClock, clocks, next_events
from workflows.text import human
from workflows.vocabulary import Actor, BreachAction, EventKind, Goal

# Temporal keeps a timer task only for a workflow's earliest timer; the next one's task is
# made when that fires, and a task due sooner than the server's read-ahead (its
# history.timerProcessorMaxTimeShift, 1 s by default) is put off to the end of it. So a
# warning due just before a tier's timeout would make the page up to a second late: such
# a warning waits for the tier's timer instead, and both fire together, the page on time.
LADDER_WINDOW = timedelta(seconds=1)


class SlaClock:
    def __init__(
        self, record: IncidentRecord, esc: Escalation, policy: SlaPolicy, on_change: Callable[[], None]
    ) -> None:
        self._record = record
        self._esc = esc
        self._policy = policy
        self._on_change = on_change
        self._changed = False
        self._seen: tuple[object, ...] = ()
        self._beside_ladder = False
        self._due: datetime | None = None  # the next warning or deadline the clock waits for
        self._wake: datetime | None = None  # when its timer fires (``_due``, or the ladder's)

    def begin(self, start: datetime) -> None:
        """Start the clocks, when the incident opens."""
        self._record.sla = clocks(self._policy, self._record.incident.severity, start)

    def severity_changed(self, severity: Severity) -> None:
        """New targets from the original start: a raise may breach at once."""
        state = self._record.sla
        if state is not None:
            self._record.sla = clocks(self._policy, severity, state.start, state)
            self._changed = True

    async def run(self) -> None:
        self._beside_ladder = patches.patched(patches.LADDER)
        while self._record.state is not State.RESOLVED:
            state = self._record.sla
            assert state is not None
            self._mark_met(state)
            now = workflow.now()
            events = next_events(state)
            self._fire(state, [e for e in events if e[0] <= now])
            due = min((at for at, _, _ in events if at > now), default=None)
            self._due, self._wake = due, self._beside(due)
            self._seen, self._changed = self._progress(), False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or self._progress() != self._seen,
                    timeout=(self._wake - now) if self._wake else None,
                    timeout_summary="the next SLA warning or deadline",
                )
        if self._record.sla is not None:
            self._mark_met(self._record.sla)

    def _progress(self) -> tuple[object, ...]:
        """What wakes the clock: the incident's progress, a pause, and (the ladder's timer
        coming close to the event it waits for) a new time to wake."""
        paused = self._record.sla.paused_since if self._record.sla else None
        # Only ever later, to join the ladder's timer: never earlier (the ladder's wait ended),
        # as that would cancel a timer the server may have fired already.
        later = self._beside(self._due)
        moved = later is not None and self._wake is not None and later > self._wake
        return (self._record.state, self._record.acknowledged_at, len(self._updates()), paused, moved)

    def _beside(self, due: datetime | None) -> datetime | None:
        """When to wake for an event ``due`` then: with the ladder's timer if that falls
        within ``LADDER_WINDOW`` after it (see there), else at ``due``."""
        ladder = self._esc.ladder_due
        if due is None or ladder is None or not self._beside_ladder:
            return due
        return ladder if due <= ladder <= due + LADDER_WINDOW else due

    def _updates(self) -> list[datetime]:
        return [e.at for e in self._record.timeline if e.kind == EventKind.STAKEHOLDER_UPDATE]

    def _mark_met(self, state: SlaState) -> None:
        reached = {
            Goal.ACKNOWLEDGE: self._record.acknowledged_at or self._record.resolved_at,
            Goal.RESOLVE: self._record.resolved_at,
            Goal.FIRST_UPDATE: min(self._updates(), default=None),
        }
        for target in state.targets:
            at = reached.get(target.goal)
            if target.open and at is not None:
                target.met_at = at

    def _fire(self, state: SlaState, due: list[tuple[datetime, TargetClock, float | None]]) -> None:
        """Each warning and breach that is due, once; a breach makes its late warnings moot."""
        breaching = {id(target) for _, target, share in due if share is None}
        for _, target, share in due:
            if share is not None:
                target.warned.append(share)
                if id(target) not in breaching:
                    self._warn(target, share)
            elif target.open:
                self._breach(target)
        if due:
            self._on_change()

    def _warn(self, target: TargetClock, share: float) -> None:
        detail = (
            f"{_goal(target.goal)}: {share:.0%} of {human(target.within)} gone, due {target.due:%H:%M:%S} UTC"
        )
        self._record.add(workflow.now(), EventKind.SLA_WARNING, Actor.RUNBOOK, detail)

    def _breach(self, target: TargetClock) -> None:
        now = workflow.now()
        target.breached_at = now
        detail = f"{_goal(target.goal)} not within {human(target.within)}"
        if now - target.due >= timedelta(seconds=1):  # a severity raise moved it into the past
            detail += f" (already {human(now - target.due)} past it)"
        self._record.add(now, EventKind.SLA_BREACHED, Actor.RUNBOOK, detail)
        self._record.flag(IncidentFlag.SLA_BREACHED)
        plan = self._esc.plan
        message = f"SLA breached: {detail}."
        if BreachAction.PAGE_MANAGEMENT in self._policy.on_breach and plan.management:
            tier = Tier(
                number=len(plan.tiers),
                name="management (SLA)",
                targets=plan.management,
                ack_timeout=timedelta(hours=1),
            )
            self._esc.page_people(tier, plan.management)
        if BreachAction.EMAIL_STAKEHOLDERS in self._policy.on_breach and plan.stakeholders:
            self._esc.tell(plan.stakeholders, message, NotificationKind.STAKEHOLDER)


def _goal(goal: Goal) -> str:
    return {
        Goal.ACKNOWLEDGE: "acknowledge",
        Goal.FIRST_UPDATE: "first stakeholder update",
        Goal.RESOLVE: "resolve",
    }[goal]
