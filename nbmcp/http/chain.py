"""One guard chain that every request passes through once, whichever door it is for.

The chain is raw ASGI middleware around the whole app. Its layers (Host/Origin, API key,
body limit; later CORS, OAuth and rate limits) each look at a :class:`GuardRequest` and
either let it through or refuse it with a :class:`Refusal`. A refusal is written in the
language of the door the request was for (:func:`door_of`): a JSON-RPC error on ``/mcp``,
``{"error", "type"}`` JSON on the REST facade and everything else. A layer may also add
headers to the response, whatever the door sends (JSON, SSE streams, FastAPI pages).

It behaves the same under ``MCPServer.start()``, ``nbmcp serve`` and any ASGI server given
``server.app``: the chain marks the scope it has judged, so a request that meets a second
copy of the chain (the fast lane in front of the FastAPI app that carries one too) is judged
only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from nbmcp.errors import InvalidRequest
from nbmcp.http.asgi import ASGIApp, Message, Receive, Scope, Send, header_map, send_empty, send_json
from nbmcp.principal import Principal
from nbmcp.protocol import jsonrpc

__all__ = [
    "Answer",
    "GuardChain",
    "GuardRequest",
    "Layer",
    "Refusal",
    "door_of",
    "guard_request_of",
    "headers_of",
    "principal_of",
    "render_refusal",
    "report_refusal",
    "route_path",
]

_JUDGED = "nbmcp.judged"
_HEADERS = "nbmcp.headers"
_PRINCIPAL = "nbmcp.principal"
_REQUEST = "nbmcp.guard"

Header = tuple[bytes, bytes]


@dataclass(slots=True)
class Refusal:
    """Why a request may not go on: the HTTP status, a message a person can act on, a kind."""

    status: int
    message: str
    kind: str
    """A machine-readable word for REST bodies: ``misdirected``, ``forbidden``, ``unauthorized``..."""
    headers: list[Header] = field(default_factory=list)


@dataclass(slots=True)
class Answer:
    """A layer answering the request itself, with no body (a CORS preflight's ``204``).

    Unlike a :class:`Refusal` it is no failure: no layer hears it through ``refused``.
    """

    status: int
    headers: list[Header] = field(default_factory=list)


class GuardRequest:
    """What the layers see of one request; they may set its principal and add response headers."""

    __slots__ = ("_chain", "door", "headers", "path", "principal", "response_headers", "scope")

    def __init__(self, scope: Scope, headers: dict[str, str], chain: GuardChain | None = None) -> None:
        self._chain = chain
        self.scope = scope
        self.headers = headers
        self.path = route_path(scope)
        self.door = door_of(self.path)
        self.principal: Principal | None = None
        """Who is calling, once a layer has authenticated the request."""
        self.response_headers: list[Header] = []

    @property
    def method(self) -> str:
        """The HTTP method."""
        return str(self.scope.get("method", "GET"))

    def add_header(self, name: bytes, value: bytes) -> None:
        """Send this header with whatever response the door gives (refusals included)."""
        self.response_headers.append((name, value))

    def refused(self, refusal: Refusal) -> None:
        """Tell every layer that can hear it (``refused``) that this request was refused.

        The chain calls it for its own refusals; a door that refuses credentials itself (a
        wrong owner key on the consent page) calls it through :func:`report_refusal`, so
        that failed authentication is counted in one place whichever door saw it.
        """
        if self._chain is None:
            return
        for layer in self._chain.layers:
            hook = getattr(layer, "refused", None)
            if hook is not None:
                hook(self, refusal)


class Layer(Protocol):
    """One check of the chain; ``None`` lets the request on to the next layer.

    A layer may also define ``refused(request, refusal) -> None``: it is called after any
    layer or door refused the request (a failed-authentication limit counts those).
    """

    async def check(self, request: GuardRequest) -> Refusal | Answer | None: ...


def route_path(scope: Scope) -> str:
    """The path below any mount prefix (``root_path``), as the doors route on it."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def door_of(path: str) -> str:
    """Which door a path leads to: ``"mcp"``, ``"rest"`` (the Action facade) or ``"web"``."""
    if path in ("/mcp", "/mcp/"):
        return "mcp"
    if path.startswith("/tools/") or path in ("/openapi.json", "/openapi.yaml"):
        return "rest"
    return "web"


def headers_of(scope: Scope) -> dict[str, str]:
    """The request headers (lower-case names), parsed once by the chain and shared with the door."""
    headers: dict[str, str] | None = scope.get(_HEADERS)
    if headers is None:
        headers = scope[_HEADERS] = header_map(scope)
    return headers


def principal_of(scope: Scope) -> Principal | None:
    """Who the chain authenticated this request as (``None`` when nothing asked)."""
    principal: Principal | None = scope.get(_PRINCIPAL)
    return principal


def guard_request_of(scope: Scope) -> GuardRequest | None:
    """The chain's view of this request (``None`` when no chain judged it)."""
    request: GuardRequest | None = scope.get(_REQUEST)
    return request


def report_refusal(scope: Scope, refusal: Refusal) -> None:
    """A door refused this request's credentials: let the chain's layers count it."""
    request = guard_request_of(scope)
    if request is not None:
        request.refused(refusal)


def render_refusal(door: str, refusal: Refusal) -> bytes:
    """The body of a refusal, as the door's clients read errors."""
    if door == "mcp":
        return jsonrpc.encode(jsonrpc.error_response(None, InvalidRequest(refusal.message)))
    return orjson.dumps({"error": refusal.message, "type": refusal.kind})


class GuardChain:
    """ASGI middleware: run ``layers`` in order on every HTTP request, then the app."""

    def __init__(self, app: ASGIApp, layers: Sequence[Layer]) -> None:
        self.app = app
        self.layers = layers
        """Read on every request: a layer added to the list later takes part at once."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(_JUDGED):
            await self.app(scope, receive, send)
            return
        scope[_JUDGED] = True
        request = scope[_REQUEST] = GuardRequest(scope, headers_of(scope), self)
        try:
            for layer in self.layers:
                refusal = await layer.check(request)
                if refusal is None:
                    continue
                if isinstance(refusal, Answer):
                    await send_empty(send, refusal.status, refusal.headers + request.response_headers)
                    return
                request.refused(refusal)
                body = render_refusal(request.door, refusal)
                await send_json(send, refusal.status, body, refusal.headers + request.response_headers)
                return
            scope[_PRINCIPAL] = request.principal
            extra = request.response_headers
            if extra:
                send = _with_headers(send, extra)
            await self.app(scope, receive, send)
        finally:
            # The scope holds the request and the request its scope: a reference cycle that
            # would leave every request's scope, headers and guard view to the garbage
            # collector (whose passes then show in the p99). The request is over: let go.
            scope.pop(_REQUEST, None)


def _with_headers(send: Send, extra: list[Header]) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return sender
