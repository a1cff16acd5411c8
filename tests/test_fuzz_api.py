"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

For every JSON operation of the document (incidents: open, list, read, acknowledge,
resolve, escalate, notes; the Alertmanager webhook; /healthz), inputs generated from
the schema, valid and invalid, sent with the right bearer key, a generated wrong one or
none, against the real app wired to a real Temporal dev server with a worker, get:

- no 5xx (``not_a_server_error``);
- a status code the document lists for the operation (``status_code_conformance``);
- the documented content type (``content_type_conformance``);
- a body that matches the documented schema (``response_schema_conformance``).

Operations on one incident are fuzzed both on random ids and on a real open incident,
with responders from the directory, so the accepted paths are checked too. The HTML
routes (``/r/{token}``, ``/f/{token}``, the web pages) are left to ``test_hostile_input.py``
and ``test_feedback.py``, the calendar feeds (``/calendars/{token}.ics``, iCalendar) to
``test_schedules_api.py``.

Hypothesis runs its (synchronous) examples in a thread; each request is sent on the
test's event loop, where the app's Temporal client and the worker live. Runs are
derandomized and bounded; shrinking is off, so a failure reports the generated input
and a curl command to reproduce it.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from hostile import AUTH, serve
from services.settings import Settings

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(api_keys="test-key")).openapi())
DEMO = {"title": "Fuzzing target", "severity": "SEV3", "service": "checkout", "runbook": "demo"}
PEOPLE = ["alice", "bob", "carol"]
# How each request is signed: the right key, whatever the generator chose, or nothing.
SIGNING = ["key", "generated", "none"]

ON_INCIDENT = ["acknowledge", "resolve", "escalate", "notes"]
OPERATIONS = [
    ("POST", "/api/incidents", 60),
    ("GET", "/api/incidents", 60),
    ("GET", "/api/incidents/{incident_id}", 60),
    *[("POST", f"/api/incidents/{{incident_id}}/{action}", 60) for action in ON_INCIDENT],
    ("POST", "/api/incidents/{incident_id}/severity", 30),
    ("POST", "/api/incidents/{incident_id}/snooze", 30),
    ("POST", "/api/incidents/{incident_id}/pause", 30),
    ("POST", "/api/integrations/alertmanager", 60),
    ("GET", "/healthz", 5),
    ("GET", "/api/metrics", 40),
    ("GET", "/metrics", 10),
    *[(method, f"/api/{kind}", 30) for kind in ("people", "teams") for method in ("GET", "POST")],
    *[(method, "/api/people/{person_id}", 30) for method in ("GET", "PATCH")],
    *[(method, "/api/teams/{team_id}", 30) for method in ("GET", "PATCH")],
    ("GET", "/api/incidents/{incident_id}/review", 30),
    ("PUT", "/api/incidents/{incident_id}/review", 30),
    ("GET", "/api/incidents/{incident_id}/review.md", 10),
    ("GET", "/api/incidents/{incident_id}/feedback", 30),
    ("GET", "/api/incidents/{incident_id}/drill-report", 20),
    *[(method, "/api/schedules", 30) for method in ("GET", "POST")],
    ("POST", "/api/schedules/preview", 40),
    *[(method, "/api/schedules/{schedule_id}", 30) for method in ("GET", "PATCH", "DELETE")],
    *[("GET", f"/api/schedules/{{schedule_id}}/{view}", 30) for view in ("oncall", "shifts")],
    ("POST", "/api/schedules/{schedule_id}/overrides", 30),
    ("DELETE", "/api/schedules/{schedule_id}/overrides/{override_id}", 10),
    ("GET", "/api/schedules/{schedule_id}/calendar-link", 10),
    ("GET", "/api/people/{person_id}/calendar-link", 10),
    *[(method, "/api/maintenance-windows", 30) for method in ("GET", "POST")],
    *[(method, "/api/maintenance-windows/{window_id}", 20) for method in ("GET", "DELETE")],
    ("GET", "/api/sla-policies", 10),
    *[(method, "/api/sla-policies/{name}", 30) for method in ("GET", "PUT", "DELETE")],
]


def test_fuzz_operations_include_every_json_operation():
    documented = {(op.ok().method.upper(), op.ok().path) for op in SCHEMA.get_all_operations()}
    html_only = {(m, p) for m, p in documented if p.startswith(("/r/", "/f/", "/calendars/"))}
    assert documented - html_only == {(method, path) for method, path, _ in OPERATIONS}


def cases(method: str, path: str, incident: str):
    """Generated cases of one operation: valid and invalid, on random and on real ids."""
    operation = SCHEMA[path][method]
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(mode) for mode in modes]
    if "{incident_id}" in path:
        strategies += [
            operation.as_strategy(mode, path_parameters={"incident_id": incident}) for mode in modes
        ]
    if "{schedule_id}" in path:  # a seed schedule: the accepted paths too
        strategies += [
            operation.as_strategy(mode, path_parameters={"schedule_id": "platform"}) for mode in modes
        ]
    return st.one_of(strategies)


def known_body(path: str):
    """A valid body naming someone in the directory, so that actions get past the responder check."""
    person = st.sampled_from(PEOPLE)
    text = st.text(min_size=1, max_size=80)
    if path.endswith("/notes"):
        return st.fixed_dictionaries({"author": person, "text": text})
    return st.fixed_dictionaries({"responder": person}, optional={"note": text})


async def send(api: httpx.AsyncClient, case, auth: str) -> tuple[httpx.Response, dict]:
    kwargs = case.as_transport_kwargs(base_url=str(api.base_url).rstrip("/"))
    body = {"json": kwargs["json"]} if "json" in kwargs else {"content": kwargs.get("data")}
    request = api.build_request(
        kwargs["method"], kwargs["url"], params=kwargs["params"], headers=kwargs["headers"], **body
    )
    if auth == "key":
        request.headers.update(AUTH)
    elif auth == "none":
        request.headers.pop("Authorization", None)
    return await api.send(request), dict(request.headers)


async def fuzz(api: httpx.AsyncClient, method: str, path: str, examples: int, incident: str) -> None:
    loop = asyncio.get_running_loop()
    real = path.removeprefix("/api/incidents/{incident_id}/") in ON_INCIDENT

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
    @given(
        case=cases(method, path, incident),
        auth=st.sampled_from(SIGNING),
        body=known_body(path) if real else st.none(),
        use_body=st.booleans(),
    )
    def run(case, auth, body, use_body):
        if body is not None and use_body and case.path_parameters.get("incident_id") == incident:
            case.body = body
        future = asyncio.run_coroutine_threadsafe(send(api, case, auth), loop)
        response, headers = future.result(timeout=120)
        case.validate_response(response, checks=CHECKS, headers=headers)

    await asyncio.to_thread(run)


@pytest.mark.parametrize(
    ("method", "path", "examples"), OPERATIONS, ids=[f"{method} {path}" for method, path, _ in OPERATIONS]
)
async def test_fuzz_operation_answers_conform_to_the_schema(dev_env, tmp_path, method, path, examples):
    # Built as conftest's `api` (4 KiB body limit), but an app exception is answered as the
    # 500 a server would send, so `not_a_server_error` reports it with the input.
    # Throttling off: every generated request comes from one address.
    async with serve(dev_env, tmp_path, max_body_bytes=4096, auth_failure_limit=0) as api:
        opened = await api.post("/api/incidents", json=DEMO, headers=AUTH)
        assert opened.status_code == 201, opened.text
        await fuzz(api, method, path, examples, opened.json()["id"])
