"""Every client nbmcp writes settings for, in one table, and ``connect_info`` that fills it in.

The order is the order they are shown in: the cloud apps first (they need the public URL),
then the editors and desktop apps, then the command-line tools.
"""

from __future__ import annotations

from collections.abc import Callable

from nbmcp.connect import commands, files, hosted
from nbmcp.connect.entry import Entry
from nbmcp.connect.target import ConnectTarget

__all__ = ["CLIENTS", "connect_info"]

_BUILDERS: dict[str, Callable[[ConnectTarget], Entry]] = {
    "chatgpt": hosted.chatgpt,
    "chatgpt_actions": hosted.chatgpt_actions,
    "claude": hosted.claude,
    "claude_code": commands.claude_code,
    "claude_desktop": files.claude_desktop,
    "cursor": files.cursor,
    "vscode": files.vscode,
    "windsurf": files.windsurf,
    "inspector": commands.inspector,
    "curl": commands.curl,
}

CLIENTS: tuple[str, ...] = tuple(_BUILDERS)
"""The client names :func:`connect_info` answers for (its keys, in this order)."""


def connect_info(target: ConnectTarget) -> dict[str, Entry]:
    """The settings of every client for ``target``, keyed by client name (see :data:`CLIENTS`).

    Each value is ``{"title", "snippet", "steps", "format", "docs"}`` (file-based clients add
    ``"file"``): ``snippet`` is the exact text to paste, ``steps`` what to click or run around it.
    No snippet holds a key; they name ``target.key_env`` (or VS Code's password input) instead.

    Example:
        >>> info = connect_info(ConnectTarget("weather", "http://127.0.0.1:8000/mcp", "none"))
        >>> info["claude_code"]["snippet"]
        'claude mcp add --transport http weather http://127.0.0.1:8000/mcp'
    """
    return {name: build(target) for name, build in _BUILDERS.items()}
