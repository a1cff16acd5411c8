"""``/api/maintenance-windows`` on SQLite and PostgreSQL: created, listed (not ended, or in
force now), read and ended; every bound refused with a 422 that says why; 404 for an
unknown window; 401 without a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from conftest import serve_api
from services.settings import Settings

PATH = "/api/maintenance-windows"


def settings_for(tmp_path, database_url: str | None = None) -> Settings:
    url = SecretStr(database_url) if database_url else None
    return Settings(data_dir=tmp_path, api_keys="k", database_url=url)


def body(hours: float = 2, offset: float = 0, **fields) -> dict:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=offset)
    window = {
        "services": ["checkout"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "reason": "database upgrade",
    }
    return window | fields


async def test_a_window_is_created_listed_read_and_ended(tmp_path, database_url):
    async with serve_api(settings_for(tmp_path, database_url), key="k") as api:
        assert (await api.get(PATH)).json() == []
        pausing = await api.post(PATH, json=body(labels={"env": "prod"}, suppress_all=True))
        assert pausing.status_code == 201 and pausing.json()["suppress_all"] is True
        assert (await api.delete(f"{PATH}/{pausing.json()['id']}")).status_code == 204
        created = await api.post(PATH, json=body(labels={"env": "prod"}))
        assert created.status_code == 201, created.text
        window = created.json()
        assert window["id"].startswith("mw-") and window["created_by"] == "key-1"
        assert (window["services"], window["labels"], window["suppress_all"]) == (
            ["checkout"],
            {"env": "prod"},
            False,
        )
        assert window["ended_at"] is None
        coming = (await api.post(PATH, json=body(offset=3, services=[], labels={"env": "qa"}))).json()

        assert [w["id"] for w in (await api.get(PATH)).json()] == [window["id"], coming["id"]]
        active = await api.get(PATH, params={"active": "true"})
        assert active.status_code == 200 and [w["id"] for w in active.json()] == [window["id"]]
        read = await api.get(f"{PATH}/{window['id']}")
        assert read.status_code == 200 and read.json() == window

        assert (await api.delete(f"{PATH}/{window['id']}")).status_code == 204
        assert (await api.delete(f"{PATH}/{window['id']}")).status_code == 404
        ended = (await api.get(f"{PATH}/{window['id']}")).json()
        assert ended["ended_at"] is not None
        assert [w["id"] for w in (await api.get(PATH)).json()] == [coming["id"]]
        assert (await api.get(PATH, params={"active": "true"})).json() == []


async def test_a_start_in_the_past_becomes_now(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        before = datetime.now(UTC)
        created = await api.post(PATH, json=body(hours=3, offset=-1))
        assert created.status_code == 201, created.text
        assert datetime.fromisoformat(created.json()["start"]) >= before.replace(microsecond=0)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"services": []}, "at least one service or one label"),
        ({"hours": -1}, "end must be after its start"),
        ({"hours": 7 * 24 + 1}, "at most 7 days"),
        ({"start": "2026-06-01T10:00:00", "end": "2026-06-01T12:00:00"}, "timezone"),
        ({"hours": 1, "offset": -2}, "end is in the past"),
        ({"reason": "x" * 501}, "at most 500"),
        ({"services": [f"s{i}" for i in range(51)]}, "at most 50"),
        ({"labels": {f"k{i}": "v" for i in range(21)}}, "at most 20"),
        ({"start": "2201-01-01T00:00:00Z", "end": "2201-01-01T01:00:00Z"}, "between 1970 and 2200"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
async def test_each_bound_is_refused_with_a_422_that_says_why(tmp_path, fields, reason):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        refused = await api.post(PATH, json=body(**fields))
        assert refused.status_code == 422, refused.text
        assert reason in refused.text
        assert (await api.get(PATH, params={"active": "maybe"})).status_code == 422


async def test_unknown_windows_and_missing_keys(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        assert (await api.get(f"{PATH}/mw-nothing")).status_code == 404
        assert (await api.delete(f"{PATH}/mw-nothing")).status_code == 404
        assert not (tmp_path / "escalate.db").exists()  # reading opened no database
        assert (await api.post(PATH, json=body())).status_code == 201
        assert (await api.get(f"{PATH}/mw-nothing")).status_code == 404
        assert (await api.delete(f"{PATH}/mw-nothing")).status_code == 404
        for method, path in (("GET", PATH), ("POST", PATH), ("GET", f"{PATH}/x"), ("DELETE", f"{PATH}/x")):
            answer = await api.request(method, path, json=body(), headers={"Authorization": ""})
            assert answer.status_code == 401, (method, path)
