"""What a runbook author relies on when simulating (``simulation/``): who is paged when,
what the script's actions do, wall times across DST, on-call schedules, a byte-identical
timeline, month-long runs across continue-as-new, a broken runbook, the JSON.

Everything runs on one simulator (one time-skipping server) for the module, on the seed
files (``runbooks/*.yaml``), never a database. Its registry is ``tests/simulation_runbooks.py``:
the shipped runbooks themselves, and one broken runbook.

Each test simulates its own stretch of the calendar, the latest first, so that each test
stays about its own case even if an incident stopped at a scenario's end left timers behind
that a later scenario tried to fire (``test_a_scenario_after_a_stopped_one_runs_its_whole_ladder``
checks that it does not). The month-long run comes last.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import simulation_runbooks

from runbooks.directory import load_directory
from runbooks.schedule_seed import load_schedules
from runbooks.sla_seed import load_policies
from schedules.oncall import next_change, oncall
from services.opening import prepare
from services.settings import RUNBOOKS_DIR
from simulation.engine import MARGIN, Scenario, Simulator
from simulation.script import Script, script_from
from simulation.timeline import Row, Timeline
from simulation.world import World
from workflows.models import IncidentPlan, IncidentRequest, Severity
from workflows.record import TIMELINE_KEPT
from workflows.targets import Goal

CHICAGO = ZoneInfo("America/Chicago")
WORLD = World(
    directory=load_directory(RUNBOOKS_DIR / "directory.yaml"),
    schedules=tuple(load_schedules(RUNBOOKS_DIR / "schedules.yaml")),
    policies=load_policies(RUNBOOKS_DIR / "sla.yaml"),
)
NAMES = {person.id: person.name for person in WORLD.directory.people}
SCHEDULES = {schedule.id: schedule for schedule in WORLD.schedules}
MONTH = timedelta(days=30)

# What the simulator's progress callback was told during the latest run: (offset, length).
progress: list[tuple[timedelta, timedelta]] = []


@pytest.fixture(scope="module")
async def sim() -> AsyncIterator[Simulator]:
    """One simulator for the whole module, reporting its progress into ``progress``."""
    report = lambda offset, length: progress.append((offset, length))  # noqa: E731
    async with Simulator(WORLD, module=simulation_runbooks.MODULE, progress=report) as simulator:
        yield simulator


def plan_of(runbook: str, severity: Severity = Severity.SEV2, service: str = "example") -> IncidentPlan:
    """The frozen plan the simulated incident runs (the runbook's, with the directory's people)."""
    request = IncidentRequest(title="Simulated incident", severity=severity, service=service, runbook=runbook)
    return prepare(request, simulation_runbooks.REGISTRY, WORLD.directory).plan


def script(*steps: dict) -> Script:
    return script_from({"name": "the test's script", "steps": list(steps)})


def rows(timeline: Timeline, action: str) -> list[Row]:
    return [row for row in timeline.rows if row.action == action]


def ladder_pages(timeline: Timeline, plan: IncidentPlan) -> list[tuple[timedelta, int, str]]:
    """(offset, tier, who) of every page the ladder made (an SLA breach's page left out)."""
    names = {tier.name for tier in plan.tiers}
    return sorted((r.offset, r.tier, r.who) for r in timeline.pages() if r.why.split(";")[0] in names)


def on_call(schedule: str, at: datetime) -> list[str]:
    return [NAMES[person] for person in oncall(SCHEDULES[schedule], at).people]


def targets(severity: Severity, policy: str = "default") -> dict[Goal, timedelta]:
    return {t.goal: t.within for t in WORLD.policies[policy].targets[severity]}


# -- determinism ------------------------------------------------------------------------------


async def test_the_same_scenario_gives_the_same_bytes(sim):
    scenario = Scenario(
        runbook="default", start=datetime(2027, 11, 8, 14, 0, tzinfo=CHICAGO), zone="America/Chicago"
    )
    runs = [await sim.run(scenario) for _ in range(5)]

    assert len({run.to_json() for run in runs}) == 1, "\n".join(
        " / ".join(row.who for row in run.pages(1)) for run in runs
    )
    assert len({run.table() for run in runs}) == 1


# -- the default runbook, nobody acknowledging ------------------------------------------------


async def test_nobody_acknowledging_walks_the_ladder_twice_to_exhaustion(sim):
    start = datetime(2027, 10, 12, 10, 0, tzinfo=CHICAGO)
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago"))
    plan = plan_of("default")
    ladder = sum((tier.ack_timeout for tier in plan.tiers), timedelta())
    rounds = plan.repeat + 1
    assert rounds == 2  # SEV2 goes round twice

    expected = []
    for round_ in range(rounds):
        offset = ladder * round_
        for tier in plan.tiers:
            if tier.schedules:
                [schedule] = tier.schedules
                people = on_call(schedule, start + offset)
            else:
                people = [person.name for person in tier.targets]
            expected += [(offset, tier.number, who) for who in people]
            offset += tier.ack_timeout
    assert ladder_pages(timeline, plan) == sorted(expected)

    [exhausted] = rows(timeline, "exhausted")
    assert exhausted.offset == ladder * rounds
    assert exhausted.who == ", ".join(person.name for person in plan.management)
    assert timeline.length == ladder * rounds + MARGIN
    assert timeline.rows[-1].offset <= timeline.length

    # The SLA policy's breaches within the run, each paging management once more.
    due = targets(Severity.SEV2)
    breaches = sorted(within for within in due.values() if within <= timeline.length)
    assert [row.offset for row in rows(timeline, "sla_breached")] == breaches
    sla_pages = [r for r in timeline.pages() if r.why == "management (SLA)"]
    assert [r.offset for r in sla_pages] == breaches

    pages = Counter(who for _, _, who in expected) + Counter(r.who for r in sla_pages)
    totals = timeline.totals
    assert totals.pages_per_person == dict(sorted(pages.items()))
    assert totals.tiers_reached == len(plan.tiers)
    assert totals.escalations == rounds * len(plan.tiers) - 1
    assert totals.time_to_acknowledge is None and totals.time_to_resolve is None
    assert totals.state == "triggered"


# -- a script: acknowledge, resolve -----------------------------------------------------------


async def test_an_acknowledgement_by_tier_one_stops_the_ladder_and_a_resolution_ends_it(sim):
    start = datetime(2027, 9, 14, 9, 0, tzinfo=UTC)
    steps = script({"at": "7m", "do": "acknowledge", "by": "tier 1"}, {"at": "40m", "do": "resolve"})
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))
    tier_one = [person.name for person in plan_of("default").tiers[0].targets]
    last_paged = tier_one[-1]  # "tier 1": the person tier 1 paged last

    [acknowledged] = rows(timeline, "acknowledged")
    assert (acknowledged.offset, acknowledged.tier, acknowledged.who) == (timedelta(minutes=7), 1, last_paged)
    [resolved] = rows(timeline, "resolved")
    assert (resolved.offset, resolved.who) == (timedelta(minutes=40), last_paged)
    assert sorted(timeline.paged(1)) == sorted(tier_one)
    assert timeline.paged(2) == [] and timeline.when("escalated") is None
    assert timeline.rows[-1].offset == timedelta(minutes=40)  # nothing after the resolution

    totals = timeline.totals
    assert totals.time_to_acknowledge == timedelta(minutes=7)
    assert totals.time_to_resolve == timedelta(minutes=40)
    assert totals.state == "resolved"
    assert totals.tiers_reached == 1 and totals.escalations == 0
    assert totals.pages_per_person == {name: 1 for name in sorted(tier_one)}


