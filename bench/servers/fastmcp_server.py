"""FastMCP in its fastest HTTP mode: stateless Streamable HTTP with plain JSON responses.

``python bench/servers/fastmcp_server.py --port P [--tools N]``

Settings found in fastmcp 4.2.3's source (``fastmcp/server/mixins/transport.py``,
``http_app(json_response=..., stateless_http=...)``, which is what
``mcp.run(transport="http", stateless_http=True, json_response=True)`` builds too).
The app is served by uvicorn directly with the same options nbmcp uses (uvloop, httptools,
no access log), one process, one worker; ``lifespan="on"`` starts FastMCP's session manager.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import uvicorn
from bench_tools import add, make_tools
from fastmcp import FastMCP


def build(tools: int) -> FastMCP:
    mcp = FastMCP("bench-fastmcp")
    mcp.tool(add)
    for fn in make_tools(tools - 1):
        mcp.tool(fn)
    return mcp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tools", type=int, default=1, help="tools registered (add + N-1 generated)")
    args = parser.parse_args()
    mcp = build(args.tools)
    app = mcp.http_app(path="/mcp", stateless_http=True, json_response=True, transport="http")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
