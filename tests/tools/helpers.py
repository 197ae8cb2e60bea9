"""Call tools the way a client does, without HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from nbmcp.protocol.exchange import Exchange, Pending
from nbmcp.protocol.session import Session
from nbmcp.tools import Registry


def call(
    registry: Registry, name: str, arguments: dict[str, Any] | None = None, version: str = "2025-11-25"
) -> Any:
    """Run ``tools/call`` through the registry and return the result dict."""

    async def go() -> Any:
        exchange = Exchange(Session(None, version), 1, None, {}, None, Pending())
        return await registry.call_tool(name, arguments or {}, exchange)

    return asyncio.run(go())
