"""``Context``: what a tool may know and do about the request that called it.

Declare a parameter annotated ``Context`` and nbmcp passes it in (it is not part of the
input schema). Its methods work from async tools (``await ctx.log(...)``) and from sync
tools running in worker threads (``ctx.log(...)`` sends at once; ``ctx.sample(...).result()``
waits for the client's answer).

Asking the client (``elicit``, ``sample``, ``list_roots``) works under every protocol
revision. Before 2026-07-28 the question goes to the client over the request's SSE stream.
Under 2026-07-28 it ends the round with an ``input_required`` result; the client answers and
retries, and the tool runs again from the top, this time getting the answer at once. So code
before an ask runs once per round: keep it free of side effects (or put them after the last
ask), and do not catch ``BaseException`` around an ask. ``key=`` names a question for the
client (default: its kind and place, ``elicit_1``); the same key asked again gets the same
answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    from nbmcp.principal import Principal
    from nbmcp.protocol.exchange import Exchange

__all__ = ["Context", "Reply"]

T = TypeVar("T")

_background: set[asyncio.Task[Any]] = set()


class Reply(Generic[T]):
    """The pending outcome of a context call: ``await`` it, or call ``.result()`` from a thread."""

    def __init__(self, coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> None:
        self._task: asyncio.Task[T] | None = None
        self._future: concurrent.futures.Future[T] | None = None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._task = loop.create_task(coro)
            _background.add(self._task)
            self._task.add_done_callback(_background.discard)
        else:
            self._future = asyncio.run_coroutine_threadsafe(coro, loop)

    def __await__(self) -> Generator[Any, None, T]:
        if self._task is not None:
            return (yield from self._task.__await__())
        future = self._future
        if future is None:  # pragma: no cover - one of the two is always set
            raise RuntimeError("reply has no pending work")
        return (yield from asyncio.wrap_future(future).__await__())

    def result(self, timeout: float | None = None) -> T:
        """Block until done (from a sync tool's worker thread); returns the outcome."""
        if self._future is None:
            raise RuntimeError("this tool runs on the server's event loop: use `await` instead of .result()")
        return self._future.result(timeout)


class Context:
    """The request behind a tool call, and the way back to its client."""

    def __init__(self, exchange: Exchange, tool_name: str) -> None:
        self._exchange = exchange
        self.tool_name = tool_name

    @property
    def headers(self) -> Mapping[str, str]:
        """The HTTP request headers, lower-cased (e.g. ``ctx.headers["x-user-id"]``)."""
        return self._exchange.headers

    @property
    def session_id(self) -> str | None:
        """The MCP session id, or ``None`` for a request sent without a session."""
        return self._exchange.session.id

    @property
    def request_id(self) -> Any:
        """The JSON-RPC id of the ``tools/call`` request."""
        return self._exchange.request_id

    @property
    def client_info(self) -> dict[str, Any]:
        """``clientInfo`` from the client's ``initialize`` or its 2026-07-28 request (may be empty)."""
        return self._exchange.session.client_info

    @property
    def client_capabilities(self) -> dict[str, Any]:
        """What the client said it can do (``sampling``, ``elicitation``, ``roots``, ...)."""
        return self._exchange.session.client_capabilities

    @property
    def principal(self) -> Principal | None:
        """Who is calling: the API key's label or the OAuth token's subject, with the token's
        client, scopes and claims (``None`` when the server asks for no credentials)."""
        return self._exchange.session.principal

    @property
    def protocol_version(self) -> str:
        """The protocol version this client speaks."""
        return self._exchange.session.version

    def _run(self, coro: Coroutine[Any, Any, T]) -> Reply[T]:
        return Reply(coro, self._exchange.loop)

    def close_stream(self) -> bool:
        """Close the client's SSE stream for this call; it resumes with ``Last-Event-ID``.

        For long calls behind proxies that cut idle connections (SEP-1699 polling).
        """
        return self._exchange.close_stream()

    def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> Reply[None]:
        """Send ``notifications/progress`` (only if the client asked for progress)."""
        return self._run(self._exchange.progress(progress, total, message))

    def log(self, level: str, data: Any, logger: str | None = None) -> Reply[None]:
        """Send a log message (``notifications/message``) at an MCP level (debug ... emergency)."""
        return self._run(self._exchange.log(level, data, logger))

    def debug(self, data: Any) -> Reply[None]:
        """Log at ``debug``."""
        return self.log("debug", data)

    def info(self, data: Any) -> Reply[None]:
        """Log at ``info``."""
        return self.log("info", data)

    def warning(self, data: Any) -> Reply[None]:
        """Log at ``warning``."""
        return self.log("warning", data)

    def error(self, data: Any) -> Reply[None]:
        """Log at ``error``."""
        return self.log("error", data)

    def sample(
        self,
        messages: str | list[dict[str, Any]],
        *,
        max_tokens: int = 512,
        system_prompt: str | None = None,
        temperature: float | None = None,
        model_preferences: dict[str, Any] | None = None,
        timeout: float = 300.0,
        key: str | None = None,
    ) -> Reply[dict[str, Any]]:
        """Ask the client's model for a completion (``sampling/createMessage``).

        Returns:
            The client's result: ``{"role", "content", "model", "stopReason"}``.
        """
        if isinstance(messages, str):
            messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
        params: dict[str, Any] = {"messages": messages, "maxTokens": max_tokens}
        if system_prompt is not None:
            params["systemPrompt"] = system_prompt
        if temperature is not None:
            params["temperature"] = temperature
        if model_preferences is not None:
            params["modelPreferences"] = model_preferences
        key = key or self._exchange.next_key("sample")  # in call order, before anything runs
        return self._run(self._exchange.request("sampling/createMessage", params, timeout, key=key))

    def elicit(
        self,
        message: str,
        schema: dict[str, Any] | type[BaseModel],
        *,
        timeout: float = 600.0,
        key: str | None = None,
    ) -> Reply[dict[str, Any]]:
        """Ask the user for input through the client (``elicitation/create``).

        Args:
            message: What to ask.
            schema: A flat JSON object schema, or a pydantic model that gives one.

        Returns:
            ``{"action": "accept" | "decline" | "cancel", "content": {...}}``.
        """
        if isinstance(schema, type):  # pydantic is imported already if a model was defined
            from pydantic import BaseModel

            if issubclass(schema, BaseModel):
                schema = schema.model_json_schema()
                schema.pop("title", None)
        params = {"message": message, "requestedSchema": schema}
        key = key or self._exchange.next_key("elicit")
        return self._run(self._exchange.request("elicitation/create", params, timeout, key=key))

    def list_roots(self, *, timeout: float = 60.0, key: str | None = None) -> Reply[dict[str, Any]]:
        """Ask the client which roots (directories, files) it offers (``roots/list``).

        Returns:
            ``{"roots": [{"uri": "file:///...", "name": ...}, ...]}``.
        """
        key = key or self._exchange.next_key("roots")
        return self._run(self._exchange.request("roots/list", {}, timeout, key=key))
