"""The intake log: repeats of an open incident's alert, recorded before they are answered.

Hand-written. One row per accepted repeat, written by the API process that took it
(``owner``) before its 2xx, and deleted once its batch (``batch``: the Temporal update id
that carries it) has been counted by the incident's workflow. ``payload`` is the incident's
input (``IncidentInput`` as JSON), so a repeat that finds its incident closed opens a new one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intake",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("batch", sa.Text, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_intake_owner_batch", "intake", ["owner", "batch"])
    op.create_index("ix_intake_received_at", "intake", ["received_at"])


def downgrade() -> None:
    op.drop_table("intake")
