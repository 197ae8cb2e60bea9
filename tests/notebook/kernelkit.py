"""Drive a real IPython kernel (ipykernel, via jupyter_client) from a test.

``Kernel.run(code)`` executes one cell and returns what it showed: stdout, stderr, rich
results and the error, collected from the kernel's IOPub messages for that cell only.
"""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager

STARTUP = 60.0
"""Seconds a kernel may take to answer its first request."""


@dataclass
class Reply:
    """What one cell showed."""

    stdout: str = ""
    stderr: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    seconds: float = 0.0
    payload: list[dict[str, Any]] = field(default_factory=list)
    """The execute reply's payloads (``%mcp?`` help arrives as a ``page`` payload)."""

    @property
    def page(self) -> str:
        """The text a ``?`` query paged."""
        return "\n".join(
            str(p.get("data", {}).get("text/plain", "")) for p in self.payload if p.get("source") == "page"
        )

    @property
    def text(self) -> str:
        """The ``text/plain`` of each result, one a line."""
        return "\n".join(str(r.get("text/plain", "")) for r in self.results)

    @property
    def ename(self) -> str | None:
        return None if self.error is None else str(self.error.get("ename"))

    @property
    def evalue(self) -> str:
        return "" if self.error is None else str(self.error.get("evalue"))

    def ok(self) -> Reply:
        """This reply, after checking the cell raised nothing."""
        assert self.error is None, f"{self.ename}: {self.evalue}\n" + "\n".join(self.error["traceback"])  # type: ignore[index]
        return self


def kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("NBMCP_API_KEY", None)
    return env


class Kernel:
    """A real ``python3`` kernel (ipykernel) in a subprocess."""

    def __init__(self) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=kernel_env(), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=STARTUP)

    def submit(self, code: str, metadata: dict[str, Any] | None = None) -> str:
        """Send an execute request without waiting; returns its message id."""
        msg = self.kc.session.msg(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": False,
            },
            metadata=metadata or {},
        )
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def collect(self, msg_id: str, timeout: float = 60.0) -> Reply:
        """Gather the IOPub output of ``msg_id`` until the kernel is idle again."""
        reply = Reply()
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the cell did not finish within {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    reply.stdout += content["text"]
                else:
                    reply.stderr += content["text"]
            elif kind in ("execute_result", "display_data"):
                reply.results.append(content["data"])
            elif kind == "error":
                reply.error = content
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply.seconds = time.perf_counter() - started
        reply.payload = self._execute_reply(msg_id).get("payload", [])
        return reply

    def _execute_reply(self, msg_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return dict(msg["content"])
        return {}

    def run(self, code: str, timeout: float = 60.0, metadata: dict[str, Any] | None = None) -> Reply:
        """Execute one cell and wait for it."""
        return self.collect(self.submit(code, metadata), timeout)

    def restart(self) -> None:
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=STARTUP)

    def shutdown(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=False)
            self.km.cleanup_resources()
