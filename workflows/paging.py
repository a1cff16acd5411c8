"""Paging tiers: their people, and whoever their schedules put on call.

:class:`Paging` is the base of :class:`workflows.escalation.Escalation`: ``page(tier)``
pages a tier's people and asks the tier's schedules who is on call at the workflow's
time (``workflows/rota.py``); a wait for the tier's acknowledgement pages whoever comes
on call at a hand-off (``hand_off``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from temporalio import workflow

from workflows import patches, rota
from workflows.continuity import DUE, Continuity
from workflows.models import Delivery, NotificationKind, OnHandoff, Page, Person, State, Tier
from workflows.pausing import Pausing
from workflows.record import IncidentRecord
from workflows.rota import TierOnCall
from workflows.text import human
from workflows.vocabulary import Actor, EventKind


class Paging(Continuity):
    """Pages tiers and keeps each tier's latest paging (who, whether empty, next hand-off)."""

    def __init__(self, record: IncidentRecord, on_change: Callable[[], None]) -> None:
        super().__init__(record, on_change)
        self._rota: dict[int, TierOnCall] = {}  # each tier's latest paging: who, empty, next hand-off
        self._snoozed: datetime | None = None  # the snooze a hold is waiting on
        self.pausing = Pausing(record, on_change)
        self.ladder_due: datetime | None = None  # when the ladder's current wait times out

    async def page(self, *tiers: Tier) -> list[Page]:
        """Page every target of each tier at once; returns as soon as the pages are sent off.

        Delivery goes on in the background, so a slow or throttled email
        provider never delays the acknowledgement timer that follows; the
        timeline says ``paged`` once each email is delivered.
        """
        if await self._sit_out() or self._instant():
            return []  # resolved during maintenance, or paged in an earlier run of this incident
        pages = []
        for tier in tiers:
            people, state = await self._tier_people(tier)
            pages += self.page_people(tier, people, state)
        self._on_change()
        return pages

    async def _tier_people(self, tier: Tier) -> tuple[list[Person], TierOnCall]:
        """Whom to page for ``tier`` now: its people and whoever its schedules put on call
        (else what its ``on_empty`` says); kept as the tier's latest paging."""
        people, state = list(tier.targets), TierOnCall()
        if tier.schedules:  # whoever is on call now (an activity, at the workflow's time)
            on_call, state.handoff_at = await rota.ask(self._record, tier, workflow.now())
            people += [p for p in on_call if p.id not in {t.id for t in people}]
        if not people:
            state.empty = True
            people = rota.when_empty(self._record, tier)
        self._rota[tier.number] = state
        return people, state

    async def _sit_out(self) -> bool:
        """Before a page: wait while a maintenance window pauses the incident (acknowledge
        and resolve still work), parked so that a long window may continue as new. True
        when the incident was resolved meanwhile (page nobody)."""
        journal = self._journal if self.in_journal() else None
        if not self.pausing.paging_paused or (journal is not None and journal.replaying()):
            return False
        step = journal.park() if journal is not None else None
        try:
            await workflow.wait_condition(lambda: not self.pausing.paging_paused or self.resolved)
        finally:
            if journal is not None and step is not None:
                journal.unblock(step)
        return self.resolved

    async def after_pause(self, tier: Tier | None, pages: list[Page]) -> bool:
        """Within a wait for ``tier``'s acknowledgement, a maintenance window began: wait it
        out; then, still unacknowledged, page the tier again (True: start a fresh timer)."""
        await workflow.wait_condition(
            lambda: (
                not self.pausing.paging_paused
                or self._record.state is not State.TRIGGERED
                or self.escalate_requested
            )
        )
        if self._record.state is not State.TRIGGERED or self.escalate_requested:
            return False
        if tier is not None:
            people, state = await self._tier_people(tier)
            pages += self.page_people(tier, people, state)
            self._on_change()
        return True

    def page_people(
        self, tier: Tier, people: Sequence[Person], state: TierOnCall | None = None
    ) -> list[Page]:
        now = workflow.now()
        tracked = patches.patched(patches.DELIVERY)
        pages = []
        for person in people:
            page = self._record.mark_paged(person, tier, now, Delivery.SENDING if tracked else None)
            pages.append(page)
            if state is not None:
                state.paged.add(person.id)
            kind = EventKind.PAGING if tracked else EventKind.PAGED
            self._record.add(now, kind, Actor.RUNBOOK, f"{person.name} (tier {tier.number}: {tier.name})")
            self.mail.send(NotificationKind.PAGE, person, tier, page=page)
        return pages

    async def hand_off(self, tier: Tier, state: TierOnCall, pages: list[Page]) -> None:
        """A schedule of the tier changed hands before its timeout: page whoever came on
        (unless someone acknowledged meanwhile)."""
        on_call, state.handoff_at = await rota.ask(self._record, tier, workflow.now())
        incoming = [p for p in on_call if p.id not in state.paged]
        if not incoming or self._record.state is not State.TRIGGERED or self.pausing.paging_paused:
            return
        names = ", ".join(p.name for p in incoming)
        self._record.add(
            workflow.now(), EventKind.HANDOFF, Actor.RUNBOOK, f"tier {tier.number} ({tier.name}): {names}"
        )
        pages += self.page_people(tier, incoming, state)
        self._on_change()

    async def _wait(self, done: Callable[[], bool], timeout: timedelta | None, summary: str) -> None:
        self.waiting += 1
        self.ladder_due = None if timeout is None else workflow.now() + timeout
        try:
            await workflow.wait_condition(
                lambda: done() or self.escalate_requested, timeout=timeout, timeout_summary=summary
            )
        finally:
            self.waiting -= 1
            self.ladder_due = None

    async def _hold(self, _: timedelta | None) -> str:
        """Hold an acknowledged incident until it is resolved or someone escalates (``.``),
        or until it goes back to triggered (``t``): the runbook's ``ack_timeout`` passed, or
        a snooze ended. A snooze made meanwhile moves that deadline."""
        while True:
            self._snoozed = self._record.snoozed_until
            due = self._record.hold_until(self._record.plan.ack_timeout)
            try:
                await self._wait(
                    lambda: self.resolved or self._record.snoozed_until != self._snoozed,
                    None if due is None else max(due - workflow.now(), DUE),
                    "resolution or escalation",
                )
            except TimeoutError:
                return "t"
            if self.resolved or self.escalate_requested:
                return "."

    async def _page_again(self, tier: Tier) -> list[Page]:
        """Back to triggered; page whoever acknowledged (else the tier, as first paged)."""
        if await self._sit_out() or self._instant():
            return []
        who = self._record.acknowledged_by
        snoozed = self._record.snoozed_until is not None
        why = f"the snooze is over: paging {self._record.name(who)} again"
        if not snoozed:
            limit = human(self._record.plan.ack_timeout or DUE)
            why = f"acknowledged but not resolved within {limit}: paging {self._record.name(who)} again"
        self._record.retrigger(workflow.now(), why)
        person = self._record.people().get(who or "")
        pages = self.page_people(tier, [person] if person else tier.targets)
        self._on_change()
        return pages

    def resumed(self, tier: Tier) -> TierOnCall | None:
        """A tier's state when a continued run resumes its wait (the run that paged it has
        gone): who it paged, from the record, and a hand-off due now, so that whoever is
        on call is asked again at once."""
        if not tier.schedules or tier.on_handoff is not OnHandoff.PAGE_INCOMING:
            return None
        paged = {p.person for p in self._record.paged if p.tier == tier.number}
        self._rota[tier.number] = TierOnCall(paged=paged, handoff_at=workflow.now())
        return self._rota[tier.number]


def handoff_due(tier: Tier | None, state: TierOnCall | None, end: datetime | None) -> datetime | None:
    """The next hand-off to act on before ``end``, if the tier pages the incoming person."""
    if (
        tier is None
        or state is None
        or state.handoff_at is None
        or tier.on_handoff is not OnHandoff.PAGE_INCOMING
    ):
        return None
    return state.handoff_at if end is None or state.handoff_at < end else None


def time_left(end: datetime | None) -> timedelta | None:
    return None if end is None else max(end - workflow.now(), DUE)
