"""Hostile input shared by the bad-input tests, and the app served the way conftest's ``api``
fixture serves it, except that an exception in the app comes back as the 500 a real
server would answer (``raise_app_exceptions=False``) instead of being raised in the test."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from conftest import serve_api
from services.settings import Settings

AUTH = {"Authorization": "Bearer test-key"}

# Titles a caller may legitimately send (1-200 characters): each must be accepted and
# then shown as text everywhere, never as markup, a template or a header.
TITLES = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "jinja-expression": "{{7*7}}",
    "jinja-raw": "{% raw %}",
    "crlf": "Subject\r\nBcc: evil@example.com",
    "rtl-override": "invoice \u202egnp.exe",
    "emoji": "\U0001f525 pager \U0001f6a8 \U0001f469\u200d\U0001f692",
    "zero-width": "zero\u200bwidth\u200djoiner\ufeff",
    "nul": "nul\x00byte",
}
LONG = "<b>x</b>" * 1250  # 10,000 characters of markup
HUGE = "B" * 1_000_000
NON_UTF8 = b'{"title": "\xff\xfe", "severity": "SEV2", "service": "checkout", "runbook": "demo"}'
LONE_SURROGATE = b'{"title": "\\ud800", "severity": "SEV2", "service": "checkout", "runbook": "demo"}'


@asynccontextmanager
async def serve(dev_env, data_dir: Path, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    """The API app with its lifespan run and a worker polling; the client sends no key by itself."""
    settings = Settings(
        data_dir=data_dir,
        task_queue=f"hostile-{uuid.uuid4()}",
        api_keys="test-key",
        temporal_address=dev_env.client.service_client.config.target_host,
        **overrides,
    )
    async with serve_api(settings, worker=dev_env.client, raise_app_exceptions=False) as client:
        yield client


async def sign_in(client: httpx.AsyncClient) -> None:
    """Sign the client's cookie jar in to the web pages with the test key."""
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = await client.post("/login", data={"key": "test-key", "csrf": csrf})
    assert response.status_code == 303, response.text