async def test_a_step_naming_an_unpaged_tier_is_skipped_and_a_refused_one_says_why(sim):
    start = datetime(2027, 8, 10, 9, 0, tzinfo=UTC)
    steps = script(
        {"at": "3m", "do": "acknowledge", "by": "tier 2"},
        {"at": "4m", "do": "acknowledge", "by": "alice"},
        {"at": "5m", "do": "acknowledge", "by": "dave"},
        {"at": "6m", "do": "resolve", "by": "alice"},
    )
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))

    skipped, refused = rows(timeline, "script")
    assert (skipped.offset, skipped.tier, skipped.who) == (timedelta(minutes=3), None, "tier 2")
    assert skipped.why == "acknowledge at 3m: skipped: nobody in tier 2 has been paged yet"
    assert (refused.offset, refused.who) == (timedelta(minutes=5), "dave")
    assert refused.why.startswith("acknowledge at 5m: refused: ")
    assert "already acknowledged by alice" in refused.why
    # The first acknowledgement stands.
    [acknowledged] = rows(timeline, "acknowledged")
    assert (acknowledged.offset, acknowledged.who) == (timedelta(minutes=4), NAMES["alice"])
    assert timeline.totals.time_to_acknowledge == timedelta(minutes=4)
    assert timeline.totals.state == "resolved"


