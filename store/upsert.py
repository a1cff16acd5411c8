"""``INSERT ... ON CONFLICT`` for the two dialects the store runs on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert(connection: Connection, table: sa.Table) -> Any:
    """The dialect's own ``insert`` (it has ``on_conflict_do_nothing`` / ``_do_update``)."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store runs on SQLite or PostgreSQL, not {name}")


def upsert(connection: Connection, table: sa.Table, row: dict[str, Any], key: list[str]) -> None:
    """Insert ``row``, or update every non-key column of the row that has the same ``key``."""
    statement = insert(connection, table).values(row)
    changes = {column: statement.excluded[column] for column in row if column not in key}
    connection.execute(statement.on_conflict_do_update(index_elements=key, set_=changes))
