"""The scenario journal: how any runbook keeps its history bounded.

A Temporal history grows with every page and timer; past some thousands of
events the workflow must continue as new, and a runbook's ``run()`` cannot be
frozen mid-way and carried over. So every primitive a scenario calls is a
*step*, numbered in order within its task (the scenario's own task is scope
``r``; a task it starts, say with ``asyncio.gather``, is ``r.0``, ``r.1`` ...,
numbered in the order they first call a primitive). Each finished step leaves
a one-character outcome. When the history grows long while every scenario task
is blocked in a journaled wait, the run hands the journal on and ends; the next
run calls ``run()`` again from the top, and each step already done returns its
recorded outcome at once, without paging, timing or writing anything, until the
waits that were in progress, which go on with the time they had left.

This works for any deterministic scenario, however it loops, which is what a
workflow's code must be anyway. Pure Python, no I/O: it runs in the sandbox.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.run_state import JournalState, PendingWait


@dataclass
class _Scope:
    path: str
    task: asyncio.Task[Any] | None
    children: int = 0
    calls: int = 0


@dataclass(frozen=True)
class Step:
    """One call of a primitive: ``replayed`` is its recorded outcome when it was
    done in an earlier run; ``resumed`` marks the wait that was in progress."""

    path: str
    seq: int
    replayed: str | None = None
    resumed: bool = False
    deadline: datetime | None = None

    @property
    def key(self) -> str:
        """The step's unique name, ``<scope path>#<seq>`` (e.g. ``r.0#3``)."""
        return f"{self.path}#{self.seq}"


_SCOPE: ContextVar[_Scope | None] = ContextVar("scenario_scope", default=None)


def inside() -> bool:
    """Whether the current task belongs to a journaled scenario."""
    return _SCOPE.get() is not None


def leave() -> None:
    """Steps of the current task are not journaled (background loops, the workflow itself)."""
    _SCOPE.set(None)


class Journal:
    """The outcomes of a scenario's finished steps, by scope, and the waits in progress:
    built from the previous run's ``JournalState`` (if any), handed on by ``state()``."""

    def __init__(self, state: JournalState | None = None) -> None:
        state = state or JournalState()
        self._done: dict[str, list[str]] = {path: list(codes) for path, codes in state.entries.items()}
        self._pending = dict(state.pending)
        self.loops: dict[str, datetime] = dict(state.loops)
        self._blocked: dict[str, PendingWait] = {}
        self._scopes: dict[str, _Scope] = {}

    def enter(self) -> None:
        """Make the current task the scenario's root scope."""
        root = _Scope("r", asyncio.current_task())
        self._scopes[root.path] = root
        _SCOPE.set(root)

    def step(self) -> Step | None:
        """The next step of the current task, or None outside the scenario."""
        scope = self._scope()
        if scope is None:
            return None
        seq, scope.calls = scope.calls, scope.calls + 1
        done = self._done.setdefault(scope.path, [])
        if seq < len(done):
            return Step(scope.path, seq, replayed=done[seq])
        pending = self._pending.get(scope.path)
        if pending is not None and pending.seq == seq:
            del self._pending[scope.path]
            return Step(scope.path, seq, resumed=True, deadline=pending.deadline)
        return Step(scope.path, seq)

    def record(self, step: Step, outcome: str) -> None:
        """Write a finished step's one-character outcome; a later run replays it."""
        self._done[step.path].append(outcome)

    def block(self, step: Step, deadline: datetime | None) -> None:
        """Note that the step's task now waits, until ``deadline`` (None: no time limit)."""
        self._blocked[step.path] = PendingWait(seq=step.seq, deadline=deadline)

    def unblock(self, step: Step) -> None:
        """The step's wait is over (done or cancelled); no-op when it was not blocked."""
        self._blocked.pop(step.path, None)

    def replaying(self) -> bool:
        """The current task's next step was done in an earlier run (it will be replayed)."""
        scope = self._scope()
        return scope is not None and scope.calls < len(self._done.get(scope.path, []))

    def park(self) -> Step | None:
        """The current task waits before its next step (say, for a maintenance window to
        end): the run may continue as new meanwhile, and the next run resumes at that
        step. Returns that step, for ``unblock`` (None outside the scenario)."""
        scope = self._scope()
        if scope is None:
            return None
        step = Step(scope.path, scope.calls)
        self.block(step, None)
        return step

    def parked(self) -> bool:
        """Every live scenario task waits in a journaled step (or on its own tasks)."""
        live = [
            path for path, scope in self._scopes.items() if scope.task is not None and not scope.task.done()
        ]
        if not live:
            return False
        return all(path in self._blocked or any(p.startswith(path + ".") for p in live) for path in live)

    def state(self) -> JournalState:
        """What the next run needs: every scope's outcomes, the waits in progress with
        their deadlines and each ``every()`` loop's next time."""
        return JournalState(
            entries={path: "".join(codes) for path, codes in self._done.items()},
            pending=dict(self._blocked),
            loops=dict(self.loops),
        )

    def _scope(self) -> _Scope | None:
        current = _SCOPE.get()
        if current is None:
            return None
        task = asyncio.current_task()
        if current.task is task:
            return current
        # A task the scenario started: a child scope, numbered in order of first use.
        child = _Scope(f"{current.path}.{current.children}", task)
        current.children += 1
        self._scopes[child.path] = child
        _SCOPE.set(child)
        return child
