"""The domain models refuse what a caller or a runbook must not send (oversized or empty
titles, unknown severities, malformed services, too many labels, unknown fields,
acknowledgement timeouts outside 1 s - 7 days, more than 5 repeats), and a valid request
crosses Temporal's pydantic data converter unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from workflows.models import IncidentPlan, IncidentRequest, Person, Tier

VALID = {"title": "Checkout is failing", "severity": "SEV2", "service": "checkout"}
ALICE = Person(id="alice", name="Alice Martin", email="alice@example.com", timezone="Europe/Paris")


def tier(**fields) -> Tier:
    return Tier(
        **{
            "number": 1,
            "name": "first-line",
            "targets": [ALICE],
            "ack_timeout": timedelta(minutes=5),
            **fields,
        }
    )


def test_accept_minimal_request():
    request = IncidentRequest(**VALID)
    assert (request.title, request.severity, request.service) == ("Checkout is failing", "SEV2", "checkout")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 201),
        ("title", ""),
        ("title", "   "),
        ("severity", "SEV5"),
        ("service", "Checkout"),
        ("service", "check out"),
        ("labels", {f"k{i}": "v" for i in range(33)}),
    ],
    ids=[
        "title-201-chars",
        "title-empty",
        "title-blank",
        "severity-sev5",
        "service-uppercase",
        "service-space",
        "labels-33",
    ],
)
def test_reject_request_when_field_is_invalid(field, value):
    with pytest.raises(ValidationError) as raised:
        IncidentRequest(**{**VALID, field: value})
    assert [error["loc"][0] for error in raised.value.errors()] == [field]


def test_accept_request_at_the_limits():
    request = IncidentRequest(**{**VALID, "title": "x" * 200, "labels": {f"k{i}": "v" for i in range(32)}})
    assert len(request.title) == 200 and len(request.labels) == 32


def test_reject_request_when_field_is_unknown():
    with pytest.raises(ValidationError) as raised:
        IncidentRequest(**VALID, priority="high")
    [error] = raised.value.errors()
    assert error["type"] == "extra_forbidden" and error["loc"] == ("priority",)


@pytest.mark.parametrize("timeout", [timedelta(0), timedelta(days=8)], ids=["0s", "8-days"])
def test_reject_tier_when_ack_timeout_is_out_of_bounds(timeout):
    with pytest.raises(ValidationError, match="ack_timeout"):
        tier(ack_timeout=timeout)


@pytest.mark.parametrize("timeout", [timedelta(seconds=1), timedelta(days=7)], ids=["1s", "7-days"])
def test_accept_tier_when_ack_timeout_is_at_a_bound(timeout):
    assert tier(ack_timeout=timeout).ack_timeout == timeout


def test_reject_plan_when_repeat_is_six():
    with pytest.raises(ValidationError) as raised:
        IncidentPlan(runbook="demo", tiers=[tier()], repeat=6)
    assert [error["loc"] for error in raised.value.errors()] == [("repeat",)]
    assert IncidentPlan(runbook="demo", tiers=[tier()], repeat=5).repeat == 5


def test_round_trip_request_through_data_converter_unchanged():
    request = IncidentRequest(
        title="Checkout is failing — carts empty",
        severity="SEV1",
        service="checkout",
        description="Since 12:00 UTC\nno carts load ✓",
        dedup_key="checkout/500s",
        runbook="demo",
        labels={"region": "eu-west-1", "team": "payments"},
    )
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([request])
    [back] = converter.from_payloads(payloads, [IncidentRequest])
    assert isinstance(back, IncidentRequest) and back == request
    assert back.model_dump() == request.model_dump()
