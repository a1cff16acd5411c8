"""Response and resolution targets: the SLA policy an incident is held to, and where each
of its clocks stands.

A policy gives, per severity, targets such as "acknowledge within 15 minutes" or "resolve
within 4 hours", each measured from the incident's start. Deadlines are recomputed from
that original start whenever the severity changes, so a SEV3 raised to SEV1 after 50
minutes with a 15-minute SEV1 target is breached at once. Pure: the incident workflow
runs the clock (``workflows/sla.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, field_validator, model_validator

from schedules.business_hours import BusinessHours, add
from workflows.text import Model, Slug
from workflows.vocabulary import BreachAction, Clock, Goal, Severity

MIN_TARGET = timedelta(seconds=1)
MAX_TARGET = timedelta(days=30)


class Target(Model):
    """One promise: ``goal`` reached within ``within`` of the incident's start."""

    goal: Goal
    within: timedelta
    clock: Clock = Clock.WALL

    @field_validator("within")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if not MIN_TARGET <= value <= MAX_TARGET:
            raise ValueError("a target is between 1 second and 30 days")
        return value


class SlaPolicy(Model):
    """Targets per severity, when to warn (shares of a target's time gone), what a breach
    does besides its timeline entry, and the business hours ``business`` targets count."""

    name: Slug
    business_hours: BusinessHours | None = None
    targets: dict[Severity, list[Target]] = Field(default_factory=dict)
    warn_at: list[float] = Field(default_factory=lambda: [0.5, 0.8], max_length=5)
    on_breach: list[BreachAction] = Field(default_factory=lambda: [BreachAction.PAGE_MANAGEMENT])

    @field_validator("warn_at")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < share < 1 for share in value):
            raise ValueError("warnings are shares of a target's time, between 0 and 1 (e.g. 0.5, 0.8)")
        return sorted(set(value))

    @field_validator("targets")
    @classmethod
    def _one_per_goal(cls, value: dict[Severity, list[Target]]) -> dict[Severity, list[Target]]:
        for severity, targets in value.items():
            goals = [t.goal for t in targets]
            if len(set(goals)) != len(goals):
                raise ValueError(f"{severity}: one target per goal")
        return value

    @model_validator(mode="after")
    def _hours_for_business_clocks(self) -> SlaPolicy:
        business = any(t.clock is Clock.BUSINESS for ts in self.targets.values() for t in ts)
        if business and self.business_hours is None:
            raise ValueError("targets on the business clock need the policy's business_hours")
        return self

    def after(self, target: Target, start: datetime, share: float = 1.0) -> datetime:
        """When ``share`` of ``target``'s time has passed since ``start``, on its clock."""
        if target.clock is Clock.BUSINESS and self.business_hours is not None:
            return add(self.business_hours, start, target.within * share)
        return start + target.within * share


class TargetClock(Model):
    """One target of one incident: when it is due, which warnings went out, and whether
    it was met or breached (each happens once)."""

    goal: Goal
    within: timedelta
    due: datetime
    # When each warning is due (by share), on the target's clock.
    warnings: dict[float, datetime] = Field(default_factory=dict)
    warned: list[float] = Field(default_factory=list)
    met_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.met_at is None and self.breached_at is None


class SlaState(Model):
    """An incident's targets as they stand (on its view: the API and the UI show it)."""

    policy: str
    severity: Severity
    start: datetime
    warn_at: list[float] = Field(default_factory=list)
    targets: list[TargetClock] = Field(default_factory=list)
    # Paused (workflows/pauses.py) since then; paused this long before (deadlines moved by it).
    paused_since: datetime | None = None
    paused: timedelta = timedelta(0)

    @property
    def breached(self) -> bool:
        return any(t.breached_at is not None for t in self.targets)


def clocks(
    policy: SlaPolicy, severity: Severity, start: datetime, before: SlaState | None = None
) -> SlaState:
    """The targets of ``severity`` from ``start``; what ``before`` knew of the same goals
    (warnings, met, breached) is kept, so nothing fires twice."""
    known = {t.goal: t for t in before.targets} if before else {}
    moved = before.paused if before else timedelta(0)  # the time paused so far
    targets = []
    for target in policy.targets.get(severity, []):
        earlier = known.get(target.goal)
        clock = TargetClock(
            goal=target.goal,
            within=target.within,
            due=policy.after(target, start) + moved,
            warnings={share: policy.after(target, start, share) + moved for share in policy.warn_at},
        )
        if earlier is not None:
            clock.met_at, clock.breached_at, clock.warned = (
                earlier.met_at,
                earlier.breached_at,
                earlier.warned,
            )
        targets.append(clock)
    return SlaState(
        policy=policy.name,
        severity=severity,
        start=start,
        warn_at=policy.warn_at,
        targets=targets,
        paused_since=before.paused_since if before else None,
        paused=moved,
    )


def pause(state: SlaState, now: datetime) -> None:
    """The clocks stand still from ``now`` (no warning nor breach fires meanwhile)."""
    if state.paused_since is None:
        state.paused_since = now


def unpause(state: SlaState, now: datetime) -> None:
    """The clocks run again: every open deadline (and warning) moves by the paused time."""
    if state.paused_since is None:
        return
    shift = max(now - state.paused_since, timedelta(0))
    state.paused_since, state.paused = None, state.paused + shift
    for target in state.targets:
        if target.open:
            target.due += shift
            target.warnings = {share: at + shift for share, at in target.warnings.items()}


def next_events(state: SlaState) -> list[tuple[datetime, TargetClock, float | None]]:
    """Every warning (its share) and breach (``None``) still to come, in time order."""
    events: list[tuple[datetime, TargetClock, float | None]] = []
    if state.paused_since is not None:
        return events  # nothing fires while paused
    for target in state.targets:
        if not target.open:
            continue
        for share, at in target.warnings.items():
            if share not in target.warned:
                events.append((at, target, share))
        events.append((target.due, target, None))
    return sorted(events, key=lambda event: (event[0], event[2] is None))
