"""All configuration, from environment variables, with defaults that make ``make run`` work."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.contract import DEFAULT_TASK_QUEUE

DEV_LINK_SECRET = "dev-only-link-secret-change-me"
DEV_API_KEY = "dev-api-key"
RUNBOOKS_DIR = Path(__file__).resolve().parent.parent / "runbooks"


class Settings(BaseSettings):
    """Read once per process. Secrets are ``SecretStr`` so they never reach a log line.

    Attributes:
        environment: ``development`` (default) allows the built-in dev secrets;
            anything else refuses to start with them.
        link_secret: comma-separated keys; the first signs, all verify (rotation).
        api_keys: comma-separated bearer keys accepted by the API.
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
    directory_file: Path = RUNBOOKS_DIR / "directory.yaml"
    data_dir: Path = Path(".data")
    outbox_dir: Path | None = None
    reports_dir: Path | None = None
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
            if DEV_API_KEY in self.api_key_list:
                raise ValueError("API_KEYS must be set outside development")
        return self

    @property
    def link_secrets(self) -> list[str]:
        return _split(self.link_secret.get_secret_value())

    @property
    def api_key_list(self) -> list[str]:
        return _split(self.api_keys.get_secret_value())

    @property
    def alert_severities(self) -> dict[str, str]:
        """``ALERT_SEVERITY_MAP`` as {label value: SEV1..SEV4}."""
        pairs = (item.split("=", 1) for item in _split(self.alert_severity_map) if "=" in item)
        return {key.strip().lower(): value.strip().upper() for key, value in pairs}

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
