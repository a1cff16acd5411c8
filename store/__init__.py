"""The application database: people and teams, incident summaries and timelines,
notifications, reviews and feedback.

SQLAlchemy 2 Core on a sync engine; SQLite by default (``<data_dir>/escalate.db``),
PostgreSQL (psycopg 3) in production. The schema is owned by the Alembic migrations in
``store/migrations`` and applied with :func:`store.db.migrate`. Repository modules
(``people``, ``incidents``, ``notifications``) are plain functions over an ``Engine`` or a
``Connection`` that return pydantic models: nothing here knows about Temporal, and the
workflow code never imports this package.
"""

from store.db import engine_for, migrate, safe_url, transaction

__all__ = ["engine_for", "migrate", "safe_url", "transaction"]
