"""On-call schedules: the schedules, every revision of each, and their overrides.

Hand-written. A revision's body is the ``ScheduleSpec`` as JSON (``jsonb`` on PostgreSQL).
A partial unique index (``WHERE deleted_at IS NULL``, on SQLite and PostgreSQL alike)
refuses a second live override identical to one already there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("deleted_at", nullable=True),
    )
    op.create_table(
        "schedule_revisions",
        sa.Column(
            "schedule_id", sa.Text, sa.ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("revision", sa.Integer, primary_key=True),
        timestamp("effective_from"),
        sa.Column("body", JSON, nullable=False),
        timestamp("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_table(
        "schedule_overrides",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("schedule_id", sa.Text, sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
        timestamp("start"),
        timestamp("end"),
        sa.Column("add_person", sa.Text, nullable=True),
        sa.Column("remove_person", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        timestamp("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        timestamp("deleted_at", nullable=True),
    )
    op.create_index("ix_schedule_overrides_schedule_id_end", "schedule_overrides", ["schedule_id", "end"])
    live = sa.column("deleted_at").is_(None)
    op.create_index(
        "uq_schedule_overrides_live",
        "schedule_overrides",
        [
            sa.column("schedule_id"),
            sa.column("start"),
            sa.column("end"),
            sa.func.coalesce(sa.column("add_person"), sa.literal_column("''")),
            sa.func.coalesce(sa.column("remove_person"), sa.literal_column("''")),
        ],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )


def downgrade() -> None:
    op.drop_index("uq_schedule_overrides_live", table_name="schedule_overrides")
    op.drop_index("ix_schedule_overrides_schedule_id_end", table_name="schedule_overrides")
    for table in ("schedule_overrides", "schedule_revisions", "schedules"):
        op.drop_table(table)
