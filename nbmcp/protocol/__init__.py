"""JSON-RPC 2.0 and the MCP methods, sessions and versions: the transport-free core.

Everything here works on plain dicts and strings. It imports neither HTTP nor Jupyter
code; the http layer feeds it parsed messages and carries its answers.
"""

from nbmcp.protocol.engine import Engine, ServerInfo
from nbmcp.protocol.exchange import Exchange
from nbmcp.protocol.provider import Provider
from nbmcp.protocol.session import Session, Sessions
from nbmcp.protocol.versions import LATEST_VERSION, SUPPORTED_VERSIONS

__all__ = [
    "LATEST_VERSION",
    "SUPPORTED_VERSIONS",
    "Engine",
    "Exchange",
    "Provider",
    "ServerInfo",
    "Session",
    "Sessions",
]
