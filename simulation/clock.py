"""The simulation's clock: a discrete-event clock under the real workflow code.

A time-skipping test server runs timers in no time, but it still moves its clock in
real time while a workflow task or an activity runs: a few milliseconds a step, which
add up over a month of pages and would make two runs of the same scenario differ.
:class:`VirtualClock` wraps the worker's workflow runner and sets the time each
activation carries (what ``workflow.now()`` answers, in workflow and runbook code alike):

- the first activation of an incident is at the simulation's chosen start;
- a fired timer is at exactly the time it was started plus its duration;
- a signal or an update from the script is at the time the script gives it;
- anything else (an activity's result, a query) is at the time of the step before.

Time therefore passes only on timers and scripted actions, exactly, whatever the
machine's speed, and the same input gives the same timeline. Each activation's time is
kept under its history length, so a workflow replayed after leaving the cache sees the
same times again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import (
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)

from workflows.scenario_registry import workflow_runner

_GAP = 100_000_000  # 100 ms, in ns: between two timers on the server's clock
_EXTERNAL = ("signal_workflow", "do_update")
_FINAL = (
    "complete_workflow_execution",
    "fail_workflow_execution",
    "cancel_workflow_execution",
)


def _ns(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC) + timedelta(
        microseconds=ns % 1_000_000_000 // 1000
    )


@dataclass
class _Flow:
    """Whether one workflow (all its runs) has work in flight."""

    expecting: bool = True  # an activation is on its way (a start, a scripted action, a new run)
    active: int = 0  # activations being handled now
    activities: set[tuple[str, int]] = field(default_factory=set)  # (run id, seq) not resolved yet
    finished: bool = False


@dataclass
class _Run:
    """The clock of one workflow run."""

    workflow_id: str
    now: int
    times: dict[int, int] = field(default_factory=dict)  # history length -> time
    real: int = 0  # the server's time at the latest activation
    timers: dict[int, tuple[int, int]] = field(default_factory=dict)  # seq -> (when, server's when)


class VirtualClock(WorkflowRunner):
    """A workflow runner that gives every workflow the simulation's time (see the module)."""

    def __init__(self, inner: WorkflowRunner | None = None) -> None:
        self._inner = inner or workflow_runner()
        self._lock = threading.Lock()
        self._starts: dict[str, int] = {}  # workflow id -> its first activation's time
        self._latest: dict[str, int] = {}  # workflow id -> the latest time any run of it saw
        self._runs: dict[str, _Run] = {}  # run id -> its clock
        self._external: dict[str, int] = {}  # workflow id -> the time of the next scripted action
        self._flows: dict[str, _Flow] = {}
        self._lags: dict[str, int] = {}  # workflow id -> the server's time less the simulation's
        self.now = 0  # the latest time of any workflow (where one it was not told of starts)

    def start(self, workflow_id: str, at: datetime) -> None:
        """``workflow_id`` is opened at ``at``."""
        with self._lock:
            self._starts[workflow_id] = _ns(at)
            self._flows[workflow_id] = _Flow()

    def act_at(self, workflow_id: str, at: datetime) -> None:
        """The next signal or update sent to ``workflow_id`` happens at ``at``."""
        with self._lock:
            self._external[workflow_id] = _ns(at)
            self._flows.setdefault(workflow_id, _Flow()).expecting = True

    def idle(self, workflow_id: str) -> bool:
        """Nothing in flight for ``workflow_id``: it waits on its timers, or has finished."""
        with self._lock:
            flow = self._flows.get(workflow_id)
            return flow is None or flow.finished or not (flow.expecting or flow.active or flow.activities)

    def finished(self, workflow_id: str) -> bool:
        """``workflow_id`` has completed (or failed): no run of it is left."""
        with self._lock:
            flow = self._flows.get(workflow_id)
            return flow is not None and flow.finished

    def forget(self, workflow_id: str) -> None:
        """``workflow_id`` is over (finished or stopped): its timers no longer count."""
        with self._lock:
            for run_id in [r for r, run in self._runs.items() if run.workflow_id == workflow_id]:
                del self._runs[run_id]
            self._flows.pop(workflow_id, None)
            self._lags.pop(workflow_id, None)

    def server_time(self, workflow_id: str, at: datetime) -> datetime:
        """When the server's clock, running ahead by what the workflow's last step took,
        reaches the simulation's ``at`` at the earliest."""
        with self._lock:
            return _at(_ns(at) + self._lags.get(workflow_id, 0))

    def next_timer(self, workflow_id: str) -> tuple[datetime, datetime] | None:
        """The earliest timer of ``workflow_id`` still running, if any: when it fires in the
        simulation, and the earliest the server's own clock can fire it."""
        with self._lock:
            due = [
                w
                for run in self._runs.values()
                if run.workflow_id == workflow_id
                for w in run.timers.values()
            ]
        return (_at(min(due)[0]), _at(min(due)[1])) if due else None

    def prepare_workflow(self, defn) -> None:  # noqa: ANN001 (the SDK's private type)
        self._inner.prepare_workflow(defn)

    def set_worker_level_failure_exception_types(self, types) -> None:  # noqa: ANN001
        self._inner.set_worker_level_failure_exception_types(types)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Instance(self, det.info.workflow_id, self._inner.create_instance(det))

    def _begin(self, workflow_id: str, act: WorkflowActivation) -> int:
        """An activation starts: its time (the rules in the module's docstring)."""
        with self._lock:
            self._flows.setdefault(workflow_id, _Flow()).active += 1
            run = self._runs.get(act.run_id)
            if run is None:
                first = self._latest.get(workflow_id, self._starts.get(workflow_id, self.now))
                run = self._runs[act.run_id] = _Run(workflow_id, now=first)
            run.real = act.timestamp.ToNanoseconds()
            if (known := run.times.get(act.history_length)) is not None:
                return known
            now = run.now
            for job in act.jobs:
                variant = job.WhichOneof("variant")
                if variant == "fire_timer":
                    now = max(now, run.timers.pop(job.fire_timer.seq, (now, 0))[0])
                elif variant in _EXTERNAL and workflow_id in self._external:
                    now = max(now, self._external[workflow_id])
                elif variant == "remove_from_cache":
                    return now
            run.now = run.times[act.history_length] = now
            self._lags[workflow_id] = run.real - now
            self._latest[workflow_id] = max(self._latest.get(workflow_id, now), now)
            self.now = max(self.now, now)
            return now

    def _end(
        self, workflow_id: str, act: WorkflowActivation, completion: WorkflowActivationCompletion
    ) -> None:
        """An activation is handled: note the timers and activities it started and ended."""
        with self._lock:
            flow = self._flows.setdefault(workflow_id, _Flow())
            flow.active -= 1
            for job in act.jobs:
                variant = job.WhichOneof("variant")
                if variant in ("initialize_workflow", *_EXTERNAL):
                    flow.expecting = False
                elif variant == "resolve_activity":
                    flow.activities.discard((act.run_id, job.resolve_activity.seq))
            run = self._runs.get(act.run_id)
            if run is None or act.is_replaying or not completion.HasField("successful"):
                return
            for command in completion.successful.commands:
                done = command.WhichOneof("variant")
                if done == "schedule_activity":
                    flow.activities.add((act.run_id, command.schedule_activity.seq))
                elif done == "request_cancel_activity":  # resolved by the SDK at once
                    flow.activities.discard((act.run_id, command.request_cancel_activity.seq))
                elif done == "start_timer":
                    self._space(run, command.start_timer)
                elif done == "cancel_timer":
                    run.timers.pop(command.cancel_timer.seq, None)
                elif done == "continue_as_new_workflow_execution":
                    flow.expecting = True
                    run.timers.clear()
                elif done in _FINAL:
                    flow.finished = True
                    run.timers.clear()

    @staticmethod
    def _space(run: _Run, timer) -> None:  # noqa: ANN001 (a StartTimer command)
        """Note a timer, and have the server fire it at least :data:`_GAP` after every timer
        of this run due no later: two timers due at one instant would otherwise fire a few
        milliseconds apart on the server's clock, and the workflow, woken by the first,
        could cancel the second after the server had fired it (which the test server
        cannot take). Only the server's clock is moved: the simulated time stays exact."""
        duration = timer.start_to_fire_timeout.ToNanoseconds()
        due = run.now + duration
        fires = max([run.real + duration, *(f + _GAP for d, f in run.timers.values() if d <= due)])
        timer.start_to_fire_timeout.FromNanoseconds(fires - run.real)
        run.timers[timer.seq] = (due, fires)


class _Instance(WorkflowInstance):
    """One workflow instance, its activations re-timed by the clock."""

    def __init__(self, clock: VirtualClock, workflow_id: str, inner: WorkflowInstance) -> None:
        self._clock = clock
        self._workflow_id = workflow_id
        self._inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        act.timestamp.FromNanoseconds(self._clock._begin(self._workflow_id, act))
        try:
            completion = self._inner.activate(act)
        except BaseException:
            self._clock._end(self._workflow_id, act, WorkflowActivationCompletion())
            raise
        self._clock._end(self._workflow_id, act, completion)
        return completion

    def get_serialization_context(self, command_info):  # noqa: ANN001, ANN201
        return self._inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info):  # noqa: ANN001, ANN201
        return self._inner.get_external_store_context(command_info)

    def get_info(self):  # noqa: ANN201
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()
