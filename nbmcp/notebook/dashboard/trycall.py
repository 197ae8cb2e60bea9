"""The "try it" form's calls: the view asks, the server's own call path runs it, the view hears back.

The view sends ``{"action": "call", "id", "tool", "arguments"}`` as a custom widget message.
The kernel gets it on its main thread and only starts the call there
(:meth:`~nbmcp.server.MCPServer.submit_call`, transport ``"notebook"``: the server's loop, or
a thread of its own while not serving), so a slow tool never holds the kernel. The answer,
``{"action": "result", "id", "tool", "ok", "result", "error", "duration_ms", "call_id",
"output"}``, goes back through the updater (``reply``), whichever thread the call ends on.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import orjson

from nbmcp.errors import NbmcpError
from nbmcp.monitor.redact import scrub
from nbmcp.notebook.dashboard.panes import cut

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["RESULT_CHARS", "start_call"]

logger = logging.getLogger("nbmcp")

RESULT_CHARS = 100_000
"""Text (or JSON) of a result the view shows at most; images up to 4 MB stay whole."""

_IMAGE_CHARS = 4_000_000

Reply = Callable[[dict[str, Any]], None]


def start_call(server: MCPServer, content: Any, reply: Reply) -> bool:
    """Start the call a view asked for; ``reply`` gets the answer. False when it was no call request."""
    if not isinstance(content, dict) or content.get("action") != "call":
        return False
    asked = content.get("id")
    tool = content.get("tool")
    answer: dict[str, Any] = {
        "action": "result",
        "id": asked if isinstance(asked, str) else None,
        "tool": tool,
    }
    arguments = content.get("arguments", {})
    if not isinstance(tool, str) or tool not in server.tools:
        reply({**answer, "ok": False, "error": f"no tool named {tool!r} (it may have been removed)"})
        return True
    if not isinstance(arguments, dict):
        reply({**answer, "ok": False, "error": "the arguments must be a JSON object"})
        return True
    try:
        future = server.submit_call(tool, arguments, transport="notebook")
    except NbmcpError as exc:
        reply({**answer, "ok": False, "error": str(exc)})
        return True
    secrets = server.monitor.secrets
    future.add_done_callback(lambda done: reply(_answer(answer, done, secrets())))
    return True


def _answer(
    answer: dict[str, Any],
    done: concurrent.futures.Future[tuple[dict[str, Any], Any]],
    secrets: Collection[str],
) -> dict[str, Any]:
    try:
        result, record = done.result()
    except concurrent.futures.CancelledError:
        return {**answer, "ok": False, "error": "the call was cancelled"}
    except NbmcpError as exc:
        return {**answer, "ok": False, "error": str(exc)}
    except Exception as exc:  # the view must hear back whatever went wrong; the log has the rest
        logger.warning("nbmcp: a dashboard call failed: %r", exc)
        return {**answer, "ok": False, "error": f"the call failed: {type(exc).__name__}: {exc}"}
    return {
        **answer,
        "ok": not result.get("isError"),
        "result": _shown(result, secrets),
        "error": None,
        "duration_ms": record.duration_ms,
        "call_id": record.id,
        "output": cut(scrub(record.output or "", secrets)),
    }


def _shown(result: dict[str, Any], secrets: Collection[str]) -> dict[str, Any]:
    """The result as the view shows it: the server's keys scrubbed, long text cut, images kept
    up to a size."""
    shown: dict[str, Any] = {"isError": bool(result.get("isError"))}
    blocks: list[dict[str, Any]] = []
    for block in result.get("content") or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text = scrub(str(block.get("text", "")), secrets)
            blocks.append({"type": "text", "text": cut(text, RESULT_CHARS)})
        elif kind == "image" and len(str(block.get("data", ""))) <= _IMAGE_CHARS:
            mime = str(block.get("mimeType") or "image/png")
            blocks.append({"type": "image", "mimeType": mime, "data": str(block["data"])})
        else:
            blocks.append({"type": str(kind)})
    shown["content"] = blocks
    if "structuredContent" in result:
        encoded = orjson.dumps(result["structuredContent"], option=orjson.OPT_NON_STR_KEYS, default=str)
        whole = encoded.decode()
        clean = scrub(whole, secrets)
        if len(whole) <= RESULT_CHARS and clean == whole:
            shown["structuredContent"] = orjson.loads(encoded)
        else:  # too big, or it holds a key: shown as text, cut and scrubbed
            shown["content"] = [{"type": "text", "text": cut(clean, RESULT_CHARS)}]
    return shown
