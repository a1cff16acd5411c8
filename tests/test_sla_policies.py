"""SLA policies as data: the store on SQLite and PostgreSQL, the service's rule (the seed file
answers until the database holds a policy; the first edit copies the seed in first), its
cached view for the intake, and ``/api/sla-policies``: listed, read, written and deleted,
404 / 409 / 422 where they belong, and a policy written through the API holding the next
incident opened through it."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from conftest import serve_api
from runbooks.sla_seed import load_policies
from services.cache import Refreshed
from services.database import Database
from services.settings import RUNBOOKS_DIR, Settings
from services.sla_policies import SlaPolicyInUse, SlaPolicyService, UnknownSlaPolicy
from store import sla_policies
from store.db import MIGRATIONS, current_revision, engine_for, migrate
from store.tables import sla_policies as table
from workflows.errors import InvalidRequest
from workflows.targets import SlaPolicy

PATH = "/api/sla-policies"
SEED = RUNBOOKS_DIR / "sla.yaml"
KEY = {"Authorization": "Bearer test-key"}


def policy(name: str = "payments", acknowledge: str = "PT7M", **fields) -> SlaPolicy:
    body = {
        "name": name,
        "warn_at": [0.5],
        "on_breach": [],
        "targets": {
            "SEV3": [{"goal": "acknowledge", "within": acknowledge}, {"goal": "resolve", "within": "PT11H"}]
        },
    }
    return SlaPolicy.model_validate(body | fields)


BUSINESS = {
    "business_hours": {
        "name": "Paris office",
        "time_zone": "Europe/Paris",
        "hours": [{"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}],
        "holidays": ["2026-12-25"],
    },
    "targets": {"SEV2": [{"goal": "resolve", "within": "PT8H", "clock": "business"}]},
}


def downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def settings_for(tmp_path: Path, database_url: str | None = None, **fields) -> Settings:
    url = SecretStr(database_url) if database_url else None
    return Settings(data_dir=tmp_path, api_keys="test-key", database_url=url, **fields)


# -- the store, on both backends ----------------------------------------------------


def test_the_migration_adds_the_table_and_removes_it(empty_database_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_database_url, tmp_path)
    try:
        migrate(engine, "0004")
        assert "sla_policies" not in sa.inspect(engine).get_table_names()
        migrate(engine, "0005")
        assert current_revision(engine) == "0005" and "sla_policies" in sa.inspect(engine).get_table_names()
        sla_policies.put(engine, policy(), "ops")
        downgrade(engine, "0004")
        assert "sla_policies" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_policies_are_put_read_listed_replaced_and_deleted(engine: Engine) -> None:
    assert sla_policies.list_policies(engine) == [] and not sla_policies.has_policies(engine)
    assert sla_policies.get(engine, "payments") is None
    office = policy("office", **BUSINESS)
    assert sla_policies.put(engine, office, "ops") == office
    sla_policies.put(engine, policy(), "ops")
    assert sla_policies.has_policies(engine) and sla_policies.count(engine) == 2
    assert sla_policies.get(engine, "office") == office  # business hours, holidays, clocks: round trip
    assert [p.name for p in sla_policies.list_policies(engine)] == ["office", "payments"]

    sla_policies.put(engine, policy(acknowledge="PT3M"), "alice")  # replaces, by name
    replaced = sla_policies.get(engine, "payments")
    assert replaced is not None and replaced.targets["SEV3"][0].within == timedelta(minutes=3)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.name == "payments")).one()
    assert row.updated_by == "alice" and row.updated_at.tzinfo is not None
    assert row.body == policy(acknowledge="PT3M").model_dump(mode="json")

    assert sla_policies.delete(engine, "payments")
    assert not sla_policies.delete(engine, "payments")
    assert [p.name for p in sla_policies.list_policies(engine)] == ["office"]


def test_the_first_edit_copies_the_seed_in_and_never_overwrites_a_stored_policy(engine: Engine) -> None:
    seed = list(load_policies(SEED).values())
    with pytest.raises(RuntimeError), sla_policies.editing(engine, seed):
        raise RuntimeError("the edit fails: nothing is written, the seed copy neither")
    assert not sla_policies.has_policies(engine)

    with sla_policies.editing(engine, seed) as conn:
        sla_policies.put(conn, policy("default", acknowledge="PT9M"), "ops")
    stored = {p.name: p for p in sla_policies.list_policies(engine)}
    assert set(stored) == {"default", "demo"}  # the other seed policy is kept
    assert stored["default"] == policy("default", acknowledge="PT9M")  # the edit, not the seed
    assert stored["demo"] == load_policies(SEED)["demo"]

    with sla_policies.editing(engine, seed) as conn:  # not empty: the seed is not copied again
        assert sla_policies.delete(conn, "demo")
    assert [p.name for p in sla_policies.list_policies(engine)] == ["default"]
    assert sla_policies.import_policies(engine, seed) == 1  # only the missing one
    assert sla_policies.get(engine, "default") == policy("default", acknowledge="PT9M")


def test_first_edits_at_once_seed_once_and_keep_every_edit(database_url: str, tmp_path: Path) -> None:
    seed = list(load_policies(SEED).values())
    engines = [engine_for(database_url, tmp_path) for _ in range(4)]
    barrier, errors = threading.Barrier(4), []

    def edit(index: int) -> None:
        try:
            barrier.wait()
            with sla_policies.editing(engines[index], seed) as conn:
                sla_policies.put(conn, policy(f"p{index}"), f"writer-{index}")
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors, errors
        names = [p.name for p in sla_policies.list_policies(engines[0])]
        assert names == ["default", "demo", "p0", "p1", "p2", "p3"]
    finally:
        for engine in engines:
            engine.dispose()


# -- the service ------------------------------------------------------------------


async def test_the_seed_answers_until_the_first_edit_which_copies_it_in(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    database = Database(settings)
    service = SlaPolicyService(database, SEED)
    seed = load_policies(SEED)
    assert [p.name for p in await service.list()] == ["default", "demo"]
    assert await service.get("demo") == seed["demo"]
    assert service.load() == seed and service.current() == seed
    assert not database.present()  # reading created no database

    await service.put("payments", policy(), by="ops")
    assert database.present()
    assert [p.name for p in await service.list()] == ["default", "demo", "payments"]
    assert service.current()["payments"] == policy()  # this process sees its edit at once
    with pytest.raises(UnknownSlaPolicy):
        await service.get("nothing")

    other = SlaPolicyService(Database(settings), SEED)  # another replica, same database
    assert other.load()["payments"] == policy()
    await service.delete("payments", by="ops")
    assert "payments" not in service.current() and "payments" in other.current()  # cached there
    assert "payments" not in other.load()
    database.dispose()


async def test_what_must_stay_stays_and_the_path_names_the_body(tmp_path: Path) -> None:
    service = SlaPolicyService(Database(settings_for(tmp_path)), SEED)
    with pytest.raises(InvalidRequest, match="must be the same"):
        await service.put("other", policy("payments"), by="ops")
    with pytest.raises(SlaPolicyInUse, match="'default' SLA policy .* cannot be deleted"):
        await service.delete("default", by="ops")
    with pytest.raises(SlaPolicyInUse, match="named by runbook demo"):
        await service.delete("demo", by="ops")
    with pytest.raises(UnknownSlaPolicy):
        await service.delete("nothing", by="ops")
    assert [p.name for p in await service.list()] == ["default", "demo"]

    only = tmp_path / "only.yaml"
    only.write_text("policies:\n  - name: lonely\n    targets: {SEV1: [{goal: resolve, within: PT1H}]}\n")
    alone = SlaPolicyService(Database(settings_for(tmp_path / "alone")), only)
    with pytest.raises(SlaPolicyInUse, match="the last one"):  # the seed would answer again
        await alone.delete("lonely", by="ops")


def test_the_cached_view_refreshes_in_the_background_and_keeps_the_last_on_errors(caplog) -> None:
    answers: list = [None, {"a": 1}]
    state = {"fail": False}

    def read():
        if state["fail"]:
            raise OSError("database down")
        return answers[0]

    cache = Refreshed(read, {"seed": 0}, "things", logging.getLogger("test.cache"), every=0.05)
    assert cache.load() == {"seed": 0}  # nothing stored: the fallback
    answers[0] = {"a": 1}
    assert cache.current() == {"seed": 0}  # stale: answered at once, refreshed behind
    deadline = time.monotonic() + 5
    while cache.current() != {"a": 1}:
        assert time.monotonic() < deadline, "never refreshed"
        time.sleep(0.01)
    state["fail"] = True
    with caplog.at_level(logging.WARNING, logger="test.cache"):
        assert cache.load() == {"a": 1}
    assert "cannot read the things from the database" in caplog.text


# -- the API --------------------------------------------------------------------


async def test_the_seed_is_answered_before_any_write(tmp_path: Path) -> None:
    async with serve_api(settings_for(tmp_path), key="test-key") as api:
        listed = await api.get(PATH)
        assert listed.status_code == 200, listed.text
        assert [p["name"] for p in listed.json()] == ["default", "demo"]
        default = (await api.get(f"{PATH}/default")).json()
        assert default == load_policies(SEED)["default"].model_dump(mode="json")
        assert default["targets"]["SEV1"][0] == {"goal": "acknowledge", "within": "PT15M", "clock": "wall"}
        assert (await api.get(f"{PATH}/nothing")).status_code == 404
        assert not (tmp_path / "escalate.db").exists()  # reading wrote nothing
    async with serve_api(settings_for(tmp_path), key=None) as anonymous:
        assert (await anonymous.get(PATH)).status_code == 401


async def test_policies_are_written_read_and_deleted_through_the_api(
    tmp_path: Path, database_url: str
) -> None:
    async with serve_api(settings_for(tmp_path, database_url), key="test-key") as api:
        body = policy(**BUSINESS).model_dump(mode="json")
        written = await api.put(f"{PATH}/payments", json=body)
        assert written.status_code == 200, written.text
        assert written.json() == body
        assert (await api.get(f"{PATH}/payments")).json() == body
        assert [p["name"] for p in (await api.get(PATH)).json()] == ["default", "demo", "payments"]
        changed = body | {"warn_at": [0.25, 0.75]}
        assert (await api.put(f"{PATH}/payments", json=changed)).json()["warn_at"] == [0.25, 0.75]

        assert (await api.delete(f"{PATH}/payments")).status_code == 204
        assert (await api.delete(f"{PATH}/payments")).status_code == 404
        assert (await api.get(f"{PATH}/payments")).status_code == 404
        assert [p["name"] for p in (await api.get(PATH)).json()] == ["default", "demo"]

        refused = await api.delete(f"{PATH}/default")
        assert refused.status_code == 409 and "cannot be deleted" in refused.json()["detail"]
        named = await api.delete(f"{PATH}/demo")
        assert named.status_code == 409 and "runbook demo" in named.json()["detail"]


@pytest.mark.parametrize(
    ("path_name", "fields", "reason"),
    [
        ("other", {}, "they must be the same"),
        ("payments", {"targets": {"SEV1": [{"goal": "resolve", "within": "PT0S"}]}}, "between 1 second"),
        ("payments", {"targets": {"SEV1": [{"goal": "resolve", "within": "P31D"}]}}, "30 days"),
        (
            "payments",
            {
                "targets": {
                    "SEV1": [{"goal": "resolve", "within": "PT1H"}, {"goal": "resolve", "within": "PT2H"}]
                }
            },
            "one target per goal",
        ),
        ("payments", {"warn_at": [1.5]}, "between 0 and 1"),
        (
            "payments",
            {"targets": {"SEV1": [{"goal": "resolve", "within": "PT1H", "clock": "business"}]}},
            "need the policy's business_hours",
        ),
        ("payments", {"targets": {"SEV9": []}}, "SEV9"),
        ("payments", {"name": "Not A Slug"}, "pattern"),
        ("payments", {"colour": "red"}, "Extra inputs are not permitted"),
        ("payments", {"business_hours": {**BUSINESS["business_hours"], "time_zone": "Mars/Olympus"}}, "Mars"),
        ("payments", {"business_hours": {**BUSINESS["business_hours"], "name": "a\x00b"}}, "control"),
    ],
)
async def test_an_invalid_policy_is_refused_with_the_reason(
    tmp_path: Path, path_name, fields, reason
) -> None:
    async with serve_api(settings_for(tmp_path), key="test-key") as api:
        body = policy().model_dump(mode="json") | fields
        refused = await api.put(f"{PATH}/{path_name}", json=body)
        assert refused.status_code == 422, refused.text
        assert reason in refused.text and "Traceback" not in refused.text
        assert [p["name"] for p in (await api.get(PATH)).json()] == ["default", "demo"]  # nothing written


async def test_a_policy_written_through_the_api_holds_the_next_incident(api) -> None:
    def acknowledge_within(view: dict) -> tuple[str, timedelta]:
        sla = view["sla"]
        target = next(t for t in sla["targets"] if t["goal"] == "acknowledge")
        due, start = datetime.fromisoformat(target["due"]), datetime.fromisoformat(sla["start"])
        return sla["policy"], due - start

    incident = {"title": "Checkout is slow", "severity": "SEV3", "service": "checkout", "runbook": "default"}
    before = (await api.post("/api/incidents", json=incident, headers=KEY)).json()
    body = load_policies(SEED)["default"].model_dump(mode="json")
    body["targets"]["SEV3"] = [
        {"goal": "acknowledge", "within": "PT7M"},
        {"goal": "resolve", "within": "PT11H"},
    ]
    written = await api.put(f"{PATH}/default", json=body, headers=KEY)
    assert written.status_code == 200, written.text

    opened = await api.post("/api/incidents", json=incident, headers=KEY)
    assert opened.status_code == 201, opened.text
    view = (await api.get(f"/api/incidents/{opened.json()['id']}", headers=KEY)).json()
    assert acknowledge_within(view) == ("default", timedelta(minutes=7))
    assert {t["goal"]: t["within"] for t in view["sla"]["targets"]} == {
        "acknowledge": "PT7M",
        "resolve": "PT11H",
    }
    earlier = (await api.get(f"/api/incidents/{before['id']}", headers=KEY)).json()
    assert acknowledge_within(earlier) == ("default", timedelta(hours=2))  # frozen when it opened
