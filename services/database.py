"""Opening the application database the same way in every process."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.settings import Settings
from store.db import current_revision, database_url, engine_for, head_revision, migrate, safe_url
from workflows.errors import Unavailable

log = logging.getLogger("escalate.database")
T = TypeVar("T")


class SchemaBehind(RuntimeError):
    """The database is not migrated to this release's schema: run ``escalate migrate``."""


def open_database(settings: Settings, migrate_now: bool | None = None) -> Engine:
    """The engine for ``DATABASE_URL`` (default: SQLite under ``DATA_DIR``).

    The embedded SQLite database migrates itself (nothing else would); a server database
    is migrated by ``escalate migrate`` (``escalate dev`` runs it), and a process refuses
    to start on one that is behind rather than fail on its first write. A server database
    that cannot be reached does not stop a worker from starting: paging needs no database,
    and recording retries until it is back.

    Raises:
        SchemaBehind: a server database below this release's schema.
    """
    engine = engine_for(settings.database, settings.data_dir)
    if migrate_now if migrate_now is not None else settings.database is None:
        migrate(engine)
        return engine
    try:
        found = current_revision(engine)
    except SQLAlchemyError as exc:
        log.warning("cannot reach the database %s now (%s): recording retries", safe_url(engine.url), exc)
        return engine
    if found != head_revision():
        raise SchemaBehind(
            f"the database {safe_url(engine.url)} is at schema {found!r}, "
            f"this release needs {head_revision()!r}: run `escalate migrate`"
        )
    return engine


class Database:
    """The process's engine, opened on first use (a process that never reads the record,
    or a test that never asks, opens nothing)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def engine(self) -> Engine:
        """The engine.

        Raises:
            Unavailable: the database cannot be reached or is behind this release's schema.
        """
        with self._lock:
            if self._engine is None:
                try:
                    self._engine = open_database(self._settings)
                except (SchemaBehind, SQLAlchemyError) as exc:
                    log.warning("the database cannot be used: %s", exc)
                    raise Unavailable("the database cannot be reached; try again shortly") from None
            return self._engine

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(engine, *args)`` in a thread (the store is blocking).

        Raises:
            Unavailable: the database cannot be reached, fails, or is behind the schema.
        """
        try:
            return await asyncio.to_thread(lambda: work(self.engine(), *args))
        except SQLAlchemyError:
            raise Unavailable("the database cannot be reached; try again shortly") from None

    def present(self) -> bool:
        """False while the embedded SQLite file has never been created (nothing to read)."""
        if self._engine is not None or self._settings.database is not None:
            return True
        return Path(str(database_url(None, self._settings.data_dir).database)).exists()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
