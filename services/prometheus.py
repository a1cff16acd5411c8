"""``GET /metrics``: the incident record in Prometheus' text format.

Read from the database at each scrape, so the figures are the same whichever API replica
answers, survive restarts of workers and APIs, and never count an activity retry twice
(the record writes each event once). Labels are severities and states, never people.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from store.reports import Totals, totals
from workflows.vocabulary import State

# Seconds: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 day.
BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0)


def _counter(name: str, doc: str, values: dict[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=["severity"])
    for severity, value in sorted(values.items()):
        family.add_metric([severity], value)
    return family


def _histogram(name: str, doc: str, values: dict[str, list[float]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["severity"])
    for severity, seconds in sorted(values.items()):
        buckets = [(str(bound), sum(s <= bound for s in seconds)) for bound in BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        family.add_metric([severity], buckets, sum_value=sum(seconds))
    return family


def families(record: Totals) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
    """The metric families of one reading of the record."""
    yield _counter("escalation_incidents", "Incidents recorded", record.incidents)
    yield _counter("escalation_pages", "Pages sent", record.pages)
    yield _counter("escalation_acknowledgements", "Incidents acknowledged", record.acknowledgements)
    yield _counter("escalation_escalations", "Incidents that went past tier 1", record.escalations)
    yield _histogram(
        "escalation_time_to_acknowledge_seconds",
        "From trigger to acknowledgement",
        record.seconds_to_acknowledge,
    )
    yield _histogram(
        "escalation_time_to_resolve_seconds", "From trigger to resolution", record.seconds_to_resolve
    )
    gauge = GaugeMetricFamily(
        "escalation_open_incidents", "Incidents not resolved, by state", labels=["state"]
    )
    for state in (State.TRIGGERED, State.ACKNOWLEDGED):
        gauge.add_metric([state.value], record.open_by_state.get(state.value, 0))
    yield gauge


class _RecordCollector(Collector):
    def __init__(self, record: Totals) -> None:
        self._record = record

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        yield from families(self._record)


def exposition(engine: Engine) -> bytes:
    """The text Prometheus scrapes (blocking: run it in a thread)."""
    record = totals(engine)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RecordCollector(record))
    return generate_latest(registry)
