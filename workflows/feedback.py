"""The feedback workflow: after an incident is resolved, ask everyone paged or notified how
it went, and remind those who have not answered a day later.

Started (``feedback-<incident id>``) by an activity of the incident workflow once the
incident is resolved, so it outlives the incident's run and shows in its history. The
email carries a signed feedback link (made in the email activity, never here); the answers
are in the application database, which only the ``feedback_pending`` activity reads.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import contract
    from workflows.activity_models import Notification
    from workflows.models import IncidentView, Model, NotificationKind, Person

REMINDER_AFTER = timedelta(hours=24)
MAX_ASKED = 500  # people asked about one incident
# An email is retried for up to a day (SendGrid down for hours must not lose the question).
EMAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))
EMAIL_GIVE_UP = timedelta(hours=23)


class FeedbackInput(Model):
    """Whom to ask about which incident (its final view, without the timeline), and when."""

    incident: IncidentView
    people: list[Person] = Field(max_length=MAX_ASKED)
    delay: timedelta = timedelta(0)
    reminder_after: timedelta = REMINDER_AFTER


class FeedbackPending(Model):
    """Ask the record which of ``people`` have not answered on ``incident_id``."""

    incident_id: str
    people: list[str]


class FeedbackOutcome(Model):
    asked: list[str] = Field(default_factory=list)
    reminded: list[str] = Field(default_factory=list)
    undeliverable: list[str] = Field(default_factory=list)


async def request_feedback(view: IncidentView, people: list[Person], delay: timedelta) -> None:
    """From the incident workflow, once resolved: have the feedback workflow started for
    ``people`` (everyone paged or notified). An activity starts it, not a child: it is a
    workflow of its own that outlives the incident's run."""
    if not people:
        return
    view = view.model_copy(update={"timeline": [], "paged": []})
    await workflow.execute_activity(
        contract.REQUEST_FEEDBACK,
        FeedbackInput(incident=view, people=people[:MAX_ASKED], delay=delay),
        start_to_close_timeout=timedelta(seconds=30),
        summary=f"ask {len(people)} people for feedback in {delay}",
    )


@workflow.defn(name=contract.FEEDBACK_WORKFLOW)
class FeedbackWorkflow:
    @workflow.run
    async def run(self, input: FeedbackInput) -> FeedbackOutcome:
        outcome = FeedbackOutcome()
        if input.delay > timedelta(0):
            await workflow.sleep(input.delay, summary="let the dust settle before asking")
        message = "This incident is resolved. How did the response go? One click, a rating and a comment."
        outcome.asked = await self._ask(input, input.people, NotificationKind.FEEDBACK, message, outcome)
        if not outcome.asked:
            return outcome
        await workflow.sleep(input.reminder_after, summary="wait a day before reminding")
        pending = await workflow.execute_activity(
            contract.FEEDBACK_PENDING,
            FeedbackPending(incident_id=input.incident.id, people=outcome.asked),
            result_type=list[str],
            start_to_close_timeout=timedelta(seconds=30),
            summary="who has not answered yet",
        )
        waiting = [p for p in input.people if p.id in set(pending)]
        reminder = "A reminder: your view of how this incident went helps the next one go better."
        outcome.reminded = await self._ask(
            input, waiting, NotificationKind.FEEDBACK_REMINDER, reminder, outcome
        )
        return outcome

    async def _ask(
        self,
        input: FeedbackInput,
        people: list[Person],
        kind: NotificationKind,
        message: str,
        outcome: FeedbackOutcome,
    ) -> list[str]:
        """Email each person, side by side; the ids of those whose email went out."""
        results = await asyncio.gather(*(self._email(input, p, kind, message) for p in people))
        outcome.undeliverable += [p.id for p, ok in zip(people, results, strict=True) if not ok]
        return [p.id for p, ok in zip(people, results, strict=True) if ok]

    async def _email(
        self, input: FeedbackInput, person: Person, kind: NotificationKind, message: str
    ) -> bool:
        note = Notification(
            id=f"{input.incident.id}-{kind.value}-{person.id}",
            kind=kind,
            incident=input.incident,
            recipient=person,
            message=message,
        )
        try:
            await workflow.execute_activity(
                contract.SEND_EMAIL,
                note,
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=EMAIL_GIVE_UP,
                retry_policy=EMAIL_RETRY,
                summary=f"email {person.name}: {kind.value.replace('_', ' ')}",
            )
        except ActivityError as err:  # refused for good, or not delivered within a day
            workflow.logger.warning("feedback email to %s not delivered: %s", person.id, err.cause)
            return False
        return True
