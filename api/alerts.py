"""Alertmanager and Grafana webhook payloads, and how one alert becomes an incident request.

Pure functions, no Temporal: the route in ``api.routes.alertmanager`` sends what
these build. Free text (titles, annotations, label values) is truncated rather
than refused: a 4xx makes Alertmanager drop the whole group for good.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from services.opening import dedup_id
from services.settings import Settings
from workflows import contract
from workflows.models import MAX_LABELS, IncidentRequest, Severity, clean_text

MAX_ALERTS = 1_000
TITLE_MAX, DESCRIPTION_MAX = 200, 10_000
LABEL_KEY_MAX, LABEL_VALUE_MAX = 64, 256
SOURCE = "alertmanager"
# Kept first when an alert has more labels than an incident may carry.
_LABELS_FIRST = ("alertname", "service", "job", "instance")


def _truncate(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda value: value[:limit] if isinstance(value, str) else value)


Name = Annotated[str, _truncate(256)]
Value = Annotated[str, _truncate(4_096)]
Url = Annotated[str, _truncate(2_048)]
LongValue = Annotated[str, _truncate(DESCRIPTION_MAX)]
Timestamp = Annotated[str, StringConstraints(max_length=64)]
LabelSet = Annotated[dict[Name, Value], Field(max_length=128)]
AnnotationSet = Annotated[dict[Name, LongValue], Field(max_length=64)]


class Alert(BaseModel):
    """One alert of the group. Unknown fields (Grafana's ``values``, ``silenceURL``...) are ignored."""

    status: Literal["firing", "resolved"]
    labels: LabelSet = Field(default_factory=dict)
    annotations: AnnotationSet = Field(default_factory=dict)
    startsAt: Timestamp = ""
    endsAt: Timestamp = ""
    generatorURL: Url = ""
    fingerprint: Annotated[str, StringConstraints(max_length=128)] = ""


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook payload (``version: "4"``), or Grafana's (``version: "1"``)."""

    version: Literal["4", "1"] = Field(description='"4" from Alertmanager, "1" from Grafana')
    receiver: Name = ""
    status: Name = ""
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)
    groupLabels: LabelSet = Field(default_factory=dict)
    commonLabels: LabelSet = Field(default_factory=dict)
    commonAnnotations: AnnotationSet = Field(default_factory=dict)
    externalURL: Url = ""
    groupKey: Value = ""
    truncatedAlerts: int = Field(default=0, ge=0)


class AlertOutcome(BaseModel):
    fingerprint: str
    id: str = Field(description="The incident id: GET /api/incidents/{id}")
    status: Literal["opened", "updated", "resolved", "not-open"]


class AlertmanagerResult(BaseModel):
    incidents: list[AlertOutcome]


# -- identity ----------------------------------------------------------------


def fingerprint(alert: Alert) -> str:
    """Alertmanager's fingerprint, or one derived from the sorted labels (Grafana may omit it)."""
    if alert.fingerprint:
        return alert.fingerprint
    canonical = json.dumps(sorted(alert.labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def dedup_key(fp: str) -> str:
    return f"{SOURCE}:{fp}"


def incident_id(fp: str) -> str:
    return dedup_id(dedup_key(fp))


def workflow_id(fp: str) -> str:
    return contract.workflow_id(incident_id(fp))


def update_id(kind: str, fp: str, alert: Alert) -> str:
    """Stable per firing episode: the same alert re-sent is applied once."""
    return f"{SOURCE}-{kind}:{fp}:{alert.startsAt}"


# -- mapping ------------------------------------------------------------------


def incident_request(alert: Alert, fp: str, settings: Settings) -> IncidentRequest:
    return IncidentRequest(
        title=title(alert, fp),
        severity=severity(alert, settings),
        service=service(alert),
        description=description(alert),
        dedup_key=dedup_key(fp),
        labels=labels(alert),
    )


def _one_line(text: str) -> str:
    """One line, without the control and bidi characters a title may not keep."""
    return " ".join(str(clean_text(text)).split())


def title(alert: Alert, fp: str) -> str:
    text = _one_line(alert.annotations.get("summary", ""))
    if not text:
        name = _one_line(alert.labels.get("alertname", "")) or f"Alert {fp}"
        instance = _one_line(alert.labels.get("instance", ""))
        text = f"{name} on {instance}" if instance else name
    return text[:TITLE_MAX]


def description(alert: Alert) -> str:
    text = alert.annotations.get("description", "").strip()
    url = alert.generatorURL.strip()
    if not url:
        return text[:DESCRIPTION_MAX]
    room = DESCRIPTION_MAX - len(url) - 2
    return f"{text[:room]}\n\n{url}" if text else url


def service(alert: Alert) -> str:
    raw = alert.labels.get("service") or alert.labels.get("job") or alert.labels.get("alertname") or ""
    slug = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).lstrip("._-")[:63]
    return slug or "unknown"


def labels(alert: Alert) -> dict[str, str]:
    """At most 32 labels, the identifying ones first, keys and values cut to the limits."""
    keys = [k for k in _LABELS_FIRST if k in alert.labels]
    keys += sorted(k for k in alert.labels if k not in _LABELS_FIRST)
    kept: dict[str, str] = {}
    for key in keys:
        short = key[:LABEL_KEY_MAX]
        if short and short not in kept:
            kept[short] = alert.labels[key][:LABEL_VALUE_MAX]
        if len(kept) == MAX_LABELS:
            break
    return kept


def severity(alert: Alert, settings: Settings) -> Severity:
    value = alert.labels.get(settings.alert_severity_label, "").strip().lower()
    for candidate in (settings.alert_severities.get(value), settings.alert_default_severity.upper()):
        if candidate is not None and candidate in Severity.__members__:
            return Severity(candidate)
    return Severity.SEV3