async def test_a_step_after_the_resolution_is_shown_refused(sim):
    start = datetime(2027, 7, 13, 9, 0, tzinfo=UTC)
    steps = script(
        {"at": "5m", "do": "resolve", "by": "dave"},
        {"at": "6m", "do": "acknowledge", "by": "alice"},
    )
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))

    assert timeline.totals.state == "resolved"
    assert timeline.totals.time_to_resolve == timedelta(minutes=5)
    assert timeline.when("acknowledged") is None
    script_rows = [(r.offset, r.who, r.why.split(": ")[:2]) for r in rows(timeline, "script")]
    assert script_rows == [(timedelta(minutes=6), "alice", ["acknowledge at 6m", "refused"])]


# -- severity, repeat, snooze -----------------------------------------------------------------


async def test_a_severity_step_is_on_the_timeline_and_tightens_the_targets(sim):
    start = datetime(2027, 6, 8, 9, 0, tzinfo=UTC)
    steps = script(
        {"at": "2m", "do": "severity", "severity": "SEV1", "by": "tier 1"},
        {"at": "20m", "do": "resolve"},
    )
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))
    last_paged = plan_of("default").tiers[0].targets[-1].name

    [changed] = rows(timeline, "severity_changed")
    assert (changed.offset, changed.who) == (timedelta(minutes=2), last_paged)
    assert changed.why == "SEV2 -> SEV1: simulated: severity to SEV1 at 2m"
    # SEV1's acknowledgement target, counted from the start, now applies.
    [breached] = rows(timeline, "sla_breached")
    assert breached.offset == targets(Severity.SEV1)[Goal.ACKNOWLEDGE]
    assert breached.offset < targets(Severity.SEV2)[Goal.ACKNOWLEDGE]
    assert timeline.totals.state == "resolved"


async def test_a_repeat_step_is_counted_on_the_timeline(sim):
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    steps = script({"at": "3m", "do": "repeat"}, {"at": "4m", "do": "resolve"})
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))

    assert rows(timeline, "script") == []
    assert [(r.offset, r.why) for r in rows(timeline, "repeated")] == [
        (timedelta(minutes=3), "alert repeated (1 so far)")
    ]


async def test_a_snoozed_incident_is_paged_again_when_the_snooze_ends(sim):
    start = datetime(2027, 5, 25, 9, 0, tzinfo=UTC)
    steps = script(
        {"at": "5m", "do": "acknowledge", "by": "tier 1"},
        {"at": "6m", "do": "snooze", "for": "30m"},
        {"at": "40m", "do": "resolve"},
    )
    timeline = await sim.run(Scenario(runbook="default", start=start, script=steps))
    last_paged = plan_of("default").tiers[0].targets[-1].name

    [snoozed] = rows(timeline, "snoozed")
    assert (snoozed.offset, snoozed.tier, snoozed.who) == (timedelta(minutes=6), 1, last_paged)
    [retriggered] = rows(timeline, "retriggered")
    assert retriggered.offset == timedelta(minutes=36)
    assert retriggered.why == f"the snooze is over: paging {last_paged} again"
    assert [(r.offset, r.tier, r.who) for r in timeline.pages() if r.offset > timedelta()] == [
        (timedelta(minutes=36), 1, last_paged)
    ]
    assert rows(timeline, "script") == []
    assert timeline.totals.time_to_acknowledge == timedelta(minutes=5)
    assert timeline.totals.pages_per_person[last_paged] == 2


async def test_a_snooze_row_says_when_it_ends(sim):
    start = datetime(2027, 5, 18, 10, 0, tzinfo=CHICAGO)  # 15:00 UTC
    steps = script(
        {"at": "5m", "do": "acknowledge", "by": "tier 1"},
        {"at": "6m", "do": "snooze", "for": "30m"},
        {"at": "10m", "do": "resolve"},
    )
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago", script=steps))

    [snoozed] = rows(timeline, "snoozed")
    ends = (start + timedelta(minutes=36)).astimezone(UTC)
    assert snoozed.why == f"until {ends:%Y-%m-%d %H:%M:%S} UTC: simulated: snooze for 30m at 6m"
    assert ends.strftime("%H:%M") == "15:36"


# -- on-call schedules ------------------------------------------------------------------------


