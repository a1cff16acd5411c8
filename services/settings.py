"""All configuration, from environment variables, with defaults that make ``make run`` work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.contract import DEFAULT_TASK_QUEUE

DEV_LINK_SECRET = "dev-only-link-secret-change-me"
DEV_API_KEY = "dev-api-key"
RUNBOOKS_DIR = Path(__file__).resolve().parent.parent / "runbooks"
# ``name:secret`` in API_KEYS / INTAKE_API_KEYS: a name is a short slug.
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True)
class ConfiguredKey:
    """One configured key: its name (given, or ``key-N`` / ``intake-N`` by position), its
    scope (``full``: everything; ``intake``: only ``/api/integrations/``) and the strings
    that are accepted as it (the secret, and for ``name:secret`` also the whole entry, so a
    key that happened to contain a colon before names existed keeps working). Several keys
    may share a name (an old and a new key while rotating)."""

    name: str
    scope: Literal["full", "intake"]
    secret: str
    accepted: tuple[str, ...]

    def __repr__(self) -> str:  # never the secret, whatever prints it
        return f"ConfiguredKey(name={self.name!r}, scope={self.scope!r})"


class Settings(BaseSettings):
    """Read once per process. Secrets are ``SecretStr`` so they never reach a log line.

    Attributes:
        environment: ``development`` (default) allows the built-in dev secrets;
            anything else refuses to start with them.
        link_secret: comma-separated keys; the first signs, all verify (rotation).
        api_keys: comma-separated bearer keys accepted by the API and the sign-in page,
            each ``secret`` or ``name:secret`` (the name is recorded on what the web pages do).
        intake_api_keys: the same for keys that may only post alerts
            (``/api/integrations/``): no reading, acting or signing in.
        auth_failure_limit: wrong keys (bearer or sign-in) one client address may send per
            ``auth_failure_window`` seconds before it gets a 429; 0 turns throttling off.
        database_url: the application database (a secret: it may hold a password);
            unset, a SQLite file ``DATA_DIR/escalate.db`` that migrates itself.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    environment: str = "development"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = DEFAULT_TASK_QUEUE
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    # Longest wait for one SendGrid answer: above SendGrid's slow tail (a call given up on may
    # still be delivered), below the email activity's start-to-close (60 s) less a margin;
    # activities/notify.py also cuts each call to what is left of its attempt.
    sendgrid_timeout: float = Field(default=30.0, gt=0, le=45)
    # Threads for SendGrid calls (one per call in flight); the worker takes at least as many
    # activities at once.
    sendgrid_threads: int = Field(default=32, ge=1, le=1024)
    mail_from: str = "Escalation Runbooks <escalations@example.com>"
    public_url: str = "http://127.0.0.1:8000"
    link_secret: SecretStr = SecretStr(DEV_LINK_SECRET)
    link_max_age: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    api_keys: SecretStr = SecretStr(DEV_API_KEY)
    intake_api_keys: SecretStr = SecretStr("")
    auth_failure_limit: int = Field(default=10, ge=0, le=10_000)
    auth_failure_window: int = Field(default=60, ge=1, le=3600)
    directory_file: Path = RUNBOOKS_DIR / "directory.yaml"
    # Seed on-call schedules: loaded like the directory file, answering until the database has one.
    schedules_file: Path = RUNBOOKS_DIR / "schedules.yaml"
    # Response and resolution targets per severity (SLA policies).
    sla_file: Path = RUNBOOKS_DIR / "sla.yaml"
    data_dir: Path = Path(".data")
    # The application database: a SQLite file under DATA_DIR when unset (nothing to
    # install), ``postgresql://user:password@host/db`` in production.
    database_url: SecretStr | None = None
    outbox_dir: Path | None = None
    reports_dir: Path | None = None
    # Everyone paged or notified is asked for feedback this long after an incident is
    # resolved (minutes), and reminded a day later; FEEDBACK_REQUESTS=false asks nobody.
    feedback_requests: bool = True
    feedback_delay_minutes: float = Field(default=10.0, ge=0, le=7 * 24 * 60)
    # Email people before their on-call shift (minutes ahead) and when it starts;
    # SHIFT_NOTIFICATIONS=false sends neither.
    shift_notifications: bool = True
    shift_reminder_minutes: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_alert_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    alert_severity_label: str = "severity"
    alert_severity_map: str = "critical=SEV1,error=SEV2,warning=SEV3,info=SEV4"
    alert_default_severity: str = "SEV3"

    @field_validator("public_url", "temporal_ui_url", "sendgrid_host")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> Settings:
        self.outbox_dir = self.outbox_dir or self.data_dir / "outbox"
        self.reports_dir = self.reports_dir or self.data_dir / "reports"
        if self.environment != "development":
            if DEV_LINK_SECRET in self.link_secrets:
                raise ValueError("LINK_SECRET must be set outside development")
            if DEV_API_KEY in self.api_key_list or DEV_API_KEY in self.intake_key_list:
                raise ValueError("API_KEYS must be set outside development")
        if set(self.api_key_list) & set(self.intake_key_list):
            raise ValueError("a key cannot be in both API_KEYS and INTAKE_API_KEYS")
        return self

    @property
    def link_secrets(self) -> list[str]:
        return _split(self.link_secret.get_secret_value())

    @property
    def keys(self) -> list[ConfiguredKey]:
        """Every configured key, full keys first, then intake keys."""
        full = _keys(self.api_keys.get_secret_value(), "full", "key")
        return full + _keys(self.intake_api_keys.get_secret_value(), "intake", "intake")

    @property
    def api_key_list(self) -> list[str]:
        """The secrets of ``API_KEYS`` (without their names)."""
        return [key.secret for key in self.keys if key.scope == "full"]

    @property
    def intake_key_list(self) -> list[str]:
        return [key.secret for key in self.keys if key.scope == "intake"]

    @property
    def alert_severities(self) -> dict[str, str]:
        """``ALERT_SEVERITY_MAP`` as {label value: SEV1..SEV4}."""
        pairs = (item.split("=", 1) for item in _split(self.alert_severity_map) if "=" in item)
        return {key.strip().lower(): value.strip().upper() for key, value in pairs}

    @property
    def database(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None

    @property
    def feedback_after(self) -> timedelta | None:
        """How long after resolution to ask for feedback; None when nobody is asked."""
        return timedelta(minutes=self.feedback_delay_minutes) if self.feedback_requests else None

    @property
    def shift_notices(self) -> timedelta | None:
        """How long before a shift its reminder goes; None when no shift notices are sent."""
        return timedelta(minutes=self.shift_reminder_minutes) if self.shift_notifications else None

    @property
    def outbox(self) -> Path:
        assert self.outbox_dir is not None
        return self.outbox_dir

    @property
    def reports(self) -> Path:
        assert self.reports_dir is not None
        return self.reports_dir


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _keys(value: str, scope: Literal["full", "intake"], prefix: str) -> list[ConfiguredKey]:
    keys = []
    for number, entry in enumerate(_split(value), 1):
        name, colon, secret = entry.partition(":")
        if colon and secret and _KEY_NAME.fullmatch(name):
            keys.append(ConfiguredKey(name, scope, secret, (secret, entry)))
        else:
            keys.append(ConfiguredKey(f"{prefix}-{number}", scope, entry, (entry,)))
    return keys


@lru_cache
def get_settings() -> Settings:
    return Settings()
