"""nbmcp: make a Jupyter notebook, or any Python file, an MCP server.

``import nbmcp`` is cheap: the server, HTTP and notebook parts load on first use.
``%load_ext nbmcp`` adds the ``%%mcp_tool`` and ``%mcp`` magics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbmcp._version import __version__

if TYPE_CHECKING:
    from nbmcp.errors import (
        NbmcpError,
        PortInUseError,
        ProtocolError,
        ServerStartError,
        ServerStateError,
        ToolDefinitionError,
        ToolError,
    )
    from nbmcp.notebook import current_server
    from nbmcp.server import MCPServer
    from nbmcp.tools import Context, audio, image, resource, resource_link, text
    from nbmcp.tools.prompts import assistant, user

__all__ = [
    "Context",
    "MCPServer",
    "NbmcpError",
    "PortInUseError",
    "ProtocolError",
    "ServerStartError",
    "ServerStateError",
    "ToolDefinitionError",
    "ToolError",
    "__version__",
    "assistant",
    "audio",
    "current_server",
    "image",
    "resource",
    "resource_link",
    "text",
    "user",
]

_LAZY = {
    "MCPServer": "nbmcp.server",
    "current_server": "nbmcp.notebook",
    "Context": "nbmcp.tools",
    "text": "nbmcp.tools",
    "image": "nbmcp.tools",
    "audio": "nbmcp.tools",
    "resource": "nbmcp.tools",
    "resource_link": "nbmcp.tools",
    "user": "nbmcp.tools.prompts",
    "assistant": "nbmcp.tools.prompts",
    "NbmcpError": "nbmcp.errors",
    "PortInUseError": "nbmcp.errors",
    "ProtocolError": "nbmcp.errors",
    "ServerStartError": "nbmcp.errors",
    "ServerStateError": "nbmcp.errors",
    "ToolDefinitionError": "nbmcp.errors",
    "ToolError": "nbmcp.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbmcp' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbmcp``: add the magics (imported only now)."""
    from nbmcp.notebook.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbmcp``: stop the kernel's server and remove the magics."""
    from nbmcp.notebook.magics import unload_ipython_extension as _unload

    _unload(ipython)
