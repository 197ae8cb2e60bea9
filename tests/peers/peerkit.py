"""Raw HTTP helpers for tests that talk to nbmcp without any MCP library in between.

* ``bare_client()``: an httpx client that sends only the headers a test names (plus the
  ``Host`` and ``Content-Length`` HTTP/1.1 needs): no ``Accept``, no ``User-Agent``.
* ``read_messages(response)``: the JSON-RPC messages of a JSON or ``text/event-stream`` body.
* ``RawSession``: an initialize handshake at a chosen protocol revision, then requests in it,
  every answer checked by :mod:`oracle`.
* ``cli_server(...)``: ``nbmcp serve FILE --port P`` as a subprocess, ready once ``/health`` answers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.peers import oracle

__all__ = [
    "CliServer",
    "RawSession",
    "bare_client",
    "cli_server",
    "free_port",
    "health_url",
    "read_messages",
    "rpc",
    "stop_process",
]

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = httpx.Timeout(30.0)
_ids = itertools.count(1)


def rpc(method: str, params: dict[str, Any] | None = None, msg_id: Any = None) -> dict[str, Any]:
    """A JSON-RPC request; a notification (no id) for ``notifications/*`` methods."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if not method.startswith("notifications/"):
        msg["id"] = next(_ids) if msg_id is None else msg_id
    if params is not None:
        msg["params"] = params
    return msg


def bare_client(**kwargs: Any) -> httpx.Client:
    """An httpx client with no default headers (and no proxy from the environment)."""
    client = httpx.Client(timeout=TIMEOUT, trust_env=False, **kwargs)
    for name in list(client.headers.keys()):  # the setter would merge httpx's defaults back in
        del client.headers[name]
    return client


def health_url(mcp_url: str) -> str:
    return mcp_url.rsplit("/mcp", 1)[0] + "/health"


def read_messages(response: httpx.Response) -> list[Any]:
    """The JSON-RPC messages in a response body: one JSON value, or the events of an SSE stream.

    A JSON body that is a batch array is returned as ``[array]`` (one message, the batch).
    """
    ctype = response.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        return [response.json()]
    assert ctype.startswith("text/event-stream"), (
        f"unexpected content type {ctype!r}: {response.text[:200]!r}"
    )
    messages: list[Any] = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
        if data and "".join(data).strip():
            messages.append(json.loads("\n".join(data)))
    return messages


@dataclass
class RawSession:
    """One MCP session over raw HTTP at a fixed protocol revision."""

    client: httpx.Client
    url: str
    version: str
    session_id: str | None = None
    init_result: dict[str, Any] = field(default_factory=dict)

    def headers(self, accept: str = "application/json, text/event-stream") -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": accept}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        # MCP-Protocol-Version arrived with 2025-06-18; older clients never send it.
        if self.version >= "2025-06-18" and self.init_result:
            headers["MCP-Protocol-Version"] = self.version
        return headers

    def initialize(
        self, capabilities: dict[str, Any] | None = None, *, strict: bool = True
    ) -> dict[str, Any]:
        """The handshake; ``strict=False`` skips only the later-revision-fields rule for its answer."""
        params = {
            "protocolVersion": self.version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "nbmcp-raw-test", "version": "0"},
        }
        oracle.validate_client_request("initialize", params, self.version)
        message = rpc("initialize", params)
        response = self.client.post(self.url, json=message, headers=self.headers())
        assert response.status_code == 200, (response.status_code, response.text)
        self.session_id = response.headers.get("mcp-session-id")
        answers, others = oracle.split_answers(read_messages(response))
        assert len(answers) == 1 and not others, answers + others
        result = oracle.validate_answer(
            "initialize", answers[0], self.version, request_id=message["id"], later=strict
        )
        self.init_result = result
        note = self.client.post(self.url, json=rpc("notifications/initialized"), headers=self.headers())
        assert note.status_code == 202 and note.content == b"", (note.status_code, note.text)
        return result

    def request(
        self, method: str, params: dict[str, Any] | None = None, *, accept: str | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send one request; returns (its answer, the server messages that came before it), all validated."""
        oracle.validate_client_request(method, params, self.version)
        message = rpc(method, params)
        response = self.client.post(
            self.url, json=message, headers=self.headers(accept or "application/json, text/event-stream")
        )
        assert response.status_code < 500, (response.status_code, response.text)
        answers, others = oracle.split_answers(read_messages(response))
        assert len(answers) == 1, f"expected one answer to {method}, got {answers!r:.500}"
        answer = answers[0]
        oracle.validate_answer(method, answer, self.version, request_id=message["id"])
        for other in others:
            oracle.validate_server_message(other, self.version)
        return answer, others

    def converse(
        self,
        method: str,
        params: dict[str, Any] | None,
        reply: Any,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send a request and answer the server's own requests on its SSE stream as they come.

        ``reply(message)`` returns the ``result`` for each server request (sampling, elicitation);
        it is POSTed back at once, as the client half of the Streamable HTTP transport does.
        Returns (the answer, every server message seen), all validated.
        """
        oracle.validate_client_request(method, params, self.version)
        message = rpc(method, params)
        seen: list[dict[str, Any]] = []
        answer: dict[str, Any] | None = None
        headers = self.headers()
        with self.client.stream("POST", self.url, json=message, headers=headers) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream"), response.headers
            data: list[str] = []
            for line in response.iter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                    continue
                if line:  # id:, event:, retry: fields
                    continue
                payload, data = "\n".join(data).strip(), []  # a blank line ends an event
                if not payload:  # the priming event carries no message
                    continue
                event = json.loads(payload)
                if "method" not in event:
                    answer = event
                    break
                oracle.validate_server_message(event, self.version)
                seen.append(event)
                if "id" in event:
                    result = reply(event)
                    oracle.validate_client_result(event["method"], result, self.version)
                    back = {"jsonrpc": "2.0", "id": event["id"], "result": result}
                    posted = self.client.post(self.url, json=back, headers=self.headers())
                    assert posted.status_code == 202 and posted.content == b"", (
                        posted.status_code,
                        posted.text,
                    )
        assert answer is not None, f"the stream for {method} ended without an answer"
        oracle.validate_answer(method, answer, self.version, request_id=message["id"])
        return answer, seen

    def close(self) -> int:
        if not self.session_id:
            return 0
        response = self.client.delete(self.url, headers=self.headers())
        return response.status_code


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    """Poll ``GET /health`` until it answers 200 (bounded); fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    last: object = None
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"server exited early with code {proc.returncode}")
            try:
                if client.get(health_url(url)).status_code == 200:
                    return
            except httpx.TransportError as exc:
                last = exc
            time.sleep(0.05)
    raise AssertionError(f"{url} did not become healthy within {timeout} s (last: {last!r})")


@dataclass
class CliServer:
    url: str
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> tuple[str, str]:
        return (
            self.stdout_path.read_text(errors="replace"),
            self.stderr_path.read_text(errors="replace"),
        )


def stop_process(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """Stop ``proc`` as Ctrl-C would (SIGINT) if it still runs; kill it if it has not exited
    within ``timeout`` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def nbmcp_command() -> list[str]:
    exe = shutil.which("nbmcp")
    return [exe] if exe else [sys.executable, "-m", "nbmcp.cli"]


@contextlib.contextmanager
def cli_server(
    target: str | Path,
    tmp_path: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[CliServer]:
    """``nbmcp serve TARGET --port P EXTRA...`` in a subprocess; stopped (SIGINT, then kill) on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    out = tmp_path / f"serve-{port}.out"
    err = tmp_path / f"serve-{port}.err"
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            [*nbmcp_command(), "serve", str(target), "--port", str(port), *extra],
            stdout=out_f,
            stderr=err_f,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=REPO,
        )
    server = CliServer(url, proc, out, err)
    try:
        wait_healthy(url, proc, ready_timeout)
        yield server
    finally:
        stop_process(proc)
