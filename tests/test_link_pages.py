"""A responder's path from the email: GET shows a page and changes nothing, POST acts."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

DEMO = {
    "title": "<script>alert(1)</script> checkout down",
    "severity": "SEV2",
    "service": "checkout",
    "runbook": "demo",
}


async def first_email(outbox: Path, incident: str) -> dict:
    for _ in range(100):
        found = sorted(outbox.glob(f"{incident}-*-alice.json"))
        if found:
            return json.loads(found[0].read_text())
        await asyncio.sleep(0.1)
    raise AssertionError("alice was never emailed")


def link(email: dict, action: str) -> str:
    text = next(c["value"] for c in email["content"] if c["type"] == "text/plain")
    return re.search(rf"{action.capitalize()}: \S+(/r/\S+)", text).group(1)


async def open_and_get_link(api, action="acknowledge") -> tuple[str, str]:
    incident = (await api.post("/api/incidents", json=DEMO)).json()["id"]
    email = await first_email(api.settings.outbox, incident)
    return incident, link(email, action)


async def test_get_link_shows_confirmation_and_changes_nothing(api):
    incident, path = await open_and_get_link(api)
    for _ in range(3):  # a scanner fetching the link again and again
        page = await api.get(path)
        assert page.status_code == 200
    assert '<form method="post">' in page.text and "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert (await api.get(f"/api/incidents/{incident}")).json()["state"] == "triggered"


async def test_post_link_acknowledges_and_names_the_responder(api):
    incident, path = await open_and_get_link(api)
    done = await api.post(path)
    assert done.status_code == 200 and "Acknowledged by Alice Martin at" in done.text
    assert "(Europe/Paris)" in done.text
    view = (await api.get(f"/api/incidents/{incident}")).json()
    assert view["state"] == "acknowledged" and view["acknowledged_by"] == "alice"


async def test_post_resolve_link_after_ack_then_ack_again_is_409(api):
    incident, ack = await open_and_get_link(api)
    email = await first_email(api.settings.outbox, incident)
    assert (await api.post(link(email, "resolve"))).status_code == 200
    again = await api.post(ack)
    assert again.status_code == 409 and "already resolved by alice" in again.text.lower()


async def test_altered_token_gets_clear_400_and_changes_nothing(api):
    incident, path = await open_and_get_link(api)
    altered = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    for response in (await api.get(altered), await api.post(altered)):
        assert response.status_code == 400 and "This link is not valid" in response.text
    assert (await api.get(f"/api/incidents/{incident}")).json()["state"] == "triggered"
