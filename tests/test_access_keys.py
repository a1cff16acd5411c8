"""Key scopes, key names and signing out.

- An intake key (``INTAKE_API_KEYS``) posts alerts and does nothing else: it cannot read
  incidents, open or act on them, nor sign in to the pages.
- ``API_KEYS`` entries may be named (``ops:secret``); a plain key keeps working everywhere
  (as ``key-N``). What a signed-in browser does is recorded with the key's name beside the
  person chosen in the form.
- Signing out revokes the session: a copy of the cookie taken before is refused.
- Secrets never reach the log, a repr or an answer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from web_helpers import csrf_of

from conftest import serve_api
from services.settings import Settings

KEYS = "ops:ops-secret,noc:noc-secret,plain-secret"
INTAKE = "am:intake-secret"
SECRETS = ["ops-secret", "noc-secret", "plain-secret", "intake-secret"]
DEMO = {"title": "Scoped", "severity": "SEV2", "service": "checkout", "runbook": "demo"}
ALERTS = "/api/integrations/alertmanager"


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def alert_group() -> dict:
    fired = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "service": "checkout"},
        "annotations": {"summary": "Disk full"},
        "startsAt": "2025-05-01T10:00:00Z",
        "fingerprint": uuid.uuid4().hex[:16],
    }
    return {"version": "4", "status": "firing", "alerts": [fired]}


@asynccontextmanager
async def served(dev_env, tmp_path, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        task_queue=f"access-{uuid.uuid4()}",
        temporal_address=dev_env.client.service_client.config.target_host,
        **overrides,
    )
    async with serve_api(settings, worker=dev_env.client, raise_app_exceptions=False) as client:
        yield client


@pytest.fixture
async def api(dev_env, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    async with served(dev_env, tmp_path, api_keys=KEYS, intake_api_keys=INTAKE) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"key": key, "csrf": csrf_of(form.text)})


async def open_incident(api) -> str:
    response = await api.post("/api/incidents", json=DEMO, headers=bearer("ops-secret"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


# -- scopes ------------------------------------------------------------------------------


async def test_intake_key_posts_alerts_but_cannot_read_open_or_act(api):
    posted = await api.post(ALERTS, json=alert_group(), headers=bearer("intake-secret"))
    assert posted.status_code == 200, posted.text
    incident = posted.json()["incidents"][0]["id"]
    refused = [
        await api.get("/api/incidents", headers=bearer("intake-secret")),
        await api.get(f"/api/incidents/{incident}", headers=bearer("intake-secret")),
        await api.post("/api/incidents", json=DEMO, headers=bearer("intake-secret")),
        await api.post(
            f"/api/incidents/{incident}/acknowledge",
            json={"responder": "alice"},
            headers=bearer("intake-secret"),
        ),
        await api.post(
            f"/api/incidents/{incident}/notes",
            json={"author": "alice", "text": "x"},
            headers=bearer("intake-secret"),
        ),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert (
            response.json()["detail"]
            == "key 'am' is an intake key: it may only post alerts to /api/integrations/"
        )
    view = (await api.get(f"/api/incidents/{incident}", headers=bearer("ops-secret"))).json()
    assert view["state"] == "triggered" and not [e for e in view["timeline"] if e["kind"] == "note"]


async def test_intake_key_cannot_sign_in_to_the_pages(api):
    response = await sign_in(api, "intake-secret")
    assert response.status_code == 403 and "That key may only post alerts" in response.text
    assert (await api.get("/incidents")).status_code == 303
    assert (await api.get("/outbox")).status_code == 303


async def test_named_and_plain_keys_work_everywhere_including_alert_intake(api):
    for key in ["ops-secret", "noc-secret", "plain-secret", "ops:ops-secret"]:
        assert (await api.get("/api/incidents", headers=bearer(key))).status_code == 200, key
        assert (await api.post(ALERTS, json=alert_group(), headers=bearer(key))).status_code == 200, key
    for wrong in ["ops", "noc:ops-secret", "am:intake-secret-not", "ops-secret2"]:
        assert (await api.get("/api/incidents", headers=bearer(wrong))).status_code == 403, wrong


async def test_default_single_key_configuration_still_works_everywhere(dev_env, tmp_path):
    async with served(dev_env, tmp_path, api_keys="only-key") as api:
        assert (await api.get("/api/incidents", headers=bearer("only-key"))).status_code == 200
        assert (await api.post(ALERTS, json=alert_group(), headers=bearer("only-key"))).status_code == 200
        assert (await sign_in(api, "only-key")).status_code == 303
        assert "key key-1" in (await api.get("/incidents")).text


# -- the key's name beside the chosen person ---------------------------------------------


async def test_web_actions_record_the_signed_in_keys_name_beside_the_person(api):
    incident = await open_incident(api)
    assert (await sign_in(api, "noc-secret")).status_code == 303
    page = await api.get(f"/incidents/{incident}")
    assert "key noc" in page.text
    acked = await api.post(
        f"/incidents/{incident}/act",
        data={"csrf": csrf_of(page.text), "action": "acknowledge", "responder": "alice"},
    )
    assert acked.status_code == 303, acked.text
    noted = await api.post(
        f"/incidents/{incident}/notes", data={"csrf": csrf_of(page.text), "author": "bob", "text": " on it "}
    )
    assert noted.status_code == 303, noted.text
    timeline = (await api.get(f"/api/incidents/{incident}", headers=bearer("ops-secret"))).json()["timeline"]
    entries = {(e["kind"], e["actor"]): e["detail"] for e in timeline}
    assert entries[("acknowledged", "alice")] == "via the web, signed in with key noc"
    assert entries[("note", "bob")] == "on it (via the web, signed in with key noc)"
    shown = (await api.get(f"/incidents/{incident}")).text
    assert "acknowledged &middot; Alice Martin: via the web, signed in with key noc" in shown


async def test_unnamed_key_is_recorded_by_its_position(api):
    incident = await open_incident(api)
    await sign_in(api, "plain-secret")
    page = await api.get(f"/incidents/{incident}")
    await api.post(
        f"/incidents/{incident}/act",
        data={"csrf": csrf_of(page.text), "action": "resolve", "responder": "carol"},
    )
    view = (await api.get(f"/api/incidents/{incident}", headers=bearer("ops-secret"))).json()
    assert view["resolved_by"] == "carol"
    assert any(e["detail"] == "via the web, signed in with key key-3" for e in view["timeline"])


# -- signing out -------------------------------------------------------------------------


async def test_cookie_copied_before_sign_out_is_refused_after_it(api):
    incident = await open_incident(api)
    await sign_in(api, "ops-secret")
    copied = api.cookies["escalate_session"]
    page = await api.get(f"/incidents/{incident}")
    assert (await api.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as thief:
        thief.cookies.set("escalate_session", copied)
        assert (await thief.get("/incidents")).status_code == 303
        act = await thief.post(
            f"/incidents/{incident}/act",
            data={"csrf": csrf_of(page.text), "action": "acknowledge", "responder": "alice"},
        )
        assert act.status_code == 303 and act.headers["location"].startswith("/login")
    view = (await api.get(f"/api/incidents/{incident}", headers=bearer("ops-secret"))).json()
    assert view["state"] == "triggered"


async def test_sign_out_ends_only_that_session(api):
    await sign_in(api, "ops-secret")
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as other:
        await sign_in(other, "noc-secret")
        page = await api.get("/incidents")
        await api.post("/logout", data={"csrf": csrf_of(page.text)})
        assert (await other.get("/incidents")).status_code == 200
    assert (await sign_in(api, "ops-secret")).status_code == 303
    assert (await api.get("/incidents")).status_code == 200


# -- configuration and secrets -----------------------------------------------------------


def test_a_key_in_both_lists_is_refused_at_start():
    with pytest.raises(ValueError, match="both API_KEYS and INTAKE_API_KEYS"):
        Settings(api_keys="ops:shared", intake_api_keys="am:shared")


def test_the_development_key_is_refused_as_an_intake_key_outside_development():
    with pytest.raises(ValueError, match="API_KEYS must be set"):
        Settings(
            environment="production", link_secret="s" * 32, api_keys="prod-key", intake_api_keys="dev-api-key"
        )


def test_configured_keys_never_show_their_secret():
    settings = Settings(api_keys=KEYS, intake_api_keys=INTAKE)
    shown = repr(settings) + str(settings) + repr(settings.keys)
    assert not [secret for secret in SECRETS if secret in shown]
    assert [(k.name, k.scope) for k in settings.keys] == [
        ("ops", "full"),
        ("noc", "full"),
        ("key-3", "full"),
        ("am", "intake"),
    ]


async def test_no_key_offered_or_configured_reaches_the_log(api, caplog):
    caplog.set_level(logging.DEBUG)
    await api.get("/api/incidents", headers=bearer("ops-secret"))
    await api.post(ALERTS, json=alert_group(), headers=bearer("intake-secret"))
    await api.get("/api/incidents", headers=bearer("intake-secret"))
    await sign_in(api, "wrong-sign-in-key")
    for guess in [f"guess-{n}" for n in range(12)]:
        await api.get("/api/incidents", headers=bearer(guess))
    assert "throttled" in caplog.text  # the throttle did log, by address
    logged = caplog.text
    assert not [s for s in [*SECRETS, "guess-", "wrong-sign-in-key"] if s in logged], logged
