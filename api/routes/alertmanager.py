"""Prometheus Alertmanager / Grafana webhook intake (placeholder: filled in by the intake work)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/integrations", tags=["integrations"])
