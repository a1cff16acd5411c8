"""Email delivery from inside the incident workflow: pages, updates and stand-downs.

"Paged" means an email went out. A page is written to the timeline as
``paging`` when it is handed to the email activity, as ``paged`` once the
activity reports it delivered, as ``page_retrying`` when the first attempt
failed and Temporal keeps retrying, and as ``page_failed`` (with the incident
flagged ``undeliverable``) when it could not be delivered within
``PAGE_DELIVERY_BOUND``; the ladder then moves past a tier nobody in which
could be reached. Each page's state is also on the incident view
(``paged[].delivery``: sending, sent, retrying, failed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from workflows import contract, patches
from workflows.activity_models import Notification
from workflows.models import Delivery, IncidentFlag, NotificationKind, Page, Person, Tier, TierRef
from workflows.record import IncidentRecord
from workflows.vocabulary import Actor, EventKind

# Retries on throttling and outages; a message SendGrid refuses for good is final.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["EmailRejected"],
)
FIRST_ATTEMPT = RetryPolicy(maximum_attempts=1)
# Longer than the SendGrid client's timeout, so an attempt is never abandoned
# while the provider may still deliver it (a duplicate email).
ATTEMPT_TIMEOUT = timedelta(seconds=60)
PAGE_DELIVERY_BOUND = timedelta(minutes=5)
OTHER_DELIVERY_BOUND = timedelta(hours=1)
LEGACY_START_TO_CLOSE = timedelta(seconds=15)
LEGACY_SCHEDULE_TO_CLOSE = timedelta(hours=1)
MAX_NOTES_IN_EMAIL = 20


class Mailer:
    """Builds each notification and follows its delivery."""

    def __init__(self, record: IncidentRecord, on_change: Callable[[], None]) -> None:
        self._record = record
        self._on_change = on_change
        self.sent = 0  # notifications made so far: the sequence in their ids
        self._in_flight: list[asyncio.Task[None]] = []
        self._stand_downs: list[asyncio.Task[None]] = []

    def send(
        self,
        kind: NotificationKind,
        person: Person,
        tier: Tier | None,
        message: str = "",
        page: Page | None = None,
    ) -> None:
        """Hand one email to the activity; its delivery goes on in the background."""
        self.sent += 1
        view = self._record.view()
        # The email needs the hand-off (notes), not the whole timeline: keep the
        # activity input, and so the history, small however long the incident runs.
        notes = [e for e in view.timeline if e.kind == "note"][-MAX_NOTES_IN_EMAIL:]
        if view.drill:  # a drill's report (workflows/drills.py) reads every acknowledgement
            notes = [e for e in view.timeline if e.kind == "acknowledged"][-MAX_NOTES_IN_EMAIL:] + notes
        note = Notification(
            id=f"{self._record.incident.id}-{self.sent:04d}-{person.id}",
            kind=kind,
            incident=view.model_copy(update={"timeline": notes, "paged": view.paged[-50:]}),
            recipient=person,
            tier=TierRef(number=tier.number, name=tier.name) if tier else None,
            message=message,
            previously_paged=[n for n in self._record.previously_paged() if n != person.name],
        )
        tracked = page is not None and page.delivery is not None
        work = self._deliver(note, page) if tracked else self._legacy(note)
        task = asyncio.ensure_future(work)
        if kind in (NotificationKind.ACKNOWLEDGED, NotificationKind.RESOLVED):
            self._stand_downs.append(task)
        else:
            self._in_flight = [t for t in self._in_flight if not t.done()]
            self._in_flight.append(task)

    def stand_down(self, kind: NotificationKind, people: Sequence[Person], message: str) -> None:
        """Tell people who were paged (and, on resolution, stakeholders) they can stand down."""
        if not people or not patches.patched(patches.STAND_DOWN):
            return
        for person in people:
            self.send(kind, person, None, message)
        names = ", ".join(p.name for p in people)
        self._record.add(workflow.now(), EventKind.STOOD_DOWN, Actor.RUNBOOK, f"{message} -> {names}")

    async def _deliver(self, note: Notification, page: Page | None) -> None:
        who, bound = note.recipient.name, self._bound(note)
        summary = f"email {who} ({f'tier {note.tier.number}' if note.tier else note.kind.value})"
        try:
            await self._attempt(note, FIRST_ATTEMPT, summary, None)
        except ActivityError as first:
            if _final(first):
                return self._failed(note, page, _cause(first))
            self._state(page, Delivery.RETRYING)
            self._record.add(workflow.now(), EventKind.PAGE_RETRYING, Actor.EMAIL, f"{who}: {_cause(first)}")
            self._on_change()
            asked = _retry_after(first)  # the provider said when to come back (429 Retry-After)
            if asked is not None:
                await workflow.sleep(min(asked, bound), summary=f"email {who}: wait as SendGrid asked")
            try:
                await self._attempt(note, EMAIL_RETRY, summary + " (retrying)", bound)
            except ActivityError as err:
                return self._failed(note, page, _cause(err))
        self._state(page, Delivery.SENT)
        if page is not None:
            self._record.add(
                workflow.now(), EventKind.PAGED, Actor.RUNBOOK, f"{who} (tier {page.tier}): email delivered"
            )
            self._on_change()

    async def _attempt(
        self, note: Notification, retry: RetryPolicy, summary: str, bound: timedelta | None
    ) -> None:
        await workflow.execute_activity(
            contract.SEND_EMAIL,
            note,
            retry_policy=retry,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=bound,
            summary=summary,
        )

    async def _legacy(self, note: Notification) -> None:
        """The delivery of incidents recorded before delivery states (kept for replay)."""
        what = f"tier {note.tier.number}" if note.tier else note.kind.value
        try:
            await workflow.execute_activity(
                contract.SEND_EMAIL,
                note,
                retry_policy=EMAIL_RETRY,
                summary=f"email {note.recipient.name} ({what})",
                start_to_close_timeout=LEGACY_START_TO_CLOSE,
                schedule_to_close_timeout=LEGACY_SCHEDULE_TO_CLOSE,
            )
        except ActivityError as err:
            detail = f"email to {note.recipient.name}: {_cause(err)}"
            self._record.add(workflow.now(), EventKind.NOTIFICATION_FAILED, Actor.EMAIL, detail)

    def _failed(self, note: Notification, page: Page | None, cause: str) -> None:
        self._state(page, Delivery.FAILED)
        kind = EventKind.PAGE_FAILED if page is not None else EventKind.NOTIFICATION_FAILED
        self._record.add(workflow.now(), kind, Actor.EMAIL, f"email to {note.recipient.name}: {cause}")
        self._record.flag(IncidentFlag.UNDELIVERABLE)
        workflow.logger.warning(
            "incident %s: %s to %s failed: %s", note.about, kind, note.recipient.id, cause
        )
        self._on_change()

    @staticmethod
    def _bound(note: Notification) -> timedelta:
        return PAGE_DELIVERY_BOUND if note.kind is NotificationKind.PAGE else OTHER_DELIVERY_BOUND

    @staticmethod
    def _state(page: Page | None, state: Delivery) -> None:
        if page is not None:
            page.delivery = state

    async def settle(self) -> None:
        """Let every email in flight finish (before continuing as new)."""
        await asyncio.gather(*self._in_flight, *self._stand_downs, return_exceptions=True)

    async def close(self) -> None:
        """At resolution: drop pages nobody needs any more, but deliver the stand-downs."""
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await asyncio.gather(*self._stand_downs, return_exceptions=True)


def undeliverable(pages: Sequence[Page]) -> bool:
    """Every page of a tier failed: waiting for its acknowledgement is pointless."""
    return bool(pages) and all(p.delivery is Delivery.FAILED for p in pages)


def _final(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.non_retryable


def _retry_after(err: ActivityError) -> timedelta | None:
    cause = err.cause
    return cause.next_retry_delay if isinstance(cause, ApplicationError) else None


def _cause(err: ActivityError) -> str:
    cause = err.cause
    return (cause.message if isinstance(cause, FailureError) else str(cause or err))[:300]
