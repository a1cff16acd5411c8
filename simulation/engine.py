"""Run a runbook's real incident workflow in simulated time and read back what it did.

:class:`Simulator` owns one time-skipping test server and one worker whose workflow
runner is the :class:`~simulation.clock.VirtualClock` and whose activities only record
(:class:`~simulation.recorder.Recorder`): the workflow and runbook code are the
production code. :meth:`Simulator.run` opens one incident at the scenario's start, lets
the timers run to each scripted step, performs it (an update, as the API would), and
stops when the incident is resolved or at the scenario's end. It returns the incident's
whole timeline (:class:`~simulation.timeline.Timeline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

from pydantic import ValidationError
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.oncall import OnCallResolver
from services.dry_run import quiet_sdk_logs, test_server
from services.opening import prepare, start
from simulation.clock import VirtualClock
from simulation.recorder import Recorder
from simulation.script import Do, Script, Step
from simulation.timeline import Timeline, build_timeline
from simulation.world import World
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import (
    IncidentPlan,
    IncidentRequest,
    IncidentView,
    Model,
    Note,
    ResponderAction,
    Severity,
    SeverityChange,
    Snooze,
    Trigger,
)
from workflows.runbook import Registry
from workflows.scenario_registry import SHIPPED, registry_on

TASK_TIMEOUT = timedelta(seconds=11)  # past a workflow task's 10 s, on the server's clock
log = logging.getLogger("escalate.simulate")
STEP_TIMEOUT = 30.0
PROGRESS_STEPS = 50  # a long run reports its progress about this many times
SERVER_MARGIN = timedelta(
    milliseconds=20
)  # past the server's time of the last timer due  # wall-clock seconds the server may take to reach one timer
MARGIN = timedelta(hours=1)  # past the whole ladder, for targets and repeats
MAX_LENGTH = timedelta(days=366)
Progress = Callable[[timedelta, timedelta], None]


class SimulationError(RuntimeError):
    """A simulation that could not run (the reason in words)."""


@dataclass(frozen=True)
class Scenario:
    """One incident to simulate: what opens, when and where, and what the people do."""

    runbook: str
    start: datetime  # aware: the incident opens then
    severity: Severity = Severity.SEV2
    service: str | None = None  # default: the runbook's first sample service
    title: str = "Simulated incident"
    zone: str = "UTC"  # the wall times shown
    script: Script = field(default_factory=Script)
    length: timedelta | None = None  # default: the whole ladder and a margin, past the script


class Simulator:
    """A test server and a recording worker, for any number of scenarios run one by one."""

    def __init__(self, world: World, module: str = SHIPPED, progress: Progress | None = None) -> None:
        self.world = world
        self._module = module
        self._progress = progress
        self._stack = contextlib.AsyncExitStack()
        self._count = 0
        self.clock = VirtualClock()

    async def __aenter__(self) -> Simulator:
        self._stack = contextlib.AsyncExitStack()
        self.clock = VirtualClock()
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        self._stack.enter_context(quiet_sdk_logs())
        self.env: WorkflowEnvironment = await self._stack.enter_async_context(test_server())
        self._queue = f"simulate-{uuid.uuid4().hex}"
        self._stack.enter_context(registry_on(self._queue, self._module))
        self.registry: Registry = importlib.import_module(self._module).REGISTRY
        self.recorder = Recorder()
        people = list(self.world.directory.people)
        resolver = OnCallResolver(None, list(self.world.schedules), lambda: people)
        worker = Worker(
            self.env.client,
            task_queue=self._queue,
            workflows=[IncidentWorkflow],
            activities=[self.recorder.send_email, self.recorder.document_incident, resolver.resolve_oncall],
            workflow_runner=self.clock,
            disable_eager_activity_execution=True,
            max_cached_workflows=100,
        )
        await self._stack.enter_async_context(worker)

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self._stack.aclose()

    async def run(self, scenario: Scenario) -> Timeline:
        """Simulate one incident; its timeline. SimulationError if it cannot be opened.

        The test server can wedge, rarely, and then skips no more time: a run that stalls
        is run once more on a fresh server (TimeoutError if that stalls too)."""
        try:
            return await self._run(scenario)
        except TimeoutError:
            log.warning("the test server stalled: simulating %s again on a fresh one", scenario.runbook)
            await self.__aexit__(None, None, None)
            await self.__aenter__()
            return await self._run(scenario)

    async def _run(self, scenario: Scenario) -> Timeline:
        self._count += 1
        try:
            request = IncidentRequest(
                title=scenario.title,
                severity=scenario.severity,
                service=scenario.service or self._service(scenario.runbook),
                runbook=scenario.runbook,
            )
            data = prepare(
                request,
                self.registry,
                self.world.directory,
                incident_id=f"sim{self._count:07d}",
                policies=self.world.policies,
            )
        except ValidationError as exc:  # a title or service the API would refuse too
            raise SimulationError(_reasons(exc)) from None
        except Exception as exc:  # an unknown runbook or person, a plan that fails
            raise SimulationError(f"{type(exc).__name__}: {exc}") from None
        start_at = scenario.start.astimezone(UTC)  # offsets count real time, across DST too
        data = data.model_copy(update={"incident": data.incident.model_copy(update={"created_at": start_at})})
        workflow_id = contract.workflow_id(data.incident.id)
        self.clock.start(workflow_id, start_at)
        handle = await start(self.env.client, data, self._queue)
        # Opened as an alert opens one: a repeat step is then counted as a repeat.
        await self._update(handle, workflow_id, start_at, contract.TRIGGER, Trigger(title=scenario.title))
        length = _length(scenario, data.plan)
        acted: list[tuple[Step, str]] = []
        running = True
        for step in scenario.script.steps:
            if step.at > length:
                acted.append((step, "skipped: after the end of the simulation"))
            elif running and not await self._advance(handle, start_at, length, start_at + step.at):
                running = False
            if step.at <= length:
                outcome = "refused: the incident had already ended"
                acted.append(
                    (
                        step,
                        await self._act(handle, workflow_id, start_at + step.at, step)
                        if running
                        else outcome,
                    )
                )
        if running:
            await self._advance(handle, start_at, length, start_at + length)
        view = await self._final_view(handle)
        self.clock.forget(workflow_id)
        archive = self.recorder.archive(view.id)
        return build_timeline(scenario, view, archive, acted, self.world.directory, length)

    def _service(self, runbook: str) -> str:
        found = self.registry.runbooks.get(runbook)
        return found.sample_services[0] if found and found.sample_services else "simulated"

    async def _advance(
        self, handle: WorkflowHandle, start: datetime, length: timedelta, target: datetime
    ) -> bool:
        """Let every timer due by ``target`` fire; False once the incident has finished."""
        while True:
            if not await self._settled(handle):
                return False
            due = self.clock.next_timer(handle.id)
            if due is None or due[0] > target:
                return True
            # One sleep of the server lets every timer due up to ``stop`` fire in turn (the
            # test server skips time only while the worker has nothing to do).
            stop = min(target, due[0] + max(length / PROGRESS_STEPS, timedelta(hours=1)))
            if self._progress is not None:
                self._progress(due[0] - start, length)
            async with asyncio.timeout(STEP_TIMEOUT):
                now = await self.env.get_current_time()
                server_stop = max(self.clock.server_time(handle.id, stop), due[1])
                await self.env.sleep(max(server_stop - now, timedelta()) + SERVER_MARGIN)

    async def _settled(self, handle: WorkflowHandle) -> bool:
        """Wait until the incident has nothing in flight; False once it has finished.

        A workflow task the test server refused stays started until it times out: after a
        second with nothing moving, the server's clock is moved past the task's timeout so
        that the task is given again (the simulation's clock does not move with it)."""
        async with asyncio.timeout(STEP_TIMEOUT):
            polls = 0
            while not self.clock.idle(handle.id):
                await asyncio.sleep(0.002)
                polls += 1
                if polls % 500 == 0:
                    await self.env.sleep(TASK_TIMEOUT)
        return not self.clock.finished(handle.id)

    async def _act(self, handle: WorkflowHandle, workflow_id: str, at: datetime, step: Step) -> str:
        """Perform one step at ``at``, as the API would; what came of it ('' when accepted)."""
        view: IncidentView = await handle.query(IncidentWorkflow.incident)
        who = _who(view, step.by)
        if who is None:
            return f"skipped: nobody{' in ' + step.by if step.by else ''} has been paged yet"
        note = f"simulated: {step}"
        if step.do is Do.NOTE:
            self.clock.act_at(workflow_id, at)
            await handle.signal(contract.ADD_NOTE, Note(author=who, text=step.text or note))
            return ""
        arguments: dict[Do, tuple[str, Model]] = {
            Do.ACKNOWLEDGE: (contract.ACKNOWLEDGE, ResponderAction(responder=who, note=note)),
            Do.RESOLVE: (contract.RESOLVE, ResponderAction(responder=who, note=note)),
            Do.ESCALATE: (contract.ESCALATE, ResponderAction(responder=who, note=note)),
            Do.SEVERITY: (
                contract.SET_SEVERITY,
                SeverityChange(responder=who, note=note, severity=step.severity or view.severity),
            ),
            Do.REPEAT: (contract.TRIGGER, Trigger(title=view.title, source="simulation")),
            Do.SNOOZE: (
                contract.SNOOZE,
                Snooze(responder=who, note=note, until=at + (step.length or timedelta())),
            ),
        }
        name, argument = arguments[step.do]
        return await self._update(handle, workflow_id, at, name, argument)

    async def _update(
        self, handle: WorkflowHandle, workflow_id: str, at: datetime, name: str, argument: Model
    ) -> str:
        """Send one update at ``at``; '' when accepted, else why it was refused."""
        self.clock.act_at(workflow_id, at)
        try:
            accepted = await handle.start_update(name, argument, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            await accepted.result()
        except WorkflowUpdateFailedError as exc:
            return f"refused: {exc.cause}"
        return ""

    async def _final_view(self, handle: WorkflowHandle) -> IncidentView:
        """The incident as it ended, or as it stands at the end (then it is stopped)."""
        view: IncidentView = await handle.query(IncidentWorkflow.incident)
        if not self.clock.finished(handle.id):
            await handle.terminate("the simulation ends")
        return view


def _reasons(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _who(view: IncidentView, by: str | None) -> str | None:
    """The person a step names: an id, ``tier N`` or ``paged`` (the last paged)."""
    if by and by != "paged" and not by.startswith("tier"):
        return by
    pages = view.paged
    if by and by.startswith("tier"):
        number = int(by.removeprefix("tier").strip() or 0)
        pages = [p for p in pages if p.tier == number]
    return pages[-1].person if pages else None


def _length(scenario: Scenario, plan: IncidentPlan) -> timedelta:
    if scenario.length is not None:
        return min(scenario.length, MAX_LENGTH)
    return min(max(plan.ladder_length + MARGIN, scenario.script.end + timedelta(minutes=1)), MAX_LENGTH)
