"""What keeps an incident going beside its scenario: the scenario's journal,
background loops, the hand-over to a new run when the history grows long
(continue-as-new), and the close.

:class:`Continuity` is the base of :class:`workflows.escalation.Escalation`;
runbook authors use ``every``, ``sleep`` and ``wait_resolved`` from it through ``esc``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

from workflows import journal, patches
from workflows.delivery import Mailer
from workflows.journal import Journal, Step
from workflows.models import NotificationKind, State
from workflows.record import IncidentRecord
from workflows.run_state import Carried, JournalState, LadderPosition, Periodic

ZERO = timedelta(0)
# A resumed wait whose time ran out during the hand-over still takes one timer tick.
DUE = timedelta(milliseconds=1)


class Continuity:
    """State and behaviour shared by every scenario's handle; see ``Escalation``."""

    def __init__(self, record: IncidentRecord, on_change: Callable[[], None]) -> None:
        self._record = record
        self._on_change = on_change
        self.mail = Mailer(record, on_change)
        self._background: list[asyncio.Future[None]] = []
        self._periodic: list[tuple[Periodic, asyncio.Future[None]]] = []
        self._loops: dict[str, Periodic] = {}  # journaled every() loops by step key
        self._ladder: LadderPosition | None = None
        self._journal: Journal | None = None
        self._scenario: asyncio.Future[None] | None = None
        self.escalate_requested = False
        self.waiting = 0
        self._waits: dict[asyncio.Task[Any] | None, Step] = {}  # each task's journaled wait

    @property
    def resolved(self) -> bool:
        """Whether the incident has been resolved."""
        return self._record.state is State.RESOLVED

    # -- the scenario and its journal --------------------------------------------

    def start(
        self, run: Callable[[Any], Coroutine[Any, Any, None]], state: JournalState | None = None
    ) -> asyncio.Future[None]:
        """Run the runbook's scenario, journaled so that it can continue as new anywhere."""
        self._journal = Journal(state) if patches.patched(patches.JOURNAL) else None

        async def scenario() -> None:
            if self._journal is not None:
                self._journal.enter()
            await run(self)

        self._scenario = asyncio.ensure_future(scenario())
        return self._scenario

    def _step(self) -> Step | None:
        return self._journal.step() if self._journal is not None else None

    def _instant(self) -> bool:
        """Journal a step that takes no time; True when an earlier run did it (skip it now)."""
        step = self._step()
        if step is None:
            return False
        if step.replayed is not None:
            return True
        self._journal.record(step, ".")  # type: ignore[union-attr]
        return False

    async def _timed(
        self, wait: Callable[[timedelta | None], Awaitable[str]], timeout: timedelta | None
    ) -> str:
        """Journal a wait: its recorded outcome, the rest of an interrupted one, or a new one."""
        step = self._step()
        if step is None:
            return await wait(timeout)
        if step.replayed is not None:
            return step.replayed
        if step.resumed:
            timeout = None if step.deadline is None else max(step.deadline - workflow.now(), DUE)
        assert self._journal is not None
        self._journal.block(step, None if timeout is None else workflow.now() + timeout)
        task = asyncio.current_task()
        self._waits[task] = step
        try:
            outcome = await wait(timeout)
        finally:
            self._journal.unblock(step)
            self._waits.pop(task, None)
        self._journal.record(step, outcome)
        return outcome

    def _rearm(self, deadline: datetime) -> None:
        """The journaled wait of this task now ends at ``deadline`` (a fresh timer)."""
        step = self._waits.get(asyncio.current_task())
        if step is not None and self._journal is not None:
            self._journal.block(step, deadline)

    async def wait_resolved(self, timeout: timedelta | None = None, summary: str = "resolution") -> bool:
        """Wait until the incident is resolved (True) or ``timeout`` passes (False)."""

        async def wait(limit: timedelta | None) -> str:
            try:
                await workflow.wait_condition(lambda: self.resolved, timeout=limit, timeout_summary=summary)
            except TimeoutError:
                return "0"
            return "1"

        return await self._timed(wait, timeout) == "1"

    async def sleep(self, duration: timedelta, summary: str = "pause") -> None:
        """Wait ``duration`` (a durable timer), whatever happens to the incident meanwhile."""

        async def wait(limit: timedelta | None) -> str:
            await workflow.sleep(limit or DUE, summary=summary)
            return "."

        await self._timed(wait, duration)

    # -- background loops ---------------------------------------------------------

    def every(self, interval: timedelta, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` every ``interval`` until the incident is resolved, in the background.

        The loop survives continue-as-new, so it may run for months.
        """
        step = self._step()
        if step is None:  # outside a journaled scenario: only a method of this object survives
            self._start_periodic(_method_name(self, action), interval, workflow.now() + interval, action)
            return
        assert self._journal is not None
        if step.replayed is None:
            self._journal.record(step, ".")
        next_at = self._journal.loops.get(step.key, workflow.now() + interval)
        self._loops[step.key] = self._start_periodic(_method_name(self, action), interval, next_at, action)

    def _start_periodic(
        self, name: str, interval: timedelta, next_at: datetime, action: Callable[[], Awaitable[None]]
    ) -> Periodic:
        periodic = Periodic(action=name, interval=interval, next_at=next_at)

        async def loop() -> None:
            journal.leave()  # what the loop does is not a step of the scenario
            while True:
                remaining = periodic.next_at - workflow.now()
                if remaining > ZERO and await self.wait_resolved(remaining, f"next {name or 'update'}"):
                    return
                if self.resolved:
                    return
                # Keep the cadence (no drift), but never fire a burst after an outage.
                periodic.next_at = max(periodic.next_at + interval, workflow.now() + interval / 2)
                await action()

        self._periodic.append((periodic, asyncio.ensure_future(loop())))
        return periodic

    def in_background(self, work: Awaitable[None]) -> None:
        """Run ``work`` alongside the scenario; the incident ends only after it finishes."""
        self._background = [t for t in self._background if not t.done()]
        self._background.append(asyncio.ensure_future(work))

    # -- continue-as-new ----------------------------------------------------------

    def _journaled(self) -> bool:
        """The scenario is running under its journal (not finished, not failed)."""
        return self._journal is not None and self._scenario is not None and not self._scenario.done()

    def in_journal(self) -> bool:
        """The current task is a step-taking part of a journaled scenario."""
        return self._journal is not None and journal.inside()

    def _replayable(self) -> bool:
        """The scenario can be run again from its journal: running, or finished without error."""
        scenario = self._scenario
        if self._journal is None or scenario is None:
            return False
        return not scenario.done() or scenario.cancelled() or scenario.exception() is None

    def parked(self, scenario_done: bool) -> bool:
        """Whether the incident could continue as new now without losing its place."""
        loops_carried = all(p.action or p in self._loops.values() for p, _ in self._periodic)
        if self._journaled():
            return self._journal.parked() and loops_carried  # type: ignore[union-attr]
        resumable_scenario = scenario_done or self._ladder is not None
        return resumable_scenario and loops_carried

    async def quiesce(self) -> Carried:
        """Stop background loops, let in-flight emails finish, and say where we stand."""
        for _, task in self._periodic:
            task.cancel()
        await asyncio.gather(*(t for _, t in self._periodic), return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.mail.settle()
        state = None
        if self._replayable():  # the replayed scenario restarts its own loops
            assert self._journal is not None
            self._journal.loops = {key: p.next_at for key, p in self._loops.items()}
            state = self._journal.state()
        named = [p for p, _ in self._periodic if p.action]
        return Carried(
            view=self._record.view(),
            triggers=self._record.triggers,
            trigger_keys=self._record.trigger_keys,
            sent=self.mail.sent,
            ladder=self._ladder,  # a plain ladder outside the scenario (after it ended or failed)
            periodic=[] if state else named,
            journal=state,
            oncall=list(self._record.oncall.values()),
        )

    def resume(
        self, carried: Carried, run: Callable[[Any], Coroutine[Any, Any, None]] | None
    ) -> asyncio.Future[Any] | None:
        """Take over the record and loops a previous run carried; replay the scenario from
        its journal when it had one. (``Escalation.resume`` also resumes a plain ladder.)"""
        self._record.restore(carried.view, carried.triggers, carried.oncall)
        self._record.trigger_keys = list(carried.trigger_keys)
        self.mail.sent = carried.sent
        for periodic in carried.periodic:
            self._start_periodic(
                periodic.action, periodic.interval, periodic.next_at, getattr(self, periodic.action)
            )
        return self.start(run, carried.journal) if carried.journal is not None and run else None

    # -- used by the workflow when the incident closes ---------------------------

    async def wind_down(self) -> None:
        """Let background loops see the resolution, and drop pages nobody needs any more."""
        await asyncio.gather(*self._background, *(t for _, t in self._periodic))
        self.mail.stand_down(
            NotificationKind.RESOLVED,
            [p for p in self._record.people_told() if p.id != self._record.resolved_by],
            f"Resolved by {self._record.name(self._record.resolved_by)}: you can stand down.",
        )
        await self.mail.close()

    def acknowledged(self) -> None:
        """Tell the others who were paged that someone has it."""
        who = self._record.acknowledged_by
        self.mail.stand_down(
            NotificationKind.ACKNOWLEDGED,
            [p for p in self._record.people_paged() if p.id != who],
            f"Acknowledged by {self._record.name(who)}: you can stand down.",
        )


def _method_name(handle: object, action: Callable[..., object]) -> str:
    """A loop over a method of the handle (``esc.notify_stakeholders``) can be carried by name."""
    return getattr(action, "__name__", "") if getattr(action, "__self__", None) is handle else ""
