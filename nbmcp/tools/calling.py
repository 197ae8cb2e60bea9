"""Calling user functions of any kind from the server loop: sync, async and generators.

Sync functions run in a worker thread so a slow tool never stalls other clients; async
ones run on the loop; generators are stepped one chunk at a time so each chunk can be
reported while the call is still open.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from nbmcp.tools.workers import WorkerPool

__all__ = ["Kind", "call_function", "kind_of"]

_DONE = object()


class Kind(enum.Enum):
    """How a function must be driven."""

    SYNC = "sync"
    ASYNC = "async"
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async generator"


def kind_of(fn: Callable[..., Any]) -> Kind:
    """Classify ``fn`` (looking through ``functools.partial`` and callable objects)."""
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isfunction(target) and not inspect.ismethod(target) and callable(target):
        target = getattr(target, "__call__", target)  # noqa: B004
    if inspect.isasyncgenfunction(target):
        return Kind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(target):
        return Kind.GENERATOR
    if inspect.iscoroutinefunction(target):
        return Kind.ASYNC
    return Kind.SYNC


OnChunk = Callable[[int, Any], Awaitable[None]]


def _in_context(context: contextvars.Context, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` in the caller's context (a worker thread does not inherit it by itself).

    ``SystemExit`` and ``KeyboardInterrupt`` become a ``RuntimeError``: re-raised on the
    server loop they would stop the server instead of failing one call.
    """
    try:
        return context.run(fn, *args)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise RuntimeError(f"the tool raised {type(exc).__name__}") from exc


async def _in_thread(executor: Executor | None, fn: Callable[..., Any], *args: Any) -> Any:
    if isinstance(executor, WorkerPool):
        return await executor.run(fn, *args)  # the cheap hand-off
    return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)


async def call_function(
    fn: Callable[..., Any],
    kind: Kind,
    kwargs: dict[str, Any],
    executor: Executor | None,
    on_chunk: OnChunk | None = None,
) -> Any:
    """Run ``fn(**kwargs)``; generators return the list of their chunks.

    Args:
        executor: Where sync code runs (``None``: the loop's default thread pool).
        on_chunk: Awaited with ``(index, chunk)`` after each chunk a generator yields.
    """
    if kind is Kind.ASYNC:
        return await fn(**kwargs)
    context = contextvars.copy_context()
    if kind is Kind.SYNC:
        value = await _in_thread(executor, _in_context, context, functools.partial(fn, **kwargs))
        if inspect.isawaitable(value):
            value = await value
        return value
    chunks: list[Any] = []
    if kind is Kind.ASYNC_GENERATOR:
        async for chunk in fn(**kwargs):
            chunks.append(chunk)
            if on_chunk is not None:
                await on_chunk(len(chunks), chunk)
        return chunks
    gen = await _in_thread(executor, _in_context, context, functools.partial(fn, **kwargs))
    try:
        while True:
            chunk = await _in_thread(executor, _in_context, context, next, gen, _DONE)
            if chunk is _DONE:
                return chunks
            chunks.append(chunk)
            if on_chunk is not None:
                await on_chunk(len(chunks), chunk)
    finally:
        gen.close()
