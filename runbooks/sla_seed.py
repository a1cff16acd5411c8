"""SLA policies: ``runbooks/sla.yaml``, read and validated like the directory file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from runbooks.directory import DirectoryError
from workflows.targets import SlaPolicy

DEFAULT_POLICY = "default"


def load_policies(path: str | Path) -> dict[str, SlaPolicy]:
    """Every policy of a seed file, by name (none when the file does not exist).

    Raises:
        DirectoryError: the file is unreadable or a policy is invalid (named in the message).
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read the SLA policies: {exc}") from exc
    entries = data.get("policies", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DirectoryError(f"{path}: expected a 'policies:' list")
    found: dict[str, SlaPolicy] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            policy = SlaPolicy.model_validate(entry)
        except ValidationError as exc:
            name = entry.get("name", f"#{number}") if isinstance(entry, dict) else f"#{number}"
            raise DirectoryError(f"{path}: policy {name}: {exc.errors()[0]['msg']}") from None
        if policy.name in found:
            raise DirectoryError(f"{path}: policy {policy.name!r} is listed twice")
        found[policy.name] = policy
    return found
