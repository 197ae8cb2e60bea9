"""Talk MCP to a notebook's server from outside the kernel: plain POSTs and the official SDK."""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from tests.peers import oracle

PLAIN = {"Content-Type": "application/json"}


def rpc(
    url: str, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0, **headers: str
) -> Any:
    """One plain JSON-RPC POST (the curl/ChatGPT shape); returns the ``result`` (or raises).

    The answer is judged by :func:`tests.peers.oracle.validate_answer` under the revision the
    sessionless exchange ran at (``oracle.sessionless_version``).
    """
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    response = httpx.post(url, json=body, headers={**PLAIN, **headers}, timeout=timeout)
    response.raise_for_status()
    answer = response.json()
    version = oracle.sessionless_version(method, headers, answer)
    return oracle.validate_answer(method, answer, version, request_id=1, expect="result")


def call(url: str, name: str, arguments: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
    """``tools/call`` over a plain POST; returns the result."""
    return rpc(url, "tools/call", {"name": name, "arguments": arguments or {}}, timeout=timeout)


def tool_names(url: str) -> set[str]:
    return {t["name"] for t in rpc(url, "tools/list")["tools"]}


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(b["text"] for b in result["content"] if b["type"] == "text")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Bounded polling; returns the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def run_async(fn: Callable[[], Awaitable[None]], timeout: float = 60.0) -> None:
    async def bounded() -> None:
        with anyio.fail_after(timeout):
            await fn()

    anyio.run(bounded)
