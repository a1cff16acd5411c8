"""Opening the application database the same way in every process."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from services.settings import Settings
from store.db import current_revision, engine_for, head_revision, migrate, safe_url

log = logging.getLogger("escalate.database")


class SchemaBehind(RuntimeError):
    """The database is not migrated to this release's schema: run ``escalate migrate``."""


def open_database(settings: Settings, migrate_now: bool | None = None) -> Engine:
    """The engine for ``DATABASE_URL`` (default: SQLite under ``DATA_DIR``).

    The embedded SQLite database migrates itself (nothing else would); a server database
    is migrated by ``escalate migrate`` (``escalate dev`` runs it), and a process refuses
    to start on one that is behind rather than fail on its first write.

    Raises:
        SchemaBehind: a server database below this release's schema.
    """
    engine = engine_for(settings.database, settings.data_dir)
    if migrate_now if migrate_now is not None else settings.database is None:
        migrate(engine)
    elif current_revision(engine) != head_revision():
        raise SchemaBehind(
            f"the database {safe_url(engine.url)} is at schema {current_revision(engine)!r}, "
            f"this release needs {head_revision()!r}: run `escalate migrate`"
        )
    return engine
