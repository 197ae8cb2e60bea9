"""``nbmcp serve --journal F --log-calls G``, then ``kill -9``: every answered call is in the files.

A real ``nbmcp serve`` process on port 0, called with httpx over MCP (a session with
``clientInfo``, and plain sessionless POSTs) and over REST, with an API key whose label is the
principal. The JSON-lines log is written before each answer leaves, so it holds every answered
call even when the kill comes right after the last answer; the SQLite journal is read read-only
while the server runs (it batches its writes every 50 ms), and after the kill it still holds
every call it showed then, whole. Neither file ever holds the key.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from nbmcp.monitor.journal import read_journal
from tests.peers.tools import ROOT

pytestmark = pytest.mark.timeout(120)

KEY = "crash-test-key-0123456789abcdef"
PROTOCOL = "2025-11-25"
SERVING = re.compile(r"at (http://127\.0\.0\.1:\d+/mcp)")
FIELDS = {
    "id", "tool", "arguments", "ok", "error", "summary", "duration_ms", "started_at", "ended_at",
    "transport", "client", "session_id", "principal", "output",
}  # fmt: skip


class Served:
    """A ``nbmcp serve`` process, the thread reading its output, and its ``/mcp`` URL."""

    def __init__(self, proc: subprocess.Popen[str], reader: threading.Thread, url: str) -> None:
        self.proc, self.reader, self.url = proc, reader, url

    def end(self) -> None:
        """Kill it if it still runs; wait for it and its output's end; close the pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def serve(journal: Path, log: Path) -> Served:
    """Start ``nbmcp serve`` on port 0; returns it once it printed its ``/mcp`` URL."""
    cmd = [sys.executable, "-m", "nbmcp.cli", "serve", "examples/weather.py", "--port", "0"]
    cmd += ["--journal", str(journal), "--log-calls", str(log), "--api-key", f"ci={KEY}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        found = SERVING.search(line)
        if found:
            return Served(proc, reader, found.group(1))
    Served(proc, reader, "").end()
    raise AssertionError("nbmcp serve did not say where it serves:\n" + "".join(seen))


def rpc(method: str, params: dict[str, Any], msg_id: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if msg_id is not None:
        body["id"] = msg_id
    return body


def journal_rows(path: Path) -> int:
    """How many calls the journal holds, read read-only (as another process would)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (count,) = db.execute("SELECT count(*) FROM calls").fetchone()
        return int(count)
    finally:
        db.close()


def test_every_answered_call_survives_kill_9(tmp_path: Path) -> None:
    journal, log = tmp_path / "calls.db", tmp_path / "calls.jsonl"
    served = serve(journal, log)
    proc, url = served.proc, served.url
    base = url.removesuffix("/mcp")
    answered: dict[str, dict[str, Any]] = {}  # expected call -> what it should say, by a unique city+days key
    try:
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600 and stat.S_IMODE(log.stat().st_mode) == 0o600
        headers = {"X-API-Key": KEY, "Accept": "application/json, text/event-stream"}
        with httpx.Client(headers=headers, timeout=10, trust_env=False) as http:
            init = {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "crash-probe", "version": "2.0"},
            }
            opened = http.post(url, json=rpc("initialize", init, 1))
            assert opened.status_code == 200, opened.text
            session = opened.headers["mcp-session-id"]
            in_session = {"Mcp-Session-Id": session, "MCP-Protocol-Version": PROTOCOL}
            assert (
                http.post(
                    url, json=rpc("notifications/initialized", {}, None), headers=in_session
                ).status_code
                == 202
            )

            def call(n: int, city: str, *, sessioned: bool, rest: bool = False) -> None:
                arguments = {"city": city, "unit": "celsius" if n % 2 else "fahrenheit"}
                if rest:
                    answer = http.post(f"{base}/tools/get_weather", json=arguments)
                    ok = answer.status_code == 200
                    assert answer.status_code in (200, 400), answer.text
                else:
                    body = rpc("tools/call", {"name": "get_weather", "arguments": arguments}, n)
                    answer = http.post(url, json=body, headers=in_session if sessioned else {})
                    assert answer.status_code == 200, answer.text
                    result = answer.json()["result"]
                    ok = not result["isError"]
                expected = {
                    "arguments": arguments,
                    "ok": ok,
                    "transport": "rest" if rest else "mcp",
                    "client": {"name": "crash-probe", "version": "2.0"} if sessioned else None,
                    "session_id": session if sessioned else None,
                }
                answered[f"{city}/{arguments['unit']}/{n}"] = expected

            cities = ["Tokyo", "Paris", "Nairobi", "New York"]
            for n in range(1, 21):
                call(n, cities[n % 4], sessioned=n % 3 != 0)
            call(21, KEY, sessioned=True)  # fails: "unknown city '<the key>'", which must not be stored
            call(22, "Paris", sessioned=False, rest=True)
            first = len(answered)

            # readable while serving: the journal shows every call so far (it writes every 50 ms)
            deadline = time.monotonic() + 10
            while journal_rows(journal) < first:
                assert time.monotonic() < deadline, (
                    f"the journal shows {journal_rows(journal)} of {first} calls"
                )
                time.sleep(0.02)
            assert journal_rows(journal) == first

            for n in range(23, 43):  # a last burst, and the kill right after its last answer
                call(n, cities[n % 4], sessioned=n % 2 == 0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        served.end()
    assert proc.returncode == -signal.SIGKILL

    text = log.read_bytes()
    assert KEY.encode() not in text
    lines = [orjson.loads(line) for line in text.splitlines()]  # every line parses
    assert len(lines) == len(answered) == 42
    assert len({line["id"] for line in lines}) == 42
    for line, (key, expected) in zip(lines, answered.items(), strict=True):  # in the order answered
        assert set(line) == FIELDS, line
        assert {k: line[k] for k in expected} == expected or (
            key.startswith(KEY)
            and line["arguments"] == {"city": "***", "unit": expected["arguments"]["unit"]}
        ), (key, line)
        assert line["tool"] == "get_weather" and line["principal"] == "ci"
        assert (line["error"] is None) == line["ok"]
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["started_at"].endswith("+00:00") and line["ended_at"] >= line["started_at"]
    failed = [line for line in lines if not line["ok"]]
    assert [f["error"] for f in failed] == ["unknown city '***'; try one of: nairobi, new york, paris, tokyo"]

    # after the crash: the journal opens read-only and holds, whole, every call it showed while serving
    assert KEY.encode() not in journal.read_bytes() + Path(f"{journal}-wal").read_bytes()
    kept = read_journal(journal, limit=1000)[::-1]
    assert first <= len(kept) <= len(lines)
    assert kept == lines[: len(kept)]
    for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize(("flag", "what"), [("--journal", "journal"), ("--log-calls", "call log")])
def test_a_file_that_cannot_be_opened_is_one_line_and_exit_1(tmp_path: Path, flag: str, what: str) -> None:
    missing = tmp_path / "no-such-dir" / "calls"
    cmd = [
        sys.executable,
        "-m",
        "nbmcp.cli",
        "serve",
        "examples/weather.py",
        "--port",
        "0",
        flag,
        str(missing),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip() == f"nbmcp: error: {flag}: {what} '{missing}': No such file or directory"
    assert "serving" not in done.stdout


def test_serve_help_names_both_flags() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nbmcp.cli", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert "--journal FILE keep every finished call in this SQLite file (created 0600;" in flat
    assert "--log-calls FILE append one JSON line per finished call" in flat
