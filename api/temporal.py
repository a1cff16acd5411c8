"""The API's Temporal client, connected lazily so the API starts (and answers 503)
while Temporal is still down, and reconnects by itself once it is back."""

from __future__ import annotations

import asyncio
import logging

from fastapi import HTTPException, status
from temporalio.client import Client

from services.settings import Settings
from services.temporal import connect

log = logging.getLogger("escalate.api")


class TemporalConnection:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client.

        Raises:
            HTTPException: 503 when Temporal cannot be reached.
        """
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await asyncio.wait_for(connect(self._settings), 5)
                    except (OSError, RuntimeError, TimeoutError) as exc:
                        log.warning("cannot reach Temporal at %s: %s", self._settings.temporal_address, exc)
                        raise HTTPException(
                            status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Temporal cannot be reached; try again shortly",
                            headers={"Retry-After": "5"},
                        ) from None
        return self._client
