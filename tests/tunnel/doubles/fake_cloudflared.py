"""A double of ``cloudflared tunnel --url URL`` (a quick tunnel), as cloudflared 2026.x prints it.

On stderr, in cloudflared's format (``<time> INF <message> key=value``): the account-less
notice, ``Requesting new quick Tunnel on trycloudflare.com...``, the box with the URL, the
version and settings lines, and ``Registered tunnel connection connIndex=0 ...`` once the edge
is up. The URL is ``https://cloudflared.nbmcp.test:<port>`` (``NBMCP_FAKE_CLOUDFLARED_HOST`` to
change the name), a TLS edge (:mod:`edge`) writing ``Cf-Connecting-Ip`` and ``X-Forwarded-For``
that, as quick tunnels do, holds a GET event stream until it ends
(``NBMCP_FAKE_CLOUDFLARED_HOLD=0`` turns that off).

``NBMCP_FAKE_MODE=fail``: the quick-tunnel request fails as it does offline (exit 1);
``hang``: nothing after the first line. ``cloudflared version`` answers like cloudflared.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from common import Loop, Record, edge_context, mode
from edge import Edge

VERSION = "2026.5.0"
NOTICE = (
    "Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to "
    "experiment and try it out. However, be aware that these account-less Tunnels have no uptime "
    "guarantee, are subject to the Cloudflare Online Services Terms of Use "
    "(https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your "
    "use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should "
    "use a pre-created named tunnel by following: "
    "https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/"
)
FAILURE = (
    'Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com on '
    "127.0.0.53:53: server misbehaving"
)


def log(level: str, message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} {level} {message}", file=sys.stderr, flush=True)


def parse(argv: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    it = iter(argv)
    for arg in it:
        name, _, inline = arg.partition("=")
        if name in ("--url", "--metrics", "--loglevel", "--protocol", "--config", "--edge-ip-version"):
            options[name.lstrip("-")] = inline or next(it, "")
        elif name.startswith("--"):
            options[name.lstrip("-")] = True
    return options


def box(url: str) -> None:
    title = "Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):"
    width = len(title) + 4
    log("INF", "+" + "-" * width + "+")
    log("INF", f"|  {title}  |")
    log("INF", f"|  {url.ljust(len(title))}  |")
    log("INF", "+" + "-" * width + "+")


def tunnel(argv: list[str]) -> int:
    options = parse(argv)
    record = Record("cloudflared", ["tunnel", *argv])
    url = str(options.get("url") or "http://localhost:8080")
    log("INF", NOTICE)
    log("INF", "Requesting new quick Tunnel on trycloudflare.com...")
    if mode() == "hang":
        signal.pause()
    if mode() == "fail":
        log("ERR", f'Error requesting new quick Tunnel error="{FAILURE}"')
        print(f"failed to request quick Tunnel: {FAILURE}", file=sys.stderr, flush=True)
        record.update(status="exited", code=1)
        return 1
    target = urlsplit(url)
    hold = os.environ.get("NBMCP_FAKE_CLOUDFLARED_HOLD", "1") != "0"
    edge = Edge(
        target.hostname or "localhost",
        target.port or 80,
        address_headers=(b"cf-connecting-ip", b"x-forwarded-for"),
        extra_headers=((b"cf-visitor", b'{"scheme":"https"}'), (b"cdn-loop", b"cloudflare")),
        hold_get_streams=hold,
        on_hold=lambda: record.add("held"),
    )
    loop = Loop()
    port = loop.run(edge.start(edge_context()))
    public = f"https://{os.environ.get('NBMCP_FAKE_CLOUDFLARED_HOST', 'cloudflared.nbmcp.test')}:{port}"
    box(public)
    log("INF", f"Version {VERSION} (Checksum {uuid.uuid4().hex})")
    log("INF", "GOOS: linux, GOVersion: go1.24.4, GoArch: amd64")
    log("INF", f"Settings: map[ha-connections:1 no-autoupdate:true protocol:quic url:{url}]")
    log("INF", f"Generated Connector ID: {uuid.uuid4()}")
    log("INF", "Initial protocol quic")
    log("INF", f"Starting metrics server on {options.get('metrics') or '127.0.0.1:20241'}/metrics")
    record.update(public_url=public, upstream=url, hold=hold, status="running")

    def stop(signum: int, frame: object) -> None:
        log("INF", "Initiating graceful shutdown due to signal terminated ...")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    log(
        "INF",
        f"Registered tunnel connection connIndex=0 connection={uuid.uuid4()} event=0 "
        "ip=198.41.200.13 location=lax01 protocol=quic",
    )
    while True:
        signal.pause()


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("version", "--version", "-v"):
        print(f"cloudflared version {VERSION} (built 2026-05-01-1200 UTC)", flush=True)
        return 0
    if not argv or argv[0] != "tunnel":
        print('Use "cloudflared tunnel --url http://localhost:8080" for a quick tunnel', file=sys.stderr)
        return 1
    return tunnel(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
