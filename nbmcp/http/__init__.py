"""HTTP: the ASGI app (Streamable HTTP at ``/mcp``, ``/health``), its guards, and the runner.

FastAPI hosts the routes that later carry the REST facade and docs; ``/mcp`` is a raw ASGI
handler so the hot path pays for no framework it does not use.
"""

from nbmcp.http.app import build_app
from nbmcp.http.mcp_endpoint import McpEndpoint
from nbmcp.http.runner import BackgroundServer

__all__ = ["BackgroundServer", "McpEndpoint", "build_app"]
