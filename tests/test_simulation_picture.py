"""The picture of a simulated timeline (simulation/picture.py) as its reader sees it: a
well-formed SVG with a lane per tier paged, one mark per page with the person's name and
a tooltip, the acknowledgement and resolution marked across the lanes, the targets on a
lane of their own, ticks in offsets, every name escaped, and the same bytes every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulation.picture import svg, tick_step, tier_names
from simulation.timeline import Row, Timeline, Totals

NS = {"svg": "http://www.w3.org/2000/svg"}
ZONE = ZoneInfo("America/Chicago")
START = datetime(2026, 3, 8, 1, 30, tzinfo=ZONE)
HOSTILE = '<script>alert("x")</script>'


def row(offset: timedelta, tier: int | None, action: str, who: str = "", why: str = "") -> Row:
    return Row(offset, (START + offset).astimezone(ZONE), tier, action, who, why)


def timeline(rows: list[Row], length: timedelta = timedelta(hours=1)) -> Timeline:
    resolved = next((r.offset for r in rows if r.action == "resolved"), None)
    return Timeline(
        title="ack at 7m",
        runbook="demo",
        severity="SEV1",
        service="checkout",
        start=START,
        zone="America/Chicago",
        length=length,
        rows=tuple(rows),
        totals=Totals(None, resolved, 2, 1, state="resolved" if resolved else "triggered"),
    )


MINUTE = timedelta(minutes=1)
ROWS = [
    row(timedelta(), None, "triggered", why="SEV1 on checkout, runbook demo"),
    row(timedelta(), 1, "paged", "Alice Martin", "first-line; schedule first-line (revision 1), layer daily"),
    row(timedelta(), 1, "paged", HOSTILE, "first-line"),
    row(5 * MINUTE, 1, "escalated", why="no acknowledgement from tier 1 (first-line) within 5 min"),
    row(5 * MINUTE, 2, "paged", "Bob Chen", "team-lead"),
    row(6 * MINUTE, 2, "sla_warning", why="acknowledge: 50% of 10 min gone"),
    row(7 * MINUTE, 2, "acknowledged", "Alice Martin", "simulated: acknowledge at 7m"),
    row(8 * MINUTE, 2, "snoozed", "Alice Martin", "for 30m"),
    row(40 * MINUTE, 2, "resolved", "Bob Chen", "simulated: resolve at 40m"),
]


def parse(drawing: str) -> ET.Element:
    return ET.fromstring(drawing)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def marks(root: ET.Element, action: str) -> list[ET.Element]:
    return [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == f"mark {action}"]


def test_the_picture_is_a_well_formed_svg_with_a_lane_per_tier_paged():
    root = parse(svg(timeline(ROWS)))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "900"
    labels = texts(root)
    assert "tier 1 first-line" in labels and "tier 2 team-lead" in labels
    assert "tier 3" not in " ".join(labels)  # never reached: no lane
    assert "targets" in labels and "other events" in labels
    heading = root.find("svg:title", NS)
    assert heading is not None and "Sun 2026-03-08 01:30 CST (America/Chicago)" in (heading.text or "")
    assert "legend" in labels and "acknowledged" in labels and "target breached" in labels


def test_each_page_is_one_mark_with_the_name_and_a_tooltip():
    root = parse(svg(timeline(ROWS)))
    pages = marks(root, "paged")
    assert len(pages) == 3
    tooltips = [page.findtext("svg:title", "", NS) for page in pages]
    assert tooltips[1] == (
        "+0s (Sun 2026-03-08 01:30:00 CST) paged Alice Martin: "
        "first-line; schedule first-line (revision 1), layer daily"
    )
    assert tooltips[0] == f"+0s (Sun 2026-03-08 01:30:00 CST) paged {HOSTILE}: first-line"
    assert tooltips[2].startswith("+5m (Sun 2026-03-08 01:35:00 CST) paged Bob Chen: team-lead")
    assert "Alice Martin" in texts(root) and "Bob Chen" in texts(root)
    acknowledged, resolved = marks(root, "acknowledged"), marks(root, "resolved")
    assert len(acknowledged) == 1 and len(resolved) == 1 and len(marks(root, "escalated")) == 1
    assert len(marks(root, "sla_warning")) == 1 and len(marks(root, "snoozed")) == 1
    lines = [line.get("class") for line in root.iter("{http://www.w3.org/2000/svg}line")]
    assert lines.count("acknowledged-line") == 1 and lines.count("resolved-line") == 1


def test_the_acknowledgement_is_drawn_in_the_lane_that_paged_its_author():
    root = parse(svg(timeline(ROWS)))
    alice = next(g for g in marks(root, "paged") if "Alice Martin" in g.findtext("svg:title", "", NS))
    first_page = alice.find("svg:circle", NS)
    diamond = marks(root, "acknowledged")[0].find("svg:polygon", NS)
    assert first_page is not None and diamond is not None
    centre = float(first_page.get("cy", "0"))
    ys = [float(point.split(",")[1]) for point in diamond.get("points", "").split()]
    assert min(ys) < centre < max(ys)  # tier 1's lane, where Alice was paged, not tier 2's


def test_names_from_user_data_come_out_escaped():
    drawing = svg(timeline(ROWS))
    assert HOSTILE not in drawing and "<script" not in drawing
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in drawing
    root = parse(drawing)
    assert HOSTILE in texts(root)  # shown as the text it is
    assert root.find(".//svg:script", NS) is None


def test_control_characters_cannot_break_the_document():
    rows = [row(timedelta(), 1, "paged", "Eve\x00\x1b Null", "first-line")]
    root = parse(svg(timeline(rows)))
    assert "Eve Null" in texts(root)


def test_the_same_timeline_gives_the_same_bytes():
    assert svg(timeline(ROWS)) == svg(timeline(list(ROWS)))
    assert "id=" not in svg(timeline(ROWS))


def test_two_pages_delivered_at_once_in_either_order_give_the_same_bytes():
    swapped = [ROWS[0], ROWS[2], ROWS[1], *ROWS[3:]]
    assert svg(timeline(swapped)) == svg(timeline(ROWS))


def test_ticks_suit_the_length_and_read_as_offsets():
    assert tick_step(timedelta(seconds=30)) == timedelta(seconds=5)
    assert tick_step(timedelta(hours=1)) == timedelta(minutes=10)
    assert tick_step(timedelta(days=30)) == timedelta(days=7)
    labels = texts(parse(svg(timeline(ROWS))))  # resolved at 40m: the axis ends there
    assert "+0s" in labels and "+10m" in labels and "+40m" in labels and "+50m" not in labels
    late = row(timedelta(days=20), 1, "paged", "Alice Martin", "first-line")
    month = texts(parse(svg(timeline([*ROWS[:3], late], length=timedelta(days=30)))))
    assert "+7d" in month and "+21d" in month


def test_a_quiet_tail_is_cut_and_said():
    rows = [*ROWS[:6], row(timedelta(hours=1), 2, "exhausted", "Bob Chen")]
    drawing = parse(svg(timeline(rows, length=timedelta(days=30))))
    labels = texts(drawing)
    assert "+1h" in labels and "+7d" not in labels  # the axis ends soon after the last row
    assert any(label.endswith("state at the end: triggered; nothing after +1h of 30d") for label in labels)


def test_tier_names_come_from_escalations_then_pages():
    names = tier_names(ROWS + [row(MINUTE, 3, "paged", "Carol Diaz", "management (SLA)")])
    assert names == {1: "first-line", 2: "team-lead", 3: "management (SLA)"}


def test_a_timeline_with_no_page_says_so():
    root = parse(svg(timeline([ROWS[0]])))
    assert "nobody was paged" in texts(root)
    assert not marks(root, "paged")
