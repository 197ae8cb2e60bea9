"""A double of the ngrok agent (v3) as pyngrok 9.1 drives it.

``ngrok start --none --log stdout --config FILE [--authtoken T] [--region R]`` reads the
config (YAML, version 3 ``agent:`` block or version 2 top level), prints the agent's logfmt
lines pyngrok waits for (``starting web service ... addr=``, ``client session established``,
``tunnel session started``), serves the agent's local API on ``web_addr`` (``/api/endpoints``
and ``/api/tunnels``: list, start, detail, stop, with the agent's JSON shapes;
``/api/requests/http``: the inspector's captured requests) and, for each endpoint, a TLS edge
(:mod:`edge`) at ``https://ngrok.nbmcp.test:<port>`` (``NBMCP_FAKE_NGROK_HOST`` to change the
name; a requested ``url`` sets it) writing ``X-Forwarded-For``.

Like the agent: no authtoken -> ERR_NGROK_4018 and exit 1; a token starting with ``bad`` ->
ERR_NGROK_105, whose text quotes the token; a ``url`` on ``.invalid`` -> the API refuses it.
Requests are captured for the inspector unless ``agent.inspect_db_size`` is -1 or the
endpoint says ``inspect: false``. ``ngrok version`` / ``--version`` answer like the agent.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import yaml
from common import Loop, Record, edge_context, mode
from edge import Edge
from ngrok_api import web_service

VERSION = "3.39.8"
NO_TOKEN = (
    "authentication failed: Usage of ngrok requires a verified account and authtoken.\n\n"
    "Sign up for an account: https://dashboard.ngrok.com/signup\n"
    "Install your authtoken: https://dashboard.ngrok.com/get-started/your-authtoken\r\n\r\n"
    "ERR_NGROK_4018\r\n"
)
BAD_TOKEN = (
    "authentication failed: The authtoken you specified does not look like a proper ngrok tunnel "
    "authtoken.\nYour authtoken: {token}\nInstructions to install your authtoken are on your ngrok "
    "dashboard:\nhttps://dashboard.ngrok.com/get-started/your-authtoken\r\n\r\nERR_NGROK_105\r\n"
)


def logfmt(value: str) -> str:
    if value and all(c not in value for c in ' "=\\\n\r\t'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def log(lvl: str, msg: str, **fields: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    parts = [
        f"t={stamp}",
        f"lvl={lvl}",
        f"msg={logfmt(msg)}",
        *(f"{k}={logfmt(v)}" for k, v in fields.items()),
    ]
    print(" ".join(parts), flush=True)


def parse(argv: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"config": []}
    it = iter(argv)
    for arg in it:
        name, _, inline = arg.partition("=")
        if name in ("--config", "--authtoken", "--region", "--log", "--log-format", "--log-level"):
            value = inline or next(it, "")
            key = name.lstrip("-").replace("-", "_")
            if key == "config":
                options["config"].extend(value.split(","))
            else:
                options[key] = value
        elif name in ("--none", "--all"):
            options[name.lstrip("-")] = True
    return options


class Agent:
    def __init__(self, record: Record, config: dict[str, Any]) -> None:
        self.record = record
        agent = config.get("agent") if str(config.get("version")) == "3" else config
        self.agent: dict[str, Any] = agent if isinstance(agent, dict) else {}
        self.loop = Loop()
        self.context = edge_context()
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, Edge] = {}
        self.captured: list[dict[str, Any]] = []

    def inspecting(self, body: dict[str, Any]) -> bool:
        return str(self.agent.get("inspect_db_size", 0)) != "-1" and body.get("inspect", True) is not False

    def start(self, body: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]]:
        upstream = (body.get("upstream") or {}).get("url") or body.get("addr") or "80"
        target = upstream if "://" in str(upstream) else f"http://localhost:{upstream}"
        parts = urlsplit(str(target))
        host = os.environ.get("NBMCP_FAKE_NGROK_HOST", "ngrok.nbmcp.test")
        asked = body.get("url") or body.get("domain") or body.get("hostname")
        if asked:
            host = urlsplit(asked if "://" in asked else f"https://{asked}").hostname or host
        if host.endswith(".invalid"):
            err = (
                f"failed to start tunnel: The endpoint 'https://{host}' is not reserved for this account.\r\n"
            )
            return 400, {
                "error_code": 103,
                "status_code": 400,
                "msg": "failed to start tunnel",
                "details": {"err": err},
            }
        name = str(body.get("name") or uuid.uuid4())
        inspect = self.inspecting(body)
        edge = Edge(
            parts.hostname or "localhost",
            parts.port or 80,
            address_headers=(b"x-forwarded-for",),
            extra_headers=((b"x-forwarded-host", host.encode()),),
            on_request=(lambda m, t, h: self.capture(name, m, t, h)) if inspect else None,
        )
        port = self.loop.run(edge.start(self.context))
        public = f"https://{host}:{port}"
        self.edges[name] = edge
        self.endpoints[name] = {"kind": kind, "public": public, "upstream": target, "inspect": inspect}
        self.record.append(
            "endpoints", {"name": name, "body": body, "public_url": public, "inspect": inspect}
        )
        log("info", "started tunnel", obj="tunnels", name=name, addr=target, url=public)
        return 201, self.describe(name)

    def describe(self, name: str) -> dict[str, Any]:
        ep = self.endpoints[name]
        metrics = {"conns": {"count": 0, "gauge": 0}, "http": {"count": 0}}
        if ep["kind"] == "endpoints":
            return {
                "name": name,
                "uri": f"/api/endpoints/{name}",
                "url": ep["public"],
                "public_url": ep["public"],
                "proto": "https",
                "upstream": {"url": ep["upstream"], "protocol": "http1"},
                "traffic_policy": "",
                "pooling_enabled": False,
                "metrics": metrics,
            }
        addr = ep["upstream"]
        return {
            "name": name,
            "uri": f"/api/tunnels/{name}",
            "public_url": ep["public"],
            "proto": "https",
            "config": {"addr": addr, "inspect": ep["inspect"]},
            "metrics": metrics,
        }

    def stop(self, name: str) -> bool:
        edge = self.edges.pop(name, None)
        if edge is None:
            return False
        self.endpoints.pop(name, None)
        self.loop.run(edge.stop())
        log("info", "stopped tunnel", obj="tunnels", name=name)
        return True

    def capture(self, name: str, method: str, target: str, headers: list[tuple[bytes, bytes]]) -> None:
        request = {"method": method, "uri": target, "headers": {k.decode(): [v.decode()] for k, v in headers}}
        self.captured.append({"tunnel_name": name, "request": request})
        self.record.add("captured")


def load_config(paths: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in paths:
        with open(path, encoding="utf-8") as source:
            data = yaml.safe_load(source) or {}
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
    return merged


def start(argv: list[str]) -> int:
    options = parse(argv)
    record = Record("ngrok", argv)
    config = load_config(options["config"])
    for path in options["config"]:
        log("info", "open config file", path=path, err="nil")
    agent = Agent(record, config)
    from_argv, from_config = options.get("authtoken"), agent.agent.get("authtoken")
    token = from_argv or from_config or os.environ.get("NGROK_AUTHTOKEN")
    source = "argv" if from_argv else "config" if from_config else "env" if token else None
    record.update(
        config_paths=options["config"],
        config_modes=[oct(os.stat(p).st_mode & 0o777) for p in options["config"]],
        authtoken_from=source,
        inspect_db_size=agent.agent.get("inspect_db_size"),
        web_addr=agent.agent.get("web_addr"),
    )
    if mode() == "hang":
        signal.pause()
    server = web_service(agent)
    addr = "{}:{}".format(*server.server_address[:2])
    record.update(api_url=f"http://{addr}")
    log("info", "starting web service", obj="web", addr=addr, allow_hosts="[]")
    if not token or (isinstance(token, str) and token.startswith("bad")):
        err = NO_TOKEN if not token else BAD_TOKEN.format(token=token)
        session = uuid.uuid4().hex[:12]
        log("eror", "failed to reconnect session", obj="tunnels.session", id=session, err=err)
        log("eror", "session closing", obj="tunnels.session", id=session, err=err)
        log("crit", "command failed", err=err)
        for line in err.replace("\r", "").split("\n"):
            print(f"ERROR:  {line}".rstrip(), flush=True)
        record.update(status="exited", code=1)
        return 1

    def stop_request(signum: int, frame: object) -> None:
        log("info", "received stop request", obj="app", stopReq="{err:<nil> restart:false}")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop_request)
    log("info", "client session established", obj="tunnels.session")
    log("info", "tunnel session started", obj="tunnels.session")
    record.update(status="running")
    server.serve_forever()
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("version", "--version", "-v"):
        print(f"ngrok version {VERSION}", flush=True)
        return 0
    if argv[:2] == ["config", "add-authtoken"] and len(argv) > 2:
        options = parse(argv[3:])
        path = (options["config"] or [os.path.expanduser("~/.config/ngrok/ngrok.yml")])[0]
        config = load_config([path]) if os.path.exists(path) else {"version": "3"}
        config.setdefault("agent", {})["authtoken"] = argv[2]
        with open(path, "w", encoding="utf-8") as out:
            yaml.safe_dump(config, out)
        print(f"Authtoken saved to configuration file: {path}", flush=True)
        return 0
    if argv[0] != "start":
        print(f'ERROR:  unknown command "{argv[0]}" for "ngrok"', file=sys.stderr, flush=True)
        return 1
    return start(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
