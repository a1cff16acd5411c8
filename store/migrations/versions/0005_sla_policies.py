"""SLA policies: the response and resolution targets, editable through the API.

Hand-written. ``body`` is the ``SlaPolicy`` as JSON (``jsonb`` on PostgreSQL), by its
name. The table starts empty: until it holds a policy, the seed file (``SLA_FILE``)
answers, and the first edit copies the seed's policies in before it applies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("body", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sla_policies")
