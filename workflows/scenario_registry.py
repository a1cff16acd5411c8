"""The runbook registry as the incident workflow sees it: imported inside the sandbox.

Runbook modules are deliberately *not* passed through the Temporal workflow
sandbox. ``workflows/incident.py`` builds its ``REGISTRY`` here while the
sandbox loads it, so the registry module (``runbooks``) and every runbook
module it imports are executed afresh for each incident, under the sandbox's
restrictions: a scenario that reads the clock, draws random numbers or does
I/O raises ``RestrictedWorkflowAccessError``, with a message for the runbook's
author, instead of silently breaking replay. The ``workflows`` modules the
runbooks build on (models, primitives) are passed through, as is pydantic, so
their classes are the same inside and outside the sandbox.

``escalate validate`` and the tests run other registries on task queues of
their own: :func:`registry_on` maps a task queue to a module whose ``REGISTRY``
its incidents run.

This module itself is passed through (one copy per process): it must stay
free of I/O and heavy imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

if TYPE_CHECKING:
    from workflows.escalation import Escalation
    from workflows.models import Severity
    from workflows.runbook import Registry, Runbook

SHIPPED = "runbooks"
# What the runbooks import from ``workflows`` and the pure calendar arithmetic of
# ``schedules`` (business hours, on-call): passed through, one class per model.
SHARED = (
    "workflows.models",
    "workflows.runbook",
    "workflows.escalation",
    "schedules.models",
    "schedules.business_hours",
    "schedules.oncall",
)
DOCS = "docs/runbooks.md, 'Determinism'"

_by_task_queue: dict[str, str] = {}


@contextmanager
def registry_on(task_queue: str, module: str) -> Iterator[None]:
    """Within the block, incidents on ``task_queue`` run ``module.REGISTRY`` (validate, tests).

    Enter it before the worker for that task queue is created. A ``Replayer`` runs
    histories on ``replay-<build_id>`` (``replay-None`` by default): map that to replay
    the history of an incident that ran another registry.
    """
    if _by_task_queue.setdefault(task_queue, module) != module:
        raise ValueError(f"task queue {task_queue!r} already runs {_by_task_queue[task_queue]}")
    try:
        yield
    finally:
        _by_task_queue.pop(task_queue, None)


class ScenarioRegistry:
    """``REGISTRY`` of the incident workflow: the sandbox's own copy of the runbooks."""

    def __init__(self) -> None:
        # This runs while the sandbox loads the workflow module, so the imports
        # below happen inside it: runbook code is loaded, and later runs, there.
        with workflow.unsafe.imports_passed_through():
            for module in SHARED:
                __import__(module)
        for module in sorted({SHIPPED, *_by_task_queue.values()}):
            __import__(module)

    def get(self, name: str) -> _Scenario:
        """The runbook called ``name`` from the registry of this incident's task queue."""
        module = _by_task_queue.get(workflow.info().task_queue, SHIPPED)
        # Already imported at load unless the mapping changed since: then quietly now.
        with workflow.unsafe.sandbox_import_notification_policy(
            workflow.SandboxImportNotificationPolicy.SILENT
        ):
            registry: Registry = __import__(module, fromlist=["REGISTRY"]).REGISTRY
        return _Scenario(registry.get(name))


class _Scenario:
    """A runbook whose ``run`` reports a mistake in terms its author can act on."""

    def __init__(self, runbook: Runbook) -> None:
        self.runbook = runbook
        self.name = runbook.name

    async def run(self, esc: Escalation) -> None:
        try:
            await self.runbook.run(esc)
        except RestrictedWorkflowAccessError as err:
            raise _refusal(err).with_traceback(self._author_frames(err.__traceback__)) from None
        except Exception as err:
            raise err.with_traceback(self._author_frames(err.__traceback__)) from err.__cause__

    def severity_changed(self, esc: Escalation, before: Severity, after: Severity) -> BaseException | None:
        """The runbook's ``on_severity_change``; the mistake it made, if any (not raised:
        the severity change stands and the paging goes on)."""
        try:
            self.runbook.on_severity_change(esc, before, after)
        except Exception as err:
            return err.with_traceback(self._author_frames(err.__traceback__))
        return None

    def _author_frames(self, tb: TracebackType | None) -> TracebackType | None:
        """The traceback down to the deepest frame in the runbook's own folder.

        The timeline entry names the deepest runbook frame; without this cut a
        runbook outside ``runbooks/`` would be blamed on the library line that raised.
        """
        code = type(self.runbook).run.__code__
        folder = os.path.dirname(code.co_filename)
        frames: list[TracebackType] = []
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        ours = [i for i, f in enumerate(frames) if os.path.dirname(f.tb_frame.f_code.co_filename) == folder]
        if not ours:
            return frames[0] if frames else None
        cut: TracebackType | None = None
        for frame in reversed(frames[: ours[-1] + 1]):
            cut = TracebackType(cut, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
        return cut


def _refusal(err: RestrictedWorkflowAccessError) -> RestrictedWorkflowAccessError:
    """The sandbox's refusal, reworded for a runbook author (its advice is for SDK users)."""
    name = err.qualified_name.removeprefix("__builtins__.").removesuffix(".__call__")
    lowered = name.lower()
    if any(word in lowered for word in ("random", "uuid", "secrets", "urandom")):
        hint = "For randomness use workflow.random() or workflow.uuid4(): they replay the same."
    elif any(word in lowered for word in ("datetime", "date.today", "time.")):
        hint = "For the time use workflow.now(); to wait, esc.wait_for_ack() or esc.wait_resolved()."
    else:
        hint = (
            "No I/O in run(): no files, network, environment or subprocesses; use esc.incident "
            "and esc.plan, and esc's primitives for anything outside the workflow."
        )
    message = (
        f"{name} is not allowed in a runbook scenario: run() is replayed from the incident's "
        f"history, so it must be deterministic. {hint} See {DOCS}."
    )
    return RestrictedWorkflowAccessError(err.qualified_name, override_message=message)
