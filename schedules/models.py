"""On-call schedules as data: what a schedule is, and what asking "who is on call?" answers.

A schedule has a required IANA time zone and up to ten layers. A layer is a rotation
(ordered participants handing off at a wall-clock anchor every N hours, days, weeks or
months), optionally bounded (``start``/``end``), ranked by ``priority`` (higher wins) and
masked by restrictions (weekdays and local hours, crossing midnight when ``end <= start``).
Overrides add, remove or replace a person for a window. Every edit makes a new revision;
an answer names the revision it came from, so "who was on call at 03:10 last Tuesday"
stays reproducible.

Pure data and validation: the arithmetic is in ``schedules/oncall.py``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_LAYERS = 10
MAX_PARTICIPANTS = 50
MAX_RESTRICTIONS = 30
MAX_OVERRIDE = timedelta(days=90)
MAX_FUTURE_OVERRIDES = 100

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
# The years a schedule's instants may name: far enough for any rota, near enough that
# the arithmetic (400 days ahead, a day back) never leaves the calendar.
FIRST_YEAR, LAST_YEAR = 1970, 2200


def _sane_year(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"a date between {FIRST_YEAR} and {LAST_YEAR}, please")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_sane_year)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShiftUnit(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# The longest shift, per unit: a year.
_MAX_COUNT = {ShiftUnit.HOUR: 24 * 366, ShiftUnit.DAY: 366, ShiftUnit.WEEK: 53, ShiftUnit.MONTH: 12}


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday 0 … Sunday 6, as ``datetime.weekday()``."""
        return list(Weekday).index(self)


class Shift(Model):
    """How long one participant holds the rotation: ``count`` ``unit``s (at most a year)."""

    unit: ShiftUnit
    count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _at_most_a_year(self) -> Shift:
        if self.count > _MAX_COUNT[self.unit]:
            raise ValueError(f"a shift is at most a year: {_MAX_COUNT[self.unit]} {self.unit.value}s")
        return self


class Rotation(Model):
    """Participants in order (a person may appear twice: a double turn). ``anchor`` is a
    local wall-clock time in the schedule's zone (no offset) when the first participant's
    shift starts; hand-offs follow every ``shift`` from it, before and after."""

    participants: list[Slug] = Field(min_length=1, max_length=MAX_PARTICIPANTS)
    anchor: datetime
    shift: Shift

    @field_validator("anchor")
    @classmethod
    def _wall_clock(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("the anchor is a local time in the schedule's zone: give it without an offset")
        return _sane_year(value)


class Restriction(Model):
    """A weekly window: on ``weekdays`` from ``start`` to ``end`` local time (when a layer is
    active; a business calendar's opening hours). An ``end`` at or before ``start`` crosses
    midnight (into the next day); equal means 24 hours."""

    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _plain_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("times of day are local: give them without an offset")
        return value


class Layer(Model):
    """One rotation, its bounds, its rank and its restrictions (empty: always active)."""

    name: Name
    rotation: Rotation
    priority: int = Field(default=0, ge=-1000, le=1000)
    start: Instant | None = None
    end: Instant | None = None
    restrictions: list[Restriction] = Field(default_factory=list, max_length=MAX_RESTRICTIONS)

    @model_validator(mode="after")
    def _end_after_start(self) -> Layer:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("a layer's end must be after its start")
        return self


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


# An IANA time zone name (a schedule's, a business calendar's).
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class ScheduleSpec(Model):
    """What an author writes (``POST /api/schedules``, ``/preview``)."""

    name: Name
    time_zone: TimeZoneName
    layers: list[Layer] = Field(min_length=1, max_length=MAX_LAYERS)

    @model_validator(mode="after")
    def _layer_names_unique(self) -> ScheduleSpec:
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique within a schedule")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class OverrideSpec(Model):
    """Add, remove or replace (both) a person from ``start`` to ``end`` (at most 90 days)."""

    start: Instant
    end: Instant
    add: Slug | None = None
    remove: Slug | None = None
    reason: Reason = ""

    @model_validator(mode="after")
    def _window_and_person(self) -> OverrideSpec:
        if self.end <= self.start:
            raise ValueError("an override's end must be after its start")
        if self.end - self.start > MAX_OVERRIDE:
            raise ValueError("an override lasts at most 90 days")
        if not self.add and not self.remove:
            raise ValueError("an override adds a person, removes one, or both (a replacement)")
        if self.add and self.add == self.remove:
            raise ValueError("an override cannot replace a person with themselves")
        return self


class Override(OverrideSpec):
    id: str


class Schedule(ScheduleSpec):
    """A stored schedule at one revision, with the overrides in force for it."""

    id: Slug
    revision: int = Field(default=1, ge=1)
    overrides: list[Override] = Field(default_factory=list)
    # When a later revision takes over (an edit made for the future): answers end there.
    superseded_at: AwareDatetime | None = None


class OnCall(Model):
    """The answer to "who is on call at ``at``?" and why.

    ``people`` in rotation order (overrides' additions last); ``layer`` the layer that
    answered (None when none was active); ``overrides`` the ids of those that changed the
    answer; ``valid_until`` the next instant the answer may change (None: not within the
    horizon searched).
    """

    schedule: str
    revision: int
    at: AwareDatetime
    people: list[str]
    layer: str | None = None
    overrides: list[str] = Field(default_factory=list)
    valid_until: AwareDatetime | None = None

    @property
    def empty(self) -> bool:
        return not self.people


class ShiftSpan(Model):
    """``people`` are on call from ``start`` to ``end`` (by ``layer``; None on a gap)."""

    start: AwareDatetime
    end: AwareDatetime
    people: list[str]
    layer: str | None = None


class Coverage(Model):
    """Final shifts over a period, each layer's own shifts, and the gaps with nobody."""

    since: AwareDatetime
    until: AwareDatetime
    final: list[ShiftSpan]
    layers: dict[str, list[ShiftSpan]]
    gaps: list[ShiftSpan]
    coverage_pct: float
