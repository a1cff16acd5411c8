"""The primitives a runbook scenario is written with.

Every method here runs inside the incident workflow: timers are durable
Temporal timers, pages are activities, and everything is written to the
incident's timeline. A scenario only ever sees an :class:`Escalation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow

from schedules.business_hours import BusinessHours, is_open, next_open
from workflows import rota
from workflows.continuity import DUE
from workflows.delivery import undeliverable
from workflows.models import (
    Incident,
    IncidentFlag,
    IncidentPlan,
    NotificationKind,
    OnEmpty,
    Page,
    Person,
    State,
    Tier,
)
from workflows.paging import Paging, handoff_due, time_left
from workflows.run_state import Carried, LadderPosition
from workflows.text import human
from workflows.vocabulary import Actor, EventKind


class Escalation(Paging):
    """The scenario's handle on its incident.

    Attributes:
        incident: the incident's fields, for branching (severity, service, labels).
        plan: the frozen plan: tiers, stakeholders, management.
    """

    @property
    def incident(self) -> Incident:
        """The incident's fields (with the latest alert's title, description and labels)."""
        return self._record.incident

    @property
    def plan(self) -> IncidentPlan:
        """The plan frozen when the incident was opened: tiers, stakeholders, management."""
        return self._record.plan

    def tier(self, name: str) -> Tier:
        """The planned tier called ``name``."""
        return self.plan.tier(name)

    def is_open(self, hours: BusinessHours) -> bool:
        """Whether ``hours`` (a business-hours calendar) is open now, in the incident's time."""
        return is_open(hours, workflow.now())

    async def wait_for_opening(self, hours: BusinessHours) -> None:
        """Wait (durably) until ``hours`` next opens; at once when open now."""
        opening = next_open(hours, workflow.now())
        if opening is not None and opening > workflow.now():
            await self.sleep(opening - workflow.now(), summary=f"until {hours.name} opens")

    def record(self, kind: str, detail: str = "", actor: str = Actor.RUNBOOK) -> None:
        """Write an entry on the incident's timeline."""
        if not self._instant():
            self._record.add(workflow.now(), kind, actor, detail)

    # -- paging -------------------------------------------------------------------

    async def notify(
        self, people: Sequence[Person], message: str, kind: NotificationKind = NotificationKind.STAKEHOLDER
    ) -> None:
        """Email people who are informed but not asked to act (stakeholders, management)."""
        if not self._instant():
            self.tell(people, message, kind)

    def tell(self, people: Sequence[Person], message: str, kind: NotificationKind) -> None:
        for person in people:
            self.mail.send(kind, person, None, message)
        names = ", ".join(p.name for p in people) or "nobody (none planned)"
        what = kind.value if kind != NotificationKind.STAKEHOLDER else EventKind.STAKEHOLDER_UPDATE
        self._record.add(workflow.now(), what, Actor.RUNBOOK, f"{message} -> {names}")

    async def notify_stakeholders(self, message: str | None = None) -> None:
        """Send the planned stakeholders a status update."""
        view = self._record.view()
        tier = f"tier {view.tier.number} ({view.tier.name})" if view.tier else "not paged yet"
        await self.notify(self.plan.stakeholders, message or f"Status: {view.state.value}, {tier}")

    # -- waiting ------------------------------------------------------------------

    async def wait_for_ack(self, timeout: timedelta, what: str = "") -> bool:
        """Wait until someone acknowledges (True) or ``timeout`` passes (False).

        An escalate-now request ends the wait early with False, as if it had timed out.
        """
        return await self._await_ack(timeout, what) == "acknowledged"

    async def _await_ack(
        self, timeout: timedelta, what: str, pages: Sequence[Page] = (), tier: Tier | None = None
    ) -> str:
        """``acknowledged``, ``timeout``, ``requested`` (escalate now), ``undeliverable``
        (every page in ``pages`` failed to go out: nobody can acknowledge) or ``empty``
        (``tier`` had nobody on call and skips). A hand-off of one of the tier's schedules
        before the timeout pages whoever comes on call, within the same wait."""
        state = self._rota.get(tier.number) if tier is not None else None
        paged = list(pages)

        async def wait(limit: timedelta | None) -> str:
            nonlocal state
            if tier is not None and state is None:  # a continued run resumes this wait
                state = self.resumed(tier)
            if tier is not None and state is not None and state.empty and tier.on_empty is OnEmpty.SKIP:
                return "e"
            end = None if limit is None else workflow.now() + limit
            while True:
                handoff = handoff_due(tier, state, end)
                try:
                    await self._wait(
                        lambda: (
                            self._record.state is not State.TRIGGERED
                            or undeliverable(paged)
                            or self.pausing.paging_paused
                        ),
                        max(handoff - workflow.now(), DUE) if handoff else time_left(end),
                        f"acknowledgement {what}within {human(timeout)}",
                    )
                except TimeoutError:
                    if handoff is None or tier is None or state is None:
                        return "t"
                    await self.hand_off(tier, state, paged)
                    continue
                if self._paused_in_tier(paged):
                    if await self.after_pause(tier, paged):  # timers frozen: a fresh one now
                        end = workflow.now() + timeout
                        self._rearm(end)
                        state = self._rota.get(tier.number) if tier is not None else None
                    continue
                break
            if self._take_escalate_request():
                return "r"
            return "a" if self._record.state is not State.TRIGGERED else "u"

        return _ACK_OUTCOMES[await self._timed(wait, timeout)]

    def escalate_now(self, why: str) -> None:
        """Page the next tier now, as if its timeout had passed (from a runbook's hook, say
        ``on_severity_change``): acts while a tier waits for its acknowledgement."""
        if self._record.state is State.TRIGGERED and self.waiting and not self.escalate_requested:
            self._record.add(workflow.now(), EventKind.ESCALATION_REQUESTED, Actor.RUNBOOK, why)
            self.escalate_requested = True

    def _paused_in_tier(self, paged: Sequence[Page]) -> bool:
        """A maintenance window paused the incident while it waits for an acknowledgement."""
        waiting = self._record.state is State.TRIGGERED and not self.escalate_requested
        return waiting and self.pausing.paging_paused and not undeliverable(paged)

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
                pages = await self.page(tier)
                outcome = await self._await_ack(tier.ack_timeout, f"from tier {tier.number} ", pages, tier)
            while outcome == "acknowledged":
                if resumable and not self.in_journal():  # a journaled scenario resumes by replay
                    self._ladder = LadderPosition(tiers=[t.name for t in tiers], rounds=rounds, index=index)
                held = await self._timed(self._hold, None)
                self._ladder = None
                if self.resolved:
                    return True
                if held != "t":  # someone escalates: the next tier
                    self._take_escalate_request()
                    break
                # Acknowledged too long, or a snooze is over: page the acknowledger again.
                pages = await self._page_again(tier)
                outcome = await self._await_ack(tier.ack_timeout, "again ", pages, tier)
            if outcome == "acknowledged":
                pass
            elif outcome == "empty" and index + 1 < len(steps):
                self.record(EventKind.ESCALATED, f"tier {tier.number} ({tier.name}) had nobody on call")
            elif outcome == "undeliverable" and index + 1 < len(steps):
                self.record(EventKind.ESCALATED, f"nobody in tier {tier.number} ({tier.name}) could be paged")
            elif outcome == "timeout" and index + 1 < len(steps):
                self.record(
                    EventKind.ESCALATED,
                    f"no acknowledgement from tier {tier.number} "
                    f"({tier.name}) within {human(tier.ack_timeout)}",
                )
        await self.exhausted()
        return False

    async def exhausted(self) -> None:
        """Record that every tier was tried in vain and tell management."""
        if await self._sit_out() or self._instant():
            return
        if not self._record.paged and self.plan.last_resort:  # the whole ladder paged nobody
            names = ", ".join(p.name for p in self.plan.last_resort)
            self._record.add(
                workflow.now(),
                EventKind.LAST_RESORT,
                Actor.RUNBOOK,
                f"nobody was on call in any tier: paging {names}",
            )
            self.page_people(
                rota.last_resort_tier(self.plan.tiers, self.plan.last_resort), self.plan.last_resort
            )
        self._record.exhausted = True
        self._record.flag(IncidentFlag.EXHAUSTED)
        # Told: management, else the last tier's people, the last resort, whoever was paged.
        plan = self.plan
        people = plan.management or plan.tiers[-1].targets or plan.last_resort or self._record.people_paged()
        self.tell(
            people, "Every escalation tier was paged and nobody acknowledged.", NotificationKind.EXHAUSTED
        )
        self._on_change()

    def resume(
        self, carried: Carried, run: Callable[[Any], Coroutine[Any, Any, None]] | None
    ) -> asyncio.Future[Any] | None:
        """Pick up where the previous run stopped: the scenario replayed from its journal,
        and a plain ladder (outside the scenario, or carried the older way) where it held."""
        replay = super().resume(carried, run)
        if carried.ladder is None:
            return replay
        tiers = [self.plan.tier(name) for name in carried.ladder.tiers]
        return asyncio.ensure_future(
            self.escalate(tiers, carried.ladder.rounds, resumable=True, _resume_at=carried.ladder.index)
        )

    # -- the plan walked plainly -------------------------------------------------

    def tiers_after_current(self) -> list[Tier]:
        """The planned tiers after the highest one paged so far."""
        current = self._record.tier.number if self._record.tier else 0
        return self.plan.tiers[current:]

    def continue_plan(self, skip_current: bool = False) -> asyncio.Future[bool] | None:
        """Walk the frozen plan from where the incident stands, as a plain ladder.

        Used when a runbook's scenario failed (the current tier is paged again:
        whether it was reached is unknown; an acknowledged incident holds), and
        when someone escalates after the scenario has finished (``skip_current``).
        """
        if self.resolved:
            return None
        tiers = self.plan.tiers
        current = self._record.tier.number if self._record.tier else 0
        if skip_current:
            remaining = tiers[current:]
            return asyncio.ensure_future(self.escalate(remaining, 0, resumable=True)) if remaining else None
        if self._record.state is State.ACKNOWLEDGED and current:
            held = tiers[current - 1 :]
            return asyncio.ensure_future(self.escalate(held, 0, resumable=True, _resume_at=0))
        return asyncio.ensure_future(self.escalate(tiers[max(current - 1, 0) :], 0, resumable=True))


_ACK_OUTCOMES = {"a": "acknowledged", "t": "timeout", "r": "requested", "u": "undeliverable", "e": "empty"}
