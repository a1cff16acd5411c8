"""The product as a newcomer meets it: ``escalate dev`` (real dev server, worker and
API processes), a demo incident opened over HTTP, emails landing in the outbox."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pytest

from conftest import STACK_KEY, wait_for_file

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

AUTH = {"Authorization": f"Bearer {STACK_KEY}"}


def test_demo_incident_escalates_then_stops_on_acknowledgement(stack):
    api, outbox = stack
    with httpx.Client(base_url=api, headers=AUTH, timeout=20) as http:
        created = http.post(
            "/api/incidents",
            json={"title": "End-to-end drill", "severity": "SEV2", "service": "checkout", "runbook": "demo"},
        )
        assert created.status_code == 201, created.text
        incident = created.json()["id"]

        wait_for_file(outbox, f"{incident}-*-alice.json", timeout=15)
        wait_for_file(outbox, f"{incident}-*-bob.json", timeout=20)
        view = http.get(f"/api/incidents/{incident}").json()
        first, second = (datetime.fromisoformat(p["at"]) for p in view["paged"][:2])
        assert timedelta(seconds=10) <= second - first < timedelta(seconds=12)

        acked = http.post(f"/api/incidents/{incident}/acknowledge", json={"responder": "bob"})
        assert acked.status_code == 200, acked.text
        assert acked.json()["state"] == "acknowledged"

        time.sleep(12)  # past tier 2's timeout: tier 3 would have been paged by now
        assert not list(outbox.glob(f"{incident}-*-carol.json"))
        view = http.get(f"/api/incidents/{incident}").json()
        assert [p["person"] for p in view["paged"]] == ["alice", "bob"]


def test_dev_stack_answers_health_and_rejects_missing_key(stack):
    api, _ = stack
    assert httpx.get(f"{api}/healthz", timeout=10).json()["status"] == "ok"
    response = httpx.post(f"{api}/api/incidents", json={}, timeout=10)
    assert response.status_code == 401
