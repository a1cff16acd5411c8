"""Engines, migrations and transactions.

``engine_for(None, data_dir)`` is a SQLite file ``<data_dir>/escalate.db`` in WAL mode;
``engine_for("postgresql://user:pw@host/db", ...)`` uses psycopg 3. URLs are only ever
shown through :func:`safe_url`, which masks the password.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection, Engine, make_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "escalate.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Held while migrating, so that replicas starting together migrate one after another.
PG_MIGRATION_LOCK = 0x65736361  # "esca"
# Alembic's ``op`` and ``context`` are module-wide proxies: two migrations running at once in
# one process (an API's and its in-process worker's first use of the database) would each
# replace the other's, so a process migrates one database at a time.
_MIGRATING = threading.Lock()


def database_url(url: str | None, data_dir: Path) -> URL:
    """The URL an engine is made from: the SQLite default, or ``postgresql`` mapped to psycopg 3."""
    if not url:
        return URL.create("sqlite+pysqlite", database=str(Path(data_dir) / SQLITE_FILE))
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with its password masked: the only form a URL may be logged in."""
    return make_url(url).render_as_string(hide_password=True) if url else ""


def engine_for(url: str | None, data_dir: Path) -> Engine:
    """An engine for ``url`` (``DATABASE_URL``), or for the SQLite file under ``data_dir``.

    Connections are checked before use (``pool_pre_ping``): after a database restart the
    pool's stale connections are replaced instead of failing the next statement.
    """
    target = database_url(url, data_dir)
    if target.get_backend_name() == "sqlite":
        engine = _sqlite_engine(target)
    else:
        connect_args: dict[str, Any] = (
            {"connect_timeout": 10} if target.get_backend_name() == "postgresql" else {}
        )
        engine = sa.create_engine(target, pool_pre_ping=True, connect_args=connect_args)
    log.info("database: %s", safe_url(target))
    return engine


def _sqlite_engine(target: URL) -> Engine:
    if target.database and target.database != ":memory:":
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        target,
        pool_pre_ping=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is turned off so that ``_on_begin`` decides
        # how a transaction starts (the SQLAlchemy-documented recipe for pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout
        # instead of one failing with "database is locked" when its read turns into a write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (idempotent: at head, it does nothing)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with _MIGRATING, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    """The newest schema revision this release ships."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection in a transaction.

    Given an ``Engine``: a new transaction, committed when the block ends, rolled back if it
    raises. Given a ``Connection``: that connection as it is (its owner commits), so that
    several repository calls can share one transaction.
    """
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.begin() as connection:
        yield connection


def utcnow() -> datetime:
    return datetime.now(UTC)
