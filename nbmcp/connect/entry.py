"""One client's settings as a plain dict, and the pieces every family of clients shares.

An entry is ``{"title", "snippet", "steps", "format", ...}``: the exact text to paste, what to
click or run around it, and how to show the text (``"json"``, ``"shell"``, ``"text"`` or
``"url"``). File-based clients add ``"file"`` (where the snippet goes); every entry has
``"docs"``, the client's own page on the subject.
"""

from __future__ import annotations

import json
from typing import Any

from nbmcp.connect.target import ConnectTarget

__all__ = ["FORMATS", "Entry", "bearer", "entry", "json_text", "key_step", "publish_step", "steps"]

Entry = dict[str, Any]

FORMATS = ("json", "shell", "text", "url")


def entry(title: str, snippet: str, steps: list[str], fmt: str, docs: str, **extra: str) -> Entry:
    """An entry with its fields in the documented order (``extra``: e.g. ``file``)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return {"title": title, "snippet": snippet, "steps": steps, "format": fmt, "docs": docs, **extra}


def json_text(document: dict[str, Any]) -> str:
    """A config file's text: two-space indent, as the clients' own docs print it."""
    return json.dumps(document, indent=2)


def bearer(reference: str) -> str:
    """The ``Authorization`` value for a key (or token) held in ``reference``."""
    return f"Bearer {reference}"


def key_step(target: ConnectTarget) -> str:
    """Where the key comes from, said once per client that sends it."""
    return (
        f"Set {target.key_env} to the server's API key where the client runs "
        f"(the owner key: server.access_key in the notebook); the snippet reads it from there."
    )


def publish_step(target: ConnectTarget, who: str) -> str | None:
    """A step for cloud clients when the URL is local: they cannot reach it."""
    if target.public:
        return None
    return (
        f"{who} calls from its own servers, so it needs a public https URL, not {target.url}: "
        "run %mcp publish (or nbmcp serve --publish) and use the URL it gives."
    )


def steps(*items: str | None) -> list[str]:
    """The steps given, without the ``None`` of steps that do not apply."""
    return [item for item in items if item]
