"""nbmcp with 1,000 distinct tools (``add`` plus 999 generated ones).

``nbmcp serve bench/servers/nbmcp_server_1000.py --port P [--stateless]``
"""

from bench_tools import add, make_tools

from nbmcp import MCPServer

server = MCPServer("bench-1000")
server.tool(add)
for fn in make_tools(999):
    server.tool(fn)
