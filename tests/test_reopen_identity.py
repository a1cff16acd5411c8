"""Each opening of a dedup key is its own incident: its own id, its own emails, its
own links. A key that fires, is resolved and fires again pages again; an old link
never acts on the new incident; a retried POST with an Idempotency-Key opens one."""

from __future__ import annotations

import asyncio
import uuid

from security.links import LinkSigner
from test_alertmanager import URL, alert, group

DEMO = {"title": "Checkout latency over 2 s", "severity": "SEV2", "service": "checkout", "runbook": "demo"}


def unique(name: str) -> str:
    """Keys of their own: the dev server is shared by every API test of the session."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def resolved_and_closed(api, incident_id: str) -> None:
    answer = await api.post(f"/api/incidents/{incident_id}/resolve", json={"responder": "alice"})
    assert answer.status_code == 200, answer.text
    for _ in range(100):  # the run closes once its report is written
        listed = await api.get("/api/incidents", params={"state": "resolved", "limit": 500})
        if incident_id in [row["id"] for row in listed.json()]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident_id} never showed as resolved")


async def pages_for(api, incident_id: str) -> list[str]:
    outbox = api.settings.outbox
    for _ in range(50):
        found = sorted(p.name for p in outbox.glob(f"{incident_id}-*.json"))
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def open_with_key(api, key: str) -> tuple[int, dict]:
    answer = await api.post("/api/incidents", json={**DEMO, "dedup_key": key})
    return answer.status_code, answer.json()


async def test_a_reopened_dedup_key_is_a_new_incident_that_pages_again(api):
    key = unique("disk-full-db1")
    status, first = await open_with_key(api, key)
    assert status == 201
    assert await pages_for(api, first["id"]) == [f"{first['id']}-0001-alice.json"]
    await resolved_and_closed(api, first["id"])

    status, second = await open_with_key(api, key)
    assert status == 201
    assert second["id"] != first["id"]
    assert await pages_for(api, second["id"]) == [f"{second['id']}-0001-alice.json"]

    repeat_status, repeat = await open_with_key(api, key)
    assert repeat_status == 200 and repeat["id"] == second["id"]

    earlier = (await api.get(f"/api/incidents/{first['id']}")).json()
    current = (await api.get(f"/api/incidents/{second['id']}")).json()
    assert (earlier["state"], current["state"]) == ("resolved", "triggered")
    assert earlier["id"] == first["id"] and current["id"] == second["id"]
    rows = [row["id"] for row in (await api.get("/api/incidents", params={"limit": 500})).json()]
    assert len(rows) == len(set(rows))
    assert {first["id"], second["id"]} <= set(rows)


async def test_an_old_link_never_acts_on_the_reopened_incident(api):
    key = unique("cpu-hot-web3")
    _, first = await open_with_key(api, key)
    signer = LinkSigner(api.settings.link_secrets, api.settings.link_max_age)
    old_link = signer.sign(first["id"], "alice", "resolve")
    await resolved_and_closed(api, first["id"])
    _, second = await open_with_key(api, key)

    pressed = await api.post(f"/r/{old_link}")
    assert pressed.status_code == 409
    assert "already resolved" in pressed.text
    current = (await api.get(f"/api/incidents/{second['id']}")).json()
    assert current["state"] == "triggered" and current["resolved_by"] is None


async def test_a_still_firing_alert_opens_a_new_incident_after_a_person_resolved_it(api):
    fired = alert(fingerprint=uuid.uuid4().hex[:16], service="checkout", severity="warning")
    first = (await api.post(URL, json=group(fired))).json()["incidents"][0]
    assert first["status"] == "opened"
    await resolved_and_closed(api, first["id"])

    again = await api.post(URL, json=group(fired))  # Alertmanager re-sends: same startsAt
    assert again.status_code == 200
    [outcome] = again.json()["incidents"]
    assert outcome["status"] == "opened" and outcome["id"] != first["id"]
    current = (await api.get(f"/api/incidents/{outcome['id']}")).json()
    assert current["state"] == "triggered"
    assert await pages_for(api, outcome["id"])

    resent = (await api.post(URL, json=group(fired))).json()["incidents"][0]
    assert resent["id"] == outcome["id"]
    assert (await api.get(f"/api/incidents/{outcome['id']}")).json()["repeats"] == 0


async def test_a_retried_post_with_an_idempotency_key_opens_one_incident(api):
    headers = {"Idempotency-Key": unique("retry")}
    first = await api.post("/api/incidents", json=DEMO, headers=headers)
    again = await api.post("/api/incidents", json=DEMO, headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    view = (await api.get(f"/api/incidents/{first.json()['id']}")).json()
    assert view["repeats"] == 0
    assert [e["kind"] for e in view["timeline"]].count("triggered") == 1
    other = await api.post("/api/incidents", json=DEMO, headers={"Idempotency-Key": unique("retry-other")})
    assert other.json()["id"] != first.json()["id"]


async def test_list_filters_by_responder_and_flag(api):
    _, opened = await open_with_key(api, unique("responder-filter"))
    for _ in range(50):
        rows = (await api.get("/api/incidents", params={"responder": "alice", "limit": 500})).json()
        if opened["id"] in [r["id"] for r in rows]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("an incident that paged alice is not listed for responder=alice")
    rows = (await api.get("/api/incidents", params={"responder": "grace", "limit": 500})).json()
    assert opened["id"] not in [r["id"] for r in rows]
    flagged = (await api.get("/api/incidents", params={"flag": "exhausted", "limit": 500})).json()
    assert opened["id"] not in [r["id"] for r in flagged]
