"""Alembic environment: runs on the connection :func:`store.db.migrate` passes in.

Without one (the ``alembic`` command line), it connects to ``DATABASE_URL`` or the default
SQLite file under ``DATA_DIR`` (``.data``).
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context
from sqlalchemy.engine import Connection

from store.db import engine_for
from store.tables import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("the store's migrations run online only: use store.db.migrate")

given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = engine_for(os.environ.get("DATABASE_URL"), Path(os.environ.get("DATA_DIR", ".data")))
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
