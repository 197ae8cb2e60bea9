"""Memory with 20,000 sessions opened: the ``max_sessions`` cap against keeping them all.

``python bench/session_cap.py [--sessions N] [--cap C]`` runs one fresh process per case, each
serving ``MCPServer`` on a free loopback port and opening N sessions over real HTTP (an
``initialize`` POST and the ``notifications/initialized`` that follows, on one keep-alive
connection, never closing a session), then prints the cases side by side:

- ``cap C`` (default 1,000, the ``max_sessions`` default): the longest idle session is ended
  past the cap;
- ``no cap``: the cap lifted (``sessions.max_sessions = None``), which is how every server
  behaved before the cap: all N sessions kept until their ``session_ttl`` (an hour) ran out.

RSS is ``VmRSS`` from ``/proc/self/status`` after a warm-up session, the FastAPI app built and a
``gc.collect()``,
and again after the N sessions (and a collection). Figures, not assertions: the tests check
that the live count never passes the cap.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
NOTE = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def open_session(conn: http.client.HTTPConnection, n: int) -> str:
    body = dict(INIT, params=dict(INIT["params"], clientInfo={"name": f"bench-{n}", "version": "1"}))
    conn.request("POST", "/mcp", json.dumps(body).encode(), HEADERS)
    answer = conn.getresponse()
    answer.read()
    session_id = answer.getheader("mcp-session-id")
    if answer.status != 200 or not session_id:
        raise SystemExit(f"initialize failed: {answer.status}")
    conn.request(
        "POST", "/mcp", NOTE, {**HEADERS, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"}
    )
    note = conn.getresponse()
    note.read()
    if note.status != 202:
        raise SystemExit(f"notifications/initialized failed: {note.status}")
    return session_id


def child(sessions: int, cap: int | None) -> None:
    sys.path.insert(0, ROOT)
    from nbmcp import MCPServer

    server = MCPServer("bench")

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    server.engine.sessions.max_sessions = cap
    url = server.start()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    open_session(conn, 0)
    assert (
        server.app is not None
    )  # the FastAPI app (built in a thread after start) is in memory before the first figure
    gc.collect()
    before = rss_kib()
    started = time.perf_counter()
    for n in range(1, sessions + 1):
        open_session(conn, n)
    elapsed = time.perf_counter() - started
    gc.collect()
    after = rss_kib()
    live = len(server.engine.sessions)
    conn.close()
    server.stop()
    print(
        json.dumps({"cap": cap, "live": live, "before_kib": before, "after_kib": after, "seconds": elapsed})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--cap", type=int, default=1000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-cap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.sessions, None if args.no_cap else args.cap)
        return
    rows = []
    for extra in ([], ["--no-cap"]):
        command = [
            sys.executable,
            __file__,
            "--child",
            "--sessions",
            str(args.sessions),
            "--cap",
            str(args.cap),
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"case {extra or 'cap'} failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{args.sessions:,} sessions opened over HTTP (initialize + notifications/initialized), never closed"
    )
    print(
        f"{'case':<12} {'live':>7} {'RSS before':>11} {'RSS after':>10} {'growth':>9} {'per live':>9} {'time':>7}"
    )
    for row in rows:
        name = f"cap {row['cap']:,}" if row["cap"] else "no cap"
        growth = row["after_kib"] - row["before_kib"]
        print(
            f"{name:<12} {row['live']:>7,} {row['before_kib'] / 1024:>9.1f}MB {row['after_kib'] / 1024:>8.1f}MB "
            f"{growth / 1024:>7.1f}MB {growth * 1024 / row['live']:>7.0f} B {row['seconds']:>6.1f}s"
        )


if __name__ == "__main__":
    main()
