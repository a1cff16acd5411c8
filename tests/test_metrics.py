"""The metrics escalation practice asks for, from the incident record, on SQLite and
PostgreSQL: time to acknowledge and resolve, how often and how far incidents escalate,
which tier answers, pages per person by hour type in their own zone, who resolves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.record import IncidentRecorder
from conftest import serve_api
from services.reports import InvalidPeriod, period
from services.settings import RUNBOOKS_DIR, Settings
from store.db import engine_for, migrate
from store.people import import_directory
from store.reports import hour_type, metrics, percentiles
from workflows.models import IncidentView, Page, Severity, State

# Monday 2026-11-16, 03:00 UTC: 04:00 in Paris (sleep), 22:00 the day before in New York.
T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def incident(
    number: int, ack_min: int | None, resolve_min: int | None, tiers: list[str], **fields
) -> IncidentView:
    pages = [
        Page(person=person, tier=tier, at=T0 + (tier - 1) * 5 * MIN) for tier, person in enumerate(tiers, 1)
    ]
    return IncidentView(
        id=f"inc-{number}",
        title="Checkout is failing",
        severity=fields.pop("severity", Severity.SEV2),
        service=fields.pop("service", "checkout"),
        runbook="demo",
        state=State.RESOLVED if resolve_min is not None else State.TRIGGERED,
        created_at=T0,
        paged=pages,
        acknowledged_by=tiers[-1] if ack_min is not None else None,
        acknowledged_at=T0 + ack_min * MIN if ack_min is not None else None,
        resolved_by=fields.pop("resolved_by", tiers[-1]) if resolve_min is not None else None,
        resolved_at=T0 + resolve_min * MIN if resolve_min is not None else None,
        **fields,
    )


@pytest.fixture
def engine(database_url, tmp_path):
    engine = engine_for(database_url, tmp_path)
    import_directory(engine, RUNBOOKS_DIR / "directory.yaml")
    recorder = IncidentRecorder(engine)
    for view in (
        incident(1, 2, 10, ["alice"]),  # acknowledged at tier 1
        incident(2, 7, 30, ["alice", "bob"]),  # escalated once, acknowledged at tier 2
        incident(3, None, 60, ["alice", "bob", "carol"], resolved_by="alertmanager"),  # exhausted
        incident(4, 1, 5, ["alice"], service="search", severity=Severity.SEV1),
    ):
        recorder.record(view)
    return engine


def test_metrics_of_a_period(engine):
    result = metrics(engine, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert result.incidents == 4
    assert (result.mtta_seconds.p50, result.mtta_seconds.count) == (120.0, 3)  # 1, 2 and 7 minutes
    assert result.mttr_seconds.p50 == 20 * 60.0  # 5, 10, 30, 60 minutes: halfway between 10 and 30
    assert result.escalation_rate == 0.5
    assert result.max_tier_histogram == {1: 2, 2: 1, 3: 1}
    assert result.tier_ack_rate == {1: 0.5, 2: 0.5, 3: 0.0}  # tier 1: 2 of 4; tier 2: 1 of 2; tier 3: 0 of 1
    assert (result.auto_resolved, result.resolved_by_person) == (1, 3)
    assert result.pages_per_person["alice"].model_dump() == {"business": 0, "off": 0, "sleep": 4}
    assert result.satisfaction.responses == 0 and result.satisfaction.average is None


def test_filters_and_an_empty_period(engine):
    search = metrics(engine, T0 - timedelta(days=1), T0 + timedelta(days=1), service="search")
    assert search.incidents == 1 and search.mtta_seconds.p50 == 60.0
    assert metrics(engine, T0 - timedelta(days=1), T0 + timedelta(days=1), severity="SEV1").incidents == 1
    empty = metrics(engine, T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert empty.incidents == 0 and empty.escalation_rate is None and empty.mtta_seconds.p50 is None


def test_hour_types_are_read_in_the_persons_own_zone():
    paris = "Europe/Paris"  # UTC+1 in November
    assert hour_type(T0, paris) == "sleep"  # 04:00 Monday
    assert hour_type(T0, "America/New_York") == "sleep"  # 22:00 Sunday
    assert hour_type(T0 + timedelta(hours=8), paris) == "business"  # 12:00 Monday
    assert hour_type(T0 + timedelta(hours=17), paris) == "off"  # 21:00 Monday
    assert hour_type(T0 + timedelta(hours=19), paris) == "sleep"  # 23:00 Monday
    assert hour_type(T0 + timedelta(days=5, hours=8), paris) == "off"  # Saturday noon


def test_percentiles_interpolate_between_ranks():
    assert percentiles([]).p50 is None
    assert percentiles([10]).model_dump() == {"p50": 10, "p90": 10, "count": 1}
    assert percentiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).p90 == 9.1


def test_periods_default_to_thirty_days_and_refuse_nonsense():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert period(None, None, now) == (now - timedelta(days=30), now)
    assert period(datetime(2026, 11, 1), datetime(2026, 11, 2))[0].tzinfo is UTC
    with pytest.raises(InvalidPeriod, match="before"):
        period(now, now - timedelta(days=1))
    with pytest.raises(InvalidPeriod, match="366"):
        period(now - timedelta(days=400), now)


async def test_the_api_serves_the_record_and_refuses_bad_filters(tmp_path):
    engine = engine_for(None, tmp_path)
    migrate(engine)
    IncidentRecorder(engine).record(incident(1, 2, 10, ["alice"]))
    settings = Settings(data_dir=tmp_path, api_keys="k")
    async with serve_api(settings, key="k") as api:
        answer = await api.get(
            "/api/metrics", params={"since": "2026-11-15T00:00:00Z", "until": "2026-11-17"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["incidents"] == 1 and answer.json()["mtta_seconds"]["p50"] == 120.0
        backwards = await api.get("/api/metrics", params={"since": "2026-11-17", "until": "2026-11-15"})
        assert backwards.status_code == 422 and "before" in backwards.json()["detail"]
        assert (await api.get("/api/metrics", params={"service": "Bad Name"})).status_code == 422
        assert (await api.get("/api/metrics", params={"since": "yesterday"})).status_code == 422
        assert (await api.get("/api/metrics", headers={"Authorization": ""})).status_code == 401


def test_prometheus_counts_come_from_the_record_once_each(engine):
    from prometheus_client.parser import text_string_to_metric_families

    from services.prometheus import exposition

    IncidentRecorder(engine).record(incident(2, 7, 30, ["alice", "bob"]))  # a retried activity
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition(engine).decode())
        for s in family.samples
    }
    assert samples[("escalation_incidents_total", (("severity", "SEV2"),))] == 3
    assert samples[("escalation_incidents_total", (("severity", "SEV1"),))] == 1
    assert samples[("escalation_pages_total", (("severity", "SEV2"),))] == 1 + 2 + 3
    assert samples[("escalation_escalations_total", (("severity", "SEV2"),))] == 2
    assert samples[("escalation_acknowledgements_total", (("severity", "SEV2"),))] == 2
    ack = "escalation_time_to_acknowledge_seconds"
    assert samples[(f"{ack}_bucket", (("le", "300.0"), ("severity", "SEV2")))] == 1  # 2 min; 7 min is later
    assert samples[(f"{ack}_count", (("severity", "SEV2"),))] == 2
    assert samples[("escalation_open_incidents", (("state", "triggered"),))] == 0
    label_names = {name for _, labels in samples for name, _ in labels}
    label_values = {value for _, labels in samples for _, value in labels}
    assert label_names == {"severity", "state", "le"}  # never a person
    assert not label_values & {"alice", "bob", "carol"}


async def test_the_prometheus_endpoint_needs_a_key_and_serves_text(tmp_path):
    engine = engine_for(None, tmp_path)
    migrate(engine)
    IncidentRecorder(engine).record(incident(1, None, None, ["alice"]))  # still open, paging
    async with serve_api(Settings(data_dir=tmp_path, api_keys="k"), key="k") as api:
        answer = await api.get("/metrics")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        assert 'escalation_open_incidents{state="triggered"} 1.0' in answer.text
        assert (await api.get("/metrics", headers={"Authorization": ""})).status_code == 401


async def test_the_metrics_page_shows_the_numbers_of_the_json_endpoint(tmp_path):
    from hostile import sign_in

    engine = engine_for(None, tmp_path)
    migrate(engine)
    import_directory(engine, RUNBOOKS_DIR / "directory.yaml")
    recorder = IncidentRecorder(engine)
    recorder.record(incident(1, 2, 10, ["alice"]))
    recorder.record(incident(2, 7, 30, ["alice", "<b>bob</b>"]))  # a hostile id stays text
    async with serve_api(Settings(data_dir=tmp_path, api_keys="test-key")) as web:
        assert (await web.get("/reports")).status_code in (303, 401)  # signed-in pages only
        await sign_in(web)
        period = {"since": "2026-11-10", "until": "2026-11-20"}
        page = await web.get("/reports", params=period)
        assert page.status_code == 200
        numbers = (
            await web.get(
                "/api/metrics",
                params={"since": "2026-11-10", "until": "2026-11-21"},
                headers={"Authorization": "Bearer test-key"},
            )
        ).json()
        assert f'<dd id="incidents">{numbers["incidents"]}</dd>' in page.text
        assert "p50 4m 30s" in page.text and numbers["mtta_seconds"]["p50"] == 270.0
        assert '<dd id="escalation">50 %</dd>' in page.text and numbers["escalation_rate"] == 0.5
        assert page.text.count("<svg") == 5 and "<b>bob</b>" not in page.text
        assert "&lt;b&gt;bob&lt;/b&gt;" in page.text
        assert "script" not in page.text.lower()
        bad = await web.get("/reports", params={"since": "2026-11-20", "until": "2026-11-10"})
        assert bad.status_code == 422 and "before" in bad.text
        assert (await web.get("/reports", params={"since": "tomorrow"})).status_code == 422


def test_sla_breach_rate_per_severity_counts_only_incidents_held_to_a_policy(engine):
    from workflows.targets import SlaState, TargetClock
    from workflows.vocabulary import Goal

    def held(number: int, breached: bool) -> None:
        clock = TargetClock(goal=Goal.ACKNOWLEDGE, within=10 * MIN, due=T0 + 10 * MIN)
        clock.breached_at = T0 + 10 * MIN if breached else None
        state = SlaState(policy="default", severity=Severity.SEV1, start=T0, targets=[clock])
        view = incident(number, 1, 20, ["alice"], severity=Severity.SEV1)
        IncidentRecorder(engine).record(view.model_copy(update={"sla": state}))

    held(11, breached=True)
    held(12, breached=False)
    result = metrics(engine, T0 - timedelta(days=1), T0 + timedelta(days=1))
    # incident 4 is SEV1 too, but held to no policy: not counted
    assert result.sla_breach_rate == {"SEV1": 0.5}
    assert (
        metrics(engine, T0 - timedelta(days=1), T0 + timedelta(days=1), severity="SEV2").sla_breach_rate == {}
    )
