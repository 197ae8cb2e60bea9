"""Where a server is in its life."""

from __future__ import annotations

import enum

__all__ = ["ServerState"]


class ServerState(enum.Enum):
    """Where a server is in its life."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"
