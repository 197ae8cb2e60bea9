"""The ceiling: a bare ASGI app that answers ``tools/call add`` correctly and does nothing else.

``python bench/servers/bare_asgi.py --port P``

It reads the body, parses it with orjson (it must echo the JSON-RPC id and add the
arguments, which the load generator varies and checks), and sends a prebuilt-shape answer
with the same fields nbmcp sends. Same uvicorn options as the others (uvloop, httptools).
Anything above this is what a framework costs.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    message = await receive()
    body = message.get("body", b"")
    while message.get("more_body"):
        message = await receive()
        body += message.get("body", b"")
    try:
        request = orjson.loads(body)
        args = request["params"]["arguments"]
        total = str(args["a"] + args["b"]).encode()
        out = (
            b'{"jsonrpc":"2.0","id":'
            + orjson.dumps(request["id"])
            + b',"result":{"content":[{"type":"text","text":"'
            + total
            + b'"}],"isError":false,"structuredContent":{"result":'
            + total
            + b"}}}"
        )
        status = 200
    except Exception:
        out, status = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}}', 400
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
