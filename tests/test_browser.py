"""A real browser (Debian's headless Chromium, driven by Playwright) against the real stack
(``escalate dev``: dev server, worker and API processes): a responder signs in, reads
the tier-1 email in the outbox, follows its Acknowledge link and confirms.

Nothing is downloaded: Playwright drives the system binary. ``make test`` installs it
with apt-get when it is missing. Set ``EMAIL_SCREENSHOT=docs/email.png`` to refresh the
README's screenshot with this same code.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright

from conftest import STACK_KEY, wait_for_file

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AUTH = {"Authorization": f"Bearer {STACK_KEY}"}
PHONE = {"width": 420, "height": 480}


@pytest.fixture
async def chromium():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's chromium. "
            "Run `make test` as root (it installs it) or `apt-get install -y chromium`."
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


def png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">I", header[16:20])[0]


async def test_responder_acknowledges_from_the_outbox_email_in_a_browser(stack, chromium, tmp_path):
    base, outbox = stack
    title = "Checkout latency over 2 s"
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=20) as http:
        created = await http.post(
            "/api/incidents",
            json={
                "title": title,
                "severity": "SEV2",
                "service": "checkout",
                "runbook": "demo",
                "description": "p99 above 2 s since 03:05",
            },
        )
        assert created.status_code == 201, created.text
        incident = created.json()["id"]
    wait_for_file(outbox, f"{incident}-*-alice.json")

    page = await (await chromium.new_context(viewport=PHONE)).new_page()
    await page.goto(f"{base}/outbox")
    assert page.url.startswith(f"{base}/login")
    await page.get_by_label("API key").fill(STACK_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/outbox")

    await page.get_by_role("link", name=f"{title} - tier 1").click()
    await page.wait_for_url(f"{base}/outbox/{incident}-*-alice.json")
    assert "Alice Martin, you are paged for this incident" in await page.inner_text("body")
    screenshot = Path(os.environ.get("EMAIL_SCREENSHOT") or tmp_path / "email.png")
    await page.screenshot(path=str(screenshot), full_page=True)
    assert png_width(screenshot) == PHONE["width"]

    await page.get_by_role("link", name="Acknowledge").click()
    await page.wait_for_url(f"{base}/r/*")
    assert "do you want to acknowledge this incident?" in await page.inner_text("body")
    assert "triggered" in await page.inner_text("p.meta")
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_text("Acknowledged by Alice Martin").wait_for()

    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=20) as http:
        view = (await http.get(f"/api/incidents/{incident}")).json()
    assert view["state"] == "acknowledged" and view["acknowledged_by"] == "alice"


async def test_signed_in_browser_sees_the_acknowledgement_on_the_incident_page(stack, chromium):
    base, outbox = stack
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=20) as http:
        incident = (
            await http.post(
                "/api/incidents",
                json={"title": "Queue backlog", "severity": "SEV3", "service": "orders", "runbook": "demo"},
            )
        ).json()["id"]
    wait_for_file(outbox, f"{incident}-*-alice.json")

    page = await (await chromium.new_context(viewport=PHONE)).new_page()
    await page.goto(f"{base}/incidents/{incident}")
    await page.get_by_label("API key").fill(STACK_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/incidents/{incident}")
    await page.get_by_label("You are").select_option("alice")
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_text("Acknowledged by Alice Martin.").wait_for()
    assert "acknowledged" in await page.inner_text("p.meta")
