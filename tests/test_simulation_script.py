"""Scripts of human actions for a simulation (``simulation/script.py``): durations as an
author writes them, the steps a script accepts, and the reasons it gives for one it refuses."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from simulation.script import (
    MAX_OFFSET,
    Do,
    Script,
    ScriptError,
    Step,
    load_script,
    parse_duration,
    script_from,
    spoken,
)
from workflows.models import Severity

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("7m", 7 * MINUTE),
        ("1h30m", HOUR + 30 * MINUTE),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1.5h", 90 * MINUTE),
        ("0s", timedelta()),
        (" 1h 30m ", 90 * MINUTE),
        ("2H", 2 * HOUR),
        (90, 90 * timedelta(seconds=1)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(minutes=3), 3 * MINUTE),
    ],
)
def test_durations_read_as_an_author_writes_them(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "1h30", "-5m", "m", "7 minutes", "1w", "soon", True, None])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration: write e.g. 45s, 7m, 1h30m or 2d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(), "0s"),
        (timedelta(seconds=45), "45s"),
        (7 * MINUTE, "7m"),
        (90 * MINUTE, "1h30m"),
        (timedelta(days=30), "30d"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1d2h3m4s"),
        (timedelta(seconds=-300), "-5m"),
        (timedelta(seconds=1.9), "1s"),
    ],
)
def test_durations_are_written_back_the_shortest_way(delta, expected):
    assert spoken(delta) == expected


@pytest.mark.parametrize("text", ["45s", "7m", "1h30m", "2d", "1d2h3m4s", "0s"])
def test_a_written_duration_reads_back_the_same(text):
    assert spoken(parse_duration(text)) == text


def test_a_script_reads_every_kind_of_step():
    script = script_from(
        {
            "name": "acknowledged by tier 1, resolved later",
            "steps": [
                {"at": "7m", "do": "acknowledge", "by": "tier 1"},
                {"at": "20m", "do": "severity", "severity": "SEV1"},
                {"at": "25m", "do": "repeat"},
                {"at": "30m", "do": "snooze", "for": "1h"},
                {"at": "35m", "do": "escalate", "by": "paged"},
                {"at": "36m", "do": "note", "text": "vendor called back"},
                {"at": "2h", "do": "resolve", "by": "alice"},
            ],
        }
    )

    assert script.name == "acknowledged by tier 1, resolved later"
    assert [(s.at, s.do, s.by) for s in script.steps] == [
        (7 * MINUTE, Do.ACKNOWLEDGE, "tier 1"),
        (20 * MINUTE, Do.SEVERITY, None),
        (25 * MINUTE, Do.REPEAT, None),
        (30 * MINUTE, Do.SNOOZE, None),
        (35 * MINUTE, Do.ESCALATE, "paged"),
        (36 * MINUTE, Do.NOTE, None),
        (2 * HOUR, Do.RESOLVE, "alice"),
    ]
    assert script.steps[1].severity is Severity.SEV1
    assert script.steps[3].length == HOUR
    assert script.steps[5].text == "vendor called back"
    assert script.end == 2 * HOUR
    assert script.resolves


def test_steps_run_in_the_order_of_their_offsets_ties_as_written():
    script = script_from(
        {
            "steps": [
                {"at": "40m", "do": "resolve"},
                {"at": "7m", "do": "note", "text": "first"},
                {"at": "1h", "do": "note", "text": "never mind the order"},
                {"at": "7m", "do": "acknowledge"},
            ]
        }
    )

    assert [(s.at, s.do) for s in script.steps] == [
        (7 * MINUTE, Do.NOTE),
        (7 * MINUTE, Do.ACKNOWLEDGE),
        (40 * MINUTE, Do.RESOLVE),
        (HOUR, Do.NOTE),
    ]
    assert script.end == HOUR


def test_no_script_is_nobody_acknowledging():
    for empty in (None, {}):
        script = script_from(empty)
        assert script == Script()
        assert script.name == "nobody acknowledges"
        assert script.steps == ()
        assert script.end == timedelta()
        assert not script.resolves


def test_a_script_without_a_resolution_says_so():
    script = script_from({"steps": [{"at": "7m", "do": "acknowledge"}]})

    assert not script.resolves
    assert script.end == 7 * MINUTE


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"at": "7m", "do": "acknowledge"}, "acknowledge at 7m"),
        ({"at": "1h30m", "do": "resolve", "by": "alice"}, "resolve at 1h30m"),
        ({"at": "20m", "do": "severity", "severity": "SEV1"}, "severity to SEV1 at 20m"),
        ({"at": "30m", "do": "snooze", "for": "1h"}, "snooze for 1h at 30m"),
        ({"at": "0s", "do": "repeat"}, "repeat at 0s"),
    ],
)
def test_a_step_says_what_it_does_and_when(step, expected):
    assert str(Step.model_validate(step)) == expected


def test_a_step_may_come_at_the_start_and_as_late_as_the_limit():
    assert Step.model_validate({"at": "0s", "do": "note"}).at == timedelta()
    assert Step.model_validate({"at": "366d", "do": "note"}).at == MAX_OFFSET == timedelta(days=366)


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        (
            [{"at": "7x", "do": "acknowledge"}],
            "steps.0.at: '7x' is not a duration: write e.g. 45s, 7m, 1h30m or 2d",
        ),
        ([{"do": "acknowledge"}], "steps.0.at: Field required"),
        (
            [{"at": "367d", "do": "note"}],
            "steps.0: at 367d: a step comes between 0s and 366d after the start",
        ),
        ([{"at": "7m", "do": "severity"}], "steps.0: a severity step needs severity: SEV1..SEV4"),
        ([{"at": "7m", "do": "snooze"}], "steps.0: a snooze step needs for: its length, e.g. 30m"),
        (
            [{"at": "7m", "do": "snooze", "for": "0s"}],
            "steps.0: a snooze step needs for: its length, e.g. 30m",
        ),
        (
            [{"at": "7m", "do": "note"}, {"at": "8m", "do": "dance"}],
            "steps.1.do: Input should be 'acknowledge'",
        ),
        ([{"at": "7m", "do": "note", "colour": "red"}], "steps.0.colour: Extra inputs are not permitted"),
        ([{"at": "7m", "do": "severity", "severity": "SEV9"}], "steps.0.severity: Input should be 'SEV1'"),
    ],
)
def test_a_bad_step_is_refused_with_where_and_why(steps, reason):
    with pytest.raises(ScriptError) as refused:
        script_from({"steps": steps}, "night.yaml")

    assert str(refused.value).startswith(f"night.yaml: {reason}")


def test_a_script_that_is_not_a_mapping_or_has_unknown_fields_is_refused():
    with pytest.raises(ScriptError, match=r"^script: stepz: Extra inputs are not permitted"):
        script_from({"stepz": []})
    with pytest.raises(ScriptError, match=r"^script: script: Input should be a valid dictionary"):
        script_from(["acknowledge at 7m"])


def test_every_reason_of_a_bad_script_is_given_at_once():
    with pytest.raises(ScriptError) as refused:
        script_from({"steps": [{"at": "soon", "do": "acknowledge"}, {"at": "7m", "do": "snooze"}]})

    assert str(refused.value) == (
        "script: steps.0.at: 'soon' is not a duration: write e.g. 45s, 7m, 1h30m or 2d; "
        "steps.1: a snooze step needs for: its length, e.g. 30m"
    )


def test_a_script_file_is_read_from_yaml(tmp_path: Path):
    path = tmp_path / "night.yaml"
    path.write_text(
        "name: acknowledged by tier 1, resolved later\n"
        "steps:\n"
        "  - {at: 7m, do: acknowledge, by: tier 1}   # whoever tier 1 paged last\n"
        "  - {at: 30m, do: snooze, for: 1h}\n"
        "  - {at: 2h, do: resolve, by: alice}\n",
        encoding="utf-8",
    )

    script = load_script(path)

    assert script.name == "acknowledged by tier 1, resolved later"
    assert [str(step) for step in script.steps] == [
        "acknowledge at 7m",
        "snooze for 1h at 30m",
        "resolve at 2h",
    ]
    assert script.steps[0].by == "tier 1" and script.steps[2].by == "alice"


def test_an_empty_script_file_is_nobody_acknowledging(tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")

    assert load_script(path) == Script()


def test_a_script_file_that_cannot_be_read_is_refused_naming_it(tmp_path: Path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScriptError, match=rf"^{re.escape(str(missing))}: "):
        load_script(missing)

    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [ {at: 7m, do: acknowledge\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=rf"^{re.escape(str(broken))}: "):
        load_script(broken)

    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - {at: 7m, do: snooze}\n", encoding="utf-8")
    with pytest.raises(ScriptError) as refused:
        load_script(bad)
    assert str(refused.value) == f"{bad}: steps.0: a snooze step needs for: its length, e.g. 30m"


def test_a_step_cannot_be_changed_once_read():
    step = Step.model_validate({"at": "7m", "do": "acknowledge"})

    with pytest.raises(ValueError, match="frozen"):
        step.at = timedelta()  # type: ignore[misc]
