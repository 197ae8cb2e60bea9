"""``MCPServer``: the public face. Register tools, resources and prompts; start, stop, serve.

One server object holds the registry, the config and the protocol engine. ``start()`` serves
it from a background thread (a notebook keeps working); ``run()`` serves until Ctrl-C;
``app`` is the ASGI app for any other server. The class is put together from
:mod:`~nbmcp.server.registration` (tools, resources, prompts), :mod:`~nbmcp.server.calling`
(calling a tool from Python) and :mod:`~nbmcp.server.core` (settings, auth, serving).
"""

from nbmcp.server.core import MCPServer
from nbmcp.server.state import ServerState

__all__ = ["MCPServer", "ServerState"]
