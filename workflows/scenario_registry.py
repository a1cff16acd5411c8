"""The runbook registry as the incident workflow sees it: imported inside the sandbox.

Runbook modules are deliberately *not* passed through the Temporal workflow
sandbox: :meth:`ScenarioRegistry.get` imports the registry module (``runbooks``)
and every runbook module it imports afresh inside each incident's sandbox, under
its restrictions: a scenario that reads the clock, draws random numbers or does
I/O raises ``RestrictedWorkflowAccessError``, with a message for the runbook's
author, instead of silently breaking replay.

Our own workflow code is pure and replay-tested, and is passed through
(:func:`workflow_runner`): the sandbox then loads only the runbooks for a new
incident, not the incident workflow's module with its class and decorators,
which cost a fifth of the worker's time at intake (docs/performance.md). Under
the SDK's plain runner (``escalate validate``, which must catch a runbook module
that fails to load) the workflow module is loaded in the sandbox and the
runbooks with it, at once.

``escalate validate`` and the tests run other registries on task queues of
their own: :func:`registry_on` maps a task queue to a module whose ``REGISTRY``
its incidents run.

This module itself is passed through (one copy per process): it must stay
free of I/O and heavy imports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.worker.workflow_sandbox import (
    RestrictedWorkflowAccessError,
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

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
# Our own packages of pure workflow code: passed through by ``workflow_runner``.
PURE = ("workflows", "schedules")

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


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox the workers run incidents in: our pure packages passed through, the
    runbooks loaded afresh inside it for every incident (see the module)."""
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PURE))


class ScenarioRegistry:
    """``REGISTRY`` of the incident workflow: the sandbox's own copy of the runbooks."""

    def __init__(self) -> None:
        if not workflow.unsafe.in_sandbox():
            return  # passed through: each incident imports the runbooks in its sandbox (get)
        # The sandbox loads the workflow module (the SDK's plain runner): the imports
        # below happen inside it, so a runbook module that cannot load fails here.
        with workflow.unsafe.imports_passed_through():
            for module in SHARED:
                __import__(module)
        for module in sorted({SHIPPED, *_by_task_queue.values()}):
            __import__(module)

    def get(self, name: str) -> _Scenario:
        """The runbook called ``name`` from the registry of this incident's task queue."""
        module = _by_task_queue.get(workflow.info().task_queue, SHIPPED)
        # Imported here, inside this incident's sandbox (unless the sandbox loaded it with
        # the workflow module): quietly, as the first thing the incident does.
        with (
            workflow.unsafe.sandbox_import_notification_policy(
                workflow.SandboxImportNotificationPolicy.SILENT
            ),
            workflow.unsafe.sandbox_unrestricted() if _rewriting_imports() else nullcontext(),
        ):
            registry: Registry = __import__(module, fromlist=["REGISTRY"]).REGISTRY
        return _Scenario(registry.get(name))


def _rewriting_imports() -> bool:
    """Whether pytest rewrites imports in this process (a runbook author's tests, ours): its
    import hook reads cached bytecode with ``open()``, which the sandbox refuses, so there
    the runbooks' import is let read files. Their scenarios still run under every
    restriction, and a worker, with no such hook, imports them restricted too."""
    return any(type(finder).__module__.startswith("_pytest.") for finder in sys.meta_path)


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
