"""``escalate simulate`` and ``escalate verify`` as an author runs them: a process, its
output and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ESCALATE = Path(sys.executable).parent / "escalate"
DST_NIGHT = ["--start", "2026-03-08T01:30", "--tz", "America/Chicago"]


def escalate(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``escalate`` in ``cwd`` with an empty data folder: the seed files answer."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"PYTHONPATH": str(cwd), "DATA_DIR": str(cwd / ".simulate-cli-test-data")}
    return subprocess.run(
        [str(ESCALATE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_simulate_prints_the_same_json_twice_and_draws_the_picture(tmp_path: Path):
    picture = tmp_path / "demo.svg"
    first = escalate("simulate", "demo", *DST_NIGHT, "--format", "json", "--picture", str(picture))
    second = escalate("simulate", "demo", *DST_NIGHT, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout  # byte for byte
    timeline = json.loads(first.stdout)
    pages = [(r["offset"], r["tier"], r["who"]) for r in timeline["rows"] if r["action"] == "paged"]
    assert pages == [("0s", 1, "Alice Martin"), ("10s", 2, "Bob Chen"), ("20s", 3, "Carol Diaz")]
    assert timeline["rows"][0]["at"] == "2026-03-08T01:30:00-06:00"
    drawing = ET.fromstring(picture.read_text())
    assert drawing.tag.endswith("svg")
    assert "Carol Diaz" in picture.read_text()


def test_simulate_runs_a_script_and_shows_the_totals(tmp_path: Path):
    script = tmp_path / "script.yaml"
    script.write_text("name: bob takes it\nsteps:\n  - {at: 15s, do: acknowledge, by: tier 2}\n")
    done = escalate("simulate", "demo", *DST_NIGHT, "--script", str(script))
    assert done.returncode == 0, done.stderr
    assert "bob takes it: runbook demo" in done.stdout
    assert "time to acknowledge: 15s" in done.stdout
    assert "tiers reached: 2" in done.stdout
    assert "Carol Diaz" not in done.stdout.split("state at the end")[0]


def test_a_long_simulation_shows_its_progress():
    done = escalate("simulate", "demo", *DST_NIGHT, "--until", "3d")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("simulated ")]
    assert progress and progress[-1].endswith("of 3d")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--tz", "Mars/Olympus"], "'Mars/Olympus' is not a time zone"),
        (["--start", "yesterday"], "'yesterday' is not a date and time"),
        (["--until", "soon"], "'soon' is not a duration"),
        (["--script", "/no/such/script.yaml"], "/no/such/script.yaml"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_2(args: list[str], said: str):
    done = escalate("simulate", "demo", *args)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_runbook_is_named(tmp_path: Path):
    done = escalate("simulate", "no-such-runbook")
    assert done.returncode == 2
    assert "cannot simulate 'no-such-runbook'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_script_names_the_step(tmp_path: Path):
    script = tmp_path / "bad.yaml"
    script.write_text("steps:\n  - {at: 5m, do: dance}\n")
    done = escalate("simulate", "demo", "--script", str(script))
    assert done.returncode == 2
    assert "steps.0.do" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A copy of the repository as committed, to change as an author would."""
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    return target


@pytest.mark.slow
def test_verify_shows_a_changed_timeout_and_fails_only_when_strict(clone: Path):
    demo = clone / "runbooks" / "demo.py"
    text = demo.read_text()
    assert 'TierSpec("team-lead", ("person:bob",), TEN_SECONDS)' in text
    demo.write_text(text.replace('("person:bob",), TEN_SECONDS', '("person:bob",), timedelta(seconds=25)'))

    done = escalate("verify", "--base", "HEAD", cwd=clone)
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(list((clone / "tests" / "histories").glob("*.json")))
    assert f"histories: {count} of {count} replay" in done.stdout
    assert "tier 3 paged Carol Diaz now at +35s instead of +20s" in done.stdout
    assert done.stdout.rstrip().endswith("ok")

    strict = escalate("verify", "--base", "HEAD", "--strict", "--no-base", cwd=clone)
    assert strict.returncode == 0  # nothing to compare: nothing to be strict about
    strict = escalate("verify", "--base", "HEAD", "--strict", cwd=clone)
    assert strict.returncode == 1
    assert strict.stdout.rstrip().endswith("FAILED")


@pytest.mark.slow
def test_verify_fails_on_a_history_that_no_longer_replays(clone: Path, tmp_path: Path):
    folder = tmp_path / "exported"
    folder.mkdir()
    history = json.loads((ROOT / "tests" / "histories" / "demo_ack_resolve.json").read_text())
    timer = next(e for e in history["events"] if "timerStartedEventAttributes" in e)
    timer.pop("timerStartedEventAttributes")
    timer["eventType"] = "EVENT_TYPE_MARKER_RECORDED"
    timer["markerRecordedEventAttributes"] = {"markerName": "not-ours"}
    (folder / "changed.json").write_text(json.dumps(history))

    done = escalate("verify", "--no-base", "--histories", str(folder), cwd=clone)
    assert done.returncode == 1
    assert "changed.json: NOT REPLAYABLE" in done.stdout
    assert done.stdout.rstrip().endswith("FAILED")
