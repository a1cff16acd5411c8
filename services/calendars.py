"""iCalendar feeds of final on-call shifts, behind an unguessable signed token.

Calendar apps cannot send an ``Authorization`` header, so a feed's address carries its own
credential: ``/calendars/<token>.ics``, the token an ``itsdangerous`` signature (a salt of
its own: no action, feedback or session token passes as one, nor the reverse) over what
the feed shows, one schedule or one person. It does not expire; removing the LINK_SECRET
key that signed it revokes every feed link made with that key (the first key signs, all
verify, as for the other links).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from schedules.models import Schedule, ShiftSpan

SALT = "oncall-calendar-feed"
Kind = Literal["schedule", "person"]
KINDS = ("schedule", "person")


class BadCalendarToken(ValueError):
    """A feed token that is forged, altered or signed with a key no longer configured."""


class CalendarLinks:
    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise ValueError("at least one link secret is required")
        # itsdangerous signs with the last key of the list and verifies with all.
        self._serializer = URLSafeSerializer(secrets[::-1], salt=SALT)

    def sign(self, kind: Kind, ident: str) -> str:
        return self._serializer.dumps({"k": kind, "i": ident})

    def verify(self, token: str) -> tuple[Kind, str]:
        """``(kind, id)`` the token was made for. Raises :class:`BadCalendarToken`."""
        try:
            data = self._serializer.loads(token)
        except (BadSignature, UnicodeError, ValueError):
            raise BadCalendarToken("this calendar link is not valid") from None
        if isinstance(data, dict) and data.get("k") in KINDS and isinstance(data.get("i"), str):
            kind: Kind = "schedule" if data["k"] == "schedule" else "person"
            return kind, data["i"]
        raise BadCalendarToken("this calendar link is not valid")


def uid(schedule_id: str, span: ShiftSpan, person: str | None) -> str:
    """The same shift gets the same UID at every refresh (a new one if its people change),
    and another in a person's feed than in the schedule's (two subscriptions, two events)."""
    who = f"person:{person}" if person is not None else "schedule:" + ",".join(span.people)
    key = f"{schedule_id}|{span.start.astimezone(UTC).isoformat()}|{who}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@escalate-oncall"


def ical(
    title: str, shifts: list[tuple[Schedule, ShiftSpan]], names: dict[str, str], person: str | None = None
) -> bytes:
    """A calendar of final shifts: one event per shift (per schedule, for a person's feed)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Escalation Runbooks//On-call schedules//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", title)
    stamp = datetime.now(UTC)
    for schedule, span in shifts:
        who = ", ".join(names.get(p, p) for p in span.people)
        event = Event()
        event.add("uid", uid(schedule.id, span, person))
        event.add("dtstamp", stamp)
        event.add("dtstart", span.start.astimezone(UTC))
        event.add("dtend", span.end.astimezone(UTC))
        event.add("summary", f"On call: {schedule.name}" if person else f"On call: {who}")
        event.add("description", f"{schedule.name} ({schedule.id}): {who}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
