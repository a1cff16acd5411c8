"""The benchmark's stack: the embedded product (dev server, worker, API) and the floor
worker on free ports in a temporary folder, and the one way the benchmark opens incidents."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import aiohttp
import httpx
from temporalio.client import Client

from cli.devstack import wait_for_port
from harness.processes import DevServer, Process, app_env, escalate
from services.servers import free_port

KEY = "bench-key"
# One person per team, so an incident's first page is one email, as the floor's one activity.
BENCH_DIRECTORY = """
people:
  - {id: alice, name: Alice, email: alice@example.com}
  - {id: bob, name: Bob, email: bob@example.com}
  - {id: carol, name: Carol, email: carol@example.com}
  - {id: heidi, name: Heidi, email: heidi@example.com}
  - {id: judy, name: Judy, email: judy@example.com}
  - {id: ciso, name: Ciso, email: ciso@example.com}
teams:
  - {id: support, name: Support, members: [alice]}
  - {id: leads, name: Leads, members: [bob]}
  - {id: platform, name: Platform, members: [bob]}
  - {id: dba, name: DBA, members: [bob]}
  - {id: payments, name: Payments, members: [bob]}
  - {id: management, name: Management, members: [carol]}
  - {id: security, name: Security, members: [heidi]}
  - {id: legal, name: Legal, members: [judy]}
  - {id: stakeholders, name: Stakeholders, members: [carol]}
"""
# Quiet incidents (SEV4 on the default ladder: two hours before tier 2) for the rows
# that must not be disturbed by escalations in the background; demo ones for timers.
QUIET = {"severity": "SEV4", "service": "checkout", "runbook": "default"}
DEMO = {"severity": "SEV2", "service": "checkout", "runbook": "demo"}


class Stack:
    """The embedded stack on free ports, in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = DevServer(folder)
        self.api_port = free_port()
        self.processes: list[Process] = []

    async def __aenter__(self) -> Stack:
        self.server.start()
        (self.folder / "directory.yaml").write_text(BENCH_DIRECTORY)
        env = self.env("bench")
        self.worker = self._start(escalate("worker"), env, "worker")
        self._start(escalate("api", "--port", str(self.api_port)), env, "api")
        floor = [sys.executable, "-m", "bench.floor", self.server.address, "floor"]
        self._start(floor, env, "floor")
        wait_for_port(self.api_port, timeout=60)
        self.client = await Client.connect(self.server.address)
        self.http = api_client(self.api_port)
        self.sender = api_sender(self.api_port)
        return self

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        """The environment of a product process on ``task_queue`` (``extra``: more variables)."""
        directory = str(self.folder / "directory.yaml")
        return app_env(self.folder, self.server, KEY, task_queue, DIRECTORY_FILE=directory, **extra)

    def start_product(self, name: str, task_queue: str, **extra: str) -> tuple[int, list[Process]]:
        """A second worker and API on ``task_queue``, configured by ``extra`` (e.g. SendGrid);
        returns the API port (once it listens) and the two processes, for ``stop()``."""
        port, env = free_port(), self.env(task_queue, **extra)
        worker = self._start(escalate("worker"), env, f"{name}-worker")
        api = self._start(escalate("api", "--port", str(port)), env, f"{name}-api")
        wait_for_port(port, timeout=60)
        return port, [worker, api]

    def _start(self, command: list[str], env: dict, name: str) -> Process:
        process = Process(command, env, self.folder / f"{name}.log")
        process.start()
        self.processes.append(process)
        return process

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()
        await self.sender.close()
        for process in self.processes:
            process.stop()
        self.server.stop()

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"


def api_client(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
        # Drop idle connections well before the server would (no reuse of a closing one).
        limits=httpx.Limits(max_connections=256, keepalive_expiry=2),
    )


def api_sender(port: int) -> aiohttp.ClientSession:
    """What opens incidents: aiohttp, lighter than httpx on the two cores the benchmark
    shares with the product it measures (reads go through ``api_client``)."""
    return aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {KEY}"},
        connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=2),
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def open_incident(
    sender: aiohttp.ClientSession, title: str, kind: dict = QUIET, **extra
) -> tuple[str, float]:
    """POST an incident; its id and the time.time() it was sent."""
    sent = time.time()
    async with sender.post("/api/incidents", json={**kind, "title": title, **extra}) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"open failed: {response.status} {await response.text()}")
        return (await response.json())["id"], sent
