"""The incident workflow: one durable run per incident, id ``incident-<id>``.

It runs the incident's runbook scenario against the plan frozen at its start,
accepts acknowledge / resolve / escalate as validated updates and notes as a
signal, keeps the search attributes and the UI summary current, and ends after
the final documentation once the incident is resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from runbooks import REGISTRY
    from workflows import contract
    from workflows.escalation import Escalation
    from workflows.models import (
        DocumentRequest,
        IncidentInput,
        IncidentView,
        Note,
        ResponderAction,
        Trigger,
    )
    from workflows.record import IncidentRecord


# Continue as new past this many events even if the server has not suggested it
# yet (it suggests at 4,096 events or 4 MB); the hard limit is 51,200.
HISTORY_LIMIT = 10_000


@workflow.defn(name=contract.WORKFLOW_NAME)
class IncidentWorkflow:
    @workflow.init
    def __init__(self, input: IncidentInput) -> None:
        # Built before any handler runs, so an update that arrives with the
        # very first workflow task finds the record (and its rules) in place.
        self._record = IncidentRecord(input.incident, input.plan)
        self._esc = Escalation(self._record, self._publish)

    @workflow.run
    async def run(self, input: IncidentInput) -> IncidentView:
        scenario = self._begin(input)
        while True:
            await workflow.wait_condition(lambda running=scenario: self._awake(input, running))
            if scenario is not None and scenario.done():
                if not scenario.cancelled() and scenario.exception():
                    # A bug in a runbook fails the workflow *task*: the incident waits,
                    # durable, until a fixed runbook is deployed, then carries on.
                    raise scenario.exception()  # type: ignore[misc]
                scenario = None  # the scenario has finished; the incident waits for resolution
                if self._record.exhausted:
                    await self._document()  # every tier tried in vain: write the record now
                continue
            if self._esc.resolved:
                break
            await self._continue_as_new(input)
        if scenario is not None:
            scenario.cancel()
        await self._esc.wind_down()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._document(final=True)
        return self._record.view()

    def _begin(self, input: IncidentInput) -> asyncio.Future | None:
        """Start the runbook's scenario, or on a continued run pick up where it stood."""
        if input.carried is not None:
            scenario = self._esc.resume(input.carried)
            self._publish()
            return scenario
        incident, plan = input.incident, input.plan
        self._record.add(
            workflow.now(),
            "triggered",
            "api",
            f"{incident.severity} on {incident.service}, runbook {plan.runbook}",
        )
        self._publish()
        return asyncio.ensure_future(REGISTRY.get(plan.runbook).run(self._esc))

    def _awake(self, input: IncidentInput, scenario: asyncio.Future | None) -> bool:
        """Something for the main loop: resolution, the scenario's end, or time to continue."""
        return (
            self._esc.resolved
            or (scenario is not None and scenario.done())
            or self._should_continue(input, scenario)
        )

    def _should_continue(self, input: IncidentInput, scenario: asyncio.Future | None) -> bool:
        info = workflow.info()
        long = info.is_continue_as_new_suggested() or (
            info.get_current_history_length() >= (input.history_limit or HISTORY_LIMIT)
        )
        return long and not self._esc.resolved and self._esc.parked(_ended(scenario))

    async def _continue_as_new(self, input: IncidentInput) -> None:
        carried = await self._esc.quiesce()
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._record.add(
            workflow.now(),
            "continued",
            "runbook",
            f"history at {workflow.info().get_current_history_length()} events; continuing in a new run",
        )
        carried.view = self._record.view()
        workflow.continue_as_new(input.model_copy(update={"carried": carried}))

    # -- updates, signal, query -----------------------------------------------

    @workflow.update(name=contract.ACKNOWLEDGE)
    async def acknowledge(self, action: ResponderAction) -> IncidentView:
        self._record.acknowledge(action.responder, workflow.now(), action.note)
        self._publish()
        # The record is written in the background: the responder's answer
        # should not wait for a file to be written.
        self._esc.in_background(self._document())
        return self._record.view()

    @acknowledge.validator
    def _validate_acknowledge(self, action: ResponderAction) -> None:
        _reject_as_application_error(self._record.check_acknowledge, action.responder)

    @workflow.update(name=contract.RESOLVE)
    async def resolve(self, action: ResponderAction) -> IncidentView:
        self._record.resolve(action.responder, workflow.now(), action.note)
        self._publish()
        return self._record.view()

    @resolve.validator
    def _validate_resolve(self, action: ResponderAction) -> None:
        _reject_as_application_error(self._record.check_open, action.responder)

    @workflow.update(name=contract.ESCALATE)
    async def escalate(self, action: ResponderAction) -> IncidentView:
        self._record.add(workflow.now(), "escalation_requested", action.responder, action.note or "")
        self._record.reopen_for_escalation()
        self._esc.escalate_requested = True
        # Return once the scenario has acted on it, so the answer shows who is paged now.
        # If the scenario is busy the request stands and is acted on shortly.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: not self._esc.escalate_requested, timeout=timedelta(seconds=30)
            )
        return self._record.view()

    @escalate.validator
    def _validate_escalate(self, action: ResponderAction) -> None:
        _reject_as_application_error(self._record.check_open, action.responder)
        if not self._esc.waiting or self._esc.escalate_requested:
            raise ApplicationError(
                "nothing to escalate to: the escalation has finished",
                type="ActionRejected",
                non_retryable=True,
            )

    @workflow.update(name=contract.TRIGGER)
    def trigger(self, trigger: Trigger) -> IncidentView:
        """Sent with the start (update-with-start) and with every repeat of the dedup key."""
        self._record.trigger(trigger, workflow.now())
        return self._record.view()

    @trigger.validator
    def _validate_trigger(self, trigger: Trigger) -> None:
        if self._esc.resolved:
            # The caller retries: this run is closing and the next alert opens a new one.
            raise ApplicationError("incident already resolved", type="ActionRejected", non_retryable=True)

    @workflow.signal(name=contract.ADD_NOTE)
    def add_note(self, note: Note) -> None:
        self._record.add(workflow.now(), "note", note.author, note.text)

    @workflow.query(name=contract.GET_INCIDENT)
    def incident(self) -> IncidentView:
        return self._record.view()

    # -- documentation and operator visibility -------------------------------

    async def _document(self, final: bool = False) -> None:
        await workflow.execute_activity(
            contract.DOCUMENT_INCIDENT,
            DocumentRequest(incident=self._record.view(), final=final),
            start_to_close_timeout=timedelta(seconds=30),
            summary="write incident report" if final else "update incident record",
        )

    def _publish(self) -> None:
        """Keep search attributes and the UI's current details in step with the record."""
        record = self._record
        tier = record.tier
        workflow.upsert_search_attributes(
            [
                contract.STATE.value_set(record.state.value),
                contract.TIER.value_set(tier.number if tier else 0),
            ]
        )
        lines = [f"**{record.state.value}**" + (" (all tiers exhausted)" if record.exhausted else "")]
        if tier:
            lines.append(f"Tier {tier.number}: {tier.name}")
        if record.acknowledged_by:
            lines.append(f"Acknowledged by {record.acknowledged_by}")
        workflow.set_current_details("\n\n".join(lines))


def _ended(scenario: asyncio.Future | None) -> bool:
    return scenario is None or scenario.done()


def _reject_as_application_error(check, responder: str) -> None:
    """Run a record rule; turn its refusal into an ApplicationError the caller can read."""
    try:
        check(responder)
    except ValueError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from None
