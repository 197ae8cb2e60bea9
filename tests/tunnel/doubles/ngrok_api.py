"""The ngrok double's local API (the agent's ``web_addr``): endpoints, tunnels, captured requests.

The same routes and JSON shapes as the agent's API: ``GET/POST /api/endpoints`` and
``/api/tunnels`` (list, start), ``GET/DELETE /api/{endpoints,tunnels}/NAME`` (detail, stop),
``GET /api/requests/http`` (what the inspector captured), errors as
``{"error_code", "status_code", "msg", "details"}``.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


def api_handler(agent: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the agent logs no API call
            pass

        def reply(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self) -> tuple[str | None, str | None]:
            path = urlsplit(self.path).path.rstrip("/")
            for kind in ("endpoints", "tunnels"):
                prefix = f"/api/{kind}"
                if path == prefix:
                    return kind, None
                if path.startswith(prefix + "/"):
                    return kind, path[len(prefix) + 1 :]
            return None, path

        def do_GET(self) -> None:
            kind, name = self.route()
            if kind is None:
                if name == "/api/requests/http":
                    return self.reply(200, {"uri": "/api/requests/http", "requests": agent.captured})
                if name in ("/api", ""):
                    return self.reply(
                        200, {"uri": "/api", "endpoints": "/api/endpoints", "tunnels": "/api/tunnels"}
                    )
                return self.reply(404, {"error_code": 100, "status_code": 404, "msg": "Not found"})
            if name is None:
                items = [agent.describe(n) for n, ep in list(agent.endpoints.items()) if ep["kind"] == kind]
                return self.reply(200, {kind: items, "uri": f"/api/{kind}"})
            if name not in agent.endpoints:
                return self.reply(404, {"error_code": 100, "status_code": 404, "msg": "Tunnel not found"})
            return self.reply(200, agent.describe(name))

        def do_POST(self) -> None:
            kind, name = self.route()
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self.reply(400, {"error_code": 102, "status_code": 400, "msg": "invalid JSON"})
            if kind is None or name is not None or not isinstance(body, dict):
                return self.reply(405, {"error_code": 101, "status_code": 405, "msg": "Method not allowed"})
            status, answer = agent.start(body, kind)
            return self.reply(status, answer)

        def do_DELETE(self) -> None:
            kind, name = self.route()
            if kind is None or name is None or not agent.stop(name):
                return self.reply(404, {"error_code": 100, "status_code": 404, "msg": "Tunnel not found"})
            return self.reply(204)

    return Handler


def web_service(agent: Any) -> ThreadingHTTPServer:
    """The local API on ``web_addr``; by default 127.0.0.1:4040, else the next free port, as ngrok."""
    given = agent.agent.get("web_addr")
    host, _, port = str(given or "127.0.0.1:4040").rpartition(":")
    ports = [int(port)] if given else [*range(4040, 4050), 0]
    for candidate in ports:
        try:
            server = ThreadingHTTPServer((host or "127.0.0.1", candidate), api_handler(agent))
        except OSError:
            if candidate == ports[-1]:
                raise
            continue
        server.daemon_threads = True
        return server
    raise AssertionError("unreachable")
