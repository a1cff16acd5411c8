"""The product as a newcomer meets it: ``escalate dev`` (real dev server, worker and
API processes), a demo incident opened over HTTP, emails landing in the outbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from escalate.devstack import wait_for_port
from escalate.servers import free_port

AUTH = {"Authorization": "Bearer e2e-key"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e")
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {**os.environ, "DATA_DIR": str(data), "API_KEYS": "e2e-key",
           "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
           "TEMPORAL_UI_URL": f"http://127.0.0.1:{ui_port}"}
    log = (data / "dev.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "escalate.cli", "dev", "--port", str(api_port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(api_port, timeout=60)
        yield f"http://127.0.0.1:{api_port}", data / "outbox"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        log.close()


def wait_for_file(folder: Path, pattern: str, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} in {folder} after {timeout} s")


def test_demo_incident_escalates_then_stops_on_acknowledgement(stack):
    api, outbox = stack
    with httpx.Client(base_url=api, headers=AUTH, timeout=20) as http:
        created = http.post("/api/incidents", json={
            "title": "Checkout latency over 2 s", "severity": "SEV2",
            "service": "checkout", "runbook": "demo"})
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
