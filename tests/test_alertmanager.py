"""The Alertmanager / Grafana webhook: what Alertmanager sees (status codes) and what
responders see (the incidents it opens, repeats and resolves)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from api import alerts
from api.routes import alertmanager
from conftest import serve_api
from services import incidents as service
from services.servers import free_port
from services.settings import Settings
from workflows.models import IncidentRequest

URL = "/api/integrations/alertmanager"
STARTS = "2025-05-01T10:00:00.123456789Z"


def alert(
    status: str = "firing",
    starts: str = STARTS,
    fingerprint: str | None = None,
    annotations: dict | None = None,
    **labels: str,
) -> dict:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", **labels},
        "annotations": annotations or {},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint or uuid.uuid4().hex[:16],
    }


def group(*items: dict, version: str = "4") -> dict:
    return {
        "version": version,
        "receiver": "escalate",
        "status": items[0]["status"],
        "alerts": list(items),
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }


def resolved(fired: dict) -> dict:
    return {**fired, "status": "resolved", "endsAt": "2025-05-01T10:05:00Z"}


async def send(api, payload: dict, expect: int = 200) -> list[dict]:
    response = await api.post(URL, json=payload)
    assert response.status_code == expect, response.text
    return response.json()["incidents"]


async def incident(api, incident_id: str) -> dict:
    response = await api.get(f"/api/incidents/{incident_id}")
    assert response.status_code == 200, response.text
    return response.json()


# -- over HTTP, against Temporal ----------------------------------------------


async def test_post_firing_group_opens_one_incident_per_alert(api):
    db = alert(severity="critical", service="checkout", annotations={"summary": "Checkout 5xx at 12 %"})
    disk = alert(severity="warning", job="node-exporter", instance="db1:9100")
    answer = await send(api, group(db, disk))
    assert [a["status"] for a in answer] == ["opened", "opened"]
    views = [await incident(api, a["id"]) for a in answer]
    assert [(v["severity"], v["service"], v["title"]) for v in views] == [
        ("SEV1", "checkout", "Checkout 5xx at 12 %"),
        ("SEV3", "node-exporter", "HighErrorRate on db1:9100"),
    ]
    assert views[0]["state"] == "triggered" and views[0]["labels"]["severity"] == "critical"


async def test_post_same_group_again_counts_no_repeat(api):
    payload = group(alert(severity="critical"), alert(severity="warning"))
    first = await send(api, payload)
    again = await send(api, payload)
    assert [a["id"] for a in again] == [a["id"] for a in first]
    assert [(await incident(api, a["id"]))["repeats"] for a in first] == [0, 0]


async def test_post_firing_alert_with_new_starts_at_counts_a_repeat(api):
    fired = alert()
    first = await send(api, group(fired))
    again = await send(api, group({**fired, "startsAt": "2025-05-01T11:00:00Z"}))
    assert again[0]["id"] == first[0]["id"] and again[0]["status"] == "updated"
    assert (await incident(api, first[0]["id"]))["repeats"] == 1


async def test_post_resolved_alert_resolves_its_incident_as_alertmanager(api):
    fired = alert(severity="critical")
    opened = await send(api, group(fired))
    answer = await send(api, group(resolved(fired)))
    assert answer == [{"fingerprint": fired["fingerprint"], "id": opened[0]["id"], "status": "resolved"}]
    view = await incident(api, opened[0]["id"])
    assert view["state"] == "resolved" and view["resolved_by"] == "alertmanager"


async def test_post_resolved_group_again_resolves_once(api):
    fired = alert()
    opened = await send(api, group(fired))
    await send(api, group(resolved(fired)))
    await send(api, group(resolved(fired)))
    timeline = (await incident(api, opened[0]["id"]))["timeline"]
    assert [e["kind"] for e in timeline].count("resolved") == 1


async def test_post_resolved_alert_for_unknown_fingerprint_is_not_open(api):
    gone = resolved(alert())
    answer = await send(api, group(gone))
    assert answer == [
        {
            "fingerprint": gone["fingerprint"],
            "id": alerts.incident_id(gone["fingerprint"]),
            "status": "not-open",
        }
    ]


async def test_post_grafana_payload_with_extra_fields_opens_incident(api):
    fired = alert(
        instance=f"web-{uuid.uuid4().hex[:6]}",
        grafana_folder="Infra",
        annotations={"summary": "CPU over 90 %"},
    )
    del fired["fingerprint"]
    fired |= {
        "values": {"A": 95.2},
        "valueString": "[ var='A' value=95.2 ]",
        "silenceURL": "http://grafana/alerting/silence/new",
        "dashboardURL": "",
        "panelURL": "",
    }
    payload = group(fired, version="1") | {
        "orgId": 1,
        "title": "[FIRING:1] HighErrorRate",
        "state": "alerting",
        "message": "**Firing**",
    }
    answer = await send(api, payload)
    assert answer[0]["status"] == "opened" and len(answer[0]["fingerprint"]) == 16
    assert (await incident(api, answer[0]["id"]))["title"] == "CPU over 90 %"


async def test_post_grafana_alert_without_fingerprint_again_reaches_same_incident(api):
    fired = alert(instance=f"web-{uuid.uuid4().hex[:6]}")
    del fired["fingerprint"]
    first = await send(api, group(fired, version="1"))
    again = await send(api, group(resolved(fired), version="1"))
    assert again[0]["id"] == first[0]["id"] and again[0]["status"] == "resolved"


async def test_post_version_3_payload_is_422(api):
    response = await api.post(URL, json=group(alert(), version="3"))
    assert response.status_code == 422 and "version" in str(response.json()["detail"])


async def test_post_without_key_is_401(api):
    response = await api.post(URL, json=group(alert()), headers={"Authorization": ""})
    assert response.status_code == 401


async def test_post_when_temporal_unreachable_is_503_with_message(tmp_path):
    settings = Settings(data_dir=tmp_path, api_keys="k", temporal_address=f"127.0.0.1:{free_port()}")
    async with serve_api(settings, "k") as client:
        response = await client.post(URL, json=group(alert()))
    assert response.status_code == 503
    assert "Temporal cannot be reached" in response.json()["detail"]


async def test_post_group_with_alert_lost_midway_is_503_and_resend_is_safe(api, monkeypatch):
    lost, kept = alert(), alert()
    real = service.open_or_repeat
    to_lose = [f"alertmanager:{lost['fingerprint']}"]  # lost once, on the first send

    async def flaky(client, data, *args, **kwargs):
        if data.incident.dedup_key in to_lose:
            to_lose.clear()
            raise RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b"")
        return await real(client, data, *args, **kwargs)

    monkeypatch.setattr(service, "open_or_repeat", flaky)
    failed = await api.post(URL, json=group(lost, kept))
    assert failed.status_code == 503 and "1 of 2 alerts not accepted" in failed.json()["detail"]
    answer = await send(api, group(lost, kept))
    assert [a["status"] for a in answer] == ["opened", "opened"]
    assert [(await incident(api, a["id"]))["repeats"] for a in answer] == [0, 0]


async def test_post_alert_not_confirmed_in_time_is_503(api, monkeypatch):
    async def stuck(*args, **kwargs):
        await asyncio.sleep(60)  # as if no worker were polling the task queue

    monkeypatch.setattr(alertmanager, "ALERT_DEADLINE", 0.2)
    monkeypatch.setattr(service, "open_or_repeat", stuck)
    response = await api.post(URL, json=group(alert()))
    assert response.status_code == 503 and "did not confirm in time" in response.json()["detail"]


@pytest.fixture
async def roomy_api(dev_env, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        api_keys="k",
        max_body_bytes=1_000_000,
        temporal_address=dev_env.client.service_client.config.target_host,
    )
    async with serve_api(settings, "k") as client:
        yield client


async def test_post_more_than_1000_alerts_is_422(roomy_api):
    many = [{"status": "firing", "labels": {"alertname": f"a{i}"}} for i in range(1001)]
    response = await roomy_api.post(URL, json={"version": "4", "alerts": many})
    assert response.status_code == 422 and "1000" in str(response.json()["detail"])


# -- mapping an alert to an incident request ------------------------------------


def request_for(**fields) -> IncidentRequest:
    parsed = alerts.Alert.model_validate({"status": "firing", **fields})
    return alerts.incident_request(parsed, alerts.fingerprint(parsed), Settings(api_keys="k"))


def test_service_label_is_normalised_to_a_slug():
    services = [
        request_for(labels={"service": raw}).service
        for raw in ("Payments API/v2", "__batch", "!!!", "x" * 100)
    ]
    assert services == ["payments-api-v2", "batch", "unknown", "x" * 63]


def test_severity_label_is_matched_case_insensitively_with_default_for_unknown():
    severities = [
        request_for(labels={"severity": value}).severity for value in ("CRITICAL", "Error", "page-everyone")
    ]
    assert severities == ["SEV1", "SEV2", "SEV3"]


def test_oversized_alert_is_cut_to_what_an_incident_accepts():
    labels = {f"{i:02}{'k' * 70}": "v" * 300 for i in range(40)} | {"alertname": "Flood"}
    request = request_for(
        labels=labels,
        annotations={"summary": "s" * 300, "description": "d" * 20_000},
        generatorURL="http://prometheus/graph",
    )
    assert len(request.labels) == 32 and request.labels["alertname"] == "Flood"
    assert len(request.title) == 200 and len(request.description) == 10_000
    assert request.description.endswith("\n\nhttp://prometheus/graph")
