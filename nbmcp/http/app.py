"""The ASGI application: FastAPI for the ordinary routes, a fast lane for ``/mcp`` and REST calls.

``build_app`` returns a FastAPI app with ``/mcp`` (the raw endpoint as a route), ``/health``
and the REST facade, behind the guard chain; it can be mounted in any ASGI server.
:class:`FastLane` sits in front of it under ``start()``: ``/mcp`` and ``/tools/`` requests skip
FastAPI's routing and middleware stack, and the guard chain in front of the lane judges every
request once (the copy inside the FastAPI app sees the scope is judged and lets it by).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nbmcp.config import ServerConfig
from nbmcp.http.asgi import ASGIApp, Receive, Scope, Send
from nbmcp.http.chain import GuardChain, Layer
from nbmcp.http.mcp_endpoint import McpEndpoint

__all__ = ["FastLane", "build_app"]


class FastLane:
    """Sends ``/mcp`` and ``/tools/`` straight to their handlers and everything else to the full app.

    The full (FastAPI) app is built by ``app_factory`` off the event loop, by :meth:`warm` in a
    thread right after the server starts or by the first request that needs it: importing
    FastAPI takes a fifth of a second that ``/mcp`` never has to wait for.
    """

    def __init__(
        self,
        endpoint: McpEndpoint,
        app_factory: Callable[[], ASGIApp],
        doors: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.doors: Mapping[str, ASGIApp] = doors if doors is not None else {}
        """More raw ASGI doors by exact path (OAuth endpoints, well-known documents), served
        without FastAPI; read on every request."""
        self._factory = app_factory
        self.app: ASGIApp | None = None
        self.rest: ASGIApp | None = None

    def warm(self) -> None:
        """Build the full app now (call from a thread)."""
        self._adopt(self._factory())

    def _adopt(self, app: ASGIApp) -> ASGIApp:
        self.rest = getattr(getattr(app, "state", None), "rest", None)
        self.app = app
        return app

    async def _full_app(self) -> ASGIApp:
        app = self.app
        if app is None:
            app = self._adopt(await asyncio.get_running_loop().run_in_executor(None, self._factory))
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path in ("/mcp", "/mcp/"):
                await self.endpoint(scope, receive, send)
                return
            door = self.doors.get(path)
            if door is not None:
                await door(scope, receive, send)
                return
        app = self.app if self.app is not None else await self._full_app()
        if self.rest is not None and scope["type"] == "http" and scope["path"].startswith("/tools/"):
            await self.rest(scope, receive, send)
        else:
            await app(scope, receive, send)


def build_app(
    endpoint: McpEndpoint,
    config: ServerConfig,
    info: dict[str, Any],
    layers: Sequence[Layer],
    doors: Mapping[str, ASGIApp] | None = None,
    middleware: Sequence[Any] = (),
) -> Any:
    """The FastAPI app for a server, behind the guard chain.

    Args:
        endpoint: The ``/mcp`` handler.
        config: The server's settings (the REST facade's body limit, the schema's URLs).
        info: Called-on-demand facts for ``/health`` (``{"name": ..., "counts": callable}``),
            and the server's ``"schemas"`` (:class:`~nbmcp.openapi.ActionSchemas`).
        layers: The guard chain's layers (the same objects the fast lane's chain runs).
        doors: More raw ASGI doors by exact path, mounted as routes (the fast lane serves
            them itself).
        middleware: The user's middleware (read on every request), run after the chain's
            layers, before the routes (:mod:`nbmcp.http.middleware`).
    """
    from fastapi import FastAPI
    from starlette.routing import Route

    app = FastAPI(title=str(info.get("name", "nbmcp")), openapi_url=None, docs_url=None, redoc_url=None)
    app.router.routes.append(Route("/mcp", endpoint, include_in_schema=False))

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        counts = info.get("counts")
        return {"status": "ok", "name": info.get("name"), **(counts() if callable(counts) else {})}

    from nbmcp.http.rest import mount_rest

    mount_rest(app, endpoint, config, info)  # /tools/{name}, /openapi.json, /docs
    for path, door in (doors or {}).items():
        app.router.routes.append(Route(path, door, include_in_schema=False, methods=None))
    from nbmcp.http.middleware import UserMiddleware

    # inside the chain: added first
    app.add_middleware(UserMiddleware, middleware=middleware, debug=lambda: config.debug)
    app.add_middleware(GuardChain, layers=layers)
    return app