async def test_a_schedule_tier_pages_whoever_is_on_call_and_says_which_layer(sim):
    start = datetime(2027, 5, 4, 8, 0, tzinfo=UTC)
    timeline = await sim.run(Scenario(runbook="demo", start=start, zone="Europe/Paris"))
    first_line = SCHEDULES["first-line"]
    answer = oncall(first_line, start)

    [page] = timeline.pages(1)
    assert page.offset == timedelta()
    assert page.who == NAMES[answer.people[0]] == NAMES["alice"]
    assert (
        page.why == f"first-line; schedule first-line (revision {first_line.revision}), layer {answer.layer}"
    )
    assert answer.layer == first_line.layers[0].name
    [asked] = [r for r in rows(timeline, "oncall") if r.offset == timedelta()]
    assert asked.why.startswith(f"schedule first-line (revision {first_line.revision}): Alice Martin; layer ")


async def test_a_start_just_before_a_hand_off_pages_the_incoming_person(sim):
    platform = SCHEDULES["platform"]
    handoff = next_change(platform, datetime(2027, 4, 10, tzinfo=UTC))
    assert handoff is not None
    plan = plan_of("default")
    [specialists] = [tier for tier in plan.tiers if tier.schedules == ["platform"]]
    pages_at = sum((tier.ack_timeout for tier in plan.tiers[: specialists.number - 1]), timedelta())
    outgoing, incoming = on_call("platform", handoff - timedelta(seconds=1)), on_call("platform", handoff)
    assert outgoing != incoming

    start = handoff - timedelta(minutes=10)  # the specialists are paged after the hand-off
    timeline = await sim.run(Scenario(runbook="default", start=start, length=pages_at + timedelta(minutes=1)))

    assert [(r.offset, r.who) for r in timeline.pages(specialists.number)] == [
        (pages_at, who) for who in incoming
    ]
    [page] = timeline.pages(specialists.number)
    assert page.why == f"specialists; schedule platform (revision {platform.revision}), layer weekly"


async def test_a_hand_off_during_a_tier_pages_the_incoming_person_at_the_hand_off(sim):
    platform = SCHEDULES["platform"]
    handoff = next_change(platform, datetime(2027, 4, 1, tzinfo=UTC))
    assert handoff is not None
    plan = plan_of("default")
    [specialists] = [tier for tier in plan.tiers if tier.schedules == ["platform"]]
    pages_at = sum((tier.ack_timeout for tier in plan.tiers[: specialists.number - 1]), timedelta())
    outgoing, incoming = on_call("platform", handoff - timedelta(seconds=1)), on_call("platform", handoff)

    start = handoff - pages_at - timedelta(minutes=5)  # paged 5 minutes before the hand-off
    length = pages_at + timedelta(minutes=10)
    timeline = await sim.run(Scenario(runbook="default", start=start, length=length))

    assert [(r.offset, r.who) for r in timeline.pages(specialists.number)] == [
        *((pages_at, who) for who in outgoing),
        *((pages_at + timedelta(minutes=5), who) for who in incoming),
    ]
    assert timeline.when("handoff") == pages_at + timedelta(minutes=5)


# -- a broken runbook -------------------------------------------------------------------------


def line_of(runbook: type, text: str) -> int:
    lines, first = inspect.getsourcelines(runbook.run)
    return first + next(i for i, line in enumerate(lines) if text in line)


async def test_a_runbook_that_raises_is_shown_failing_and_still_pages(sim):
    start = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)
    timeline = await sim.run(Scenario(runbook="broken", start=start))
    line = line_of(simulation_runbooks.BrokenRunbook, 'esc.tier("bakcup")')

    [failed] = rows(timeline, "runbook_failed")
    assert failed.offset == simulation_runbooks.FIVE_MINUTES
    assert failed.why == (
        f"KeyError: \"runbook 'broken' has no tier named 'bakcup'\" (at simulation_runbooks.py:{line})"
    )
    # The frozen plan is walked plainly from there: the backup is paged all the same.
    assert [(r.offset, r.tier, r.who) for r in timeline.pages()] == [
        (timedelta(), 1, NAMES["alice"]),
        (timedelta(minutes=5), 1, NAMES["alice"]),
        (timedelta(minutes=10), 2, NAMES["bob"]),
    ]
    assert timeline.when("exhausted") == timedelta(minutes=15)
    assert timeline.totals.tiers_reached == 2


# -- JSON and table ---------------------------------------------------------------------------


