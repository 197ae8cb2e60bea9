"""A kernel whose widget messages are all kept, and the dashboard's state as a frontend sees it.

The dashboard's updater sends from its own thread, outside any cell, so
:class:`tests.notebook.kernelkit.Kernel` (which keeps only the messages of the cells it ran)
would drop its updates. :class:`WatchedKernel` keeps every ``comm_open`` and ``comm_msg``
besides; :meth:`WatchedKernel.state_of` folds them into the state a widget manager would hold,
and :meth:`WatchedKernel.wait_state` waits (bounded) until that state satisfies a condition.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from tests.notebook.kernelkit import Kernel, Reply

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
DASHBOARD_ID = "nbmcp.notebook.dashboard.widget.Dashboard"


class WatchedKernel(Kernel):
    """A real kernel (see :class:`~tests.notebook.kernelkit.Kernel`) that also keeps widget traffic."""

    def __init__(self) -> None:
        self.widget_messages: list[dict[str, Any]] = []
        """Every ``comm_open``/``comm_msg`` read from IOPub, in order, whichever cell (or none) sent it."""
        super().__init__()

    def _read_iopub(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            msg = self.kc.get_iopub_msg(timeout=remaining)
        except queue.Empty:
            return time.monotonic() < deadline
        if msg["msg_type"] in ("comm_open", "comm_msg"):
            self.widget_messages.append(msg)
        parent = msg["parent_header"].get("msg_id")
        if parent in self._iopub:
            self._iopub[parent].append(msg)
        return True

    def dashboard_comm(self, reply: Reply) -> str:
        """The comm id of the dashboard a cell showed (checks the cell showed exactly one)."""
        opened = [
            m["content"]
            for m in reply.messages
            if m["msg_type"] == "comm_open"
            and m["content"]["data"]["state"].get("_anywidget_id") == DASHBOARD_ID
        ]
        assert len(opened) == 1, [m["msg_type"] for m in reply.messages]
        comm_id = str(opened[0]["comm_id"])
        shown = [r for r in reply.results if WIDGET_MIME in r]
        assert [r[WIDGET_MIME]["model_id"] for r in shown] == [comm_id]
        return comm_id

    def updates(self, comm_id: str) -> list[dict[str, Any]]:
        """The ``update`` messages the kernel sent to ``comm_id`` (each with its header ``date``)."""
        return [
            m
            for m in self.widget_messages
            if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and m["content"]["data"].get("method") == "update"
        ]

    def customs(self, comm_id: str) -> list[Any]:
        """The custom messages the kernel sent to ``comm_id``, in order."""
        return [
            m["content"]["data"]["content"]
            for m in self.widget_messages
            if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and m["content"]["data"].get("method") == "custom"
        ]

    def state_of(self, comm_id: str) -> dict[str, Any]:
        """The widget's state as a frontend holds it: the opening state with every update applied."""
        state: dict[str, Any] = {}
        for msg in self.widget_messages:
            content = msg["content"]
            if content.get("comm_id") != comm_id:
                continue
            data = content["data"]
            if msg["msg_type"] == "comm_open" or data.get("method") == "update":
                state.update(data["state"])
        return state

    def pump(self, seconds: float) -> None:
        """Read IOPub for up to ``seconds`` (or until it is quiet for that long)."""
        self._read_iopub(time.monotonic() + seconds)

    def wait_state(
        self, comm_id: str, ready: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Read IOPub until the widget's state satisfies ``ready`` (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state_of(comm_id)
            if ready(state):
                return state
            if time.monotonic() >= deadline:
                raise AssertionError(f"the dashboard never showed {what}; last: {state.get('totals')}")
            self._read_iopub(min(deadline, time.monotonic() + 0.5))

    def send_custom(self, comm_id: str, content: Any) -> None:
        """What the view's "try it" form sends."""
        msg = self.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}
        )
        self.kc.shell_channel.send(msg)

    def wait_custom(
        self, comm_id: str, ready: Callable[[Any], bool], what: str, timeout: float = 30.0
    ) -> Any:
        """Read IOPub until a custom message to ``comm_id`` satisfies ``ready``; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.customs(comm_id) if ready(c)]
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                raise AssertionError(f"the kernel never answered {what}")
            self._read_iopub(min(deadline, time.monotonic() + 0.5))
