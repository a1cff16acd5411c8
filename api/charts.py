"""Charts drawn on the server as inline SVG: no script, no CDN, nothing the page's CSP
must allow. Every label is escaped; everything else is a number we computed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 560, 200
LEFT, BOTTOM, TOP, RIGHT = 44, 24, 12, 8
COLOURS = ("#0b5cad", "#b00020", "#1b7a2e", "#8a5a00")


def _frame(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" style="width:100%;height:auto;font:11px system-ui,sans-serif">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _scale(top: float) -> float:
    """A round top for the y axis (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)


def lines(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], unit: str
) -> Markup:
    """One line per series over the labels (days); a gap where a value is missing."""
    values = [v for points in series.values() for v in points if v is not None]
    top = _scale(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    body = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top:g} {escape(unit)}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    if labels:
        body.append(f'<text x="{LEFT}" y="{HEIGHT - 6}">{escape(labels[0])}</text>')
        body.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{escape(labels[-1])}</text>'
        )
    for index, (name, points) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        segment: list[str] = []
        for i, value in enumerate(points):
            if value is None:
                body.append(_polyline(segment, colour))
                segment = []
                continue
            x, y = LEFT + i * step, TOP + plot_h - plot_h * value / top
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
        body.append(_polyline(segment, colour))
        body.append(f'<text x="{LEFT + 8 + index * 90}" y="{TOP + 10}" fill="{colour}">{escape(name)}</text>')
    return _frame(title, body)


def _polyline(points: list[str], colour: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.5"/>'


def bars(
    title: str, rows: Sequence[tuple[str, dict[str, float]]], kinds: Sequence[str], unit: str = ""
) -> Markup:
    """Horizontal bars, one per row, stacked by kind (a legend names the kinds)."""
    row_h = 20
    height = TOP + 18 + row_h * max(len(rows), 1) + 8
    top = _scale(max((sum(parts.values()) for _, parts in rows), default=0.0))
    label_w, plot_w = 110, WIDTH - 110 - RIGHT - 40
    body = [
        f'<text x="{label_w + 4 + i * 90}" y="{TOP}" fill="{COLOURS[i % len(COLOURS)]}">{escape(kind)}</text>'
        for i, kind in enumerate(kinds)
    ]
    for number, (label, parts) in enumerate(rows):
        y = TOP + 12 + number * row_h
        body.append(f'<text x="{label_w - 4}" y="{y + 12}" text-anchor="end">{escape(label[:18])}</text>')
        x = float(label_w)
        for i, kind in enumerate(kinds):
            width = plot_w * parts.get(kind, 0) / top
            if width > 0:
                colour = COLOURS[i % len(COLOURS)]
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="14" fill="{colour}"/>')
            x += width
        total = sum(parts.values())
        body.append(f'<text x="{x + 4:.1f}" y="{y + 12}">{total:g}{escape(unit)}</text>')
    if not rows:
        body.append(f'<text x="{label_w}" y="{TOP + 24}">nothing in this period</text>')
    return _frame(title, body, height)
