"""Drive a real IPython kernel (ipykernel, via jupyter_client) from a test.

``Kernel.run(code)`` executes one cell and returns what it showed: stdout, stderr, rich
results and the error, collected from the kernel's IOPub messages for that cell only.
``Kernel.submit`` sends a cell without waiting; ``Kernel.wait_for_output`` then waits until
that cell has printed a given text (so a test acts while the cell is known to be running,
not after a guessed sleep), and ``Kernel.collect`` gathers the cell's messages later.
Every message keeps the kernel's own send time (the header ``date``), so tests compare the
order of events, not durations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
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
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Every IOPub message of the cell, in order (``msg_type``, ``header``, ``content``)."""
    replied_at: dt.datetime | None = None
    """When the kernel sent the cell's execute reply (its clock: the reply header's ``date``)."""

    def output_at(self, text: str) -> dt.datetime:
        """When the kernel sent the stream output that contains ``text``."""
        for msg in self.messages:
            if msg["msg_type"] == "stream" and text in msg["content"]["text"]:
                return sent_at(msg)
        raise AssertionError(f"the cell never printed {text!r}; it printed {self.stdout!r}")

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


def sent_at(msg: dict[str, Any]) -> dt.datetime:
    """When the kernel sent ``msg`` (timezone-aware; compare with :func:`now`)."""
    date = msg["header"]["date"]
    if isinstance(date, str):  # jupyter_client parses it; older ones may not
        date = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
    assert isinstance(date, dt.datetime) and date.tzinfo is not None, date
    return date


def now() -> dt.datetime:
    """This machine's clock, as the kernel's message dates give it."""
    return dt.datetime.now(dt.timezone.utc)


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
        self._iopub: dict[str, list[dict[str, Any]]] = {}
        """Messages read for submitted cells not collected yet, by cell (parent) id."""
        self._replies: dict[str, dict[str, Any]] = {}

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
        msg_id = str(msg["header"]["msg_id"])
        self._iopub[msg_id] = []
        return msg_id

    def _read_iopub(self, deadline: float) -> bool:
        """Read one IOPub message into its cell's buffer (others are dropped); False on timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            msg = self.kc.get_iopub_msg(timeout=remaining)
        except queue.Empty:
            return time.monotonic() < deadline
        parent = msg["parent_header"].get("msg_id")
        if parent in self._iopub:
            self._iopub[parent].append(msg)
        return True

    def wait_for_output(self, msg_id: str, text: str, timeout: float = 30.0) -> dt.datetime:
        """Wait until the submitted cell ``msg_id`` printed ``text``; returns when the kernel sent it.

        The cell's messages stay for :meth:`collect`.
        """
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            buffered = self._iopub[msg_id]
            for msg in buffered[seen:]:
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream" and text in content["text"]:
                    return sent_at(msg)
                if kind == "status" and content["execution_state"] == "idle":
                    raise AssertionError(f"the cell ended without printing {text!r}")
            seen = len(buffered)
            if not self._read_iopub(deadline):
                raise TimeoutError(f"the cell did not print {text!r} within {timeout} s")

    def collect(self, msg_id: str, timeout: float = 60.0) -> Reply:
        """Gather the IOPub output of ``msg_id`` until the kernel is idle again."""
        reply = Reply()
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        buffered = self._iopub.setdefault(msg_id, [])
        seen = 0
        idle = False
        while not idle:
            while seen == len(buffered):
                if not self._read_iopub(deadline):
                    raise TimeoutError(f"the cell did not finish within {timeout} s")
            msg = buffered[seen]
            seen += 1
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
                idle = True
        reply.seconds = time.perf_counter() - started
        reply.messages = self._iopub.pop(msg_id)
        answer = self._execute_reply(msg_id)
        reply.payload = answer.get("content", {}).get("payload", [])
        reply.replied_at = sent_at(answer) if answer else None
        return reply

    def _execute_reply(self, msg_id: str) -> dict[str, Any]:
        """The whole execute_reply message of ``msg_id`` (``{}`` if none came within 10 s)."""
        deadline = time.monotonic() + 10
        while msg_id not in self._replies and time.monotonic() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                continue
            parent = msg["parent_header"].get("msg_id")
            if parent == msg_id or parent in self._iopub:
                self._replies[parent] = msg
        return self._replies.pop(msg_id, {})

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


@contextlib.contextmanager
def started_kernel(*setup: str) -> Iterator[Kernel]:
    """A fresh ``python3`` kernel that ran each ``setup`` cell without error; shut down at the end."""
    k = Kernel()
    try:
        for cell in setup:
            k.run(cell).ok()
        yield k
    finally:
        k.shutdown()


@pytest.fixture(name="kernel")
def kernel_fixture() -> Iterator[Kernel]:
    """The ``kernel`` fixture: a fresh ``python3`` kernel with ``%load_ext nbmcp`` done.

    tests/notebook/conftest.py offers it; a test module elsewhere imports ``kernel_fixture``.
    """
    with started_kernel("%load_ext nbmcp") as k:
        yield k
