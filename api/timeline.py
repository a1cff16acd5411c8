"""An on-call schedule's coverage as a timeline drawn on the server: inline SVG, no script
(the pages' CSP allows none), in the style of ``api.charts``.

One lane per layer (its own shifts, ignoring priority and overrides) and a "final" lane
(who is actually paged), over the period of a :class:`Coverage`; days are marked at local
midnight in the schedule's zone; gaps with nobody on call are drawn in red on the final
lane. Every shift has a ``<title>`` (a tooltip) with its people and times. Every label is
escaped; everything else is a number we computed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from markupsafe import Markup

from schedules.models import Coverage, ShiftSpan

WIDTH = 560
LABEL_W, RIGHT, TOP, LANE_H, BAR_H = 78, 6, 30, 26, 20
CHAR_W = 6.2
PALETTE = ("#0b5cad", "#1b7a2e", "#8a5a00", "#6a3d9a", "#00707a", "#a23b72", "#3b5b92", "#5c6b00")
GAP_FILL, GAP_EDGE = "#fdecea", "#b00020"


def colour(person: str) -> str:
    """The same colour for the same person, on every lane and every page."""
    return PALETTE[int(hashlib.sha256(person.encode()).hexdigest()[:8], 16) % len(PALETTE)]


def _fit(text: str, width: float) -> str:
    """``text`` cut to what ``width`` pixels hold ("" when not even three characters)."""
    room = int((width - 6) / CHAR_W)
    if room < 3:
        return ""
    return text if len(text) <= room else text[: room - 1] + "…"


class _Scale:
    def __init__(self, since: datetime, until: datetime) -> None:
        self.since, self.seconds = since, (until - since).total_seconds()
        self.plot = WIDTH - LABEL_W - RIGHT

    def x(self, at: datetime) -> float:
        share = (at - self.since).total_seconds() / self.seconds
        return LABEL_W + self.plot * min(max(share, 0.0), 1.0)


def _when(span: ShiftSpan, zone: ZoneInfo) -> str:
    start, end = span.start.astimezone(zone), span.end.astimezone(zone)
    return f"{start:%a %d %b %H:%M} to {end:%a %d %b %H:%M}"


def _bar(scale: _Scale, span: ShiftSpan, y: float, names: dict[str, str], zone: ZoneInfo) -> str:
    x0, x1 = scale.x(span.start), scale.x(span.end)
    who = ", ".join(names.get(p, p) for p in span.people)
    fill = colour(span.people[0]) if span.people else GAP_FILL
    tip = f"{who or 'nobody on call'}: {_when(span, zone)}"
    parts = [
        f'<g><title>{escape(tip)}</title><rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
        f'height="{BAR_H}" fill="{fill}" stroke="#fff" stroke-width="0.5"/>'
    ]
    label = _fit(who, x1 - x0)
    if label:
        parts.append(f'<text x="{x0 + 3:.1f}" y="{y + 14:.1f}" fill="#fff">{escape(label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _gap(scale: _Scale, span: ShiftSpan, y: float, zone: ZoneInfo) -> str:
    x0, x1 = scale.x(span.start), scale.x(span.end)
    tip = f"Gap, nobody on call: {_when(span, zone)}"
    label = _fit("gap", x1 - x0)
    text = f'<text x="{x0 + 3:.1f}" y="{y + 14:.1f}" fill="{GAP_EDGE}">{label}</text>' if label else ""
    return (
        f'<g class="gap"><title>{escape(tip)}</title><rect x="{x0:.1f}" y="{y:.1f}" '
        f'width="{max(x1 - x0, 0.5):.1f}" height="{BAR_H}" fill="{GAP_FILL}" stroke="{GAP_EDGE}" '
        f'stroke-dasharray="3 2"/>{text}</g>'
    )


def _days(scale: _Scale, coverage: Coverage, zone: ZoneInfo, bottom: float) -> list[str]:
    """A line at each local midnight, labelled with the weekday and the day of the month."""
    body = []
    day = coverage.since.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    every = max(1, round(36 / (scale.plot / max(scale.seconds / 86400, 1))))  # a label per ~36 px
    number = 0
    while day < coverage.until:
        if day > coverage.since:
            x = scale.x(day)
            body.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#ddd"/>')
            if number % every == 0:
                body.append(f'<text x="{x + 2:.1f}" y="{TOP - 16}" fill="#555">{day:%a}</text>')
                body.append(f'<text x="{x + 2:.1f}" y="{TOP - 6}" fill="#555">{day:%d}</text>')
            number += 1
        day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight, DST or not
    return body


def timeline(coverage: Coverage, layer_names: list[str], names: dict[str, str], time_zone: str) -> Markup:
    """The coverage of one schedule: a lane per layer (in the schedule's order) and the final lane."""
    zone = ZoneInfo(time_zone)
    scale = _Scale(coverage.since, coverage.until)
    lanes = [*layer_names, "final"]
    height = TOP + LANE_H * len(lanes) + 6
    start = f"{coverage.since.astimezone(zone):%d %b %H:%M}"
    title = f"Who is on call from {start} ({time_zone}), {len(lanes) - 1} layers and the final answer"
    body = _days(scale, coverage, zone, height - 6)
    for index, lane in enumerate(lanes):
        y = TOP + index * LANE_H
        weight = ' font-weight="600"' if lane == "final" else ""
        body.append(
            f'<text x="{LABEL_W - 4}" y="{y + 14}" text-anchor="end"{weight}>{escape(lane[:12])}</text>'
        )
        spans = coverage.final if lane == "final" else coverage.layers.get(lane, [])
        body += [_bar(scale, span, y, names, zone) for span in spans]
        if lane == "final":
            body += [_gap(scale, gap, y, zone) for gap in coverage.gaps]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" style="width:100%;height:auto;font:11px system-ui,sans-serif">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")
