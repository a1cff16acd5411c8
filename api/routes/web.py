"""Server-rendered web pages (placeholder: filled in by the web pages work)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
