"""``subscriptions/listen`` (protocol 2026-07-28): the streams that carry list changes and resource
updates, in place of the older revisions' GET stream and ``resources/subscribe``.

A client opens a listen request naming the notifications it wants; the server acknowledges
the subset it honours, then sends only those, each tagged with the listen request's id
(``_meta["io.modelcontextprotocol/subscriptionId"]``). Listeners live on the server's loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Final

from nbmcp.errors import InvalidParams
from nbmcp.protocol.envelope import SUBSCRIPTION_ID_KEY

__all__ = ["Listener", "Listeners", "honoured", "read_filter"]

_FLAG_OF: Final = {
    "notifications/tools/list_changed": "toolsListChanged",
    "notifications/prompts/list_changed": "promptsListChanged",
    "notifications/resources/list_changed": "resourcesListChanged",
}
_CAPABILITY_OF: Final = {
    "toolsListChanged": "tools",
    "promptsListChanged": "prompts",
    "resourcesListChanged": "resources",
}
_QUEUE_LIMIT: Final = 1000


def read_filter(params: dict[str, Any]) -> dict[str, Any]:
    """The ``notifications`` filter of a listen request (-32602 when malformed)."""
    wanted = params.get("notifications")
    if not isinstance(wanted, dict):
        raise InvalidParams("params.notifications must be an object (the notifications to receive)")
    for flag in _CAPABILITY_OF:
        if flag in wanted and not isinstance(wanted[flag], bool):
            raise InvalidParams(f"params.notifications.{flag} must be a boolean")
    uris = wanted.get("resourceSubscriptions")
    if uris is not None and (not isinstance(uris, list) or not all(isinstance(u, str) for u in uris)):
        raise InvalidParams("params.notifications.resourceSubscriptions must be an array of URIs")
    return wanted


def honoured(wanted: dict[str, Any], capabilities: dict[str, Any]) -> dict[str, Any]:
    """The part of a filter this server honours: what its capabilities declare it sends."""
    out: dict[str, Any] = {}
    for flag, capability in _CAPABILITY_OF.items():
        declared = capabilities.get(capability)
        if wanted.get(flag) is True and isinstance(declared, dict) and declared.get("listChanged"):
            out[flag] = True
    uris = wanted.get("resourceSubscriptions")
    resources = capabilities.get("resources")
    if uris and isinstance(resources, dict) and resources.get("subscribe"):
        out["resourceSubscriptions"] = list(dict.fromkeys(uris))
    return out


class Listener:
    """One open listen stream: what it asked for and the notifications waiting for it."""

    __slots__ = ("_wake", "filter", "id", "owner", "queue", "uris")

    def __init__(self, subscription_id: Any, filter: dict[str, Any], owner: str) -> None:
        self.id = subscription_id
        self.filter = filter
        self.owner = owner
        self.uris = frozenset(filter.get("resourceSubscriptions", ()))
        self.queue: deque[dict[str, Any]] = deque(maxlen=_QUEUE_LIMIT)
        self._wake = asyncio.Event()

    def offer(self, method: str, params: dict[str, Any] | None) -> None:
        """Queue a notification if this listener asked for it, tagged with its subscription id."""
        flag = _FLAG_OF.get(method)
        if flag is not None:
            if not self.filter.get(flag):
                return
        elif method != "notifications/resources/updated" or (params or {}).get("uri") not in self.uris:
            return
        tagged = {**(params or {}), "_meta": {SUBSCRIPTION_ID_KEY: self.id}}
        self.queue.append({"jsonrpc": "2.0", "method": method, "params": tagged})
        self._wake.set()

    async def next(self, timeout: float) -> list[dict[str, Any]]:
        """Wait up to ``timeout`` seconds for notifications and take them all."""
        if not self.queue:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                return []
        taken = list(self.queue)
        self.queue.clear()
        return taken


class Listeners:
    """Every open listen stream of one server, with a cap per caller."""

    def __init__(self) -> None:
        self._open: list[Listener] = []

    def open(
        self, subscription_id: Any, filter: dict[str, Any], owner: str, cap: int | None
    ) -> Listener | None:
        """Register a listener; ``None`` when ``owner`` already holds ``cap`` of them."""
        if cap and sum(1 for listener in self._open if listener.owner == owner) >= cap:
            return None
        listener = Listener(subscription_id, filter, owner)
        self._open.append(listener)
        return listener

    def close(self, listener: Listener) -> None:
        """Forget a listener (its stream ended)."""
        if listener in self._open:
            self._open.remove(listener)

    def offer(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Give a notification to every listener that asked for it."""
        for listener in self._open:
            listener.offer(method, params)

    def __len__(self) -> int:
        return len(self._open)
