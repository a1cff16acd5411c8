"""Connecting to Temporal the same way everywhere: the pydantic data converter, always."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from services.settings import Settings


async def connect(settings: Settings) -> Client:
    """A client for ``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE``."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
