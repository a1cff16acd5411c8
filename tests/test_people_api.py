"""``/api/people`` and ``/api/teams``: the directory file until the first edit, then the
database (SQLite or PostgreSQL), every edit checked so that no runbook is left naming
someone who is not there, and incidents planned from the directory as it now stands."""

from __future__ import annotations

import yaml
from pydantic import SecretStr

from conftest import serve_api
from services.settings import RUNBOOKS_DIR, Settings
from store.db import engine_for
from store.people import get_person, list_teams

SHIPPED = yaml.safe_load((RUNBOOKS_DIR / "directory.yaml").read_text())
ZED = {"id": "zed", "name": "Zed Zhang", "email": "zed@example.com", "timezone": "Asia/Tokyo"}


def settings_for(tmp_path, database_url: str | None = None) -> Settings:
    url = SecretStr(database_url) if database_url else None
    return Settings(data_dir=tmp_path, api_keys="k", database_url=url)


async def test_the_directory_file_answers_until_the_first_edit(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        people = (await api.get("/api/people")).json()
        assert sorted(p["id"] for p in people) == sorted(p["id"] for p in SHIPPED["people"])
        alice = (await api.get("/api/people/alice")).json()
        assert alice["name"] == next(p["name"] for p in SHIPPED["people"] if p["id"] == "alice")
        assert (await api.get("/api/people/nobody")).status_code == 404
        assert (await api.get("/api/teams/nobody")).status_code == 404
    assert not (tmp_path / "escalate.db").exists()  # reading opened no database


async def test_an_added_person_is_stored_and_plannable(tmp_path, database_url):
    async with serve_api(settings_for(tmp_path, database_url), key="k") as api:
        created = await api.post("/api/people", json=ZED)
        assert created.status_code == 201 and created.json()["timezone"] == "Asia/Tokyo"
        assert (await api.post("/api/people", json=ZED)).status_code == 409
        team = {"id": "night-owls", "name": "Night owls", "members": ["zed", "alice"]}
        assert (await api.post("/api/teams", json=team)).status_code == 201
        assert (await api.get("/api/teams/night-owls")).json()["members"] == ["zed", "alice"]
        # The incident service plans from the directory as it now stands.
        assert api.app.state.incidents.directory.resolve("team:night-owls")[0].id == "zed"
        renamed = await api.patch("/api/people/zed", json={"name": "Zed Z. Zhang"})
        assert renamed.status_code == 200 and renamed.json()["email"] == ZED["email"]
    engine = engine_for(database_url, tmp_path)
    assert get_person(engine, "zed").name == "Zed Z. Zhang"
    # The first edit loaded the directory file into the database, then applied.
    stored = {t.id for t in list_teams(engine)}
    assert stored == {t["id"] for t in SHIPPED["teams"]} | {"night-owls"}


async def test_bad_edits_are_refused_with_a_reason_and_change_nothing(tmp_path):
    async with serve_api(settings_for(tmp_path), key="k") as api:
        bad_zone = await api.post("/api/people", json={**ZED, "timezone": "Mars/Olympus"})
        assert bad_zone.status_code == 422 and "IANA" in bad_zone.text
        assert (await api.post("/api/people", json={**ZED, "email": "not-an-address"})).status_code == 422
        assert (await api.post("/api/people", json={**ZED, "role": "admin"})).status_code == 422
        assert (await api.post("/api/people", json={**ZED, "id": "Zed Zhang"})).status_code == 422
        ghost = await api.post("/api/teams", json={"id": "ghosts", "name": "Ghosts", "members": ["casper"]})
        assert ghost.status_code == 409 and "casper" in ghost.json()["detail"]
        assert (await api.patch("/api/teams/ghosts", json={"name": "Boo"})).status_code == 404
        empty = await api.patch(f"/api/teams/{SHIPPED['teams'][0]['id']}", json={"members": []})
        assert empty.status_code == 422
        assert (await api.patch("/api/people/nobody", json={"name": "Nobody"})).status_code == 404
        assert (await api.get("/api/people", headers={"Authorization": ""})).status_code == 401
        people = (await api.get("/api/people")).json()
        assert sorted(p["id"] for p in people) == sorted(p["id"] for p in SHIPPED["people"])
