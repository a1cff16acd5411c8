"""The `escalate` command: the top layer, above the service, worker and API."""
