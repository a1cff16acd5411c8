"""The incident workflow: one durable run per incident, id ``incident-<id>``.

It runs the incident's runbook scenario against the plan frozen at its start, accepts
acknowledge / resolve / escalate (severity, snooze, pause) as validated updates and notes
and maintenance notices as signals, keeps the search attributes and the UI summary
current, and ends after the final documentation once the incident is resolved."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import contract, patches
    from workflows.errors import AlreadyResolved, NothingToEscalate, check, rejected
    from workflows.escalation import Escalation
    from workflows.failures import failure_site
    from workflows.feedback import request_feedback
    from workflows.handover import continue_as_new, should_continue
    from workflows.hold import Scenario
    from workflows.hold import held as hold
    from workflows.models import (
        ClockPause,
        IncidentFlag,
        IncidentView,
        Note,
        ResponderAction,
        SeverityChange,
        Snooze,
        TimelineEntry,
        Trigger,
    )
    from workflows.pauses import MaintenanceNotice
    from workflows.publish import document, publish
    from workflows.record import IncidentRecord
    from workflows.run_state import IncidentInput
    from workflows.scenario_registry import ScenarioRegistry
    from workflows.sla import SlaClock
    from workflows.vocabulary import Action, Actor, EventKind

# Runbooks are NOT passed through: each incident imports them inside its sandbox, so a
# scenario that reads the clock, draws random numbers or does I/O is refused (see there).
REGISTRY = ScenarioRegistry()


@workflow.defn(name=contract.WORKFLOW_NAME)
class IncidentWorkflow:
    @workflow.init
    def __init__(self, input: IncidentInput) -> None:
        # Built before any handler runs, so an update that arrives with the
        # very first workflow task finds the record (and its rules) in place.
        incident = input.incident
        if input.opening_ids:  # this opening's own id: links and emails of another never match it
            opening = contract.opening_id(incident.id, workflow.info().first_execution_run_id)
            incident = incident.model_copy(update={"id": opening})
        self._record = IncidentRecord(incident, input.plan)
        self._esc = Escalation(self._record, self._publish)
        # None until run() starts the scenario (an update may come in the same first task),
        # and again once the scenario has finished.
        self._scenario: asyncio.Future[Any] | None = None
        self._begun = False
        self._runbook: Any = None  # the runbook's scenario and hooks, once run() has begun
        self._shown: dict[str, object] = {}  # search attributes as last upserted by this run
        self._sla = SlaClock(self._record, self._esc, input.sla, self._publish) if input.sla else None
        if self._sla is not None and input.carried is None:  # a continued run is handed its clocks
            self._sla.begin(workflow.now())

    @workflow.run
    async def run(self, input: IncidentInput) -> IncidentView:
        self._scenario = self._begin(input)
        clock = None
        if self._sla is not None:  # the targets' clock runs beside the ladder
            clock = asyncio.ensure_future(self._sla.run())
        while True:
            await workflow.wait_condition(lambda: self._awake(input))
            scenario = self._scenario
            if scenario is not None and scenario.done():
                self._scenario = None  # the scenario has finished; the incident waits for resolution
                error = None if scenario.cancelled() else scenario.exception()
                if error is not None:
                    self._scenario = self._runbook_failed(error)
                elif self._record.exhausted:
                    await self._document()  # every tier tried in vain: write the record now
                continue
            if self._esc.resolved:
                break
            await continue_as_new(input, self._record, self._esc)
        if self._scenario is not None:
            self._scenario.cancel()
        await self._esc.wind_down()
        if clock is not None:
            await clock  # ends at the resolution, with the targets it met
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._document(final=True)
        if input.feedback_delay is not None and patches.patched(patches.FEEDBACK):
            await request_feedback(self._record.view(), self._record.people_told(), input.feedback_delay)
        return self._record.view()

    def _begin(self, input: IncidentInput) -> asyncio.Future[Any] | None:
        """Start the runbook's scenario, or on a continued run pick up where it stood."""
        self._begun = True
        if input.opening_ids:  # the list shows this opening's id, not the workflow's
            workflow.upsert_memo({"incident_id": self._record.incident.id})
        incident, plan = input.incident, input.plan
        if input.carried is None:
            self._record.add(
                workflow.now(),
                EventKind.TRIGGERED,
                "api",
                f"{incident.severity} on {incident.service}, runbook {plan.runbook}",
            )
        try:
            self._runbook = REGISTRY.get(plan.runbook)
            run: Scenario = self._runbook.run
        except Exception as error:  # e.g. a deploy removed or broke the runbook
            held = self._esc.resume(input.carried, None) if input.carried is not None else None
            return self._runbook_failed(error, held)
        if input.held_until is not None:  # opened during a maintenance window (the older way)
            run = hold(run, input.held_until, input.held_by)
        for pause in [] if input.carried else input.pauses:  # maintenance windows covering it
            self._esc.pausing.add(pause)
        self._esc.pausing.resume()
        scenario = self._esc.resume(input.carried, run) if input.carried else self._esc.start(run)
        self._publish()
        return scenario

    def _runbook_failed(
        self, error: BaseException, held: asyncio.Future[Any] | None = None
    ) -> asyncio.Future[Any] | None:
        """A mistake in the runbook's scenario must not stop the paging: say so, then walk the
        frozen plan plainly (or keep to the plain ladder a previous run was holding in)."""
        self._note_failure(error)
        return held if held is not None else self._esc.continue_plan()

    def _note_failure(self, error: BaseException) -> None:
        """On the timeline, as a flag and in the worker's log."""
        where = failure_site(error)
        detail = f"{type(error).__name__}: {error} (at {where})"
        workflow.logger.error(
            "incident %s: runbook %s failed: %s", self._record.incident.id, self._record.plan.runbook, detail
        )
        self._record.add(workflow.now(), EventKind.RUNBOOK_FAILED, Actor.RUNBOOK, detail[:1000])
        self._record.flag(IncidentFlag.RUNBOOK_FAILED)
        self._publish()

    def _awake(self, input: IncidentInput) -> bool:
        """Something for the main loop: resolution, the scenario's end, or time to continue."""
        scenario = self._scenario
        return (
            self._esc.resolved
            or (scenario is not None and scenario.done())
            or should_continue(input, self._esc, scenario)
        )

    def _named(self, action: ResponderAction) -> None:
        """Remember the actor's name, as the incident service sent it (for later emails)."""
        if action.name:
            self._record.names[action.responder] = action.name

    def _finished(self) -> bool:
        """The scenario ran and has ended: nothing will act on an escalation request."""
        return self._begun and self._scenario is None and not self._esc.waiting

    # -- updates, signal, query -----------------------------------------------

    @workflow.update(name=Action.ACKNOWLEDGE.value)
    async def acknowledge(self, action: ResponderAction) -> IncidentView:
        self._named(action)
        self._record.acknowledge(action.responder, workflow.now(), action.note)
        self._esc.acknowledged()
        self._publish()
        # The record is written in the background: the responder's answer
        # should not wait for a file to be written.
        self._esc.in_background(self._document())
        return self._record.view()

    @acknowledge.validator
    def _validate_acknowledge(self, action: ResponderAction) -> None:
        check(self._record.check_acknowledge)

    @workflow.update(name=Action.RESOLVE.value)
    async def resolve(self, action: ResponderAction) -> IncidentView:
        self._named(action)
        self._record.resolve(action.responder, workflow.now(), action.note)
        self._publish()
        return self._record.view()

    @resolve.validator
    def _validate_resolve(self, action: ResponderAction) -> None:
        check(self._record.check_open)

    @workflow.update(name=Action.ESCALATE.value)
    async def escalate(self, action: ResponderAction) -> IncidentView:
        self._named(action)
        self._record.add(workflow.now(), EventKind.ESCALATION_REQUESTED, action.responder, action.note or "")
        self._record.reopen_for_escalation()
        if self._finished():
            # The scenario has finished (say, it returned after an acknowledgement):
            # the plan's next tier is paged plainly, whatever runbook this is.
            before = self._record.tier
            self._scenario = self._esc.continue_plan(skip_current=True)
            acted = lambda: self._record.tier != before  # noqa: E731
        else:
            self._esc.escalate_requested = True
            acted = lambda: not self._esc.escalate_requested  # noqa: E731
        # Return once it has been acted on, so the answer shows who is paged now.
        # If the scenario is busy the request stands and is acted on shortly.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(acted, timeout=timedelta(seconds=30))
        return self._record.view()

    @escalate.validator
    def _validate_escalate(self, action: ResponderAction) -> None:
        check(self._record.check_open)
        finished = self._finished()
        if self._esc.escalate_requested or (finished and not self._esc.tiers_after_current()):
            rejected(NothingToEscalate("nothing to escalate to: every tier has been paged"))

    @workflow.update(name=contract.TRIGGER)
    def trigger(self, trigger: Trigger) -> IncidentView:
        """Sent with the start (update-with-start) and with every repeat of the dedup key."""
        self._record.trigger(trigger, workflow.now())
        return self._record.view()

    @trigger.validator
    def _validate_trigger(self, trigger: Trigger) -> None:
        if self._esc.resolved:
            # The caller retries: this run is closing and the next alert opens a new one.
            rejected(AlreadyResolved("incident already resolved"))

    @workflow.update(name=contract.SET_SEVERITY)
    def set_severity(self, change: SeverityChange) -> IncidentView:
        """Raise or lower the severity: targets are recomputed from the original start."""
        self._named(change)
        before = self._record.incident.severity
        self._record.change_severity(change.severity, change.responder, workflow.now(), change.note)
        workflow.upsert_search_attributes([contract.SEVERITY.value_set(change.severity.value)])
        if self._sla is not None:
            self._sla.severity_changed(change.severity)
        if self._runbook is not None and before != change.severity:  # the runbook may react
            error = self._runbook.severity_changed(self._esc, before, change.severity)
            if error is not None:
                self._note_failure(error)  # noted; the paging goes on as it was
        self._publish()
        return self._record.view()

    @set_severity.validator
    def _validate_severity(self, change: SeverityChange) -> None:
        check(lambda: self._record.check_severity(change.severity))

    @workflow.update(name=contract.SNOOZE)
    def snooze(self, request: Snooze) -> IncidentView:
        """No page until ``until``; then the acknowledger is paged again (resolving ends it)."""
        self._named(request)
        self._record.snooze(request.until, request.responder, workflow.now(), request.note)
        self._publish()
        return self._record.view()

    @snooze.validator
    def _validate_snooze(self, request: Snooze) -> None:
        check(lambda: self._record.check_snooze(request.until, workflow.now()))

    @workflow.update(name=contract.PAUSE_CLOCKS)
    def pause_clocks(self, request: ClockPause) -> IncidentView:
        """Pause the SLA clocks (waiting on a vendor, say), or run them again (``resume``)."""
        self._named(request)
        self._esc.pausing.wait(request)
        return self._record.view()

    @pause_clocks.validator
    def _validate_pause(self, request: ClockPause) -> None:
        check(lambda: self._esc.pausing.check_wait(request))

    @workflow.signal(name=contract.MAINTENANCE)
    def maintenance(self, notice: MaintenanceNotice) -> None:
        self._esc.pausing.notice(notice)

    @workflow.signal(name=contract.ADD_NOTE)
    def add_note(self, note: Note) -> None:
        self._record.add(workflow.now(), EventKind.NOTE, note.author, note.text)

    @workflow.query(name=contract.GET_INCIDENT)
    def incident(self) -> IncidentView:
        return self._record.view()

    # -- documentation and operator visibility -------------------------------

    async def _document(
        self, final: bool = False, archive: list[TimelineEntry] | None = None, archive_start: int = 0
    ) -> None:
        await document(self._record, final, archive, archive_start)

    def _publish(self) -> None:
        publish(self._record, self._shown)
