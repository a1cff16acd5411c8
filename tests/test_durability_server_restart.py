"""Stopping and restarting the Temporal server mid-escalation loses nothing.

While it is down the API answers 503 with a message (never a stack trace); once it is
back, the API and the worker reconnect by themselves and the incident's timers fire.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cli.devstack import wait_for_port
from harness.processes import DevServer, Process, app_env, escalate
from services.servers import free_port

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

DEMO = {"title": "Server restart drill", "severity": "SEV2", "service": "checkout", "runbook": "demo"}
AUTH = {"Authorization": "Bearer durable-key"}


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def emailed(outbox: Path, incident: str, person: str):
    async def check():
        return list(outbox.glob(f"{incident}-*-{person}.json"))

    return check


@pytest.mark.timeout(240)
async def test_restart_server_mid_escalation_keeps_incident_and_timers(tmp_path):
    server = DevServer(tmp_path)
    server.start()
    env = app_env(tmp_path, server)
    port = free_port()
    worker = Process(escalate("worker"), env, tmp_path / "worker.log")
    api = Process(escalate("api", "--port", str(port)), env, tmp_path / "api.log")
    worker.start()
    api.start()
    outbox = tmp_path / "outbox"
    try:
        wait_for_port(port, timeout=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=30) as http:
            created = await http.post("/api/incidents", json=DEMO)
            assert created.status_code == 201, created.text
            incident = created.json()["id"]
            await wait_for(emailed(outbox, incident, "alice"), 20, "alice's page")

            server.stop()
            down = await http.post("/api/incidents", json=DEMO)
            assert down.status_code == 503
            assert "Temporal cannot be reached" in down.json()["detail"]
            assert (await http.get("/healthz")).status_code == 503
            await asyncio.sleep(12)  # tier 2 falls due while the server is down

            server.start()

            async def healthy():
                return (await http.get("/healthz")).status_code == 200

            await wait_for(healthy, 60, "the API to reconnect")
            await wait_for(emailed(outbox, incident, "bob"), 60, "bob's page after the restart")
            await wait_for(emailed(outbox, incident, "carol"), 40, "carol's page")

            view = (await http.get(f"/api/incidents/{incident}")).json()
            assert [p["person"] for p in view["paged"]] == ["alice", "bob", "carol"]
            times = [datetime.fromisoformat(p["at"]) for p in view["paged"]]
            assert all(b - a >= timedelta(seconds=10) for a, b in zip(times, times[1:], strict=False))
            assert (await http.post("/api/incidents", json=DEMO)).status_code == 201
    finally:
        api.stop()
        worker.stop()
        server.stop()
