"""Runbook scenarios run under the workflow sandbox's restrictions.

Runbook modules are imported inside the sandbox for every incident, not passed
through, so a scenario that reads the clock, draws random numbers or reads a
file is refused, and the incident's timeline tells its author what to use
instead and where. The runbooks are in a test-only registry
(``tests/scenario_runbooks.py``), never the shipped one.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import timedelta

import pytest

import scenario_runbooks
from services.opening import prepare, start
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, TimelineEntry
from workflows.scenario_registry import registry_on


def line_of(runbook: type, text: str) -> int:
    """The line of ``runbook.run`` that contains ``text``."""
    lines, first = inspect.getsourcelines(runbook.run)
    return first + next(i for i, line in enumerate(lines) if text in line)


@pytest.fixture
async def failure_of(env, settings, directory):
    """Open an incident with a test runbook; the ``runbook_failed`` entry it leaves."""
    opened = []

    async def open_incident(runbook: str) -> TimelineEntry:
        request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook=runbook)
        handle = await start(
            env.client, prepare(request, scenario_runbooks.REGISTRY, directory), settings.task_queue
        )
        opened.append(handle)
        await env.sleep(timedelta(seconds=1))
        view = await handle.query(IncidentWorkflow.incident)
        [failure] = [e for e in view.timeline if e.kind == "runbook_failed"]
        return failure

    with registry_on(settings.task_queue, scenario_runbooks.MODULE):
        async with build_worker(env.client, settings):
            yield open_incident
            for handle in opened:
                await env.client.get_workflow_handle(handle.id).terminate("test finished")


async def test_the_clock_in_a_scenario_is_refused_with_what_to_use_instead(failure_of):
    failure = await failure_of("clock")

    assert failure.detail.startswith("RestrictedWorkflowAccessError: datetime.datetime.now is not allowed")
    assert "must be deterministic" in failure.detail and "workflow.now()" in failure.detail
    assert "mark the import as pass through" not in failure.detail  # the SDK's advice, wrong here
    line = line_of(scenario_runbooks.ClockRunbook, "datetime.now()")
    assert failure.detail.endswith(f"(at scenario_runbooks.py:{line})")


async def test_randomness_in_a_scenario_is_refused(failure_of):
    failure = await failure_of("dice")

    assert failure.detail.startswith("RestrictedWorkflowAccessError: random.random is not allowed")
    assert "workflow.random()" in failure.detail
    line = line_of(scenario_runbooks.DiceRunbook, "random.random()")
    assert failure.detail.endswith(f"(at scenario_runbooks.py:{line})")


async def test_file_access_in_a_scenario_is_refused(failure_of):
    failure = await failure_of("reader")

    assert failure.detail.startswith("RestrictedWorkflowAccessError: pathlib.Path.read_text is not allowed")
    assert "No I/O in run()" in failure.detail


async def test_a_deterministic_scenario_in_the_same_registry_runs(env, settings, directory):
    request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook="steady")
    with registry_on(settings.task_queue, scenario_runbooks.MODULE):
        async with build_worker(env.client, settings):
            data = prepare(request, scenario_runbooks.REGISTRY, directory)
            handle = await start(env.client, data, settings.task_queue)
            await env.sleep(timedelta(minutes=1, seconds=5))
            view = await handle.query(IncidentWorkflow.incident)
            await handle.terminate("test finished")
    assert [e.kind for e in view.timeline if e.kind == "runbook_failed"] == []
    assert [p.person for p in view.paged][-1] == "ciso"


def test_the_sandbox_imports_no_file_reading_module_with_the_runbooks():
    """The sandbox imports the ``runbooks`` package for every incident: it must not pull in
    the directory loader (file I/O, YAML), which only the API and validate use."""
    code = (
        "import sys, runbooks; print(sorted(m for m in sys.modules if m in ('runbooks.directory', 'yaml')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


async def test_the_shipped_runbooks_load_in_the_sandbox_under_pytest(incidents):
    """A runbook author's tests run under pytest, whose assertion rewriting reads cached
    bytecode with open() while it imports: the runbooks still load in each incident's
    sandbox, and their own scenarios run rather than the plain ladder."""
    opened = [
        await incidents.open(runbook, service=service)
        for runbook, service in [("demo", "checkout"), ("default", "checkout"), (None, "security")] * 2
    ]
    await incidents.env.sleep(timedelta(seconds=1))
    views = [await handle.query(IncidentWorkflow.incident) for handle in opened]
    assert {view.runbook for view in views} == {"demo", "default", "security-breach"}
    assert [e.detail for view in views for e in view.timeline if e.kind == "runbook_failed"] == []
