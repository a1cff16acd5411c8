"""The feedback activities: start the feedback workflow once an incident is resolved, and
tell it who, of the people asked, has not answered yet."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import WorkflowAlreadyStartedError

from store.feedback import answered
from workflows import contract
from workflows.feedback import FeedbackInput, FeedbackPending


class FeedbackRequests:
    """Reads the answers in the application database (a database that is down fails the
    attempt, and Temporal retries it: the reminder waits for the database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name=contract.REQUEST_FEEDBACK)
    async def request_feedback(self, request: FeedbackInput) -> str:
        """Start ``feedback-<incident id>`` on this worker's queue; once only (a retry finds it)."""
        workflow_id = contract.feedback_workflow_id(request.incident.id)
        with contextlib.suppress(WorkflowAlreadyStartedError):  # a retry: started already
            await activity.client().start_workflow(
                contract.FEEDBACK_WORKFLOW,
                request,
                id=workflow_id,
                task_queue=activity.info().task_queue,
                static_summary=f"feedback on incident {request.incident.id}",
            )
        return workflow_id

    @activity.defn(name=contract.FEEDBACK_PENDING)
    async def feedback_pending(self, request: FeedbackPending) -> list[str]:
        done = await asyncio.to_thread(answered, self.engine, request.incident_id)
        return [person for person in request.people if person not in done]
