"""Alembic migrations of the store, applied by :func:`store.db.migrate`."""
