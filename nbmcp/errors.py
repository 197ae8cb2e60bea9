"""Every error nbmcp raises, rooted at one class so callers can catch them all.

The tree::

    NbmcpError
    ├── ToolDefinitionError        a tool, resource or prompt cannot be registered
    │   └── DuplicateNameError     the name is taken (pass ``replace=True`` to swap)
    ├── ToolError                  raise inside a tool: the client gets ``isError`` with the message
    ├── ProtocolError              becomes a JSON-RPC error with its ``code``
    │   ├── ParseError             -32700
    │   ├── InvalidRequest         -32600
    │   ├── MethodNotFound         -32601
    │   ├── InvalidParams          -32602
    │   │   └── UnknownToolError   no tool of that name (also a ``LookupError``)
    │   ├── InternalError          -32603
    │   ├── ResourceNotFound       -32002
    │   ├── HeaderMismatch         -32020 (an MCP HTTP header disagrees with the body, 2026-07-28)
    │   ├── MissingCapability      -32021 (the client did not offer what a tool asked of it)
    │   └── UnsupportedVersion     -32022 (the request names a protocol version we do not speak)
    ├── ServerStartError           the HTTP server could not start
    │   └── PortInUseError         the port is taken
    ├── ServerStateError           misuse of the lifecycle (also a ``RuntimeError``)
    ├── SchemaError                an Action schema cannot be built with these options (also a ``ValueError``)
    └── TargetError                ``nbmcp serve TARGET`` names nothing servable
"""

from __future__ import annotations

import traceback
from typing import Any

__all__ = [
    "ConnectError",
    "DuplicateNameError",
    "HeaderMismatch",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "MissingCapability",
    "NbmcpError",
    "ParseError",
    "PortInUseError",
    "ProtocolError",
    "ResourceNotFound",
    "SchemaError",
    "ServerStartError",
    "ServerStateError",
    "TargetError",
    "ToolDefinitionError",
    "ToolError",
    "TunnelError",
    "TunnelUnavailableError",
    "UnknownToolError",
    "UnsupportedVersion",
    "traceback_text",
]


class NbmcpError(Exception):
    """The root of every error nbmcp raises on purpose."""


class ToolDefinitionError(NbmcpError, TypeError):
    """A function cannot become a tool, resource or prompt; raised at registration."""


class DuplicateNameError(ToolDefinitionError):
    """A tool, resource or prompt of that name is registered already."""


class ToolError(NbmcpError):
    """Raise from a tool to answer the client with ``isError: true`` and this message."""


class ProtocolError(NbmcpError):
    """An error that travels to the client as a JSON-RPC error object."""

    code: int = -32603

    def __init__(
        self, message: str, data: Any = None, *, code: int | None = None, request_id: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        self.request_id = request_id
        if code is not None:
            self.code = code

    @property
    def error(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` member for this exception."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


class ParseError(ProtocolError):
    """The body is not valid JSON."""

    code = -32700


class InvalidRequest(ProtocolError):
    """The JSON is not a valid JSON-RPC request."""

    code = -32600


class MethodNotFound(ProtocolError):
    """The method does not exist or is not offered by this server."""

    code = -32601


class InvalidParams(ProtocolError):
    """The params are missing, of the wrong type, or name something unknown."""

    code = -32602


class UnknownToolError(InvalidParams, LookupError):
    """A call named a tool that is not registered (``-32602`` to MCP clients, 404 over REST)."""


class InternalError(ProtocolError):
    """The server failed while handling a valid request."""

    code = -32603


class ResourceNotFound(ProtocolError):
    """``resources/read`` named a URI that no resource or template matches."""

    code = -32002


class HeaderMismatch(ProtocolError):
    """A required MCP HTTP header is missing, malformed or disagrees with the body (2026-07-28)."""

    code = -32020


class MissingCapability(ProtocolError):
    """A tool asked the client for something (sampling, elicitation) it did not declare."""

    code = -32021


class UnsupportedVersion(ProtocolError):
    """The request asks for a protocol version this server does not speak."""

    code = -32022


class ServerStartError(NbmcpError):
    """The HTTP server did not come up."""


class PortInUseError(ServerStartError):
    """The requested port is taken by another process (or another server)."""


class ServerStateError(NbmcpError, RuntimeError):
    """A lifecycle call that does not fit the server's state (e.g. changing the port while running)."""


class SchemaError(NbmcpError, ValueError):
    """The ChatGPT Action schema cannot be built as asked (unknown OpenAPI version, bad server URL)."""


class TargetError(NbmcpError):
    """``nbmcp serve TARGET``: the file, attribute or server could not be loaded."""


class ConnectError(NbmcpError):
    """``nbmcp connect``: the URL is not a reachable MCP server; one line saying why."""


class TunnelError(NbmcpError):
    """Publishing failed: the tunnel did not open, died, or its public URL did not answer.

    The message is one line a user can act on; it never holds a token.
    """


class TunnelUnavailableError(TunnelError):
    """No tunnel can be opened here as asked: no token, no binary, or no provider at all."""


def traceback_text(exc: BaseException) -> str:
    """``exc``'s traceback as Python prints it: what a client gets only with ``debug=True``.

    A traceback names the server's files and code, so answers hold it only when the owner
    asked for it (``MCPServer(debug=True)``, ``nbmcp serve --debug``); logs always do.
    """
    return "".join(traceback.format_exception(exc))
