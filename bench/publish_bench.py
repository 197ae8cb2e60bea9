#!/usr/bin/env python3
"""Publishing: ``server.publish()`` -> first answered call, and the cost of a call through the tunnel.

    python bench/publish_bench.py            # 5 publishes per provider, 2,000 calls per path
    python bench/publish_bench.py --quick    # 3 publishes, 500 calls
    python bench/publish_bench.py --no-write

No real ngrok or cloudflared here: the agents are the test doubles of ``tests/tunnel`` (pyngrok
drives the ngrok double exactly as it drives the real agent; the cloudflared double prints the
real log lines), and their edge is a local TLS front end with a ``trustme`` certificate whose
public name resolves to this machine. So the figures are nbmcp's own share (start the agent,
wait for its URL, turn on OAuth, check the URL answers) plus one TLS hop on loopback; a real
tunnel adds the internet's round trips on top.

Measured:

* publish -> first call: from calling ``server.publish(provider)`` until a ``tools/call`` with the
  owner key is answered through the public URL (the median of N fresh publishes; each followed by
  ``unpublish()``);
* per call: ``tools/call`` over one kept-alive connection, local ``http://127.0.0.1`` versus the
  public ``https://`` URL through each double (medians and p95 of the round trip; the ratio of
  medians).

Results: a table on stdout and ``bench/PUBLISH_RESULTS.md``. Run as root (it adds the doubles'
names to ``/etc/hosts`` for the run, and removes them) or with those names resolving here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from nbmcp import MCPServer  # noqa: E402
from tests.tunnel.kit import build_kit, public_names  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "PUBLISH_RESULTS.md"
KEY = "bench-owner-key-0123456789abcdefghij"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}


def _server() -> MCPServer:
    # Published, a server rate-limits each caller (120 a minute by default): off here, so the
    # figure is the call path through the tunnel, not the limiter's refusals.
    server = MCPServer("publish-bench", api_key=KEY, rate_limit="off")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


def _answered(client: httpx.Client, url: str) -> bool:
    answer = client.post(url, json=CALL, headers={"X-API-Key": KEY})
    return answer.status_code == 200 and answer.json()["result"]["structuredContent"] == {"result": 3}


def publish_to_first_call(server: MCPServer, provider: str, runs: int, verify: object) -> list[float]:
    """Seconds from ``publish()`` to the first answered call, ``runs`` times."""
    figures = []
    for _ in range(runs):
        with httpx.Client(verify=verify, trust_env=False, timeout=15) as client:  # type: ignore[arg-type]
            started = time.perf_counter()
            url = server.publish(provider)
            deadline = started + 30
            while not _answered(client, url):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"no answer through {provider} within 30 s")
            figures.append(time.perf_counter() - started)
        server.unpublish()
    return figures


def per_call(url: str, calls: int, verify: object) -> list[float]:
    """Round-trip seconds of ``calls`` ``tools/call`` requests over one kept-alive connection."""
    figures = []
    with httpx.Client(verify=verify, trust_env=False, timeout=15) as client:  # type: ignore[arg-type]
        for _ in range(50):  # warm-up: the connection, the TLS session, the server's caches
            assert _answered(client, url)
        for _ in range(calls):
            started = time.perf_counter()
            ok = _answered(client, url)
            figures.append(time.perf_counter() - started)
            assert ok
    return figures


def _ms(values: list[float], q: float = 0.5) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 publishes, 500 calls")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite bench/PUBLISH_RESULTS.md")
    args = parser.parse_args()
    runs, calls = (3, 500) if args.quick else (5, 2000)
    root = Path(tempfile.mkdtemp(prefix="nbmcp-publish-bench-"))
    kit = build_kit(root)
    os.environ.update({**kit.ngrok_env(), **kit.cloudflared_env(), "NBMCP_OAUTH_STORE": "memory"})
    os.environ["NBMCP_FAKE_RECORD_DIR"] = str(root)
    verify = kit.ssl_context()
    rows: list[tuple[str, str, str]] = []
    with public_names():
        server = _server()
        local = server.start(port=0)
        try:
            base = per_call(local, calls, True)
            first: dict[str, list[float]] = {}
            through: dict[str, list[float]] = {}
            for provider in ("ngrok", "cloudflared"):
                first[provider] = publish_to_first_call(server, provider, runs, verify)
                url = server.publish(provider)
                through[provider] = per_call(url, calls, verify)
                server.unpublish()
        finally:
            server.stop()
    for provider in ("ngrok", "cloudflared"):
        rows.append(
            (
                f"publish -> first call ({provider} double)",
                f"{1000 * statistics.median(first[provider]):.0f} ms median of {runs}",
                ", ".join(f"{1000 * v:.0f}" for v in first[provider]) + " ms",
            )
        )
    rows.append(("tools/call local (http://127.0.0.1)", f"{_ms(base):.2f} ms median, {_ms(base, 0.95):.2f} p95", "1.00"))
    for provider in ("ngrok", "cloudflared"):
        figures = through[provider]
        ratio = statistics.median(figures) / statistics.median(base)
        rows.append(
            (
                f"tools/call through the {provider} double (https)",
                f"{_ms(figures):.2f} ms median, {_ms(figures, 0.95):.2f} p95",
                f"{ratio:.2f}x local",
            )
        )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        "# nbmcp benchmark results: publishing",
        "",
        f"Generated by `python bench/publish_bench.py{' --quick' if args.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; git {commit}; CPython {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Figures, not tests: {runs} publishes per provider, {calls} calls per path.",
        "",
        "| what | figure | detail |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        "The agents are the test doubles (see the docstring): the publish figure is nbmcp's own share "
        "(agent start, its URL, OAuth on, the URL checked to answer) and the per-call figure one TLS hop "
        "on loopback through the double's edge; a real tunnel adds the network's round trips. The "
        "server runs with `rate_limit=\"off\"` (published, the default limit of 120 calls a minute per "
        "caller would refuse this many calls).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
