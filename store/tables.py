"""The schema as SQLAlchemy Core tables, mirrored by the migrations (``0001_initial``,
``0002_schedules``, ``0003_sla``, ``0004_maintenance``, ``0005_sla_policies``, ``0006_drills``,
``0007_intake``).

Every timestamp is a :class:`UTCDateTime`: it refuses naive datetimes on the way in and
always gives back an aware UTC datetime, on PostgreSQL (``timestamptz``) and on SQLite
(which keeps no zone: the value is stored as naive UTC text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and reads back aware UTC datetimes."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL.
JSON: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# A 64-bit surrogate key; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId: Any = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
    sa.Column("contact_methods", JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column("team_id", sa.Text, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

# One summary row per incident, rewritten as the incident moves (the timeline is below).
incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("runbook", sa.Text, nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("triggered_at", UTCDateTime, nullable=False),
    sa.Column("acknowledged_at", UTCDateTime, nullable=True),
    sa.Column("acknowledged_by", sa.Text, nullable=True),
    sa.Column("acknowledged_tier", sa.Integer, nullable=True),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("resolved_by", sa.Text, nullable=True),
    sa.Column("max_tier", sa.Integer, nullable=True),
    sa.Column("pages_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("auto_resolved", sa.Boolean, nullable=True),
    sa.Column("sla_breached", sa.Boolean, nullable=True),  # None: held to no SLA policy
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # A training run: listed and recorded like any incident, left out of every metric.
    sa.Column("drill", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_incidents_state", "state"),
    sa.Index("ix_incidents_triggered_at", "triggered_at"),
)

# Append-only timeline. No foreign key to ``incidents``: events may land before the summary.
incident_events = sa.Table(
    "incident_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("tier", sa.Integer, nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("data", JSON, nullable=True),
    sa.UniqueConstraint("event_id", name="uq_incident_events_event_id"),
    sa.Index("ix_incident_events_incident_id", "incident_id"),
    sa.Index("ix_incident_events_incident_id_seq", "incident_id", "seq"),
)

NOTIFICATION_STATUSES = ("sending", "sent", "failed")

# One row per email: the claim that makes a send happen once across processes.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", sa.Text, primary_key=True),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("provider_message_id", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name="ck_notifications_status"),
    sa.Index("ix_notifications_incident_id", "incident_id"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("incident_id", sa.Text, primary_key=True),
    sa.Column("body", JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("incident_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
)

# On-call schedules (``0002_schedules``): one row per schedule, every edit a new revision
# (kept: "who was on call at T" is answered with the revision of T), overrides beside them.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
)

schedule_revisions = sa.Table(
    "schedule_revisions",
    metadata,
    sa.Column("schedule_id", sa.Text, sa.ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("effective_from", UTCDateTime, nullable=False),
    sa.Column("body", JSON, nullable=False),  # the ScheduleSpec, as JSON
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
)

schedule_overrides = sa.Table(
    "schedule_overrides",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("schedule_id", sa.Text, sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    sa.Column("start", UTCDateTime, nullable=False),
    sa.Column("end", UTCDateTime, nullable=False),
    sa.Column("add_person", sa.Text, nullable=True),
    sa.Column("remove_person", sa.Text, nullable=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Index("ix_schedule_overrides_schedule_id_end", "schedule_id", "end"),
)
# Two identical live overrides cannot both exist (two people clicking at once): NULLs are
# distinct in a unique index, hence the COALESCE; the partial index frees deleted ones.
sa.Index(
    "uq_schedule_overrides_live",
    schedule_overrides.c.schedule_id,
    schedule_overrides.c.start,
    schedule_overrides.c.end,
    sa.func.coalesce(schedule_overrides.c.add_person, sa.literal_column("''")),
    sa.func.coalesce(schedule_overrides.c.remove_person, sa.literal_column("''")),
    unique=True,
    sqlite_where=schedule_overrides.c.deleted_at.is_(None),
    postgresql_where=schedule_overrides.c.deleted_at.is_(None),
)

# Maintenance windows (``0004_maintenance``): the spec as JSON, its times copied out to be
# queried; ending one early sets ``deleted_at``.
maintenance_windows = sa.Table(
    "maintenance_windows",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("body", JSON, nullable=False),  # the MaintenanceWindowSpec, as JSON
    sa.Column("start", UTCDateTime, nullable=False),
    sa.Column("end", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Index("ix_maintenance_windows_end", "end"),
)

# SLA policies (``0005_sla_policies``): each policy as JSON (``SlaPolicy.model_dump(mode="json")``),
# by name. Once the table holds one, it is the truth; until then the seed file answers.
sla_policies = sa.Table(
    "sla_policies",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("body", JSON, nullable=False),  # the SlaPolicy, as JSON
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

# Repeats of an open incident's alert, recorded before the API answers and deleted once the
# incident's workflow has counted them (``services/intake.py``).
intake = sa.Table(
    "intake",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Text, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("batch", sa.Text, nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index("ix_intake_owner_batch", "owner", "batch"),
    sa.Index("ix_intake_received_at", "received_at"),
)
