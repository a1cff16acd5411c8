"""``/api/schedules``: the seed file until the first write, then the database (SQLite or
PostgreSQL); who is on call and the shifts, of stored and unsaved schedules; every bound
refused with a 422 that says why; overrides; and the iCalendar feeds behind their token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from pydantic import SecretStr

from conftest import serve_api
from runbooks.schedule_seed import load_schedules
from services.settings import RUNBOOKS_DIR, Settings

SEED = load_schedules(RUNBOOKS_DIR / "schedules.yaml")
ROTATION = {"participants": ["alice", "bob"], "anchor": "2026-01-05T09:00:00", "shift": {"unit": "day"}}
DAILY = {"name": "Daily", "time_zone": "UTC", "layers": [{"name": "daily", "rotation": ROTATION}]}
MONDAY = "2026-01-05T10:00:00Z"  # alice's day; bob's is the next


def settings_for(tmp_path, database_url: str | None = None) -> Settings:
    url = SecretStr(database_url) if database_url else None
    return Settings(data_dir=tmp_path, api_keys="k", database_url=url, public_url="https://escalate.test")


def layer(name: str = "daily", **changes) -> dict:
    return {"name": name, "rotation": {**ROTATION, **changes.pop("rotation", {})}, **changes}


def override(hours: int = 2, **fields) -> dict:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    body = {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat(), "add": "carol"}
    return body | fields


async def test_the_seed_file_answers_until_the_first_write(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        listed = await api.get("/api/schedules")
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()] == sorted(s.id for s in SEED)
        platform = next(s for s in SEED if s.id == "platform")
        read = await api.get("/api/schedules/platform")
        assert read.status_code == 200 and read.json()["name"] == platform.name
        now = await api.get("/api/schedules/platform/oncall")
        assert now.status_code == 200 and now.json()["people"][0] in {"erin", "frank"}
        shifts = await api.get("/api/schedules/platform/shifts")
        assert shifts.status_code == 200 and shifts.json()["coverage_pct"] == 100.0
        assert (await api.get("/api/schedules/nowhere")).status_code == 404
        assert (await api.get("/api/schedules", headers={"Authorization": ""})).status_code == 401
    assert not (tmp_path / "escalate.db").exists()  # reading opened no database


async def test_a_schedule_is_created_read_revised_and_deleted(tmp_path, database_url):
    async with serve_api(settings_for(tmp_path, database_url), key="k") as api:
        seeded = next(s for s in SEED if s.id == "payments")
        taken = await api.post("/api/schedules", json={"id": "payments", **DAILY})
        assert taken.status_code == 409  # the seed's ids are taken: the first write loaded it
        created = await api.post("/api/schedules", json={"id": "daily", **DAILY})
        assert created.status_code == 201, created.text
        assert (created.json()["revision"], created.json()["overrides"]) == (1, [])
        assert (await api.post("/api/schedules", json={"id": "daily", **DAILY})).status_code == 409
        listed = [s["id"] for s in (await api.get("/api/schedules")).json()]
        assert listed == sorted([*(s.id for s in SEED), "daily"])
        assert (await api.get("/api/schedules/payments")).json()["name"] == seeded.name

        before = datetime.now(UTC).isoformat()
        patched = await api.patch("/api/schedules/daily", json={"name": "Daily duty", "layers": [layer()]})
        assert patched.status_code == 200 and patched.json()["revision"] == 2
        assert (await api.get("/api/schedules/daily")).json()["name"] == "Daily duty"
        then = await api.get("/api/schedules/daily", params={"at": before})
        assert then.json()["name"] == "Daily" and then.json()["revision"] == 1
        assert (await api.patch("/api/schedules/nowhere", json={"name": "X"})).status_code == 404

        assert (await api.delete("/api/schedules/daily")).status_code == 204
        assert (await api.get("/api/schedules/daily")).status_code == 404
        assert (await api.delete("/api/schedules/daily")).status_code == 404
        assert (await api.get("/api/schedules/daily/oncall")).status_code == 404


async def test_who_is_on_call_the_shifts_and_a_preview_answer_alike(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        assert (await api.post("/api/schedules", json={"id": "daily", **DAILY})).status_code == 201
        monday = (await api.get("/api/schedules/daily/oncall", params={"at": MONDAY})).json()
        assert (monday["people"], monday["layer"], monday["revision"]) == (["alice"], "daily", 1)
        assert monday["valid_until"] == "2026-01-06T09:00:00Z"
        tuesday = "2026-01-06T10:00:00Z"
        assert (await api.get("/api/schedules/daily/oncall", params={"at": tuesday})).json()["people"] == [
            "bob"
        ]

        period = {"since": "2026-01-05T09:00:00Z", "until": "2026-01-09T09:00:00Z"}
        coverage = (await api.get("/api/schedules/daily/shifts", params=period)).json()
        assert [s["people"] for s in coverage["final"]] == [["alice"], ["bob"], ["alice"], ["bob"]]
        assert coverage["gaps"] == [] and coverage["coverage_pct"] == 100.0
        assert list(coverage["layers"]) == ["daily"]
        default = (await api.get("/api/schedules/daily/shifts")).json()
        start, end = (datetime.fromisoformat(default[k]) for k in ("since", "until"))
        assert end - start == timedelta(days=14)

        asked = await api.post("/api/schedules/preview", json={**DAILY, "at": MONDAY})
        assert asked.status_code == 200 and asked.json()["people"] == ["alice"]
        assert asked.json()["schedule"] == "preview"
        previewed = await api.post("/api/schedules/preview", json={**DAILY, **period})
        assert previewed.status_code == 200 and previewed.json()["final"] == coverage["final"]
        both = await api.post("/api/schedules/preview", json={**DAILY, "at": MONDAY, **period})
        assert both.status_code == 422 and "either" in both.text

        restricted = layer("office", restrictions=[{"weekdays": ["mon"], "start": "12:00", "end": "13:00"}])
        gappy = {**DAILY, "layers": [restricted], "since": MONDAY, "until": "2026-01-05T14:00:00Z"}
        gaps = (await api.post("/api/schedules/preview", json=gappy)).json()["gaps"]
        assert [(g["start"], g["end"]) for g in gaps] == [
            ("2026-01-05T10:00:00Z", "2026-01-05T12:00:00Z"),
            ("2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z"),
        ]


async def test_overrides_are_added_refused_when_duplicated_and_removed(tmp_path, database_url):
    async with serve_api(settings_for(tmp_path, database_url), key="k") as api:
        await api.post("/api/schedules", json={"id": "daily", **DAILY})
        body = override(remove="alice", add="carol", reason="swap")
        added = await api.post("/api/schedules/daily/overrides", json=body)
        assert added.status_code == 201, added.text
        override_id = added.json()["id"]
        assert override_id.startswith("o-") and added.json()["reason"] == "swap"
        duplicate = await api.post("/api/schedules/daily/overrides", json=body)
        assert duplicate.status_code == 409 and "already" in duplicate.json()["detail"]
        during = (datetime.fromisoformat(body["start"]) + timedelta(minutes=30)).isoformat()
        answer = (await api.get("/api/schedules/daily/oncall", params={"at": during})).json()
        assert answer["overrides"] in ([override_id], [])  # applies on alice's days only
        assert [o["id"] for o in (await api.get("/api/schedules/daily")).json()["overrides"]] == [override_id]

        assert (await api.delete(f"/api/schedules/daily/overrides/{override_id}")).status_code == 204
        assert (await api.delete(f"/api/schedules/daily/overrides/{override_id}")).status_code == 404
        assert (await api.get("/api/schedules/daily")).json()["overrides"] == []
        assert (await api.post("/api/schedules/nowhere/overrides", json=body)).status_code == 404


def too_many(count: int, item) -> list:
    return [item(i) for i in range(count)]


BOUNDS = {
    "51 participants": lambda: {**DAILY, "layers": [layer(rotation={"participants": ["alice"] * 51})]},
    "11 layers": lambda: {**DAILY, "layers": too_many(11, lambda i: layer(f"layer-{i}"))},
    "31 restrictions": lambda: {
        **DAILY,
        "layers": [layer(restrictions=[{"weekdays": ["mon"], "start": "09:00", "end": "10:00"}] * 31)],
    },
    "an unknown zone": lambda: {**DAILY, "time_zone": "Mars/Olympus"},
    "an anchor with an offset": lambda: {
        **DAILY,
        "layers": [layer(rotation={"anchor": "2026-01-05T09:00Z"})],
    },
    "two layers of one name": lambda: {**DAILY, "layers": [layer(), layer()]},
}


@pytest.mark.parametrize("bound", list(BOUNDS))
async def test_each_bound_of_a_schedule_is_a_422_with_a_reason(tmp_path, bound):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        body = BOUNDS[bound]()
        created = await api.post("/api/schedules", json={"id": "bad", **body})
        assert created.status_code == 422 and created.json()["detail"], created.text
        previewed = await api.post("/api/schedules/preview", json=body)
        assert previewed.status_code == 422
        assert (await api.get("/api/schedules/bad")).status_code == 404


async def test_bad_times_periods_people_and_overrides_are_422s_that_say_why(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        assert (await api.post("/api/schedules", json={"id": "daily", **DAILY})).status_code == 201

        async def refused(response, words: str) -> None:
            assert response.status_code == 422, response.text[:300]
            assert words in response.text, response.text

        oncall, shifts = "/api/schedules/daily/oncall", "/api/schedules/daily/shifts"
        await refused(await api.get(oncall, params={"at": "2026-01-05T10:00:00"}), "timezone")
        await refused(await api.get(oncall, params={"at": "yesterday"}), "datetime")
        long = {"since": "2026-01-01T00:00:00Z", "until": "2026-04-04T00:00:00Z"}  # 93 days
        await refused(await api.get(shifts, params=long), "at most 92 days")
        backwards = {"since": "2026-01-05T00:00:00Z", "until": "2026-01-05T00:00:00Z"}
        await refused(await api.get(shifts, params=backwards), "until must be after since")
        await refused(await api.post("/api/schedules/preview", json={**DAILY, **long}), "at most 92 days")

        ghosts = {**DAILY, "layers": [layer(rotation={"participants": ["alice", "casper", "zoe"]})]}
        await refused(await api.post("/api/schedules", json={"id": "ghosts", **ghosts}), "casper, zoe")
        await refused(await api.patch("/api/schedules/daily", json={"layers": ghosts["layers"]}), "casper")
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        await refused(await api.patch("/api/schedules/daily", json={"effective_from": past}), "in the past")
        await refused(await api.patch("/api/schedules/daily", json={"time_zone": "Mars/Olympus"}), "IANA")

        overrides = "/api/schedules/daily/overrides"
        await refused(await api.post(overrides, json=override(hours=24 * 91)), "90 days")
        await refused(await api.post(overrides, json=override(hours=-1)), "after its start")
        naive = override() | {"start": "2026-01-05T10:00:00", "end": "2026-01-05T12:00:00"}
        await refused(await api.post(overrides, json=naive), "timezone")
        await refused(await api.post(overrides, json=override(add="casper")), "casper")
        await refused(await api.post(overrides, json=override(add=None)), "adds a person")
        assert (await api.get("/api/schedules/daily")).json()["revision"] == 1  # nothing changed


async def feed(api, url: str) -> icalendar.Calendar:
    path = url.removeprefix("https://escalate.test")
    response = await api.get(path, headers={"Authorization": ""})  # calendar apps send no header
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


async def test_calendar_feeds_list_the_final_shifts_behind_a_token(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        await api.post("/api/schedules", json={"id": "daily", **DAILY})
        link = await api.get("/api/schedules/daily/calendar-link")
        assert link.status_code == 200
        url = link.json()["url"]
        assert url.startswith("https://escalate.test/calendars/") and url.endswith(".ics")
        calendar = await feed(api, url)
        events = calendar.walk("VEVENT")
        now = datetime.now(UTC)
        assert events[0]["DTSTART"].dt <= now < events[0]["DTEND"].dt  # the shift in progress
        assert 59 <= len(events) <= 62  # one a day for 60 days
        assert all(e["DTSTART"].dt.hour == 9 for e in events)
        assert all(e["DTEND"].dt - e["DTSTART"].dt == timedelta(days=1) for e in events[:-1])  # the last: cut
        people = [str(e["SUMMARY"]) for e in events]
        assert set(people) == {"On call: Alice Martin", "On call: Bob Chen"} and people[0] != people[1]
        again = (await feed(api, url)).walk("VEVENT")
        assert [str(e["UID"]) for e in again] == [str(e["UID"]) for e in events]  # stable per shift

        alice = await api.get("/api/people/alice/calendar-link")
        assert alice.status_code == 200
        mine = (await feed(api, alice.json()["url"])).walk("VEVENT")
        daily = [e for e in mine if str(e["SUMMARY"]) == "On call: Daily"]
        assert len(daily) in (len(events) // 2, len(events) // 2 + 1)
        assert {str(e["UID"]) for e in daily}.isdisjoint({str(e["UID"]) for e in events})

        token = url.removeprefix("https://escalate.test/calendars/").removesuffix(".ics")
        assert (await api.get(f"/calendars/{token[:-2]}xx.ics")).status_code == 404
        assert (await api.get("/calendars/not-a-token.ics")).status_code == 404
        assert (await api.get("/api/people/nobody/calendar-link")).status_code == 404
        assert (await api.get("/api/schedules/nowhere/calendar-link")).status_code == 404
        assert (
            await api.get("/api/schedules/daily/calendar-link", headers={"Authorization": ""})
        ).status_code == 401
        await api.delete("/api/schedules/daily")
        assert (await api.get(f"/calendars/{token}.ics")).status_code == 404  # gone with its schedule


async def test_deleting_or_editing_a_schedule_that_is_not_an_id_is_a_404_not_a_crash(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        for path in ("/api/schedules/%03%C3%B5%17", "/api/schedules/Not%20A%20Slug"):
            assert (await api.delete(path)).status_code == 404
            assert (await api.patch(path, json={"name": "x"})).status_code == 404
            assert (await api.post(f"{path}/overrides", json=override())).status_code in (404, 422)
