"""The benchmark's table (and its one JSON line) from the figures ``bench.run`` measured."""

from __future__ import annotations

import json
import platform


def report(results: dict) -> None:
    rows = main_report(results) if "floor_rate" in results else []
    if slow := results.get("slow_provider"):
        rows.append(
            (
                "slow provider: page email p50/p99",
                f"{slow['p50']:.2f} / {slow['p99']:.2f} s",
                f"{slow['duplicates']} duplicates of {slow['emails']} at {slow['rate']:g}/s, SendGrid "
                f"answering in {slow['delay']:g} s ({slow['max_in_flight']} calls at once at most)",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(
        f"\nEscalation Runbooks benchmark - {platform.node()}, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<22} {note}")
    print(json.dumps({"bench": results}, default=float))


def main_report(results: dict) -> list[tuple[str, str, str]]:
    floor, page = results["floor_latency"], results["page_latency"]
    bare, ack, late = results["bare_update"], results["ack"], results["timer_lateness"]
    storm = results["storm"]
    return [
        ("floor throughput", f"{results['floor_rate']:.1f} wf/s", ""),
        (
            "floor start->activity p50/p99",
            f"{floor['p50'] * 1000:.0f} / {floor['p99'] * 1000:.0f} ms",
            f"at {results['half_rate']:.1f}/s",
        ),
        (
            "page latency p50/p99",
            f"{page['p50'] * 1000:.0f} / {page['p99'] * 1000:.0f} ms",
            f"p99 {page['p99'] / floor['p99']:.2f} x floor (target <= 1.25)",
        ),
        (
            "intake throughput",
            f"{results['intake_rate']:.1f} incidents/s",
            f"{results['intake_rate'] / results['floor_rate']:.0%} of floor (target >= 80%)",
        ),
        ("bare update p50/p99", f"{bare['p50'] * 1000:.0f} / {bare['p99'] * 1000:.0f} ms", ""),
        (
            "ack latency p50/p99",
            f"{ack['p50'] * 1000:.0f} / {ack['p99'] * 1000:.0f} ms",
            f"p99 {ack['p99'] / bare['p99']:.2f} x bare update (target <= 2)",
        ),
        (
            f"timer lateness ({late['open']} open) p50/p99/max",
            f"{late['p50']:.2f} / {late['p99']:.2f} / {late['max']:.2f} s",
            f"worker peak RSS {late['worker_rss_mib']:.0f} MiB (target p99 < 0.5 s)",
        ),
        (
            "alert storm",
            f"{storm['alerts_per_s']:.1f} alerts/s",
            f"{storm['incidents']} incidents for 100 keys, {storm['counted']} of {storm['alerts']} alerts "
            f"counted after {storm['all_counted_after_s']:.1f} s (target >= 143/s, exactly 100 and all)",
        ),
    ]
