"""Coalescing an alert storm: repeats of one dedup key ride together in one update."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from workflows.models import IncidentView
from workflows.run_state import IncidentInput

# Opens the incident or counts ``count`` repeats on it; True when this call opened it.
Send = Callable[[IncidentInput, int], Awaitable[tuple[IncidentView, bool]]]


@dataclass
class _Batch:
    data: IncidentInput
    count: int = 0
    created: bool = False
    result: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RepeatCoalescer:
    """Coalesces repeats of one dedup key during an alert storm.

    One update per dedup key is in flight at a time; alerts that arrive while it
    is in flight ride together in the next one, which counts them all. Each
    caller is answered once the update that carries its alert has been durably
    accepted by the workflow, so nothing is acknowledged early and nothing is lost.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, _Batch] = {}

    async def submit(self, send: Send, data: IncidentInput) -> tuple[IncidentView, bool]:
        """Open the incident or count a repeat; True when this very alert opened it."""
        key = data.incident.id
        batch = self._waiting.get(key)
        if batch is None:
            batch = self._waiting[key] = _Batch(data=data)
            asyncio.ensure_future(self._flush(send, key, batch))
        batch.data = data  # the latest details win
        batch.count += 1
        position = batch.count
        view = await asyncio.shield(batch.result)
        return view, batch.created and position == 1

    async def _flush(self, send: Send, key: str, batch: _Batch) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            self._waiting.pop(key, None)  # alerts from now on form the next batch
            try:
                view, batch.created = await send(batch.data, batch.count)
                batch.result.set_result(view)
            except Exception as exc:  # every caller of the batch gets the failure
                batch.result.set_exception(exc)
        if key not in self._waiting:
            self._locks.pop(key, None)
