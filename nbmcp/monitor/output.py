"""What a tool prints while it runs, kept apart per call (it ends in ``CallRecord.output``).

:meth:`nbmcp.tools.Registry.call_tool` opens a :func:`capture` around each call; the call's
context (copied into worker threads by :mod:`nbmcp.tools.calling`) then carries a buffer that a
routing stream (installed as ``sys.stdout``/``sys.stderr`` by the notebook extension) writes
to instead of the shared console. Nothing here replaces any stream itself, and importing it
costs nothing (the notebook extension imports it when it loads).
"""

from __future__ import annotations

from contextvars import ContextVar, Token

__all__ = ["CallOutput", "capture", "current_output"]

_MAX_CHARS = 100_000


class CallOutput:
    """The text one call wrote to stdout/stderr (the first ``limit`` characters of it)."""

    __slots__ = ("_parts", "_size", "limit", "truncated")

    def __init__(self, limit: int = _MAX_CHARS) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.limit = limit
        self.truncated = False

    def write(self, text: str) -> int:
        """Keep ``text`` (up to the limit); returns ``len(text)`` like a stream."""
        room = self.limit - self._size
        if room <= 0:
            self.truncated = self.truncated or bool(text)
            return len(text)
        kept = text if len(text) <= room else text[:room]
        self.truncated = self.truncated or len(kept) < len(text)
        self._parts.append(kept)
        self._size += len(kept)
        return len(text)

    def getvalue(self) -> str:
        """Everything kept so far, with a note when the limit cut it."""
        value = "".join(self._parts)
        return value + "\n[... output truncated]" if self.truncated else value


_CURRENT: ContextVar[CallOutput | None] = ContextVar("nbmcp_call_output", default=None)


def current_output() -> CallOutput | None:
    """The buffer of the tool call running in this context, if any."""
    return _CURRENT.get()


class _Capture:
    """The context manager :func:`capture` returns (a class: no generator made per call)."""

    __slots__ = ("_token", "buffer")

    def __init__(self) -> None:
        self.buffer = CallOutput()
        self._token: Token[CallOutput | None] | None = None

    def __enter__(self) -> CallOutput:
        self._token = _CURRENT.set(self.buffer)
        return self.buffer

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None


def capture() -> _Capture:
    """Give the calls made inside this block (and their worker threads) a fresh buffer."""
    return _Capture()
