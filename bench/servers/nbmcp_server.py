"""nbmcp with one tool, ``add``: ``nbmcp serve bench/servers/nbmcp_server.py --port P [--stateless]``."""

from bench_tools import add

from nbmcp import MCPServer

server = MCPServer("bench")
server.tool(add)
