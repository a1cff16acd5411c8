"""Throttling wrong keys: past ``AUTH_FAILURE_LIMIT`` (10) wrong keys per
``AUTH_FAILURE_WINDOW`` (60 s) from one client address, bearer or sign-in alike, that
address gets a 429 with Retry-After, on every route, without its key being checked.
Right keys never count, and one client's failures never throttle another client.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.requests import Request

from api.limits import FailureThrottle, client_address
from api.main import create_app
from services.settings import Settings
from worker import build_worker

KEY = {"Authorization": "Bearer right-key"}
WRONG = {"Authorization": "Bearer wrong-key"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def served(dev_env, tmp_path, **overrides) -> AsyncIterator[tuple]:
    settings = Settings(
        data_dir=tmp_path,
        task_queue=f"throttle-{uuid.uuid4()}",
        api_keys="right-key",
        intake_api_keys="intake-key",
        temporal_address=dev_env.client.service_client.config.target_host,
        **overrides,
    )
    app = create_app(settings)
    clock = Clock()
    app.state.auth_failures.clock = clock
    async with app.router.lifespan_context(app), build_worker(dev_env.client, settings):

        def client(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
            return httpx.AsyncClient(transport=transport, base_url="http://api")

        yield client, clock


@pytest.fixture
async def clients(dev_env, tmp_path):
    async with served(dev_env, tmp_path) as pair:
        yield pair


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return await client.post("/login", data={"key": key, "csrf": csrf})


async def test_eleventh_wrong_bearer_key_is_429_with_retry_after_but_not_for_others(clients):
    client, clock = clients
    async with client("10.0.0.1") as guesser, client("10.0.0.2") as neighbour:
        for _ in range(10):
            assert (await guesser.get("/api/incidents", headers=WRONG)).status_code == 403
        clock.now += 15
        throttled = await guesser.get("/api/incidents", headers=WRONG)
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "45"
        assert "too many wrong API keys" in throttled.json()["detail"]
        # The guesser's next try is not even checked, right key or not.
        assert (await guesser.get("/api/incidents", headers=KEY)).status_code == 429
        # Another client is not throttled by the guesser's failures.
        assert (await neighbour.get("/api/incidents", headers=KEY)).status_code == 200
        assert (await neighbour.get("/api/incidents", headers=WRONG)).status_code == 403
        clock.now += 46  # the oldest failures leave the window
        assert (await guesser.get("/api/incidents", headers=KEY)).status_code == 200


async def test_right_keys_and_missing_keys_never_count(clients):
    client, _ = clients
    async with client("10.0.0.3") as busy:
        for _ in range(30):
            assert (await busy.get("/api/incidents", headers=KEY)).status_code == 200
            assert (await busy.get("/api/incidents")).status_code == 401
        for _ in range(9):
            assert (await busy.get("/api/incidents", headers=WRONG)).status_code == 403
        assert (await busy.get("/api/incidents", headers=KEY)).status_code == 200
        # Using an intake key where it does not apply is a scope error, not a guess.
        for _ in range(5):
            intake = await busy.get("/api/incidents", headers={"Authorization": "Bearer intake-key"})
            assert intake.status_code == 403
        assert (await busy.get("/api/incidents", headers=WRONG)).status_code == 403


async def test_eleventh_wrong_sign_in_is_429_and_shares_the_count_with_bearer_keys(clients):
    client, _ = clients
    async with client("10.0.0.4") as guesser, client("10.0.0.5") as person:
        for _ in range(5):
            assert (await guesser.get("/api/incidents", headers=WRONG)).status_code == 403
        for _ in range(5):
            assert (await sign_in(guesser, "wrong-key")).status_code == 401
        throttled = await sign_in(guesser, "right-key")
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) == 60
        assert "Too many wrong keys from your address" in throttled.text
        assert (await guesser.get("/incidents")).status_code == 303  # not signed in
        assert (await sign_in(person, "right-key")).status_code == 303


async def test_alert_intake_is_throttled_too_but_not_an_alertmanager_elsewhere(clients):
    client, _ = clients
    group = {"version": "4", "alerts": []}
    url = "/api/integrations/alertmanager"
    async with client("10.0.0.6") as guesser, client("10.0.0.8") as alertmanager:
        for _ in range(10):
            assert (await guesser.post(url, json=group, headers=WRONG)).status_code == 403
        throttled = await guesser.post(url, json=group, headers={"Authorization": "Bearer intake-key"})
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "60"
        sent = await alertmanager.post(url, json=group, headers={"Authorization": "Bearer intake-key"})
        assert sent.status_code == 200, sent.text


async def test_limit_zero_turns_throttling_off(dev_env, tmp_path):
    async with served(dev_env, tmp_path, auth_failure_limit=0) as (client, _), client("10.0.0.7") as guesser:
        for _ in range(30):
            assert (await guesser.get("/api/incidents", headers=WRONG)).status_code == 403
        assert (await guesser.get("/api/incidents", headers=KEY)).status_code == 200


# -- the throttle on its own -------------------------------------------------------------


def test_throttle_is_a_sliding_window_of_the_last_failures():
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60, clock=clock)
    for step in range(3):
        assert throttle.retry_after("a") is None
        throttle.fail("a")
        clock.now += 10 * (step < 2)
    assert throttle.retry_after("a") == 40  # failures at 0, 10, 20; now 20
    assert throttle.retry_after("b") is None
    clock.now = 1060
    assert throttle.retry_after("a") is None  # the first left the window: one more try
    throttle.fail("a")
    assert throttle.retry_after("a") == 10


def test_throttle_remembers_a_bounded_number_of_clients():
    clock = Clock()
    throttle = FailureThrottle(limit=2, window=60, clock=clock)
    throttle.MAX_CLIENTS = 100
    for n in range(1000):
        throttle.fail(f"client-{n}")
    assert len(throttle._failures) <= 100
    throttle.fail("client-999")
    assert throttle.retry_after("client-999") == 60


@pytest.mark.parametrize(
    ("peer", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::2", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("testclient", "testclient"),
    ],
)
def test_client_address_groups_an_ipv6_client_by_its_64(peer, counted_as):
    request = Request({"type": "http", "client": (peer, 1), "headers": []})
    assert client_address(request) == counted_as
    if "/" in counted_as:
        assert ipaddress.ip_address(peer) in ipaddress.ip_network(counted_as)
