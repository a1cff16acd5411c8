"""``make bench``: the product against the floor, on one dev server, in one run.

Starts a dev server (SQLite file, WAL), one product worker, one API process and
a floor worker, then measures and prints a table and one JSON line:

* floor: a minimal workflow (start -> one file-writing activity -> wait for an
  update or a timer): throughput, start-to-activity latency, bare update latency;
* page latency: POST /api/incidents -> first email written, at half the floor's rate;
* intake throughput: incidents opened per second through the API at saturation;
* ack latency: POST .../acknowledge round trip;
* timer lateness: with N incidents open, how late each escalation fires;
* alert storm: alerts over 100 dedup keys through the API, and the incidents left;
* slow provider: page emails through SendGrid (the tests' HTTP double) answering after
  3 s per call: how late each page reaches SendGrid, and how many are delivered twice.

Every request goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

from bench.measure import Sampler, percentile, steady, wait_for_files
from bench.report import report
from bench.slow_provider import slow_provider
from bench.stack import DEMO, QUIET, Stack, open_incident
from harness.processes import rss_mib


async def floor_throughput(stack: Stack, count: int, concurrency: int = 32) -> float:
    folder = stack.folder / f"floor-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await stack.client.start_workflow(
                "FloorWorkflow", str(folder / f"{i}"), id=f"floor-{folder.name}-{i}", task_queue="floor"
            )

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    await wait_for_files(folder, "*", count, timeout=300)
    return count / (time.monotonic() - started)


async def floor_latency(stack: Stack, count: int, rate: float) -> list[float]:
    folder = stack.folder / f"floor-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    sent: dict[int, float] = {}

    async def one(i: int) -> None:
        sent[i] = time.time()
        await stack.client.start_workflow(
            "FloorWorkflow", str(folder / f"{i}"), id=f"floor-{folder.name}-{i}", task_queue="floor"
        )

    await steady(one, count, rate)
    await wait_for_files(folder, "*", count, timeout=300)
    return [(folder / str(i)).stat().st_mtime - sent[i] for i in range(count)]


async def bare_updates(stack: Stack, count: int) -> list[float]:
    folder = stack.folder / f"floor-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    handles = [
        await stack.client.start_workflow(
            "FloorWorkflow", str(folder / f"{i}"), id=f"floor-{folder.name}-{i}", task_queue="floor"
        )
        for i in range(count)
    ]
    await wait_for_files(folder, "*", count, timeout=300)
    times = []
    for handle in handles:
        began = time.perf_counter()
        await handle.execute_update("ack")
        times.append(time.perf_counter() - began)
    return times


async def page_latency(stack: Stack, count: int, rate: float) -> tuple[list[float], list[str]]:
    opened: list[tuple[str, float]] = []

    async def one(i: int) -> None:
        opened.append(await open_incident(stack.sender, f"page latency {i}"))

    await steady(one, count, rate)
    await wait_for_files(
        stack.outbox, "*-0001-alice.json", len(opened), timeout=300, among={i for i, _ in opened}
    )
    latencies = [(stack.outbox / f"{i}-0001-alice.json").stat().st_mtime - sent for i, sent in opened]
    return latencies, [i for i, _ in opened]


async def intake(
    stack: Stack, count: int, concurrency: int = 32, kind: dict = QUIET
) -> tuple[float, list[str]]:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        async with gate:
            return (await open_incident(stack.sender, f"intake {i}", kind))[0]

    started = time.monotonic()
    ids = await asyncio.gather(*(one(i) for i in range(count)))
    # Opened means paged, as for the floor: count until every first email is written.
    await wait_for_files(stack.outbox, "*-0001-*.json", count, timeout=max(300, count / 10), among=set(ids))
    return count / (time.monotonic() - started), list(ids)


async def acks(stack: Stack, ids: list[str]) -> list[float]:
    times = []
    for incident in ids:
        began = time.perf_counter()
        response = await stack.http.post(
            f"/api/incidents/{incident}/acknowledge", json={"responder": "alice"}
        )
        times.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError(f"ack failed: {response.status_code} {response.text}")
    return times


async def timer_lateness(
    stack: Stack, open_count: int, probes: int = 100, rate: float = 2.0
) -> tuple[list[float], float]:
    """With ``open_count`` incidents open and waiting, open ``probes`` demo incidents at a
    gentle ``rate`` and read how late each escalation fired from the records the document
    activity writes when a demo incident has exhausted its three tiers."""
    sampler = Sampler(lambda: rss_mib(stack.worker.process.pid))
    sampler.start()
    await intake(stack, open_count)  # quiet incidents: paged, then waiting for hours
    ids: list[str] = []

    async def probe(i: int) -> None:
        ids.append((await open_incident(stack.sender, f"timer probe {i}", DEMO))[0])

    await steady(probe, probes, rate)
    reports = stack.folder / "reports"
    await wait_for_files(reports, "*.json", probes, timeout=120, among=set(ids))
    sampler.stop()
    lateness = []
    for incident in ids:
        paged = json.loads((reports / f"{incident}.json").read_text())["paged"]
        times = [_seconds(p["at"]) for p in paged]
        lateness += [later - earlier - 10.0 for earlier, later in zip(times, times[1:], strict=False)]
    return lateness, sampler.peak


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


async def alert_storm(stack: Stack, alerts: int, keys: int, concurrency: int = 32) -> dict[str, float]:
    """``alerts`` alerts over ``keys`` dedup keys from ``concurrency`` senders: how fast they
    are answered (each 2xx only once the alert is durably recorded), how many incidents
    they opened, and how long until every one of them is counted on its incident."""
    service = f"storm-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await open_incident(
                stack.sender, f"storm alert {i % keys}", service=service, dedup_key=f"{service}-{i % keys}"
            )

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(alerts)))
    answered = time.monotonic() - started
    incidents: list[str] = []
    for _ in range(60):  # visibility is eventually consistent
        found = await stack.http.get("/api/incidents", params={"service": service, "limit": keys + 1})
        incidents = [row["id"] for row in found.json()]
        if len(incidents) >= keys:
            break
        await asyncio.sleep(1)
    counted = 0
    for _ in range(120):  # the last repeats are counted on their incidents shortly after
        views = [(await stack.http.get(f"/api/incidents/{i}")).json() for i in incidents]
        counted = sum(view["repeats"] + 1 for view in views)
        if counted >= alerts:
            break
        await asyncio.sleep(0.5)
    return {
        "alerts_per_s": alerts / answered,
        "incidents": len(incidents),
        "counted": counted,
        "all_counted_after_s": time.monotonic() - started,
    }


def stats(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values)}


async def run(args: argparse.Namespace) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        async with Stack(Path(tmp)) as stack:
            if not args.slow_provider_only:
                await main_rows(stack, args, results)
            if args.slow_count:  # last: its extra worker and API must not disturb the rows above
                lags, duplicates, in_flight = await slow_provider(
                    stack, args.slow_count, args.slow_rate, args.slow_delay
                )
                results["slow_provider"] = {
                    **stats(lags),
                    "emails": args.slow_count,
                    "rate": args.slow_rate,
                    "delay": args.slow_delay,
                    "duplicates": duplicates,
                    "max_in_flight": in_flight,
                }
    return results


async def main_rows(stack: Stack, args: argparse.Namespace, results: dict) -> None:
    await floor_throughput(stack, 50)  # warm-up: caches, connections, JIT of SQLite
    await intake(stack, 20)
    results["floor_rate"] = await floor_throughput(stack, args.floor)
    half = results["floor_rate"] / 2
    results["floor_latency"] = stats(await floor_latency(stack, args.latency, half))
    results["page_latency"], page_ids = await page_latency(stack, args.latency, half)
    results["page_latency"] = stats(results["page_latency"])
    results["intake_rate"], _ = await intake(stack, args.intake)
    results["bare_update"] = stats(await bare_updates(stack, args.acks))
    results["ack"] = stats(await acks(stack, page_ids[: args.acks]))
    results["storm"] = await alert_storm(stack, args.storm, 100, args.storm_concurrency)
    results["storm"]["alerts"] = args.storm
    lateness, peak = await timer_lateness(stack, args.open)
    results["timer_lateness"] = {**stats(lateness), "open": args.open, "worker_rss_mib": peak}
    results["half_rate"] = half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=int, default=300, help="floor workflows for throughput")
    parser.add_argument("--latency", type=int, default=150, help="samples for latency rows")
    parser.add_argument("--intake", type=int, default=300, help="incidents for intake throughput")
    parser.add_argument("--acks", type=int, default=100, help="acknowledgements timed")
    parser.add_argument("--storm", type=int, default=10_000, help="alerts in the storm")
    parser.add_argument(
        "--storm-concurrency",
        type=int,
        default=128,
        help="alerts in flight at once during the storm (many senders)",
    )
    parser.add_argument(
        "--open", type=int, default=1_000, help="incidents open for timer lateness (up to 10,000)"
    )
    parser.add_argument("--slow-count", type=int, default=100, help="page emails through a slow SendGrid")
    parser.add_argument("--slow-rate", type=float, default=5.0, help="incidents per second for that row")
    parser.add_argument("--slow-delay", type=float, default=3.0, help="seconds SendGrid takes per call")
    parser.add_argument("--slow-provider-only", action="store_true", help="run only the slow-provider row")
    args = parser.parse_args()
    if not 1 <= args.open <= 10_000:
        parser.error("--open must be between 1 and 10,000")
    report(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
