"""The fast path of an alert storm: repeats of an open incident, logged, then counted in batches.

The first alert of a dedup key goes to Temporal at once (update-with-start: the incident
opens, or the open one counts it) and its answer tells this process that the key's
incident is open. For a while after (``KNOWN_FOR``), each repeat of that key is appended to
the database's intake log (``store/intake.py``) and answered as soon as the row is
committed: durable, as Alertmanager's retry logic expects of a 2xx, without a round trip
through the workflow. Repeats that arrive together share one commit.

A forwarder in the same process claims the logged rows into one batch per incident and
counts each batch on its incident with one update (its id the batch's: a batch sent again
is counted once), then deletes it. A batch whose incident was resolved meanwhile opens a
new incident, as any alert would. Rows a dead process left are adopted after ``ADOPT_AFTER``.
If the log cannot be written, the repeat takes the direct path instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.database import Database
from store import intake as store
from store.db import utcnow
from workflows.models import IncidentView, State
from workflows.run_state import IncidentInput

log = logging.getLogger("escalate.intake")

KNOWN_FOR = 10.0  # seconds a key's incident counts as open after Temporal last said so
ADOPT_AFTER = timedelta(seconds=60)  # a row older than this is taken over from its owner
ADOPT_EVERY = 15.0  # seconds between two looks for rows left behind
IDLE = 1.0  # seconds the forwarder waits after a failure (and at least when the log is empty)
SENDERS = 32  # batches in flight at once
KNOWN_KEPT = 10_000  # open incidents known at once before the expired ones are dropped
FORGOTTEN_KEPT = 10_000  # recent resolutions remembered against answers still in flight

# Counts ``count`` repeats of the incident in one update with id ``batch``; its view.
Forward = Callable[[IncidentInput, int, str], Awaitable[IncidentView]]


@dataclass(frozen=True)
class Known:
    """The open incident of a dedup key, as Temporal last answered."""

    id: str
    state: State
    runbook: str
    until: float  # time.monotonic() after which it is asked again


class RepeatLog:
    """The intake log of one API process: its known open incidents, its writer, its forwarder."""

    def __init__(self, database: Database, owner: str | None = None, known_for: float = KNOWN_FOR) -> None:
        self.database = database
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._known_for = known_for
        self._known: dict[str, Known] = {}
        self._forgets = 0  # resolutions seen, as marks for answers in flight
        self._forgotten: dict[str, int] = {}  # dedup id -> the mark of its last resolution
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._forwarder: asyncio.Task[None] | None = None

    # -- the request's side ---------------------------------------------------------

    def known(self, incident_id: str) -> Known | None:
        """The open incident of this dedup id, if Temporal said so recently."""
        found = self._known.get(incident_id)
        if found is not None and found.until < time.monotonic():
            del self._known[incident_id]
            return None
        return found

    def asked(self) -> int:
        """A mark to pass to ``remember`` with the answer Temporal gives after now."""
        return self._forgets

    def remember(self, incident_id: str, view: IncidentView, asked: int) -> None:
        """Temporal's answer for this dedup id, to a question put at ``asked`` (an answer
        older than a resolution made through this process since is not kept)."""
        if view.state is State.RESOLVED or self._forgotten.get(incident_id, -1) >= asked:
            self._known.pop(incident_id, None)
        else:
            now = time.monotonic()
            self._known[incident_id] = Known(view.id, view.state, view.runbook, now + self._known_for)
            if len(self._known) > KNOWN_KEPT:  # keys that went quiet: drop the expired
                self._known = {key: k for key, k in self._known.items() if k.until >= now}

    def forget(self, incident_id: str) -> None:
        """Someone resolved the incident of this dedup id through this process: the next
        alert of the key goes to Temporal, which opens a new incident (201)."""
        self._known.pop(incident_id, None)
        self._forgotten[incident_id] = self._forgets
        self._forgets += 1
        if len(self._forgotten) > FORGOTTEN_KEPT:  # only answers in flight can be older
            self._forgotten.pop(next(iter(self._forgotten)))

    async def record(self, data: IncidentInput) -> bool:
        """Append one repeat to the log; True once it is committed, False if the database
        cannot take it now (the caller then sends it to Temporal itself)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((data.incident.id, data.model_dump(mode="json"), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await asyncio.shield(done)

    async def _write(self) -> None:
        """Commit everything pending in one transaction, again while more arrived meanwhile."""
        while self._pending:
            batch, self._pending = self._pending, []
            rows = [(incident, payload) for incident, payload, _ in batch]
            try:
                await self.database.run(store.append, self.owner, rows)
                committed = True
            except Exception as exc:  # Unavailable, or anything the driver raised
                log.warning("intake log: %d repeats could not be recorded (%s)", len(rows), exc)
                committed = False
            for _, _, done in batch:
                if not done.done():
                    done.set_result(committed)
            if committed:
                self._wake.set()

    # -- the forwarder ---------------------------------------------------------------

    def start(self, forward: Forward) -> None:
        """Run the forwarder in the background (the API's lifespan)."""
        if self._forwarder is None:
            self._forwarder = asyncio.create_task(self._forwarding(forward))

    async def close(self) -> None:
        """Stop the forwarder; what it has not counted stays in the log for the next start."""
        if self._forwarder is not None:
            self._forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._forwarder
            self._forwarder = None

    async def _forwarding(self, forward: Forward) -> None:
        next_adoption, failing = 0.0, False  # a look for rows left behind at once, at start
        while True:
            self._wake.clear()
            batches: list[store.Batch] = []
            try:
                if self.database.present():  # nothing to read before the embedded file exists
                    if time.monotonic() >= next_adoption:
                        next_adoption = time.monotonic() + ADOPT_EVERY
                        await self.adopt()
                    batches = await self.database.run(store.claim, self.owner)
                failed = bool(batches) and await self._count(forward, batches)
            except Exception as exc:  # the database is away: try again shortly, say so once
                if not failing:
                    log.warning("intake log: cannot read the log (%s); trying again every %g s", exc, IDLE)
                failed = True
            failing = failed
            if failed:
                await asyncio.sleep(IDLE)
            elif not batches:  # nothing to count until a repeat is logged or rows are adopted
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(next_adoption - time.monotonic(), IDLE))

    async def adopt(self) -> int:
        """Take over the rows other processes left uncounted for ``ADOPT_AFTER`` (the
        forwarder does every ``ADOPT_EVERY``) and wake the forwarder; how many."""
        adopted = await self.database.run(store.adopt, self.owner, utcnow() - ADOPT_AFTER)
        if adopted:
            log.warning("intake log: took over %d repeats another process left uncounted", adopted)
            self._wake.set()
        return adopted

    async def _count(self, forward: Forward, batches: list[store.Batch]) -> bool:
        """Count each batch on its incident (one incident's batches in order); True if any
        failed (it stays in the log and is sent again, with the same id)."""
        by_incident: dict[str, list[store.Batch]] = {}
        for batch in batches:
            by_incident.setdefault(batch.incident_id, []).append(batch)
        gate = asyncio.Semaphore(SENDERS)
        failures = 0

        async def send(found: list[store.Batch]) -> None:
            nonlocal failures
            async with gate:
                for batch in found:
                    asked = self.asked()
                    try:  # a payload that no longer reads (say, after an upgrade) stays, said each time
                        data = IncidentInput.model_validate(batch.payload)
                        view = await forward(data, len(batch.ids), batch.id)
                        await self.database.run(store.delivered, batch.id)
                    except Exception as exc:
                        log.warning("intake log: batch %s not counted yet (%s)", batch.id, exc)
                        failures += 1
                        return
                    self.remember(batch.incident_id, view, asked)

        await asyncio.gather(*(send(found) for found in by_incident.values()))
        return failures > 0
