"""The primitives a runbook scenario is written with.

Every method here runs inside the incident workflow: timers are durable
Temporal timers, pages are activities, and everything is written to the
incident's timeline. A scenario only ever sees an :class:`Escalation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows import contract
from workflows.models import (
    Incident,
    IncidentPlan,
    Notification,
    NotificationKind,
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
        self._background: list[asyncio.Task[None]] = []
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

    async def notify(self, people: Sequence[Person], message: str,
                     kind: NotificationKind = NotificationKind.STAKEHOLDER) -> None:
        """Email people who are informed but not asked to act (stakeholders, management)."""
        for person in people:
            self._deliver(kind, person, None, message)
        names = ", ".join(p.name for p in people) or "nobody (none planned)"
        self.record(kind.value if kind != NotificationKind.STAKEHOLDER else "stakeholder_update",
                    f"{message} -> {names}")

    async def notify_stakeholders(self, message: str | None = None) -> None:
        """Send the planned stakeholders a status update."""
        view = self._record.view()
        tier = f"tier {view.tier.number} ({view.tier.name})" if view.tier else "not paged yet"
        await self.notify(self.plan.stakeholders, message or f"Status: {view.state.value}, {tier}")

    def _deliver(self, kind: NotificationKind, person: Person, tier: Tier | None,
                 message: str = "") -> None:
        self._sent += 1
        note = Notification(
            id=f"{self.incident.id}-{self._sent:04d}-{person.id}",
            kind=kind,
            incident=self._record.view(),
            recipient=person,
            tier=TierRef(number=tier.number, name=tier.name) if tier else None,
            message=message,
            previously_paged=[n for n in self._record.previously_paged() if n != person.name],
        )
        self._deliveries.append(asyncio.ensure_future(self._send(note)))

    async def _send(self, note: Notification) -> None:
        what = f"tier {note.tier.number}" if note.tier else note.kind.value
        try:
            await workflow.execute_activity(
                contract.SEND_EMAIL, note, retry_policy=EMAIL_RETRY,
                summary=f"email {note.recipient.name} ({what})", **EMAIL_TIMEOUTS,
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
            await self._wait(lambda: self._record.state is not State.TRIGGERED, timeout,
                             f"acknowledgement {what}within {_human(timeout)}")
        except TimeoutError:
            return "timeout"
        return "requested" if self._take_escalate_request() else "acknowledged"

    async def wait_resolved(self, timeout: timedelta | None = None) -> bool:
        """Wait until the incident is resolved (True) or ``timeout`` passes (False)."""
        try:
            await workflow.wait_condition(lambda: self.resolved, timeout=timeout,
                                          timeout_summary="resolution")
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

    async def escalate(self, tiers: Sequence[Tier] | None = None, repeat: int | None = None) -> bool:
        """Walk ``tiers`` (default: all planned) ``repeat + 1`` times until someone acknowledges.

        After an acknowledgement it holds until the incident is resolved (True),
        or until someone escalates, which pages the next tier. When the last
        tier passes unacknowledged, management is told and False is returned;
        the incident stays open.
        """
        tiers = list(tiers or self.plan.tiers)
        rounds = self.plan.repeat if repeat is None else repeat
        steps = [tier for _ in range(rounds + 1) for tier in tiers]
        for index, tier in enumerate(steps):
            await self.page(tier)
            outcome = await self._await_ack(tier.ack_timeout, f"from tier {tier.number} ")
            if outcome == "acknowledged":
                await self._wait(lambda: self.resolved, None, "resolution or escalation")
                if self.resolved:
                    return True
                self._take_escalate_request()
            elif outcome == "timeout" and index + 1 < len(steps):
                self.record("escalated", f"no acknowledgement from tier {tier.number} "
                            f"({tier.name}) within {_human(tier.ack_timeout)}")
        await self.exhausted()
        return False

    async def exhausted(self) -> None:
        """Record that every tier was tried in vain and tell management."""
        self._record.exhausted = True
        people = self.plan.management or self.plan.tiers[-1].targets
        await self.notify(people, "Every escalation tier was paged and nobody acknowledged.",
                          NotificationKind.EXHAUSTED)
        self._on_change()

    def every(self, interval: timedelta, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` every ``interval`` until the incident is resolved, in the background."""

        async def loop() -> None:
            while not await self.wait_resolved(interval):
                await action()

        self.in_background(loop())

    def in_background(self, work: Awaitable[None]) -> None:
        """Run ``work`` alongside the scenario; the incident ends only after it finishes."""
        self._background.append(asyncio.ensure_future(work))

    # -- used by the workflow when the incident closes ---------------------------

    async def wind_down(self) -> None:
        """Let background loops see the resolution, and drop pages nobody needs any more."""
        await asyncio.gather(*self._background)
        for delivery in self._deliveries:
            delivery.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
