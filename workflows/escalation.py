"""The primitives a runbook scenario is written with.

Every method here runs inside the incident workflow: timers are durable
Temporal timers, pages are activities, and everything is written to the
incident's timeline. A scenario only ever sees an :class:`Escalation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows import contract
from workflows.models import (
    Carried,
    Incident,
    IncidentPlan,
    LadderPosition,
    Notification,
    NotificationKind,
    Periodic,
    Person,
    State,
    Tier,
    TierRef,
)
from workflows.record import IncidentRecord

# Email delivery retries on throttling and outages (the activity marks a
# rejected message non-retryable); an email that cannot be delivered within an
# hour is reported on the timeline rather than retried forever.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["EmailRejected"],
)
# An attempt lost with a crashed worker is retried once start-to-close passes,
# so keep it short; the SendGrid client's own timeout (SENDGRID_TIMEOUT) is lower.
ZERO = timedelta(0)
MAX_NOTES_IN_EMAIL = 20
EMAIL_TIMEOUTS = {
    "start_to_close_timeout": timedelta(seconds=15),
    "schedule_to_close_timeout": timedelta(hours=1),
}


class Escalation:
    """The scenario's handle on its incident.

    Attributes:
        incident: the incident's fields, for branching (severity, service, labels).
        plan: the frozen plan: tiers, stakeholders, management.
    """

    def __init__(self, record: IncidentRecord, on_change: Callable[[], None]) -> None:
        self._record = record
        self._on_change = on_change
        self._sent = 0
        self._deliveries: list[asyncio.Task[None]] = []
        self._background: list[asyncio.Future[None]] = []
        self._periodic: list[tuple[Periodic, asyncio.Future[None]]] = []
        self._ladder: LadderPosition | None = None
        self.escalate_requested = False
        self.waiting = 0

    @property
    def incident(self) -> Incident:
        return self._record.incident

    @property
    def plan(self) -> IncidentPlan:
        return self._record.plan

    @property
    def resolved(self) -> bool:
        return self._record.state is State.RESOLVED

    def tier(self, name: str) -> Tier:
        """The planned tier called ``name``."""
        return self.plan.tier(name)

    def record(self, kind: str, detail: str = "", actor: str = "runbook") -> None:
        """Write an entry on the incident's timeline."""
        self._record.add(workflow.now(), kind, actor, detail)

    # -- paging -------------------------------------------------------------------

    async def page(self, *tiers: Tier) -> None:
        """Page every target of each tier at once; returns as soon as the pages are sent off.

        Delivery goes on in the background, so a slow or throttled email
        provider never delays the acknowledgement timer that follows.
        """
        now = workflow.now()
        for tier in tiers:
            for person in tier.targets:
                self._record.mark_paged(person, tier, now)
                self._record.add(now, "paged", "runbook", f"{person.name} (tier {tier.number}: {tier.name})")
                self._deliver(NotificationKind.PAGE, person, tier)
        self._on_change()

    async def notify(
        self, people: Sequence[Person], message: str, kind: NotificationKind = NotificationKind.STAKEHOLDER
    ) -> None:
        """Email people who are informed but not asked to act (stakeholders, management)."""
        for person in people:
            self._deliver(kind, person, None, message)
        names = ", ".join(p.name for p in people) or "nobody (none planned)"
        self.record(
            kind.value if kind != NotificationKind.STAKEHOLDER else "stakeholder_update",
            f"{message} -> {names}",
        )

    async def notify_stakeholders(self, message: str | None = None) -> None:
        """Send the planned stakeholders a status update."""
        view = self._record.view()
        tier = f"tier {view.tier.number} ({view.tier.name})" if view.tier else "not paged yet"
        await self.notify(self.plan.stakeholders, message or f"Status: {view.state.value}, {tier}")

    def _deliver(self, kind: NotificationKind, person: Person, tier: Tier | None, message: str = "") -> None:
        self._sent += 1
        view = self._record.view()
        # The email needs the hand-off (notes), not the whole timeline: keep the
        # activity input, and so the history, small however long the incident runs.
        notes = [e for e in view.timeline if e.kind == "note"][-MAX_NOTES_IN_EMAIL:]
        note = Notification(
            id=f"{self.incident.id}-{self._sent:04d}-{person.id}",
            kind=kind,
            incident=view.model_copy(update={"timeline": notes, "paged": view.paged[-50:]}),
            recipient=person,
            tier=TierRef(number=tier.number, name=tier.name) if tier else None,
            message=message,
            previously_paged=[n for n in self._record.previously_paged() if n != person.name],
        )
        self._deliveries = [d for d in self._deliveries if not d.done()]
        self._deliveries.append(asyncio.ensure_future(self._send(note)))

    async def _send(self, note: Notification) -> None:
        what = f"tier {note.tier.number}" if note.tier else note.kind.value
        try:
            await workflow.execute_activity(
                contract.SEND_EMAIL,
                note,
                retry_policy=EMAIL_RETRY,
                summary=f"email {note.recipient.name} ({what})",
                **EMAIL_TIMEOUTS,
            )
        except ActivityError as err:
            cause = err.cause.message if err.cause else str(err)
            self.record("notification_failed", f"email to {note.recipient.name}: {cause}", "email")

    # -- waiting ------------------------------------------------------------------

    async def wait_for_ack(self, timeout: timedelta, what: str = "") -> bool:
        """Wait until someone acknowledges (True) or ``timeout`` passes (False).

        An escalate-now request ends the wait early with False, as if it had timed out.
        """
        return await self._await_ack(timeout, what) == "acknowledged"

    async def _await_ack(self, timeout: timedelta, what: str) -> str:
        try:
            await self._wait(
                lambda: self._record.state is not State.TRIGGERED,
                timeout,
                f"acknowledgement {what}within {_human(timeout)}",
            )
        except TimeoutError:
            return "timeout"
        return "requested" if self._take_escalate_request() else "acknowledged"

    async def wait_resolved(self, timeout: timedelta | None = None, summary: str = "resolution") -> bool:
        """Wait until the incident is resolved (True) or ``timeout`` passes (False)."""
        try:
            await workflow.wait_condition(lambda: self.resolved, timeout=timeout, timeout_summary=summary)
        except TimeoutError:
            return False
        return True

    async def _wait(self, done: Callable[[], bool], timeout: timedelta | None, summary: str) -> None:
        self.waiting += 1
        try:
            await workflow.wait_condition(
                lambda: done() or self.escalate_requested, timeout=timeout, timeout_summary=summary
            )
        finally:
            self.waiting -= 1

    def _take_escalate_request(self) -> bool:
        requested, self.escalate_requested = self.escalate_requested, False
        return requested

    # -- composite behaviours -----------------------------------------------------

    async def escalate(
        self,
        tiers: Sequence[Tier] | None = None,
        repeat: int | None = None,
        *,
        resumable: bool = False,
        _resume_at: int | None = None,
    ) -> bool:
        """Walk ``tiers`` (default: all planned) ``repeat + 1`` times until someone acknowledges.

        After an acknowledgement it holds until the incident is resolved (True),
        or until someone escalates, which pages the next tier. When the last
        tier passes unacknowledged, management is told and False is returned;
        the incident stays open.

        Args:
            resumable: the scenario does nothing after this call, so a long hold
                after an acknowledgement may continue as new and pick up here.
        """
        tiers = list(tiers or self.plan.tiers)
        rounds = self.plan.repeat if repeat is None else repeat
        steps = [tier for _ in range(rounds + 1) for tier in tiers]
        first = 0 if _resume_at is None else _resume_at
        for index in range(first, len(steps)):
            tier = steps[index]
            if index == _resume_at:
                outcome = "acknowledged"  # continued run: we were holding here
            else:
                await self.page(tier)
                outcome = await self._await_ack(tier.ack_timeout, f"from tier {tier.number} ")
            if outcome == "acknowledged":
                if resumable:
                    self._ladder = LadderPosition(tiers=[t.name for t in tiers], rounds=rounds, index=index)
                await self._wait(lambda: self.resolved, None, "resolution or escalation")
                self._ladder = None
                if self.resolved:
                    return True
                self._take_escalate_request()
            elif outcome == "timeout" and index + 1 < len(steps):
                self.record(
                    "escalated",
                    f"no acknowledgement from tier {tier.number} "
                    f"({tier.name}) within {_human(tier.ack_timeout)}",
                )
        await self.exhausted()
        return False

    async def exhausted(self) -> None:
        """Record that every tier was tried in vain and tell management."""
        self._record.exhausted = True
        people = self.plan.management or self.plan.tiers[-1].targets
        await self.notify(
            people, "Every escalation tier was paged and nobody acknowledged.", NotificationKind.EXHAUSTED
        )
        self._on_change()

    def every(self, interval: timedelta, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` every ``interval`` until the incident is resolved, in the background.

        When ``action`` is a method of this object (``esc.notify_stakeholders``),
        the loop survives continue-as-new, so it may run for months.
        """
        name = getattr(action, "__name__", "")
        bound = getattr(action, "__self__", None) is self
        self._start_periodic(name if bound else "", interval, workflow.now() + interval, action)

    def _start_periodic(
        self, name: str, interval: timedelta, next_at: datetime, action: Callable[[], Awaitable[None]]
    ) -> None:
        periodic = Periodic(action=name, interval=interval, next_at=next_at)

        async def loop() -> None:
            while True:
                remaining = periodic.next_at - workflow.now()
                if remaining > ZERO and await self.wait_resolved(remaining, f"next {name or 'update'}"):
                    return
                if self.resolved:
                    return
                # Keep the cadence (no drift), but never fire a burst after an outage.
                periodic.next_at = max(periodic.next_at + interval, workflow.now() + interval / 2)
                await action()

        self._periodic.append((periodic, asyncio.ensure_future(loop())))

    def in_background(self, work: Awaitable[None]) -> None:
        """Run ``work`` alongside the scenario; the incident ends only after it finishes."""
        self._background = [t for t in self._background if not t.done()]
        self._background.append(asyncio.ensure_future(work))

    # -- continue-as-new ----------------------------------------------------------

    def parked(self, scenario_done: bool) -> bool:
        """Whether the incident could continue as new now without losing its place."""
        resumable_scenario = scenario_done or self._ladder is not None
        return resumable_scenario and all(p.action for p, _ in self._periodic)

    async def quiesce(self) -> Carried:
        """Stop background loops, let in-flight emails finish, and say where we stand."""
        for _, task in self._periodic:
            task.cancel()
        await asyncio.gather(*(t for _, t in self._periodic), return_exceptions=True)
        await asyncio.gather(*self._background, *self._deliveries, return_exceptions=True)
        return Carried(
            view=self._record.view(),
            triggers=self._record.triggers,
            sent=self._sent,
            ladder=self._ladder,
            periodic=[p for p, _ in self._periodic],
        )

    def resume(self, carried: Carried) -> asyncio.Future[bool] | None:
        """Pick up where the previous run stopped; the ladder's hold, if it was in one."""
        self._record.restore(carried.view, carried.triggers)
        self._sent = carried.sent
        for periodic in carried.periodic:
            self._start_periodic(
                periodic.action, periodic.interval, periodic.next_at, getattr(self, periodic.action)
            )
        if carried.ladder is None:
            return None
        tiers = [self.plan.tier(name) for name in carried.ladder.tiers]
        return asyncio.ensure_future(
            self.escalate(tiers, carried.ladder.rounds, resumable=True, _resume_at=carried.ladder.index)
        )

    # -- used by the workflow when the incident closes ---------------------------

    async def wind_down(self) -> None:
        """Let background loops see the resolution, and drop pages nobody needs any more."""
        await asyncio.gather(*self._background, *(t for _, t in self._periodic))
        for delivery in self._deliveries:
            delivery.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