async def test_the_json_has_the_scenario_rows_and_totals_with_spoken_offsets(sim):
    start = datetime(2027, 2, 9, 9, 0, tzinfo=CHICAGO)
    steps = script({"at": "7m", "do": "acknowledge", "by": "tier 1"}, {"at": "40m", "do": "resolve"})
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago", script=steps))
    data = json.loads(timeline.to_json())
    last_paged = plan_of("default").tiers[0].targets[-1].name

    assert timeline.to_json().endswith("}\n")
    assert list(data) == ["scenario", "rows", "totals"]
    assert data["scenario"] == {
        "title": "the test's script",
        "runbook": "default",
        "severity": "SEV2",
        "service": "example",
        "start": "2027-02-09T09:00:00-06:00",
        "zone": "America/Chicago",
        "length": "3h30m",
    }
    [acknowledged] = [row for row in data["rows"] if row["action"] == "acknowledged"]
    assert acknowledged == {
        "offset": "7m",
        "offset_seconds": 420,
        "at": "2027-02-09T09:07:00-06:00",
        "tier": 1,
        "action": "acknowledged",
        "who": last_paged,
        "why": "simulated: acknowledge at 7m",
    }
    assert all(
        row["offset_seconds"] == int(r.offset.total_seconds())
        for row, r in zip(data["rows"], timeline.rows, strict=True)
    )
    assert data["totals"]["time_to_acknowledge"] == "7m"
    assert data["totals"]["time_to_resolve"] == "40m"
    assert data["totals"]["state"] == "resolved"
    assert data["totals"]["tiers_reached"] == 1
    assert data["totals"]["pages_per_person"] == timeline.totals.pages_per_person

    table = timeline.table()
    assert "offset  time (America/Chicago)" in table
    assert "+7m     Tue 2027-02-09 09:07:00 CST  1     acknowledged" in table
    assert "time to acknowledge: 7m\ntime to resolve: 40m\n" in table


# -- DST nights ------------------------------------------------------------------------------


def exactly(start: datetime, offset: timedelta) -> datetime:
    """The instant ``offset`` after ``start`` (Python adds to an aware time on its wall clock)."""
    return (start.astimezone(UTC) + offset).astimezone(start.tzinfo)


async def test_a_dst_night_shows_the_wall_clock_jump_with_exact_offsets(sim):
    start = datetime(2026, 3, 8, 1, 30, tzinfo=CHICAGO)  # 01:30 CST; at 02:00 clocks go to 03:00 CDT
    steps = script({"at": "7m", "do": "acknowledge", "by": "tier 1"}, {"at": "40m", "do": "resolve"})
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago", script=steps))

    [acknowledged] = rows(timeline, "acknowledged")
    assert acknowledged.at.strftime("%H:%M %Z") == "01:37 CST"
    [resolved] = rows(timeline, "resolved")
    assert resolved.offset == timedelta(minutes=40)
    assert resolved.at.strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 03:10 CDT"
    assert timeline.totals.time_to_resolve == timedelta(minutes=40)
    for row in timeline.rows:
        assert row.at == exactly(start, row.offset)
        assert row.at.tzinfo == CHICAGO
    assert "+40m    Sun 2026-03-08 03:10:00 CDT" in timeline.table()


@pytest.mark.parametrize(
    ("start", "wall"),
    [
        pytest.param(
            datetime(2026, 3, 8, 1, 0, tzinfo=CHICAGO), "04:00 CDT", id="spring-forward"
        ),  # 01:00 CST
        # 00:30 CDT; at 02:00 CDT clocks go back to 01:00 CST
        pytest.param(datetime(2025, 11, 2, 0, 30, tzinfo=CHICAGO), "01:30 CST", id="fall-back"),
    ],
)
async def test_a_step_after_a_dst_change_happens_at_its_offset(sim, start, wall):
    steps = script({"at": "7m", "do": "acknowledge", "by": "tier 1"}, {"at": "2h", "do": "resolve"})
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago", script=steps))

    [resolved] = rows(timeline, "resolved")
    assert (resolved.offset, resolved.at.strftime("%H:%M %Z")) == (timedelta(hours=2), wall)
    assert timeline.totals.time_to_resolve == timedelta(hours=2)


