"""What changed between two runs of the simulation suite, in an author's words.

Replay catches a change that breaks an incident in flight; it cannot see a changed
timeout, a tier that now pages someone else, or a target that now breaches. Comparing
the timelines of the same scenarios before and after a change does::

    default SEV1 no-ack: tier 2 paged Bob Chen now at +5m instead of +10m
    demo SEV2 ack-at-tier-2: now also paged Erin Novak in tier 3 at +25m
    security-breach SEV1 DST-night: no longer sla_breached (was at +30m)

The rows compared are the ones a responder would notice (pages, acknowledgements,
escalations, resolutions, exhaustion, targets), matched by what happened, to whom and
in which tier; each occurrence is paired in order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

NOTICED = (
    "paged",
    "acknowledged",
    "escalated",
    "resolved",
    "exhausted",
    "sla_breached",
    "no_one_on_call",
    "last_resort",
    "runbook_failed",
)


def _key(row: dict[str, Any]) -> tuple[str, int | None, str]:
    """What happened, in which tier, to whom: a target's breach by the target's name, an
    exhaustion without a tier (the tier at that moment says nothing of its own)."""
    action = row["action"]
    if action == "sla_breached":
        return action, None, row.get("why", "").split(" not within")[0]
    if action in ("exhausted", "runbook_failed"):
        return action, None, row.get("who", "")
    return action, row.get("tier"), row.get("who", "")


def _occurrences(timeline: dict[str, Any]) -> dict[tuple[str, int | None, str], list[tuple[int, str]]]:
    found: dict[tuple[str, int | None, str], list[tuple[int, str]]] = defaultdict(list)
    for row in timeline.get("rows", []):
        if row["action"] in NOTICED:
            found[_key(row)].append((row["offset_seconds"], row["offset"]))
    return found


def _what(key: tuple[str, int | None, str]) -> str:
    action, tier, who = key
    where = f"tier {tier} " if tier is not None else ""
    return f"{where}{action}{' ' + who if who else ''}"


def differences(base: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """One line per difference between two suites' timelines (scenario name -> JSON); a
    difference met in several scenarios is one line naming the first and how many more."""
    seen: dict[str, list[str]] = {}
    for line in _each(base, now):
        name, text = line.split(": ", 1)
        seen.setdefault(text, []).append(name)
    return [
        f"{names[0]}{f' (and {len(names) - 1} more)' if len(names) > 1 else ''}: {text}"
        for text, names in seen.items()
    ]


def _each(base: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for name in sorted(base.keys() | now.keys()):
        if name not in now:
            lines.append(f"{name}: no longer simulated")
            continue
        if name not in base:
            lines.append(f"{name}: a new scenario")
            continue
        before, after = base[name], now[name]
        if "error" in before or "error" in after:
            if before.get("error") != after.get("error"):
                lines.append(
                    f"{name}: {after.get('error') or 'now runs'} (was: {before.get('error') or 'ran'})"
                )
            continue
        lines += [f"{name}: {line}" for line in _compare(_occurrences(before), _occurrences(after))]
        was, is_ = before.get("totals", {}), after.get("totals", {})
        if was.get("state") != is_.get("state"):
            lines.append(f"{name}: ends {is_.get('state')} instead of {was.get('state')}")
    return lines


def _compare(before: dict, after: dict) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1] or 0, k[2])):
        old, new = before.get(key, []), after.get(key, [])
        for (_, was), (_, now) in zip(old, new, strict=False):
            if was != now:
                lines.append(f"{_what(key)} now at +{now} instead of +{was}")
        for _, now in new[len(old) :]:
            lines.append(f"now also {_what(key)} at +{now}")
        for _, was in old[len(new) :]:
            lines.append(f"no longer {_what(key)} (was at +{was})")
    return lines
