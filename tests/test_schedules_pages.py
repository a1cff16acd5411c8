"""``/oncall`` and ``/schedules/{id}`` as a person uses them: signed in with a key, who is
on call now, the next 14 days drawn on the server (no script), and overrides added and
removed with the session's CSRF token. The client is the app's own, without a bearer key
on the pages: only the session cookie signs it in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from web_helpers import csrf_of

from conftest import serve_api
from services.settings import Settings

AUTH = {"Authorization": "Bearer k"}
XSS = "<script>alert(1)</script>"
OFFICE = {
    "name": f"Office {XSS}",
    "time_zone": "Europe/Paris",
    "layers": [
        {
            "name": "days",
            "rotation": {
                "participants": ["alice", "bob"],
                "anchor": "2026-01-05T09:00:00",
                "shift": {"unit": "day"},
            },
            "restrictions": [
                {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
            ],
        },
        {
            "name": "weekly",
            "priority": -1,
            "rotation": {
                "participants": ["carol"],
                "anchor": "2026-01-05T09:00:00",
                "shift": {"unit": "week"},
            },
            "restrictions": [{"weekdays": ["sat"], "start": "10:00", "end": "12:00"}],
        },
    ],
}


@pytest.fixture
async def web(tmp_path):
    settings = Settings(data_dir=tmp_path, api_keys="k")
    async with serve_api(settings) as client:
        yield client


def local(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


async def test_the_pages_need_a_session(web):
    response = await web.get("/oncall")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/oncall"
    assert (await web.get("/schedules/platform")).status_code == 303
    refused = await web.post("/schedules/platform/overrides", data={"csrf": "x"})
    assert refused.status_code == 303 and (await web.get("/schedules/platform")).status_code == 303


async def test_oncall_lists_who_is_on_call_now_in_every_schedule(browser):
    page = await browser.get("/oncall")
    assert page.status_code == 200
    assert '<a href="/oncall">On call</a>' in page.text  # the navigation links to it
    for schedule, person in (("first-line", "Alice Martin"), ("payments", "Grace Hopper")):
        entry = re.search(rf'<li id="schedule-{schedule}">(.*?)</li>', page.text, re.S).group(1)
        assert f'href="/schedules/{schedule}"' in entry and person in entry
        assert "Next hand-off:" in entry
    assert "<script" not in page.text and "script-src" not in page.headers["content-security-policy"]


async def test_a_schedule_page_draws_its_lanes_people_and_gaps_without_script(browser):
    created = await browser.post("/api/schedules", json={"id": "office", **OFFICE}, headers=AUTH)
    assert created.status_code == 201, created.text
    page = await browser.get("/schedules/office")
    assert page.status_code == 200
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    for lane in ("days", "weekly", "final"):
        assert f">{lane}</text>" in svg
    assert "Alice Martin" in svg and "Bob Chen" in svg and "Carol Diaz" in svg
    assert 'class="gap"' in svg and "Gap, nobody on call" in svg  # nights and Sundays
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert "<script" not in page.text
    assert "/calendars/" in page.text and ".ics" in page.text
    assert (await browser.get("/schedules/nowhere")).status_code == 404


async def test_an_override_is_added_and_removed_with_the_form(browser):
    page = await browser.get("/schedules/platform")
    assert page.status_code == 200 and "No override in force or to come." in page.text
    start = datetime.now(UTC) + timedelta(hours=2)
    form = {
        "csrf": csrf_of(page.text),
        "start": local(start),
        "end": local(start + timedelta(hours=3)),
        "add": "alice",
        "remove": "",
        "reason": "covering <b>Erin</b>",
    }
    added = await browser.post("/schedules/platform/overrides", data=form)
    assert added.status_code == 303 and added.headers["location"] == "/schedules/platform?done=added"
    page = await browser.get(added.headers["location"])
    assert "Override added." in page.text and "Alice Martin added" in page.text
    assert "covering &lt;b&gt;Erin&lt;/b&gt;" in page.text
    stored = (await browser.get("/api/schedules/platform", headers=AUTH)).json()["overrides"]
    assert [(o["add"], o["remove"]) for o in stored] == [("alice", None)]
    assert stored[0]["start"] == start.replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")

    again = await browser.post("/schedules/platform/overrides", data=form)
    assert again.status_code == 409 and "already in force" in again.text

    removal = f"/schedules/platform/overrides/{stored[0]['id']}/delete"
    assert (await browser.post(removal, data={"csrf": "forged"})).status_code == 403
    removed = await browser.post(removal, data={"csrf": form["csrf"]})
    assert removed.status_code == 303 and removed.headers["location"] == "/schedules/platform?done=removed"
    assert (await browser.get("/api/schedules/platform", headers=AUTH)).json()["overrides"] == []
    assert (await browser.post(removal, data={"csrf": form["csrf"]})).status_code == 404


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"csrf": "forged"}, 403, "This form has expired"),
        ({"end": "yesterday"}, 422, "End: a date and time"),
        ({"end": "2020-01-01T00:00"}, 422, "after its start"),
        ({"add": "casper"}, 422, "casper"),
        ({"add": ""}, 422, "adds a person"),
    ],
)
async def test_a_refused_override_says_why_and_keeps_what_was_typed(browser, changes, status, words):
    page = await browser.get("/schedules/platform")
    start = datetime.now(UTC) + timedelta(hours=2)
    form = {
        "csrf": csrf_of(page.text),
        "start": local(start),
        "end": local(start + timedelta(hours=3)),
        "add": "alice",
        "remove": "",
        "reason": "kept as typed",
    }
    refused = await browser.post("/schedules/platform/overrides", data=form | changes)
    assert refused.status_code == status and words in refused.text, refused.text[-2000:]
    if status == 422:
        assert 'value="kept as typed"' in refused.text
    assert (await browser.get("/api/schedules/platform", headers=AUTH)).json()["overrides"] == []
