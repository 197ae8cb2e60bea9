"""A small SSE reader for tests: events as dicts, every read bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Yield ``{"id", "retry", "data"}`` per event (``data`` parsed as JSON when present)."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if event:
                raw = event.get("data", "")
                event["data"] = json.loads(raw) if raw.strip() else None
                yield event
            event = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            event["data"] = event.get("data", "") + value
        else:
            event[field] = value
