"""What the people do in a simulation: a script of actions at offsets from the start.

A script file (YAML)::

    name: acknowledged by tier 1, resolved later
    steps:
      - {at: 7m, do: acknowledge, by: tier 1}   # whoever tier 1 paged last
      - {at: 20m, do: severity, severity: SEV1}
      - {at: 25m, do: repeat}                   # the same alert fires again
      - {at: 30m, do: snooze, for: 1h}
      - {at: 2h, do: resolve, by: alice}        # a person's id

``by`` is a person's id, ``tier N`` (the person tier N paged last) or ``paged`` (the
last person paged); without it, whoever was paged last acts. Offsets and lengths are
written ``45s``, ``7m``, ``1h30m``, ``2d``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from workflows.models import Severity

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_OFFSET = timedelta(days=366)


class ScriptError(ValueError):
    """A script that cannot be run, with the reason in words."""


def parse_duration(text: object) -> timedelta:
    """``1h30m`` -> 1:30:00; a number is seconds. Raises ValueError on anything else."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        return timedelta(seconds=text)
    spoken = str(text).replace(" ", "").lower()
    if not spoken or _PART.sub("", spoken):
        raise ValueError(f"{text!r} is not a duration: write e.g. 45s, 7m, 1h30m or 2d")
    return timedelta(seconds=sum(float(n) * _UNIT[unit] for n, unit in _PART.findall(spoken)))


def spoken(delta: timedelta) -> str:
    """The shortest way to write ``delta`` back: ``1h30m``, ``45s``, ``0s``."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in _UNIT.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Do(StrEnum):
    """What a step does."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    SEVERITY = "severity"
    REPEAT = "repeat"
    SNOOZE = "snooze"
    NOTE = "note"


class Step(BaseModel):
    """One action at ``at`` after the start."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    at: Duration
    do: Do
    by: str | None = None
    severity: Severity | None = None
    length: Duration | None = Field(default=None, alias="for")
    text: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Step:
        if not timedelta() <= self.at <= MAX_OFFSET:
            raise ValueError(f"at {spoken(self.at)}: a step comes between 0s and 366d after the start")
        if self.do is Do.SEVERITY and self.severity is None:
            raise ValueError("a severity step needs severity: SEV1..SEV4")
        if self.do is Do.SNOOZE and (self.length is None or self.length <= timedelta()):
            raise ValueError("a snooze step needs for: its length, e.g. 30m")
        return self

    def __str__(self) -> str:
        extra = {Do.SEVERITY: f" to {self.severity}", Do.SNOOZE: f" for {spoken(self.length or timedelta())}"}
        return f"{self.do}{extra.get(self.do, '')} at {spoken(self.at)}"


class Script(BaseModel):
    """A named list of steps, run in the order of their offsets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "nobody acknowledges"
    steps: tuple[Step, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Script:
        object.__setattr__(self, "steps", tuple(sorted(self.steps, key=lambda s: s.at)))
        return self

    @property
    def end(self) -> timedelta:
        """The offset of the last step (0 for an empty script)."""
        return self.steps[-1].at if self.steps else timedelta()

    @property
    def resolves(self) -> bool:
        return any(step.do is Do.RESOLVE for step in self.steps)


def script_from(data: Any, where: str = "script") -> Script:
    """A script from parsed YAML or JSON; ScriptError naming the bad field otherwise."""
    try:
        return Script.model_validate(data or {})
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'script'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ScriptError(f"{where}: {reasons}") from None


def load_script(path: str | Path) -> Script:
    """Read a script file (YAML)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"{path}: {exc}") from None
    return script_from(data, str(path))
