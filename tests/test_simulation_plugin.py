"""The ``simulate`` fixture runbook authors write their tests with (``simulation/pytest_plugin.py``):
the same call in sync and async tests, scripts in every form it takes, an author's own
registry, bad input, and the plugin found through its entry point with no conftest.

The truth about the demo runbook (``runbooks/demo.py``): tier 1 pages whoever the
``first-line`` schedule has on call (``runbooks/schedules.yaml``: Alice Martin, the only
participant), tier 2 pages Bob Chen 10 s later, tier 3 Carol Diaz 10 s after that.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulation.engine import SimulationError
from simulation.pytest_plugin import DEFAULT_START
from simulation.script import ScriptError
from simulation.suite import START

pytest_plugins = ["pytester"]

TEN_SECONDS = timedelta(seconds=10)


def test_the_demo_pages_alice_then_bob_ten_seconds_later(simulate):
    timeline = simulate("demo")

    assert timeline.paged(1) == ["Alice Martin"]
    assert timeline.when("paged", tier=1) == timedelta()
    assert timeline.paged(2) == ["Bob Chen"]
    assert timeline.when("paged", tier=2) == TEN_SECONDS
    assert timeline.when("paged", who="Carol Diaz", tier=3) == 2 * TEN_SECONDS
    assert timeline.start == DEFAULT_START == START  # a fixed instant, never now


async def test_an_async_test_calls_it_the_same_way(simulate):
    timeline = simulate("demo", start="2026-03-08T01:30", zone="America/Chicago")

    assert timeline.paged(1) == ["Alice Martin"]
    assert timeline.when("paged", tier=2) == TEN_SECONDS
    assert timeline.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # naive: read in the zone
    assert timeline.zone == "America/Chicago"


def test_a_script_as_a_list_of_steps_acknowledges_at_seven_minutes(simulate):
    timeline = simulate("default", [{"at": "7m", "do": "acknowledge", "by": "tier 1"}])

    assert timeline.totals.time_to_acknowledge == timedelta(minutes=7)
    assert timeline.totals.state == "acknowledged"
    assert timeline.when("acknowledged") == timedelta(minutes=7)


def test_a_script_file_and_a_length(simulate, tmp_path: Path):
    path = tmp_path / "script.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: acknowledged, then resolved
            steps:
              - {at: 15s, do: acknowledge, by: tier 2}
              - {at: 40s, do: resolve}
            """
        ),
        encoding="utf-8",
    )
    timeline = simulate("demo", str(path), severity="SEV1", length="5m")

    assert timeline.title == "acknowledged, then resolved"
    assert timeline.severity == "SEV1"
    assert timeline.when("acknowledged", who="Bob Chen") == timedelta(seconds=15)
    assert timeline.totals.time_to_resolve == timedelta(seconds=40)
    assert timeline.totals.tiers_reached == 2
    assert simulate("demo", path, severity="SEV1", length="5m") == timeline  # a Path too


def test_a_script_as_a_dict(simulate):
    script = {"name": "resolved at once", "steps": [{"at": "5s", "do": "resolve", "by": "tier 1"}]}
    timeline = simulate("demo", script)

    assert timeline.title == "resolved at once"
    assert timeline.totals.time_to_resolve == timedelta(seconds=5)
    assert timeline.paged(2) == []


class TestAnAuthorsOwnRegistry:
    @pytest.fixture
    def simulation_module(self) -> str:
        return "tests.simulation_runbooks"

    def test_a_broken_runbook_shows_its_failure(self, simulate):
        timeline = simulate("broken")

        [failed] = [row for row in timeline.rows if row.action == "runbook_failed"]
        assert failed.offset == timedelta(minutes=5)
        assert "no tier named 'bakcup'" in failed.why
        assert timeline.paged(2) == ["Bob Chen"]

    def test_an_unknown_runbook_names_those_there_are(self, simulate):
        with pytest.raises(SimulationError, match=r"no runbook 'brokn'.*\(it has: broken, default, demo"):
            simulate("brokn")


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ([{"at": "7 minutes", "do": "acknowledge"}], r"script: steps\.0\.at: '7 minutes' is not a duration"),
        ([{"at": "7m", "do": "dance"}], r"script: steps\.0\.do: Input should be 'acknowledge'"),
        ({"steps": [{"at": "1m", "do": "snooze"}]}, r"a snooze step needs for: its length"),
        ("no/such/script.yaml", r"script: no file 'no/such/script.yaml'"),
        (42, r"script: a Script, a list of steps, a dict or a YAML path, not int"),
    ],
)
def test_a_bad_script_is_a_script_error_that_says_why(simulate, script, message):
    with pytest.raises(ScriptError, match=message):
        simulate("demo", script)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "yesterday"}, r"start: an ISO date and time"),
        ({"zone": "Mars/Olympus"}, r"zone: an IANA time zone"),
        ({"severity": "SEV9"}, r"severity: one of SEV1, SEV2, SEV3, SEV4, not 'SEV9'"),
        ({"length": "forever"}, r"length: 'forever' is not a duration"),
        ({"length": "0s"}, r"length: more than 0s"),
        ({"title": ""}, r"title"),
    ],
)
def test_other_bad_input_is_a_simulation_error(simulate, options, message):
    with pytest.raises(SimulationError, match=message):
        simulate("demo", **options)


AUTHOR_TEST = """
from datetime import timedelta


def test_tier_two_after_ten_seconds(simulate):
    timeline = simulate("demo")
    assert timeline.paged(1) == ["Alice Martin"]
    assert timeline.when("paged", tier=2) == timedelta(seconds=10)


async def test_from_a_running_loop(simulate):
    assert simulate("demo", [{"at": "3s", "do": "acknowledge"}]).totals.time_to_acknowledge == timedelta(
        seconds=3
    )
"""


def test_the_plugin_comes_with_the_installed_project_no_conftest_needed(pytester):
    pytester.makepyfile(test_author=AUTHOR_TEST)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["plugins: *escalation-runbooks-*"])  # loaded as an installed plugin
    assert not list(pytester.path.glob("conftest.py"))
