"""``/maintenance`` and the incident list's banner as a person uses them: signed in with a
key, a window in force shown on the incident list, one added with the form (the session's
CSRF token, times in UTC), bounds refused on the page, and a window ended with its button.
The incident list's Temporal query is stubbed: only the banner is under test here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from web_helpers import csrf_of

from conftest import serve_api
from services.settings import Settings

AUTH = {"Authorization": "Bearer k"}
XSS = "<script>alert(1)</script>"


def utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
async def web(tmp_path):
    async with serve_api(Settings(data_dir=tmp_path, api_keys="k")) as client:

        async def no_incidents(**_filters):
            return []

        client.app.state.incidents.list = no_incidents
        yield client


async def test_the_pages_need_a_session(web):
    response = await web.get("/maintenance")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/maintenance"
    refused = await web.post("/maintenance", data={"csrf": "x", "services": "checkout"})
    assert refused.status_code == 303
    assert (await web.get("/api/maintenance-windows", headers=AUTH)).json() == []


async def test_the_incident_list_shows_a_window_in_force(browser):
    page = await browser.get("/incidents")
    assert page.status_code == 200 and "Maintenance in force" not in page.text
    assert 'href="/maintenance"' in page.text
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    window = {
        "services": ["checkout"],
        "labels": {"env": "prod"},
        "start": datetime.now(UTC).isoformat(),
        "end": end.isoformat(),
        "reason": f"upgrade {XSS}",
    }
    assert (await browser.post("/api/maintenance-windows", json=window, headers=AUTH)).status_code == 201
    later = window | {
        "start": (end + timedelta(hours=1)).isoformat(),
        "end": (end + timedelta(hours=2)).isoformat(),
    }
    assert (await browser.post("/api/maintenance-windows", json=later, headers=AUTH)).status_code == 201
    page = await browser.get("/incidents")
    assert page.text.count("Maintenance in force") == 1  # the one to come is not in force
    assert "checkout; env=prod</strong> until " + end.strftime("%Y-%m-%d %H:%M") in page.text
    assert "upgrade &lt;script&gt;" in page.text and XSS not in page.text


async def test_the_form_adds_a_window_and_the_button_ends_it(browser):
    page = await browser.get("/maintenance")
    assert page.status_code == 200 and "No maintenance window in force." in page.text
    end = datetime.now(UTC) + timedelta(hours=3)
    form = {
        "csrf": csrf_of(page.text),
        "services": "checkout, payments",
        "labels": "env=staging\n",
        "start": "",
        "end": utc(end),
        "reason": "failover drill",
    }
    assert (await browser.post("/maintenance", data=form | {"csrf": "forged"})).status_code == 403
    added = await browser.post("/maintenance", data=form)
    assert added.status_code == 303 and added.headers["location"] == "/maintenance?done=added"
    [window] = (await browser.get("/api/maintenance-windows", headers=AUTH)).json()
    assert (window["services"], window["labels"], window["reason"], window["suppress_all"]) == (
        ["checkout", "payments"],
        {"env": "staging"},
        "failover drill",
        False,
    )
    assert window["created_by"] == "key-1" and window["end"].startswith(utc(end))
    page = await browser.get("/maintenance?done=added")
    assert "Maintenance window added." in page.text and "checkout, payments; env=staging" in page.text
    assert "Maintenance in force" in (await browser.get("/incidents")).text

    assert (await browser.post(f"/maintenance/{window['id']}/end", data={"csrf": "x"})).status_code == 403
    ended = await browser.post(f"/maintenance/{window['id']}/end", data={"csrf": csrf_of(page.text)})
    assert ended.status_code == 303 and ended.headers["location"] == "/maintenance?done=ended"
    assert (await browser.get("/api/maintenance-windows", headers=AUTH)).json() == []
    assert "Maintenance in force" not in (await browser.get("/incidents")).text
    again = await browser.post(f"/maintenance/{window['id']}/end", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"services": "", "labels": ""}, "at least one service or one label"),
        ({"end": "tomorrow"}, "End: a date and time"),
        ({"labels": "no equals sign"}, "one key=value a line"),
        (
            {
                "start": utc(datetime.now(UTC) + timedelta(days=1)),
                "end": utc(datetime.now(UTC) + timedelta(hours=2)),
            },
            "after its start",
        ),
        ({"end": utc(datetime.now(UTC) + timedelta(days=8))}, "at most 7 days"),
        ({"end": utc(datetime.now(UTC) - timedelta(hours=1))}, "in the past"),
        ({"services": "Not_A Slug!"}, "Services"),
    ],
)
async def test_the_form_refuses_each_bound_and_keeps_what_was_typed(browser, fields, reason):
    page = await browser.get("/maintenance")
    form = {
        "csrf": csrf_of(page.text),
        "services": "checkout",
        "labels": "",
        "end": utc(datetime.now(UTC) + timedelta(hours=1)),
        "reason": "kept reason",
    }
    refused = await browser.post("/maintenance", data=form | fields)
    assert refused.status_code == 422
    assert reason in refused.text and 'value="kept reason"' in refused.text
    assert (await browser.get("/api/maintenance-windows", headers=AUTH)).json() == []
