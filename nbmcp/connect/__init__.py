"""Ready-to-paste settings for every MCP client: ChatGPT, Claude, Cursor, VS Code, curl, and more.

:func:`connect_info` turns a :class:`ConnectTarget` (a server's name, MCP URL and auth mode)
into one entry per client in :data:`CLIENTS`: the snippet to paste and the steps around it,
with secrets referred to by environment variable or editor input, never written out.
``server.connect_info()`` and ``%mcp connect`` build the target from the server's state;
``nbmcp connect URL`` (:mod:`nbmcp.connect.command`) learns it from a running server
(:mod:`nbmcp.connect.probe`). Beside :mod:`nbmcp.openapi` in the layers: it imports only
``nbmcp.errors``, and nothing imports it at ``import nbmcp``.
"""

from nbmcp.connect.clients import CLIENTS, connect_info
from nbmcp.connect.target import AUTH_MODES, ConnectTarget, auth_mode
from nbmcp.connect.text import describe

__all__ = ["AUTH_MODES", "CLIENTS", "ConnectTarget", "auth_mode", "connect_info", "describe"]
