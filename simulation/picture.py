"""A simulated incident's timeline as a picture: one self-contained SVG.

Tiers are horizontal lanes (one per tier paged), time runs left to right from the start
(ticks labelled as offsets, ``+10m``), and each row is a mark with a tooltip (its offset,
wall time and why): a page in its tier's lane with the person's name, an acknowledgement
and a resolution with a line across every lane, escalations, and the targets' warnings and
breaches in a lane of their own at the top. Pure and deterministic: the same timeline gives
the same bytes (no ids, no clock, no random); every text is escaped; no script, no font or
anything else fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from html import escape

from simulation.script import spoken
from simulation.timeline import Row, Timeline
from workflows.vocabulary import EventKind

WIDTH = 900
LEFT, RIGHT = 170, 36  # room for the lanes' labels; a margin past the end
TOP, LANE, CHAR = 62, 52, 6.2  # the title's room, a lane's height, a letter's width (11 px)
_TIER_NAME = re.compile(r"tier (\d+) \(([^)]*)\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_STEPS = [
    timedelta(seconds=s)
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
] + [timedelta(days=d) for d in (1, 2, 7, 14, 30, 60, 90)]
_TARGETS = {EventKind.SLA_WARNING.value, EventKind.SLA_BREACHED.value}
_QUIET = {EventKind.TRIGGERED.value, EventKind.ONCALL.value, EventKind.STOOD_DOWN.value}
_IN_TIER = {
    EventKind.PAGED.value,
    EventKind.ACKNOWLEDGED.value,
    EventKind.RESOLVED.value,
    EventKind.ESCALATED.value,
    EventKind.EXHAUSTED.value,
}
ACK, RESOLVED, PAGE = "#1b7a2e", "#333333", "#0b5cad"
LEGEND = (
    ("page", "circle", PAGE),
    ("acknowledged", "diamond", ACK),
    ("resolved", "square", RESOLVED),
    ("escalated", "down", "#d9822b"),
    ("exhausted", "cross", "#b00020"),
    ("target warning", "up", "#e0a800"),
    ("target breached", "up", "#b00020"),
    ("other event", "dot", "#888888"),
)
_SHAPE_OF = {
    EventKind.PAGED.value: LEGEND[0],
    EventKind.ACKNOWLEDGED.value: LEGEND[1],
    EventKind.RESOLVED.value: LEGEND[2],
    EventKind.ESCALATED.value: LEGEND[3],
    EventKind.EXHAUSTED.value: LEGEND[4],
    EventKind.SLA_WARNING.value: LEGEND[5],
    EventKind.SLA_BREACHED.value: LEGEND[6],
}


def text(value: object) -> str:
    """``value`` safe in XML text and attributes: escaped, control characters dropped."""
    return escape(_CONTROL.sub("", str(value)), quote=True)


def tick_step(length: timedelta) -> timedelta:
    """The smallest round step that puts at most 10 ticks over ``length``."""
    return next((step for step in _STEPS if length / step <= 10), _STEPS[-1])


def tier_names(rows: Iterable[Row]) -> dict[int, str]:
    """Each tier's name: as an escalation names it, else as its first page's why starts."""
    named: dict[int, str] = {}
    paged: dict[int, str] = {}
    for row in rows:
        for number, name in _TIER_NAME.findall(row.why):
            named.setdefault(int(number), name)
        if row.action == EventKind.PAGED.value and row.tier is not None and row.why:
            paged.setdefault(row.tier, row.why.split(";")[0].strip())
    return paged | named


def _shape(kind: str, x: float, y: float, colour: str, r: float = 6) -> str:
    p = f'fill="{colour}"'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {p}/>'
    if kind == "dot":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r / 2:.1f}" {p}/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {p}/>'
    if kind == "cross":
        return (
            f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} {y + r:.1f}'
            f'L{x + r:.1f} {y - r:.1f}" stroke="{colour}" stroke-width="2.5"/>'
        )
    points = {
        "diamond": ((0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)),
        "up": ((0, -r), (r, r * 0.8), (-r, r * 0.8)),
        "down": ((0, r), (r, -r * 0.8), (-r, -r * 0.8)),
    }[kind]
    spots = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in points)
    return f'<polygon points="{spots}" {p}/>'


def _tooltip(row: Row) -> str:
    who = f" {row.who}" if row.who else ""
    why = f": {row.why}" if row.why else ""
    at = row.at.strftime("%a %Y-%m-%d %H:%M:%S %Z")
    return text(f"+{spoken(row.offset)} ({at}) {row.action}{who}{why}")


def _lanes(timeline: Timeline) -> list[tuple[str, str]]:
    """(key, label) top to bottom: the targets, other events, then each tier paged."""
    rows = timeline.rows
    names = tier_names(rows)
    lanes = [("targets", "targets")] if any(r.action in _TARGETS for r in rows) else []
    if any(_other(r) for r in rows):
        lanes.append(("events", "other events"))
    for tier in sorted({r.tier for r in timeline.pages() if r.tier is not None}):
        lanes.append((f"tier {tier}", f"tier {tier} {names.get(tier, '')}".strip()))
    return lanes


def _other(row: Row) -> bool:
    return row.action not in _TARGETS | _QUIET | _IN_TIER


def _lane_of(row: Row, rows: tuple[Row, ...], keys: dict[str, int]) -> int | None:
    """The lane a row's mark goes in: an acknowledgement or resolution in the tier that paged
    its author, a page or escalation in its tier, the rest at the top."""
    if row.action in _TARGETS:
        return keys.get("targets")
    if _other(row) or row.action in _QUIET:
        return keys.get("events") if _other(row) else None
    tier = row.tier
    if row.action in (EventKind.ACKNOWLEDGED.value, EventKind.RESOLVED.value):
        pages = [p for p in rows if p.action == EventKind.PAGED.value and p.who == row.who]
        earlier = [p for p in pages if p.offset <= row.offset]
        tier = (earlier or pages or [row])[-1].tier
    return keys.get(f"tier {tier}")


def _span(timeline: Timeline) -> tuple[timedelta, timedelta]:
    """How long the axis runs, and the offset of the last row: to the resolution, else to
    the end, but a quiet tail (a month after the ladder ran out) is cut to a tenth more."""
    last = max((row.offset for row in timeline.rows), default=timedelta())
    resolved = timeline.totals.time_to_resolve
    end = max(resolved if resolved is not None else timeline.length, last)
    end = min(end, last + max(last / 10, timedelta(minutes=1)))
    return (end if end > timedelta() else timedelta(minutes=1)), last


def svg(timeline: Timeline) -> str:
    """The timeline drawn as an SVG document (see the module)."""
    rows = timeline.rows
    end, last = _span(timeline)
    plot = WIDTH - LEFT - RIGHT

    def x_of(offset: timedelta) -> float:
        return LEFT + plot * (offset / end)

    lanes = _lanes(timeline)
    keys = {key: index for index, (key, _) in enumerate(lanes)}
    bottom = TOP + LANE * max(len(lanes), 1)
    height = bottom + 74
    start = timeline.start.strftime("%a %Y-%m-%d %H:%M %Z")
    heading = f"{timeline.title}: runbook {timeline.runbook}, {timeline.severity} on {timeline.service}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>{text(heading)}, starts {text(start)} ({text(timeline.zone)})</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="22" font-size="14" font-weight="bold">{text(heading)}</text>',
        f'<text x="10" y="42" fill="#555555">starts {text(start)} ({text(timeline.zone)}); '
        f"state at the end: {text(timeline.totals.state)}"
        + (
            f"; nothing after +{text(spoken(last))} of {text(spoken(timeline.length))}"
            if end < timeline.length
            else ""
        )
        + "</text>",
    ]
    for index, (_key, label) in enumerate(lanes):
        y = TOP + LANE * index
        shade = "#f4f6f8" if index % 2 == 0 else "#ffffff"
        out.append(f'<rect x="{LEFT}" y="{y}" width="{plot}" height="{LANE}" fill="{shade}"/>')
        out.append(f'<text x="10" y="{y + LANE / 2 + 4:.1f}" class="lane">{text(label)}</text>')
    if not any(key.startswith("tier") for key, _ in lanes):
        out.append(f'<text x="{LEFT + 8}" y="{bottom - 18}" fill="#b00020">nobody was paged</text>')
    step = tick_step(end)
    ticks = int(end / step)
    for n in range(ticks + 1):
        x = x_of(step * n)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#cccccc"/>')
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">+{text(spoken(step * n))}</text>'
        )
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot}" y2="{bottom}" stroke="#555555"/>')
    for action, colour in ((EventKind.ACKNOWLEDGED.value, ACK), (EventKind.RESOLVED.value, RESOLVED)):
        for row in (r for r in rows if r.action == action):
            x = x_of(row.offset)
            out.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="{colour}" '
                f'stroke-width="1.5" stroke-dasharray="5 3" class="{action}-line"/>'
            )
    out += _marks(timeline, keys, x_of)
    out += _legend(bottom + 48)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _marks(timeline: Timeline, keys: dict[str, int], x_of: Callable[[timedelta], float]) -> list[str]:
    """A mark per row that has a lane, and the names of the people paged where they fit."""
    out: list[str] = []
    free: dict[tuple[int, int], float] = {}  # (lane, above or below) -> where the next name may start
    # Rows of one instant in a fixed order: two pages sent at once may be delivered either way.
    for row in sorted(timeline.rows, key=lambda r: (r.offset, r.action, r.tier or 0, r.who, r.why)):
        lane = _lane_of(row, timeline.rows, keys)
        if lane is None:
            continue
        kind, colour = _SHAPE_OF.get(row.action, LEGEND[-1])[1:]
        x, y = x_of(row.offset), TOP + LANE * lane + LANE / 2
        y += 24 if row.action == EventKind.ESCALATED.value else 0  # on its way to the next lane
        out.append(f'<g class="mark {text(row.action)}"><title>{_tooltip(row)}</title>')
        out.append(_shape(kind, x, y, colour))
        if row.action == EventKind.PAGED.value and row.who:
            width = CHAR * len(row.who)
            for side, dy in ((0, -9), (1, 17)):
                if free.get((lane, side), 0.0) <= x - 2:
                    out.append(f'<text x="{x - 3:.1f}" y="{y + dy:.1f}">{text(row.who)}</text>')
                    free[(lane, side)] = x - 3 + width + 6
                    break
        out.append("</g>")
    return out


def _legend(y: float) -> list[str]:
    out = [f'<g class="legend"><text x="10" y="{y + 4:.1f}" fill="#555555">legend</text>']
    x = float(LEFT)
    for label, kind, colour in LEGEND:
        out.append(_shape(kind, x, y, colour, 5))
        out.append(f'<text x="{x + 9:.1f}" y="{y + 4:.1f}">{label}</text>')
        x += 22 + CHAR * len(label)
    out.append("</g>")
    return out
