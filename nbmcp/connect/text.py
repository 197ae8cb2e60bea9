"""The connect settings as plain text: what ``nbmcp connect URL`` prints and ``%mcp connect``'s repr.

Each client is a heading, its numbered steps, then its snippet unindented between blank lines,
so a terminal selection copies it exactly.
"""

from __future__ import annotations

import textwrap
from typing import Any

__all__ = ["describe"]

_WIDTH = 96
_RULE = "-" * _WIDTH


def describe(info: dict[str, dict[str, Any]], heading: str = "") -> str:
    """``info`` (from :func:`~nbmcp.connect.connect_info`) as text, one section per client."""
    parts = [heading] if heading else []
    for name, item in info.items():
        where = f"  ->  {item['file']}" if item.get("file") else ""
        lines = [_RULE, f"{item['title']}  [{name}]{where}", ""]
        for i, step in enumerate(item["steps"], 1):
            lines += textwrap.wrap(
                step,
                _WIDTH,
                initial_indent=f"  {i}. ",
                subsequent_indent="     ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        lines += ["", str(item["snippet"]), ""]
        if item.get("docs"):
            lines.append(f"  docs: {item['docs']}")
        parts.append("\n".join(lines))
    return "\n".join(parts).rstrip() + "\n"
