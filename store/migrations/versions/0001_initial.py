"""The initial schema: directory, incidents and their timelines, notifications, reviews.

Hand-written. Timestamps are ``timestamptz`` on PostgreSQL; JSON is ``jsonb`` there and
``JSON`` (text) on SQLite.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("contact_methods", JSON, nullable=False, server_default=sa.text("'[]'")),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Text, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )

    op.create_table(
        "incidents",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("runbook", sa.Text, nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        timestamp("triggered_at"),
        timestamp("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.Text, nullable=True),
        sa.Column("acknowledged_tier", sa.Integer, nullable=True),
        timestamp("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.Text, nullable=True),
        sa.Column("max_tier", sa.Integer, nullable=True),
        sa.Column("pages_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("auto_resolved", sa.Boolean, nullable=True),
        timestamp("updated_at"),
    )
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_index("ix_incidents_triggered_at", "incidents", ["triggered_at"])

    op.create_table(
        "incident_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        timestamp("at"),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("tier", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("data", JSON, nullable=True),
        sa.UniqueConstraint("event_id", name="uq_incident_events_event_id"),
    )
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])
    op.create_index("ix_incident_events_incident_id_seq", "incident_events", ["incident_id", "seq"])

    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Text, primary_key=True),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("provider_message_id", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        timestamp("created_at"),
        timestamp("claimed_at"),
        timestamp("sent_at", nullable=True),
        sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name="ck_notifications_status"),
    )
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])

    op.create_table(
        "reviews",
        sa.Column("incident_id", sa.Text, primary_key=True),
        sa.Column("body", JSON, nullable=False),
        timestamp("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=True),
    )
    op.create_table(
        "feedback",
        sa.Column("incident_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
    )


def downgrade() -> None:
    for table in ("feedback", "reviews", "notifications", "incident_events", "incidents"):
        op.drop_table(table)
    for table in ("team_members", "teams", "people"):
        op.drop_table(table)
