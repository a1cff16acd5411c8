"""Connecting to Temporal the same way everywhere: the pydantic data converter, always."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from services.settings import Settings
from workflows.errors import DomainError, Refused, Unavailable, UnknownIncident, decode

log = logging.getLogger("escalate.temporal")
_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


async def connect(settings: Settings) -> Client:
    """A client for ``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE``."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


class ClientSource(Protocol):
    async def client(self) -> Client: ...


class ConnectedClient:
    """A client that is already connected (tests, the CLI)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def client(self) -> Client:
        return self._client


class TemporalConnection:
    """Connects lazily, so that a process starts (and answers 503) while Temporal is
    still down, and connects by itself once it is back."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client.

        Raises:
            Unavailable: Temporal cannot be reached.
        """
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await asyncio.wait_for(connect(self._settings), 5)
                    except (OSError, RuntimeError, TimeoutError) as exc:
                        log.warning("cannot reach Temporal at %s: %s", self._settings.temporal_address, exc)
                        raise Unavailable("Temporal cannot be reached; try again shortly") from None
        return self._client


@contextmanager
def temporal_calls() -> Iterator[None]:
    """Turn Temporal's failures inside the block into domain errors."""
    try:
        yield
    except DomainError:
        raise
    except WorkflowUpdateFailedError as err:
        raise decode(err.cause) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise UnknownIncident("no such incident") from None
        if err.status in _UNREACHABLE:
            raise Unavailable("Temporal cannot be reached; try again shortly") from None
        log.warning("Temporal refused a call: %s %s", err.status, err.message)
        raise Refused(f"Temporal refused the call: {err.message}") from None
    except WorkflowQueryFailedError as err:
        raise Unavailable(f"the incident could not be read: {err}") from None
    except (RuntimeError, OSError) as err:  # the SDK's "Failed client connect" while it is down
        log.warning("Temporal call failed: %s", err)
        raise Unavailable("Temporal cannot be reached; try again shortly") from None