async def test_a_ladder_across_the_dst_change_keeps_its_timeouts(sim):
    start = datetime(2026, 3, 8, 1, 30, tzinfo=CHICAGO)
    plan = plan_of("default")
    timeline = await sim.run(Scenario(runbook="default", start=start, zone="America/Chicago", length=MARGIN))

    offset, expected = timedelta(), []
    for tier in plan.tiers:
        expected.append((offset, tier.number, exactly(start, offset).strftime("%H:%M %Z")))
        offset += tier.ack_timeout
    first_pages = {}
    for row in timeline.pages():
        if row.why.split(";")[0] in {t.name for t in plan.tiers}:
            first_pages.setdefault(row.tier, (row.offset, row.tier, row.at.strftime("%H:%M %Z")))
    assert sorted(first_pages.values()) == expected
    assert [wall for _, _, wall in expected] == ["01:30 CST", "01:40 CST", "01:55 CST", "03:15 CDT"]


# -- back to back -----------------------------------------------------------------------------


async def test_a_scenario_after_a_stopped_one_runs_its_whole_ladder(sim):
    """A scenario stopped at its end (nobody resolved it) leaves nothing behind that holds
    up the next one, here the same incident simulated for longer."""
    start = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    short = await sim.run(Scenario(runbook="default", start=start, length=timedelta(minutes=50)))
    assert short.rows[-1].offset <= timedelta(minutes=50)

    whole = await sim.run(Scenario(runbook="default", start=start))
    plan = plan_of("default")
    ladder = sum((tier.ack_timeout for tier in plan.tiers), timedelta())
    assert whole.when("exhausted") == ladder * (plan.repeat + 1)
    early = [page for page in ladder_pages(whole, plan) if page[0] <= timedelta(minutes=50)]
    assert early == ladder_pages(short, plan)


# -- a month-long run (slow) ---------------------------------------------------------------


@pytest.fixture(scope="module")
async def month(sim: Simulator) -> tuple[Timeline, list[tuple[timedelta, timedelta]], str]:
    """security-breach for 30 days with nobody acting: its timeline, the progress reported
    during the run, and the incident's id."""
    progress.clear()
    start = datetime(2024, 1, 8, 8, 0, tzinfo=UTC)
    timeline = await sim.run(Scenario(runbook="security-breach", start=start, length=MONTH))
    incident_id = sim.recorder.emails[-1].about
    return timeline, list(progress), incident_id


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_month_long_run_sends_every_stakeholder_update_in_order(month):
    timeline, _, _ = month
    interval = plan_of("security-breach").stakeholder_interval
    assert interval == timedelta(minutes=30)

    updates = rows(timeline, "stakeholder_update")
    # One every interval from the start, the one due exactly at the end included.
    assert [row.offset for row in updates] == [interval * k for k in range(1, MONTH // interval + 1)]
    assert len(updates) == 1440
    stakeholders = ", ".join(NAMES[p] for p in ("carol", "grace"))
    assert {row.who for row in updates} == {stakeholders}
    offsets = [row.offset for row in timeline.rows]
    assert offsets == sorted(offsets)
    assert offsets[-1] <= MONTH
    assert all(row.at == timeline.start + row.offset for row in timeline.rows)
    assert timeline.totals.state == "triggered" and timeline.totals.time_to_acknowledge is None


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_month_long_run_reports_its_progress_in_order(month):
    _, reported, _ = month
    offsets = [offset for offset, _ in reported]

    assert reported, "no progress reported during a 30-day run"
    assert offsets == sorted(offsets)
    assert offsets[0] > timedelta() and offsets[-1] == MONTH
    assert {length for _, length in reported} == {MONTH}


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_month_long_run_keeps_one_timeline_across_continue_as_new(month, sim):
    timeline, _, incident_id = month
    archived = sim.recorder.archive(incident_id)

    # The run continued as new and moved its earlier entries to the archive...
    assert archived, "a 30-day incident never continued as new"
    assert len(rows(timeline, "stakeholder_update")) > TIMELINE_KEPT
    # ...and the timeline starts with them: the opening and its first pages.
    assert timeline.rows[0].action == "triggered" and timeline.rows[0].offset == timedelta()
    first_pages = {(r.tier, r.who) for r in timeline.pages() if r.offset == timedelta()}
    assert first_pages == {(1, NAMES["heidi"]), (1, NAMES["ivan"]), (2, NAMES["judy"])}
    assert timeline.when("paged", who=NAMES["ciso"]) == timedelta(minutes=5)
    # No entry twice where the archive meets the state.
    updates = [row.offset for row in rows(timeline, "stakeholder_update")]
    assert len(updates) == len(set(updates))
