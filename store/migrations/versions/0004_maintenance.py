"""Maintenance windows: incidents of some services (or with some labels) held for a while.

Hand-written. ``body`` is the ``MaintenanceWindowSpec`` as JSON (``jsonb`` on PostgreSQL);
``start`` and ``end`` are copied out of it to be queried. Ending a window early sets
``deleted_at`` (soft: what was in force at an instant stays answerable).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("body", JSON, nullable=False),
        timestamp("start"),
        timestamp("end"),
        timestamp("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        timestamp("deleted_at", nullable=True),
    )
    op.create_index("ix_maintenance_windows_end", "maintenance_windows", ["end"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_end", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
